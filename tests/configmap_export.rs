//! `spec.configMapExport` end to end: the real controller against the kube
//! emulator and the AWS test bed, driven with the real kubectl.
//!
//! - a `ProtectedFunctionUrl` and its `EdgeDistribution` get a ConfigMap
//!   each, holding what their status reports, owned by the object
//!   (`controller: true`, `blockOwnerDeletion`) and written by server-side
//!   apply (field manager `urlguard`); `kubectl get configmap -o yaml`
//!   shows them;
//! - resyncs of an unchanged object write nothing (measured: the
//!   ConfigMaps' resourceVersions over several full passes);
//! - a new path pattern updates both; a URL deleted leaves the
//!   distribution's ConfigMap; a renamed export replaces the old ConfigMap,
//!   and one removed from the spec is deleted;
//! - a deleted object takes its ConfigMap along (the emulator's garbage
//!   collector, by the ownerReference);
//! - a ConfigMap of that name that the object does not own (someone
//!   else's, or another object's) is left untouched and the refusal is
//!   reported: `ConfigMapExported=False`, reason `ConfigMapNotOwned`, a
//!   warning event, both naming `spec.configMapExport.name`.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::aws::{TestBed, TestBedOptions};
use support::books::books_bed;
use support::controller::{Controller, TEST_LOG};
use support::kube::Cluster;

/// How long the controller may take to act on a change.
const WITHIN: Duration = Duration::from_secs(60);

/// The ConfigMap `name` in `books`, as `kubectl get -o json` shows it.
fn config_map(cluster: &Cluster, name: &str) -> Option<Value> {
    let found = cluster.run(
        "kubectl",
        &["get", "configmap", name, "-n", "books", "-o", "json"],
    );
    found
        .ok
        .then(|| serde_json::from_str(&found.stdout).expect("JSON"))
}

/// The data of ConfigMap `name` (`Null` when there is none).
fn data(cluster: &Cluster, name: &str) -> Value {
    config_map(cluster, name).map_or(Value::Null, |c| c["data"].clone())
}

/// The status of `kind`/`name` in `books`.
fn status(cluster: &Cluster, kind: &str, name: &str) -> Value {
    let object: Value = serde_json::from_str(
        &cluster.ok("kubectl", &["get", kind, name, "-n", "books", "-o", "json"]),
    )
    .expect("JSON");
    object["status"].clone()
}

