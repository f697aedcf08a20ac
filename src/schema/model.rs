//! The schema model: what a database looks like, whether computed by replaying migrations or
//! read from a live server. Tables, sequences and enum types are keyed by [`TableKey`]
//! (`(schema, name)`) with the schema always filled in (the replay puts unqualified names in
//! `public`).

use std::collections::BTreeMap;
use std::fmt;

use super::types::PgType;
use crate::source::Span;

/// The schema that unqualified names live in, as PostgreSQL's default `search_path` resolves them.
pub const DEFAULT_SCHEMA: &str = "public";

/// The key of a table, and of the other objects named within a schema (sequences, enum types):
/// the schema, always filled in, and the name. Orders by schema, then name.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableKey {
    pub schema: String,
    pub name: String,
}

impl TableKey {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        TableKey {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

/// `schema.name`, unquoted (messages quote through `quote::quote_qualified`).
impl fmt::Display for TableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Where a piece of the model came from: the revision and the operation that set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub revision: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityKind {
    Always,
    ByDefault,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: PgType,
    pub nullable: bool,
    /// The default expression as PostgreSQL shows it (`nextval('users_id_seq'::regclass)` for a
    /// serial column).
    pub default: Option<String>,
    pub identity: Option<IdentityKind>,
    /// The sequence that feeds this column (serial or identity), as `(schema, name)`.
    pub sequence: Option<TableKey>,
    /// The operation that created the column (replay only).
    pub created_by: Option<Origin>,
    /// The last operation that set its type (replay only).
    pub type_set_by: Option<Origin>,
    /// The last operation that set its nullability (replay only).
    pub nullable_set_by: Option<Origin>,
    /// The last operation that set (or dropped) its default (replay only).
    pub default_set_by: Option<Origin>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
    pub set_by: Option<Origin>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueConstraint {
    pub name: String,
    pub columns: Vec<String>,
    /// The operation that created it (replay only).
    pub created_by: Option<Origin>,
}

/// What a foreign key does when the referenced row is deleted or its key updated, as
/// `pg_constraint.confdeltype` and `confupdtype` say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ForeignKeyAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl ForeignKeyAction {
    /// The action as SQLAlchemy's `ondelete=` and raw SQL spell it, in any case; `None` for a
    /// spelling PostgreSQL does not know.
    pub fn parse(text: &str) -> Option<ForeignKeyAction> {
        let words: Vec<String> = text
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .collect();
        match words.join(" ").as_str() {
            "NO ACTION" => Some(ForeignKeyAction::NoAction),
            "RESTRICT" => Some(ForeignKeyAction::Restrict),
            "CASCADE" => Some(ForeignKeyAction::Cascade),
            "SET NULL" => Some(ForeignKeyAction::SetNull),
            "SET DEFAULT" => Some(ForeignKeyAction::SetDefault),
            _ => None,
        }
    }

    /// `pg_constraint`'s one-letter code.
    pub fn from_code(code: &str) -> ForeignKeyAction {
        match code {
            "r" => ForeignKeyAction::Restrict,
            "c" => ForeignKeyAction::Cascade,
            "n" => ForeignKeyAction::SetNull,
            "d" => ForeignKeyAction::SetDefault,
            _ => ForeignKeyAction::NoAction,
        }
    }

