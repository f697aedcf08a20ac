//! Fuzzing on stable Rust, without network: a deterministic mutation driver over the
//! repository's own fixtures, one test per target (see `targets.rs`), and a regression test
//! that replays every saved crash input.
//!
//! How a run works: each target's test starts this test binary again as a child process
//! (`fuzz_child`, ignored in normal runs) that makes and runs the cases one by one, each inside
//! `catch_unwind`, on a thread with an 8 MiB stack, and logs to a file the case it starts, each
//! panic (with its message and place) and each case over the time budget. A stack overflow or
//! any other abort kills only the child: the driver reads which case was running, records it as
//! a crash, and starts a new child at the next case. A case that runs far past the budget (no
//! progress for ten times the budget) is killed the same way and recorded as a hang.
//!
//! Environment:
//! - `DRIFTLINT_FUZZ_CASES`: cases per target (default: a count that keeps the five targets at
//!   about a minute in a debug build on two cores; `scripts/fuzz` uses 100,000);
//! - `DRIFTLINT_FUZZ_SECONDS`: stop generating cases after this long, whatever the count (for
//!   a long run on a busy machine; `scripts/fuzz` turns it into `DRIFTLINT_FUZZ_DEADLINE`);
//! - `DRIFTLINT_FUZZ_SEED`: the seed (default 1); a case is reproduced from seed and index;
//! - `DRIFTLINT_FUZZ_HANG_MS`: the per-input budget (default 2,000 ms in a release build,
//!   20,000 ms in a debug build, which runs some inputs 10-30 times slower);
//! - `DRIFTLINT_FUZZ_RSS_MB`: the resident memory a child may use before it is killed and its
//!   input recorded as a `memory` crash (default 2,048);
//! - `DRIFTLINT_FUZZ_SAVE=1`: save each new crash, minimised, under
//!   `tests/fixtures/fuzz/crashes/<target>/` (otherwise crashes are written, unminimised, under
//!   `target/fuzz/<target>/` only).
//!
//! A crash fails the target's test unless it matches an entry of [`KNOWN_OPEN`], the explicit
//! list of saved inputs whose bugs are known and being fixed; `fuzz_saved_crashes` requires every
//! other saved input to run cleanly.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod catalog;
mod mutate;
mod targets;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mutate::Rng;
use targets::{State, Target};

/// A saved input whose crash is known and is being fixed elsewhere. The fuzz pass tolerates
/// crashes with the same signature in the same target, and `fuzz_saved_crashes` tolerates this
/// file crashing. Empty the entry when the fix lands: the file then becomes a regression test.
struct KnownOpen {
    /// `<target>/<file name>` under `tests/fixtures/fuzz/crashes/`.
    file: &'static str,
    /// The crash's signature, as the driver prints it.
    signature: &'static str,
    /// Where the fix is being made.
    why: &'static str,
}

const KNOWN_OPEN: &[KnownOpen] = &[];

const CHILD_ENV: &str = "DRIFTLINT_FUZZ_CHILD";

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.replace(['_', ','], "");
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")),
    )
}

/// `DRIFTLINT_FUZZ_SECONDS` as a point in time, passed to the children as
/// `DRIFTLINT_FUZZ_DEADLINE` (seconds since the epoch) so that every target of one run stops
/// generating cases at the same moment; the cases run are reported.
fn deadline() -> Option<std::time::SystemTime> {
    let at = env_u64("DRIFTLINT_FUZZ_DEADLINE")?;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(at))
}

fn seed() -> u64 {
    env_u64("DRIFTLINT_FUZZ_SEED").unwrap_or(1)
}

fn hang_budget() -> Duration {
    let default = if cfg!(debug_assertions) {
        20_000
    } else {
        2_000
    };
    Duration::from_millis(env_u64("DRIFTLINT_FUZZ_HANG_MS").unwrap_or(default))
}

