//! A small reader for `alembic.ini`, following Python's `configparser.ConfigParser` as Alembic
//! uses it: `[section]` headers, `key = value` and `key: value` options, indented continuation
//! lines, whole-line `#` and `;` comments, case-insensitive option names, a `[DEFAULT]` section
//! whose options every section sees, and `%(name)s` / `%%` interpolation with `here` predefined
//! as the directory holding the file.
//!
//! Invariant: values are returned exactly as `configparser` would return them from `get()`, so
//! that the paths driftlint reads are the paths Alembic reads. Anything `configparser` would
//! refuse is an [`IniError`] with the 1-based line it concerns.

use std::collections::HashMap;

/// The name of the section whose options every other section inherits.
const DEFAULT_SECTION: &str = "DEFAULT";

/// How deep `%(name)s` references may nest before the value is declared circular; Python's
/// `configparser` uses the same limit.
const MAX_INTERPOLATION_DEPTH: usize = 10;

/// Something `configparser` would refuse, with the line it concerns where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IniError {
    pub line: Option<usize>,
    pub message: String,
}

/// One option's raw value and the line where its key stands.
#[derive(Clone, Debug)]
struct RawOption {
    value: String,
    line: usize,
}

/// A parsed INI file: sections of raw (not yet interpolated) options.
#[derive(Debug, Default)]
pub struct Ini {
    /// Section name (case-sensitive, as `configparser` keeps it) to options, keyed by the
    /// lower-cased option name.
    sections: HashMap<String, HashMap<String, RawOption>>,
    defaults: HashMap<String, RawOption>,
}

impl Ini {
    /// Parses `text`; `here` is the value `%(here)s` interpolates to (Alembic passes the
    /// absolute directory of the file, with `/` separators).
    pub fn parse(text: &str, here: &str) -> Result<Ini, IniError> {
        let mut ini = Ini::default();
        ini.defaults.insert(
            "here".to_owned(),
            RawOption {
                value: here.replace('%', "%%"),
                line: 0,
            },
        );

        // The section being filled (`None` before the first header) and the option whose value
        // continuation lines extend, as lines of text joined at the end.
        let mut current_section: Option<String> = None;
        let mut current_option: Option<(String, Vec<String>, usize)> = None;
        let mut option_indent = 0usize;

        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw_line) in text.lines().enumerate() {
            let line_number = index + 1;
            let raw_line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
            let stripped = raw_line.trim();
            let is_comment = stripped.starts_with('#') || stripped.starts_with(';');

            if stripped.is_empty() || is_comment {
                // configparser keeps blank lines inside a multi-line value (and trims trailing
                // ones at the end); a comment line is skipped without ending the value.
                if stripped.is_empty()
                    && let Some((_, lines, _)) = current_option.as_mut()
                {
                    lines.push(String::new());
                }
                continue;
            }

            let indent = raw_line.len() - raw_line.trim_start().len();
            if current_option.is_some() && indent > option_indent {
                if let Some((_, lines, _)) = current_option.as_mut() {
                    lines.push(stripped.to_owned());
                }
                continue;
            }

            // Any other line ends the option being read.
            if let Some(finished) = current_option.take() {
                ini.store(current_section.as_deref(), finished);
            }
            option_indent = indent;

            if let Some(header) = section_header(stripped) {
                ini.sections.entry(header.to_owned()).or_default();
                current_section = Some(header.to_owned());
                continue;
            }

            if current_section.is_none() {
                return Err(IniError {
                    line: Some(line_number),
                    message: "an option appears before the first [section] header".to_owned(),
                });
            }

            let Some(delimiter) = stripped.find(['=', ':']) else {
                return Err(IniError {
                    line: Some(line_number),
                    message: format!(
                        "`{stripped}` is neither a [section] header nor `key = value`"
                    ),
                });
            };
            let key = stripped[..delimiter].trim_end();
            if key.is_empty() {
                return Err(IniError {
                    line: Some(line_number),
                    message: "an option has no name before its `=` or `:`".to_owned(),
                });
            }
            let value = stripped[delimiter + 1..].trim_start();
            current_option = Some((key.to_lowercase(), vec![value.to_owned()], line_number));
        }
        if let Some(finished) = current_option.take() {
            ini.store(current_section.as_deref(), finished);
        }
        Ok(ini)
    }

    fn store(&mut self, section: Option<&str>, (key, lines, line): (String, Vec<String>, usize)) {
        let value = lines.join("\n").trim_end().to_owned();
        let option = RawOption { value, line };
        match section {
            Some(DEFAULT_SECTION) => {
                self.defaults.insert(key, option);
            }
            Some(name) => {
                self.sections
                    .entry(name.to_owned())
                    .or_default()
                    .insert(key, option);
            }
            // Options before any header were refused in `parse`.
            None => {}
        }
    }

    pub fn has_section(&self, section: &str) -> bool {
        self.sections.contains_key(section)
    }

    /// The interpolated value of `key` in `section` (or in `[DEFAULT]`), `None` when neither
    /// defines it.
    pub fn get(&self, section: &str, key: &str) -> Result<Option<String>, IniError> {
        let key = key.to_lowercase();
        let Some(raw) = self.raw(section, &key) else {
            return Ok(None);
        };
        let mut out = String::with_capacity(raw.value.len());
        self.interpolate(section, &raw.value, raw.line, 1, &mut out)?;
        Ok(Some(out))
    }

    /// The line where `key` is defined in `section` (or in `[DEFAULT]`).
    pub fn line_of(&self, section: &str, key: &str) -> Option<usize> {
        self.raw(section, &key.to_lowercase())
            .map(|raw| raw.line)
            .filter(|&line| line > 0)
    }

    fn raw(&self, section: &str, lowercase_key: &str) -> Option<&RawOption> {
        self.sections
            .get(section)
            .and_then(|options| options.get(lowercase_key))
            .or_else(|| self.defaults.get(lowercase_key))
    }

    /// `configparser.BasicInterpolation`: `%%` is a literal `%`, `%(name)s` is the value of
    /// option `name` of the same section, itself interpolated.
    fn interpolate(
        &self,
        section: &str,
        value: &str,
        line: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<(), IniError> {
        let line = Some(line).filter(|&l| l > 0);
        if depth > MAX_INTERPOLATION_DEPTH {
            return Err(IniError {
                line,
                message: "`%(...)s` references nest too deeply (a reference loop?)".to_owned(),
            });
        }
        let mut rest = value;
        while let Some(percent) = rest.find('%') {
            out.push_str(&rest[..percent]);
            let after = &rest[percent + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                out.push('%');
                rest = tail;
            } else if let Some(reference) = after.strip_prefix('(') {
                let Some(close) = reference.find(")s") else {
                    return Err(IniError {
                        line,
                        message: format!("bad interpolation syntax in `{value}`"),
                    });
                };
                let name = reference[..close].to_lowercase();
                let Some(target) = self.raw(section, &name) else {
                    return Err(IniError {
                        line,
                        message: format!(
                            "`%({name})s` refers to an option that [{section}] does not define"
                        ),
                    });
                };
                self.interpolate(section, &target.value, target.line, depth + 1, out)?;
                rest = &reference[close + 2..];
            } else {
                return Err(IniError {
                    line,
                    message: format!(
                        "a lone `%` in `{value}`; write `%%` for a literal percent sign"
                    ),
                });
            }
        }
        out.push_str(rest);
        Ok(())
    }
}