    /// As SQL writes it: `NO ACTION`, `CASCADE`, ….
    pub fn sql(self) -> &'static str {
        match self {
            ForeignKeyAction::NoAction => "NO ACTION",
            ForeignKeyAction::Restrict => "RESTRICT",
            ForeignKeyAction::Cascade => "CASCADE",
            ForeignKeyAction::SetNull => "SET NULL",
            ForeignKeyAction::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_schema: String,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: ForeignKeyAction,
    pub on_update: ForeignKeyAction,
    /// `DEFERRABLE`, and `INITIALLY DEFERRED` on top of it.
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// The operation that created it (replay only).
    pub created_by: Option<Origin>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckConstraint {
    pub name: String,
    pub sql: String,
    /// The operation that created it (replay only).
    pub created_by: Option<Origin>,
}

/// An exclusion constraint (`EXCLUDE USING gist (...)`), kept as the definition
/// `pg_get_constraintdef()` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExclusionConstraint {
    pub name: String,
    pub definition: String,
    /// The operation that created it (replay only).
    pub created_by: Option<Origin>,
}

/// The index access method PostgreSQL uses when `USING` is not given.
pub const DEFAULT_INDEX_METHOD: &str = "btree";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    /// Key columns, or an expression as SQL text where the key is one.
    pub columns: Vec<String>,
    pub unique: bool,
    /// The access method (`btree`, `gin`, `gist`, …), lower case.
    pub method: String,
    /// A partial index's `WHERE` condition as SQL text.
    pub predicate: Option<String>,
    /// `INCLUDE (...)` columns.
    pub include: Vec<String>,
    /// The operation that created it (replay only).
    pub created_by: Option<Origin>,
}

impl Index {
    /// A plain B-tree index on `columns`.
    pub fn new(name: &str, columns: Vec<String>, unique: bool) -> Index {
        Index {
            name: name.to_owned(),
            columns,
            unique,
            method: DEFAULT_INDEX_METHOD.to_owned(),
            predicate: None,
            include: Vec::new(),
            created_by: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// In the order they were added (the replay) or by `attnum` (live).
    pub columns: Vec<Column>,
    pub primary_key: Option<PrimaryKey>,
    pub uniques: Vec<UniqueConstraint>,
    pub foreign_keys: Vec<ForeignKey>,
    pub checks: Vec<CheckConstraint>,
    pub indexes: Vec<Index>,
    pub exclusions: Vec<ExclusionConstraint>,
    pub created_by: Option<Origin>,
}

impl Table {
    pub fn new(schema: &str, name: &str) -> Self {
        Table {
            schema: schema.to_owned(),
            name: name.to_owned(),
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            indexes: Vec::new(),
            exclusions: Vec::new(),
            created_by: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

/// A sequence's definition and, live, its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    pub data_type: PgType,
    pub start: i64,
    pub increment: i64,
    /// The column that owns it (`OWNED BY`, serial or identity), as `(schema, table, column)`.
    pub owned_by: Option<(String, String, String)>,
    /// `last_value` and `is_called` as read from the live sequence; `None` in the replay.
    pub state: Option<SequenceState>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequenceState {
    pub last_value: i64,
    pub is_called: bool,
}

impl SequenceState {
    /// The value the next `nextval()` returns.
    pub fn next_value(&self, increment: i64) -> i64 {
        if self.is_called {
            self.last_value.saturating_add(increment)
        } else {
            self.last_value
        }
    }
}

/// A whole database (or the part of it the migrations describe).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<TableKey, Table>,
    pub sequences: BTreeMap<TableKey, Sequence>,
    /// Named enum types and their labels.
    pub enums: BTreeMap<TableKey, Vec<String>>,
    /// The last operation that created or changed each enum type (replay only).
    pub enum_origins: BTreeMap<TableKey, Origin>,
}

impl Schema {
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables.get(&(schema, name) as &dyn NamePair)
    }

    pub fn table_mut(&mut self, schema: &str, name: &str) -> Option<&mut Table> {
        self.tables.get_mut(&(schema, name) as &dyn NamePair)
    }

    pub fn sequence(&self, schema: &str, name: &str) -> Option<&Sequence> {
        self.sequences.get(&(schema, name) as &dyn NamePair)
    }
}

/// A `(schema, name)` key seen as two `&str`s, so that the maps keyed by [`TableKey`] can
/// be searched with borrowed names: a lookup then allocates nothing, which matters to a replay
/// of thousands of revisions.
pub trait NamePair {
    fn schema_part(&self) -> &str;
    fn name_part(&self) -> &str;
}

impl NamePair for TableKey {
    fn schema_part(&self) -> &str {
        &self.schema
    }
    fn name_part(&self) -> &str {
        &self.name
    }
}

impl NamePair for (&str, &str) {
    fn schema_part(&self) -> &str {
        self.0
    }
    fn name_part(&self) -> &str {
        self.1
    }
}

impl<'a> std::borrow::Borrow<dyn NamePair + 'a> for TableKey {
    fn borrow(&self) -> &(dyn NamePair + 'a) {
        self
    }
}

// `Borrow` requires the borrowed form to compare as the owned key does: `TableKey` orders by
// schema, then name, and so does this.
impl PartialEq for dyn NamePair + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.schema_part() == other.schema_part() && self.name_part() == other.name_part()
    }
}

impl Eq for dyn NamePair + '_ {}

// Hashes as `TableKey` does (derived): each part in turn.
impl std::hash::Hash for dyn NamePair + '_ {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.schema_part().hash(state);
        self.name_part().hash(state);
    }
}

impl PartialOrd for dyn NamePair + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn NamePair + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.schema_part(), self.name_part()).cmp(&(other.schema_part(), other.name_part()))
    }
}
