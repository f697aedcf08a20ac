//! PostgreSQL type names, normalised so that `int`, `int4` and `integer` compare equal, and
//! displayed the way `format_type()` prints them.
//!
//! [`PgType::parse`] accepts every spelling a person, SQL or `format_type()` uses for a type and
//! turns it into one canonical value; [`PgType::matches`] is the comparison the rules use, where
//! an expectation without a length or precision matches any. Invariant: two spellings of the same
//! PostgreSQL type parse to equal values, and `Display` of a parsed value parses back to it.

use std::fmt;

/// A PostgreSQL type as `format_type()` would print it, split into parts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PgType {
    /// The canonical base name: `integer`, `character varying`, `timestamp with time zone`,
    /// `numeric`, or a user-defined type's name (an enum) as written.
    pub name: String,
    /// Length, precision and scale: `[120]` for `character varying(120)`, `[10, 2]` for
    /// `numeric(10,2)`, `[3]` for `timestamp(3) with time zone`. Empty when unspecified.
    pub modifiers: Vec<u32>,
    /// Array dimensions (`integer[]` is 1).
    pub array_dims: u8,
}

/// One built-in type: its canonical (`format_type()`) name and how many modifiers it takes.
struct BuiltinType {
    canonical: &'static str,
    max_modifiers: usize,
}

const fn builtin(canonical: &'static str, max_modifiers: usize) -> BuiltinType {
    BuiltinType {
        canonical,
        max_modifiers,
    }
}

/// Single-word spellings (including PostgreSQL's internal names such as `int4` and `bpchar`)
/// and what they mean. Multi-word names (`double precision`, `character varying`, `timestamp
/// with time zone`, ...) are recognised by [`Parser::builtin_base`], which also accepts their
/// canonical forms.
const SINGLE_WORD_TYPES: &[(&str, BuiltinType)] = &[
    ("smallint", builtin("smallint", 0)),
    ("int2", builtin("smallint", 0)),
    // The serial pseudo-types are the integer types plus a sequence; the column's type is what
    // an expectation compares, so nothing else is recorded.
    ("smallserial", builtin("smallint", 0)),
    ("serial2", builtin("smallint", 0)),
    ("integer", builtin("integer", 0)),
    ("int", builtin("integer", 0)),
    ("int4", builtin("integer", 0)),
    ("serial", builtin("integer", 0)),
    ("serial4", builtin("integer", 0)),
    ("bigint", builtin("bigint", 0)),
    ("int8", builtin("bigint", 0)),
    ("bigserial", builtin("bigint", 0)),
    ("serial8", builtin("bigint", 0)),
    ("real", builtin("real", 0)),
    ("float4", builtin("real", 0)),
    ("float8", builtin("double precision", 0)),
    ("numeric", builtin("numeric", 2)),
    ("decimal", builtin("numeric", 2)),
    ("varchar", builtin("character varying", 1)),
    ("bpchar", builtin("character", 1)),
    ("text", builtin("text", 0)),
    ("boolean", builtin("boolean", 0)),
    ("bool", builtin("boolean", 0)),
    ("bytea", builtin("bytea", 0)),
    ("date", builtin("date", 0)),
    ("timestamptz", builtin("timestamp with time zone", 1)),
    ("timetz", builtin("time with time zone", 1)),
    ("json", builtin("json", 0)),
    ("jsonb", builtin("jsonb", 0)),
    ("jsonpath", builtin("jsonpath", 0)),
    ("uuid", builtin("uuid", 0)),
    ("inet", builtin("inet", 0)),
    ("cidr", builtin("cidr", 0)),
    ("macaddr", builtin("macaddr", 0)),
    ("macaddr8", builtin("macaddr8", 0)),
    ("money", builtin("money", 0)),
    ("citext", builtin("citext", 0)),
    ("hstore", builtin("hstore", 0)),
    ("tsvector", builtin("tsvector", 0)),
    ("tsquery", builtin("tsquery", 0)),
    ("xml", builtin("xml", 0)),
    ("oid", builtin("oid", 0)),
    ("regclass", builtin("regclass", 0)),
    ("name", builtin("name", 0)),
    ("pg_lsn", builtin("pg_lsn", 0)),
    ("varbit", builtin("bit varying", 1)),
    ("point", builtin("point", 0)),
    ("line", builtin("line", 0)),
    ("lseg", builtin("lseg", 0)),
    ("box", builtin("box", 0)),
    ("path", builtin("path", 0)),
    ("polygon", builtin("polygon", 0)),
    ("circle", builtin("circle", 0)),
    ("int4range", builtin("int4range", 0)),
    ("int8range", builtin("int8range", 0)),
    ("numrange", builtin("numrange", 0)),
    ("tsrange", builtin("tsrange", 0)),
    ("tstzrange", builtin("tstzrange", 0)),
    ("daterange", builtin("daterange", 0)),
];