/// Cases per target. The defaults keep the whole pass near a minute in a debug build on two
/// cores (measured: see `scripts/fuzz`); the targets differ in cost per case.
fn cases(target: Target) -> u64 {
    env_u64("DRIFTLINT_FUZZ_CASES").unwrap_or(match target {
        Target::RevisionFile => 3000,
        Target::RevisionTree => 1000,
        Target::Expectations => 1500,
        Target::ExecuteSql => 1000,
        Target::CatalogRows => 1500,
        Target::SelfTest => 0,
    })
}

fn out_dir(target: Target) -> PathBuf {
    let dir = targets::repo().join("target/fuzz").join(target.name());
    std::fs::create_dir_all(&dir).expect("target/fuzz");
    dir
}

fn crashes_dir(target: Target) -> PathBuf {
    targets::repo()
        .join("tests/fixtures/fuzz/crashes")
        .join(target.name())
}

// ---------------------------------------------------------------------------------------------
// The child: runs cases and logs them.

/// Where the last panic happened and what it said, set by the panic hook.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// What a child runs: generated cases `start..end`, or saved files from `start` on.
#[derive(Clone, Debug)]
enum Job {
    Generated { seed: u64, start: u64, end: u64 },
    Files { list: PathBuf, start: u64 },
}

impl Job {
    fn encode(&self) -> String {
        match self {
            Job::Generated { seed, start, end } => format!("gen\t{seed}\t{start}\t{end}"),
            Job::Files { list, start } => format!("files\t{}\t{start}", list.display()),
        }
    }

    fn decode(text: &str) -> Job {
        let parts: Vec<&str> = text.split('\t').collect();
        match parts.as_slice() {
            ["gen", seed, start, end] => Job::Generated {
                seed: seed.parse().expect("seed"),
                start: start.parse().expect("start"),
                end: end.parse().expect("end"),
            },
            ["files", list, start] => Job::Files {
                list: PathBuf::from(list),
                start: start.parse().expect("start"),
            },
            _ => panic!("bad job {text:?}"),
        }
    }

    fn with_start(&self, new_start: u64) -> Job {
        match self.clone() {
            Job::Generated { seed, end, .. } => Job::Generated {
                seed,
                start: new_start,
                end,
            },
            Job::Files { list, .. } => Job::Files {
                list,
                start: new_start,
            },
        }
    }

    fn start(&self) -> u64 {
        match self {
            Job::Generated { start, .. } | Job::Files { start, .. } => *start,
        }
    }
}

fn file_list(list: &Path) -> Vec<PathBuf> {
    std::fs::read_to_string(list)
        .expect("file list")
        .lines()
        .map(PathBuf::from)
        .collect()
}

/// One line, no tabs or newlines, for the log.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect()
}

fn child_main(spec: &str) {
    let mut parts = spec.splitn(4, '\t');
    let target = Target::from_name(parts.next().expect("target")).expect("known target");
    let log_path = PathBuf::from(parts.next().expect("log"));
    let stop_first = parts.next().expect("stop flag") == "1";
    let job = Job::decode(parts.next().expect("job"));
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(format!("{}\t{}", one_line(&place), one_line(&message)));
    }));
    let worker = std::thread::Builder::new()
        .name("fuzz".to_owned())
        .stack_size(8 << 20)
        .spawn(move || child_run(target, &log_path, stop_first, &job))
        .expect("fuzz thread");
    worker.join().expect("the fuzz thread catches every panic");
}

fn child_run(target: Target, log_path: &Path, stop_first: bool, job: &Job) {
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log_path)
        .expect("fuzz log");
    let state = State::prepare(target);
    let budget = hang_budget();
    let (start, end, files) = match job {
        Job::Generated { start, end, .. } => (*start, *end, None),
        Job::Files { list, start } => {
            let files = file_list(list);
            (*start, files.len() as u64, Some(files))
        }
    };
    let deadline = deadline();
    for index in start..end {
        if files.is_none() && deadline.is_some_and(|d| std::time::SystemTime::now() > d) {
            break;
        }
        let input = match (&files, job) {
            (Some(files), _) => std::fs::read(&files[index as usize]).expect("saved input"),
            (None, Job::Generated { seed, .. }) => {
                state.generate(&mut Rng::for_case(*seed, target.name(), index))
            }
            (None, Job::Files { .. }) => unreachable!(),
        };
        writeln!(log, "S\t{index}").expect("log");
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| state.run(&input)));
        let elapsed = started.elapsed();
        let mut crashed = false;
        if outcome.is_err() {
            let panic = LAST_PANIC
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| "?\t?".to_owned());
            writeln!(log, "P\t{index}\t{panic}").expect("log");
            crashed = true;
        }
        if elapsed > budget {
            writeln!(log, "H\t{index}\t{}", elapsed.as_millis()).expect("log");
            crashed = true;
        }
        if crashed && stop_first {
            break;
        }
    }
    writeln!(log, "D").expect("log");
}

