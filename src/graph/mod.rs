//! The revision graph: revisions as nodes, `down_revision` and `depends_on` as edges (kept
//! distinct), with heads, bases, branch points, merge points, missing parents, duplicate ids and
//! cycles computed once.
//!
//! Semantics follow Alembic's `RevisionMap`: a head is a revision that no other revision names
//! as a `down_revision` (a `depends_on` does not stop a revision from being a head, as
//! `alembic heads` without `--resolve-dependencies` shows); a base has no `down_revision`.
//!
//! Invariant: no I/O, and never a panic on bad input. A duplicate id keeps its first file as the
//! node and records the others; a missing parent is recorded, not turned into a node.

use std::collections::HashSet;

use petgraph::Direction;
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use rustc_hash::FxHashMap;

use crate::alembic::Revision;

/// Why one revision points at another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// `down_revision`: the child follows the parent in the version history.
    Down,
    /// `depends_on`: the child needs the parent applied first, on another branch.
    DependsOn,
}

/// A reference to a revision no file defines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingRef {
    /// Index into the revisions slice of the revision holding the reference.
    pub child: usize,
    pub missing: String,
    pub kind: EdgeKind,
}

/// The revision graph over a slice of revisions; node weights are indices into that slice.
#[derive(Debug)]
pub struct RevisionGraph {
    /// Edges point from parent to child (from older to newer), as history flows.
    pub dag: DiGraph<usize, EdgeKind>,
    node_of: Vec<Option<NodeIndex>>,
    by_id: FxHashMap<String, NodeIndex>,
    /// Revision ids defined by more than one file, each with every defining revision's index
    /// (the first is the one in the graph).
    pub duplicates: Vec<(String, Vec<usize>)>,
    pub missing: Vec<MissingRef>,
    /// Each cycle's revisions (indices into the slice), as strongly connected components.
    pub cycles: Vec<Vec<usize>>,
    /// Revisions that no other revision names as `down_revision`, in file order.
    pub heads: Vec<usize>,
    /// Revisions without a `down_revision`, in file order.
    pub bases: Vec<usize>,
}

impl RevisionGraph {
    pub fn build(revisions: &[Revision]) -> Self {
        let mut dag = DiGraph::with_capacity(revisions.len(), revisions.len());
        let mut node_of = vec![None; revisions.len()];
        let mut by_id: FxHashMap<String, NodeIndex> =
            FxHashMap::with_capacity_and_hasher(revisions.len(), Default::default());
        let mut dup_map: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        for (i, rev) in revisions.iter().enumerate() {
            match by_id.get(&rev.id) {
                Some(&first) => dup_map
                    .entry(rev.id.as_str())
                    .or_insert_with(|| vec![dag[first]])
                    .push(i),
                None => {
                    let n = dag.add_node(i);
                    node_of[i] = Some(n);
                    by_id.insert(rev.id.clone(), n);
                }
            }
        }
        let mut duplicates: Vec<(String, Vec<usize>)> = dup_map
            .into_iter()
            .map(|(id, v)| (id.to_owned(), v))
            .collect();
        duplicates.sort_by_key(|(_, v)| v[0]);

        let mut missing = Vec::new();
        for (i, rev) in revisions.iter().enumerate() {
            let Some(child) = node_of[i] else { continue };
            let refs = rev
                .down_revisions
                .iter()
                .map(|p| (p, EdgeKind::Down))
                .chain(rev.depends_on.iter().map(|p| (p, EdgeKind::DependsOn)));
            let mut seen = HashSet::new();
            for (parent, kind) in refs {
                if !seen.insert((parent.as_str(), kind)) {
                    continue;
                }
                // Alembic lets `depends_on` name a branch label as well as a revision.
                let target = by_id.get(parent).copied().or_else(|| {
                    (kind == EdgeKind::DependsOn)
                        .then(|| label_tip(revisions, &by_id, parent))
                        .flatten()
                });
                match target {
                    Some(p) => {
                        dag.add_edge(p, child, kind);
                    }
                    None => missing.push(MissingRef {
                        child: i,
                        missing: parent.clone(),
                        kind,
                    }),
                }
            }
        }

        // Kosaraju, not Tarjan: petgraph's Tarjan recurses once per revision and overflows the
        // stack on a long history; Kosaraju walks with explicit stacks.
        let cycles: Vec<Vec<usize>> = kosaraju_scc(&dag)
            .into_iter()
            .filter(|scc| scc.len() > 1 || scc.iter().any(|&n| dag.contains_edge(n, n)))
            .map(|scc| {
                let mut v: Vec<usize> = scc.into_iter().map(|n| dag[n]).collect();
                v.sort_unstable();
                v
            })
            .collect();

        let mut heads = Vec::new();
        let mut bases = Vec::new();
        for (i, rev) in revisions.iter().enumerate() {
            let Some(n) = node_of[i] else { continue };
            let has_down_child = dag
                .edges_directed(n, Direction::Outgoing)
                .any(|e| *e.weight() == EdgeKind::Down);
            if !has_down_child {
                heads.push(i);
            }
            if rev.down_revisions.is_empty() {
                bases.push(i);
            }
        }

        RevisionGraph {
            dag,
            node_of,
            by_id,
            duplicates,
            missing,
            cycles,
            heads,
            bases,
        }
    }

