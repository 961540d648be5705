use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    cleverfox_sandbox::cli::run(cleverfox_sandbox::cli::Cli::parse())
}
