//! The command line: parses arguments (clap), loads the inputs, runs the rules, prints a report
//! and turns the outcome into an exit code: 0 clean, 1 findings at error severity (or warnings
//! with `--deny-warnings`), 2 when driftlint could not do its job.
//!
//! Invariant: this is the only module that prints, reads the environment or owns a runtime.
//! Library errors arrive as `miette::Diagnostic`s and leave as exit code 2 with a rendered
//! message; nothing here panics on bad input.

mod after_merge;
mod args;
mod live;
mod pyproject;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

pub use args::Cli;
use args::{
    CheckArgs, CheckFormat, ColorChoice, Command, ExplainArgs, GraphArgs, GraphFormat, InitArgs,
    InputArgs, SchemaArgs, SchemaFormat,
};

use crate::alembic::Revision;
use crate::alembic::{LoadOptions, Project, discover};
use crate::expect::{self, Expectations};
use crate::graph::{ResolveError, RevisionGraph};
use crate::replay::{self, Replay};
use crate::report;
use crate::report::error::{MachineFormat, RunError};
use crate::rules::live_state::LiveState;
use crate::rules::{self, AllowedHeads, Context, Finding, RULES, Rule, Severity};
use crate::source::Sources;

/// What a command reports back: an exit code, or a failure to do the job (exit 2).
type Outcome = Result<ExitCode, Failure>;

/// Why a command could not do its job.
pub enum Failure {
    /// A diagnostic to render on standard error.
    Diagnostic(Box<dyn Diagnostic + Send + Sync + 'static>),
    /// Standard output was closed (`driftlint graph | head`): not an error.
    BrokenPipe,
    Io(io::Error),
    /// The database could not be reached or read: one line naming the host, port, database
    /// and user (never the password), and the help when there is one.
    Live(crate::live::Error),
    /// A plain one-line error.
    Line(String),
}

impl<E: Diagnostic + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Diagnostic(Box::new(e))
    }
}

/// Terminal settings decided once from `--color`, `NO_COLOR` and the terminal.
#[derive(Clone, Copy)]
struct Terminal {
    color: bool,
    width: usize,
}

impl Terminal {
    fn detect(choice: ColorChoice) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && io::stdout().is_terminal()
            }
        };
        let width = terminal_size::terminal_size()
            .map(|(w, _)| usize::from(w.0))
            .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
            .unwrap_or(100)
            .clamp(60, 200);
        Terminal { color, width }
    }
}

pub fn run() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // clap prints --help and --version to stdout and usage errors to stderr.
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            if let Some(format) = machine_format_in_arguments() {
                let message = e
                    .kind()
                    .as_str()
                    .map_or_else(|| "invalid command line".to_owned(), |kind| kind.to_owned());
                let error = RunError {
                    kind: "usage".to_owned(),
                    message: format!("invalid command line: {message}"),
                    help: Some("run `driftlint --help` for the usage".to_owned()),
                };
                let _ = emit(&report::error::render(format, &error));
            }
            return ExitCode::from(2);
        }
    };
    let term = Terminal::detect(cli.color);
    let settings = cwd().and_then(|cwd| pyproject::apply(&mut cli, &matches, &cwd));
    let machine = machine_format(&cli.command);
    let outcome = settings.and_then(|()| match cli.command {
        Command::Check(args) => check(&args, term),
        Command::Heads(args) => heads(&args),
        Command::Graph(args) => graph(&args),
        Command::Schema(args) => schema(&args),
        Command::Init(args) => init(&args),
        Command::Explain(args) => explain(&args),
        Command::Completions(args) => completions(args.shell),
    });
    if let (Err(failure), Some(format)) = (&outcome, machine)
        && let Some(error) = run_error(failure)
    {
        let _ = emit(&report::error::render(format, &error));
    }
    match outcome {
        Ok(code) => code,
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            eprintln!("driftlint: {}", report::escape_text(&e.to_string()));
            ExitCode::from(2)
        }
        Err(Failure::Live(e)) => {
            eprint!("{}", report::escape_text(&live::error_lines(&e)));
            ExitCode::from(2)
        }
        Err(Failure::Line(text)) => {
            eprintln!("driftlint: {}", report::escape_text(&text));
            ExitCode::from(2)
        }
        Err(Failure::Diagnostic(d)) => {
            let render = |theme: GraphicalTheme| {
                let mut text = String::new();
                let handler = GraphicalReportHandler::new_themed(theme).with_width(term.width);
                if handler
                    .render_report(&mut text, &Untitled(d.as_ref()))
                    .is_err()
                {
                    text = format!("driftlint: {d}\n");
                }
                text
            };
            // Rendered without colour first: when outside text in the message or the shown
            // source holds control characters, that plain rendering is printed with them
            // written visibly (the colour theme's own escapes would be escaped too).
            let plain = render(GraphicalTheme::unicode_nocolor());
            let text = if plain
                .chars()
                .any(|c| c != '\n' && report::is_unsafe_char(c))
            {
                report::escape_text(&plain).into_owned()
            } else if term.color && io::stderr().is_terminal() {
                render(GraphicalTheme::unicode())
            } else {
                plain
            };
            eprint!("{text}");
            ExitCode::from(2)
        }
    }
}

