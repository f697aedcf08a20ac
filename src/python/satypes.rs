//! SQLAlchemy type expressions mapped to the PostgreSQL type that SQLAlchemy's PostgreSQL dialect
//! makes the server create, named as `format_type()` prints it.
//!
//! The lowering (`lower`) reads a type expression such as `sa.String(120)` or
//! `postgresql.ARRAY(sa.Enum("a", "b", name="kind"))` out of the Python syntax tree, evaluates its
//! arguments (literals, module constants, Python enum classes) and hands this module an [`SaType`];
//! [`map_type`] turns it into a [`PgType`] plus the enum types that `CREATE TABLE` creates with it.
//!
//! Invariant: a type is mapped only when the result is certain. An unknown class, an argument
//! computed at run time, or a type SQLAlchemy renders as DDL that PostgreSQL rejects (`DOUBLE`,
//! `DATETIME`, `BLOB`, `TEXT(100)`) is an `Err` with a short reason, never a guess.
//!
//! Verified against SQLAlchemy 2.0.58 and Alembic 1.18.5 (compiling `CreateTable` with
//! `sqlalchemy.dialects.postgresql.dialect()` and running `alembic upgrade --sql` on a project
//! using every type below), with each emitted type created in PostgreSQL 15 and read back through
//! `format_type(atttypid, atttypmod)`. What that showed, and this module follows:
//! - `String`/`Unicode`/`VARCHAR` emit `VARCHAR[(n)]`, `Text`/`UnicodeText` `TEXT`, `CHAR`
//!   without a length `CHAR`, which PostgreSQL stores as `character(1)`; `NCHAR(n)` is accepted
//!   as `character(n)`, while `NVARCHAR`, `CLOB`, `BLOB`, `BINARY`, `VARBINARY`, `DATETIME`,
//!   `DOUBLE` and `TEXT(n)` are emitted as written and rejected by PostgreSQL.
//! - `Float` emits `FLOAT`, stored as `double precision`; `Float(p)` emits `FLOAT(p)`, which is
//!   `real` for p in 1..=24 and `double precision` for 25..=53 (`Float(0)` emits plain `FLOAT`).
//! - `Numeric(10)` emits `NUMERIC(10)`, which `format_type` prints `numeric(10,0)`; a scale
//!   without a precision is dropped.
//! - `DateTime`/`TIMESTAMP` emit `TIMESTAMP WITHOUT TIME ZONE` (`WITH` for `timezone=True`),
//!   `postgresql.TIMESTAMP(precision=3)` `TIMESTAMP(3) ...`; the same for `Time`/`TIME`.
//!   `Interval(second_precision=2)` emits `INTERVAL (2)`; `Interval(native=False)` emits
//!   `TIMESTAMP WITHOUT TIME ZONE`; `postgresql.INTERVAL(fields="DAY")` emits `INTERVAL DAY`.
//! - `LargeBinary` and `PickleType` emit `BYTEA`; `Uuid(native_uuid=False)` emits `CHAR(32)`.
//! - `ARRAY(X, dimensions=2)` emits `X[][]`, which PostgreSQL stores as `X[]`: the server keeps
//!   one array type whatever the dimensions, so the type here always has one dimension. Nested
//!   `ARRAY(ARRAY(...))` is refused by SQLAlchemy.
//! - `Enum("a", "b", name="status")` emits the type name, and `op.create_table` emits
//!   `CREATE TYPE status AS ENUM ('a', 'b')` first, once per table, also for an enum inside an
//!   `ARRAY`. The type goes into the enum's own `schema=` (not the table's) unless
//!   `inherit_schema=True`. `create_type=False` stops the `CREATE TYPE` only on
//!   `postgresql.ENUM`; on `sa.Enum` it is accepted and ignored. `op.add_column` and
//!   `op.alter_column` never create the type. An enum without a name is refused for PostgreSQL.
//!   A Python enum class contributes its member names (not values) unless `values_callable` is
//!   given. `native_enum=False` emits `VARCHAR(n)` with n the longest value (or `length=`), plus
//!   a `CHECK (col IN (...))` named after the enum when `create_constraint=True`.
//! - `Integer().with_variant(BigInteger(), "postgresql")` emits the PostgreSQL variant.

use crate::schema::ops::QualName;
use crate::schema::types::PgType;

/// Where a type class comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeModule {
    /// `sqlalchemy`, `sqlalchemy.types`, `sqlalchemy.sql.sqltypes`.
    Generic,
    /// `sqlalchemy.dialects.postgresql`.
    Postgresql,
}

