//! A psql-aware reading of a fix script, the last check before a script is handed out: the
//! script is walked the way psql's lexer walks it (single-quoted, `E'…'`, double-quoted and
//! dollar-quoted strings, `--` and nested `/* */` comments), and every backslash meta-command
//! psql would run, and every `:variable` it would interpolate, is looked at.
//!
//! Invariant: a script passes only when every meta-command outside quotes and comments is one of
//! [`ALLOWED_META_COMMANDS`] with plain arguments (words, single-quoted text, the script's own
//! variables: no backquote, which runs a shell command), every interpolation names a `driftlint_`
//! variable the script set before (`SELECT … AS driftlint_… \gset`, `\set driftlint_…`), and
//! nothing is left unterminated. Standard strings are read both ways (with
//! `standard_conforming_strings` on and off), and the script must pass both.

use std::collections::HashSet;
use std::fmt;

/// The meta-commands a fix script may use.
pub const ALLOWED_META_COMMANDS: &[&str] =
    &["set", "if", "elif", "else", "endif", "gset", "echo", "quit"];

/// What made a script fail the check, and on which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub line: usize,
    pub what: String,
    /// The line, control characters escaped.
    pub text: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} (`{}`)", self.line, self.what, self.text)
    }
}

/// One meta-command psql would run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaCommand {
    /// 1-based.
    pub line: usize,
    /// The command's name, without the backslash: `gset`, `if`, `!`.
    pub name: String,
    /// Whether only whitespace precedes it on its line.
    pub starts_line: bool,
}

/// Checks `script`; see the module documentation.
pub fn check_script(script: &str) -> Result<(), Violation> {
    meta_commands(script).map(|_| ())
}

/// The meta-commands of `script` (read with `standard_conforming_strings` on), once it passed
/// the check both ways.
pub fn meta_commands(script: &str) -> Result<Vec<MetaCommand>, Violation> {
    Scanner::new(script, false)
        .run()
        .and_then(|_| Scanner::new(script, true).run())
        .map_err(|mut violation| {
            if let Some(text) = script.split('\n').nth(violation.line.saturating_sub(1)) {
                violation.text = super::escape_text(text).into_owned();
            }
            violation
        })
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn is_ident_cont(c: char) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == '$'
}

/// psql's `variable_char`.
fn is_variable_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii()
}

/// How a single-quoted string treats a backslash.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Backslash {
    /// Part of the string.
    Literal,
    /// Escapes the next character.
    Escapes,
}

struct Scanner {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    /// Where the current line starts, in `chars`.
    line_start: usize,
    std_strings: bool,
    /// The variables set so far.
    variables: HashSet<String>,
    /// The last word of SQL read: the alias a `\gset` sets.
    last_word: Option<String>,
    found: Vec<MetaCommand>,
}

impl Scanner {
    fn new(script: &str, std_strings: bool) -> Self {
        Scanner {
            chars: script.chars().collect(),
            pos: 0,
            line: 1,
            line_start: 0,
            std_strings,
            variables: HashSet::new(),
            last_word: None,
            found: Vec::new(),
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    /// Moves one character on, counting lines.
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.line_start = self.pos;
        }
        Some(c)
    }

    fn fail<T>(&self, line: usize, what: impl Into<String>) -> Result<T, Violation> {
        Err(Violation {
            line,
            what: what.into(),
            text: String::new(),
        })
    }