/// An error diagnostic shown without its code: the code (`driftlint::migrations_path_missing`)
/// is the machine formats' `kind`; a person reads the message, which is the title.
struct Untitled<'a>(&'a (dyn Diagnostic + Send + Sync + 'static));

impl std::fmt::Debug for Untitled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for Untitled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.0, f)
    }
}

impl std::error::Error for Untitled<'_> {}

impl Diagnostic for Untitled<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        self.0.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.0.help()
    }
    fn url<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.0.url()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.0.labels()
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        self.0.related()
    }
    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.0.diagnostic_source()
    }
}

/// The machine format the command prints, if any: where an error document goes on exit 2.
fn machine_format(command: &Command) -> Option<MachineFormat> {
    match command {
        Command::Check(args) => match args.format {
            CheckFormat::Human => None,
            CheckFormat::Json => Some(MachineFormat::Json),
            CheckFormat::Sarif => Some(MachineFormat::Sarif),
            CheckFormat::Github => Some(MachineFormat::Github),
        },
        Command::Graph(args) if matches!(args.format, GraphFormat::Json) => {
            Some(MachineFormat::Json)
        }
        _ => None,
    }
}

/// The machine format asked for on a command line that did not parse (`--format json`).
fn machine_format_in_arguments() -> Option<MachineFormat> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = args.iter().enumerate().find_map(|(i, arg)| {
        arg.strip_prefix("--format=")
            .map(str::to_owned)
            .or_else(|| {
                (arg == "--format")
                    .then(|| args.get(i + 1).cloned())
                    .flatten()
            })
    })?;
    match value.as_str() {
        "json" => Some(MachineFormat::Json),
        "sarif" => Some(MachineFormat::Sarif),
        "github" => Some(MachineFormat::Github),
        _ => None,
    }
}

/// A failure as the machine formats carry it; `None` for a closed standard output.
fn run_error(failure: &Failure) -> Option<RunError> {
    Some(match failure {
        Failure::BrokenPipe => return None,
        Failure::Io(error) => RunError {
            kind: "io".to_owned(),
            message: error.to_string(),
            help: None,
        },
        Failure::Line(text) => RunError {
            kind: "error".to_owned(),
            message: text.clone(),
            help: None,
        },
        Failure::Live(error) => diagnostic_error(error),
        Failure::Diagnostic(diagnostic) => diagnostic_error(diagnostic.as_ref()),
    })
}

fn diagnostic_error(diagnostic: &dyn Diagnostic) -> RunError {
    RunError {
        kind: diagnostic.code().map_or_else(
            || "error".to_owned(),
            |code| report::error::kind_of_code(&code.to_string()),
        ),
        message: diagnostic.to_string(),
        help: diagnostic.help().map(|help| help.to_string()),
    }
}

