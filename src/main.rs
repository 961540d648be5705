//! The `cleverfox-sandbox` binary: parses the command line and runs it (see `cli`).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    cleverfox_sandbox::cli::run(cleverfox_sandbox::cli::Cli::parse())
}
