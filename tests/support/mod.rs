//! Test harness shared by the integration tests: local AWS services and a
//! Kubernetes API server on loopback, started per test and stopped when the
//! test ends, also on panic. Nothing here ever reaches real AWS or a real
//! cluster.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod aws;
pub mod books;
pub mod cli;
pub mod controller;
pub mod engine;
pub mod inventory;
pub mod kube;
pub mod moto;
pub mod out_of_band;
pub mod process;
pub mod shapes;
pub mod traffic;

use std::path::PathBuf;

/// The repository root (the tests' working directory may differ).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
