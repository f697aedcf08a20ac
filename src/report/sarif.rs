//! `--format sarif`: a SARIF 2.1.0 log with one run, the rule table (ids, help URIs, the rule
//! documentation as help text) and one result per finding with its physical location.

use serde_json::{Value, json};

use super::{Positions, VERSION, rule_url};
use crate::rules::{Finding, RULES, Severity};
use crate::source::Sources;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn location(
    positions: &Positions<'_>,
    label: &crate::rules::Label,
    message: Option<&str>,
) -> Value {
    let p = positions.place(label);
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": artifact_uri(p.path), "uriBaseId": "%SRCROOT%" },
            "region": {
                "startLine": p.line,
                "startColumn": p.column,
                "endLine": p.end_line,
                "endColumn": p.end_column,
            }
        }
    });
    if let Some(text) = message {
        loc["message"] = json!({ "text": text });
    }
    loc
}

/// A display path as a relative URI reference: bytes other than unreserved characters and `/`
/// are percent-encoded, so that a space stays valid and the `:` of a file read from a git ref
/// (`origin/main:migrations/versions/x.py`) does not read as a URI scheme.
fn artifact_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

pub fn render(sources: &Sources, findings: &[Finding]) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.name,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "helpUri": rule_url(r.name),
                "help": { "text": r.doc, "markdown": r.doc },
                "defaultConfiguration": { "level": level(r.severity) },
            })
        })
        .collect();
    let positions = Positions::new(sources);
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let rule_index = RULES
                .iter()
                .position(|r| r.rule == f.rule)
                .expect("every finding's rule is registered");
            let mut text = f.message.clone();
            if let Some(help) = &f.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let mut result = json!({
                "ruleId": f.rule.name(),
                "ruleIndex": rule_index,
                "level": level(f.severity),
                "message": { "text": text },
            });
            if let Some(label) = &f.primary {
                result["locations"] = json!([location(&positions, label, Some(&label.text))]);
            }
            if !f.related.is_empty() {
                let related: Vec<Value> = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let mut v = location(&positions, l, Some(&l.text));
                        v["id"] = json!(i);
                        v
                    })
                    .collect();
                result["relatedLocations"] = Value::Array(related);
            }
            let mut props = serde_json::Map::new();
            props.insert("source".into(), json!(f.source.as_str()));
            if let Some(rev) = &f.revision {
                props.insert("revision".into(), json!(rev));
            }
            if let Some(fix) = &f.fix {
                let parts = fix.parts();
                props.insert("fix".into(), json!(parts.sql));
                props.insert("migration".into(), json!(parts.migration));
                props.insert("destructive".into(), json!(fix.is_destructive()));
            }
            result["properties"] = Value::Object(props);
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "driftlint",
                    "version": VERSION,
                    "semanticVersion": VERSION,
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                "%SRCROOT%": { "description": { "text": "the working directory driftlint ran in" } }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut out =
        super::json_safe(serde_json::to_string_pretty(&log).expect("SARIF values serialise"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::artifact_uri;

    #[test]
    fn artifact_uris_are_relative_references() {
        assert_eq!(
            artifact_uri("migrations/versions/1_a.py"),
            "migrations/versions/1_a.py"
        );
        assert_eq!(
            artifact_uri("origin/main:migrations/versions/1 a.py"),
            "origin/main%3Amigrations/versions/1%20a.py"
        );
        assert_eq!(artifact_uri("é"), "%C3%A9");
    }
}
