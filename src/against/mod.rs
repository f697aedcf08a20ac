//! The revision files as they will be after a merge (`--against <ref>`): the files at a git ref
//! (say `origin/main`), read straight from git without a checkout, with the working tree's files
//! laid over them, so that two branches that each add a revision on the same parent show the
//! second head before either is merged.
//!
//! Which files the union holds follows git's three-way merge of the version directories, with
//! the merge base of `HEAD` and the ref as the common ancestor:
//!
//! - a path in the working tree and at the ref: the working tree's file (this branch's edits
//!   win, and an unchanged file is one file, not a duplicate);
//! - a path only in the working tree: kept (this branch added it), unless the merge base has it
//!   unchanged, which means the ref deleted it;
//! - a path only at the ref: kept (the ref added it), unless the merge base has the same blob,
//!   which means this branch deleted or renamed it. When git cannot see a merge base (a shallow
//!   clone of depth 1), a ref-only file whose bytes equal a working tree file's is taken as
//!   renamed here, and any other ref-only file as added there; a file this branch deleted then
//!   comes back, which is why exact results need the merge base's history.
//!
//! A file on both sides of a modify/delete conflict is kept: git would stop and ask, and
//! linting it errs on the side of reporting.
//!
//! Invariant: nothing is written anywhere; files from the ref are registered in [`Sources`]
//! under `<ref>:<path from the repository root>`, which is also what `git show` accepts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::alembic::{
    self, LoadOptions, Loaded, Project, Revision, RevisionInput, is_revision_file_name,
    is_skipped_name,
};
use crate::git::{self, Repository, TreeFile};
use crate::graph::RevisionGraph;
use crate::rules::{Finding, Rule};
use crate::source::{FileId, Sources, Span};

/// Why the tree after merge could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Migrations(#[from] alembic::Error),
}

/// Which side of the merge a revision file comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Only at the ref: the merge brings it in.
    Ref,
    /// Only in the working tree: this branch adds it.
    Branch,
    /// The same path on both sides (this branch's version is the one read).
    Both,
}

/// What the tree after merge was made of: the ref, and the side each revision file came from.
#[derive(Debug)]
pub struct AfterMerge {
    /// The ref as given (`origin/main`) and the commit it names.
    pub reference: String,
    pub commit: String,
    /// Where `HEAD` and the ref meet, when git can see it.
    pub merge_base: Option<String>,
    /// The side of each revision file read, by file id.
    sides: HashMap<FileId, Side>,
}

impl AfterMerge {
    pub fn side_of(&self, file: FileId) -> Option<Side> {
        self.sides.get(&file).copied()
    }
}