/// The `ConfigMapExported` condition of `kind`/`name` (`Null` without).
fn exported(cluster: &Cluster, kind: &str, name: &str) -> Value {
    status(cluster, kind, name)["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "ConfigMapExported")
        .cloned()
        .unwrap_or(Value::Null)
}

/// `kubectl patch kind/name -n books --type=merge -p patch`.
fn patch(cluster: &Cluster, kind: &str, name: &str, patch: &str) {
    cluster.ok(
        "kubectl",
        &[
            "patch",
            kind,
            name,
            "-n",
            "books",
            "--type=merge",
            "-p",
            patch,
        ],
    );
}

/// The requests for ConfigMaps in `log` (the controller's), by method.
fn config_map_requests(log: &str) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for line in log
        .lines()
        .filter(|l| l.contains("requesting") && l.contains("/configmaps"))
    {
        if let Some(method) = line
            .split("http.method=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            *counts.entry(method.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

fn resource_version(config_map: &Value) -> String {
    config_map["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_owned()
}

/// The bed with the book functions, a cluster with the CRDs and the books
/// application Ready under a controller resyncing as often as its budget
/// allows (1 s floor).
async fn books_ready(test: &str) -> (TestBed, Cluster, Controller) {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let cluster = Cluster::start(test).await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    // kube-client logs each request it sends (method and URL) at debug.
    let controller = Controller::start_with(
        &bed,
        &cluster,
        "urlguard-0",
        &["--resync-interval", "1s"],
        &format!("{TEST_LOG},kube_client::client::builder=debug"),
    );
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);
    controller.wait_ready(&cluster, &["ed", "books"]);
    (bed, cluster, controller)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_are_published_updated_and_removed_with_their_export() {
    let (bed, cluster, controller) = books_ready("configmap-export").await;
    for (kind, name) in [
        ("ed", "books"),
        ("pfu", "get-books"),
        ("pfu", "delete-book"),
    ] {
        patch(&cluster, kind, name, r#"{"spec":{"configMapExport":{}}}"#);
    }

    // The URL's ConfigMap holds what its status reports.
    controller.wait_until(WITHIN, "get-books-url written", || {
        data(&cluster, "get-books-url")["protectedUrl"].is_string()
    });
    let url = status(&cluster, "pfu", "get-books");
    let distribution = status(&cluster, "ed", "books");
    let domain = distribution["domainName"].as_str().expect("a domain");
    let written = data(&cluster, "get-books-url");
    assert_eq!(written["protectedUrl"], url["protectedUrl"]);
    assert_eq!(
        written["protectedUrl"],
        format!("https://{domain}/getBooks")
    );
    assert_eq!(written["functionUrl"], url["functionUrl"]);
    assert_eq!(written["functionArn"], url["functionArn"]);
    assert_eq!(written["distributionId"], distribution["distributionId"]);
    assert_eq!(written["domainName"], domain);
    assert_eq!(written.as_object().map(|d| d.len()), Some(5), "{written}");
    controller.wait_until(WITHIN, "get-books' status says so", || {
        exported(&cluster, "pfu", "get-books")["status"] == "True"
    });
    assert_eq!(exported(&cluster, "pfu", "get-books")["reason"], "Exported");
    assert_eq!(
        status(&cluster, "pfu", "get-books")["exportedConfigMaps"],
        serde_json::json!(["get-books-url"])
    );

    // The distribution's lists every attached URL's protected URL.
    controller.wait_until(WITHIN, "books-distribution written", || {
        data(&cluster, "books-distribution")["protectedUrl.get-books"].is_string()
    });
    let written = data(&cluster, "books-distribution");
    assert_eq!(written["distributionId"], distribution["distributionId"]);
    assert_eq!(written["distributionArn"], distribution["distributionArn"]);
    assert_eq!(written["domainName"], domain);
    for (name, path) in [
        ("get-books", "/getBooks"),
        ("get-book", "/getBook/"),
        ("create-book", "/createBook"),
        ("update-book", "/updateBook/"),
        ("delete-book", "/deleteBook/"),
    ] {
        assert_eq!(
            written[format!("protectedUrl.{name}")],
            format!("https://{domain}{path}"),
            "{written}"
        );
    }

    // kubectl shows it: owned by the object, applied by urlguard.
    let yaml = cluster.ok(
        "kubectl",
        &[
            "get",
            "configmap",
            "get-books-url",
            "-n",
            "books",
            "-o",
            "yaml",
            "--show-managed-fields",
        ],
    );
    let uid = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "get-books",
            "-n",
            "books",
            "-o",
            "jsonpath={.metadata.uid}",
        ],
    );
    for expected in [
        "kind: ConfigMap",
        "protectedUrl: https://",
        "app.kubernetes.io/managed-by: urlguard",
        "kind: ProtectedFunctionUrl",
        "name: get-books",
        "controller: true",
        "blockOwnerDeletion: true",
        "manager: urlguard",
        "operation: Apply",
        &format!("uid: {uid}"),
    ] {
        assert!(yaml.contains(expected), "no {expected:?} in\n{yaml}");
    }

    // Measured: full passes of an unchanged application write no
    // ConfigMap; each reads each exported one once.
    std::thread::sleep(Duration::from_secs(2));
    let names = ["get-books-url", "delete-book-url", "books-distribution"];
    let before: Vec<String> = names
        .iter()
        .map(|name| resource_version(&config_map(&cluster, name).expect("written")))
        .collect();
    bed.reset_counts();
    let logged = controller.log().len();
    std::thread::sleep(Duration::from_secs(12));
    let requests = config_map_requests(&controller.log()[logged..]);
    let passes = bed
        .calls()
        .calls
        .get("cloudfront:GetDistribution")
        .copied()
        .unwrap_or(0) as usize;
    let after: Vec<String> = names
        .iter()
        .map(|name| resource_version(&config_map(&cluster, name).expect("written")))
        .collect();
    eprintln!(
        "{passes} full passes in 12 s: ConfigMap requests {requests:?}; resourceVersions {before:?} -> {after:?}"
    );
    assert!(passes >= 2, "only {passes} full passes to measure");
    assert_eq!(before, after, "a resync wrote a ConfigMap");
    assert_eq!(
        requests.keys().collect::<Vec<_>>(),
        ["GET"],
        "only reads: {requests:?}"
    );
    let reads = requests["GET"];
    assert!(
        reads >= names.len() * (passes - 1) && reads <= names.len() * (passes + 1),
        "one read per exported ConfigMap per pass: {reads} reads, {passes} passes"
    );

    // A new path pattern: both ConfigMaps follow.
    patch(
        &cluster,
        "pfu",
        "get-books",
        r#"{"spec":{"pathPattern":"/books"}}"#,
    );
    let moved = format!("https://{domain}/books");
    controller.wait_until(WITHIN, "get-books-url updated", || {
        data(&cluster, "get-books-url")["protectedUrl"] == moved.as_str()
    });
    controller.wait_until(WITHIN, "books-distribution updated", || {
        data(&cluster, "books-distribution")["protectedUrl.get-books"] == moved.as_str()
    });

    // A URL deleted: its ConfigMap goes with it (the garbage collector),
    // and its key leaves the distribution's.
    cluster.ok(
        "kubectl",
        &[
            "delete",
            "pfu",
            "delete-book",
            "-n",
            "books",
            "--timeout=60s",
        ],
    );
    controller.wait_until(WITHIN, "delete-book-url collected", || {
        config_map(&cluster, "delete-book-url").is_none()
    });
    controller.wait_until(WITHIN, "delete-book left books-distribution", || {
        let data = data(&cluster, "books-distribution");
        data["protectedUrl.get-books"].is_string() && data.get("protectedUrl.delete-book").is_none()
    });

    // Renamed: the new one is written, the old one deleted.
    patch(
        &cluster,
        "ed",
        "books",
        r#"{"spec":{"configMapExport":{"name":"books-urls"}}}"#,
    );
    controller.wait_until(WITHIN, "books-urls replaces books-distribution", || {
        data(&cluster, "books-urls")["distributionId"].is_string()
            && config_map(&cluster, "books-distribution").is_none()
    });
    assert_eq!(
        status(&cluster, "ed", "books")["exportedConfigMaps"],
        serde_json::json!(["books-urls"])
    );

    // Removed from the spec: deleted, and the status says nothing of it.
    patch(
        &cluster,
        "pfu",
        "get-books",
        r#"{"spec":{"configMapExport":null}}"#,
    );
    controller.wait_until(WITHIN, "get-books-url deleted", || {
        config_map(&cluster, "get-books-url").is_none()
    });
    controller.wait_until(WITHIN, "get-books' condition gone", || {
        exported(&cluster, "pfu", "get-books").is_null()
    });
    assert_eq!(
        status(&cluster, "pfu", "get-books")["exportedConfigMaps"],
        serde_json::json!([])
    );
    drop(controller);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_map_the_object_does_not_own_is_refused_and_left_untouched() {
    let (_bed, cluster, controller) = books_ready("configmap-refused").await;
    // Someone else's ConfigMap, under the default name of update-book's.
    cluster.ok(
        "kubectl",
        &[
            "create",
            "configmap",
            "update-book-url",
            "-n",
            "books",
            "--from-literal=owner=the web team",
        ],
    );
    let theirs = config_map(&cluster, "update-book-url").expect("created");
    patch(
        &cluster,
        "pfu",
        "update-book",
        r#"{"spec":{"configMapExport":{}}}"#,
    );
    // Another object's: get-book names the distribution's ConfigMap.
    patch(
        &cluster,
        "ed",
        "books",
        r#"{"spec":{"configMapExport":{}}}"#,
    );
    controller.wait_until(WITHIN, "books-distribution written", || {
        config_map(&cluster, "books-distribution").is_some()
    });
    let distributions = config_map(&cluster, "books-distribution").expect("written");
    patch(
        &cluster,
        "pfu",
        "get-book",
        r#"{"spec":{"configMapExport":{"name":"books-distribution"}}}"#,
    );

    for (name, owner) in [
        ("update-book", "it has no controller"),
        ("get-book", "its controller is EdgeDistribution books"),
    ] {
        controller.wait_until(WITHIN, &format!("{name}'s export refused"), || {
            exported(&cluster, "pfu", name)["reason"] == "ConfigMapNotOwned"
        });
        let condition = exported(&cluster, "pfu", name);
        assert_eq!(condition["status"], "False");
        let message = condition["message"].as_str().expect("a message");
        assert!(
            message.starts_with("spec.configMapExport.name:") && message.contains(owner),
            "{name}: {message}"
        );
        // Ready is about AWS: the URL is protected all the same.
        controller.wait_ready(&cluster, &["pfu", name]);
    }
    // The emulator keeps events.k8s.io and core events apart: ask for the
    // group the controller's Recorder writes.
    let events = cluster.ok(
        "kubectl",
        &[
            "get",
            "events.events.k8s.io",
            "-n",
            "books",
            "-o",
            "jsonpath={range .items[*]}{.reason}: {.note}{\"\\n\"}{end}",
        ],
    );
    assert!(
        events
            .lines()
            .any(|e| e.starts_with("ConfigMapNotOwned: spec.configMapExport.name:")),
        "no warning event:\n{events}"
    );

    // Untouched, both of them.
    let now = config_map(&cluster, "update-book-url").expect("still there");
    assert_eq!(resource_version(&now), resource_version(&theirs));
    assert_eq!(now["data"], serde_json::json!({"owner": "the web team"}));
    assert!(now["metadata"].get("ownerReferences").is_none(), "{now}");
    let now = config_map(&cluster, "books-distribution").expect("still there");
    assert_eq!(now["data"], distributions["data"]);
    assert_eq!(
        now["metadata"]["ownerReferences"],
        distributions["metadata"]["ownerReferences"]
    );
    assert_eq!(
        status(&cluster, "pfu", "update-book").get("exportedConfigMaps"),
        Some(&serde_json::json!([])),
        "nothing recorded: not the URL's to delete"
    );

    // The web team's ConfigMap goes: the next resync writes the URL's.
    cluster.ok(
        "kubectl",
        &["delete", "configmap", "update-book-url", "-n", "books"],
    );
    controller.wait_until(WITHIN, "update-book-url written", || {
        data(&cluster, "update-book-url")["protectedUrl"].is_string()
    });
    assert_eq!(exported(&cluster, "pfu", "update-book")["status"], "True");
    drop(controller);
}