    /// The index of the revision with this id (the first file, for a duplicate).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).map(|&n| self.dag[n])
    }

    /// The revisions naming `index` as their `down_revision` (or, with `EdgeKind::DependsOn`,
    /// in `depends_on`).
    pub fn children(&self, index: usize, kind: EdgeKind) -> Vec<usize> {
        self.neighbors(index, kind, Direction::Outgoing)
    }

    /// The revisions that `index` names in `down_revision` (or `depends_on`) and that exist.
    pub fn parents(&self, index: usize, kind: EdgeKind) -> Vec<usize> {
        self.neighbors(index, kind, Direction::Incoming)
    }

    fn neighbors(&self, index: usize, kind: EdgeKind, dir: Direction) -> Vec<usize> {
        let Some(n) = self.node_of.get(index).copied().flatten() else {
            return Vec::new();
        };
        let mut v: Vec<usize> = self
            .dag
            .edges_directed(n, dir)
            .filter(|e| *e.weight() == kind)
            .map(|e| {
                let other = if dir == Direction::Outgoing {
                    e.target()
                } else {
                    e.source()
                };
                self.dag[other]
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// Every ancestor of `index` through both kinds of edge, `index` included.
    pub fn ancestors(&self, index: usize) -> HashSet<usize> {
        let mut seen = HashSet::new();
        let Some(start) = self.node_of.get(index).copied().flatten() else {
            return seen;
        };
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            if seen.insert(self.dag[n]) {
                stack.extend(self.dag.neighbors_directed(n, Direction::Incoming));
            }
        }
        seen
    }

    /// Every ancestor of `index` through `down_revision` edges only, `index` included: its
    /// version history, without the branches it merely depends on.
    pub fn down_ancestors(&self, index: usize) -> HashSet<usize> {
        let mut seen = HashSet::new();
        let mut stack = vec![index];
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                stack.extend(self.parents(i, EdgeKind::Down));
            }
        }
        seen
    }

    /// The revision where the histories of two heads split: the newest common ancestor through
    /// `down_revision` edges. `None` when they share no ancestor (two bases).
    pub fn split_point(&self, a: usize, b: usize) -> Option<usize> {
        let of_a = self.down_ancestors(a);
        let of_b = self.down_ancestors(b);
        // The common ancestor latest in topological order has no common ancestor among its
        // descendants (they all come later), so it is one where the histories split. One pass,
        // where comparing every pair of common ancestors would be cubic on a long history.
        let position = self.topological_positions();
        of_a.intersection(&of_b)
            .copied()
            .max_by_key(|&c| (position[c], std::cmp::Reverse(c)))
    }

    /// Each revision's place in [`Self::topological_order`], indexed by revision.
    fn topological_positions(&self) -> Vec<usize> {
        let order = self.topological_order();
        let mut position = vec![usize::MAX; self.node_of.len()];
        for (place, &revision) in order.iter().enumerate() {
            position[revision] = place;
        }
        position
    }

    /// Revisions in an order where every parent comes before its children; revisions on a
    /// cycle come last, in file order. Ties are broken by file order, so the order is stable.
    pub fn topological_order(&self) -> Vec<usize> {
        let n = self.dag.node_count();
        let mut indegree: Vec<usize> = self
            .dag
            .node_indices()
            .map(|x| self.dag.edges_directed(x, Direction::Incoming).count())
            .collect();
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<(usize, NodeIndex)>> = self
            .dag
            .node_indices()
            .filter(|&x| indegree[x.index()] == 0)
            .map(|x| std::cmp::Reverse((self.dag[x], x)))
            .collect();
        let mut order = Vec::with_capacity(n);
        let mut placed = vec![false; n];
        while let Some(std::cmp::Reverse((rev, x))) = ready.pop() {
            order.push(rev);
            placed[x.index()] = true;
            for child in self.dag.neighbors_directed(x, Direction::Outgoing) {
                indegree[child.index()] -= 1;
                if indegree[child.index()] == 0 {
                    ready.push(std::cmp::Reverse((self.dag[child], child)));
                }
            }
        }
        let mut rest: Vec<usize> = self
            .dag
            .node_indices()
            .filter(|x| !placed[x.index()])
            .map(|x| self.dag[x])
            .collect();
        rest.sort_unstable();
        order.extend(rest);
        order
    }
}