/// Reads the revision files of `project` as they will be once the working tree is merged with
/// `reference`, into `sources`.
pub fn load_after_merge(
    project: &Project,
    cwd: &Path,
    reference: &str,
    sources: &mut Sources,
    options: LoadOptions,
) -> Result<(Loaded, AfterMerge), Error> {
    let repository = Repository::discover(cwd)?;
    let commit = repository.resolve_commit(reference)?;
    let layout = Layout::new(&repository, project)?;

    let mut working: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in alembic::revision_files(project)? {
        if let Some(relative) = layout.working_tree_path(&path) {
            working.entry(relative).or_insert(path);
        }
    }
    let at_ref = layout.files_at(&repository, &commit)?;
    let merge_base = repository.merge_base("HEAD", &commit);
    let at_base = match &merge_base {
        Some(base) => Some(layout.files_at(&repository, base)?),
        None => None,
    };

    // Decide each path, collecting the blobs whose bytes the decision or the lint needs.
    let mut wanted: Vec<String> = Vec::new();
    let deleted_at_ref: Vec<(&String, &String)> = match &at_base {
        Some(base) => working
            .keys()
            .filter(|path| !at_ref.contains_key(*path))
            .filter_map(|path| base.get(path).map(|blob| (path, blob)))
            .collect(),
        None => Vec::new(),
    };
    wanted.extend(deleted_at_ref.iter().map(|(_, blob)| (*blob).clone()));
    let ref_only: Vec<(&String, &String)> = at_ref
        .iter()
        .filter(|(path, _)| !working.contains_key(*path))
        .filter(|(path, blob)| match &at_base {
            // Unchanged since the merge base and gone here: this branch deleted or renamed it.
            Some(base) => base.get(*path) != Some(*blob),
            None => true,
        })
        .collect();
    wanted.extend(ref_only.iter().map(|(_, blob)| (*blob).clone()));
    wanted.sort();
    wanted.dedup();
    let blobs = repository.read_blobs(&wanted)?;

    // A working tree file the ref deleted, and which this branch left as the merge base had
    // it, is gone after the merge.
    let mut dropped: HashSet<&String> = HashSet::new();
    for (path, blob) in &deleted_at_ref {
        let unchanged = std::fs::read(&working[*path])
            .is_ok_and(|bytes| blobs.get(*blob).is_some_and(|b| *b == bytes));
        if unchanged {
            dropped.insert(*path);
        }
    }

    // Without a merge base, a ref-only file with the bytes of a working tree file is the same
    // revision under a new name (a rename on this branch), not a second definition of it.
    let renamed_here: HashSet<&String> = if at_base.is_none() && !ref_only.is_empty() {
        let mut by_content: HashSet<Vec<u8>> = HashSet::new();
        for path in working.values() {
            if let Ok(bytes) = std::fs::read(path) {
                by_content.insert(bytes);
            }
        }
        ref_only
            .iter()
            .filter(|(_, blob)| blobs.get(*blob).is_some_and(|b| by_content.contains(b)))
            .map(|(path, _)| *path)
            .collect()
    } else {
        HashSet::new()
    };

    let mut entries: Vec<(String, RevisionInput, Side)> = Vec::new();
    for (relative, path) in &working {
        if dropped.contains(relative) {
            continue;
        }
        let side = if at_ref.contains_key(relative) {
            Side::Both
        } else {
            Side::Branch
        };
        entries.push((relative.clone(), RevisionInput::Disk(path.clone()), side));
    }
    for (relative, blob) in ref_only {
        if renamed_here.contains(relative) {
            continue;
        }
        let bytes = blobs.get(blob).cloned().unwrap_or_default();
        let display = format!("{reference}:{relative}");
        entries.push((
            relative.clone(),
            RevisionInput::Bytes {
                path: PathBuf::from(&display),
                display,
                bytes,
            },
            Side::Ref,
        ));
    }
    // The order of the files as if they were all in the working tree.
    entries.sort_by(|a, b| compare_repository_paths(&a.0, &b.0));

    let first_id = sources.len();
    let sides: HashMap<FileId, Side> = entries
        .iter()
        .enumerate()
        .map(|(index, (_, _, side))| {
            let id = u32::try_from(first_id + index).expect("fewer than 2^32 files");
            (FileId(id), *side)
        })
        .collect();
    let inputs = entries.into_iter().map(|(_, input, _)| input).collect();
    let loaded = alembic::load_inputs(inputs, sources, options);
    let after_merge = AfterMerge {
        reference: reference.to_owned(),
        commit,
        merge_base,
        sides,
    };
    Ok((loaded, after_merge))
}

/// Path order with `/` before every other byte, as `revision_files` sorts paths.
fn compare_repository_paths(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |byte: &u8| {
        if *byte == b'/' {
            0
        } else {
            u16::from(*byte) + 1
        }
    };
    a.as_bytes()
        .iter()
        .map(key)
        .cmp(b.as_bytes().iter().map(key))
}

/// The project's version directories as paths from the repository root.
struct Layout {
    /// Each version directory as found on disk, and as a path from the repository root.
    dirs: Vec<(PathBuf, String)>,
    recursive: bool,
}

impl Layout {
    fn new(repository: &Repository, project: &Project) -> Result<Layout, git::Error> {
        let mut dirs = Vec::with_capacity(project.version_dirs.len());
        for dir in &project.version_dirs {
            dirs.push((dir.clone(), repository.relative_path(dir)?));
        }
        Ok(Layout {
            dirs,
            recursive: project.recursive,
        })
    }

