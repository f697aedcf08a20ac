//! The document's structure: the top-level keys, `heads`, tables, columns and their types.

use super::*;

impl Reader<'_> {
    pub(super) fn read_root(&self, root: &Node<'_>) -> Result<FileExpectations, Error> {
        if !matches!(root.value, Value::Mapping(_) | Value::Null) {
            return Err(self.wrong_shape(
                root,
                "the expectations file",
                "a mapping with `version`, `tables` and the other settings",
                "version: 1",
            ));
        }
        let mut file = FileExpectations {
            file_id: self.file_id,
            schema: None,
            heads: None,
            tables: Vec::new(),
            sequences: None,
            severity: Vec::new(),
            ignore: Vec::new(),
        };
        let mut version_seen = false;
        for (key, node) in self.entries(root, "the expectations file", "version: 1")? {
            let read: Result<(), Error> = (|| {
                match key.as_ref() {
                    "version" => {
                        version_seen = true;
                        self.read_version(&node)?;
                    }
                    "schema" => {
                        let name = self.name(&node, "`schema`", "schema: public")?;
                        if name.name.contains('.') {
                            return Err(self.error(
                                ErrorKind::InvalidValue,
                                self.value_range(&node),
                                format!("`{}` is not a schema name", name.name),
                                "a schema name has no dot",
                                "write the schema alone, as in `schema: public`",
                            ));
                        }
                        file.schema = Some((name.name, self.entry_spans(&node)));
                    }
                    "heads" => file.heads = Some(self.read_heads(&node)?),
                    "tables" => file.tables = self.read_tables(&node)?,
                    "sequences" => file.sequences = Some(self.read_sequences(&node)?),
                    "lint" => self.read_lint(&node, &mut file)?,
                    _ => {
                        return Err(self.unknown_key(
                            &node,
                            &key,
                            TOP_LEVEL_KEYS,
                            "the expectations file",
                        ));
                    }
                }
                Ok(())
            })();
            self.keep(read);
        }
        if !version_seen {
            let first_line = self.first_line_of_value(root);
            return Err(self.error(
                ErrorKind::MissingVersion,
                first_line.start..first_line.start,
                "the expectations file has no `version`",
                "`version: 1` belongs here",
                "start the file with `version: 1`",
            ));
        }
        Ok(file)
    }

    pub(super) fn read_version(&self, node: &Node<'_>) -> Result<(), Error> {
        match node.value {
            Value::Number(number) if number.as_u64() == Some(1) => Ok(()),
            Value::Number(number) => Err(self.error(
                ErrorKind::UnsupportedVersion,
                self.value_range(node),
                format!("expectations version {number} is not supported"),
                "this driftlint reads version 1",
                "write `version: 1`",
            )),
            _ => Err(self.wrong_shape(node, "`version`", "the number 1", "version: 1")),
        }
    }

    pub(super) fn read_heads(&self, node: &Node<'_>) -> Result<HeadsExpectation, Error> {
        let example = "heads: 1";
        let allowed = match node.value {
            Value::Number(number) => match number.as_u64() {
                Some(count) if count >= 1 => {
                    AllowedHeads::Count(usize::try_from(count).unwrap_or(usize::MAX))
                }
                _ => {
                    return Err(self.error(
                        ErrorKind::InvalidValue,
                        self.value_range(node),
                        format!("`heads` must be 1 or more, found {number}"),
                        "not a number of heads",
                        "write the number of heads the revision graph may have, usually `heads: 1`",
                    ));
                }
            },
            Value::Sequence(items) if !items.is_empty() => AllowedHeads::Labels(
                self.names(node, "`heads`", "heads: [main, analytics]")?
                    .into_iter()
                    .map(|label| label.name)
                    .collect(),
            ),
            Value::Sequence(_) => {
                return Err(self.error(
                    ErrorKind::InvalidValue,
                    self.value_range(node),
                    "`heads` lists no branch label",
                    "an empty list",
                    "write a number (`heads: 1`) or the branch labels that may each have a head (`heads: [main, analytics]`)",
                ));
            }
            _ => {
                return Err(self.wrong_shape(
                    node,
                    "`heads`",
                    "a number or a list of branch labels",
                    example,
                ));
            }
        };
        Ok(HeadsExpectation {
            allowed,
            spans: self.entry_spans(node),
        })
    }

    pub(super) fn read_tables(&self, node: &Node<'_>) -> Result<Vec<ReadTable>, Error> {
        let example = "tables: { users: { primary_key: [id] } }";
        let mut tables = Vec::new();
        for (written, table_node) in self.entries(node, "`tables`", example)? {
            let table = self
                .table_name(&written, self.key_range(&table_node))
                .and_then(|name| self.read_table(&table_node, name));
            tables.extend(self.keep(table));
        }
        Ok(tables)
    }

    pub(super) fn read_table(
        &self,
        node: &Node<'_>,
        name: WrittenTableName,
    ) -> Result<ReadTable, Error> {
        let context = format!("table `{}`", name.name);
        let example = "users: { primary_key: [id], columns: { id: integer } }";
        if !matches!(node.value, Value::Mapping(_) | Value::Null) {
            return Err(self.wrong_shape(
                node,
                &context,
                "a mapping with `primary_key`, `columns` or `absent_columns` (or nothing, for presence only)",
                example,
            ));
        }
        let mut table = TableExpectation {
            // The schema is filled in when all files are merged and the default is known.
            schema: String::new(),
            name: name.name.clone(),
            spans: self.entry_spans(node),
            primary_key: None,
            columns: Vec::new(),
            absent_columns: Vec::new(),
        };
        for (key, child) in self.entries(node, &context, example)? {
            let read: Result<(), Error> = (|| {
                match key.as_ref() {
                    "primary_key" => {
                        let columns = self.names(&child, "`primary_key`", "primary_key: [id]")?;
                        if columns.is_empty() {
                            return Err(self.error(
                                ErrorKind::InvalidValue,
                                self.value_range(&child),
                                format!("`primary_key` of table `{}` lists no column", name.name),
                                "an empty list",
                                "list the key's columns, as in `primary_key: [id]`",
                            ));
                        }
                        table.primary_key = Some(PrimaryKeyExpectation {
                            columns,
                            spans: self.entry_spans(&child),
                        });
                    }
                    "columns" => table.columns = self.read_columns(&child, &name.name)?,
                    "absent_columns" => {
                        table.absent_columns =
                            self.names(&child, "`absent_columns`", "absent_columns: [legacy_id]")?;
                    }
                    _ => return Err(self.unknown_key(&child, &key, TABLE_KEYS, &context)),
                }
                Ok(())
            })();
            self.keep(read);
        }
        for absent in &table.absent_columns {
            if let Some(column) = table.column(&absent.name) {
                let absent_range = absent.span.range.start as usize..absent.span.range.end as usize;
                let column_range =
                    column.spans.key.range.start as usize..column.spans.key.range.end as usize;
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        absent_range,
                        format!(
                            "column `{}` of table `{}` is both expected and listed in `absent_columns`",
                            absent.name, name.name
                        ),
                        "must not exist, says this",
                        "keep the column in one of the two places",
                    )
                    .also_at(column_range, "must exist, says this"));
            }
        }
        Ok(ReadTable {
            written_schema: name.schema,
            table,
        })
    }

    pub(super) fn read_columns(
        &self,
        node: &Node<'_>,
        table: &str,
    ) -> Result<Vec<ColumnExpectation>, Error> {
        let example = "columns: { id: { type: integer, nullable: false }, email: text }";
        match node.value {
            Value::Sequence(_) => {
                // `columns: [id, score]`: the names alone, presence only.
                let names = self.names(node, "`columns`", "columns: [id, score]")?;
                Ok(names
                    .into_iter()
                    .map(|name| ColumnExpectation {
                        name: name.name,
                        spans: EntrySpans {
                            key: name.span.clone(),
                            value: name.span,
                        },
                        ty: None,
                        nullable: None,
                    })
                    .collect())
            }
            Value::Mapping(_) | Value::Null => {
                let mut columns = Vec::new();
                for (name, child) in self.entries(node, "`columns`", example)? {
                    columns.extend(self.keep(self.read_column(&child, table, name.into_owned())));
                }
                Ok(columns)
            }
            _ => Err(self.wrong_shape(
                node,
                "`columns`",
                "a mapping of column names to types, or a list of names",
                example,
            )),
        }
    }

    pub(super) fn read_column(
        &self,
        node: &Node<'_>,
        table: &str,
        name: String,
    ) -> Result<ColumnExpectation, Error> {
        let context = ColumnContext { table, name: &name };
        let example = "email: { type: varchar(120), nullable: false }";
        let spans = self.entry_spans(node);
        let mut ty = None;
        let mut nullable = None;
        match node.value {
            // `email:` alone: presence only.
            Value::Null => {}
            // `email: varchar(120)`: the type alone.
            Value::String(_) => ty = Some(self.read_type(node, &context)?),
            Value::Mapping(_) => {
                for (key, child) in self.entries(node, &context, example)? {
                    match key.as_ref() {
                        "type" => ty = Some(self.read_type(&child, &context)?),
                        "nullable" => match child.value {
                            Value::Bool(flag) => {
                                nullable = Some(NullableExpectation {
                                    nullable: *flag,
                                    span: self.span(self.value_range(&child)),
                                });
                            }
                            _ => {
                                return Err(self.wrong_shape(
                                    &child,
                                    "`nullable`",
                                    "`true` or `false`",
                                    "nullable: false",
                                ));
                            }
                        },
                        _ => return Err(self.unknown_key(&child, &key, COLUMN_KEYS, &context)),
                    }
                }
            }
            _ => {
                return Err(self.wrong_shape(
                    node,
                    &context,
                    "a type name or a mapping with `type` and `nullable`",
                    example,
                ));
            }
        }
        Ok(ColumnExpectation {
            name,
            spans,
            ty,
            nullable,
        })
    }

    pub(super) fn read_type(
        &self,
        node: &Node<'_>,
        context: &(impl fmt::Display + ?Sized),
    ) -> Result<TypeExpectation, Error> {
        let written = match node.value {
            Value::String(text) => text.clone(),
            _ => {
                return Err(self.wrong_shape(
                    node,
                    &format!("the type of {context}"),
                    "a PostgreSQL type name",
                    "type: varchar(120)",
                ));
            }
        };
        let range = self.value_range(node);
        // The same few types are written thousands of times; each is parsed once.
        let known = self.parsed_types.borrow().get(&written).cloned();
        let parsed = known.map_or_else(|| PgType::parse(&written), Ok);
        if let Ok(ty) = &parsed {
            self.parsed_types
                .borrow_mut()
                .entry(written.clone())
                .or_insert_with(|| ty.clone());
        }
        match parsed {
            Ok(ty) => Ok(TypeExpectation {
                ty,
                written,
                span: self.span(range),
            }),
            Err(reason) => {
                // The message already says the type is unknown; the help keeps the suggestion.
                let help = match reason.strip_prefix("unknown type `") {
                    Some(rest) => rest
                        .split_once("; ")
                        .map_or(reason.clone(), |(_, suggestion)| suggestion.to_owned()),
                    None => reason,
                };
                Err(self.error(
                    ErrorKind::InvalidType,
                    range,
                    format!("invalid type `{}` for {context}", written.trim()),
                    "not a PostgreSQL type",
                    help,
                ))
            }
        }
    }
}
