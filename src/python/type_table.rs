//! The SQLAlchemy type mapping in both directions, in one place: the types without arguments as
//! one table ([`PLAIN_TYPES`]: the PostgreSQL type, how a migration writes it, the classes that
//! make it), read by [`super::satypes::map_type`] (Python → PostgreSQL, for the replay) and by
//! [`sqlalchemy_type`] (PostgreSQL → Python, for the migration snippets); the types whose
//! arguments matter (lengths, precisions, time zones, arrays, bits) are spelled in both functions,
//! next to each other's cases in the round-trip test below.
//!
//! Invariant: a round trip is the identity. For every type [`sqlalchemy_type`] spells, lowering
//! the spelling gives the type back (the test at the bottom lowers each one as a migration would).

use crate::schema::types::PgType;

/// A PostgreSQL type without modifiers and its SQLAlchemy spellings.
pub struct PlainType {
    /// The type as `format_type()` prints it.
    pub pg: &'static str,
    /// What a new migration writes for it (`sa.` generic, `postgresql.` the dialect's), or `None`
    /// when SQLAlchemy has no spelling that creates it (the snippet is then raw SQL).
    pub written: Option<&'static str>,
    /// The classes SQLAlchemy's PostgreSQL dialect turns into it, when given no arguments that
    /// change it (`Text` with a length is refused before this table is read).
    pub classes: &'static [&'static str],
}

macro_rules! plain_types {
    ($( $pg:literal, $written:expr, [$($class:literal),*]; )*) => {
        /// Every PostgreSQL type without modifiers that the mapping knows. A new type is one row.
        pub const PLAIN_TYPES: &[PlainType] = &[
            $( PlainType { pg: $pg, written: $written, classes: &[$($class),*] }, )*
        ];
    };
}

plain_types! {
    "integer", Some("sa.Integer()"), ["Integer", "INTEGER", "INT"];
    "bigint", Some("sa.BigInteger()"), ["BigInteger", "BIGINT"];
    "smallint", Some("sa.SmallInteger()"), ["SmallInteger", "SMALLINT"];
    "text", Some("sa.Text()"), ["Text", "UnicodeText", "TEXT"];
    "boolean", Some("sa.Boolean()"), ["Boolean", "BOOLEAN"];
    // SQLAlchemy's Float renders FLOAT, which PostgreSQL reads as double precision.
    "double precision", Some("sa.Float()"), ["Double", "DOUBLE_PRECISION"];
    "real", Some("sa.REAL()"), ["REAL"];
    "date", Some("sa.Date()"), ["Date", "DATE"];
    "bytea", Some("sa.LargeBinary()"), ["LargeBinary", "PickleType", "BYTEA"];
    "json", Some("sa.JSON()"), ["JSON"];
    "jsonb", Some("postgresql.JSONB()"), ["JSONB"];
    "jsonpath", None, ["JSONPATH"];
    "uuid", Some("postgresql.UUID()"), ["UUID"];
    "inet", Some("postgresql.INET()"), ["INET"];
    "cidr", Some("postgresql.CIDR()"), ["CIDR"];
    "macaddr", Some("postgresql.MACADDR()"), ["MACADDR"];
    "macaddr8", Some("postgresql.MACADDR8()"), ["MACADDR8"];
    "money", Some("postgresql.MONEY()"), ["MONEY"];
    "oid", Some("postgresql.OID()"), ["OID"];
    "regclass", Some("postgresql.REGCLASS()"), ["REGCLASS"];
    "regconfig", None, ["REGCONFIG"];
    "tsvector", Some("postgresql.TSVECTOR()"), ["TSVECTOR"];
    "tsquery", None, ["TSQUERY"];
    "citext", None, ["CITEXT"];
    "hstore", Some("postgresql.HSTORE()"), ["HSTORE"];
    "int4range", Some("postgresql.INT4RANGE()"), ["INT4RANGE"];
    "int8range", Some("postgresql.INT8RANGE()"), ["INT8RANGE"];
    "numrange", Some("postgresql.NUMRANGE()"), ["NUMRANGE"];
    "daterange", Some("postgresql.DATERANGE()"), ["DATERANGE"];
    "tsrange", Some("postgresql.TSRANGE()"), ["TSRANGE"];
    "tstzrange", Some("postgresql.TSTZRANGE()"), ["TSTZRANGE"];
    "int4multirange", None, ["INT4MULTIRANGE"];
    "int8multirange", None, ["INT8MULTIRANGE"];
    "nummultirange", None, ["NUMMULTIRANGE"];
    "datemultirange", None, ["DATEMULTIRANGE"];
    "tsmultirange", None, ["TSMULTIRANGE"];
    "tstzmultirange", None, ["TSTZMULTIRANGE"];
}

