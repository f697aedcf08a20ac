//! The catalog-rows target: an input's bytes decide, one choice at a time, the rows a live
//! database could send (starting from the rows of the fixture project's own schema, then
//! dropping, renaming, retyping and adding objects with hostile names, types and NULLs), the
//! sequence states, the column maxima and the version table. Exhausted bytes read as zeros, so
//! every byte string is an input and deleting bytes (the minimiser) keeps it one.

use std::collections::HashMap;

use driftlint::live::{CatalogRows, CatalogValue, LiveSnapshot, snapshot_from_catalog_rows};
use driftlint::schema::model::{IdentityKind, SequenceState, TableKey};

use crate::targets::{Project, run_live};

/// Reads choices from the input.
struct Choices<'a> {
    data: &'a [u8],
    at: usize,
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let v = u16::from_le_bytes([self.byte(), self.byte()]);
        usize::from(v) % n
    }

    /// True about `percent` times in a hundred.
    fn percent(&mut self, percent: u8) -> bool {
        self.byte() % 100 < percent
    }

    fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.below(items.len())]
    }

    fn exhausted(&self) -> bool {
        self.at >= self.data.len()
    }

    fn int(&mut self) -> i64 {
        match self.byte() % 10 {
            0 => 0,
            1 => 1,
            2 => -1,
            3 => i64::MAX,
            4 => i64::MIN,
            5 => i64::from(i32::MAX) + 1,
            6 => i64::from(i16::MAX),
            7 => i64::MAX - 1,
            _ => i64::from_le_bytes(std::array::from_fn(|_| self.byte())),
        }
    }

    /// A string made of the input's bytes: printable text, control characters, newlines and
    /// non-ASCII, never NUL (PostgreSQL text cannot hold it).
    fn raw_text(&mut self) -> String {
        let len = self.below(80);
        (0..len)
            .map(|_| match self.byte() {
                0 => '\n',
                b @ 1..=0x7f => char::from(b),
                0x80..=0x9f => '\u{1b}',
                0xa0..=0xbf => '\\',
                0xc0..=0xdf => '"',
                0xe0..=0xef => 'é',
                0xf0..=0xf7 => '\u{202e}',
                _ => '😀',
            })
            .collect()
    }
}

/// Names and type texts the rows are made of.
pub struct Dictionary {
    /// Names hostile to SQL, psql and terminals.
    hostile: Vec<String>,
    /// The fixture project's own names (tables, columns, sequences, schemas), so that rows
    /// match, and partly match, what the migrations build.
    own: Vec<String>,
    types: Vec<String>,
    revision_ids: Vec<String>,
    heads: Vec<String>,
}

impl Dictionary {
    pub fn new(project: &Project) -> Dictionary {
        let mut own = vec!["public".to_owned()];
        for table in project.replay.schema.tables.values() {
            own.push(table.name.clone());
            own.extend(table.columns.iter().map(|c| c.name.clone()));
        }
        for sequence in project.replay.schema.sequences.values() {
            own.push(sequence.name.clone());
        }
        own.sort();
        own.dedup();
        let hostile = [
            "x\n\\! id > pwned.txt\n",
            "\\! id",
            "\\gset",
            "\\if",
            ":var",
            ":'var'",
            ":\"var\"",
            "a\"b",
            "a'b",
            "$$",
            "$1",
            "a.b",
            "%s",
            "{}",
            "\\.",
            ";DROP TABLE users;--",
            "-- comment",
            "/* open",
            "e\\'",
            "",
            " ",
            "\t",
            "\r\n",
            "\r",
            "\u{1b}[2J\u{7}",
            "\u{202e}txt.exe",
            "NULL",
            "null",
            "public",
            "pg_catalog",
            "UPPER",
            "Mixed Case",
            "über_tabelle",
            "日本語のテーブル",
            "😀",
            "version_num",
            "alembic_version",
        ];
        let mut hostile: Vec<String> = hostile.iter().map(|s| (*s).to_owned()).collect();
        hostile.push("a".repeat(63));
        hostile.push(format!(
            "organization_membership_invitation_history_{}",
            "id_seq"
        ));
        hostile.push("b".repeat(64));
        hostile.push("ü".repeat(40));
        hostile.push("n".repeat(10_000));
        let types = [
            "integer",
            "bigint",
            "smallint",
            "text",
            "boolean",
            "character varying(120)",
            "character varying",
            "character varying(255)",
            "timestamp without time zone",
            "timestamp with time zone",
            "timestamp(3) with time zone",
            "numeric(10,2)",
            "numeric",
            "jsonb",
            "uuid",
            "date",
            "integer[]",
            "text[][]",
            "analysis_status",
            "public.analysis_status",
            "other.\"Mood\"",
            "\"weird type\"",
            "bit varying(5)",
            "interval year to month",
            "double precision",
            "\"char\"",
            "time(3) with time zone",
            "character(1)",
            "USER-DEFINED",
            "???",
            "",
            "integer(",
            "numeric(99999999999)",
            "varchar(-1)",
        ];
        let types = types.iter().map(|s| (*s).to_owned()).collect();
        let mut revision_ids: Vec<String> =
            project.revisions.iter().map(|r| r.id.clone()).collect();
        revision_ids.sort();
        let heads = project
            .graph
            .heads
            .iter()
            .map(|&i| project.revisions[i].id.clone())
            .collect();
        Dictionary {
            heads,
            hostile,
            own,
            types,
            revision_ids,
        }
    }

