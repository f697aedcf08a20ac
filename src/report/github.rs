//! `--format github`: GitHub Actions workflow commands, one annotation per finding
//! (`::error file=…,line=…,col=…,title=<rule>::<message>`).

use std::fmt::Write;

use super::{Positions, escape_text};
use crate::rules::{Finding, Severity};
use crate::source::Sources;

pub fn render(sources: &Sources, findings: &[Finding]) -> String {
    let positions = Positions::new(sources);
    let mut out = String::new();
    for f in findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(label) = &f.primary {
            let p = positions.place(label);
            props.push(format!("file={}", escape_property(p.path)));
            props.push(format!("line={}", p.line));
            props.push(format!("col={}", p.column));
            if p.end_line >= p.line {
                props.push(format!("endLine={}", p.end_line));
                if p.end_line == p.line {
                    props.push(format!("endColumn={}", p.end_column));
                }
            }
        }
        props.push(format!("title={}", escape_property(f.rule.name())));
        let mut message = f.message.clone();
        if let Some(help) = &f.help {
            let _ = write!(message, "\n\nhelp: {help}");
        }
        if let Some(fix) = &f.fix {
            let _ = write!(message, "\n\nfix: {}\n{}", fix.title, fix.sql.join("\n"));
        }
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&message)
        );
    }
    out
}

/// Escapes a workflow command's message, as the Actions toolkit does, after writing control
/// and bidirectional characters visibly (an ESC would reach the log viewer; a CR or LF would
/// otherwise start a new workflow command).
pub(crate) fn escape_data(s: &str) -> String {
    escape_text(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value, as the Actions toolkit does.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(escape_data("a\r\n::error::x"), "a\\x0d%0A::error::x");
        assert_eq!(
            escape_property("v/\u{1b}]8;;x\u{7}\u{202e}.py"),
            "v/\\x1b]8;;x\\x07\\u{202e}.py"
        );
    }
}
