//! The command line as clap parses it. Validation that clap cannot express happens in
//! `cli::run`, which turns these into the work to do.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The version with the commit it was built from, where the build could tell:
/// `0.1.0 (1a2b3c4d5)`.
pub const LONG_VERSION: &str = env!("DRIFTLINT_LONG_VERSION");

#[derive(Parser, Debug)]
#[command(
    name = "driftlint",
    version = LONG_VERSION,
    about = "Keep Alembic migrations, expectations and the live PostgreSQL database in agreement",
    after_help = "Examples:
  driftlint check                           lint the migrations and expectations (no database)
  driftlint check --against origin/main     lint them as they will be after merging origin/main
  driftlint check --live --fix-sql fix.sql  check the database in DATABASE_URL, write fixes
  driftlint heads                           the heads, like `alembic heads`
  driftlint explain multiple-heads          what a rule finds and how to fix it

Settings can live in pyproject.toml under [tool.driftlint]; flags win over them."
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
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Examples:
  driftlint completions bash > ~/.local/share/bash-completion/completions/driftlint
  driftlint completions zsh > ~/.zfunc/_driftlint
  driftlint completions fish > ~/.config/fish/completions/driftlint.fish")]
    Completions(CompletionsArgs),
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// An Alembic script directory (holding env.py and versions/) or a versions directory.
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// An expectations file, or a directory of *.yaml files.
    #[arg(long, value_name = "PATH")]
    pub expectations: Option<PathBuf>,
    /// Lint the revision files as they will be after merging this git ref (for example
    /// origin/main): its files, read from git, with the working tree's laid over them.
    #[arg(long, value_name = "REF")]
    pub against: Option<String>,
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
    #[arg(long, overrides_with = "no_deny_warnings")]
    pub deny_warnings: bool,
    /// Exit 1 on errors only, whatever pyproject.toml's [tool.driftlint] says.
    #[arg(long, overrides_with = "deny_warnings")]
    pub no_deny_warnings: bool,
    /// Statement and lock timeout for the live check, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,
    /// The environment variable `--live` reads the database URL from: DATABASE_URL unless
    /// `database-url-env` in pyproject.toml's [tool.driftlint] names another.
    #[arg(skip)]
    pub database_url_env: Option<String>,
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