/// A SQLAlchemy type expression with its arguments evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct SaType {
    pub module: TypeModule,
    /// The class name as written: `String`, `JSONB`, `ENUM`.
    pub class: String,
    pub args: Vec<TypeArg>,
    pub kwargs: Vec<(String, TypeArg)>,
    /// `.with_variant(X, "postgresql")`: the type PostgreSQL gets instead.
    pub postgresql_variant: Option<Box<SaType>>,
}

impl SaType {
    /// A class used without arguments (`sa.Integer` or `sa.Integer()`).
    pub fn bare(module: TypeModule, class: &str) -> Self {
        SaType {
            module,
            class: class.to_owned(),
            args: Vec::new(),
            kwargs: Vec::new(),
            postgresql_variant: None,
        }
    }

    fn arg(&self, keyword: &str, position: usize) -> Option<&TypeArg> {
        self.kwargs
            .iter()
            .find(|(k, _)| k == keyword)
            .map(|(_, v)| v)
            .or_else(|| self.args.get(position))
    }

    fn keyword(&self, keyword: &str) -> Option<&TypeArg> {
        self.kwargs
            .iter()
            .find(|(k, _)| k == keyword)
            .map(|(_, v)| v)
    }

    fn display_name(&self) -> String {
        match self.module {
            TypeModule::Generic => format!("sa.{}", self.class),
            TypeModule::Postgresql => format!("postgresql.{}", self.class),
        }
    }
}

/// One evaluated argument of a type expression.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeArg {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    /// A type argument (`ARRAY(sa.Integer)`).
    Type(Box<SaType>),
    /// A Python enum class defined in the revision file, as its member names.
    EnumClass(Vec<String>),
    /// Something that could not be evaluated, as its source text.
    Unknown(String),
}

/// A named PostgreSQL enum type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumType {
    pub name: QualName,
    pub values: Vec<String>,
}

/// A `CHECK (column IN (...))` that a non-native enum with `create_constraint=True` adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumCheck {
    /// The enum's `name=`, which SQLAlchemy gives the constraint.
    pub name: Option<String>,
    pub values: Vec<String>,
}

impl EnumCheck {
    /// The constraint's condition for `column`, as SQLAlchemy renders it.
    pub fn sql(&self, column: &str) -> String {
        let values: Vec<String> = self.values.iter().map(|v| sql_string(v)).collect();
        format!("{column} IN ({})", values.join(", "))
    }
}

/// The PostgreSQL side of a SQLAlchemy type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedType {
    pub ty: PgType,
    /// Enum types that `op.create_table` creates before the table (in order, without repeats).
    /// `op.add_column` and `op.alter_column` do not create them.
    pub created_enums: Vec<EnumType>,
    pub check: Option<EnumCheck>,
}

impl MappedType {
    fn plain(ty: PgType) -> Self {
        MappedType {
            ty,
            created_enums: Vec::new(),
            check: None,
        }
    }
}

/// `value` as a SQL string literal.
pub fn sql_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The PostgreSQL type SQLAlchemy's PostgreSQL dialect emits for `t`, on a table in
/// `table_schema` (for `Enum(inherit_schema=True)`). `Err` says why it cannot be told.
pub fn map_type(t: &SaType, table_schema: Option<&str>) -> Result<MappedType, String> {
    if let Some(variant) = &t.postgresql_variant {
        return map_type(variant, table_schema);
    }
    let class = t.class.as_str();
    // The PostgreSQL dialect module exports only upper-case names (plus ENUM and friends); the
    // CamelCase generic classes exist only in `sqlalchemy` itself.
    let known_in_module = match t.module {
        TypeModule::Generic => GENERIC_CLASSES.contains(&class),
        TypeModule::Postgresql => POSTGRESQL_CLASSES.contains(&class),
    };
    if !known_in_module {
        return Err(format!(
            "{} is not a type the replay knows",
            t.display_name()
        ));
    }
    let simple = |name: &str| Ok(MappedType::plain(PgType::simple(name)));
    match class {
        "String" | "Unicode" | "VARCHAR" => Ok(MappedType::plain(with_length(
            t,
            "character varying",
            None,
        )?)),
        "NVARCHAR" | "CLOB" | "BLOB" | "BINARY" | "VARBINARY" | "DATETIME" | "DOUBLE" => {
            Err(format!(
                "SQLAlchemy emits {class} for {}, which PostgreSQL rejects",
                t.display_name()
            ))
        }
        "Text" | "UnicodeText" | "TEXT" => match length(t)? {
            None => simple("text"),
            Some(n) => Err(format!(
                "SQLAlchemy emits TEXT({n}) for {}, which PostgreSQL rejects",
                t.display_name()
            )),
        },
        // PostgreSQL reads a bare CHAR as character(1).
        "CHAR" | "NCHAR" => Ok(MappedType::plain(with_length(t, "character", Some(1))?)),
        "Float" | "FLOAT" => float(t),
        "Numeric" | "NUMERIC" | "DECIMAL" => numeric(t),
        "DateTime" | "TIMESTAMP" => time_like(t, "timestamp"),
        "Time" | "TIME" => time_like(t, "time"),
        "Interval" | "INTERVAL" => interval(t),
        "Uuid" => match t.keyword("native_uuid") {
            None | Some(TypeArg::Bool(true)) => simple("uuid"),
            Some(TypeArg::Bool(false)) => Ok(MappedType::plain(PgType {
                name: "character".to_owned(),
                modifiers: vec![32],
                array_dims: 0,
            })),
            Some(other) => Err(unknown_argument(t, "native_uuid", other)),
        },
        "ARRAY" => array(t, table_schema),
        "Enum" | "ENUM" => enumeration(t, table_schema),
        "BIT" => bit(t),
        // The types without arguments: one table for both directions.
        _ => match super::type_table::plain_type_of_class(class) {
            Some(name) => simple(name),
            None => Err(format!(
                "{} is not a type the replay knows",
                t.display_name()
            )),
        },
    }
}

