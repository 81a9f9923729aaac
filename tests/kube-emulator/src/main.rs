//! The `kube-emulator` binary (test-only, never shipped): a thin CLI over the
//! library. `kube-emulator --listen 127.0.0.1:0 --kubeconfig PATH` binds,
//! writes a kubeconfig for kubectl, helm and kube-rs, prints `listening on
//! http://ADDR` as its first stdout line, and serves until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kube_emulator::{Config, KubeEmulator};

/// A Kubernetes API server emulator for tests: discovery, OpenAPI v3, CRDs
/// with schema + CEL validation, list/watch, patches, finalizers.
#[derive(Debug, Parser)]
#[command(name = "kube-emulator", version)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where to write a kubeconfig pointing at the emulator.
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// Watch events kept for resourceVersion resume (older: 410 Gone).
    #[arg(long, default_value_t = 10_000)]
    history: usize,
    /// Seconds between BOOKMARK events on watches that allow them.
    #[arg(long, default_value_t = 5.0)]
    bookmark_seconds: f64,
    /// Log every request (default: startup and errors only).
    #[arg(long)]
    verbose: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(if cli.verbose {
            tracing::Level::DEBUG
        } else {
            tracing::Level::INFO
        })
        .with_target(false)
        .init();
    let Ok(bookmark_interval) = Duration::try_from_secs_f64(cli.bookmark_seconds) else {
        eprintln!(
            "kube-emulator: --bookmark-seconds {} is not a duration",
            cli.bookmark_seconds
        );
        return ExitCode::from(2);
    };
    let config = Config {
        listen: cli.listen,
        history_limit: cli.history,
        bookmark_interval,
        ..Config::default()
    };
    let handle = match KubeEmulator::start(config).await {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("kube-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &cli.kubeconfig
        && let Err(e) = handle.write_kubeconfig(path)
    {
        eprintln!("kube-emulator: writing {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    if emulator_http::announce(&handle.url()).is_err() {
        return ExitCode::FAILURE;
    }
    emulator_http::stop_signal().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}