/// The entry point of the driver's child processes; does nothing when run by hand.
#[test]
#[ignore = "run by the fuzz driver in a child process"]
fn fuzz_child() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child_main(&spec);
    }
}

// ---------------------------------------------------------------------------------------------
// The driver: runs jobs in children and attributes their crashes.

#[derive(Clone, Debug)]
struct Crash {
    index: u64,
    /// What identifies the bug: the panic's place and message (digits masked), `stack
    /// overflow`, `abort (...)` or `hang`.
    signature: String,
    /// The details: the whole panic message, the child's exit, the time taken.
    detail: String,
}

struct JobResult {
    /// Cases run (crashed ones included).
    cases: u64,
    crashes: Vec<Crash>,
}

/// A panic's signature: the source file (not the line, which moves with unrelated edits) and
/// the message with numbers masked.
fn panic_signature(place: &str, message: &str) -> String {
    let file = place.rsplit_once(':').map_or(place, |(file, _)| file);
    // `/rustc/<hash>/library/core/...` and `~/.cargo/registry/.../miette-7.6.0/src/...`.
    let file = match file.find("/library/") {
        Some(at) => &file[at + 1..],
        None => match file.find("/registry/src/") {
            Some(at) => file[at..].splitn(5, '/').nth(4).unwrap_or(file),
            None => file,
        },
    };
    let mut masked = String::new();
    let mut in_digits = false;
    for c in message.chars().take(80) {
        if c.is_ascii_digit() {
            if !in_digits {
                masked.push('#');
            }
            in_digits = true;
        } else {
            masked.push(c);
            in_digits = false;
        }
    }
    format!("panic in {file}: {masked}")
}

/// The resident memory a child may reach before it is killed and its input recorded
/// (`DRIFTLINT_FUZZ_RSS_MB`, 2,048 by default): inputs are at most 256 KiB, and the machine is
/// shared.
fn memory_limit_mib() -> u64 {
    env_u64("DRIFTLINT_FUZZ_RSS_MB").unwrap_or(2048)
}

/// The resident set of process `pid` in MiB, where `/proc` tells it.
fn resident_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Per-input limits: the time budget and the resident memory (MiB).
#[derive(Clone, Copy)]
struct Limits {
    budget: Duration,
    rss_mib: u64,
}

fn limits() -> Limits {
    Limits {
        budget: hang_budget(),
        rss_mib: memory_limit_mib(),
    }
}