/// Type classes of `sqlalchemy` (and `sqlalchemy.types`) that can appear in DDL.
const GENERIC_CLASSES: &[&str] = &[
    "ARRAY",
    "BIGINT",
    "BINARY",
    "BLOB",
    "BOOLEAN",
    "BigInteger",
    "Boolean",
    "CHAR",
    "CLOB",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "DOUBLE",
    "DOUBLE_PRECISION",
    "Date",
    "DateTime",
    "Double",
    "Enum",
    "FLOAT",
    "Float",
    "INT",
    "INTEGER",
    "Integer",
    "Interval",
    "JSON",
    "LargeBinary",
    "NCHAR",
    "NUMERIC",
    "NVARCHAR",
    "Numeric",
    "PickleType",
    "REAL",
    "SMALLINT",
    "SmallInteger",
    "String",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "Text",
    "Time",
    "UUID",
    "Unicode",
    "UnicodeText",
    "Uuid",
    "VARBINARY",
    "VARCHAR",
];

/// Type classes that `sqlalchemy.dialects.postgresql` exports.
const POSTGRESQL_CLASSES: &[&str] = &[
    "ARRAY",
    "BIGINT",
    "BIT",
    "BOOLEAN",
    "BYTEA",
    "CHAR",
    "CIDR",
    "CITEXT",
    "DATE",
    "DATEMULTIRANGE",
    "DATERANGE",
    "DOUBLE_PRECISION",
    "ENUM",
    "FLOAT",
    "HSTORE",
    "INET",
    "INT4MULTIRANGE",
    "INT4RANGE",
    "INT8MULTIRANGE",
    "INT8RANGE",
    "INTEGER",
    "INTERVAL",
    "JSON",
    "JSONB",
    "JSONPATH",
    "MACADDR",
    "MACADDR8",
    "MONEY",
    "NUMERIC",
    "NUMMULTIRANGE",
    "NUMRANGE",
    "OID",
    "REAL",
    "REGCLASS",
    "REGCONFIG",
    "SMALLINT",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "TSMULTIRANGE",
    "TSQUERY",
    "TSRANGE",
    "TSTZMULTIRANGE",
    "TSTZRANGE",
    "TSVECTOR",
    "UUID",
    "VARCHAR",
];

fn unknown_argument(t: &SaType, name: &str, arg: &TypeArg) -> String {
    match arg {
        TypeArg::Unknown(text) => format!(
            "{}({name}={text}) has an argument computed at run time",
            t.display_name()
        ),
        _ => format!("{} has an unexpected {name}= argument", t.display_name()),
    }
}

/// An optional non-negative integer argument, given by keyword or at `position`.
fn optional_u32(t: &SaType, keyword: &str, position: usize) -> Result<Option<u32>, String> {
    non_negative(t, keyword, t.arg(keyword, position))
}

fn non_negative(t: &SaType, keyword: &str, arg: Option<&TypeArg>) -> Result<Option<u32>, String> {
    match arg {
        None | Some(TypeArg::None) => Ok(None),
        Some(TypeArg::Int(n)) => u32::try_from(*n)
            .map(Some)
            .map_err(|_| format!("{} has {keyword}={n}", t.display_name())),
        Some(other) => Err(unknown_argument(t, keyword, other)),
    }
}

