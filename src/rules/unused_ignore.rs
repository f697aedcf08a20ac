//! Inline ignores in revision files, and `unused-ignore`: an ignore that matches nothing.
//!
//! ```python
//! # driftlint: ignore-file[unmodeled-operation] -- tables come from the plugin registry
//!
//! def upgrade():
//!     for table in audited_tables():  # driftlint: ignore[unmodeled-operation] -- known tables
//!         ...
//!     # driftlint: ignore[unmodeled-operation] -- the line above the operation works too
//!     op.execute(build_sql())
//! ```
//!
//! `ignore[rule, ...]` covers the findings of those rules whose primary span is on the
//! comment's line, or, for a comment on a line of its own, on the next line of code (other
//! comment lines in between are skipped, so ignores may be stacked). `ignore-file[rule, ...]`
//! covers the whole file; it must stand on its own line before the first top-level `def` or
//! `class`. The text after `]` is the reason, for readers: `-- why`.
//!
//! Comments are taken from Python's tokens (the parser's), so a `#` inside a string is never
//! read as one. Only files that contain `driftlint:` are tokenized.
//!
//! An ignore whose rule produced no finding it covers is reported as `unused-ignore` (info),
//! so that stale ignores do not pile up, as are a rule name that no rule has and a directive
//! that cannot be read. A rule that could not have run (a live-database rule in a static check)
//! does not make its ignores unused.
//!
//! The findings are made by [`apply_inline_ignores`], which runs after every other rule; the
//! registry's [`check`] has nothing to do.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{PySourceType, Stmt};
use ruff_text_size::Ranged;

use super::{Context, Finding, FindingSource, RULES, Rule, edit_distance};
use crate::source::{FileId, Sources, Span};

/// Nothing to do here: the findings need every other rule's findings, so
/// [`apply_inline_ignores`] makes them after the rules have run.
pub fn check(_ctx: &Context<'_>, _out: &mut Vec<Finding>) {}

/// What an ignore covers.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    /// Findings whose primary span touches this 1-based line.
    Line(usize),
    File,
}

/// One rule named in one ignore comment.
#[derive(Debug)]
struct Ignore {
    scope: Scope,
    rule: Rule,
    /// The rule's name inside the brackets.
    span: Span,
    used: bool,
}

/// The ignores of one file, and the findings about ignores that could not be understood.
#[derive(Debug, Default)]
struct FileIgnores {
    ignores: Vec<Ignore>,
    problems: Vec<Finding>,
}

/// Drops the findings that inline ignores in `files` cover, and adds an `unused-ignore` finding
/// for each ignore that covered nothing (when `ran` says its rule ran) and for each ignore that
/// cannot be understood.
pub fn apply_inline_ignores(
    sources: &Sources,
    files: impl IntoIterator<Item = FileId>,
    findings: &mut Vec<Finding>,
    ran: &dyn Fn(Rule) -> bool,
) {
    let mut by_file: std::collections::HashMap<FileId, (Vec<usize>, FileIgnores)> =
        std::collections::HashMap::new();
    for file in files {
        if by_file.contains_key(&file) {
            continue;
        }
        let text = &sources.get(file).text;
        if !text.contains("driftlint:") {
            continue;
        }
        let lines = line_starts(text);
        let ignores = read_ignores(file, text, &lines);
        by_file.insert(file, (lines, ignores));
    }
    if by_file.is_empty() {
        return;
    }
    findings.retain(|finding| {
        let Some(label) = &finding.primary else {
            return true;
        };
        let Some((lines, ignores)) = by_file.get_mut(&label.span.file) else {
            return true;
        };
        let first = line_of(lines, label.span.range.start as usize);
        let last = line_of(
            lines,
            (label.span.range.end as usize)
                .saturating_sub(1)
                .max(label.span.range.start as usize),
        );
        let mut covered = false;
        for ignore in &mut ignores.ignores {
            let applies = ignore.rule == finding.rule
                && match ignore.scope {
                    Scope::File => true,
                    Scope::Line(line) => (first..=last).contains(&line),
                };
            if applies {
                // Every matching ignore counts as used, so that two covering one finding are
                // not reported as stale.
                ignore.used = true;
                covered = true;
            }
        }
        !covered
    });
    let mut files: Vec<_> = by_file.into_iter().collect();
    files.sort_by_key(|(file, _)| *file);
    for (_, (_, ignores)) in files {
        findings.extend(ignores.problems);
        for ignore in ignores.ignores {
            if ignore.used || !ran(ignore.rule) {
                continue;
            }
            let where_ = match ignore.scope {
                Scope::Line(line) => format!("on line {line}"),
                Scope::File => "for the whole file".to_owned(),
            };
            findings.push(
                Finding::new(
                    Rule::UnusedIgnore,
                    FindingSource::Migrations,
                    format!(
                        "the ignore of {} {where_} matches no finding",
                        ignore.rule.name()
                    ),
                )
                .at(ignore.span, "nothing to ignore")
                .help(format!(
                    "delete `{}` from the comment (or the whole comment): no {} finding is \
                     there any more",
                    ignore.rule.name(),
                    ignore.rule.name()
                )),
            );
        }
    }
}

