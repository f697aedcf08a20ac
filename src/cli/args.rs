//! The command line as clap parses it. Validation that clap cannot express happens in
//! `cli::run`, which turns these into the work to do.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "driftlint",
    version,
    about = "Keep Alembic migrations, expectations and the live PostgreSQL database in agreement",
    after_help = "Examples:\n  driftlint check                          # lint the migrations (no database)\n  driftlint check --live --fix-sql fix.sql  # check the database named by DATABASE_URL\n  driftlint heads                          # like `alembic heads`\n  driftlint explain sequence-behind        # what a rule finds and how to fix it"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to use colours: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lint the migrations, the expectations and (with --live or --database-url) the database.
    Check(CheckArgs),
    /// Print the heads, like `alembic heads`; exit 1 when there are more than allowed.
    Heads(InputArgs),
    /// Print the revision graph.
    Graph(GraphArgs),
    /// Print the schema the migrations produce.
    Schema(SchemaArgs),
    /// Print a rule's documentation.
    Explain(ExplainArgs),
    /// Write a starting expectations file.
    Init(InitArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// An Alembic script directory (holding env.py and versions/) or a versions directory.
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// An expectations file, or a directory of *.yaml files.
    #[arg(long, value_name = "PATH")]
    pub expectations: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Check this database (postgresql://, postgres://, postgresql+psycopg2://, key=value).
    #[arg(long, value_name = "URL", conflicts_with = "live")]
    pub database_url: Option<String>,
    /// Check the database named by DATABASE_URL (environment or .env).
    #[arg(long)]
    pub live: bool,
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Write the fix script to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub fix_sql: Option<PathBuf>,
    /// Emit statements that can lose data in the fix script instead of commenting them out.
    #[arg(long)]
    pub allow_destructive: bool,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Statement and lock timeout for the live check, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Mermaid,
    Json,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// An Alembic script directory (holding env.py and versions/) or a versions directory.
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Yaml,
    Sql,
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// An Alembic script directory (holding env.py and versions/) or a versions directory.
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// The revision to stop at (default: the heads).
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    #[arg(long, value_enum, default_value_t = SchemaFormat::Yaml)]
    pub format: SchemaFormat,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The rule's name, for example `sequence-behind`.
    #[arg(required_unless_present = "list")]
    pub rule: Option<String>,
    /// List every rule with its default severity.
    #[arg(long, conflicts_with = "rule")]
    pub list: bool,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Describe the schema the migrations produce (the default).
    #[arg(long, conflicts_with = "database_url")]
    pub from_migrations: bool,
    /// Describe this live database instead.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Write the file here, with the JSON Schema `driftlint.schema.json` beside it for editors
    /// (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// An Alembic script directory (holding env.py and versions/) or a versions directory.
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// Statement and lock timeout for reading the database, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,
}
