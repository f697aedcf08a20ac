//! PostgreSQL type names, normalised so that `int`, `int4` and `integer` compare equal, and
//! displayed the way `format_type()` prints them.

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

impl PgType {
    /// A type with no modifiers; `name` must already be canonical.
    pub fn simple(name: &str) -> Self {
        PgType {
            name: name.to_owned(),
            modifiers: Vec::new(),
            array_dims: 0,
        }
    }
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