/// Runs `job` for `target` in children until it is done, restarting after each abort or kill.
/// With `stop_at`, returns as soon as a crash with that signature is seen.
fn run_job(target: Target, job: Job, stop_at: Option<&str>, limits: Limits) -> JobResult {
    let Limits { budget, rss_mib } = limits;
    let exe = std::env::current_exe().expect("test binary");
    let work = tempfile::tempdir().expect("temporary directory");
    let stall = (budget * 10).max(Duration::from_secs(1));
    let mut crashes = Vec::new();
    let mut cases = 0;
    let mut job = job;
    for segment in 0.. {
        let log = work.path().join(format!("log{segment}"));
        let stderr = work.path().join(format!("stderr{segment}"));
        std::fs::write(&log, "").expect("log");
        let spec = format!(
            "{}\t{}\t{}\t{}",
            target.name(),
            log.display(),
            if stop_at.is_some() { "1" } else { "0" },
            job.encode()
        );
        let mut child = Command::new(&exe)
            .args([
                "fuzz_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, spec)
            .env("DRIFTLINT_FUZZ_HANG_MS", budget.as_millis().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start the fuzz child");
        let mut last_len = 0;
        let mut last_progress = Instant::now();
        let mut killed = false;
        let mut over_memory = None;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the fuzz child") {
                break status;
            }
            if let Some(rss) = resident_mib(child.id())
                && rss > rss_mib
            {
                let _ = child.kill();
                over_memory = Some(rss);
                break child.wait().expect("wait for the killed child");
            }
            let len = std::fs::metadata(&log).map_or(0, |m| m.len());
            if len != last_len {
                last_len = len;
                last_progress = Instant::now();
            } else if last_progress.elapsed() > stall {
                let _ = child.kill();
                killed = true;
                break child.wait().expect("wait for the killed child");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let mut running = None;
        let mut done = false;
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["S", index] => {
                    running = Some(index.parse::<u64>().expect("index"));
                    cases += 1;
                }
                ["P", index, place, message] => crashes.push(Crash {
                    index: index.parse().expect("index"),
                    signature: panic_signature(place, message),
                    detail: format!("panicked at {place}: {message}"),
                }),
                ["H", index, ms] => crashes.push(Crash {
                    index: index.parse().expect("index"),
                    signature: "hang".to_owned(),
                    detail: format!("took {ms} ms (budget {} ms)", budget.as_millis()),
                }),
                ["D"] => done = true,
                _ => {}
            }
        }
        let stopped = stop_at.is_some_and(|sig| crashes.iter().any(|c| c.signature == sig));
        if done || stopped {
            if done && stop_at.is_some() && !stopped {
                // The child stops at its first crash of any kind; go on after it.
                if let Some(last) = crashes.last()
                    && last.index >= job.start()
                {
                    job = job.with_start(last.index + 1);
                    continue;
                }
            }
            break;
        }
        let Some(index) = running else {
            let err = std::fs::read_to_string(&stderr).unwrap_or_default();
            panic!(
                "the fuzz child for {} exited ({status}) before its first case:\n{err}",
                target.name()
            );
        };
        let err = std::fs::read_to_string(&stderr).unwrap_or_default();
        let (signature, detail) = if let Some(rss) = over_memory {
            (
                "memory".to_owned(),
                format!("resident memory {rss} MiB, over the limit of {rss_mib} MiB; killed"),
            )
        } else if killed {
            (
                "hang".to_owned(),
                format!("no progress in {} s; killed", stall.as_secs_f64()),
            )
        } else if err.contains("has overflowed its stack") {
            ("stack overflow".to_owned(), format!("child {status}"))
        } else {
            (
                format!("abort ({status})"),
                err.lines().last().unwrap_or_default().to_owned(),
            )
        };
        crashes.push(Crash {
            index,
            signature,
            detail,
        });
        if stop_at.is_some_and(|sig| crashes.iter().any(|c| c.signature == sig)) {
            break;
        }
        job = job.with_start(index + 1);
    }
    JobResult { cases, crashes }
}

/// Runs each of `inputs` once, in children; the signature each crashed with.
fn run_inputs(
    target: Target,
    inputs: &[Vec<u8>],
    stop_at: Option<&str>,
    limits: Limits,
) -> (u64, BTreeMap<u64, String>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut list = String::new();
    for (i, input) in inputs.iter().enumerate() {
        let path = dir.path().join(format!("{i}.{}", target.extension()));
        std::fs::write(&path, input).expect("write input");
        writeln!(list, "{}", path.display()).expect("string");
    }
    let list_path = dir.path().join("list");
    std::fs::write(&list_path, list).expect("list");
    let result = run_job(
        target,
        Job::Files {
            list: list_path,
            start: 0,
        },
        stop_at,
        limits,
    );
    let crashes = result
        .crashes
        .into_iter()
        .map(|c| (c.index, c.signature))
        .collect();
    (result.cases, crashes)
}

/// Shrinks `input` while it still crashes with `signature`: removes chunks, from halves down,
/// trying at most 32 candidates a round, for up to `limit`.
fn minimise(target: Target, input: Vec<u8>, signature: &str, limit: Duration) -> Vec<u8> {
    let started = Instant::now();
    let prefix = target.fixed_prefix().min(input.len());
    let mut current = input;
    let mut chunk = (current.len() - prefix).div_ceil(2).max(1);
    while started.elapsed() < limit && current.len() > prefix {
        let body = current.len() - prefix;
        let chunk_now = chunk.max(body.div_ceil(32));
        let candidates: Vec<Vec<u8>> = (prefix..current.len())
            .step_by(chunk_now)
            .map(|start| {
                let end = (start + chunk_now).min(current.len());
                let mut c = current[..start].to_vec();
                c.extend_from_slice(&current[end..]);
                c
            })
            .collect();
        let (_, crashed) = run_inputs(target, &candidates, Some(signature), limits());
        if let Some((&i, _)) = crashed.iter().find(|(_, s)| s.as_str() == signature) {
            current = candidates[i as usize].clone();
            chunk = chunk.min((current.len() - prefix).div_ceil(2)).max(1);
        } else if chunk_now == 1 {
            break;
        } else {
            chunk = (chunk_now / 2).max(1);
        }
    }
    current
}

fn slug(signature: &str) -> String {
    let mut out = String::new();
    for c in signature.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(70).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A file name for a crash: the panic message and the file it came from, or the kind of crash.
fn file_stem(signature: &str) -> String {
    match signature
        .strip_prefix("panic in ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((file, message)) => {
            let mut stem: String = slug(message).chars().take(50).collect();
            while stem.ends_with('-') {
                stem.pop();
            }
            let base = file
                .rsplit('/')
                .next()
                .unwrap_or(file)
                .trim_end_matches(".rs");
            format!("{stem}-in-{}", slug(base))
        }
        None => slug(signature),
    }
}

fn known_open(target: Target, signature: &str) -> Option<&'static KnownOpen> {
    KNOWN_OPEN
        .iter()
        .find(|k| k.signature == signature && k.file.split('/').next() == Some(target.name()))
}

