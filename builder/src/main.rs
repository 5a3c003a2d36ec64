//! The `softpxe` command: parses arguments (clap exits 2 on a usage error), runs, and prints an
//! error chain as `softpxe: error: ...` with exit code 1.
#![forbid(unsafe_code)]

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("softpxe: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