/// The PostgreSQL type a class without arguments makes, from [`PLAIN_TYPES`].
pub fn plain_type_of_class(class: &str) -> Option<&'static str> {
    PLAIN_TYPES
        .iter()
        .find(|row| row.classes.contains(&class))
        .map(|row| row.pg)
}

/// The SQLAlchemy expression that creates `ty` on PostgreSQL, when there is one. Uses `sa.` for
/// generic types and `postgresql.` (`from sqlalchemy.dialects import postgresql`) for the
/// dialect's own.
pub fn sqlalchemy_type(ty: &PgType) -> Option<String> {
    if ty.array_dims > 0 {
        let element = PgType {
            array_dims: 0,
            ..ty.clone()
        };
        let inner = sqlalchemy_type(&element)?;
        return Some(if ty.array_dims > 1 {
            format!("postgresql.ARRAY({inner}, dimensions={})", ty.array_dims)
        } else {
            format!("postgresql.ARRAY({inner})")
        });
    }
    let modifiers = ty.modifiers.as_slice();
    let no_modifiers = |expression: &str| modifiers.is_empty().then(|| expression.to_owned());
    match ty.name.as_str() {
        "character varying" => Some(match modifiers {
            [length] => format!("sa.String(length={length})"),
            _ => "sa.String()".to_owned(),
        }),
        "character" => Some(match modifiers {
            [length] => format!("sa.CHAR(length={length})"),
            _ => "sa.CHAR()".to_owned(),
        }),
        "numeric" => Some(match modifiers {
            [precision, scale] => format!("sa.Numeric(precision={precision}, scale={scale})"),
            _ => "sa.Numeric()".to_owned(),
        }),
        "timestamp without time zone" => Some(match modifiers {
            [precision] => format!("postgresql.TIMESTAMP(precision={precision})"),
            _ => "sa.DateTime()".to_owned(),
        }),
        "timestamp with time zone" => Some(match modifiers {
            [precision] => {
                format!("postgresql.TIMESTAMP(timezone=True, precision={precision})")
            }
            _ => "sa.DateTime(timezone=True)".to_owned(),
        }),
        "time without time zone" => Some(match modifiers {
            [precision] => format!("postgresql.TIME(precision={precision})"),
            _ => "sa.Time()".to_owned(),
        }),
        "time with time zone" => Some(match modifiers {
            [precision] => format!("postgresql.TIME(timezone=True, precision={precision})"),
            _ => "sa.Time(timezone=True)".to_owned(),
        }),
        "interval" => Some(match modifiers {
            [precision] => format!("postgresql.INTERVAL(precision={precision})"),
            _ => "sa.Interval()".to_owned(),
        }),
        name if name.starts_with("interval ") => {
            let fields = python_string(&name["interval ".len()..].to_uppercase());
            Some(match modifiers {
                [precision] => {
                    format!("postgresql.INTERVAL(fields={fields}, precision={precision})")
                }
                _ => format!("postgresql.INTERVAL(fields={fields})"),
            })
        }
        "bit" => Some(match modifiers {
            [length] => format!("postgresql.BIT({length})"),
            _ => "postgresql.BIT()".to_owned(),
        }),
        "bit varying" => Some(match modifiers {
            [length] => format!("postgresql.BIT({length}, varying=True)"),
            _ => "postgresql.BIT(varying=True)".to_owned(),
        }),
        name => PLAIN_TYPES
            .iter()
            .find(|row| row.pg == name)
            .and_then(|row| no_modifiers(row.written?)),
    }
}

