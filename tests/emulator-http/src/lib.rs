//! `emulator-http`: the HTTP/1.1 serving loop of urlguard's test emulators,
//! `aws-emulator` and `kube-emulator` (test-only, never shipped). It owns
//! how they serve, none of what they answer:
//!
//! - [`serve`] accepts connections on a bound listener and serves each one
//!   on a task of its own with hyper's HTTP/1.1 connection and the
//!   emulator's handler (a failed handler closes the connection without an
//!   answer: aws-emulator's lost-answer fault relies on it);
//! - [`Server::shutdown`] stops accepting, closes every open connection —
//!   streaming responses included, a kube watch never ends by itself — and
//!   waits until their tasks are gone; dropping the [`Server`] stops it the
//!   same way without waiting;
//! - for the emulators' binaries, [`announce`] prints the `listening on URL`
//!   line their callers wait for, and [`stop_signal`] is SIGTERM or SIGINT.
//!
//! Raw hyper rather than `axum::serve` (axum is a dependency of urlguard):
//! axum runs each connection as a detached task, so stopping its serve
//! future leaves open connections running, and its graceful shutdown waits
//! for every connection to finish, which an open watch never does. Neither
//! closes open connections; tracking them in a [`JoinSet`] and aborting
//! them does, in one loop.

use std::error::Error as StdError;
use std::future::Future;
use std::io::Write;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn};

/// A running server, stopped by [`Server::shutdown`] or on drop.
pub struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Stops accepting, closes open connections, and waits for the server.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The accept loop closes the connections when it sees the stop; a
        // drop cannot wait for that (it may run outside the runtime).
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `listener` on the calling tokio runtime: every request of every
/// connection goes to `handler`; an `Err` from it closes the connection
/// without an answer. `name` labels the server's log lines.
pub fn serve<H, Fut, B, E>(listener: TcpListener, name: &'static str, handler: H) -> Server
where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<B>, E>> + Send + 'static,
    E: Into<Box<dyn StdError + Send + Sync>> + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                // Finished connections leave the set as they end, so that
                // a long-running emulator does not keep one entry per
                // connection.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let service = service_fn(handler.clone());
                        connections.spawn(async move {
                            if let Err(e) = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await
                            {
                                debug!(server = name, %peer, error = %e, "connection ended");
                            }
                        });
                    }
                    Err(e) => {
                        // Out of file descriptors, typically: back off
                        // instead of spinning on an error that persists.
                        warn!(server = name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                },
            }
        }
        // No new connection from here on; then every open one is aborted
        // (watches too) and waited for.
        drop(listener);
        connections.shutdown().await;
        info!(server = name, "stopped");
    });
    Server {
        stop: Some(stop),
        task: Some(task),
    }
}

/// Prints `listening on URL` as the binary's first stdout line, which is
/// what scripts and tests that start it wait for, and flushes it.
pub fn announce(url: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {url}")?;
    stdout.flush()
}

/// Resolves on SIGTERM or SIGINT (SIGINT only where SIGTERM cannot be
/// listened for).
pub async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
