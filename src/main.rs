//! The `urlguard` binary: see [`urlguard::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    urlguard::cli::run()
}
