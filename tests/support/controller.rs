//! `urlguard controller` as a child process (the binary cargo built for
//! this test or bench) against a [`TestBed`] and a [`Cluster`], with its
//! `/metrics`, `/healthz` and `/readyz` on a free loopback port; killed on
//! drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use super::aws::TestBed;
use super::kube::Cluster;
use super::process::{OwnedChild, free_port, wait_until_listening};

/// Short intervals, so that a test takes seconds, and leader election on a
/// 3 s lease: `(flag, value)` pairs that flags given to
/// [`Controller::start_with`] replace.
pub const TEST_FLAGS: [(&str, &str); 7] = [
    ("--poll-interval", "500ms"),
    ("--error-retry-interval", "1s"),
    ("--retry-interval", "1s"),
    ("--retry-max-interval", "2s"),
    ("--debounce", "1s"),
    ("--lease-duration", "3s"),
    ("--lease-grace", "1s"),
];

/// The tests' `RUST_LOG`: everything urlguard does, for a failure's report.
pub const TEST_LOG: &str = "urlguard=debug,info";

/// A `urlguard controller` process, killed on drop.
pub struct Controller {
    child: OwnedChild,
    metrics: SocketAddr,
    log: PathBuf,
}

impl Controller {
    /// Starts a replica named `identity` with [`TEST_FLAGS`] and [`TEST_LOG`].
    pub fn start(bed: &TestBed, cluster: &Cluster, identity: &str) -> Controller {
        Controller::start_with(bed, cluster, identity, &[], TEST_LOG)
    }

    /// Starts a replica named `identity` with more flags (`--flag value`
    /// pairs, replacing the [`TEST_FLAGS`] of the same name) and this
    /// `RUST_LOG`; its output goes to `controller-<identity>.log` in the
    /// cluster's scratch dir.
    pub fn start_with(
        bed: &TestBed,
        cluster: &Cluster,
        identity: &str,
        flags: &[&str],
        rust_log: &str,
    ) -> Controller {
        let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = cluster.dir.join(format!("controller-{identity}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_urlguard"));
        command.args(["controller", "--metrics-address", &metrics.to_string()]);
        for (flag, value) in TEST_FLAGS {
            if !flags.contains(&flag) {
                command.args([flag, value]);
            }
        }
        command
            .args(flags)
            .current_dir(super::repo_root())
            .env("KUBECONFIG", &cluster.kubeconfig)
            .env("POD_NAME", identity)
            .env("POD_NAMESPACE", "default")
            .env("RUST_LOG", rust_log);
        bed.isolate(&mut command);
        let mut child = OwnedChild::spawn(identity, command, &log);
        let listening = wait_until_listening(&mut child, metrics, Duration::from_secs(30));
        let controller = Controller {
            child,
            metrics,
            log,
        };
        assert!(
            listening,
            "controller {identity} did not start:\n{}",
            controller.log()
        );
        controller
    }

    /// `GET path` on the metrics address: the status line and the body.
    pub fn get(&self, path: &str) -> (String, String) {
        let mut stream = TcpStream::connect(self.metrics).expect("connecting to the controller");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.metrics
        )
        .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head.lines().next().unwrap_or_default().to_owned();
        (status, body.to_owned())
    }

    /// The Prometheus text of `/metrics`.
    pub fn metrics(&self) -> String {
        let (status, body) = self.get("/metrics");
        assert!(status.contains("200"), "/metrics: {status}");
        body
    }

    /// The sum of every sample of `metric` (0 when it has none).
    pub fn sum(&self, metric: &str) -> f64 {
        samples(&self.metrics(), metric)
            .into_iter()
            .map(|(_, value)| value)
            .sum()
    }

    /// Whether this replica holds the lease.
    pub fn is_leader(&self) -> bool {
        self.sum("urlguard_leader") == 1.0
    }

    /// Polls `done` until it holds; fails the test with `what` and the
    /// controller's log when `within` passes first.
    pub fn wait_until(&self, within: Duration, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + within;
        while !done() {
            assert!(
                std::time::Instant::now() < deadline,
                "{what} within {within:?}; controller log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `kubectl wait --for=condition=Ready TARGET... -n books`, failing with
    /// the controller's log.
    pub fn wait_ready(&self, cluster: &Cluster, target: &[&str]) {
        let mut args = vec!["wait", "--for=condition=Ready"];
        args.extend_from_slice(target);
        args.extend(["-n", "books", "--timeout=90s"]);
        let ready = cluster.run("kubectl", &args);
        assert!(ready.ok, "{}\n{}", ready.stderr, self.log());
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Where the process logs.
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited already.
    pub fn has_exited(&mut self) -> bool {
        self.child.has_exited()
    }

    /// The exit status, once the process has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.exit_status()
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.child.terminate(timeout)
    }
}

/// The samples of `metric` in Prometheus `text`: each one's labels (the
/// text between the braces, empty without) and value.
pub fn samples(text: &str, metric: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(metric)?;
            let (labels, value) = match rest.strip_prefix('{') {
                Some(labelled) => labelled.split_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            Some((labels.to_owned(), value.trim().parse::<f64>().ok()?))
        })
        .collect()
}
