//! sqlparser's data types as PostgreSQL's, as `format_type()` prints them.

use super::*;

/// The PostgreSQL type a SQL type name stands for, as `format_type()` prints it, and whether it
/// was written as a `serial` pseudo-type.
pub fn pg_type(data_type: &DataType) -> Result<(PgType, bool), String> {
    let simple = |name: &str| Ok((PgType::simple(name), false));
    let with_length = |name: &str, length: Option<u64>| {
        let mut ty = PgType::simple(name);
        if let Some(length) = length {
            ty.modifiers.push(modifier(length)?);
        }
        Ok((ty, false))
    };
    match data_type {
        DataType::SmallInt(_) | DataType::Int2(_) => simple("smallint"),
        DataType::Int(_) | DataType::Int4(_) | DataType::Integer(_) => simple("integer"),
        DataType::BigInt(_) | DataType::Int8(_) => simple("bigint"),
        DataType::Real | DataType::Float4 => simple("real"),
        DataType::DoublePrecision | DataType::Float8 | DataType::Double(_) => {
            simple("double precision")
        }
        // `float(p)` is `real` up to 24 bits of precision and `double precision` beyond.
        DataType::Float(info) => match info {
            sqlparser::ast::ExactNumberInfo::Precision(p) if *p <= 24 => simple("real"),
            _ => simple("double precision"),
        },
        DataType::Numeric(info) | DataType::Decimal(info) | DataType::Dec(info) => {
            let mut ty = PgType::simple("numeric");
            match info {
                sqlparser::ast::ExactNumberInfo::None => {}
                sqlparser::ast::ExactNumberInfo::Precision(p) => ty.modifiers.push(modifier(*p)?),
                sqlparser::ast::ExactNumberInfo::PrecisionAndScale(p, s) => {
                    ty.modifiers.push(modifier(*p)?);
                    ty.modifiers
                        .push(u32::try_from(*s).map_err(|_| format!("negative scale {s}"))?);
                }
            }
            Ok((ty, false))
        }
        DataType::Bool | DataType::Boolean => simple("boolean"),
        DataType::Text => simple("text"),
        DataType::Varchar(length)
        | DataType::CharacterVarying(length)
        | DataType::CharVarying(length) => {
            with_length("character varying", character_length(length)?)
        }
        // `char` without a length is `char(1)`.
        DataType::Char(length) | DataType::Character(length) => {
            with_length("character", Some(character_length(length)?.unwrap_or(1)))
        }
        DataType::Bytea => simple("bytea"),
        DataType::Uuid => simple("uuid"),
        DataType::JSON => simple("json"),
        DataType::JSONB => simple("jsonb"),
        DataType::Date => simple("date"),
        DataType::Time(precision, tz) => {
            let name = match tz {
                TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => "time with time zone",
                TimezoneInfo::None | TimezoneInfo::WithoutTimeZone => "time without time zone",
            };
            with_length(name, *precision)
        }
        DataType::Timestamp(precision, tz) => {
            let name = match tz {
                TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => "timestamp with time zone",
                TimezoneInfo::None | TimezoneInfo::WithoutTimeZone => "timestamp without time zone",
            };
            with_length(name, *precision)
        }
        DataType::Interval { fields, precision } => {
            let name = match fields {
                Some(fields) => format!("interval {}", fields.to_string().to_ascii_lowercase()),
                None => "interval".to_owned(),
            };
            with_length(&name, *precision)
        }
        // `bit` without a length is `bit(1)`.
        DataType::Bit(length) => with_length("bit", Some(length.unwrap_or(1))),
        DataType::BitVarying(length) | DataType::VarBit(length) => {
            with_length("bit varying", *length)
        }
        DataType::Regclass => simple("regclass"),
        DataType::TsVector => simple("tsvector"),
        DataType::TsQuery => simple("tsquery"),
        DataType::Array(element) => {
            let inner = match element {
                sqlparser::ast::ArrayElemTypeDef::SquareBracket(inner, _)
                | sqlparser::ast::ArrayElemTypeDef::AngleBracket(inner)
                | sqlparser::ast::ArrayElemTypeDef::Parenthesis(inner) => inner,
                _ => return Err(format!("the array type {data_type} is not understood")),
            };
            let (mut ty, serial) = pg_type(inner)?;
            if serial {
                return Err("an array of serial is not a type".to_owned());
            }
            // PostgreSQL keeps no array dimensions: `integer[][]` is `integer[]`.
            ty.array_dims = 1;
            Ok((ty, false))
        }
        DataType::Custom(name, modifiers) => custom_type(name, modifiers),
        other => PgType::parse(&other.to_string())
            .map(|ty| (ty, false))
            .map_err(|_| format!("the type {other} is not a PostgreSQL type")),
    }
}

pub(super) fn modifier(value: u64) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("type modifier {value} is too large"))
}

pub(super) fn character_length(
    length: &Option<sqlparser::ast::CharacterLength>,
) -> Result<Option<u64>, String> {
    match length {
        None => Ok(None),
        Some(sqlparser::ast::CharacterLength::IntegerLength { length, .. }) => Ok(Some(*length)),
        Some(sqlparser::ast::CharacterLength::Max) => {
            Err("a length of MAX is not PostgreSQL".to_owned())
        }
    }
}

/// Types sqlparser does not know by name: PostgreSQL's abbreviations (`timestamptz`, `int4`),
/// the `serial` pseudo-types, types it has no variant for (`inet`, `citext`), and user-defined
/// ones (enums), named as `format_type()` names them (quoted where needed, qualified outside
/// `public`); [`PgType::parse`] knows them all but the serials.
pub(super) fn custom_type(
    name: &ObjectName,
    modifiers: &[sqlparser::ast::TypeModifier],
) -> Result<(PgType, bool), String> {
    let parts: Option<Vec<String>> = name
        .0
        .iter()
        .map(|part| part.as_ident().map(ident))
        .collect();
    let parts = parts.ok_or_else(|| format!("the type {name} is not understood"))?;
    let unqualified = match parts.as_slice() {
        [single] => Some(single.as_str()),
        [schema, single] if schema == "pg_catalog" => Some(single.as_str()),
        _ => None,
    };
    let serial = match unqualified {
        Some("serial" | "serial4") => Some("integer"),
        Some("bigserial" | "serial8") => Some("bigint"),
        Some("smallserial" | "serial2") => Some("smallint"),
        _ => None,
    };
    if let Some(integer) = serial {
        if !modifiers.is_empty() {
            return Err(format!("the type {name} takes no modifiers"));
        }
        return Ok((PgType::simple(integer), true));
    }
    PgType::parse(&DataType::Custom(name.clone(), modifiers.to_vec()).to_string())
        .map(|ty| (ty, false))
}
