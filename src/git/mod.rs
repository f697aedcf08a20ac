//! Reading files as a git commit holds them, through the `git` command: which commit a name
//! such as `origin/main` stands for, where two commits' histories meet, which files a tree
//! holds below some directories, and the bytes of those files.
//!
//! The `git` command rather than a git library: every machine that has a clone to lint has
//! `git`, and it reads everything a clone may be (shallow, partial, a worktree, alternates, the
//! SHA-256 object format, configuration in `includeIf`) exactly as the `git fetch` that made the
//! clone wrote it. A library would add minutes of compile time and megabytes of binary and
//! still lag behind on those corners. Three or four processes per run cost a few milliseconds.
//!
//! Invariant: read only. Nothing here changes the working tree, the index or any ref, and no
//! command may prompt (for credentials, when a partial clone fetches a missing blob).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why a git question could not be answered.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot run `git`: {source}")]
    #[diagnostic(
        code(driftlint::git_not_found),
        help(
            "--against reads the other side of the merge with the git command; install git or put it on PATH"
        )
    )]
    NotInstalled {
        #[source]
        source: std::io::Error,
    },

    #[error("{} is not inside a git repository", .path.display())]
    #[diagnostic(
        code(driftlint::not_a_git_repository),
        help("--against compares with a git ref; run driftlint inside the clone of the project")
    )]
    NotARepository { path: PathBuf },

    #[error("the migrations directory {} is outside the git repository at {}", .path.display(), .root.display())]
    #[diagnostic(
        code(driftlint::migrations_outside_repository),
        help("run driftlint from inside the repository that holds the migrations")
    )]
    OutsideRepository { path: PathBuf, root: PathBuf },

    #[error("`{reference}` does not name a commit in this {}repository", if *.shallow { "shallow " } else { "" })]
    #[diagnostic(code(driftlint::unknown_git_ref), help("{help}"))]
    UnknownRef {
        reference: String,
        shallow: bool,
        help: String,
    },

    #[error("`git {command}` failed: {message}")]
    #[diagnostic(code(driftlint::git_failed))]
    Failed { command: String, message: String },
}

/// One file of a tree: its path from the repository root (`/`-separated) and its blob id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub blob: String,
}

/// A git repository, known by its top-level directory.
#[derive(Clone, Debug)]
pub struct Repository {
    /// The working tree's top level, as git prints it (symbolic links resolved).
    pub root: PathBuf,
}

impl Repository {
    /// The repository whose working tree holds `dir`.
    pub fn discover(dir: &Path) -> Result<Repository, Error> {
        let output = git_command(dir, ["rev-parse", "--show-toplevel"])
            .output()
            .map_err(|source| Error::NotInstalled { source })?;
        if !output.status.success() {
            return Err(Error::NotARepository {
                path: dir.to_path_buf(),
            });
        }
        let root = String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_owned();
        Ok(Repository {
            root: PathBuf::from(root),
        })
    }

    /// `path` relative to the repository root, `/`-separated, without a trailing `/`; empty for
    /// the root itself.
    pub fn relative_path(&self, path: &Path) -> Result<String, Error> {
        // The root is printed with links resolved, so the path must be too.
        let resolved = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let relative = resolved
            .strip_prefix(&self.root)
            .map_err(|_| Error::OutsideRepository {
                path: path.to_path_buf(),
                root: self.root.clone(),
            })?;
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Ok(parts.join("/"))
    }