/// Names offered in "did you mean" suggestions besides [`SINGLE_WORD_TYPES`].
const MULTI_WORD_NAMES: &[&str] = &[
    "double precision",
    "character varying",
    "character",
    "char",
    "timestamp",
    "timestamp with time zone",
    "timestamp without time zone",
    "time",
    "time with time zone",
    "time without time zone",
    "interval",
    "bit",
    "bit varying",
    "float",
    "double",
];

/// The words that may follow `interval` to restrict its fields (`interval day to second`).
const INTERVAL_FIELD_WORDS: &[&str] = &["year", "month", "day", "hour", "minute", "second", "to"];

fn single_word_type(word: &str) -> Option<&'static BuiltinType> {
    SINGLE_WORD_TYPES
        .iter()
        .find(|(alias, _)| *alias == word)
        .map(|(_, ty)| ty)
}

/// Every type name the parser knows, for suggestions.
pub fn known_type_names() -> impl Iterator<Item = &'static str> {
    SINGLE_WORD_TYPES
        .iter()
        .map(|(alias, _)| *alias)
        .chain(MULTI_WORD_NAMES.iter().copied())
}

impl PgType {
    /// A type with no modifiers; `name` must already be canonical.
    pub fn simple(name: &str) -> Self {
        PgType {
            name: name.to_owned(),
            modifiers: Vec::new(),
            array_dims: 0,
        }
    }

    /// A user-defined type (an enum, a domain, an extension's type) known to be one, for code
    /// that learns the name from SQLAlchemy's `Enum(name=...)` or from the catalog and so need not
    /// guess. The name is stored as `format_type()` prints it: quoted where needed, and qualified
    /// unless the schema is `public` (or none is given).
    pub fn user_defined(schema: Option<&str>, name: &str) -> Self {
        PgType::simple(&user_defined_name(schema, name))
    }

    /// Reads a type as a person, SQL or `format_type()` writes it: `int`, `int4`, `integer`,
    /// `varchar(120)`, `character varying(120)`, `timestamp(3) with time zone`, `numeric(10, 2)`,
    /// `_int4`, `text[]`, `int ARRAY`, `public.status`, `"MyEnum"`. Case and spacing do not
    /// matter outside quotes. An unquoted, unqualified word that is not a known type is taken as a
    /// user-defined type unless it is so close to a known name that it is more likely a typo
    /// (`integr`); write such a type qualified (`public.integr`) or quoted.
    ///
    /// The `Err` is a sentence saying what is wrong and what to write instead.
    pub fn parse(input: &str) -> Result<PgType, String> {
        let tokens = tokenize(input)?;
        if tokens.is_empty() {
            return Err(
                "the type is empty; write a PostgreSQL type such as `integer`, `text` or `varchar(120)`"
                    .to_owned(),
            );
        }
        let mut parser = Parser {
            input,
            tokens,
            position: 0,
        };
        let parsed = parser.parse_type()?;
        if let Some(token) = parser.peek() {
            return Err(format!(
                "unexpected `{}` in type `{}`",
                token.describe(),
                input.trim()
            ));
        }
        Ok(parsed)
    }

    /// Whether this type (found in a schema) satisfies `expected` (from an expectation).
    /// Names must agree; an expectation without modifiers (`varchar`, `numeric`, `timestamp`)
    /// accepts any, one with modifiers must match exactly; `interval` accepts any field
    /// restriction. Array-ness must agree, but not the number of dimensions, which PostgreSQL
    /// does not enforce (`text[][]` is the same type as `text[]`). A user-defined type written
    /// without a schema matches the same name in any schema.
    pub fn matches(&self, expected: &PgType) -> bool {
        if (self.array_dims > 0) != (expected.array_dims > 0) {
            return false;
        }
        let names_agree = self.name == expected.name
            || (expected.name == "interval" && self.name.starts_with("interval "))
            || user_defined_names_agree(&self.name, &expected.name);
        names_agree && (expected.modifiers.is_empty() || self.modifiers == expected.modifiers)
    }

    /// `smallint`, `integer` or `bigint` (not an array of them): the types a serial or identity
    /// column can have.
    pub fn is_integer(&self) -> bool {
        self.array_dims == 0 && matches!(self.name.as_str(), "smallint" | "integer" | "bigint")
    }

    /// Whether the name is one PostgreSQL (or a common extension) defines, as opposed to an enum
    /// or other user-defined type.
    pub fn is_builtin(&self) -> bool {
        let base = self.name.as_str();
        SINGLE_WORD_TYPES.iter().any(|(_, ty)| ty.canonical == base)
            || base == "double precision"
            || base == "character varying"
            || base == "character"
            || base.starts_with("timestamp")
            || base.starts_with("time ")
            || base.starts_with("interval")
            || base == "bit"
            || base == "bit varying"
    }
}