    fn name(&self, c: &mut Choices<'_>) -> String {
        match c.byte() % 8 {
            0..=3 => c.pick(&self.own).clone(),
            4 | 5 => c.pick(&self.hostile).clone(),
            6 => format!("{}{}", c.pick(&self.own), c.pick(&self.hostile)),
            _ => c.raw_text(),
        }
    }

    fn type_text(&self, c: &mut Choices<'_>) -> String {
        match c.byte() % 8 {
            0..=5 => c.pick(&self.types).clone(),
            6 => self.name(c),
            _ => c.raw_text(),
        }
    }
}

fn text(s: impl Into<String>) -> CatalogValue {
    CatalogValue::Text(s.into())
}

fn opt_text(s: Option<String>) -> CatalogValue {
    s.map_or(CatalogValue::Null, CatalogValue::Text)
}

/// The rows PostgreSQL would send for `project`'s head schema, as the catalog queries select
/// them (see `read_catalog` in src/live/snapshot.rs for the columns).
fn rows_of_schema(project: &Project) -> CatalogRows {
    let schema = &project.replay.schema;
    let mut rows = CatalogRows::default();
    for table in schema.tables.values() {
        if table.columns.is_empty() {
            rows.columns.push(vec![
                text(&table.schema),
                text(&table.name),
                CatalogValue::Null,
                CatalogValue::Null,
                CatalogValue::Null,
                CatalogValue::Null,
                CatalogValue::Null,
                CatalogValue::Null,
                CatalogValue::Null,
            ]);
        }
        for column in &table.columns {
            let fed = column.default.is_some() || column.identity.is_some();
            rows.columns.push(vec![
                text(&table.schema),
                text(&table.name),
                text(&column.name),
                text(column.ty.to_string()),
                CatalogValue::Bool(!column.nullable),
                opt_text(column.default.clone()),
                text(match column.identity {
                    Some(IdentityKind::Always) => "a",
                    Some(IdentityKind::ByDefault) => "d",
                    None => "",
                }),
                text(""),
                if fed {
                    CatalogValue::Bool(true)
                } else {
                    CatalogValue::Null
                },
            ]);
            if let Some(TableKey {
                schema: seq_schema,
                name: seq_name,
            }) = &column.sequence
            {
                rows.default_sequences.push(vec![
                    text(&table.schema),
                    text(&table.name),
                    text(&column.name),
                    text(seq_schema),
                    text(seq_name),
                ]);
            }
        }
        if let Some(pk) = &table.primary_key {
            rows.constraints
                .push(constraint(table, &pk.name, "p", &pk.columns));
        }
        for unique in &table.uniques {
            rows.constraints
                .push(constraint(table, &unique.name, "u", &unique.columns));
        }
        for fk in &table.foreign_keys {
            rows.constraints.push(vec![
                text(&table.schema),
                text(&table.name),
                text(&fk.name),
                text("f"),
                CatalogValue::TextArray(fk.columns.clone()),
                text(&fk.ref_schema),
                text(&fk.ref_table),
                CatalogValue::TextArray(fk.ref_columns.clone()),
                CatalogValue::Null,
                text("a"),
                text("a"),
                CatalogValue::Bool(fk.deferrable),
                CatalogValue::Bool(fk.initially_deferred),
                CatalogValue::Null,
            ]);
        }
        for index in &table.indexes {
            rows.indexes.push(vec![
                text(&table.schema),
                text(&table.name),
                text(&index.name),
                CatalogValue::Bool(index.unique),
                CatalogValue::TextArray(index.columns.clone()),
                text(&index.method),
                opt_text(index.predicate.clone()),
                CatalogValue::TextArray(index.include.clone()),
            ]);
        }
    }
    for sequence in schema.sequences.values() {
        let (owner_schema, owner_table, owner_column) = match &sequence.owned_by {
            Some((s, t, c)) => (Some(s.clone()), Some(t.clone()), Some(c.clone())),
            None => (None, None, None),
        };
        let dependency = owner_column.as_ref().map(|_| "a".to_owned());
        rows.sequences.push(vec![
            text(&sequence.schema),
            text(&sequence.name),
            text(sequence.data_type.to_string()),
            CatalogValue::Int(sequence.start),
            CatalogValue::Int(sequence.increment),
            opt_text(owner_schema),
            opt_text(owner_table),
            opt_text(owner_column),
            opt_text(dependency),
            CatalogValue::Bool(true),
        ]);
    }
    for (
        TableKey {
            schema: schema_name,
            name,
        },
        labels,
    ) in &schema.enums
    {
        rows.enums.push(vec![
            text(schema_name),
            text(name),
            CatalogValue::TextArray(labels.clone()),
        ]);
    }
    rows
}