/// An optional boolean argument.
fn optional_bool(t: &SaType, keyword: &str, position: usize) -> Result<Option<bool>, String> {
    match t.arg(keyword, position) {
        None | Some(TypeArg::None) => Ok(None),
        Some(TypeArg::Bool(b)) => Ok(Some(*b)),
        // Python treats 0 and 1 as booleans here.
        Some(TypeArg::Int(n)) => Ok(Some(*n != 0)),
        Some(other) => Err(unknown_argument(t, keyword, other)),
    }
}

fn length(t: &SaType) -> Result<Option<u32>, String> {
    optional_u32(t, "length", 0)
}

fn with_length(t: &SaType, name: &str, default: Option<u32>) -> Result<PgType, String> {
    let modifiers = match length(t)?.or(default) {
        Some(n) => vec![n],
        None => Vec::new(),
    };
    Ok(PgType {
        name: name.to_owned(),
        modifiers,
        array_dims: 0,
    })
}

fn float(t: &SaType) -> Result<MappedType, String> {
    let name = match optional_u32(t, "precision", 0)? {
        // SQLAlchemy leaves out a precision of 0, as if none were given.
        None | Some(0) => "double precision",
        Some(1..=24) => "real",
        Some(25..=53) => "double precision",
        Some(p) => {
            return Err(format!(
                "SQLAlchemy emits FLOAT({p}), which PostgreSQL rejects"
            ));
        }
    };
    Ok(MappedType::plain(PgType::simple(name)))
}

fn numeric(t: &SaType) -> Result<MappedType, String> {
    let precision = optional_u32(t, "precision", 0)?;
    let scale = optional_u32(t, "scale", 1)?;
    // NUMERIC(p) is NUMERIC(p, 0) to PostgreSQL; a scale without a precision is not emitted.
    let modifiers = match precision {
        None => Vec::new(),
        Some(p) => vec![p, scale.unwrap_or(0)],
    };
    Ok(MappedType::plain(PgType {
        name: "numeric".to_owned(),
        modifiers,
        array_dims: 0,
    }))
}

/// `timestamp` or `time`, with or without time zone and precision.
fn time_like(t: &SaType, base: &str) -> Result<MappedType, String> {
    let timezone = optional_bool(t, "timezone", 0)?.unwrap_or(false);
    // Only the PostgreSQL dialect's TIMESTAMP and TIME take a precision (second argument).
    let precision = match t.module {
        TypeModule::Postgresql => optional_u32(t, "precision", 1)?,
        TypeModule::Generic => None,
    };
    let zone = if timezone {
        "with time zone"
    } else {
        "without time zone"
    };
    Ok(MappedType::plain(PgType {
        name: format!("{base} {zone}"),
        modifiers: precision.into_iter().collect(),
        array_dims: 0,
    }))
}

