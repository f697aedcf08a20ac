//! `[tool.driftlint]` applied to the parsed command line: a setting fills in what the command
//! line left out, so that flags always win and SPEC.md's discovery applies where neither says.

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::Failure;
use super::args::{CheckArgs, CheckFormat, Cli, Command};
use crate::config::{self, Config, Format};

/// Reads `pyproject.toml` in `cwd` and fills in the settings the command line did not give.
/// Commands that take none of the settings do not read it.
pub(super) fn apply(
    cli: &mut Cli,
    matches: &ArgMatches,
    cwd: &std::path::Path,
) -> Result<(), Failure> {
    if matches!(cli.command, Command::Explain(_) | Command::Completions(_)) {
        return Ok(());
    }
    let loaded = config::load(cwd).map_err(|error| Failure::from(redacted(&error)))?;
    let Some(config) = loaded else {
        return Ok(());
    };
    config::set_limits(config.limits());
    let given = |name: &str| {
        matches.subcommand().is_some_and(|(_, sub)| {
            sub.try_get_raw(name).is_ok()
                && sub.value_source(name) == Some(ValueSource::CommandLine)
        })
    };
    apply_config(cli, &config, &given);
    Ok(())
}

fn apply_config(cli: &mut Cli, config: &Config, given: &dyn Fn(&str) -> bool) {
    let migrations = &config.migrations;
    match &mut cli.command {
        Command::Check(args) => {
            fill(&mut args.input.migrations, migrations);
            fill(&mut args.input.expectations, &config.expectations);
            if let Some(format) = config.format
                && !given("format")
            {
                args.format = match format {
                    Format::Human => CheckFormat::Human,
                    Format::Json => CheckFormat::Json,
                    Format::Sarif => CheckFormat::Sarif,
                    Format::Github => CheckFormat::Github,
                };
            }
            if config.deny_warnings == Some(true) && !args.no_deny_warnings {
                args.deny_warnings = true;
            }
            args.database_url_env.clone_from(&config.database_url_env);
        }
        Command::Heads(input) => {
            fill(&mut input.migrations, migrations);
            fill(&mut input.expectations, &config.expectations);
        }
        Command::Graph(args) => fill(&mut args.migrations, migrations),
        Command::Schema(args) => fill(&mut args.migrations, migrations),
        Command::Init(args) => fill(&mut args.migrations, migrations),
        Command::Explain(_) | Command::Completions(_) => {}
    }
}

/// With `--live` and `database-url-env` in `[tool.driftlint]`, the URL that variable holds, from
/// the environment or else from `.env` in `cwd`, as `DATABASE_URL` would be read.
pub(super) fn configured_database_url(
    cwd: &std::path::Path,
    args: &CheckArgs,
) -> Result<Option<String>, Failure> {
    let Some(variable) = args.database_url_env.as_deref() else {
        return Ok(None);
    };
    if !args.live || args.database_url.is_some() {
        return Ok(None);
    }
    if let Some(url) = std::env::var(variable)
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return Ok(Some(url));
    }
    let env_file = cwd.join(".env");
    if env_file.is_file()
        && let Some(url) = crate::live::read_env_file_value(&env_file, variable)
            .map_err(Failure::Live)?
            .filter(|v| !v.trim().is_empty())
    {
        return Ok(Some(url));
    }
    Err(Failure::Line(format!(
        "--live reads the database URL from {variable} (database-url-env in pyproject.toml's \
         [tool.driftlint]), which is set neither in the environment nor in .env"
    )))
}

/// `[tool.driftlint]` could not be read: the configuration error as the user sees it, with
/// every URL value and `password = …` in the file's text and the message masked (a
/// `database-url` someone wrote there, a connection string under another key). The masks keep
/// each masked character's byte length, so the labels still point at the right place.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(driftlint::config_invalid))]
struct ConfigError {
    message: String,
    #[help]
    help: Option<String>,
    #[source_code]
    source_code: Option<miette::NamedSource<String>>,
    #[label(collection)]
    labels: Vec<miette::LabeledSpan>,
}

fn redacted(error: &config::Error) -> ConfigError {
    use miette::Diagnostic;
    let text = std::fs::read(&error.path)
        .ok()
        .map(|bytes| mask_secrets(&String::from_utf8_lossy(&bytes)));
    let labels: Vec<miette::LabeledSpan> = error
        .labels()
        .map(|labels| labels.collect())
        .unwrap_or_default();
    let source_code = text.map(|text| {
        miette::NamedSource::new(crate::source::display_path(&error.path), text)
            .with_language("TOML")
    });
    ConfigError {
        message: mask_secrets(&error.to_string()),
        help: error.help().map(|help| help.to_string()),
        // Without the text, the labels would point into nothing.
        labels: if source_code.is_some() {
            labels
        } else {
            Vec::new()
        },
        source_code,
    }
}