fn constraint(
    table: &driftlint::schema::model::Table,
    name: &str,
    kind: &str,
    columns: &[String],
) -> Vec<CatalogValue> {
    vec![
        text(&table.schema),
        text(&table.name),
        text(name),
        text(kind),
        CatalogValue::TextArray(columns.to_vec()),
        CatalogValue::Null,
        CatalogValue::Null,
        CatalogValue::TextArray(Vec::new()),
        CatalogValue::Null,
        text("a"),
        text("a"),
        CatalogValue::Bool(false),
        CatalogValue::Bool(false),
        CatalogValue::Null,
    ]
}

/// A value for one cell, decided by the input: mostly a change of the same kind, sometimes a
/// NULL or a value of the wrong type (which the builder must refuse, not panic on).
fn mutate_cell(dict: &Dictionary, c: &mut Choices<'_>, cell: &mut CatalogValue) {
    if c.percent(3) {
        *cell = match c.byte() % 5 {
            0 => CatalogValue::Null,
            1 => CatalogValue::Bool(c.percent(50)),
            2 => CatalogValue::Int(c.int()),
            3 => CatalogValue::TextArray(vec![dict.name(c)]),
            _ => CatalogValue::Text(dict.name(c)),
        };
        return;
    }
    match cell {
        CatalogValue::Null => {
            if c.percent(50) {
                *cell = CatalogValue::Text(dict.name(c));
            }
        }
        CatalogValue::Text(s) => *s = dict.name(c),
        CatalogValue::Bool(b) => *b = !*b,
        CatalogValue::Int(n) => *n = c.int(),
        CatalogValue::TextArray(items) => match c.byte() % 3 {
            0 => items.clear(),
            1 => items.push(dict.name(c)),
            _ => {
                if !items.is_empty() {
                    let at = c.below(items.len());
                    items[at] = dict.name(c);
                }
            }
        },
    }
}

/// A new row for `list` (0 columns, 1 constraints, 2 indexes, 3 sequences, 4 default
/// sequences, 5 enums), of the right shape and hostile content.
fn new_row(dict: &Dictionary, c: &mut Choices<'_>, list: usize) -> Vec<CatalogValue> {
    let name = |c: &mut Choices<'_>| text(dict.name(c));
    match list {
        0 => vec![
            name(c),
            name(c),
            if c.percent(10) {
                CatalogValue::Null
            } else {
                name(c)
            },
            text(dict.type_text(c)),
            CatalogValue::Bool(c.percent(50)),
            if c.percent(50) {
                CatalogValue::Null
            } else {
                text(format!("nextval('{}'::regclass)", dict.name(c)))
            },
            text(*c.pick(&["", "a", "d", "x"])),
            text(*c.pick(&["", "s"])),
            c.pick(&[
                CatalogValue::Null,
                CatalogValue::Bool(true),
                CatalogValue::Bool(false),
            ])
            .clone(),
        ],
        1 => vec![
            name(c),
            name(c),
            name(c),
            text(*c.pick(&["p", "u", "f", "c", "x", ""])),
            CatalogValue::TextArray((0..c.below(4)).map(|_| dict.name(c)).collect()),
            name(c),
            name(c),
            CatalogValue::TextArray((0..c.below(4)).map(|_| dict.name(c)).collect()),
            if c.percent(50) {
                CatalogValue::Null
            } else {
                name(c)
            },
        ],
        2 => vec![
            name(c),
            name(c),
            name(c),
            CatalogValue::Bool(c.percent(50)),
            CatalogValue::TextArray((0..c.below(4)).map(|_| dict.name(c)).collect()),
        ],
        3 => vec![
            name(c),
            name(c),
            text(dict.type_text(c)),
            CatalogValue::Int(c.int()),
            CatalogValue::Int(c.int()),
            name(c),
            name(c),
            name(c),
            text(*c.pick(&["a", "i", "n"])),
            CatalogValue::Bool(c.percent(80)),
        ],
        4 => vec![name(c), name(c), name(c), name(c), name(c)],
        _ => vec![
            name(c),
            name(c),
            CatalogValue::TextArray((0..c.below(6)).map(|_| dict.name(c)).collect()),
        ],
    }
}