/// Byte offsets where lines start.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The 1-based line holding byte `offset`.
fn line_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&start| start <= offset)
}

fn read_ignores(file: FileId, text: &str, lines: &[usize]) -> FileIgnores {
    let parsed = ruff_python_parser::parse_unchecked_source(text, PySourceType::Python);
    let top_of_file_ends = parsed
        .syntax()
        .body
        .iter()
        .find(|stmt| matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)))
        .map_or(text.len(), |stmt| stmt.start().to_usize());
    // Lines that hold only a comment, to find the line of code an ignore above refers to.
    let comments: Vec<(usize, usize)> = parsed
        .tokens()
        .iter()
        .filter(|token| token.kind() == TokenKind::Comment)
        .map(|token| (token.start().to_usize(), token.end().to_usize()))
        .collect();
    let comment_only_lines: std::collections::HashSet<usize> = comments
        .iter()
        .filter(|(start, _)| is_alone_on_its_line(text, *start))
        .map(|(start, _)| line_of(lines, *start))
        .collect();
    let mut out = FileIgnores::default();
    for &(start, end) in &comments {
        let comment = &text[start..end];
        let Some(offset) = directive_offset(comment) else {
            continue;
        };
        let directive_start = start + offset;
        let line = line_of(lines, start);
        let alone = is_alone_on_its_line(text, start);
        let span_of = |range: std::ops::Range<usize>| {
            Span::new(
                file,
                u32::try_from(range.start).unwrap_or(u32::MAX)
                    ..u32::try_from(range.end).unwrap_or(u32::MAX),
            )
        };
        let directive = &text[directive_start..end];
        let problem = |message: String, help: &str| {
            Finding::new(Rule::UnusedIgnore, FindingSource::Migrations, message)
                .at(span_of(directive_start..end), "not understood")
                .help(help.to_owned())
        };
        let Some(parsed_directive) = parse_directive(directive) else {
            out.problems.push(problem(
                format!("`{}` is not a driftlint ignore", directive.trim_end()),
                "write `# driftlint: ignore[rule-name] -- reason` on the line (or the line \
                 above), or `# driftlint: ignore-file[rule-name] -- reason` at the top of the \
                 file",
            ));
            continue;
        };
        let scope = if parsed_directive.whole_file {
            if !alone || start > top_of_file_ends {
                out.problems.push(problem(
                    "`ignore-file` must stand on its own line at the top of the file, before \
                     the first `def` or `class`"
                        .to_owned(),
                    "move the comment up, next to the revision identifiers",
                ));
                continue;
            }
            Scope::File
        } else if alone {
            // The next line that is not itself a comment line.
            let mut target = line + 1;
            while comment_only_lines.contains(&target) {
                target += 1;
            }
            Scope::Line(target)
        } else {
            Scope::Line(line)
        };
        if parsed_directive.rules.is_empty() {
            out.problems.push(problem(
                "the ignore names no rule".to_owned(),
                "name the rules in the brackets: `# driftlint: ignore[unmodeled-operation] -- \
                 reason`; `driftlint explain --list` lists them",
            ));
            continue;
        }
        for (name, range) in parsed_directive.rules {
            let absolute = directive_start + range.start..directive_start + range.end;
            match Rule::from_name(name) {
                Some(rule) => out.ignores.push(Ignore {
                    scope: scope.clone(),
                    rule,
                    span: span_of(absolute),
                    used: false,
                }),
                None => {
                    let closest = RULES
                        .iter()
                        .map(|r| (edit_distance(r.name, name), r.name))
                        .min()
                        .filter(|(distance, _)| *distance <= 4);
                    let help = match closest {
                        Some((_, near)) => format!(
                            "did you mean `{near}`? `driftlint explain --list` lists every rule"
                        ),
                        None => "`driftlint explain --list` lists every rule".to_owned(),
                    };
                    out.problems.push(
                        Finding::new(
                            Rule::UnusedIgnore,
                            FindingSource::Migrations,
                            format!("the ignore names `{name}`, which is not a driftlint rule"),
                        )
                        .at(span_of(absolute), "no rule has this name")
                        .help(help),
                    );
                }
            }
        }
    }
    // A deep tree (a long operator chain) would overflow the stack in recursive drop glue.
    crate::alembic::deep::dismantle(parsed.into_syntax());
    out
}

