//! `sequences`, `lint` (severities and ignores) and rule names.

use super::*;

impl Reader<'_> {
    pub(super) fn read_sequences(
        &self,
        node: &Node<'_>,
    ) -> Result<(ReadSequences, EntrySpans), Error> {
        let example = "sequences: all";
        let sequences = match node.value {
            Value::String(word) if word == "all" => ReadSequences::All,
            Value::String(word) if word == "none" => ReadSequences::None,
            Value::String(word) => {
                return Err(self.error(
                    ErrorKind::InvalidValue,
                    self.value_range(node),
                    format!(
                        "`sequences` must be `all`, `none` or a list of tables, found `{word}`"
                    ),
                    "not `all` or `none`",
                    "write `sequences: all`, `sequences: none` or `sequences: [users, orders]`",
                ));
            }
            Value::Sequence(_) => {
                let names = self.names(node, "`sequences`", "sequences: [users, orders]")?;
                let mut tables = Vec::with_capacity(names.len());
                for name in names {
                    let range = name.span.range.start as usize..name.span.range.end as usize;
                    tables.push(self.table_name(&name.name, range)?);
                }
                ReadSequences::Tables(tables)
            }
            _ => {
                return Err(self.wrong_shape(
                    node,
                    "`sequences`",
                    "`all`, `none` or a list of tables",
                    example,
                ));
            }
        };
        Ok((sequences, self.entry_spans(node)))
    }

    pub(super) fn read_lint(
        &self,
        node: &Node<'_>,
        file: &mut FileExpectations,
    ) -> Result<(), Error> {
        let example = "lint: { severity: { nullability-mismatch: error } }";
        for (key, child) in self.entries(node, "`lint`", example)? {
            match key.as_ref() {
                "severity" => {
                    let example = "severity: { nullability-mismatch: error }";
                    for (rule_name, entry) in self.entries(&child, "`lint.severity`", example)? {
                        let rule = self.rule(&rule_name, self.key_range(&entry))?;
                        let severity = match entry.value {
                            Value::String(word) => match Severity::parse(word) {
                                Some(severity) => severity,
                                None => {
                                    return Err(self.error(
                                        ErrorKind::InvalidValue,
                                        self.value_range(&entry),
                                        format!("unknown severity `{word}` for rule `{rule_name}`"),
                                        "not a severity",
                                        "write `error`, `warning` or `info`; to silence a rule, list it under `lint.ignore`",
                                    ));
                                }
                            },
                            _ => {
                                return Err(self.wrong_shape(
                                    &entry,
                                    &format!("the severity of `{rule_name}`"),
                                    "`error`, `warning` or `info`",
                                    "nullability-mismatch: error",
                                ));
                            }
                        };
                        file.severity.push(SeverityOverride {
                            rule,
                            severity,
                            spans: self.entry_spans(&entry),
                        });
                    }
                }
                "ignore" => {
                    let items = match child.value {
                        Value::Sequence(items) => items,
                        Value::Null => continue,
                        _ => {
                            return Err(self.wrong_shape(
                                &child,
                                "`lint.ignore`",
                                "a list of `{ rule, table, column }` entries",
                                "ignore: [{ rule: untracked-table, table: spatial_ref_sys }]",
                            ));
                        }
                    };
                    for (index, item) in items.iter().enumerate() {
                        let item = self.item(&child, index, item);
                        file.ignore.push(self.read_ignore(&item)?);
                    }
                }
                _ => return Err(self.unknown_key(&child, &key, LINT_KEYS, "`lint`")),
            }
        }
        Ok(())
    }

    pub(super) fn read_ignore(&self, node: &Node<'_>) -> Result<ReadIgnore, Error> {
        let example = "{ rule: untracked-table, table: spatial_ref_sys }";
        if !matches!(node.value, Value::Mapping(_)) {
            return Err(self.wrong_shape(
                node,
                "an entry of `lint.ignore`",
                "a mapping with `rule` and optionally `table` and `column`",
                example,
            ));
        }
        let mut rule = None;
        let mut table = None;
        let mut column = None;
        for (key, child) in self.entries(node, "an entry of `lint.ignore`", example)? {
            match key.as_ref() {
                "rule" => {
                    let name = self.name(&child, "`rule`", "rule: untracked-table")?;
                    let range = self.value_range(&child);
                    rule = Some((self.rule(&name.name, range)?, name.span));
                }
                "table" => {
                    let name = self.name(&child, "`table`", "table: spatial_ref_sys")?;
                    let range = self.value_range(&child);
                    table = Some(self.table_name(&name.name, range)?);
                }
                "column" => column = Some(self.name(&child, "`column`", "column: legacy_id")?.name),
                _ => {
                    return Err(self.unknown_key(
                        &child,
                        &key,
                        IGNORE_KEYS,
                        "an entry of `lint.ignore`",
                    ));
                }
            }
        }
        let Some((rule, rule_span)) = rule else {
            return Err(self.error(
                ErrorKind::InvalidValue,
                self.first_line_of_value(node),
                "an entry of `lint.ignore` names no rule",
                "`rule` is missing",
                format!("name the rule to ignore, as in `{example}`"),
            ));
        };
        Ok(ReadIgnore {
            table,
            entry: IgnoreEntry {
                rule,
                table: None,
                column,
                span: self.span(self.value_range(node)),
                rule_span,
            },
        })
    }

    pub(super) fn rule(&self, name: &str, range: Range<usize>) -> Result<Rule, Error> {
        Rule::from_name(name).ok_or_else(|| {
            let suggestion = closest_name(name, RULES.iter().map(|rule| rule.name))
                .map(|rule| format!("did you mean `{rule}`? "))
                .unwrap_or_default();
            self.error(
                ErrorKind::UnknownRule,
                range,
                format!("unknown rule `{name}`"),
                "no rule has this name",
                format!("{suggestion}`driftlint explain --list` lists every rule"),
            )
        })
    }
}