fn lists(rows: &mut CatalogRows) -> [&mut Vec<Vec<CatalogValue>>; 6] {
    [
        &mut rows.columns,
        &mut rows.constraints,
        &mut rows.indexes,
        &mut rows.sequences,
        &mut rows.default_sequences,
        &mut rows.enums,
    ]
}

/// The snapshot an input describes, or `None` when the builder refused its rows.
pub fn snapshot(project: &Project, dict: &Dictionary, input: &[u8]) -> Option<LiveSnapshot> {
    let mut c = Choices { data: input, at: 0 };
    // The version table first, so that a short input still has one.
    let (versions, version_table) = match c.byte() % 8 {
        0 => (None, None),
        choice => {
            let count = if choice == 1 { 0 } else { 1 + c.below(2) };
            let versions = (0..count)
                .map(|_| match c.byte() % 10 {
                    0..=5 => c.pick(&dict.heads).clone(),
                    6 | 7 => c.pick(&dict.revision_ids).clone(),
                    _ => dict.name(&mut c),
                })
                .collect();
            let table = if c.percent(90) {
                TableKey::new("public", "alembic_version")
            } else {
                TableKey::new(dict.name(&mut c), dict.name(&mut c))
            };
            (Some(versions), Some(table))
        }
    };
    let mut rows = if c.percent(85) {
        rows_of_schema(project)
    } else {
        CatalogRows::default()
    };
    // Edits: drop, change a cell, add, duplicate.
    let most = 1 + c.below(48);
    let edits = c.below(most);
    for _ in 0..edits {
        if c.exhausted() {
            break;
        }
        let which = c.below(6);
        let list = &mut lists(&mut rows)[which];
        match c.byte() % 4 {
            0 if !list.is_empty() => {
                let at = c.below(list.len());
                list.remove(at);
            }
            1 if !list.is_empty() => {
                let at = c.below(list.len());
                let row = &mut list[at];
                let cell = c.below(row.len());
                mutate_cell(dict, &mut c, &mut row[cell]);
            }
            2 if !list.is_empty() => {
                let at = c.below(list.len());
                let row = list[at].clone();
                list.push(row);
            }
            _ => {
                let row = new_row(dict, &mut c, which);
                list.push(row);
            }
        }
    }
    let mut snapshot = snapshot_from_catalog_rows(&rows).ok()?;
    // What the data queries would read.
    let keys: Vec<TableKey> = snapshot.schema.sequences.keys().cloned().collect();
    for key in keys {
        if c.percent(90)
            && let Some(sequence) = snapshot.schema.sequences.get_mut(&key)
        {
            sequence.state = Some(SequenceState {
                last_value: c.int(),
                is_called: c.percent(50),
            });
        }
    }
    let mut column_max = HashMap::new();
    for table in snapshot.schema.tables.values() {
        for column in &table.columns {
            if column.sequence.is_some() && c.percent(90) {
                let max = if c.percent(20) { None } else { Some(c.int()) };
                column_max.insert(
                    (
                        table.schema.clone(),
                        table.name.clone(),
                        column.name.clone(),
                    ),
                    max,
                );
            }
        }
    }
    snapshot.column_max = column_max;
    if c.percent(10) {
        snapshot.unreadable.push(dict.name(&mut c));
    }
    snapshot.versions = versions;
    snapshot.version_table = version_table;
    Some(snapshot)
}

pub fn run(project: &Project, dict: &Dictionary, input: &[u8]) -> usize {
    let destructive = input.first().is_some_and(|b| b & 1 == 1);
    match snapshot(project, dict, input) {
        Some(snapshot) => run_live(project, snapshot, destructive),
        None => 0,
    }
}