/// The fuzz pass of one target: runs the cases, reports, saves the crashes, and fails on any
/// crash that is not a known open one.
fn fuzz(target: Target) {
    let cases = cases(target);
    let seed = seed();
    let started = Instant::now();
    let result = run_job(
        target,
        Job::Generated {
            seed,
            start: 0,
            end: cases,
        },
        None,
        limits(),
    );
    let seconds = started.elapsed().as_secs_f64();
    let mut by_signature: BTreeMap<String, Vec<&Crash>> = BTreeMap::new();
    for crash in &result.crashes {
        by_signature
            .entry(crash.signature.clone())
            .or_default()
            .push(crash);
    }
    let count = |kind: &str| {
        result
            .crashes
            .iter()
            .filter(|c| c.signature == kind)
            .count()
    };
    let (hangs, memory) = (count("hang"), count("memory"));
    let crashes = result.crashes.len() - hangs - memory;
    println!(
        "fuzz {}: cases {}, crashes {}, hangs {}, over memory {}, seconds {:.1} (seed {}, budget {} ms)",
        target.name(),
        result.cases,
        crashes,
        hangs,
        memory,
        seconds,
        seed,
        hang_budget().as_millis()
    );
    let save = std::env::var("DRIFTLINT_FUZZ_SAVE").is_ok_and(|v| v == "1");
    let state = State::prepare(target);
    let mut unknown = Vec::new();
    for (signature, crashes) in &by_signature {
        let first = crashes[0];
        let input = state.generate(&mut Rng::for_case(seed, target.name(), first.index));
        let name = format!("{}.{}", file_stem(signature), target.extension());
        let raw = out_dir(target).join(&name);
        std::fs::write(&raw, &input).expect("write the crash input");
        let known = known_open(target, signature);
        let mut saved = None;
        if save {
            let path = crashes_dir(target).join(&name);
            if !path.exists() {
                let small = minimise(target, input.clone(), signature, Duration::from_secs(180));
                std::fs::create_dir_all(crashes_dir(target)).expect("crashes directory");
                std::fs::write(&path, &small).expect("save the crash input");
                saved = Some((path, small.len()));
            }
        }
        println!(
            "  {} x{}: {signature}{}\n    first at case {} ({}; {} bytes): {}{}",
            target.name(),
            crashes.len(),
            known.map_or(String::new(), |k| format!(" [known open: {}]", k.why)),
            first.index,
            raw.display(),
            input.len(),
            first.detail,
            saved.map_or(String::new(), |(p, len)| format!(
                "\n    saved, minimised to {len} bytes: {}",
                p.display()
            )),
        );
        if known.is_none() {
            unknown.push(format!("{signature} (first at case {})", first.index));
        }
    }
    assert!(
        unknown.is_empty(),
        "fuzz {}: new crashes (run scripts/fuzz to save them minimised under \
         tests/fixtures/fuzz/crashes/):\n{}",
        target.name(),
        unknown.join("\n")
    );
}