    /// A working tree revision file's path from the repository root.
    fn working_tree_path(&self, path: &Path) -> Option<String> {
        self.dirs.iter().find_map(|(dir, relative_dir)| {
            let rest = path.strip_prefix(dir).ok()?;
            let rest: Vec<String> = rest
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            Some(join(relative_dir, &rest.join("/")))
        })
    }

    /// The revision files of `commit` in the version directories, by path from the root,
    /// chosen as `revision_files` chooses them on disk.
    fn files_at(
        &self,
        repository: &Repository,
        commit: &str,
    ) -> Result<BTreeMap<String, String>, git::Error> {
        let relative_dirs: Vec<String> = self.dirs.iter().map(|(_, r)| r.clone()).collect();
        let listed = repository.list_files(commit, &relative_dirs)?;
        let mut files = BTreeMap::new();
        for TreeFile { path, blob } in listed {
            if self.is_revision_file(&path) {
                files.insert(path, blob);
            }
        }
        Ok(files)
    }

    fn is_revision_file(&self, path: &str) -> bool {
        self.dirs.iter().any(|(_, dir)| {
            let rest = if dir.is_empty() {
                Some(path)
            } else {
                path.strip_prefix(dir.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
            };
            let Some(rest) = rest else {
                return false;
            };
            let mut parts: Vec<&str> = rest.split('/').collect();
            let Some(name) = parts.pop() else {
                return false;
            };
            (self.recursive || parts.is_empty())
                && !parts.iter().any(|part| is_skipped_name(part))
                && is_revision_file_name(name)
        })
    }
}

fn join(dir: &str, rest: &str) -> String {
    if dir.is_empty() {
        rest.to_owned()
    } else {
        format!("{dir}/{rest}")
    }
}

/// Adds what the merge explains to the findings of a run with `--against`: in each
/// `multiple-heads` finding, which side of the merge brought each head and how to bring them
/// together; in it and in each `duplicate-revision` finding, the primary location moves to this
/// branch's file where it pointed at a file only the ref has, so that annotations land on the
/// files the branch changes.
pub fn explain_after_merge(
    merged: &AfterMerge,
    revisions: &[Revision],
    graph: &RevisionGraph,
    findings: &mut [Finding],
) {
    for finding in findings.iter_mut() {
        match finding.rule {
            Rule::MultipleHeads => explain_heads(merged, revisions, graph, finding),
            Rule::DuplicateRevision => {
                // The labels say "defined here again" and "first defined here": the branch's
                // copy is the newcomer, so it takes the first label.
                prefer_branch_location(merged, finding, |_| None);
            }
            _ => {}
        }
    }
}

fn explain_heads(
    merged: &AfterMerge,
    revisions: &[Revision],
    graph: &RevisionGraph,
    finding: &mut Finding,
) {
    let reference = &merged.reference;
    let head_span = |h: usize| {
        let rev = &revisions[h];
        rev.down_span.clone().unwrap_or_else(|| rev.id_span.clone())
    };
    // The heads the finding names are those its labels point at (each head is labelled at its
    // `down_revision` line, or at its `revision` line when it has none).
    let labelled: Vec<&Span> = finding
        .primary
        .iter()
        .chain(&finding.related)
        .map(|label| &label.span)
        .collect();
    let heads: Vec<usize> = graph
        .heads
        .iter()
        .copied()
        .filter(|&h| labelled.contains(&&head_span(h)))
        .collect();
    if heads.is_empty() {
        return;
    }
    let side_of = |h: usize| merged.side_of(revisions[h].file);
    let described: Vec<String> = heads
        .iter()
        .map(|&h| {
            let whence = match side_of(h) {
                Some(Side::Ref) => format!("from {reference}"),
                Some(Side::Branch) => "from this branch".to_owned(),
                Some(Side::Both) | None => format!("on both this branch and {reference}"),
            };
            format!("{} {whence}", revisions[h].id)
        })
        .collect();
    finding.message.push_str(&format!(
        "; after merging {reference}: {}",
        described.join(", ")
    ));
    let ours: Vec<usize> = heads
        .iter()
        .copied()
        .filter(|&h| side_of(h) == Some(Side::Branch))
        .collect();
    let theirs: Vec<usize> = heads
        .iter()
        .copied()
        .filter(|&h| side_of(h) == Some(Side::Ref))
        .collect();
    if ours.is_empty() || theirs.is_empty() {
        return;
    }
    finding.message.push_str(&format!(
        " (the extra head appears only once this branch and {reference} are merged)"
    ));
    let mut help = format!("bring {reference} into this branch (`git merge {reference}`)");
    if let Some(original) = &finding.help {
        help.push_str(", then ");
        help.push_str(original);
    }
    if let ([ours], [theirs]) = (ours.as_slice(), theirs.as_slice()) {
        help.push_str(&format!(
            "; or, while {} is not applied to any database, keep the history linear instead: \
             set its down_revision to '{}', the head {reference} brings",
            revisions[*ours].id, revisions[*theirs].id
        ));
    }
    finding.help = Some(help);
    let head_at = |span: &Span| heads.iter().copied().find(|&h| head_span(h) == *span);
    prefer_branch_location(merged, finding, |span| {
        head_at(span).map(|h| revisions[h].id.clone())
    });
    if let Some(primary) = &mut finding.primary
        && let Some(h) = head_at(&primary.span)
    {
        primary.text = format!("head {} (one of {})", revisions[h].id, heads.len());
    }
    for label in &mut finding.related {
        if let Some(h) = head_at(&label.span) {
            label.text = format!("head {}", revisions[h].id);
        }
    }
}

/// Where the primary label points into a file only the ref has, swaps its place with the first
/// related label in a file of this branch. `revision_at` names the revision at a place, for the
/// finding's `revision`.
fn prefer_branch_location(
    merged: &AfterMerge,
    finding: &mut Finding,
    revision_at: impl Fn(&Span) -> Option<String>,
) {
    let Some(primary) = &mut finding.primary else {
        return;
    };
    if merged.side_of(primary.span.file) != Some(Side::Ref) {
        return;
    }
    let Some(ours) = finding
        .related
        .iter_mut()
        .find(|label| merged.side_of(label.span.file) == Some(Side::Branch))
    else {
        return;
    };
    std::mem::swap(&mut primary.span, &mut ours.span);
    if let Some(revision) = revision_at(&primary.span) {
        finding.revision = Some(revision);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths_sort_like_revision_files() {
        let mut paths = vec!["v/ab.py", "v/a/z.py", "v/a.py", "v/a-b/c.py"];
        paths.sort_by(|a, b| compare_repository_paths(a, b));
        assert_eq!(paths, ["v/a/z.py", "v/a-b/c.py", "v/a.py", "v/ab.py"]);
    }

    #[test]
    fn only_revision_files_in_the_version_directories_count() {
        let layout = Layout {
            dirs: vec![(PathBuf::from("/r/m/versions"), "m/versions".to_owned())],
            recursive: true,
        };
        assert!(layout.is_revision_file("m/versions/1_a.py"));
        assert!(layout.is_revision_file("m/versions/2024/expand/1_a.py"));
        assert!(!layout.is_revision_file("m/versions/__init__.py"));
        assert!(!layout.is_revision_file("m/versions/__pycache__/1_a.py"));
        assert!(!layout.is_revision_file("m/versions/.hidden/1_a.py"));
        assert!(!layout.is_revision_file("m/versions/notes.txt"));
        assert!(!layout.is_revision_file("m/versionsx/1_a.py"));
        assert!(!layout.is_revision_file("m/env.py"));
        let flat = Layout {
            recursive: false,
            ..layout
        };
        assert!(flat.is_revision_file("m/versions/1_a.py"));
        assert!(!flat.is_revision_file("m/versions/2024/1_a.py"));
    }
}
