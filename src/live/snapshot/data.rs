//! The data queries: sequence states, the maxima of sequence-fed columns and the version
//! table's rows, batched into `UNION ALL` statements and shared between the connections.

use std::collections::HashMap;

use futures_util::future::join_all;
use tokio_postgres::Row;

use super::super::Error;
use super::super::error::query_error;
use super::{DATA, ReadOnlySession, SchemaBuilder, get, qualified, quote_identifier, unexpected};
use crate::schema::model::{SequenceState, TableKey};

impl ReadOnlySession {
    pub(super) async fn read_data(
        &mut self,
        builder: &SchemaBuilder,
        version_schema: Option<&str>,
    ) -> Result<Data, Error> {
        let chunk = self.options.relations_per_query.max(1);
        let sequences: Vec<&TableKey> = builder
            .schema
            .sequences
            .iter()
            .filter(|(key, _)| !builder.unreadable_sequences.contains(*key))
            .map(|(key, _)| key)
            .collect();
        let columns = &builder.max_columns;

        let mut statements: Vec<(DataKind, String)> = Vec::new();
        for (chunk_index, part) in sequences.chunks(chunk).enumerate() {
            let selects: Vec<String> = part
                .iter()
                .enumerate()
                .map(|(offset, TableKey { schema, name })| {
                    format!(
                        "SELECT {}::int8, last_value, is_called FROM {}",
                        chunk_index * chunk + offset,
                        qualified(schema, name)
                    )
                })
                .collect();
            statements.push((DataKind::Sequences, selects.join("\nUNION ALL\n")));
        }
        for (chunk_index, part) in columns.chunks(chunk).enumerate() {
            let selects: Vec<String> = part
                .iter()
                .enumerate()
                .map(|(offset, (schema, table, column))| {
                    format!(
                        "SELECT {}::int8, max({})::int8 FROM {}",
                        chunk_index * chunk + offset,
                        quote_identifier(column),
                        qualified(schema, table)
                    )
                })
                .collect();
            statements.push((DataKind::Maxima, selects.join("\nUNION ALL\n")));
        }
        if let Some(schema) = version_schema {
            statements.push((
                DataKind::Versions,
                format!(
                    "SELECT version_num::text FROM {} ORDER BY 1",
                    qualified(schema, &self.options.version_table)
                ),
            ));
        }

        let mut data = Data {
            sequence_states: Vec::new(),
            column_max: HashMap::new(),
            versions: None,
            null_versions: 0,
        };
        if statements.is_empty() {
            return Ok(data);
        }
        self.round_trips += 1;
        let results = self.run_data_statements(&statements).await?;
        for ((kind, _), result) in statements.iter().zip(results) {
            let step = kind.step();
            let rows = result.map_err(|error| query_error(step, &error))?;
            match kind {
                DataKind::Sequences => {
                    for row in &rows {
                        let index: i64 = get(row, 0, step)?;
                        let key = usize::try_from(index)
                            .ok()
                            .and_then(|index| sequences.get(index))
                            .ok_or_else(|| unexpected(step))?;
                        data.sequence_states.push((
                            (*key).clone(),
                            SequenceState {
                                last_value: get(row, 1, step)?,
                                is_called: get(row, 2, step)?,
                            },
                        ));
                    }
                }
                DataKind::Maxima => {
                    for row in &rows {
                        let index: i64 = get(row, 0, step)?;
                        let key = usize::try_from(index)
                            .ok()
                            .and_then(|index| columns.get(index))
                            .ok_or_else(|| unexpected(step))?;
                        data.column_max.insert(key.clone(), get(row, 1, step)?);
                    }
                }
                DataKind::Versions => {
                    let mut versions = Vec::with_capacity(rows.len());
                    for row in &rows {
                        // A NULL row is counted and reported, not an error.
                        match get::<Option<String>>(row, 0, step)? {
                            Some(version) => versions.push(version),
                            None => data.null_versions += 1,
                        }
                    }
                    data.versions = Some(versions);
                }
            }
        }
        Ok(data)
    }

    /// Sends every data statement at once, alternating between the connections when there are
    /// two, and returns the results in the statements' order.
    async fn run_data_statements(
        &self,
        statements: &[(DataKind, String)],
    ) -> Result<Vec<Result<Vec<Row>, tokio_postgres::Error>>, Error> {
        let first = &self.client;
        let Some(helper) = &self.helper else {
            return self
                .within_deadline(
                    DATA,
                    statements.len(),
                    join_all(
                        statements
                            .iter()
                            .map(|(_, sql)| first.query_typed(sql, &[])),
                    ),
                )
                .await;
        };
        let second = &helper.client;
        let on_first = statements.iter().step_by(2);
        let on_second = statements.iter().skip(1).step_by(2);
        let (first_results, second_results) = self
            .within_deadline(
                DATA,
                statements.len().div_ceil(2),
                futures_util::future::join(
                    join_all(on_first.map(|(_, sql)| first.query_typed(sql, &[]))),
                    join_all(on_second.map(|(_, sql)| second.query_typed(sql, &[]))),
                ),
            )
            .await?;
        let mut first_results = first_results.into_iter();
        let mut second_results = second_results.into_iter();
        (0..statements.len())
            .map(|index| {
                let next = if index % 2 == 0 {
                    first_results.next()
                } else {
                    second_results.next()
                };
                next.ok_or_else(|| unexpected(DATA))
            })
            .collect()
    }
}

#[derive(Clone, Copy)]
enum DataKind {
    Sequences,
    Maxima,
    Versions,
}

impl DataKind {
    fn step(self) -> &'static str {
        match self {
            DataKind::Sequences => "reading sequence states",
            DataKind::Maxima => "reading the maxima of sequence-fed columns",
            DataKind::Versions => "reading the version table",
        }
    }
}

pub(super) struct Data {
    pub(super) sequence_states: Vec<(TableKey, SequenceState)>,
    pub(super) column_max: HashMap<(String, String, String), Option<i64>>,
    pub(super) versions: Option<Vec<String>>,
    pub(super) null_versions: usize,
}