/// The name inside a `[name]` header line, as configparser's `\[(?P<header>.+)\]` reads it.
fn section_header(stripped: &str) -> Option<&str> {
    let inner = stripped.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    let name = &inner[..close];
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Ini {
        Ini::parse(text, "/project").expect("test INI parses")
    }

    #[test]
    fn reads_both_delimiters_and_folds_key_case() {
        let ini =
            parse("[alembic]\nScript_Location = %(here)s/db\nsqlalchemy.url: postgresql://x\n");
        assert_eq!(
            ini.get("alembic", "script_location").unwrap().as_deref(),
            Some("/project/db")
        );
        assert_eq!(
            ini.get("alembic", "SQLALCHEMY.URL").unwrap().as_deref(),
            Some("postgresql://x")
        );
    }

    #[test]
    fn joins_continuation_lines_and_skips_comments() {
        let ini = parse(
            "# top comment\n[alembic]\nversion_locations =\n    %(here)s/a\n    ; not a path\n\n    %(here)s/b\nother = 1\n",
        );
        assert_eq!(
            ini.get("alembic", "version_locations").unwrap().as_deref(),
            Some("\n/project/a\n\n/project/b")
        );
        assert_eq!(ini.get("alembic", "other").unwrap().as_deref(), Some("1"));
    }

    #[test]
    fn a_comment_mark_inside_a_value_is_kept() {
        let ini = parse("[alembic]\nscript_location = migrations # not a comment\n");
        assert_eq!(
            ini.get("alembic", "script_location").unwrap().as_deref(),
            Some("migrations # not a comment")
        );
    }

    #[test]
    fn default_section_and_references_interpolate() {
        let ini = parse(
            "[DEFAULT]\nbase = %(here)s/src\n[alembic]\nscript_location = %(base)s/db\npct = 100%%\n",
        );
        assert_eq!(
            ini.get("alembic", "script_location").unwrap().as_deref(),
            Some("/project/src/db")
        );
        assert_eq!(ini.get("alembic", "pct").unwrap().as_deref(), Some("100%"));
    }

    #[test]
    fn crlf_and_bom_are_accepted() {
        let ini = parse("\u{feff}[alembic]\r\nscript_location = migrations\r\n");
        assert!(ini.has_section("alembic"));
        assert_eq!(
            ini.get("alembic", "script_location").unwrap().as_deref(),
            Some("migrations")
        );
        assert_eq!(ini.line_of("alembic", "script_location"), Some(2));
    }

    #[test]
    fn errors_carry_the_line() {
        let error = Ini::parse("key = value\n", "/p").unwrap_err();
        assert_eq!(error.line, Some(1));
        let error = Ini::parse("[alembic]\njust words\n", "/p").unwrap_err();
        assert_eq!(error.line, Some(2));
        let ini = parse("[alembic]\n\nscript_location = %(nowhere)s/x\n");
        let error = ini.get("alembic", "script_location").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("nowhere"), "{}", error.message);
        let ini = parse("[alembic]\na = %(b)s\nb = %(a)s\n");
        assert!(ini.get("alembic", "a").is_err());
        let ini = parse("[alembic]\na = 50%\n");
        assert!(ini.get("alembic", "a").is_err());
    }
}