    /// The commit `reference` names. When git does not know it, the error says what to fetch.
    pub fn resolve_commit(&self, reference: &str) -> Result<String, Error> {
        let spec = format!("{reference}^{{commit}}");
        let output = self
            .command([
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ])
            .output()
            .map_err(|source| Error::NotInstalled { source })?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned());
        }
        let shallow = self.is_shallow();
        let remotes = self.remotes();
        Err(Error::UnknownRef {
            reference: reference.to_owned(),
            shallow,
            help: fetch_help(reference, &remotes, shallow),
        })
    }

    /// Whether the clone is shallow (`git clone --depth`, `actions/checkout` by default).
    pub fn is_shallow(&self) -> bool {
        self.text(["rev-parse", "--is-shallow-repository"])
            .is_ok_and(|answer| answer.trim() == "true")
    }

    /// The configured remotes' names.
    pub fn remotes(&self) -> Vec<String> {
        self.text(["remote"])
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The commit where the histories of `a` and `b` meet, `None` when git cannot see one (a
    /// shallow clone that stops before it, unrelated histories, a repository without commits).
    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        let output = self
            .command(["merge-base", "--end-of-options", a, b])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (!id.is_empty()).then_some(id)
    }

    /// The regular files (not links, not submodules) of `commit`'s tree below `dirs` (paths
    /// from the root), in git's order, each with its blob id.
    pub fn list_files(&self, commit: &str, dirs: &[String]) -> Result<Vec<TreeFile>, Error> {
        let mut args: Vec<&str> = vec!["ls-tree", "-r", "-z", "--full-tree", commit, "--"];
        // An empty directory path stands for the root, which no pathspec needs to name.
        if dirs.iter().any(String::is_empty) {
            args.truncate(args.len() - 1);
        } else {
            args.extend(dirs.iter().map(String::as_str));
        }
        let output = self.bytes(&args)?;
        let mut files = Vec::new();
        for record in output.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            // `<mode> SP <type> SP <object> TAB <path>`
            let Some(tab) = record.iter().position(|&b| b == b'\t') else {
                continue;
            };
            let head = String::from_utf8_lossy(&record[..tab]);
            let mut fields = head.split(' ');
            let (Some(mode), Some(kind), Some(blob)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            // 100644 and 100755 are files; 120000 is a link, whose blob is its target's name
            // rather than a revision, and 160000 a submodule.
            if kind != "blob" || !mode.starts_with("100") {
                continue;
            }
            files.push(TreeFile {
                path: String::from_utf8_lossy(&record[tab + 1..]).into_owned(),
                blob: blob.to_owned(),
            });
        }
        Ok(files)
    }

    /// The contents of the given blobs, in one `git cat-file --batch` process.
    pub fn read_blobs(&self, blobs: &[String]) -> Result<HashMap<String, Vec<u8>>, Error> {
        let mut contents = HashMap::with_capacity(blobs.len());
        if blobs.is_empty() {
            return Ok(contents);
        }
        let mut child = self
            .command(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::NotInstalled { source })?;
        let mut stdin = child.stdin.take().expect("stdin was configured as a pipe");
        let request: String = blobs.iter().map(|b| format!("{b}\n")).collect();
        // Written from another thread: git answers while it reads, and a pipe's buffer holds
        // far less than a few thousand revision files.
        let writer = std::thread::spawn(move || {
            let result = stdin.write_all(request.as_bytes());
            drop(stdin);
            result
        });
        let stdout = child
            .stdout
            .take()
            .expect("stdout was configured as a pipe");
        let read = read_batch(BufReader::new(stdout), blobs.len(), &mut contents);
        let written = writer.join().expect("the writer thread does not panic");
        let output = child
            .wait_with_output()
            .map_err(|e| failed("cat-file --batch", &e.to_string()))?;
        if let Err(message) = read {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(failed(
                "cat-file --batch",
                &format!("{message} {}", stderr.trim()),
            ));
        }
        written.map_err(|e| failed("cat-file --batch", &e.to_string()))?;
        Ok(contents)
    }

    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        git_command(&self.root, args)
    }

    fn bytes(&self, args: &[&str]) -> Result<Vec<u8>, Error> {
        let output = self
            .command(args)
            .output()
            .map_err(|source| Error::NotInstalled { source })?;
        if !output.status.success() {
            return Err(failed(
                &args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim(),
            ));
        }
        Ok(output.stdout)
    }

    fn text<const N: usize>(&self, args: [&str; N]) -> Result<String, Error> {
        self.bytes(&args)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }
}

fn failed(command: &str, message: &str) -> Error {
    Error::Failed {
        command: command.to_owned(),
        message: message.to_owned(),
    }
}

/// A `git` process in `dir` that reads paths literally, never prompts and never takes the
/// index lock a plain status refresh would take.
fn git_command<I, S>(dir: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new("git");
    command
        .arg("--literal-pathspecs")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null());
    command
}

