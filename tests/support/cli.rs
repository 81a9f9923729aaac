//! The `urlguard` command (the binary cargo built for this test) as a user
//! runs it, against a [`TestBed`] only.

use std::process::{Command, Output};

use super::aws::TestBed;

/// Runs `urlguard ARGS` in the repository root against the bed, isolated
/// from any real AWS configuration on the machine.
pub fn urlguard(bed: &TestBed, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_urlguard"));
    command.args(args).current_dir(super::repo_root());
    bed.isolate(&mut command);
    command.output().expect("urlguard runs")
}

/// What a run printed: stdout and stderr.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
