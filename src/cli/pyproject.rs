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
    let loaded = config::load(cwd).map_err(|error| Failure::Diagnostic(error))?;
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
    fn other_commands_take_the_migrations_path() {
        let Command::Graph(args) = parsed(&["graph"], &config()).command else {
            panic!("graph");
        };
        assert_eq!(args.migrations, Some(PathBuf::from("/p/db/migrations")));
    }
}
