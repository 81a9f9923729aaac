//! Kubernetes for the integration tests: the kube emulator in this test's
//! runtime with a kubeconfig in a scratch dir, and the real kubectl and helm
//! (`.tools/bin/`, from `make setup`) run against it, isolated from the
//! user's own configuration and killed when they hang.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kube_emulator::{Config, KubeEmulator, KubeEmulatorHandle};

/// A hung helm or kubectl fails the test instead of hanging it.
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

/// What a tool printed and whether it succeeded.
pub struct Run {
    /// Whether it exited with 0.
    pub ok: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Where a test's tools keep their files (helm's cache, kubectl's
/// discovery cache, kubeconfig): fresh per test, never the user's.
pub fn scratch(test: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("chart-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs `.tools/bin/<tool> args` in the repository root, isolated in
/// `dir` (and pointed at `kubeconfig` if given); killed after
/// [`TOOL_TIMEOUT`].
pub fn run(tool: &str, dir: &Path, kubeconfig: Option<&Path>, args: &[&str]) -> Run {
    let binary = super::repo_root().join(".tools/bin").join(tool);
    assert!(
        binary.exists(),
        "{} is missing: run `make setup`",
        binary.display()
    );
    // Numbered, so that tools running at once keep their own output.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let out_path = dir.join(format!("{tool}-{run}.stdout"));
    let err_path = dir.join(format!("{tool}-{run}.stderr"));
    let mut command = Command::new(&binary);
    command
        .args(args)
        .current_dir(super::repo_root())
        .env("HOME", dir)
        .env("KUBECACHEDIR", dir.join("kube-cache"))
        .env("HELM_CACHE_HOME", dir.join("helm-cache"))
        .env("HELM_CONFIG_HOME", dir.join("helm-config"))
        .env("HELM_DATA_HOME", dir.join("helm-data"))
        // Without a kubeconfig a tool must not find any real cluster.
        .env(
            "KUBECONFIG",
            kubeconfig.map_or_else(|| dir.join("no-kubeconfig"), Path::to_path_buf),
        )
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting {tool}: {e}"));
    let deadline = Instant::now() + TOOL_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the tool") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{tool} {args:?} did not finish within {TOOL_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        ok: status.success(),
        stdout: std::fs::read_to_string(&out_path).expect("stdout"),
        stderr: std::fs::read_to_string(&err_path).expect("stderr"),
    }
}

pub fn ok(tool: &str, dir: &Path, kubeconfig: Option<&Path>, args: &[&str]) -> String {
    let out = run(tool, dir, kubeconfig, args);
    assert!(
        out.ok,
        "{tool} {args:?} failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    out.stdout
}

/// A kube emulator with a kubeconfig in a fresh scratch dir.
pub struct Cluster {
    /// The scratch dir of the tools.
    pub dir: PathBuf,
    /// The kubeconfig that reaches the emulator.
    pub kubeconfig: PathBuf,
    server: KubeEmulatorHandle,
}

impl Cluster {
    /// Starts the emulator on a free loopback port, in the caller's runtime.
    pub async fn start(test: &str) -> Cluster {
        Cluster::start_with(test, Config::default()).await
    }

    /// [`Cluster::start`] with the emulator configured by `config` (its
    /// listen address is ignored: a free loopback port).
    pub async fn start_with(test: &str, config: Config) -> Cluster {
        let config = Config {
            listen: Config::default().listen,
            ..config
        };
        let server = KubeEmulator::start(config)
            .await
            .expect("the emulator starts");
        let dir = scratch(test);
        let kubeconfig = dir.join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig)
            .expect("kubeconfig written");
        Cluster {
            dir,
            kubeconfig,
            server,
        }
    }

    /// The emulator, for its test knobs (`expire_watches`, ...).
    pub fn emulator(&self) -> &KubeEmulatorHandle {
        &self.server
    }

    /// Runs `tool args` against the emulator.
    pub fn run(&self, tool: &str, args: &[&str]) -> Run {
        run(tool, &self.dir, Some(&self.kubeconfig), args)
    }

    /// Runs `tool args` against the emulator and expects success.
    pub fn ok(&self, tool: &str, args: &[&str]) -> String {
        ok(tool, &self.dir, Some(&self.kubeconfig), args)
    }

    /// Whether `kubectl get args` finds the object.
    pub fn exists(&self, args: &[&str]) -> bool {
        let mut all = vec!["get"];
        all.extend(args);
        all.extend(["-o", "name"]);
        self.run("kubectl", &all).ok
    }
}
