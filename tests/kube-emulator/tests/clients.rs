//! The real kubectl (v1.35) and helm (v4) (`.tools/bin/`, installed by
//! `make setup`) against the emulator, as a user runs them: discovery,
//! OpenAPI v3 field validation (no `--validate=false`), CRDs, client-side
//! and server-side apply, Table output with printer columns, short names,
//! `kubectl get -w`, helm install/list/uninstall (protobuf release Secrets).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kube_emulator::{Config, KubeEmulator, KubeEmulatorHandle};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Kubectl {
    dir: PathBuf,
    kubeconfig: PathBuf,
    _handle: KubeEmulatorHandle,
}

async fn start(test: &str) -> Kubectl {
    let handle = KubeEmulator::start(Config::default())
        .await
        .expect("emulator starts");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kube-emulator-{test}-{}", handle.addr().port()));
    let kubeconfig = dir.join("kubeconfig");
    handle
        .write_kubeconfig(&kubeconfig)
        .expect("kubeconfig written");
    Kubectl {
        dir,
        kubeconfig,
        _handle: handle,
    }
}

impl Kubectl {
    /// A command for `.tools/bin/<tool>` reaching only this emulator.
    fn command(&self, tool: &str) -> Command {
        let binary = repo().join(".tools/bin").join(tool);
        assert!(
            binary.exists(),
            "{} is missing: run `make setup`",
            binary.display()
        );
        let mut command = Command::new(binary);
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.dir.join("cache"))
            .env("HOME", &self.dir)
            .env("HELM_CACHE_HOME", self.dir.join("helm-cache"))
            .env("HELM_CONFIG_HOME", self.dir.join("helm-config"))
            .env("HELM_DATA_HOME", self.dir.join("helm-data"))
            .current_dir(repo());
        command
    }

    /// Runs kubectl (blocking this worker; the server runs on the other).
    fn run(&self, args: &[&str]) -> Output {
        self.command("kubectl")
            .args(args)
            .output()
            .expect("kubectl runs")
    }

    /// Runs helm and expects success; returns stdout.
    fn helm(&self, args: &[&str]) -> String {
        let out = self.command("helm").args(args).output().expect("helm runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "helm {args:?} failed:\n{stdout}\n{stderr}"
        );
        stdout
    }

    /// Runs kubectl and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\n{stdout}\n{stderr}"
        );
        stdout
    }
}

/// `kubectl version`, `kubectl create namespace`, `kubectl get ns`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_sees_a_server_and_namespaces() {
    let k = start("version").await;
    let version = k.ok(&["version", "-o", "json"]);
    assert!(version.contains("\"gitVersion\": \"v1.35.0\""), "{version}");
    assert!(
        k.ok(&["create", "namespace", "books"])
            .contains("namespace/books created")
    );
    let namespaces = k.ok(&["get", "ns"]);
    assert!(
        namespaces
            .lines()
            .next()
            .is_some_and(|h| h.contains("NAME") && h.contains("STATUS") && h.contains("AGE")),
        "{namespaces}"
    );
    assert!(
        namespaces
            .lines()
            .any(|l| l.starts_with("books ") && l.contains("Active")),
        "{namespaces}"
    );
    let out = k.run(&["create", "namespace", "books"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("AlreadyExists"));
}

/// `kubectl apply -f crds/` then `-f examples/books.yaml` (client-side
/// apply, server-side field validation), `kubectl get pfu/ed` with printer
/// columns, re-apply unchanged (generation stays 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_applies_crds_and_books() {
    let k = start("apply").await;
    let crds = k.ok(&["apply", "-f", "crds/"]);
    assert!(
        crds.contains("edgedistributions.urlguard.io created"),
        "{crds}"
    );
    let applied = k.ok(&["apply", "-f", "examples/books.yaml"]);
    assert!(
        applied.contains("edgedistribution.urlguard.io/books created"),
        "{applied}"
    );
    assert!(
        applied.contains("protectedfunctionurl.urlguard.io/get-books created"),
        "{applied}"
    );
    let pfus = k.ok(&["get", "pfu", "-n", "books"]);
    assert_eq!(pfus.lines().count(), 6, "{pfus}");
    assert!(
        pfus.lines().next().is_some_and(|h| h.contains("READY")),
        "{pfus}"
    );
    let eds = k.ok(&["get", "ed", "-n", "books"]);
    assert!(eds.contains("books") && eds.contains("EdgeSigner"), "{eds}");
    let again = k.ok(&["apply", "-f", "examples/books.yaml"]);
    assert!(
        again.contains("edgedistribution.urlguard.io/books unchanged"),
        "{again}"
    );
    let generation = k.ok(&[
        "get",
        "ed",
        "books",
        "-n",
        "books",
        "-o",
        "jsonpath={.metadata.generation}",
    ]);
    assert_eq!(generation, "1");
}