/// Writes to standard output, treating a closed pipe as the reader's choice, not an error.
fn emit(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Failure::BrokenPipe),
        Err(e) => Err(Failure::Io(e)),
    }
}

fn cwd() -> Result<PathBuf, Failure> {
    std::env::current_dir().map_err(Failure::Io)
}

/// The revision files of a project, read and linked into a graph, and the expectations.
struct Workspace {
    sources: Sources,
    project: Project,
    revisions: Vec<Revision>,
    input_findings: Vec<Finding>,
    graph: RevisionGraph,
    expectations: Option<Expectations>,
    /// With `--against`: the ref and the side of the merge each revision file came from.
    after_merge: Option<crate::against::AfterMerge>,
}

fn load_workspace(
    cwd: &Path,
    migrations: Option<&Path>,
    options: LoadOptions,
) -> Result<Workspace, Failure> {
    let project = discover(cwd, migrations)?;
    let mut sources = Sources::new();
    let loaded = crate::alembic::load_with(&project, &mut sources, options)?;
    warn_outside_links(&loaded.outside_links);
    let graph = RevisionGraph::build(&loaded.revisions);
    Ok(Workspace {
        sources,
        project,
        revisions: loaded.revisions,
        input_findings: loaded.findings,
        graph,
        expectations: None,
        after_merge: None,
    })
}

/// Names on standard error each symbolic link among the revision files (or version directory)
/// that was skipped because it points outside the project; what it points at is not read.
fn warn_outside_links(links: &[crate::alembic::OutsideLink]) {
    for outside in links {
        eprintln!(
            "driftlint: warning: skipped {}: a symbolic link to {}, outside the project; \
             driftlint reads no revision file from there (copy the file into the versions \
             directory, or link to a file inside the project)",
            report::escape_line(&crate::source::display_path(&outside.link)),
            report::escape_line(&outside.target.display().to_string()),
        );
    }
}

/// Loads the revision files and the expectations: the file or directory given, else
/// `expectations/` or `expectations.yaml` in the working directory, else none. `upgrade()`
/// bodies are lowered when there are expectations to check them against or `need_replay` says
/// something else will use the replay.
fn load_workspace_with_expectations(
    cwd: &Path,
    input: &InputArgs,
    need_replay: bool,
) -> Result<Workspace, Failure> {
    let path = match &input.expectations {
        Some(p) => Some(cwd.join(p)),
        None => expect::find_default(cwd),
    };
    let options = LoadOptions {
        lower_upgrade: need_replay || path.is_some(),
    };
    let mut ws = match &input.against {
        Some(reference) => after_merge::load_workspace_after_merge(
            cwd,
            input.migrations.as_deref(),
            reference,
            options,
        )?,
        None => load_workspace(cwd, input.migrations.as_deref(), options)?,
    };
    if let Some(path) = path {
        ws.expectations = Some(expect::load(&path, &mut ws.sources)?);
    }
    Ok(ws)
}

fn context<'a>(ws: &'a Workspace, replay: Option<&'a Replay>) -> Context<'a> {
    let expectations = ws.expectations.as_ref();
    Context {
        sources: &ws.sources,
        revisions: &ws.revisions,
        graph: &ws.graph,
        allowed_heads: expectations.map_or_else(AllowedHeads::default, |e| e.allowed_heads()),
        allowed_heads_span: expectations.and_then(|e| e.allowed_heads_span()),
        flavor: ws.project.flavor,
        input_findings: &ws.input_findings,
        expectations,
        head_schema: replay.map(|r| &r.schema),
        replay_problems: replay.map_or(&[], |r| &r.problems),
        live: None,
    }
}