    fn run(mut self) -> Result<Vec<MetaCommand>, Violation> {
        while let Some(c) = self.peek(0) {
            let next = self.peek(1);
            match c {
                '-' if next == Some('-') => {
                    while let Some(c) = self.peek(0) {
                        if c == '\n' || c == '\r' {
                            break;
                        }
                        self.bump();
                    }
                }
                '/' if next == Some('*') => self.block_comment()?,
                '\'' => {
                    self.bump();
                    let backslash = if self.std_strings {
                        Backslash::Literal
                    } else {
                        Backslash::Escapes
                    };
                    self.quoted('\'', backslash, "string")?;
                    self.last_word = None;
                }
                '"' => {
                    self.bump();
                    self.quoted('"', Backslash::Literal, "quoted identifier")?;
                    self.last_word = None;
                }
                '$' => self.dollar()?,
                ':' => self.colon()?,
                '\\' => self.meta_command()?,
                c if is_ident_start(c) => self.word()?,
                c if c.is_ascii_digit() => {
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                    {
                        self.bump();
                    }
                    self.last_word = None;
                }
                c => {
                    if !c.is_whitespace() {
                        self.last_word = None;
                    }
                    self.bump();
                }
            }
        }
        Ok(self.found)
    }

    fn block_comment(&mut self) -> Result<(), Violation> {
        let line = self.line;
        self.bump();
        self.bump();
        let mut depth = 1;
        while depth > 0 {
            match (self.peek(0), self.peek(1)) {
                (None, _) => return self.fail(line, "a /* comment is not closed"),
                (Some('/'), Some('*')) => {
                    depth += 1;
                    self.bump();
                    self.bump();
                }
                (Some('*'), Some('/')) => {
                    depth -= 1;
                    self.bump();
                    self.bump();
                }
                _ => {
                    self.bump();
                }
            }
        }
        Ok(())
    }

