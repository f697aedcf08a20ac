//! Phrases several rules' messages share: revisions named as `alembic history` shows them,
//! lists in words.

use super::Context;
use crate::alembic::Revision;

/// `head`, or `heads` when the graph has several.
pub(super) fn head_word(ctx: &Context<'_>) -> &'static str {
    if ctx.graph.heads.len() > 1 {
        "heads"
    } else {
        "head"
    }
}

/// `c3e5a7b9d1f2 (create analysis_results)`: the id and the message, as `alembic history`
/// shows them.
pub(super) fn revision_title(revision: &Revision) -> String {
    match &revision.message {
        Some(message) if !message.trim().is_empty() => {
            format!("{} ({})", revision.id, message.trim())
        }
        _ => revision.id.clone(),
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `revision a` or `revisions a and b`.
pub(super) fn revisions_phrase(ids: &[String]) -> String {
    if ids.len() == 1 {
        format!("revision {}", ids[0])
    } else {
        format!("revisions {}", and_list(ids))
    }
}
