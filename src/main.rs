//! The `driftlint` binary: a thin shell over the library's `cli::run`.

use std::process::ExitCode;

fn main() -> ExitCode {
    driftlint::cli::run()
}
