//! The fuzz targets: what each one reads as its corpus, how it makes an input, and the code an
//! input goes through (the same calls `driftlint check` makes, through the crate's public API).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use driftlint::alembic::{self, LoadOptions, Revision, RevisionInput, discover, load_inputs};
use driftlint::expect::{self, Expectations};
use driftlint::fix::script::{ScriptMeta, render_script};
use driftlint::fix::upgrade_sql::ops_sql;
use driftlint::graph::RevisionGraph;
use driftlint::replay::{Replay, Replayer, replay_heads};
use driftlint::report;
use driftlint::rules::live_state::LiveState;
use driftlint::rules::{self, AllowedHeads, Context, Finding, Flavor};
use driftlint::schema::model::Schema;
use driftlint::schema::ops::OpAt;
use driftlint::schema::render::{to_sql, to_yaml};
use driftlint::schema::sql::lower_sql;
use driftlint::source::{FileId, Sources, Span};

use crate::catalog;
use crate::mutate::{self, Rng};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// One revision file: read (bytes, encoding, parse), header, lowering of `upgrade()`, the
    /// replay of the result, and the reading findings rendered.
    RevisionFile,
    /// A small project directory, one of whose revision files is the input: discovery, loading,
    /// the graph, the replay, every static rule, inline ignores, and every output format.
    RevisionTree,
    /// An expectations file: reading and validating it (errors rendered as the command line
    /// renders them), then the comparison rules against a replayed schema.
    Expectations,
    /// The SQL of an `op.execute`: sqlparser lowering, the replay of what it lowers to, the
    /// SQL rendered back for the fix of a pending revision, and the same SQL inside a revision
    /// file read the whole way.
    ExecuteSql,
    /// Catalog rows as the live introspection reads them: the model built from them, the live
    /// state against the migrations, every rule, the reports and the fix script.
    CatalogRows,
    /// Not fuzzed: inputs that panic, overflow the stack, run slow or forever or take too much
    /// memory, for the test of the driver itself.
    SelfTest,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::RevisionFile,
        Target::RevisionTree,
        Target::Expectations,
        Target::ExecuteSql,
        Target::CatalogRows,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::RevisionFile => "revision_file",
            Target::RevisionTree => "revision_tree",
            Target::Expectations => "expectations",
            Target::ExecuteSql => "execute_sql",
            Target::CatalogRows => "catalog_rows",
            Target::SelfTest => "selftest",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL
            .into_iter()
            .chain([Target::SelfTest])
            .find(|t| t.name() == name)
    }

    /// The extension of saved inputs.
    pub fn extension(self) -> &'static str {
        match self {
            Target::RevisionFile => "py",
            // The first byte chooses the revision file replaced; the rest is its text.
            Target::RevisionTree => "bin",
            Target::Expectations => "yaml",
            Target::ExecuteSql => "sql",
            Target::CatalogRows => "bin",
            Target::SelfTest => "txt",
        }
    }

    /// Bytes at the start of an input the minimiser keeps.
    pub fn fixed_prefix(self) -> usize {
        match self {
            Target::RevisionTree => 1,
            _ => 0,
        }
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dirs` (relative to the repository) whose name ends with one of `exts`,
/// sorted so that the corpus, and so every case, is the same on every machine.
fn files_with(dirs: &[&str], exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| repo().join(d)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                // The saved fuzz inputs are not seeds: they would skew every run towards them.
                if !path.ends_with("fuzz") {
                    stack.push(path);
                }
            } else if exts
                .iter()
                .any(|ext| path.extension().is_some_and(|e| e == *ext))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read_all(paths: &[PathBuf]) -> Vec<Vec<u8>> {
    paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// A project read from the fixtures once: its sources, revisions, graph, replay and
/// expectations, for the targets that check something against it.
pub struct Project {
    pub sources: Sources,
    pub revisions: Vec<Revision>,
    pub input_findings: Vec<Finding>,
    pub graph: RevisionGraph,
    pub replay: Replay,
    pub expectations: Option<Expectations>,
}

impl Project {
    pub fn load(migrations: &str, expectations: Option<&str>) -> Project {
        let project = discover(&repo(), Some(&repo().join(migrations))).expect("fixture project");
        let mut sources = Sources::new();
        let loaded = alembic::load(&project, &mut sources).expect("fixture revisions");
        let graph = RevisionGraph::build(&loaded.revisions);
        let replay = replay_heads(&loaded.revisions, &graph);
        let expectations = expectations
            .map(|path| expect::load(&repo().join(path), &mut sources).expect("fixture yaml"));
        Project {
            sources,
            revisions: loaded.revisions,
            input_findings: loaded.findings,
            graph,
            replay,
            expectations,
        }
    }

    pub fn context<'a>(&'a self, sources: &'a Sources) -> Context<'a> {
        let expectations = self.expectations.as_ref();
        Context {
            sources,
            revisions: &self.revisions,
            graph: &self.graph,
            allowed_heads: expectations.map_or_else(AllowedHeads::default, |e| e.allowed_heads()),
            allowed_heads_span: expectations.and_then(|e| e.allowed_heads_span()),
            flavor: Flavor::FlaskMigrate,
            input_findings: &self.input_findings,
            expectations,
            head_schema: Some(&self.replay.schema),
            replay_problems: &self.replay.problems,
            live: None,
        }
    }

    /// A new `Sources` holding the revision files only, with the same ids.
    fn revision_sources(&self) -> Sources {
        let mut sources = Sources::new();
        for revision_file in self.revision_files() {
            let file = self.sources.get(revision_file);
            sources.add_displayed(file.path.clone(), file.display.clone(), file.text.clone());
        }
        sources
    }

    fn revision_files(&self) -> impl Iterator<Item = FileId> + '_ {
        self.sources.iter().map(|(id, _)| id).filter(|id| {
            self.expectations
                .as_ref()
                .is_none_or(|e| !e.files.contains(id))
        })
    }
}

/// Renders findings in every format `check` has, as `check` does, returning the total length
/// (so that nothing is optimised away).
pub fn render_findings(sources: &Sources, findings: &mut [Finding]) -> usize {
    rules::sort_findings(sources, findings);
    report::human::render(sources, findings, false, 100).len()
        + report::json::render(sources, findings).len()
        + report::sarif::render(sources, findings).len()
        + report::github::render(sources, findings).len()
}

fn script_meta() -> ScriptMeta {
    ScriptMeta {
        migrations: "migrations".to_owned(),
        expectations: Some("expectations.yaml".to_owned()),
        database: Some("postgresql://app@localhost/app".to_owned()),
        generated_at: "2026-01-01 00:00:00 UTC".to_owned(),
        version: "fuzz".to_owned(),
    }
}

/// Renders an error as the command line does (`Failure::Diagnostic`).
fn render_diagnostic(error: &dyn miette::Diagnostic) -> usize {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    let mut text = String::new();
    if handler.render_report(&mut text, error).is_err() {
        text = format!("driftlint: {error}\n");
    }
    text.len()
}

/// What a target needs across cases.
pub enum State {
    RevisionFile {
        corpus: Vec<Vec<u8>>,
    },
    RevisionTree {
        corpus: Vec<Vec<u8>>,
        _dir: tempfile::TempDir,
        root: PathBuf,
        /// The revision files an input may replace, with their original bytes.
        slots: Vec<(PathBuf, Vec<u8>)>,
        /// The slot an earlier case replaced (restored before the next case, even after a
        /// panic).
        dirty: Mutex<Option<usize>>,
    },
    Expectations {
        corpus: Vec<Vec<u8>>,
        _dir: tempfile::TempDir,
        path: PathBuf,
        project: Box<Project>,
    },
    ExecuteSql {
        corpus: Vec<Vec<u8>>,
        base: Schema,
    },
    CatalogRows {
        project: Box<Project>,
        dictionary: catalog::Dictionary,
    },
    SelfTest,
}

impl State {
    pub fn prepare(target: Target) -> State {
        match target {
            Target::RevisionFile => State::RevisionFile {
                corpus: read_all(&files_with(&["tests/fixtures", "examples"], &["py"])),
            },
            Target::RevisionTree => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let root = dir.path().to_path_buf();
                let source = repo().join("tests/fixtures/live/app");
                copy_tree(&source, &root);
                let slots = files_with_abs(&root.join("migrations/versions"), "py")
                    .into_iter()
                    .map(|p| {
                        let bytes = std::fs::read(&p).expect("copied revision");
                        (p, bytes)
                    })
                    .collect();
                State::RevisionTree {
                    corpus: read_all(&files_with(&["tests/fixtures", "examples"], &["py"])),
                    _dir: dir,
                    root,
                    slots,
                    dirty: Mutex::new(None),
                }
            }
            Target::Expectations => {
                let project = Project::load("examples/flask-app/migrations", None);
                let mut corpus = read_all(&files_with(
                    &["tests/fixtures", "examples", "expectations"],
                    &["yaml", "yml"],
                ));
                // The starting file `init` writes for the project is valid and names every
                // table and column the replay has: a seed that gets past validation.
                corpus.push(
                    expect::render_starting_file(
                        &project.replay.schema,
                        AllowedHeads::Count(1),
                        true,
                    )
                    .into_bytes(),
                );
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("expectations.yaml");
                State::Expectations {
                    corpus,
                    path,
                    _dir: dir,
                    project: Box::new(project),
                }
            }
            Target::ExecuteSql => {
                let raw = Project::load("tests/fixtures/replay/raw_sql/migrations", None);
                let mut corpus = Vec::new();
                for file in files_with(&["tests/fixtures", "examples"], &["py"]) {
                    let text = std::fs::read_to_string(&file).unwrap_or_default();
                    corpus.extend(execute_strings(&text).into_iter().map(String::into_bytes));
                }
                for project in [&raw, &Project::load("examples/flask-app/migrations", None)] {
                    for statement in to_sql(&project.replay.schema).split_inclusive(";\n") {
                        corpus.push(statement.trim().as_bytes().to_vec());
                    }
                }
                corpus.retain(|s| !s.is_empty());
                State::ExecuteSql {
                    corpus,
                    base: raw.replay.schema,
                }
            }
            Target::CatalogRows => {
                let project = Project::load(
                    "tests/fixtures/live/app/migrations",
                    Some("tests/fixtures/live/app/expectations.yaml"),
                );
                let dictionary = catalog::Dictionary::new(&project);
                State::CatalogRows {
                    project: Box::new(project),
                    dictionary,
                }
            }
            Target::SelfTest => State::SelfTest,
        }
    }

    /// The input of one case.
    pub fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        match self {
            State::RevisionFile { corpus } => {
                let base = rng.pick(corpus).clone();
                mutate::mutate(
                    rng,
                    &base,
                    corpus,
                    mutate::PYTHON_TOKENS,
                    mutate::deep_python,
                )
            }
            State::RevisionTree { corpus, slots, .. } => {
                let slot = rng.below(slots.len());
                let mut input = vec![slot as u8];
                input.extend(mutate::mutate(
                    rng,
                    &slots[slot].1,
                    corpus,
                    mutate::PYTHON_TOKENS,
                    mutate::deep_python,
                ));
                input
            }
            State::Expectations { corpus, .. } => {
                let base = rng.pick(corpus).clone();
                mutate::mutate(rng, &base, corpus, mutate::YAML_TOKENS, mutate::deep_yaml)
            }
            State::ExecuteSql { corpus, .. } => {
                let base = rng.pick(corpus).clone();
                mutate::mutate(rng, &base, corpus, mutate::SQL_TOKENS, mutate::deep_sql)
            }
            State::CatalogRows { .. } => {
                let len = rng.log_size(4096);
                (0..len).map(|_| rng.next() as u8).collect()
            }
            State::SelfTest => b"ok".to_vec(),
        }
    }

    /// Runs one input through the target; a panic is the caller's to catch.
    pub fn run(&self, input: &[u8]) -> usize {
        match self {
            State::RevisionFile { .. } => run_revision_file(input),
            State::RevisionTree {
                root, slots, dirty, ..
            } => {
                let mut dirty = dirty.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(previous) = dirty.take() {
                    std::fs::write(&slots[previous].0, &slots[previous].1).expect("restore");
                }
                let Some((&slot, text)) = input.split_first() else {
                    return 0;
                };
                let slot = usize::from(slot) % slots.len();
                std::fs::write(&slots[slot].0, text).expect("write the input");
                *dirty = Some(slot);
                drop(dirty);
                run_tree(root)
            }
            State::Expectations { path, project, .. } => {
                std::fs::write(path, input).expect("write the input");
                run_expectations(project, path)
            }
            State::ExecuteSql { base, .. } => run_sql(base, input),
            State::CatalogRows {
                project,
                dictionary,
            } => catalog::run(project, dictionary, input),
            State::SelfTest => self_test(input),
        }
    }
}

fn self_test(input: &[u8]) -> usize {
    fn recurse(depth: usize) -> usize {
        let frame = std::hint::black_box([depth; 64]);
        if frame[0] == usize::MAX {
            return 0;
        }
        recurse(depth + 1) + frame[depth % 64]
    }
    match input {
        b"panic" => panic!("a panic on purpose"),
        b"overflow" => recurse(0),
        b"slow" => {
            std::thread::sleep(std::time::Duration::from_millis(600));
            1
        }
        b"memory" => {
            let held = std::hint::black_box(vec![1u8; 400 << 20]);
            std::thread::sleep(std::time::Duration::from_secs(5));
            held.len()
        }
        b"forever" => loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        },
        _ => 0,
    }
}

fn files_with_abs(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from)
        .expect("fixture directory")
        .flatten()
    {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy fixture file");
        }
    }
}

fn run_revision_file(input: &[u8]) -> usize {
    let mut sources = Sources::new();
    let loaded = load_inputs(
        vec![RevisionInput::Bytes {
            path: PathBuf::from("migrations/versions/fuzz_input.py"),
            display: "migrations/versions/fuzz_input.py".to_owned(),
            bytes: input.to_vec(),
        }],
        &mut sources,
        LoadOptions::default(),
    );
    let graph = RevisionGraph::build(&loaded.revisions);
    let replay = replay_heads(&loaded.revisions, &graph);
    let mut findings = loaded.findings;
    render_findings(&sources, &mut findings) + replay.schema.tables.len()
}

/// `check` on a project directory, with every output it can write.
fn run_tree(root: &Path) -> usize {
    let Ok(project) = discover(root, Some(&root.join("migrations"))) else {
        return 0;
    };
    let mut sources = Sources::new();
    let Ok(loaded) = alembic::load(&project, &mut sources) else {
        return 0;
    };
    let graph = RevisionGraph::build(&loaded.revisions);
    let expectations = match expect::load(&root.join("expectations.yaml"), &mut sources) {
        Ok(e) => Some(e),
        Err(e) => return render_diagnostic(&e),
    };
    let replay = replay_heads(&loaded.revisions, &graph);
    let ctx = Context {
        sources: &sources,
        revisions: &loaded.revisions,
        graph: &graph,
        allowed_heads: expectations
            .as_ref()
            .map_or_else(AllowedHeads::default, |e| e.allowed_heads()),
        allowed_heads_span: expectations.as_ref().and_then(|e| e.allowed_heads_span()),
        flavor: project.flavor,
        input_findings: &loaded.findings,
        expectations: expectations.as_ref(),
        head_schema: Some(&replay.schema),
        replay_problems: &replay.problems,
        live: None,
    };
    let mut findings = driftlint::check::run(&ctx, None);
    render_findings(&sources, &mut findings)
        + render_script(&findings, &script_meta(), true).map_or(0, |s| s.len())
        + report::graph::heads(&loaded.revisions, &graph).len()
        + report::graph::text(&sources, &loaded.revisions, &graph).len()
        + report::graph::dot(&loaded.revisions, &graph).len()
        + report::graph::mermaid(&loaded.revisions, &graph).len()
        + report::graph::json(&sources, &loaded.revisions, &graph).len()
        + to_yaml(&replay.schema).len()
        + to_sql(&replay.schema).len()
}

fn run_expectations(project: &Project, path: &Path) -> usize {
    let mut sources = project.revision_sources();
    let expectations = match expect::load(path, &mut sources) {
        Ok(e) => e,
        Err(e) => return render_diagnostic(&e),
    };
    let mut ctx = project.context(&sources);
    ctx.expectations = Some(&expectations);
    ctx.allowed_heads = expectations.allowed_heads();
    ctx.allowed_heads_span = expectations.allowed_heads_span();
    let mut findings = rules::run_all(&ctx);
    rules::apply_lint_config(&expectations, &mut findings);
    render_findings(&sources, &mut findings)
}

fn run_sql(base: &Schema, input: &[u8]) -> usize {
    let sql = String::from_utf8_lossy(input);
    let mut total = 0;
    if let Ok(ops) = lower_sql(&sql) {
        let mut replayer = Replayer::from_schema(base.clone());
        for op in ops {
            total += ops_sql(&op, replayer.schema()).len();
            let at = OpAt {
                op,
                span: Span::new(FileId(0), 0..0),
                autocommit: false,
            };
            replayer.apply(0, "fuzz", &at);
        }
        total += to_sql(replayer.schema()).len() + to_yaml(replayer.schema()).len();
    }
    // The same SQL in a revision file: the lowering maps its statements back to spans in the
    // Python string, escapes included.
    let file = format!(
        "revision = \"f1\"\ndown_revision = None\nfrom alembic import op\n\n\ndef upgrade():\n    \
         op.execute(\"\"\"{}\"\"\")\n",
        python_escape(&sql)
    );
    total + run_revision_file(file.as_bytes())
}

/// `text` as the inside of a Python triple-quoted string that evaluates to `text`.
fn python_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\x00"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// The string literals passed to `op.execute(...)` in a Python file (plain, raw and
/// triple-quoted; escapes kept as written, which is good enough for seeds).
pub fn execute_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("op.execute(") {
        rest = &rest[at + "op.execute(".len()..];
        let body = rest.trim_start().trim_start_matches(['r', 'R', 'u', 'U']);
        let body = body.strip_prefix("sa.text(").unwrap_or(body);
        let body = body.strip_prefix("text(").unwrap_or(body);
        for quote in ["\"\"\"", "'''", "\"", "'"] {
            if let Some(inner) = body.strip_prefix(quote) {
                if let Some(end) = inner.find(quote) {
                    out.push(inner[..end].to_owned());
                }
                break;
            }
        }
    }
    out
}

/// The live check on a project: the state, every rule, every report and the fix script.
pub fn run_live(
    project: &Project,
    snapshot: driftlint::live::LiveSnapshot,
    destructive: bool,
) -> usize {
    let live = LiveState::new(
        snapshot,
        &project.revisions,
        &project.graph,
        &project.replay.schema,
        project.expectations.as_ref(),
    );
    let mut ctx = project.context(&project.sources);
    ctx.live = Some(&live);
    let mut findings = rules::run_all(&ctx);
    let ran = |_: rules::Rule| true;
    rules::apply_inline_ignores(
        &project.sources,
        project.revisions.iter().map(|r| r.file),
        &mut findings,
        &ran,
    );
    if let Some(e) = &project.expectations {
        rules::apply_lint_config(e, &mut findings);
    }
    render_findings(&project.sources, &mut findings)
        + render_script(&findings, &script_meta(), destructive).map_or(0, |s| s.len())
}