/// Why a revision name given on the command line names no revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    Unknown(String),
    Ambiguous(String, Vec<String>),
}

impl RevisionGraph {
    /// The revisions a user's revision argument names, as Alembic reads it: `head`/`heads`,
    /// `base` (none), a full id, a unique id prefix, a branch label or `<label>@head` (the head
    /// carrying that label).
    pub fn resolve(&self, revisions: &[Revision], name: &str) -> Result<Vec<usize>, ResolveError> {
        match name {
            "head" | "heads" => return Ok(self.heads.clone()),
            "base" => return Ok(Vec::new()),
            _ => {}
        }
        if let Some(i) = self.index_of(name) {
            return Ok(vec![i]);
        }
        let label = name.strip_suffix("@head").unwrap_or(name);
        let labelled: Vec<usize> = self
            .heads
            .iter()
            .copied()
            .filter(|&h| {
                self.down_ancestors(h)
                    .iter()
                    .any(|&a| revisions[a].branch_labels.iter().any(|l| l == label))
            })
            .collect();
        if !labelled.is_empty() {
            return Ok(labelled);
        }
        let prefixed: Vec<usize> = (0..revisions.len())
            .filter(|&i| self.index_of(&revisions[i].id) == Some(i))
            .filter(|&i| revisions[i].id.starts_with(name))
            .collect();
        match prefixed.as_slice() {
            [one] => Ok(vec![*one]),
            [] => Err(ResolveError::Unknown(name.to_owned())),
            many => Err(ResolveError::Ambiguous(
                name.to_owned(),
                many.iter().map(|&i| revisions[i].id.clone()).collect(),
            )),
        }
    }
}

/// The revision a branch label resolves to for `depends_on`: the one carrying the label.
fn label_tip(
    revisions: &[Revision],
    by_id: &FxHashMap<String, NodeIndex>,
    label: &str,
) -> Option<NodeIndex> {
    revisions
        .iter()
        .find(|r| r.branch_labels.iter().any(|l| l == label))
        .and_then(|r| by_id.get(&r.id).copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{Spec, project};

    #[test]
    fn a_long_history_builds_without_deep_recursion() {
        // Run on a thread with a small stack: a recursive walk over 20,000 revisions would
        // overflow it.
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let ids: Vec<String> = (0..20_000).map(|i| format!("r{i}")).collect();
                let downs: Vec<[&str; 1]> = ids.iter().map(|id| [id.as_str()]).collect();
                let specs: Vec<Spec<'_>> = ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| {
                        crate::rules::test_support::rev(
                            id,
                            if i == 0 { &[] } else { &downs[i - 1] },
                        )
                    })
                    .collect();
                let (_, revisions) = project(&specs);
                let graph = RevisionGraph::build(&revisions);
                assert_eq!(graph.heads, vec![19_999]);
                assert!(graph.cycles.is_empty());
                assert_eq!(graph.topological_order().len(), 20_000);
                assert_eq!(graph.split_point(19_999, 10_000), Some(10_000));
            })
            .expect("thread starts")
            .join()
            .expect("no stack overflow");
    }
}