fn exit_code(findings: &[Finding], deny_warnings: bool) -> ExitCode {
    let threshold = if deny_warnings {
        Severity::Warning
    } else {
        Severity::Error
    };
    if findings.iter().any(|f| f.severity >= threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn check(args: &CheckArgs, term: Terminal) -> Outcome {
    let cwd = cwd()?;
    let configured_url = pyproject::configured_database_url(&cwd, args)?;
    let given_url = args.database_url.as_deref().or(configured_url.as_deref());
    let database_url = live::database_url(&cwd, given_url, args.live)?;
    let timeout = live::timeout(args.timeout)?;
    let ws = load_workspace_with_expectations(&cwd, &args.input, database_url.is_some())?;
    let replay = replay::replay_heads(&ws.revisions, &ws.graph);
    // Everything the live rules look at is read here, before any rule runs.
    let live_state = match &database_url {
        Some(url) => Some(LiveState::new(
            live::read(url, timeout)?,
            &ws.revisions,
            &ws.graph,
            &replay.schema,
            ws.expectations.as_ref(),
        )),
        None => None,
    };
    let mut ctx = context(&ws, Some(&replay));
    ctx.live = live_state.as_ref();
    let findings = crate::check::run(&ctx, ws.after_merge.as_ref());
    let text = match args.format {
        CheckFormat::Human => report::human::render(&ws.sources, &findings, term.color, term.width),
        CheckFormat::Json => report::json::render(&ws.sources, &findings),
        CheckFormat::Sarif => report::sarif::render(&ws.sources, &findings),
        CheckFormat::Github => report::github::render(&ws.sources, &findings),
    };
    // With `--fix-sql -` the script owns standard output and the report goes to standard error.
    let shown_url = database_url.as_ref().map(ToString::to_string);
    if write_fix_script(args, &cwd, &ws, &findings, shown_url)? {
        eprint!("{text}");
    } else {
        emit(&text)?;
    }
    Ok(exit_code(&findings, args.deny_warnings))
}

/// Writes the fix script when `--fix-sql` asks for it; `true` when it went to standard output.
/// `database` is the checked database as `DatabaseUrl` shows it (no password).
fn write_fix_script(
    args: &CheckArgs,
    cwd: &Path,
    ws: &Workspace,
    findings: &[Finding],
    database: Option<String>,
) -> Result<bool, Failure> {
    let Some(target) = &args.fix_sql else {
        return Ok(false);
    };
    let shown = |path: &Path| crate::source::display_path(path);
    let migrations = ws
        .project
        .script_dir
        .as_deref()
        .or(ws.project.version_dirs.first().map(PathBuf::as_path))
        .map_or_else(|| "none".to_owned(), shown);
    let expectations = match &args.input.expectations {
        Some(path) => Some(shown(path)),
        None => expect::find_default(cwd).map(|path| shown(&path)),
    };
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let meta = crate::fix::script::ScriptMeta {
        migrations,
        expectations,
        database,
        generated_at: crate::fix::script::format_utc(seconds),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let script = crate::fix::script::render_script(findings, &meta, args.allow_destructive)?;
    if target.as_os_str() == "-" {
        emit(&script)?;
        return Ok(true);
    }
    std::fs::write(cwd.join(target), script).map_err(|error| {
        Failure::Diagnostic(Box::new(FixScriptNotWritten {
            path: target.display().to_string(),
            error: error.to_string(),
        }))
    })?;
    Ok(false)
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("cannot write the fix script to {path}: {error}")]
#[diagnostic(code(driftlint::fix_script_not_written))]
struct FixScriptNotWritten {
    path: String,
    error: String,
}

fn heads(args: &InputArgs) -> Outcome {
    let cwd = cwd()?;
    let ws = load_workspace_with_expectations(&cwd, args, false)?;
    emit(&report::graph::heads(&ws.revisions, &ws.graph))?;
    let ctx = context(&ws, None);
    let mut findings = Vec::new();
    rules::run_one(Rule::MultipleHeads, &ctx, &mut findings);
    if let Some(after_merge) = &ws.after_merge {
        crate::against::explain_after_merge(after_merge, &ws.revisions, &ws.graph, &mut findings);
    }
    let skipped = report_skipped(&ws, "the heads above");
    if let Some(f) = findings.first() {
        eprintln!("driftlint: {}", report::escape_text(&f.message));
        if !skipped {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(skipped_exit_code(skipped))
}

/// Names on standard error each revision file that could not be read (and so is missing from
/// what `schema`, `heads` or `graph` printed, described by `output`); `true` when there was one.
fn report_skipped(ws: &Workspace, output: &str) -> bool {
    let skipped: Vec<&Finding> = ws
        .input_findings
        .iter()
        .filter(|f| f.rule == Rule::UnparsableMigration && f.severity == Severity::Error)
        .collect();
    if skipped.is_empty() {
        return false;
    }
    let mut text = String::new();
    for f in &skipped {
        let place = f.primary.as_ref().map(|label| {
            let at = ws.sources.line_col(label.span.file, label.span.range.start);
            format!(
                " (at {}:{}:{})",
                ws.sources.get(label.span.file).display,
                at.line,
                at.column
            )
        });
        text.push_str(&format!(
            "driftlint: skipped: {}{}\n",
            f.message,
            place.unwrap_or_default()
        ));
    }
    let count = skipped.len();
    text.push_str(&format!(
        "driftlint: {count} revision file{s} could not be read and {verb} left out of {output}; \
         fix {them} (`driftlint check` shows where) and run again\n",
        s = if count == 1 { "" } else { "s" },
        verb = if count == 1 { "is" } else { "are" },
        them = if count == 1 { "it" } else { "them" },
    ));
    eprint!("{}", report::escape_text(&text));
    true
}

/// Exit 2 (the job was not fully done) when revision files were skipped, else 0.
fn skipped_exit_code(skipped: bool) -> ExitCode {
    if skipped {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn graph(args: &GraphArgs) -> Outcome {
    let cwd = cwd()?;
    let headers_only = LoadOptions {
        lower_upgrade: false,
    };
    let ws = load_workspace(&cwd, args.migrations.as_deref(), headers_only)?;
    let text = match args.format {
        GraphFormat::Text => report::graph::text(&ws.sources, &ws.revisions, &ws.graph),
        GraphFormat::Dot => report::graph::dot(&ws.revisions, &ws.graph),
        GraphFormat::Mermaid => report::graph::mermaid(&ws.revisions, &ws.graph),
        GraphFormat::Json => report::graph::json(&ws.sources, &ws.revisions, &ws.graph),
    };
    emit(&text)?;
    Ok(skipped_exit_code(report_skipped(&ws, "the graph above")))
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(driftlint::unknown_revision))]
struct UnknownRevision {
    message: String,
    #[help]
    help: String,
}

fn schema(args: &SchemaArgs) -> Outcome {
    let cwd = cwd()?;
    let ws = load_workspace(&cwd, args.migrations.as_deref(), LoadOptions::default())?;
    let targets = match &args.revision {
        None => ws.graph.heads.clone(),
        Some(name) => ws.graph.resolve(&ws.revisions, name).map_err(|e| {
            let (message, help) = match e {
                ResolveError::Unknown(n) => (
                    format!("no revision is named `{n}`"),
                    "give a revision id (or a unique prefix of one), a branch label, `head` or \
                     `base`; `driftlint graph` lists the revisions"
                        .to_owned(),
                ),
                ResolveError::Ambiguous(n, ids) => (
                    format!("`{n}` is the start of several revision ids"),
                    format!("give more of the id: {}", ids.join(", ")),
                ),
            };
            Failure::from(UnknownRevision { message, help })
        })?,
    };
    let replayed = replay::replay(&ws.revisions, &ws.graph, &targets);
    let text = match args.format {
        SchemaFormat::Yaml => crate::schema::render::to_yaml(&replayed.schema),
        SchemaFormat::Sql => crate::schema::render::to_sql(&replayed.schema),
    };
    emit(&text)?;
    Ok(skipped_exit_code(report_skipped(&ws, "the schema above")))
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("cannot write {path}: {source}")]
#[diagnostic(
    code(driftlint::write),
    help("check that the directory exists and is writable")
)]
struct WriteError {
    path: String,
    source: io::Error,
}

fn init(args: &InitArgs) -> Outcome {
    let cwd = cwd()?;
    let (schema, heads) = match &args.database_url {
        Some(text) => {
            let url = live::database_url(&cwd, Some(text), false)?
                .ok_or_else(|| Failure::Line("no database URL".to_owned()))?;
            let schema = live::read(&url, live::timeout(args.timeout)?)?.schema;
            (schema, AllowedHeads::default())
        }
        None => {
            let ws = load_workspace(&cwd, args.migrations.as_deref(), LoadOptions::default())?;
            let heads = starting_heads(&ws);
            (replay::replay_heads(&ws.revisions, &ws.graph).schema, heads)
        }
    };
    let text = expect::render_starting_file(&schema, heads, args.output.is_some());
    match &args.output {
        None => emit(&text)?,
        Some(path) => {
            let write = |p: &Path, contents: &str| {
                std::fs::write(p, contents).map_err(|source| WriteError {
                    path: p.display().to_string(),
                    source,
                })
            };
            write(path, &text)?;
            let schema_path = path
                .parent()
                .unwrap_or(Path::new("."))
                .join(expect::JSON_SCHEMA_REFERENCE);
            if !schema_path.exists() {
                write(&schema_path, expect::JSON_SCHEMA)?;
            }
            eprintln!(
                "driftlint: wrote {} ({} tables); review it, keep what must hold, and commit it",
                path.display(),
                schema.tables.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `heads:` a starting file says: the branch labels when every head carries its own (branches
/// kept apart on purpose), otherwise one head, with a word on standard error when there are more
/// now, since the next `check` reports them.
fn starting_heads(ws: &Workspace) -> AllowedHeads {
    let heads = &ws.graph.heads;
    if heads.len() <= 1 {
        return AllowedHeads::default();
    }
    let labels: Vec<String> = heads
        .iter()
        .filter_map(|&head| {
            let labels = rules::branch_labels_of(&ws.revisions, &ws.graph, head);
            (labels.len() == 1)
                .then(|| labels.into_iter().next())
                .flatten()
        })
        .collect();
    let distinct: std::collections::BTreeSet<&String> = labels.iter().collect();
    if labels.len() == heads.len() && distinct.len() == labels.len() {
        return AllowedHeads::Labels(labels);
    }
    let ids: Vec<&str> = heads
        .iter()
        .map(|&head| ws.revisions[head].id.as_str())
        .collect();
    eprintln!(
        "driftlint: the migrations have {} heads ({}); the file allows one, so `check` reports \
         multiple-heads until they are merged with `{}` (or give each branch a label and list the \
         labels under `heads:`)",
        ids.len(),
        ids.join(", "),
        ws.project
            .flavor
            .command(&format!("merge -m \"merge heads\" {}", ids.join(" ")))
    );
    AllowedHeads::default()
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("no rule is named `{name}`")]
#[diagnostic(code(driftlint::unknown_rule))]
struct UnknownRule {
    name: String,
    #[help]
    help: String,
}

fn explain(args: &ExplainArgs) -> Outcome {
    if args.list {
        let width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
        let mut text = String::new();
        for r in RULES {
            text.push_str(&format!(
                "{:width$}  {:7}  {}\n",
                r.name,
                r.severity.as_str(),
                r.summary
            ));
        }
        emit(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = args.rule.as_deref().unwrap_or_default();
    match Rule::from_name(name) {
        Some(rule) => {
            emit(&rule.info().doc_text())?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let closest = RULES
                .iter()
                .map(|r| (rules::edit_distance(r.name, name), r.name))
                .min()
                .filter(|(d, _)| *d <= 4);
            let help = match closest {
                Some((_, n)) => {
                    format!("did you mean `{n}`? `driftlint explain --list` lists every rule")
                }
                None => "`driftlint explain --list` lists every rule".to_owned(),
            };
            Err(UnknownRule {
                name: name.to_owned(),
                help,
            }
            .into())
        }
    }
}

/// Prints the completion script for `shell`.
fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "driftlint", &mut script);
    emit(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}