/// Reads `count` answers of `git cat-file --batch`: `<id> <type> <size>\n<bytes>\n` each, or
/// `<name> missing\n`.
fn read_batch(
    mut reader: impl BufRead,
    count: usize,
    contents: &mut HashMap<String, Vec<u8>>,
) -> Result<(), String> {
    let mut header = String::new();
    for _ in 0..count {
        header.clear();
        let read = reader
            .read_line(&mut header)
            .map_err(|e| format!("reading git's answer: {e}"))?;
        if read == 0 {
            return Err("git stopped answering early".to_owned());
        }
        let fields: Vec<&str> = header.split_whitespace().collect();
        match fields.as_slice() {
            [id, _kind, size] => {
                let size: usize = size
                    .parse()
                    .map_err(|_| format!("unexpected answer from git: {header}"))?;
                let mut bytes = vec![0; size + 1];
                reader
                    .read_exact(&mut bytes)
                    .map_err(|e| format!("reading blob {id}: {e}"))?;
                bytes.truncate(size);
                contents.insert((*id).to_owned(), bytes);
            }
            [id, "missing"] => return Err(format!("blob {id} is missing from the repository")),
            _ => return Err(format!("unexpected answer from git: {}", header.trim())),
        }
    }
    Ok(())
}

/// What to run so that git knows `reference`. `origin/main` is the branch `main` of the remote
/// `origin`, which `git fetch --depth=1 origin main:refs/remotes/origin/main` brings and stores
/// as `origin/main`.
fn fetch_help(reference: &str, remotes: &[String], shallow: bool) -> String {
    let name = reference.strip_prefix("refs/remotes/").unwrap_or(reference);
    // The longest remote name that prefixes the reference: remotes may contain `/`.
    let remote_branch = remotes
        .iter()
        .filter(|remote| {
            name.strip_prefix(remote.as_str())
                .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'))
        })
        .max_by_key(|remote| remote.len())
        .map(|remote| (remote.as_str(), &name[remote.len() + 1..]));
    let clone_kind = if shallow {
        "this clone is shallow, so it holds only the history it was cloned with; "
    } else {
        ""
    };
    match remote_branch {
        // The explicit destination makes the fetch store the ref even in a clone whose remote
        // fetches only one branch (`git clone --single-branch`, `--depth` without
        // `--no-single-branch`).
        Some((remote, branch)) => format!(
            "{clone_kind}fetch it first: `git fetch --depth=1 {remote} \
             {branch}:refs/remotes/{remote}/{branch}` (in GitHub Actions, add that as a step \
             before driftlint, or check out with `fetch-depth: 0`)"
        ),
        None if remotes.is_empty() => format!(
            "{clone_kind}give a branch, tag or commit this repository has (`git branch -a` lists \
             the branches); it has no remote to fetch from"
        ),
        None => {
            let remote = if remotes.iter().any(|r| r == "origin") {
                "origin"
            } else {
                remotes[0].as_str()
            };
            format!(
                "{clone_kind}fetch it first: `git fetch --depth=1 {remote} {reference}`, then pass \
                 `--against FETCH_HEAD`; or give a remote-tracking branch such as \
                 `--against {remote}/main`"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_help_names_the_remote_and_branch() {
        let remotes = vec!["origin".to_owned(), "up/stream".to_owned()];
        let help = fetch_help("origin/main", &remotes, true);
        assert!(
            help.contains("`git fetch --depth=1 origin main:refs/remotes/origin/main`"),
            "{help}"
        );
        assert!(help.starts_with("this clone is shallow"), "{help}");
        let help = fetch_help("up/stream/release/2.0", &remotes, false);
        assert!(
            help.contains(
                "`git fetch --depth=1 up/stream release/2.0:refs/remotes/up/stream/release/2.0`"
            ),
            "{help}"
        );
        let help = fetch_help("refs/remotes/origin/dev", &remotes, false);
        assert!(
            help.contains("`git fetch --depth=1 origin dev:refs/remotes/origin/dev`"),
            "{help}"
        );
        let help = fetch_help("v1.2", &remotes, false);
        assert!(help.contains("`git fetch --depth=1 origin v1.2`"), "{help}");
        assert!(help.contains("FETCH_HEAD"), "{help}");
        let help = fetch_help("main", &[], false);
        assert!(help.contains("no remote"), "{help}");
    }

    #[test]
    fn batch_answers_are_split_by_their_sizes() {
        let answer = b"aaa blob 3\nx\ny\nbbb blob 0\n\n";
        let mut contents = HashMap::new();
        read_batch(&answer[..], 2, &mut contents).expect("well-formed");
        assert_eq!(contents["aaa"], b"x\ny");
        assert_eq!(contents["bbb"], b"");
        let missing = read_batch(&b"ccc missing\n"[..], 1, &mut HashMap::new());
        assert!(missing.unwrap_err().contains("ccc"));
    }
}
