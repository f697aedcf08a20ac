//! What the machine formats print when driftlint could not do its job (exit 2), so that a CI
//! step parsing standard output always gets a document: JSON `{"driftlint", "error": {"kind",
//! "message", "help"}}`, a SARIF log whose run has no results and one
//! `toolExecutionNotifications` entry, or a GitHub `::error` annotation.

use serde_json::json;

use super::VERSION;

/// An error that stopped the run, as the machine formats carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError {
    /// A stable kebab-case name for the kind of error (`migrations-not-found`, `live-connect`,
    /// `usage`).
    pub kind: String,
    pub message: String,
    pub help: Option<String>,
}

/// The machine formats that print an error document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineFormat {
    Json,
    Sarif,
    Github,
}

pub fn render(format: MachineFormat, error: &RunError) -> String {
    match format {
        MachineFormat::Json => {
            let document = json!({
                "driftlint": VERSION,
                "error": { "kind": error.kind, "message": error.message, "help": error.help },
            });
            let mut out = serde_json::to_string_pretty(&document).expect("JSON values serialise");
            out.push('\n');
            out
        }
        MachineFormat::Sarif => {
            let mut text = error.message.clone();
            if let Some(help) = &error.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let log = json!({
                "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                "version": "2.1.0",
                "runs": [{
                    "tool": { "driver": {
                        "name": "driftlint",
                        "version": VERSION,
                        "semanticVersion": VERSION,
                        "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    } },
                    "invocations": [{
                        "executionSuccessful": false,
                        "exitCode": 2,
                        "toolExecutionNotifications": [{
                            "level": "error",
                            "message": { "text": text },
                            "descriptor": { "id": error.kind },
                        }],
                    }],
                    "results": [],
                }]
            });
            let mut out = serde_json::to_string_pretty(&log).expect("SARIF values serialise");
            out.push('\n');
            out
        }
        MachineFormat::Github => {
            let mut message = error.message.clone();
            if let Some(help) = &error.help {
                message.push_str("\n\nhelp: ");
                message.push_str(help);
            }
            format!(
                "::error title={}::{}\n",
                super::github::escape_property(&format!("driftlint: {}", error.kind)),
                super::github::escape_data(&message)
            )
        }
    }
}

/// A diagnostic code (`driftlint::live::connect`) as an error kind (`live-connect`).
pub fn kind_of_code(code: &str) -> String {
    code.strip_prefix("driftlint::")
        .unwrap_or(code)
        .replace("::", "-")
        .replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error() -> RunError {
        RunError {
            kind: "migrations-not-found".to_owned(),
            message: "no Alembic migrations found in /srv/app".to_owned(),
            help: Some("pass --migrations".to_owned()),
        }
    }

    #[test]
    fn json_carries_kind_message_and_help() {
        let value: serde_json::Value =
            serde_json::from_str(&render(MachineFormat::Json, &error())).expect("JSON");
        assert_eq!(value["driftlint"], VERSION);
        assert_eq!(value["error"]["kind"], "migrations-not-found");
        assert_eq!(value["error"]["help"], "pass --migrations");
        assert!(value.get("findings").is_none());
    }

    #[test]
    fn sarif_has_a_failed_invocation_and_no_results() {
        let value: serde_json::Value =
            serde_json::from_str(&render(MachineFormat::Sarif, &error())).expect("JSON");
        let invocation = &value["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        assert_eq!(
            invocation["toolExecutionNotifications"][0]["descriptor"]["id"],
            "migrations-not-found"
        );
        assert_eq!(value["runs"][0]["results"], json!([]));
    }

    #[test]
    fn github_is_one_error_annotation() {
        let text = render(MachineFormat::Github, &error());
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("::error title=driftlint%3A migrations-not-found::no Alembic"));
    }

    #[test]
    fn codes_become_kinds() {
        assert_eq!(kind_of_code("driftlint::live::connect"), "live-connect");
        assert_eq!(
            kind_of_code("driftlint::migrations_path_missing"),
            "migrations-path-missing"
        );
    }
}