/// A Python string literal, double-quoted.
pub fn python_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ops::Op;
    use crate::source::FileId;

    /// The type a migration that adds a column of type `written` gives the column.
    fn lowered(written: &str) -> Result<PgType, String> {
        let text = format!(
            "import sqlalchemy as sa\nfrom alembic import op\nfrom sqlalchemy.dialects import postgresql\n\n\
             def upgrade():\n    op.add_column(\"t\", sa.Column(\"c\", {written}))\n"
        );
        let parsed = ruff_python_parser::parse_module(&text).map_err(|e| e.to_string())?;
        let ops = crate::python::lower_upgrade(parsed.syntax(), &text, FileId(0));
        match ops.as_slice() {
            [at] => match &at.op {
                Op::AddColumn { column, .. } => Ok(column.ty.clone()),
                other => Err(format!("{other:?}")),
            },
            other => Err(format!("{other:?}")),
        }
    }

    /// Every type the snippets can spell: each plain type, and the types with modifiers or
    /// array dimensions that `sqlalchemy_type` spells case by case.
    fn spelled_types() -> Vec<PgType> {
        let mut types: Vec<PgType> = PLAIN_TYPES
            .iter()
            .filter(|row| row.written.is_some())
            .map(|row| PgType::simple(row.pg))
            .collect();
        for text in [
            "character varying",
            "character varying(120)",
            // A bare `character` or `bit` is not a type the catalog reports: PostgreSQL stores
            // them as `character(1)` and `bit(1)`, which is what their spelling gives back.
            "character(1)",
            "character(3)",
            "numeric",
            "numeric(10,2)",
            "timestamp without time zone",
            "timestamp(3) without time zone",
            "timestamp with time zone",
            "timestamp(3) with time zone",
            "time without time zone",
            "time(2) without time zone",
            "time with time zone",
            "time(2) with time zone",
            "interval",
            "interval(3)",
            "bit(1)",
            "bit(8)",
            "bit varying",
            "bit varying(5)",
            "integer[]",
            "character varying(20)[]",
            "text[]",
        ] {
            types.push(PgType::parse(text).unwrap_or_else(|e| panic!("{text}: {e}")));
        }
        types
    }

    #[test]
    fn a_round_trip_is_the_identity_for_every_spelled_type() {
        let mut failures = Vec::new();
        let types = spelled_types();
        for ty in &types {
            let Some(written) = sqlalchemy_type(ty) else {
                failures.push(format!("{ty}: no spelling"));
                continue;
            };
            match lowered(&written) {
                Ok(back) if back == *ty => {}
                Ok(back) => failures.push(format!("{ty} -> {written} -> {back}")),
                Err(e) => failures.push(format!("{ty} -> {written} -> {e}")),
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
        assert!(types.len() > PLAIN_TYPES.len());
    }

    #[test]
    fn every_plain_type_is_made_by_its_classes_and_unspelled_ones_stay_unspelled() {
        for row in PLAIN_TYPES {
            for class in row.classes {
                assert_eq!(plain_type_of_class(class), Some(row.pg), "{class}");
            }
            assert_eq!(
                sqlalchemy_type(&PgType::simple(row.pg)).as_deref(),
                row.written,
                "{}",
                row.pg
            );
        }
    }

    #[test]
    fn interval_fields_round_trip() {
        let ty = PgType {
            name: "interval day to second".to_owned(),
            modifiers: vec![3],
            array_dims: 0,
        };
        let written = sqlalchemy_type(&ty).expect("spelled");
        assert_eq!(lowered(&written), Ok(ty));
    }
}