#[test]
fn fuzz_revision_file() {
    fuzz(Target::RevisionFile);
}

#[test]
fn fuzz_revision_tree() {
    fuzz(Target::RevisionTree);
}

#[test]
fn fuzz_expectations() {
    fuzz(Target::Expectations);
}

#[test]
fn fuzz_execute_sql() {
    fuzz(Target::ExecuteSql);
}

#[test]
fn fuzz_catalog_rows() {
    fuzz(Target::CatalogRows);
}

/// Every saved crash input runs cleanly, except the known open ones listed in [`KNOWN_OPEN`].
#[test]
fn fuzz_saved_crashes() {
    let root = targets::repo().join("tests/fixtures/fuzz/crashes");
    for known in KNOWN_OPEN {
        assert!(
            root.join(known.file).is_file(),
            "KNOWN_OPEN names {}, which is not in tests/fixtures/fuzz/crashes/",
            known.file
        );
    }
    let mut failures = Vec::new();
    for target in Target::ALL {
        let Ok(entries) = std::fs::read_dir(crashes_dir(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            continue;
        }
        let inputs: Vec<Vec<u8>> = files
            .iter()
            .map(|p| std::fs::read(p).expect("saved input"))
            .collect();
        let (_, crashed) = run_inputs(target, &inputs, None, limits());
        for (i, file) in files.iter().enumerate() {
            let name = format!(
                "{}/{}",
                target.name(),
                file.file_name().unwrap_or_default().to_string_lossy()
            );
            let known = KNOWN_OPEN.iter().find(|k| k.file == name);
            match (crashed.get(&(i as u64)), known) {
                (Some(signature), None) => failures.push(format!("{name}: {signature}")),
                (None, Some(_)) => println!(
                    "{name} no longer crashes: remove it from KNOWN_OPEN in tests/fuzz/main.rs"
                ),
                _ => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "saved fuzz inputs crash:\n{}",
        failures.join("\n")
    );
}

/// The driver attributes each kind of crash to its input and carries on after it: a panic, a
/// stack overflow (which kills the child), an input over the budget, and one that never ends
/// (killed after ten times the budget).
#[test]
fn driver_attributes_every_kind_of_crash_to_its_input() {
    let inputs: Vec<Vec<u8>> = [
        "ok", "panic", "ok", "overflow", "ok", "slow", "ok", "forever", "ok", "memory", "ok",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let limits = Limits {
        budget: Duration::from_millis(300),
        rss_mib: 200,
    };
    let (cases, crashed) = run_inputs(Target::SelfTest, &inputs, None, limits);
    assert_eq!(
        cases, 11,
        "every input ran, the ones after each crash included"
    );
    let expected: BTreeMap<u64, String> = [
        (
            1,
            "panic in tests/fuzz/targets.rs: a panic on purpose".to_owned(),
        ),
        (3, "stack overflow".to_owned()),
        (5, "hang".to_owned()),
        (7, "hang".to_owned()),
        (9, "memory".to_owned()),
    ]
    .into_iter()
    .collect();
    assert_eq!(crashed, expected);
    assert_eq!(
        file_stem(
            "panic in miette-7.6.0/src/handlers/graphical.rs: Formatting argument out of range"
        ),
        "formatting-argument-out-of-range-in-graphical"
    );
}