/// Whether only blanks precede byte `offset` on its line.
fn is_alone_on_its_line(text: &str, offset: usize) -> bool {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..offset].trim().is_empty()
}

/// Where `driftlint:` starts in a comment (`# driftlint: …`, also after another tool's
/// directive: `# noqa: E501  # driftlint: …`).
fn directive_offset(comment: &str) -> Option<usize> {
    comment.match_indices('#').find_map(|(hash, _)| {
        let after = &comment[hash + 1..];
        let trimmed = after.trim_start();
        trimmed
            .starts_with("driftlint:")
            .then(|| hash + 1 + (after.len() - trimmed.len()))
    })
}

/// An ignore directive as written: whether it is `ignore-file`, and each rule name with its
/// byte range in the directive.
struct Directive<'a> {
    whole_file: bool,
    rules: Vec<(&'a str, std::ops::Range<usize>)>,
}

/// Reads `driftlint: ignore[a, b] -- reason` or `driftlint: ignore-file[a] reason`.
fn parse_directive(directive: &str) -> Option<Directive<'_>> {
    let rest = directive.strip_prefix("driftlint:")?;
    let body_start = directive.len() - rest.trim_start().len();
    let rest = &directive[body_start..];
    let (whole_file, after_keyword) = if let Some(r) = rest.strip_prefix("ignore-file") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("ignore") {
        (false, r)
    } else {
        return None;
    };
    let list = after_keyword.strip_prefix('[')?;
    let close = list.find(']')?;
    let list_start = directive.len() - list.len();
    let mut rules = Vec::new();
    let mut position = list_start;
    for part in list[..close].split(',') {
        let leading = part.len() - part.trim_start().len();
        let name = part.trim();
        if !name.is_empty() {
            let start = position + leading;
            rules.push((name, start..start + name.len()));
        }
        position += part.len() + 1;
    }
    Some(Directive { whole_file, rules })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Findings of `rule` at the first occurrence of each marker in `text`.
    fn finding_at(sources: &Sources, file: FileId, rule: Rule, marker: &str) -> Finding {
        let text = &sources.get(file).text;
        let start = text.find(marker).expect("marker in text");
        Finding::new(
            rule,
            FindingSource::Migrations,
            format!("{rule} at {marker}"),
        )
        .at(
            Span::new(file, start as u32..(start + marker.len()) as u32),
            "here",
        )
    }

    fn run(text: &str, markers: &[(Rule, &str)]) -> Vec<String> {
        let mut sources = Sources::new();
        let file = sources.add("versions/1_a.py".into(), Arc::from(text));
        let mut findings: Vec<Finding> = markers
            .iter()
            .map(|(rule, marker)| finding_at(&sources, file, *rule, marker))
            .collect();
        apply_inline_ignores(&sources, [file], &mut findings, &|_| true);
        findings
            .iter()
            .map(|f| {
                let line = f
                    .primary
                    .as_ref()
                    .map(|l| sources.line_col(file, l.span.range.start).line);
                format!("{} {:?}: {}", f.rule, line, f.message)
            })
            .collect()
    }

    const HEADER: &str = "\"\"\"add things\"\"\"\nfrom alembic import op\n\nrevision = \"a1\"\ndown_revision = None\n\n";

    #[test]
    fn an_ignore_on_the_line_or_above_drops_the_finding() {
        let text = format!(
            "{HEADER}def upgrade():\n    op.execute(sql_one())  # driftlint: ignore[unmodeled-operation] -- known\n    # driftlint: ignore[unmodeled-operation] -- above\n    # another comment\n    op.execute(sql_two())\n    op.execute(sql_three())\n"
        );
        let left = run(
            &text,
            &[
                (Rule::UnmodeledOperation, "op.execute(sql_one"),
                (Rule::UnmodeledOperation, "op.execute(sql_two"),
                (Rule::UnmodeledOperation, "op.execute(sql_three"),
            ],
        );
        assert_eq!(
            left,
            ["unmodeled-operation Some(12): unmodeled-operation at op.execute(sql_three"]
        );
    }

    #[test]
    fn an_ignore_for_another_rule_does_not_drop_the_finding_and_is_unused() {
        let text = format!(
            "{HEADER}def upgrade():\n    op.execute(x())  # driftlint: ignore[missing-table]\n"
        );
        let left = run(&text, &[(Rule::UnmodeledOperation, "op.execute")]);
        assert_eq!(
            left,
            [
                "unmodeled-operation Some(8): unmodeled-operation at op.execute",
                "unused-ignore Some(8): the ignore of missing-table on line 8 matches no finding",
            ]
        );
    }

    #[test]
    fn a_stale_ignore_is_reported_and_one_for_a_rule_that_did_not_run_is_not() {
        let text = format!(
            "{HEADER}def upgrade():\n    # driftlint: ignore[unmodeled-operation, missing-table] -- was a loop\n    op.add_column(\"t\", c)\n"
        );
        let mut sources = Sources::new();
        let file = sources.add("versions/1_a.py".into(), Arc::from(text.as_str()));
        let mut findings = Vec::new();
        // As if missing-table were a rule of the live check, run without a database.
        let ran = |rule: Rule| rule != Rule::MissingTable;
        apply_inline_ignores(&sources, [file], &mut findings, &ran);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].rule, Rule::UnusedIgnore);
        assert_eq!(
            findings[0].message,
            "the ignore of unmodeled-operation on line 9 matches no finding"
        );
        let span = &findings[0].primary.as_ref().unwrap().span;
        assert_eq!(
            &text[span.range.start as usize..span.range.end as usize],
            "unmodeled-operation"
        );
    }

    #[test]
    fn ignore_file_covers_the_file_and_must_be_at_the_top() {
        let text = format!(
            "# driftlint: ignore-file[unmodeled-operation] -- generated tables\n{HEADER}def upgrade():\n    op.execute(a())\n    op.execute(b())\n"
        );
        let left = run(
            &text,
            &[
                (Rule::UnmodeledOperation, "op.execute(a"),
                (Rule::UnmodeledOperation, "op.execute(b"),
            ],
        );
        assert!(left.is_empty(), "{left:?}");

        let late = format!(
            "{HEADER}def upgrade():\n    pass\n\n# driftlint: ignore-file[unmodeled-operation]\n"
        );
        let left = run(&late, &[]);
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(
            left[0].contains("must stand on its own line at the top"),
            "{left:?}"
        );
    }

    #[test]
    fn a_hash_inside_a_string_is_not_a_comment() {
        let text = format!(
            "{HEADER}def upgrade():\n    op.execute(\"SELECT 1 -- # driftlint: ignore[unmodeled-operation]\")\n    op.execute('''\n# driftlint: ignore[unmodeled-operation]\n''')\n"
        );
        let left = run(
            &text,
            &[
                (Rule::UnmodeledOperation, "op.execute(\"SELECT"),
                (Rule::UnmodeledOperation, "op.execute('''"),
            ],
        );
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left.iter().all(|l| l.starts_with("unmodeled-operation")));
    }

    #[test]
    fn unknown_rules_and_unreadable_directives_are_reported() {
        let text = format!(
            "{HEADER}def upgrade():\n    op.execute(a())  # driftlint: ignore[unmodelled-operation]\n    op.execute(b())  # driftlint: ignore\n    op.execute(c())  # driftlint: ignore[]\n"
        );
        let left = run(&text, &[]);
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(
            left[0].contains("`unmodelled-operation`, which is not a driftlint rule"),
            "{left:?}"
        );
        assert!(left[1].contains("is not a driftlint ignore"), "{left:?}");
        assert!(left[2].contains("names no rule"), "{left:?}");
    }

    #[test]
    fn a_directive_after_another_tools_comment_is_read() {
        let text = format!(
            "{HEADER}def upgrade():\n    op.execute(a())  # noqa: E501  # driftlint: ignore[unmodeled-operation]\n"
        );
        assert!(run(&text, &[(Rule::UnmodeledOperation, "op.execute")]).is_empty());
    }

    #[test]
    fn a_finding_spanning_lines_is_covered_by_an_ignore_on_any_of_them() {
        let text = format!(
            "{HEADER}def upgrade():\n    op.execute(\n        build()  # driftlint: ignore[unmodeled-operation]\n    )\n"
        );
        let mut sources = Sources::new();
        let file = sources.add("versions/1_a.py".into(), Arc::from(text.as_str()));
        let start = text.find("op.execute").unwrap();
        let end = text.rfind(')').unwrap() + 1;
        let mut findings = vec![
            Finding::new(Rule::UnmodeledOperation, FindingSource::Migrations, "x")
                .at(Span::new(file, start as u32..end as u32), "here"),
        ];
        apply_inline_ignores(&sources, [file], &mut findings, &|_| true);
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn directives_are_parsed_with_rule_ranges() {
        let d = parse_directive("driftlint: ignore[a-b,  c] -- why").expect("valid");
        assert!(!d.whole_file);
        let text = "driftlint: ignore[a-b,  c] -- why";
        let names: Vec<&str> = d.rules.iter().map(|(_, r)| &text[r.clone()]).collect();
        assert_eq!(names, ["a-b", "c"]);
        assert!(
            parse_directive("driftlint: ignore-file[x]")
                .unwrap()
                .whole_file
        );
        assert!(parse_directive("driftlint: ignores[x]").is_none());
        assert!(parse_directive("driftlint: disable[x]").is_none());
    }
}