/// `text` with the secrets it may hold replaced by `*`, byte for byte: everything after
/// `scheme://` up to a space, quote or line end, and the value after `password =` or
/// `password:`.
fn mask_secrets(text: &str) -> String {
    let mut masked = vec![false; text.len()];
    let ends_value = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | '}');
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        let end = text[start..]
            .find(ends_value)
            .map_or(text.len(), |at| start + at);
        masked[start..end].iter_mut().for_each(|m| *m = true);
        from = start;
    }
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("password") {
        let mut at = from + found + "password".len();
        from = at;
        let rest = &text[at..];
        let trimmed = rest.trim_start_matches([' ', '\t', '"', '\'']);
        let Some(value) = trimmed
            .strip_prefix('=')
            .or_else(|| trimmed.strip_prefix(':'))
        else {
            continue;
        };
        at += rest.len() - value.len();
        let value_text = value.trim_start_matches([' ', '\t', '"', '\'']);
        at += value.len() - value_text.len();
        let end = value_text
            .find(ends_value)
            .map_or(text.len(), |end| at + end);
        masked[at..end].iter_mut().for_each(|m| *m = true);
    }
    text.char_indices()
        .map(|(at, c)| {
            if masked[at] {
                "*".repeat(c.len_utf8())
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn fill<T: Clone>(slot: &mut Option<T>, setting: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(setting);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    fn parsed(args: &[&str], config: &Config) -> Cli {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("driftlint").chain(args.iter().copied()))
            .expect("valid arguments");
        let mut cli = Cli::from_arg_matches(&matches).expect("parses");
        let given = |name: &str| {
            matches
                .subcommand()
                .is_some_and(|(_, sub)| sub.value_source(name) == Some(ValueSource::CommandLine))
        };
        apply_config(&mut cli, config, &given);
        cli
    }

    fn config() -> Config {
        Config {
            path: PathBuf::from("pyproject.toml"),
            migrations: Some(PathBuf::from("/p/db/migrations")),
            expectations: Some(PathBuf::from("/p/expect.yaml")),
            database_url_env: Some("APP_DB".to_owned()),
            format: Some(Format::Github),
            deny_warnings: Some(true),
            ..Config::default()
        }
    }

    #[test]
    fn settings_fill_in_what_the_command_line_left_out() {
        let Command::Check(args) = parsed(&["check"], &config()).command else {
            panic!("check");
        };
        assert_eq!(
            args.input.migrations,
            Some(PathBuf::from("/p/db/migrations"))
        );
        assert_eq!(
            args.input.expectations,
            Some(PathBuf::from("/p/expect.yaml"))
        );
        assert_eq!(args.format, CheckFormat::Github);
        assert!(args.deny_warnings);
        assert_eq!(args.database_url_env.as_deref(), Some("APP_DB"));
    }

    #[test]
    fn flags_win_over_settings() {
        let cli = parsed(
            &[
                "check",
                "--migrations",
                "other",
                "--format",
                "human",
                "--no-deny-warnings",
            ],
            &config(),
        );
        let Command::Check(args) = cli.command else {
            panic!("check");
        };
        assert_eq!(args.input.migrations, Some(PathBuf::from("other")));
        assert_eq!(args.format, CheckFormat::Human);
        assert!(!args.deny_warnings);
    }

    #[test]
    fn secrets_in_configuration_text_are_masked_byte_for_byte() {
        let text = "[tool.driftlint]\ndatabase-url = \"postgresql://app:S3cret@db/app\"\n\
                    dsn = 'host=db password=Hunter2 user=x'\nother = \"password: pässword1\"\n";
        let masked = mask_secrets(text);
        assert_eq!(masked.len(), text.len());
        for secret in ["S3cret", "Hunter2", "pässword1", "app:", "@db"] {
            assert!(!masked.contains(secret), "{secret} in {masked}");
        }
        assert!(
            masked.contains("database-url = \"postgresql://"),
            "{masked}"
        );
        assert!(masked.contains("user=x"), "{masked}");
        // Lines keep their lengths, so spans into the text stay on the same line.
        let lines = |t: &str| t.lines().map(str::len).collect::<Vec<_>>();
        assert_eq!(lines(&masked), lines(text));
    }

    #[test]
    fn other_commands_take_the_migrations_path() {
        let Command::Graph(args) = parsed(&["graph"], &config()).command else {
            panic!("graph");
        };
        assert_eq!(args.migrations, Some(PathBuf::from("/p/db/migrations")));
    }
}