    /// The rest of a quoted string or identifier, its opening quote read.
    fn quoted(&mut self, quote: char, backslash: Backslash, what: &str) -> Result<(), Violation> {
        let line = self.line;
        loop {
            match self.bump() {
                None => return self.fail(line, format!("a {what} is not closed")),
                Some('\\') if backslash == Backslash::Escapes => {
                    if self.bump().is_none() {
                        return self.fail(line, format!("a {what} is not closed"));
                    }
                }
                Some(c) if c == quote => {
                    if self.peek(0) == Some(quote) {
                        self.bump();
                    } else {
                        return Ok(());
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// An identifier or key word; `E'…'` (and `B'…'`, `X'…'`) strings.
    fn word(&mut self) -> Result<(), Violation> {
        let start = self.pos;
        while self.peek(0).is_some_and(is_ident_cont) {
            self.bump();
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        if self.peek(0) == Some('\'') {
            let backslash = match word.as_str() {
                "e" | "E" => Some(Backslash::Escapes),
                "b" | "B" | "x" | "X" => Some(Backslash::Literal),
                _ => None,
            };
            if let Some(backslash) = backslash {
                self.bump();
                self.quoted('\'', backslash, "string")?;
                self.last_word = None;
                return Ok(());
            }
        }
        self.last_word = Some(word);
        Ok(())
    }

    /// `$tag$…$tag$`, `$$…$$`, a parameter `$1`, or a lone `$`.
    fn dollar(&mut self) -> Result<(), Violation> {
        let line = self.line;
        let mut end = self.pos + 1;
        if self
            .chars
            .get(end)
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii())
        {
            while self
                .chars
                .get(end)
                .is_some_and(|&c| is_variable_char(c) && c != '$')
            {
                end += 1;
            }
        }
        if self.chars.get(end) != Some(&'$') {
            self.bump();
            return Ok(());
        }
        let tag: Vec<char> = self.chars[self.pos..=end].to_vec();
        for _ in 0..tag.len() {
            self.bump();
        }
        loop {
            if self.peek(0).is_none() {
                return self.fail(line, "a dollar-quoted string is not closed");
            }
            if self.chars[self.pos..].starts_with(&tag) {
                for _ in 0..tag.len() {
                    self.bump();
                }
                self.last_word = None;
                return Ok(());
            }
            self.bump();
        }
    }

    /// `::` (a cast), or an interpolation `:name`, `:'name'`, `:"name"`, `:{?name}`.
    fn colon(&mut self) -> Result<(), Violation> {
        if self.peek(1) == Some(':') {
            self.bump();
            self.bump();
            return Ok(());
        }
        match self.interpolation() {
            Some(name) => self.use_variable(&name),
            None => {
                self.bump();
                Ok(())
            }
        }
    }

    /// At a `:`, the variable psql would interpolate there, read; `None` (nothing read) when
    /// psql reads the colon as SQL.
    fn interpolation(&mut self) -> Option<String> {
        let name_from = |from: usize, chars: &[char]| {
            let mut end = from;
            while chars.get(end).copied().is_some_and(is_variable_char) {
                end += 1;
            }
            (end > from).then_some(end)
        };
        let (name_start, name_end, total) = match self.peek(1)? {
            c if is_variable_char(c) => {
                let end = name_from(self.pos + 1, &self.chars)?;
                (self.pos + 1, end, end - self.pos)
            }
            quote @ ('\'' | '"') => {
                let end = name_from(self.pos + 2, &self.chars)?;
                if self.chars.get(end) != Some(&quote) {
                    return None;
                }
                (self.pos + 2, end, end + 1 - self.pos)
            }
            '{' if self.peek(2) == Some('?') => {
                let end = name_from(self.pos + 3, &self.chars)?;
                if self.chars.get(end) != Some(&'}') {
                    return None;
                }
                (self.pos + 3, end, end + 1 - self.pos)
            }
            _ => return None,
        };
        let name: String = self.chars[name_start..name_end].iter().collect();
        for _ in 0..total {
            self.bump();
        }
        Some(name)
    }

    fn use_variable(&self, name: &str) -> Result<(), Violation> {
        if name.starts_with("driftlint_") && self.variables.contains(name) {
            Ok(())
        } else {
            self.fail(
                self.line,
                format!("interpolates :{name}, which is not a variable the script set"),
            )
        }
    }

    /// A backslash outside quotes: the meta-command and its arguments, to the end of the line.
    fn meta_command(&mut self) -> Result<(), Violation> {
        let line = self.line;
        let starts_line = self.chars[self.line_start..self.pos]
            .iter()
            .all(|c| *c == ' ' || *c == '\t');
        self.bump();
        let start = self.pos;
        while self
            .peek(0)
            .is_some_and(|c| !c.is_whitespace() && c != '\\')
        {
            self.bump();
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        self.found.push(MetaCommand {
            line,
            name: name.clone(),
            starts_line,
        });
        if !ALLOWED_META_COMMANDS.contains(&name.as_str()) {
            return self.fail(
                line,
                format!("the meta-command \\{name} is not one a fix script may run"),
            );
        }
        if name == "gset"
            && let Some(alias) = self.last_word.take()
        {
            self.variables.insert(alias);
        }
        let mut first_word = true;
        loop {
            match self.peek(0) {
                None | Some('\n') => return Ok(()),
                Some(' ' | '\t') => {
                    self.bump();
                }
                Some('\\') => return self.meta_command(),
                Some('\'') => {
                    self.bump();
                    self.quoted('\'', Backslash::Escapes, "quoted argument")?;
                    if self.line != line {
                        return self.fail(line, "a quoted argument runs past its line");
                    }
                    first_word = false;
                }
                Some(':') => {
                    match self.interpolation() {
                        Some(variable) => self.use_variable(&variable)?,
                        None => {
                            return self
                                .fail(line, format!("an argument of \\{name} is not plain"));
                        }
                    }
                    first_word = false;
                }
                Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                    let start = self.pos;
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        self.bump();
                    }
                    if name == "set" && first_word {
                        let variable: String = self.chars[start..self.pos].iter().collect();
                        self.variables.insert(variable);
                    }
                    first_word = false;
                }
                Some(c) => {
                    return self.fail(
                        line,
                        format!("an argument of \\{name} holds {c:?}, which psql may expand"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(script: &str) -> String {
        match check_script(script) {
            Ok(()) => panic!("passed: {script:?}"),
            Err(violation) => violation.to_string(),
        }
    }

    #[test]
    fn the_script_writers_own_forms_pass() {
        let script = "-- a comment \\! id\n\\set ON_ERROR_STOP on\nBEGIN;\n\
            SELECT COALESCE((to_regclass('public.x') IS NOT NULL), false) AS driftlint_guard_1 \\gset\n\
            \\if :driftlint_guard_1\nSELECT setval('s', 1, false);\n\\else\n\
            \\echo 'driftlint: it''s \\\\n done'\n\\endif\nCOMMIT;\n\\if :driftlint_guard_1\n\\endif\n";
        let found = meta_commands(script).expect("passes");
        let names: Vec<&str> = found.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["set", "gset", "if", "else", "echo", "endif", "if", "endif"]
        );
        assert!(!found[1].starts_line && found[2].starts_line);
    }

    #[test]
    fn meta_commands_inside_quotes_and_comments_are_text() {
        for script in [
            "DROP TABLE \"x\n\\! id > pwned.txt\n\";",
            "SELECT 'x\n\\! id\n';",
            "SELECT E'it\\'s\n\\\\! id';",
            "SELECT $$\n\\! id\n$$;",
            "SELECT $tag$ $$ \n\\! id\n$tag$;",
            "/* a /* nested\n\\! id */ still\n\\! id */ SELECT 1;",
            "-- \\! id\n",
            "SELECT 'a''\n\\! b';",
            "SELECT x::text, a$b$c FROM t;",
        ] {
            assert_eq!(check_script(script), Ok(()), "{script:?}");
        }
    }

    #[test]
    fn hostile_snippets_fail() {
        assert!(fails("-- x\n\\! id > pwned.txt\n").contains("\\!"));
        assert!(fails("-- x\r\\! id\n").contains("\\!"));
        assert!(fails("SELECT 1; \\! id").contains("line 1"));
        assert!(fails("\\o /tmp/x").contains("\\o"));
        assert!(fails("\\i evil.sql").contains("\\i"));
        assert!(fails("\\gexec").contains("\\gexec"));
        // A standard string ends at the quote when standard_conforming_strings is on; with it
        // off the backslash escapes the quote and what follows is a string no more.
        assert!(fails("SELECT 'a\\';\n\\! id\n--';").contains("\\!"));
        assert!(fails("SELECT E'a\\\\';\n\\! id\n").contains("\\!"));
        assert!(fails("SELECT :evil;").contains(":evil"));
        assert!(fails("SELECT :'driftlint_guard_1';").contains("not a variable"));
        assert!(fails("\\if :{?driftlint_x}\n\\endif").contains("driftlint_x"));
        assert!(fails("\\echo `id`").contains("`"));
        assert!(fails("\\echo 'unterminated\n'").contains("past its line"));
        assert!(fails("\\echo 'unterminated").contains("not closed"));
        assert!(fails("\\set x :y").contains(":y"));
        assert!(
            fails("SELECT true AS driftlint_guard \\gset\n\\if :driftlint_guard \\! id")
                .contains("\\!")
        );
        assert!(fails("SELECT $a$ never closed").contains("dollar"));
        assert!(fails("/* /* */ never closed").contains("comment"));
        assert!(fails("SELECT \"never closed").contains("identifier"));
        assert!(fails("SELECT 1 \\\\ \\! id").contains("\\"));
    }

    #[test]
    fn variables_count_once_set() {
        assert_eq!(
            check_script("SELECT true AS driftlint_a \\gset\n\\if :driftlint_a\n\\endif\n"),
            Ok(())
        );
        assert_eq!(
            check_script("\\set driftlint_b 1\nSELECT :driftlint_b;\n"),
            Ok(())
        );
        assert!(
            fails("\\if :driftlint_a\n\\endif\nSELECT true AS driftlint_a \\gset\n")
                .contains("line 1")
        );
        // Not the script's own.
        assert!(
            fails("SELECT true AS ON_ERROR_STOP \\gset\nSELECT :ON_ERROR_STOP;")
                .contains("ON_ERROR_STOP")
        );
    }
}
