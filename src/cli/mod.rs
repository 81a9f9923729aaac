//! The command-line driver: `urlguard <command>`. Each subcommand lives in
//! its own file; this one parses arguments and maps outcomes to exit codes.

mod crds;
mod signer;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Publish AWS Lambda function URLs safely behind CloudFront.
#[derive(Debug, Parser)]
#[command(name = "urlguard", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions of both kinds as YAML.
    Crds,
    /// Print the CodeSha256 of the embedded Lambda@Edge signer package.
    Signer {
        /// Also write the package's zip to this file.
        #[arg(long, value_name = "FILE")]
        zip: Option<std::path::PathBuf>,
    },
}

/// Parses the process arguments, runs the command, and returns its exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let outcome: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Crds => crds::print().map_err(Into::into),
        Command::Signer { zip } => signer::print(zip).map_err(Into::into),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("urlguard: {error}");
            ExitCode::FAILURE
        }
    }
}