/// A user-defined name as `format_type()` shows it: each part quoted where needed, `public.`
/// dropped because `public` is on the default search path.
fn user_defined_name(schema: Option<&str>, name: &str) -> String {
    // A user type named like a built-in spelling (`"char"`, `"float"`) must stay quoted, or it
    // would read back as the built-in.
    let name_shadows_builtin = single_word_type(name).is_some()
        || MULTI_WORD_NAMES
            .iter()
            .any(|multi| multi.split(' ').next() == Some(name))
        || name == "national"
        || name == "nchar";
    if name_shadows_builtin && schema.is_none_or(|schema| schema == "public") {
        return format!("\"{name}\"");
    }
    match schema {
        Some(schema) if schema != "public" => {
            format!(
                "{}.{}",
                crate::quote::quote_ident(schema),
                crate::quote::quote_ident(name)
            )
        }
        _ => crate::quote::quote_ident(name).into_owned(),
    }
}

/// `audit.status` and `status` name the same type when one side does not say its schema. A
/// type's own modifiers in its name (`geometry(Point,4326)`) are ignored when the expectation
/// gives none (`geometry`).
fn user_defined_names_agree(actual: &str, expected: &str) -> bool {
    let strip_modifiers = |name: &str| -> String {
        if expected.contains('(') {
            name.to_owned()
        } else {
            name.split('(').next().unwrap_or(name).to_owned()
        }
    };
    let actual = strip_modifiers(actual);
    if actual == expected {
        return true;
    }
    let unqualified = |name: &str| -> String {
        // The last dot outside quotes separates schema and name; quoted names may contain dots.
        let mut in_quotes = false;
        let mut split_at = None;
        for (index, ch) in name.char_indices() {
            match ch {
                '"' => in_quotes = !in_quotes,
                '.' if !in_quotes => split_at = Some(index),
                _ => {}
            }
        }
        match split_at {
            Some(index) => name[index + 1..].to_owned(),
            None => name.to_owned(),
        }
    };
    let expected_is_qualified = unqualified(expected) != expected;
    let actual_is_qualified = unqualified(&actual) != actual;
    if expected_is_qualified && actual_is_qualified {
        return false;
    }
    unqualified(&actual) == unqualified(expected)
}