fn interval(t: &SaType) -> Result<MappedType, String> {
    let (precision, fields) = match t.module {
        TypeModule::Generic => {
            // A non-native Interval is stored as a timestamp (epoch plus the interval).
            if optional_bool(t, "native", 0)? == Some(false) {
                return Ok(MappedType::plain(PgType::simple(
                    "timestamp without time zone",
                )));
            }
            (optional_u32(t, "second_precision", 1)?, None)
        }
        TypeModule::Postgresql => {
            let fields = match t.arg("fields", 1) {
                None | Some(TypeArg::None) => None,
                Some(TypeArg::Str(f)) => Some(f.to_ascii_lowercase()),
                Some(other) => return Err(unknown_argument(t, "fields", other)),
            };
            (optional_u32(t, "precision", 0)?, fields)
        }
    };
    let name = match fields {
        Some(f) => format!(
            "interval {}",
            f.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
        None => "interval".to_owned(),
    };
    Ok(MappedType::plain(PgType {
        name,
        modifiers: precision.into_iter().collect(),
        array_dims: 0,
    }))
}

fn bit(t: &SaType) -> Result<MappedType, String> {
    let varying = optional_bool(t, "varying", 1)?.unwrap_or(false);
    let length = length(t)?;
    let (name, modifiers) = if varying {
        ("bit varying", length.into_iter().collect())
    } else {
        // BIT without a length is BIT(1), in SQLAlchemy and in PostgreSQL alike.
        ("bit", vec![length.unwrap_or(1)])
    };
    Ok(MappedType::plain(PgType {
        name: name.to_owned(),
        modifiers,
        array_dims: 0,
    }))
}

fn array(t: &SaType, table_schema: Option<&str>) -> Result<MappedType, String> {
    let item = match t.arg("item_type", 0) {
        Some(TypeArg::Type(item)) => item,
        Some(other) => return Err(unknown_argument(t, "item_type", other)),
        None => return Err(format!("{} without an item type", t.display_name())),
    };
    let mut mapped = map_type(item, table_schema)?;
    if mapped.ty.array_dims > 0 {
        return Err("a nested ARRAY, which SQLAlchemy refuses".to_owned());
    }
    // PostgreSQL has one array type per element type, whatever `dimensions=` says.
    mapped.ty.array_dims = 1;
    // An array of a non-native enum has no column to put a CHECK on.
    mapped.check = None;
    Ok(mapped)
}

fn enumeration(t: &SaType, table_schema: Option<&str>) -> Result<MappedType, String> {
    let mut values = Vec::new();
    let mut from_class = false;
    for arg in &t.args {
        match arg {
            TypeArg::Str(v) => values.push(v.clone()),
            TypeArg::EnumClass(names) => {
                from_class = true;
                values.extend(names.iter().cloned());
            }
            other => return Err(unknown_argument(t, "values", other)),
        }
    }
    if from_class && t.keyword("values_callable").is_some() {
        return Err(format!(
            "{} with values_callable= computes its values at run time",
            t.display_name()
        ));
    }
    let name = match t.keyword("name") {
        None | Some(TypeArg::None) => None,
        Some(TypeArg::Str(n)) => Some(n.clone()),
        Some(other) => return Err(unknown_argument(t, "name", other)),
    };
    let native = match t.keyword("native_enum") {
        None => true,
        Some(TypeArg::Bool(b)) => *b,
        Some(other) => return Err(unknown_argument(t, "native_enum", other)),
    };
    if !native {
        let longest = values.iter().map(|v| v.chars().count()).max().unwrap_or(0);
        // An enum's positional arguments are its values, so `length` is a keyword only.
        let length = non_negative(t, "length", t.keyword("length"))?
            .unwrap_or(u32::try_from(longest).unwrap_or(u32::MAX));
        let check = match t.keyword("create_constraint") {
            Some(TypeArg::Bool(true)) => Some(EnumCheck {
                name: name.clone(),
                values,
            }),
            None | Some(TypeArg::Bool(false)) => None,
            Some(other) => return Err(unknown_argument(t, "create_constraint", other)),
        };
        return Ok(MappedType {
            ty: PgType {
                name: "character varying".to_owned(),
                modifiers: vec![length],
                array_dims: 0,
            },
            created_enums: Vec::new(),
            check,
        });
    }
    let Some(name) = name else {
        return Err(format!(
            "{} without name=, which PostgreSQL needs",
            t.display_name()
        ));
    };
    let schema = match t.keyword("schema") {
        Some(TypeArg::Str(s)) => Some(s.clone()),
        None | Some(TypeArg::None) => match t.keyword("inherit_schema") {
            Some(TypeArg::Bool(true)) => table_schema.map(str::to_owned),
            None | Some(TypeArg::Bool(false)) => None,
            Some(other) => return Err(unknown_argument(t, "inherit_schema", other)),
        },
        Some(other) => return Err(unknown_argument(t, "schema", other)),
    };
    // Only the PostgreSQL dialect's ENUM honours create_type=False.
    let create = match (t.module, t.keyword("create_type")) {
        (TypeModule::Postgresql, Some(TypeArg::Bool(b))) => *b,
        (TypeModule::Postgresql, Some(other)) => {
            return Err(unknown_argument(t, "create_type", other));
        }
        _ => true,
    };
    // format_type() qualifies a type outside the search path; `public` is on it.
    let type_name = match schema.as_deref() {
        Some(s) if s != "public" => format!("{s}.{name}"),
        _ => name.clone(),
    };
    let created_enums = if create {
        if values.is_empty() {
            return Err(format!(
                "{} named {name} without values, which CREATE TYPE needs",
                t.display_name()
            ));
        }
        vec![EnumType {
            name: QualName { schema, name },
            values,
        }]
    } else {
        Vec::new()
    };
    Ok(MappedType {
        ty: PgType::simple(&type_name),
        created_enums,
        check: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(class: &str) -> SaType {
        SaType::bare(TypeModule::Generic, class)
    }

    fn pg(class: &str) -> SaType {
        SaType::bare(TypeModule::Postgresql, class)
    }

    fn with_args(mut t: SaType, args: Vec<TypeArg>) -> SaType {
        t.args = args;
        t
    }

    fn with_kwargs(mut t: SaType, kwargs: &[(&str, TypeArg)]) -> SaType {
        t.kwargs = kwargs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        t
    }

    /// The type as `format_type()` prints it.
    fn shown(t: &SaType) -> String {
        match map_type(t, None) {
            Ok(m) => m.ty.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn simple_generic_types() {
        let cases = [
            ("String", "character varying"),
            ("Unicode", "character varying"),
            ("VARCHAR", "character varying"),
            ("Text", "text"),
            ("UnicodeText", "text"),
            ("TEXT", "text"),
            ("CHAR", "character(1)"),
            ("NCHAR", "character(1)"),
            ("Boolean", "boolean"),
            ("BOOLEAN", "boolean"),
            ("Integer", "integer"),
            ("INTEGER", "integer"),
            ("INT", "integer"),
            ("BigInteger", "bigint"),
            ("BIGINT", "bigint"),
            ("SmallInteger", "smallint"),
            ("SMALLINT", "smallint"),
            ("Float", "double precision"),
            ("FLOAT", "double precision"),
            ("Double", "double precision"),
            ("DOUBLE_PRECISION", "double precision"),
            ("REAL", "real"),
            ("Numeric", "numeric"),
            ("NUMERIC", "numeric"),
            ("DECIMAL", "numeric"),
            ("Date", "date"),
            ("DATE", "date"),
            ("DateTime", "timestamp without time zone"),
            ("TIMESTAMP", "timestamp without time zone"),
            ("Time", "time without time zone"),
            ("TIME", "time without time zone"),
            ("Interval", "interval"),
            ("LargeBinary", "bytea"),
            ("PickleType", "bytea"),
            ("JSON", "json"),
            ("UUID", "uuid"),
            ("Uuid", "uuid"),
        ];
        for (class, expected) in cases {
            assert_eq!(shown(&generic(class)), expected, "sa.{class}");
        }
    }

    #[test]
    fn postgresql_dialect_types() {
        let cases = [
            ("JSONB", "jsonb"),
            ("JSON", "json"),
            ("UUID", "uuid"),
            ("BYTEA", "bytea"),
            ("INET", "inet"),
            ("CIDR", "cidr"),
            ("CITEXT", "citext"),
            ("MACADDR", "macaddr"),
            ("MONEY", "money"),
            ("TSVECTOR", "tsvector"),
            ("HSTORE", "hstore"),
            ("INT4RANGE", "int4range"),
            ("TSTZRANGE", "tstzrange"),
            ("DOUBLE_PRECISION", "double precision"),
            ("REAL", "real"),
            ("INTERVAL", "interval"),
            ("TIMESTAMP", "timestamp without time zone"),
            ("BIT", "bit(1)"),
            ("VARCHAR", "character varying"),
            ("INTEGER", "integer"),
        ];
        for (class, expected) in cases {
            assert_eq!(shown(&pg(class)), expected, "postgresql.{class}");
        }
    }

    #[test]
    fn lengths_precisions_and_time_zones() {
        let string = with_args(generic("String"), vec![TypeArg::Int(120)]);
        assert_eq!(shown(&string), "character varying(120)");
        let string = with_kwargs(generic("String"), &[("length", TypeArg::Int(7))]);
        assert_eq!(shown(&string), "character varying(7)");
        let string = with_args(generic("String"), vec![TypeArg::None]);
        assert_eq!(shown(&string), "character varying");
        let char5 = with_args(generic("CHAR"), vec![TypeArg::Int(5)]);
        assert_eq!(shown(&char5), "character(5)");
        let num = with_args(generic("Numeric"), vec![TypeArg::Int(10), TypeArg::Int(2)]);
        assert_eq!(shown(&num), "numeric(10,2)");
        let num = with_args(generic("Numeric"), vec![TypeArg::Int(10)]);
        assert_eq!(shown(&num), "numeric(10,0)");
        let num = with_kwargs(generic("Numeric"), &[("scale", TypeArg::Int(2))]);
        assert_eq!(shown(&num), "numeric");
        let dec = with_kwargs(
            generic("DECIMAL"),
            &[("precision", TypeArg::Int(8)), ("scale", TypeArg::Int(3))],
        );
        assert_eq!(shown(&dec), "numeric(8,3)");
        let f = with_kwargs(generic("Float"), &[("precision", TypeArg::Int(24))]);
        assert_eq!(shown(&f), "real");
        let f = with_args(generic("Float"), vec![TypeArg::Int(53)]);
        assert_eq!(shown(&f), "double precision");
        let f = with_args(generic("Float"), vec![TypeArg::Int(0)]);
        assert_eq!(shown(&f), "double precision");
        let f = with_args(generic("Float"), vec![TypeArg::Int(60)]);
        assert!(shown(&f).starts_with("error:"));
        let dt = with_kwargs(generic("DateTime"), &[("timezone", TypeArg::Bool(true))]);
        assert_eq!(shown(&dt), "timestamp with time zone");
        let dt = with_args(generic("DateTime"), vec![TypeArg::Bool(true)]);
        assert_eq!(shown(&dt), "timestamp with time zone");
        let ts = with_kwargs(
            pg("TIMESTAMP"),
            &[
                ("timezone", TypeArg::Bool(true)),
                ("precision", TypeArg::Int(3)),
            ],
        );
        assert_eq!(shown(&ts), "timestamp(3) with time zone");
        let ts = with_args(pg("TIMESTAMP"), vec![TypeArg::Bool(true), TypeArg::Int(2)]);
        assert_eq!(shown(&ts), "timestamp(2) with time zone");
        let time = with_kwargs(generic("Time"), &[("timezone", TypeArg::Bool(true))]);
        assert_eq!(shown(&time), "time with time zone");
        let time = with_kwargs(pg("TIME"), &[("precision", TypeArg::Int(2))]);
        assert_eq!(shown(&time), "time(2) without time zone");
        let iv = with_kwargs(
            generic("Interval"),
            &[("second_precision", TypeArg::Int(2))],
        );
        assert_eq!(shown(&iv), "interval(2)");
        let iv = with_kwargs(generic("Interval"), &[("native", TypeArg::Bool(false))]);
        assert_eq!(shown(&iv), "timestamp without time zone");
        let iv = with_kwargs(
            pg("INTERVAL"),
            &[
                ("fields", TypeArg::Str("DAY TO SECOND".into())),
                ("precision", TypeArg::Int(3)),
            ],
        );
        assert_eq!(shown(&iv), "interval day to second(3)");
        let bits = with_kwargs(pg("BIT"), &[("varying", TypeArg::Bool(true))]);
        assert_eq!(shown(&bits), "bit varying");
        let bits = with_args(pg("BIT"), vec![TypeArg::Int(3)]);
        assert_eq!(shown(&bits), "bit(3)");
        let uuid = with_kwargs(generic("Uuid"), &[("native_uuid", TypeArg::Bool(false))]);
        assert_eq!(shown(&uuid), "character(32)");
        let uuid = with_kwargs(pg("UUID"), &[("as_uuid", TypeArg::Bool(true))]);
        assert_eq!(shown(&uuid), "uuid");
    }

    #[test]
    fn types_postgresql_rejects_are_errors() {
        for class in [
            "NVARCHAR",
            "CLOB",
            "BLOB",
            "BINARY",
            "VARBINARY",
            "DATETIME",
            "DOUBLE",
        ] {
            assert!(
                shown(&generic(class)).contains("PostgreSQL rejects"),
                "sa.{class}"
            );
        }
        let text = with_args(generic("Text"), vec![TypeArg::Int(100)]);
        assert!(shown(&text).contains("TEXT(100)"));
    }

    #[test]
    fn unknown_classes_and_arguments_are_errors() {
        assert_eq!(
            shown(&generic("Wibble")),
            "error: sa.Wibble is not a type the replay knows"
        );
        // The dialect module does not export the CamelCase generic classes.
        assert!(shown(&pg("Integer")).starts_with("error:"));
        let computed = with_args(generic("String"), vec![TypeArg::Unknown("LEN".into())]);
        assert_eq!(
            shown(&computed),
            "error: sa.String(length=LEN) has an argument computed at run time"
        );
    }

    #[test]
    fn arrays_have_one_dimension() {
        let arr = with_args(
            generic("ARRAY"),
            vec![TypeArg::Type(Box::new(generic("Integer")))],
        );
        assert_eq!(shown(&arr), "integer[]");
        let arr = with_kwargs(
            with_args(
                pg("ARRAY"),
                vec![TypeArg::Type(Box::new(with_args(
                    generic("String"),
                    vec![TypeArg::Int(20)],
                )))],
            ),
            &[("dimensions", TypeArg::Int(2))],
        );
        assert_eq!(shown(&arr), "character varying(20)[]");
        let nested = with_args(pg("ARRAY"), vec![TypeArg::Type(Box::new(arr))]);
        assert!(shown(&nested).starts_with("error:"));
        assert!(shown(&generic("ARRAY")).starts_with("error:"));
    }

    #[test]
    fn variants_pick_postgresql() {
        let mut t = generic("Integer");
        t.postgresql_variant = Some(Box::new(generic("BigInteger")));
        assert_eq!(shown(&t), "bigint");
    }

    fn status_enum(module: TypeModule, kwargs: &[(&str, TypeArg)]) -> SaType {
        with_kwargs(
            with_args(
                SaType::bare(
                    module,
                    if module == TypeModule::Generic {
                        "Enum"
                    } else {
                        "ENUM"
                    },
                ),
                vec![TypeArg::Str("a".into()), TypeArg::Str("bb".into())],
            ),
            kwargs,
        )
    }

    #[test]
    fn named_enums_are_created_with_the_table() {
        let t = status_enum(
            TypeModule::Generic,
            &[("name", TypeArg::Str("status".into()))],
        );
        let m = map_type(&t, Some("app")).expect("maps");
        assert_eq!(m.ty, PgType::simple("status"));
        assert_eq!(
            m.created_enums,
            vec![EnumType {
                name: QualName::new(None, "status"),
                values: vec!["a".into(), "bb".into()],
            }]
        );
        // create_type=False is honoured by postgresql.ENUM only.
        let t = status_enum(
            TypeModule::Postgresql,
            &[
                ("name", TypeArg::Str("status".into())),
                ("create_type", TypeArg::Bool(false)),
            ],
        );
        assert!(map_type(&t, None).expect("maps").created_enums.is_empty());
        let t = status_enum(
            TypeModule::Generic,
            &[
                ("name", TypeArg::Str("status".into())),
                ("create_type", TypeArg::Bool(false)),
            ],
        );
        assert_eq!(map_type(&t, None).expect("maps").created_enums.len(), 1);
        // A postgresql.ENUM naming an existing type needs no values.
        let t = with_kwargs(
            pg("ENUM"),
            &[
                ("name", TypeArg::Str("status".into())),
                ("create_type", TypeArg::Bool(false)),
            ],
        );
        assert_eq!(shown(&t), "status");
    }

    #[test]
    fn enum_schemas() {
        let t = status_enum(
            TypeModule::Generic,
            &[
                ("name", TypeArg::Str("status".into())),
                ("schema", TypeArg::Str("other".into())),
            ],
        );
        let m = map_type(&t, Some("app")).expect("maps");
        assert_eq!(m.ty.to_string(), "other.status");
        assert_eq!(
            m.created_enums[0].name,
            QualName::new(Some("other"), "status")
        );
        let t = status_enum(
            TypeModule::Generic,
            &[
                ("name", TypeArg::Str("status".into())),
                ("inherit_schema", TypeArg::Bool(true)),
            ],
        );
        let m = map_type(&t, Some("app")).expect("maps");
        assert_eq!(m.ty.to_string(), "app.status");
        assert_eq!(
            m.created_enums[0].name,
            QualName::new(Some("app"), "status")
        );
    }

    #[test]
    fn enum_errors_and_non_native_enums() {
        let unnamed = status_enum(TypeModule::Generic, &[]);
        assert!(shown(&unnamed).contains("without name="));
        let t = status_enum(
            TypeModule::Generic,
            &[
                ("native_enum", TypeArg::Bool(false)),
                ("create_constraint", TypeArg::Bool(true)),
                ("name", TypeArg::Str("kind".into())),
            ],
        );
        let m = map_type(&t, None).expect("maps");
        assert_eq!(m.ty.to_string(), "character varying(2)");
        let check = m.check.expect("a check");
        assert_eq!(check.name.as_deref(), Some("kind"));
        assert_eq!(check.sql("e"), "e IN ('a', 'bb')");
        let t = status_enum(
            TypeModule::Generic,
            &[
                ("native_enum", TypeArg::Bool(false)),
                ("length", TypeArg::Int(10)),
            ],
        );
        assert_eq!(shown(&t), "character varying(10)");
        let class = with_kwargs(
            with_args(
                generic("Enum"),
                vec![TypeArg::EnumClass(vec!["RED".into(), "GREEN".into()])],
            ),
            &[("name", TypeArg::Str("color".into()))],
        );
        let m = map_type(&class, None).expect("maps");
        assert_eq!(m.created_enums[0].values, vec!["RED", "GREEN"]);
        let mut with_callable = class.clone();
        with_callable
            .kwargs
            .push(("values_callable".into(), TypeArg::Unknown("f".into())));
        assert!(shown(&with_callable).contains("values_callable"));
        let computed = with_args(generic("Enum"), vec![TypeArg::Unknown("VALUES".into())]);
        assert!(shown(&computed).contains("computed at run time"));
    }

    #[test]
    fn arrays_of_enums_create_the_enum() {
        let e = status_enum(
            TypeModule::Generic,
            &[("name", TypeArg::Str("kind".into()))],
        );
        let arr = with_args(generic("ARRAY"), vec![TypeArg::Type(Box::new(e))]);
        let m = map_type(&arr, None).expect("maps");
        assert_eq!(m.ty.to_string(), "kind[]");
        assert_eq!(m.created_enums.len(), 1);
    }
}