/// A manifest a real cluster refuses is refused by `kubectl apply` with the
/// field named (server-side schema validation; no client-side bypass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_refuses_a_bad_manifest() {
    let k = start("invalid").await;
    k.ok(&["apply", "-f", "crds/"]);
    k.ok(&["create", "namespace", "books"]);
    let books = std::fs::read_to_string(repo().join("examples/books.yaml")).expect("books.yaml");
    let bad = books.replacen("protection: EdgeSigner", "protection: Bogus", 1);
    let path = k.dir.join("bad-books.yaml");
    std::fs::write(&path, bad).expect("write");
    let path_text = path.to_string_lossy().into_owned();
    let out = k.run(&["apply", "-f", &path_text]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("spec.protection: Unsupported value: \"Bogus\""),
        "{stderr}"
    );
}

/// `kubectl apply --server-side` creates, re-applies without changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_server_side_apply() {
    let k = start("ssa").await;
    k.ok(&["apply", "--server-side", "-f", "crds/"]);
    let applied = k.ok(&["apply", "--server-side", "-f", "examples/books.yaml"]);
    assert!(
        applied.contains("edgedistribution.urlguard.io/books serverside-applied"),
        "{applied}"
    );
    k.ok(&["apply", "--server-side", "-f", "examples/books.yaml"]);
    let generation = k.ok(&[
        "get",
        "ed",
        "books",
        "-n",
        "books",
        "-o",
        "jsonpath={.metadata.generation}",
    ]);
    assert_eq!(generation, "1");
    let managers = k.ok(&[
        "get",
        "ed",
        "books",
        "-n",
        "books",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert!(managers.contains("kubectl"), "{managers}");
}

/// `kubectl get -w` streams a watch: the existing object, then changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_watch_streams_changes() {
    let k = start("watch").await;
    k.ok(&["create", "configmap", "first", "--from-literal=k=v"]);
    let mut watch = k
        .command("kubectl")
        .args(["get", "configmaps", "-w", "-o", "name"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl get -w runs");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    k.ok(&["create", "configmap", "second", "--from-literal=k=v"]);
    std::thread::sleep(std::time::Duration::from_millis(1000));
    watch.kill().expect("stop the watch");
    let out = watch.wait_with_output().expect("watch output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("configmap/first"), "{stdout}");
    assert!(stdout.contains("configmap/second"), "{stdout}");
}

/// helm v4: install (protobuf release Secret, server-side apply with
/// `fieldManager=helm`), list (label selector `owner=helm`), uninstall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_installs_lists_and_uninstalls() {
    let k = start("helm").await;
    let chart = k.dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).expect("chart dir");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: trivial\nversion: 0.1.0\n",
    )
    .expect("Chart.yaml");
    std::fs::write(
        chart.join("templates/objects.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  k: v\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}-sa\n",
    )
    .expect("template");
    let chart_path = chart.to_string_lossy().into_owned();
    let installed = k.helm(&["install", "rel", &chart_path]);
    assert!(installed.contains("STATUS: deployed"), "{installed}");
    let listed = k.helm(&["list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("rel") && l.contains("deployed")),
        "{listed}"
    );
    assert!(
        k.ok(&["get", "configmap", "rel-config", "-o", "name"])
            .contains("configmap/rel-config")
    );
    let uninstalled = k.helm(&["uninstall", "rel"]);
    assert!(uninstalled.contains("uninstalled"), "{uninstalled}");
    assert!(!k.run(&["get", "configmap", "rel-config"]).status.success());
    assert!(!k.helm(&["list"]).contains("rel"));
}