impl fmt::Display for PgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mods = if self.modifiers.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = self.modifiers.iter().map(u32::to_string).collect();
            format!("({})", parts.join(","))
        };
        // format_type() puts a timestamp's or time's precision before the time zone words.
        if let Some(rest) = ["timestamp", "time"].iter().find_map(|base| {
            self.name
                .strip_prefix(base)
                .filter(|r| r.starts_with(" with"))
        }) {
            let base = &self.name[..self.name.len() - rest.len()];
            write!(f, "{base}{mods}{rest}")?;
        } else {
            write!(f, "{}{mods}", self.name)?;
        }
        for _ in 0..self.array_dims {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

/// The closest of `candidates` to `word` by edit distance, when it is close enough to be the
/// word that was meant: at most a third of the word's length (and at least one) edits away.
pub fn closest_name<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters, with adjacent transpositions counted as one edit
/// (`itnerval` is one slip away from `interval`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous_previous: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                current[j] = current[j].min(previous_previous[j - 2] + 1);
            }
        }
        previous_previous = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// An unquoted word, lower-cased.
    Word(String),
    /// A double-quoted identifier, case kept, with `""` unescaped.
    Quoted(String),
    /// A run of digits, or something that starts like one (kept as text for the message).
    Number(String),
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Comma,
    Dot,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(word) => word.clone(),
            Token::Quoted(name) => format!("\"{name}\""),
            Token::Number(text) => text.clone(),
            Token::LeftParen => "(".to_owned(),
            Token::RightParen => ")".to_owned(),
            Token::LeftBracket => "[".to_owned(),
            Token::RightBracket => "]".to_owned(),
            Token::Comma => ",".to_owned(),
            Token::Dot => ".".to_owned(),
        }
    }
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some((start, ch)) = chars.next() {
        match ch {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::LeftParen),
            ')' => tokens.push(Token::RightParen),
            '[' => tokens.push(Token::LeftBracket),
            ']' => tokens.push(Token::RightBracket),
            ',' => tokens.push(Token::Comma),
            '.' => tokens.push(Token::Dot),
            '"' => {
                let mut name = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    if c == '"' {
                        if chars.peek().is_some_and(|(_, next)| *next == '"') {
                            chars.next();
                            name.push('"');
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        name.push(c);
                    }
                }
                if !closed {
                    return Err(format!(
                        "the quoted name in type `{}` has no closing `\"`",
                        input.trim()
                    ));
                }
                if name.is_empty() {
                    return Err(format!(
                        "type `{}` contains an empty quoted name `\"\"`",
                        input.trim()
                    ));
                }
                tokens.push(Token::Quoted(name));
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut end = start + c.len_utf8();
                while let Some(&(index, next)) = chars.peek() {
                    if next.is_alphanumeric() || next == '_' || next == '$' {
                        end = index + next.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let text = &input[start..end];
                if c.is_ascii_digit() {
                    tokens.push(Token::Number(text.to_owned()));
                } else {
                    tokens.push(Token::Word(text.to_lowercase()));
                }
            }
            other => {
                return Err(format!(
                    "unexpected `{other}` in type `{}`; a type is a name with an optional length \
                     or precision in parentheses and `[]` for an array, as in `varchar(120)` or `integer[]`",
                    input.trim()
                ));
            }
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    position: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn peek_word(&self) -> Option<&str> {
        match self.peek() {
            Some(Token::Word(word)) => Some(word),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        if token.is_some() {
            self.position += 1;
        }
        token
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek_word() == Some(word) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn shown(&self) -> &str {
        self.input.trim()
    }

    fn parse_type(&mut self) -> Result<PgType, String> {
        let qualified_or_quoted = matches!(self.peek(), Some(Token::Quoted(_)))
            || self.tokens.get(self.position + 1) == Some(&Token::Dot);
        let mut parsed = if qualified_or_quoted {
            self.qualified_name()?
        } else {
            self.builtin_or_bare_name()?
        };
        parsed.array_dims = parsed.array_dims.saturating_add(self.array_suffix()?);
        Ok(parsed)
    }

    /// `schema.name`, `"Name"` or `"schema"."Name"`. `pg_catalog.` types are the built-ins.
    fn qualified_name(&mut self) -> Result<PgType, String> {
        let first = self.identifier()?;
        let (schema, name) = if self.eat(&Token::Dot) {
            (Some(first), self.identifier()?)
        } else {
            (None, first)
        };
        if let (Some((schema_text, false)), (_, false)) = (&schema, &name)
            && schema_text == "pg_catalog"
        {
            // `pg_catalog.int4` is `int4`: parse the rest as a built-in.
            self.position -= 1;
            return self.builtin_or_bare_name();
        }
        let schema_text = schema.as_ref().map(|(text, _)| text.as_str());
        let mut parsed = PgType::user_defined(schema_text, &name.0);
        self.user_defined_modifiers(&mut parsed)?;
        Ok(parsed)
    }

    /// An identifier with whether it was quoted.
    fn identifier(&mut self) -> Result<(String, bool), String> {
        match self.next() {
            Some(Token::Word(word)) => Ok((word, false)),
            Some(Token::Quoted(name)) => Ok((name, true)),
            Some(other) => Err(format!(
                "expected a name, found `{}` in type `{}`",
                other.describe(),
                self.shown()
            )),
            None => Err(format!(
                "type `{}` ends where a name should follow",
                self.shown()
            )),
        }
    }

    fn builtin_or_bare_name(&mut self) -> Result<PgType, String> {
        let word = match self.next() {
            Some(Token::Word(word)) => word,
            Some(other) => {
                return Err(format!(
                    "type `{}` starts with `{}`; it must start with a type name",
                    self.shown(),
                    other.describe()
                ));
            }
            None => return Err(format!("type `{}` has no name", self.shown())),
        };
        if let Some(parsed) = self.builtin_base(&word)? {
            return Ok(parsed);
        }
        // PostgreSQL names an array type after its element with a leading underscore (`_int4`),
        // which is what `udt_name` in information_schema shows.
        if let Some(element) = word.strip_prefix('_')
            && let Some(ty) = single_word_type(element)
        {
            let mut parsed = PgType::simple(ty.canonical);
            self.modifiers(&mut parsed, ty.max_modifiers)?;
            parsed.array_dims = 1;
            return Ok(parsed);
        }
        if let Some(suggestion) = closest_name(&word, known_type_names()) {
            return Err(format!(
                "unknown type `{word}`; did you mean `{suggestion}`? (a user-defined type with this \
                 name is written with its schema, as in `public.{word}`)"
            ));
        }
        let mut parsed = PgType::user_defined(None, &word);
        self.user_defined_modifiers(&mut parsed)?;
        Ok(parsed)
    }

    /// The built-in type starting with `word`, reading the words and modifiers that belong to it.
    fn builtin_base(&mut self, word: &str) -> Result<Option<PgType>, String> {
        let (canonical, max_modifiers): (String, usize) = match word {
            "double" => {
                // `double` alone is not SQL, but people write it for `double precision`.
                self.eat_word("precision");
                ("double precision".to_owned(), 0)
            }
            "float" => {
                // SQL's `float(p)`: 1 to 24 bits of precision is `real`, 25 to 53 `double
                // precision`.
                let mut probe = PgType::simple("float");
                self.modifiers(&mut probe, 1)?;
                let canonical = match probe.modifiers.first() {
                    None => "double precision",
                    Some(1..=24) => "real",
                    Some(25..=53) => "double precision",
                    Some(other) => {
                        return Err(format!(
                            "precision {other} in `{}` is out of range; `float(p)` takes 1 to 53",
                            self.shown()
                        ));
                    }
                };
                return Ok(Some(PgType::simple(canonical)));
            }
            "national" => {
                if !(self.eat_word("character") || self.eat_word("char")) {
                    return Err(format!(
                        "`national` in type `{}` must be followed by `character` or `char`",
                        self.shown()
                    ));
                }
                return self.builtin_base("character");
            }
            "character" | "char" | "nchar" => {
                if self.eat_word("varying") {
                    ("character varying".to_owned(), 1)
                } else {
                    ("character".to_owned(), 1)
                }
            }
            "bit" => {
                if self.eat_word("varying") {
                    ("bit varying".to_owned(), 1)
                } else {
                    ("bit".to_owned(), 1)
                }
            }
            "timestamp" | "time" => {
                let mut parsed = PgType::simple(word);
                self.modifiers(&mut parsed, 1)?;
                let with_time_zone = if self.eat_word("with") {
                    true
                } else if self.eat_word("without") {
                    false
                } else {
                    parsed.name = format!("{word} without time zone");
                    return Ok(Some(parsed));
                };
                if !(self.eat_word("time") && self.eat_word("zone")) {
                    return Err(format!(
                        "type `{}` must say `with time zone` or `without time zone`",
                        self.shown()
                    ));
                }
                parsed.name = if with_time_zone {
                    format!("{word} with time zone")
                } else {
                    format!("{word} without time zone")
                };
                return Ok(Some(parsed));
            }
            "interval" => {
                let mut fields = Vec::new();
                while let Some(field) = self.peek_word() {
                    if !INTERVAL_FIELD_WORDS.contains(&field) {
                        break;
                    }
                    fields.push(field.to_owned());
                    self.position += 1;
                }
                let name = if fields.is_empty() {
                    "interval".to_owned()
                } else {
                    format!("interval {}", fields.join(" "))
                };
                (name, 1)
            }
            _ => match single_word_type(word) {
                Some(ty) => (ty.canonical.to_owned(), ty.max_modifiers),
                None => return Ok(None),
            },
        };
        let mut parsed = PgType::simple(&canonical);
        self.modifiers(&mut parsed, max_modifiers)?;
        Ok(Some(parsed))
    }

    /// `(n)` or `(p, s)` after a type name, checked against how many the type takes.
    fn modifiers(&mut self, parsed: &mut PgType, max_modifiers: usize) -> Result<(), String> {
        if !self.eat(&Token::LeftParen) {
            return Ok(());
        }
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Token::Number(text)) => match text.parse::<u32>() {
                    Ok(value) => values.push(value),
                    Err(_) => {
                        return Err(format!(
                            "`{text}` in type `{}` is not a valid length or precision; write a \
                             whole number, as in `varchar(120)` or `numeric(10,2)`",
                            self.shown()
                        ));
                    }
                },
                Some(other) => {
                    return Err(format!(
                        "`{}` in type `{}` is not a valid length or precision; write a whole \
                         number, as in `varchar(120)` or `numeric(10,2)`",
                        other.describe(),
                        self.shown()
                    ));
                }
                None => {
                    return Err(format!(
                        "type `{}` has an unclosed `(`; write it as in `varchar(120)`",
                        self.shown()
                    ));
                }
            }
            match self.next() {
                Some(Token::Comma) => continue,
                Some(Token::RightParen) => break,
                _ => {
                    return Err(format!(
                        "type `{}` has an unclosed `(`; write it as in `varchar(120)`",
                        self.shown()
                    ));
                }
            }
        }
        if values.len() > max_modifiers {
            return Err(match max_modifiers {
                0 => format!(
                    "type `{}` takes no length or precision; write `{}`",
                    self.shown(),
                    parsed.name
                ),
                1 => format!(
                    "type `{}` takes one length or precision, as in `{}(10)`",
                    self.shown(),
                    parsed.name
                ),
                _ => format!(
                    "type `{}` takes at most precision and scale, as in `{}(10,2)`",
                    self.shown(),
                    parsed.name
                ),
            });
        }
        // `numeric(10)` is `numeric(10,0)`, and format_type() prints it so.
        if parsed.name == "numeric" && values.len() == 1 {
            values.push(0);
        }
        parsed.modifiers = values;
        Ok(())
    }

    /// A user-defined type's modifiers: numbers are kept as modifiers; anything else (PostGIS's
    /// `geometry(Point,4326)`) becomes part of the name, as `format_type()` shows it.
    fn user_defined_modifiers(&mut self, parsed: &mut PgType) -> Result<(), String> {
        if self.peek() != Some(&Token::LeftParen) {
            return Ok(());
        }
        let start = self.position;
        let all_numbers = {
            let mut index = start + 1;
            let mut numeric = true;
            loop {
                match self.tokens.get(index) {
                    Some(Token::RightParen) => break,
                    Some(Token::Number(_)) | Some(Token::Comma) => {}
                    Some(_) => numeric = false,
                    None => {
                        return Err(format!(
                            "type `{}` has an unclosed `(`; write it as in `varchar(120)`",
                            self.shown()
                        ));
                    }
                }
                index += 1;
            }
            numeric
        };
        if all_numbers {
            return self.modifiers(parsed, usize::MAX);
        }
        let mut text = String::from("(");
        self.position += 1;
        loop {
            match self.next() {
                Some(Token::RightParen) => break,
                Some(Token::Comma) => text.push(','),
                Some(Token::Word(word)) => text.push_str(&word),
                Some(Token::Quoted(name)) | Some(Token::Number(name)) => text.push_str(&name),
                Some(other) => text.push_str(&other.describe()),
                None => {
                    return Err(format!(
                        "type `{}` has an unclosed `(`; write it as in `varchar(120)`",
                        self.shown()
                    ));
                }
            }
        }
        text.push(')');
        // PostGIS prints its geometry kinds capitalised (`Point`) but reads them in any case, so
        // they are kept lower-cased like every unquoted word, which keeps comparisons exact.
        parsed.name.push_str(&text);
        Ok(())
    }

    /// `[]`, `[3]`, repeated, or SQL's `ARRAY` / `ARRAY[3]`.
    fn array_suffix(&mut self) -> Result<u8, String> {
        let mut dims: u8 = 0;
        loop {
            if self.eat(&Token::LeftBracket) {
                if matches!(self.peek(), Some(Token::Number(_))) {
                    self.position += 1;
                }
                if !self.eat(&Token::RightBracket) {
                    return Err(format!(
                        "type `{}` has an unclosed `[`; an array is written `integer[]`",
                        self.shown()
                    ));
                }
                dims = dims.saturating_add(1);
            } else if self.eat_word("array") {
                if self.eat(&Token::LeftBracket) {
                    if matches!(self.peek(), Some(Token::Number(_))) {
                        self.position += 1;
                    }
                    if !self.eat(&Token::RightBracket) {
                        return Err(format!(
                            "type `{}` has an unclosed `[`; an array is written `integer ARRAY[3]`",
                            self.shown()
                        ));
                    }
                }
                dims = dims.saturating_add(1);
            } else {
                return Ok(dims);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &str) -> String {
        match PgType::parse(input) {
            Ok(ty) => ty.to_string(),
            Err(message) => panic!("`{input}` should parse, got: {message}"),
        }
    }

    fn error(input: &str) -> String {
        match PgType::parse(input) {
            Ok(ty) => panic!("`{input}` should be an error, parsed as `{ty}` ({ty:?})"),
            Err(message) => message,
        }
    }

    #[test]
    fn spellings_normalise_to_the_format_type_name() {
        let cases: &[(&str, &str)] = &[
            ("int", "integer"),
            ("int4", "integer"),
            ("integer", "integer"),
            ("INTEGER", "integer"),
            ("  Int  ", "integer"),
            ("serial", "integer"),
            ("serial4", "integer"),
            ("int8", "bigint"),
            ("bigint", "bigint"),
            ("bigserial", "bigint"),
            ("int2", "smallint"),
            ("smallint", "smallint"),
            ("smallserial", "smallint"),
            ("varchar", "character varying"),
            ("character varying", "character varying"),
            ("CHARACTER   VARYING", "character varying"),
            ("varchar(120)", "character varying(120)"),
            ("varchar ( 120 )", "character varying(120)"),
            ("character varying(120)", "character varying(120)"),
            ("char varying(10)", "character varying(10)"),
            ("char(2)", "character(2)"),
            ("character(2)", "character(2)"),
            ("bpchar", "character"),
            ("char", "character"),
            ("national character varying(5)", "character varying(5)"),
            ("text", "text"),
            ("bool", "boolean"),
            ("boolean", "boolean"),
            ("float", "double precision"),
            ("float8", "double precision"),
            ("double precision", "double precision"),
            ("double", "double precision"),
            ("float(53)", "double precision"),
            ("float(24)", "real"),
            ("float4", "real"),
            ("real", "real"),
            ("numeric", "numeric"),
            ("decimal", "numeric"),
            ("numeric(10,2)", "numeric(10,2)"),
            ("numeric(10, 2)", "numeric(10,2)"),
            ("decimal(10,2)", "numeric(10,2)"),
            ("numeric(10)", "numeric(10,0)"),
            ("date", "date"),
            ("timestamp", "timestamp without time zone"),
            ("timestamp without time zone", "timestamp without time zone"),
            ("timestamp(3)", "timestamp(3) without time zone"),
            (
                "timestamp(3) without time zone",
                "timestamp(3) without time zone",
            ),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp with time zone", "timestamp with time zone"),
            ("timestamp(6) with time zone", "timestamp(6) with time zone"),
            ("timestamptz(6)", "timestamp(6) with time zone"),
            ("time", "time without time zone"),
            ("time(3)", "time(3) without time zone"),
            ("timetz", "time with time zone"),
            ("time with time zone", "time with time zone"),
            ("interval", "interval"),
            ("interval(6)", "interval(6)"),
            ("interval day to second", "interval day to second"),
            ("interval day to second(3)", "interval day to second(3)"),
            ("bytea", "bytea"),
            ("json", "json"),
            ("jsonb", "jsonb"),
            ("uuid", "uuid"),
            ("inet", "inet"),
            ("cidr", "cidr"),
            ("macaddr", "macaddr"),
            ("money", "money"),
            ("citext", "citext"),
            ("tsvector", "tsvector"),
            ("xml", "xml"),
            ("oid", "oid"),
            ("bit(8)", "bit(8)"),
            ("varbit", "bit varying"),
            ("bit varying(4)", "bit varying(4)"),
            ("pg_catalog.int4", "integer"),
            ("pg_catalog.varchar(3)", "character varying(3)"),
        ];
        for (input, expected) in cases {
            assert_eq!(parsed(input), *expected, "parsing `{input}`");
        }
    }

    #[test]
    fn arrays_in_every_spelling() {
        let cases: &[(&str, &str, u8)] = &[
            ("integer[]", "integer[]", 1),
            ("int[]", "integer[]", 1),
            ("int4[3]", "integer[]", 1),
            ("_int4", "integer[]", 1),
            ("_varchar", "character varying[]", 1),
            ("_text", "text[]", 1),
            ("text[][]", "text[][]", 2),
            ("int ARRAY", "integer[]", 1),
            ("int array[4]", "integer[]", 1),
            ("varchar(20)[]", "character varying(20)[]", 1),
            (
                "timestamp(3) with time zone[]",
                "timestamp(3) with time zone[]",
                1,
            ),
            ("public.status[]", "status[]", 1),
        ];
        for (input, shown, dims) in cases {
            let ty = PgType::parse(input).expect("parses");
            assert_eq!(ty.to_string(), *shown, "displaying `{input}`");
            assert_eq!(ty.array_dims, *dims, "dimensions of `{input}`");
        }
    }

    #[test]
    fn user_defined_types_keep_their_names() {
        let cases: &[(&str, &str)] = &[
            ("public.status", "status"),
            ("status", "status"),
            ("Status", "status"),
            ("\"MyEnum\"", "\"MyEnum\""),
            ("public.\"MyEnum\"", "\"MyEnum\""),
            ("audit.level", "audit.level"),
            ("\"Audit\".level", "\"Audit\".level"),
            ("geometry(Point, 4326)", "geometry(point,4326)"),
            ("public.vector(3)", "vector(3)"),
        ];
        for (input, expected) in cases {
            let ty = PgType::parse(input).expect("parses");
            assert_eq!(ty.to_string(), *expected, "parsing `{input}`");
            assert!(!ty.is_builtin(), "`{input}` is user-defined");
        }
        assert_eq!(
            PgType::user_defined(Some("public"), "MyEnum"),
            PgType::parse("\"MyEnum\"").expect("parses")
        );
        assert_eq!(
            PgType::user_defined(Some("audit"), "level").to_string(),
            "audit.level"
        );
        // PostgreSQL's internal single-byte `"char"` is not `character`, and stays quoted.
        let internal_char = PgType::parse("\"char\"").expect("parses");
        assert_eq!(internal_char.to_string(), "\"char\"");
        assert_eq!(
            PgType::parse(&internal_char.to_string()).expect("parses"),
            internal_char
        );
        assert_ne!(internal_char, PgType::parse("char").expect("parses"));
    }

    #[test]
    fn invalid_types_say_what_to_write() {
        let cases: &[(&str, &str)] = &[
            ("integr", "unknown type `integr`; did you mean `integer`?"),
            ("intger", "did you mean `integer`?"),
            ("varchr(10)", "did you mean `varchar`?"),
            ("boolen", "did you mean `boolean`?"),
            ("timestmp", "did you mean `timestamp`?"),
            ("jsonbb", "did you mean `jsonb`?"),
            (
                "varchar(abc)",
                "`abc` in type `varchar(abc)` is not a valid length",
            ),
            ("varchar(", "unclosed `(`"),
            ("varchar(10", "unclosed `(`"),
            ("", "the type is empty"),
            ("   ", "the type is empty"),
            (
                "integer(4)",
                "takes no length or precision; write `integer`",
            ),
            ("varchar(1,2)", "takes one length or precision"),
            ("numeric(1,2,3)", "takes at most precision and scale"),
            (
                "timestamp with zone",
                "must say `with time zone` or `without time zone`",
            ),
            ("float(60)", "out of range"),
            ("integer[", "unclosed `[`"),
            ("integer integer", "unexpected `integer`"),
            ("\"open", "no closing `\"`"),
            ("text;", "unexpected `;`"),
            ("(10)", "must start with a type name"),
            ("varchar(99999999999)", "not a valid length"),
        ];
        for (input, expected) in cases {
            let message = error(input);
            assert!(
                message.contains(expected),
                "error for `{input}` was `{message}`, expected it to contain `{expected}`"
            );
        }
    }

    #[test]
    fn display_prints_like_format_type() {
        let mut ty = PgType::simple("timestamp with time zone");
        ty.modifiers = vec![3];
        assert_eq!(ty.to_string(), "timestamp(3) with time zone");
        ty.array_dims = 1;
        assert_eq!(ty.to_string(), "timestamp(3) with time zone[]");
        let mut ty = PgType::simple("numeric");
        ty.modifiers = vec![10, 2];
        assert_eq!(ty.to_string(), "numeric(10,2)");
        assert_eq!(
            PgType::simple("time without time zone").to_string(),
            "time without time zone"
        );
        let mut ty = PgType::simple("character varying");
        ty.modifiers = vec![120];
        assert_eq!(ty.to_string(), "character varying(120)");
    }

    #[test]
    fn display_parses_back_to_the_same_value() {
        for input in [
            "int",
            "varchar(120)",
            "timestamp(3) with time zone",
            "time(2)",
            "numeric(10,2)",
            "text[][]",
            "_int8",
            "interval day to second(3)",
            "\"MyEnum\"",
            "audit.level[]",
            "bit varying(3)",
            "char(4)",
        ] {
            let first = PgType::parse(input).expect("parses");
            let again = PgType::parse(&first.to_string()).expect("display parses");
            assert_eq!(first, again, "round trip of `{input}` through `{first}`");
        }
    }

    #[test]
    fn matching_ignores_missing_modifiers_only_on_the_expectation() {
        let matches = |actual: &str, expected: &str| {
            PgType::parse(actual)
                .expect("actual parses")
                .matches(&PgType::parse(expected).expect("expected parses"))
        };
        assert!(matches("character varying(120)", "varchar"));
        assert!(matches("character varying(120)", "varchar(120)"));
        assert!(!matches("character varying(120)", "varchar(100)"));
        assert!(!matches("character varying", "varchar(120)"));
        assert!(matches("numeric(10,2)", "numeric"));
        assert!(matches("numeric(10,0)", "numeric(10)"));
        assert!(!matches("numeric(10,2)", "numeric(10)"));
        assert!(matches("timestamp(6) without time zone", "timestamp"));
        assert!(!matches("timestamp with time zone", "timestamp"));
        assert!(matches("timestamptz", "timestamp with time zone"));
        assert!(matches("integer", "serial"));
        assert!(!matches("bigint", "integer"));
        assert!(matches("text[]", "text[][]"));
        assert!(!matches("text[]", "text"));
        assert!(!matches("text", "text[]"));
        assert!(matches("interval day to second", "interval"));
        assert!(!matches("interval", "interval day to second"));
        assert!(matches("audit.status", "status"));
        assert!(matches("status", "audit.status"));
        assert!(!matches("audit.status", "billing.status"));
        assert!(matches("geometry(point,4326)", "geometry"));
        assert!(!matches("\"Status\"", "status"));
    }

    #[test]
    fn integer_types() {
        for input in ["smallint", "int", "bigserial", "int8"] {
            assert!(
                PgType::parse(input).expect("parses").is_integer(),
                "{input}"
            );
        }
        for input in ["numeric", "integer[]", "text", "real", "status"] {
            assert!(
                !PgType::parse(input).expect("parses").is_integer(),
                "{input}"
            );
        }
    }

    #[test]
    fn closest_name_needs_a_near_miss() {
        assert_eq!(closest_name("integr", known_type_names()), Some("integer"));
        assert_eq!(
            closest_name("itnerval", known_type_names()),
            Some("interval")
        );
        assert_eq!(closest_name("status", known_type_names()), None);
        assert_eq!(closest_name("mood", known_type_names()), None);
    }
}
