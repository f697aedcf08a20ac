//! `--against <ref>`: the workspace as it will be after merging a git ref, and what the report
//! adds for it (which side of the merge brought each head).

use std::path::Path;

use super::{Failure, Workspace};
use crate::against;
use crate::alembic::{LoadOptions, discover};
use crate::graph::RevisionGraph;
use crate::source::Sources;

/// Loads the revision files at `reference` with the working tree's laid over them.
pub(super) fn load_workspace_after_merge(
    cwd: &Path,
    migrations: Option<&Path>,
    reference: &str,
    options: LoadOptions,
) -> Result<Workspace, Failure> {
    let project = discover(cwd, migrations)?;
    super::warn_outside_links(&crate::alembic::links_outside_project(&project));
    let mut sources = Sources::new();
    let (loaded, after_merge) =
        against::load_after_merge(&project, cwd, reference, &mut sources, options)?;
    if after_merge.merge_base.is_none() {
        // Said on standard error so that JSON, SARIF and annotations stay clean.
        eprintln!(
            "driftlint: git sees no common history of HEAD and {reference} (a shallow clone?); \
             revision files found only at {reference} are taken as added there, so a file this \
             branch deleted is linted too. Fetch more history (`git fetch --deepen=100`, or \
             `fetch-depth: 0` in actions/checkout) for an exact merge."
        );
    }
    let graph = RevisionGraph::build(&loaded.revisions);
    Ok(Workspace {
        sources,
        project,
        revisions: loaded.revisions,
        input_findings: loaded.findings,
        graph,
        expectations: None,
        after_merge: Some(after_merge),
    })
}
