//! The emulator over raw HTTP, checked against the Kubernetes API
//! conventions (api-conventions.md, api-concepts.md): status codes and
//! `Status` errors, resourceVersion and optimistic concurrency, generation,
//! status subresource, finalizers, watch resume/bookmarks/410, selectors,
//! patches and server-side apply, discovery, OpenAPI v3, CRD serving and
//! validation, Table output.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube_emulator::{Config, KubeEmulator, KubeEmulatorHandle};
use serde_json::{Value, json};

struct Api {
    base: String,
    client: HyperClient<HttpConnector, Full<Bytes>>,
    _handle: KubeEmulatorHandle,
}

async fn start_with(config: Config) -> Api {
    let handle = KubeEmulator::start(config).await.expect("emulator starts");
    Api {
        base: handle.url(),
        client: HyperClient::builder(TokioExecutor::new()).build_http(),
        _handle: handle,
    }
}

async fn start() -> Api {
    start_with(Config::default()).await
}

impl Api {
    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        accept: &str,
        body: Option<String>,
    ) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .header("accept", accept)
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .expect("request");
        let response = self.client.request(request).await.expect("response");
        let code = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (code, value)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(
            method,
            path,
            "application/json",
            "application/json",
            body.map(|b| b.to_string()),
        )
        .await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    async fn patch(&self, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        self.send(
            Method::PATCH,
            path,
            content_type,
            "application/json",
            Some(body.to_owned()),
        )
        .await
    }

    /// Reads a watch until `count` events arrived or `wait` passed.
    async fn watch(&self, path: &str, count: usize, wait: Duration) -> Vec<Value> {
        let request = Request::builder()
            .uri(format!("{}{path}", self.base))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = self.client.request(request).await.expect("response");
        assert_eq!(response.status().as_u16(), 200);
        let mut body = response.into_body();
        let mut buffer = Vec::new();
        let mut events = Vec::new();
        let _ = tokio::time::timeout(wait, async {
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    buffer.extend_from_slice(data);
                }
                while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=end).collect();
                    events.push(serde_json::from_slice::<Value>(&line).expect("event json"));
                }
                if events.len() >= count {
                    break;
                }
            }
        })
        .await;
        events
    }
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

fn rv(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .parse()
        .expect("numeric rv")
}

fn documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
        .expect("file");
    text.split("\n---")
        .map(|doc| yaml_serde::from_str::<Value>(doc).expect("yaml"))
        .filter(|v| v.is_object())
        .collect()
}

async fn with_crds() -> Api {
    let api = start().await;
    for crd in documents("crds/urlguard.io_crds.yaml") {
        let (code, body) = api
            .post(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                crd,
            )
            .await;
        assert_eq!(code, 201, "{body}");
    }
    api.post(
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "books"}}),
    )
    .await;
    api
}

fn books(kind: &str) -> Vec<Value> {
    documents("examples/books.yaml")
        .into_iter()
        .filter(|d| d["kind"] == kind)
        .collect()
}

/// Discovery: /version, /api (core `v1`), /apis (groups), resource lists
/// with verbs, shortNames and `<plural>/status`.
#[tokio::test]
async fn discovery_lists_core_and_group_resources() {
    let api = start().await;
    let (code, version) = api.get("/version").await;
    assert_eq!(code, 200);
    assert_eq!(version["major"], "1");
    assert_eq!(api.get("/api").await.1["versions"], json!(["v1"]));
    let (_, core) = api.get("/api/v1").await;
    assert_eq!(core["groupVersion"], "v1");
    let names: Vec<&str> = core["resources"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or(""))
        .collect();
    for expected in [
        "namespaces",
        "namespaces/status",
        "secrets",
        "configmaps",
        "serviceaccounts",
        "events",
        "services",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let (_, groups) = api.get("/apis").await;
    let groups: Vec<&str> = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["name"].as_str().unwrap_or(""))
        .collect();
    for expected in [
        "apps",
        "rbac.authorization.k8s.io",
        "coordination.k8s.io",
        "events.k8s.io",
        "apiextensions.k8s.io",
    ] {
        assert!(groups.contains(&expected), "{expected} missing");
    }
    assert_eq!(
        api.get("/apis/apps/v1").await.1["resources"][0]["kind"],
        "Deployment"
    );
    assert_eq!(api.get("/apis/nope/v1").await.0, 404);
}

/// API conventions: POST → 201, again → 409 AlreadyExists; GET of a
/// missing object → 404 NotFound; both as `Status` objects with reason,
/// code and details; objects get uid, creationTimestamp, resourceVersion.
#[tokio::test]
async fn create_get_and_status_errors() {
    let api = start().await;
    let (code, created) = api
        .post("/api/v1/namespaces/default/configmaps", configmap("a"))
        .await;
    assert_eq!(code, 201, "{created}");
    assert!(
        created["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| u.len() == 36)
    );
    assert!(
        created["metadata"]["creationTimestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(created["metadata"]["namespace"], "default");
    let (code, status) = api
        .post("/api/v1/namespaces/default/configmaps", configmap("a"))
        .await;
    assert_eq!(code, 409);
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "AlreadyExists");
    assert_eq!(status["message"], "configmaps \"a\" already exists");
    let (code, status) = api.get("/api/v1/namespaces/default/configmaps/zz").await;
    assert_eq!((code, status["reason"].as_str()), (404, Some("NotFound")));
    assert_eq!(status["details"]["name"], "zz");
    let (code, got) = api.get("/api/v1/namespaces/default/configmaps/a").await;
    assert_eq!(code, 200);
    assert_eq!(got, created);
    let (code, status) = api
        .post("/api/v1/namespaces/missing/configmaps", configmap("a"))
        .await;
    assert_eq!(code, 404);
    assert_eq!(status["message"], "namespaces \"missing\" not found");
    let (code, _) = api
        .post(
            "/api/v1/namespaces/default/configmaps",
            json!({"metadata": {"generateName": "gen-"}}),
        )
        .await;
    assert_eq!(code, 201);
}

/// API conventions (concurrency control): PUT with a stale resourceVersion
/// → 409 Conflict; with the current one → 200 and a newer resourceVersion;
/// a PUT that changes nothing keeps the resourceVersion.
#[tokio::test]
async fn optimistic_concurrency_on_replace() {
    let api = start().await;
    let (_, created) = api
        .post("/api/v1/namespaces/default/configmaps", configmap("a"))
        .await;
    let mut changed = created.clone();
    changed["data"]["k"] = json!("w");
    let (code, updated) = api
        .put("/api/v1/namespaces/default/configmaps/a", changed.clone())
        .await;
    assert_eq!(code, 200, "{updated}");
    assert!(rv(&updated) > rv(&created));
    let (code, status) = api
        .put("/api/v1/namespaces/default/configmaps/a", changed)
        .await;
    assert_eq!(code, 409);
    assert_eq!(status["reason"], "Conflict");
    let (code, same) = api
        .put("/api/v1/namespaces/default/configmaps/a", updated.clone())
        .await;
    assert_eq!(code, 200);
    assert_eq!(rv(&same), rv(&updated));
}

/// API conventions (metadata.generation): bumped on spec changes only, not
/// on metadata or status; the main resource ignores `.status` and
/// `/status` changes only `.status`.
#[tokio::test]
async fn generation_and_status_subresource() {
    let api = start().await;
    let path = "/apis/apps/v1/namespaces/default/deployments";
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1}, "status": {"replicas": 9}});
    let (code, created) = api.post(path, deployment).await;
    assert_eq!(code, 201);
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(
        created.get("status").is_none(),
        "status is not set on create"
    );
    let (_, labelled) = api
        .patch(
            &format!("{path}/d"),
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"a":"b"}}}"#,
        )
        .await;
    assert_eq!(labelled["metadata"]["generation"], 1);
    let (_, scaled) = api
        .patch(
            &format!("{path}/d"),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":2},"status":{"replicas":5}}"#,
        )
        .await;
    assert_eq!(scaled["metadata"]["generation"], 2);
    assert!(
        scaled.get("status").is_none(),
        "main resource ignores status"
    );
    let (code, status) = api
        .patch(
            &format!("{path}/d/status"),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":7},"status":{"replicas":2}}"#,
        )
        .await;
    assert_eq!(code, 200, "{status}");
    assert_eq!(status["status"]["replicas"], 2);
    assert_eq!(status["spec"]["replicas"], 2, "/status ignores spec");
    assert_eq!(status["metadata"]["generation"], 2);
}

/// API conventions (finalizers): DELETE of an object with finalizers sets
/// deletionTimestamp (202) and keeps it; removing the last finalizer
/// deletes it.
#[tokio::test]
async fn finalizers_hold_deletion() {
    let api = start().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let mut cm = configmap("f");
    cm["metadata"]["finalizers"] = json!(["example.com/hold"]);
    api.post(path, cm).await;
    let (code, deleting) = api.delete(&format!("{path}/f")).await;
    assert_eq!(code, 202);
    assert!(deleting["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(api.get(&format!("{path}/f")).await.0, 200);
    let (code, _) = api
        .patch(
            &format!("{path}/f"),
            "application/json-patch+json",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(api.get(&format!("{path}/f")).await.0, 404);
    api.post(path, configmap("g")).await;
    assert_eq!(api.delete(&format!("{path}/g")).await.0, 200);
    assert_eq!(api.delete(&format!("{path}/g")).await.0, 404);
}

/// Namespace lifecycle: deleting a namespace makes it `Terminating`,
/// deletes what is in it (objects with finalizers stay until these are
/// removed), refuses new content (403), and removes the namespace when
/// the last object is gone.
#[tokio::test]
async fn a_namespace_goes_after_its_objects() {
    let api = start().await;
    api.post(
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "books"}}),
    )
    .await;
    let path = "/api/v1/namespaces/books/configmaps";
    let mut held = configmap("held");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    api.post(path, held).await;
    api.post(path, configmap("free")).await;

    let (code, namespace) = api.delete("/api/v1/namespaces/books").await;
    assert_eq!(code, 200);
    assert_eq!(namespace["status"]["phase"], "Terminating");
    assert!(namespace["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(api.get(&format!("{path}/free")).await.0, 404);
    let (code, held) = api.get(&format!("{path}/held")).await;
    assert_eq!(code, 200);
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    let (code, refused) = api.post(path, configmap("new")).await;
    assert_eq!(code, 403, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("being terminated"))
    );
    assert_eq!(api.get("/api/v1/namespaces/books").await.0, 200);

    let (code, _) = api
        .patch(
            &format!("{path}/held"),
            "application/json-patch+json",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(api.get(&format!("{path}/held")).await.0, 404);
    assert_eq!(api.get("/api/v1/namespaces/books").await.0, 404);
}

/// API concepts (list): `<Kind>List` with metadata.resourceVersion; label
/// selectors (=, !=, in, notin, exists) and field selectors.
#[tokio::test]
async fn lists_and_selectors() {
    let api = start().await;
    let path = "/api/v1/namespaces/default/secrets";
    for (name, owner) in [("a", "helm"), ("b", "helm"), ("c", "other")] {
        api.post(path, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "labels": {"owner": owner, "name": name}}})).await;
    }
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let (_, list) = api.get(path).await;
    assert_eq!(list["kind"], "SecretList");
    assert!(list["metadata"]["resourceVersion"].is_string());
    assert_eq!(names(&list), ["a", "b", "c"]);
    assert_eq!(
        names(
            &api.get(&format!("{path}?labelSelector=name%3Da,owner%3Dhelm"))
                .await
                .1
        ),
        ["a"]
    );
    assert_eq!(
        names(
            &api.get(&format!("{path}?labelSelector=owner!%3Dhelm"))
                .await
                .1
        ),
        ["c"]
    );
    assert_eq!(
        names(
            &api.get(&format!("{path}?labelSelector=name+in+(a,c)"))
                .await
                .1
        ),
        ["a", "c"]
    );
    assert_eq!(
        names(
            &api.get(&format!("{path}?labelSelector=name+notin+(a,c)"))
                .await
                .1
        ),
        ["b"]
    );
    assert_eq!(
        names(
            &api.get(&format!("{path}?fieldSelector=metadata.name%3Db&limit=500"))
                .await
                .1
        ),
        ["b"]
    );
    assert_eq!(
        names(&api.get("/api/v1/secrets?labelSelector=owner").await.1).len(),
        3
    );
}

/// API concepts (watch): events after the given resourceVersion only, one
/// JSON object per line; BOOKMARK events; unset resourceVersion starts with
/// ADDED for what exists; a compacted resourceVersion yields 410 Expired.
#[tokio::test]
async fn watch_resumes_bookmarks_and_expires() {
    let api = start_with(Config {
        history_limit: 5,
        bookmark_interval: Duration::from_millis(200),
        ..Config::default()
    })
    .await;
    let path = "/api/v1/namespaces/default/configmaps";
    let (_, a) = api.post(path, configmap("a")).await;
    let from = rv(&a);
    api.post(path, configmap("b")).await;
    api.delete(&format!("{path}/a")).await;
    let events = api
        .watch(
            &format!("{path}?watch=true&resourceVersion={from}"),
            2,
            Duration::from_secs(2),
        )
        .await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(types, ["ADDED", "DELETED"]);
    assert_eq!(events[0]["object"]["metadata"]["name"], "b");
    let events = api
        .watch(
            &format!("{path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=5"),
            2,
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[1]["type"], "BOOKMARK");
    assert!(events[1]["object"]["metadata"]["resourceVersion"].is_string());
    for i in 0..10 {
        api.post(path, configmap(&format!("n{i}"))).await;
    }
    let events = api
        .watch(
            &format!("{path}?watch=true&resourceVersion={from}"),
            1,
            Duration::from_secs(2),
        )
        .await;
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(events[0]["object"]["code"], 410);
    assert_eq!(events[0]["object"]["reason"], "Expired");
    let events = api.watch(&format!("{path}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"), 12, Duration::from_secs(2)).await;
    let last = events.last().expect("events");
    assert_eq!(last["type"], "BOOKMARK");
    assert_eq!(
        last["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

/// A watch sees later writes live, in order.
#[tokio::test]
async fn watch_streams_live_events() {
    let api = start().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let (_, list) = api.get(path).await;
    let from = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    let watcher = {
        let url = format!("{path}?watch=true&resourceVersion={from}");
        let api_ref = &api;
        async move { api_ref.watch(&url, 3, Duration::from_secs(3)).await }
    };
    let writer = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        api.post(path, configmap("live")).await;
        api.patch(
            &format!("{path}/live"),
            "application/merge-patch+json",
            r#"{"data":{"k":"x"}}"#,
        )
        .await;
        api.delete(&format!("{path}/live")).await;
    };
    let (events, ()) = tokio::join!(watcher, writer);
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(types, ["ADDED", "MODIFIED", "DELETED"]);
}

/// Server-side apply: creates when missing, records managedFields per
/// field manager; re-applying the same configuration changes nothing.
#[tokio::test]
async fn server_side_apply_creates_and_is_idempotent() {
    let api = start().await;
    let path = "/api/v1/namespaces/default/configmaps/applied?fieldManager=test&force=true";
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n";
    let (code, created) = api.patch(path, "application/apply-patch+yaml", yaml).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["metadata"]["managedFields"][0]["manager"], "test");
    assert_eq!(
        created["metadata"]["managedFields"][0]["operation"],
        "Apply"
    );
    let (code, again) = api.patch(path, "application/apply-patch+yaml", yaml).await;
    assert_eq!(code, 200);
    assert_eq!(rv(&again), rv(&created));
    let (code, _) = api
        .patch(
            "/api/v1/namespaces/default/configmaps/applied",
            "application/apply-patch+yaml",
            yaml,
        )
        .await;
    assert_eq!(code, 400, "apply needs a fieldManager");
    let (code, _) = api
        .patch(
            "/api/v1/namespaces/default/configmaps/applied",
            "application/vnd.kubernetes.protobuf",
            "x",
        )
        .await;
    assert_eq!(code, 415);
}

/// Server-side apply of a ConfigMap (kube-rs sends JSON as
/// `application/apply-patch+yaml`): a key the manager leaves out goes, a
/// key another client added stays, and the same configuration again
/// writes nothing.
#[tokio::test]
async fn server_side_apply_removes_what_the_manager_no_longer_sends() {
    let api = start().await;
    let path = "/api/v1/namespaces/default/configmaps/outputs?fieldManager=urlguard&force=true";
    let apply = |data: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "outputs", "labels": {"app.kubernetes.io/managed-by": "urlguard"}}, "data": data}).to_string()
    };
    let (code, _) = api
        .patch(
            path,
            "application/apply-patch+yaml",
            &apply(json!({"a": "1", "b": "2"})),
        )
        .await;
    assert_eq!(code, 201);
    let (code, _) = api
        .patch(
            "/api/v1/namespaces/default/configmaps/outputs?fieldManager=kubectl-edit",
            "application/merge-patch+json",
            r#"{"data": {"byHand": "x"}}"#,
        )
        .await;
    assert_eq!(code, 200);
    let (code, applied) = api
        .patch(
            path,
            "application/apply-patch+yaml",
            &apply(json!({"a": "1"})),
        )
        .await;
    assert_eq!(code, 200, "{applied}");
    assert_eq!(applied["data"], json!({"a": "1", "byHand": "x"}));
    let (_, again) = api
        .patch(
            path,
            "application/apply-patch+yaml",
            &apply(json!({"a": "1"})),
        )
        .await;
    assert_eq!(rv(&again), rv(&applied), "nothing changed, nothing written");
}

/// Garbage collection: a dependent goes once its owner (by uid) is gone,
/// not while the owner waits for its finalizers; a ConfigMap naming an
/// earlier object of the same name (another uid) goes too.
#[tokio::test]
async fn dependents_go_once_their_owner_is_gone() {
    let api = with_crds().await;
    let mut distribution = books("EdgeDistribution").remove(0);
    distribution["metadata"]["finalizers"] = json!(["example.com/hold"]);
    let collection = "/apis/urlguard.io/v1alpha1/namespaces/books/edgedistributions";
    let (code, created) = api.post(collection, distribution).await;
    assert_eq!(code, 201, "{created}");
    let owner = json!({
        "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution", "name": "books",
        "uid": created["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
    });
    let config_maps = "/api/v1/namespaces/books/configmaps";
    for (name, uid) in [
        ("books-distribution", owner["uid"].clone()),
        ("stale", json!("an-earlier-uid")),
    ] {
        let mut reference = owner.clone();
        reference["uid"] = uid;
        let (code, body) = api
            .post(
                config_maps,
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "ownerReferences": [reference]}}),
            )
            .await;
        assert_eq!(code, 201, "{body}");
    }
    let gone = |name: &'static str| {
        let api = &api;
        async move {
            for _ in 0..100 {
                if api.get(&format!("{config_maps}/{name}")).await.0 == 404 {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            false
        }
    };
    assert!(
        gone("stale").await,
        "its owner is not the object of that name"
    );
    let (code, _) = api.delete(&format!("{collection}/books")).await;
    assert_eq!(code, 202, "held by its finalizer");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        api.get(&format!("{config_maps}/books-distribution"))
            .await
            .0,
        200,
        "the owner still exists"
    );
    let (code, body) = api
        .patch(
            &format!("{collection}/books"),
            "application/merge-patch+json",
            r#"{"metadata": {"finalizers": null}}"#,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(gone("books-distribution").await, "its owner is gone");
}

/// CRDs: once created, the resource is served and discovered with
/// shortNames, categories and `<plural>/status`; OpenAPI v3 declares
/// fieldValidation for it; deleting the CRD removes it.
#[tokio::test]
async fn crds_serve_their_resources() {
    let api = with_crds().await;
    let (code, list) = api.get("/apis/urlguard.io/v1alpha1").await;
    assert_eq!(code, 200);
    let resources = list["resources"].as_array().expect("resources");
    let ed = resources
        .iter()
        .find(|r| r["name"] == "edgedistributions")
        .expect("edgedistributions");
    assert_eq!(ed["kind"], "EdgeDistribution");
    assert!(ed["shortNames"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(
        resources
            .iter()
            .any(|r| r["name"] == "edgedistributions/status")
    );
    let (_, index) = api.get("/openapi/v3").await;
    let url = index["paths"]["apis/urlguard.io/v1alpha1"]["serverRelativeURL"]
        .as_str()
        .expect("url")
        .to_owned();
    let (_, doc) = api.get(&url).await;
    let patch = &doc["paths"]["/apis/urlguard.io/v1alpha1/namespaces/{namespace}/edgedistributions/{name}"]
        ["patch"];
    assert!(
        patch["parameters"]
            .as_array()
            .expect("params")
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
    assert_eq!(
        patch["x-kubernetes-group-version-kind"]["kind"],
        "EdgeDistribution"
    );
    let (_, crd) = api
        .get(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/edgedistributions.urlguard.io",
        )
        .await;
    assert!(
        crd["status"]["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    );
    assert_eq!(
        api.delete(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/edgedistributions.urlguard.io"
        )
        .await
        .0,
        200
    );
    assert_eq!(
        api.get("/apis/urlguard.io/v1alpha1/namespaces/books/edgedistributions")
            .await
            .0,
        404
    );
}

/// Custom resources are validated against the CRD schema and CEL rules:
/// 422 Invalid, `<Kind>.<group> "<name>" is invalid: [<field>: ..., ...]`,
/// with `details.causes[].field`. An unsupported enum value keeps the CEL
/// rules from running, which the API server reports as a second cause at
/// the nil path.
#[tokio::test]
async fn custom_resources_are_validated() {
    let api = with_crds().await;
    let path = "/apis/urlguard.io/v1alpha1/namespaces/books/edgedistributions";
    let good = books("EdgeDistribution").remove(0);
    let (code, created) = api.post(path, good.clone()).await;
    assert_eq!(code, 201, "{created}");
    let mut bad = good.clone();
    bad["metadata"]["name"] = json!("bad");
    bad["spec"]["protection"] = json!("Nope");
    let (code, status) = api.post(path, bad).await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["reason"], "Invalid");
    let message = status["message"].as_str().expect("message");
    assert!(
        message.starts_with(
            "EdgeDistribution.urlguard.io \"bad\" is invalid: [spec.protection: Unsupported value: \"Nope\": supported values: \"EdgeSigner\", \"OriginAccessControl\", "
        ),
        "{message}"
    );
    assert!(
        message.ends_with(", <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]"),
        "{message}"
    );
    assert_eq!(status["details"]["causes"][0]["field"], "spec.protection");
    assert_eq!(status["details"]["causes"][1]["field"], "<nil>");
    let (code, status) = api
        .patch(
            &format!("{path}/books"),
            "application/merge-patch+json",
            r#"{"spec":{"unknownField":1}}"#,
        )
        .await;
    assert_eq!(code, 422, "{status}");
    let (code, _) = api
        .patch(
            &format!("{path}/books"),
            "application/strategic-merge-patch+json",
            "{}",
        )
        .await;
    assert_eq!(code, 415, "no strategic merge patch for custom resources");
}

/// Validation ratcheting: an object stored under a looser schema keeps its
/// invalid field through updates that leave it alone (status, metadata),
/// and an update that changes it must make it valid.
#[tokio::test]
async fn unchanged_invalid_fields_ratchet() {
    let api = start().await;
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    let strict = documents("crds/urlguard.io_crds.yaml")
        .into_iter()
        .find(|crd| crd["spec"]["names"]["kind"] == "EdgeDistribution")
        .expect("the EdgeDistribution CRD");
    let mut loose = strict.clone();
    loose["spec"]["versions"][0]["schema"]["openAPIV3Schema"] =
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    assert_eq!(api.post(crds, loose).await.0, 201);
    api.post(
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "books"}}),
    )
    .await;
    let path = "/apis/urlguard.io/v1alpha1/namespaces/books/edgedistributions";
    let mut old = books("EdgeDistribution").remove(0);
    old["spec"]["protection"] = json!("Nope");
    let (code, created) = api.post(path, old).await;
    assert_eq!(code, 201, "{created}");
    let (_, stored) = api
        .get(&format!("{crds}/edgedistributions.urlguard.io"))
        .await;
    let mut strict = strict;
    strict["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"].clone();
    let (code, replaced) = api
        .put(&format!("{crds}/edgedistributions.urlguard.io"), strict)
        .await;
    assert_eq!(code, 200, "{replaced}");

    let (code, body) = api
        .patch(
            &format!("{path}/books/status"),
            "application/merge-patch+json",
            r#"{"status":{"observedGeneration":1}}"#,
        )
        .await;
    assert_eq!(code, 200, "a status write is refused: {body}");
    let (code, body) = api
        .patch(
            &format!("{path}/books"),
            "application/merge-patch+json",
            r#"{"metadata":{"finalizers":["urlguard.io/cleanup"]}}"#,
        )
        .await;
    assert_eq!(code, 200, "a finalizer is refused: {body}");
    let (code, body) = api
        .patch(
            &format!("{path}/books"),
            "application/merge-patch+json",
            r#"{"spec":{"protection":"StillNope"}}"#,
        )
        .await;
    assert_eq!(code, 422, "a changed invalid field is accepted: {body}");
    assert_eq!(body["details"]["causes"][0]["field"], "spec.protection");
}

/// Table output for `kubectl get`: Name plus the CRD's printer columns,
/// the Ready condition column evaluated from the JSONPath filter.
#[tokio::test]
async fn tables_use_printer_columns() {
    let api = with_crds().await;
    let path = "/apis/urlguard.io/v1alpha1/namespaces/books/edgedistributions";
    api.post(path, books("EdgeDistribution").remove(0)).await;
    let status = r#"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Deployed","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}"#;
    let (code, body) = api
        .patch(
            &format!("{path}/books/status"),
            "application/merge-patch+json",
            status,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let (code, table) = api
        .send(
            Method::GET,
            path,
            "application/json",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            None,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(table["kind"], "Table");
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(columns[0], "Name");
    let ready = columns
        .iter()
        .position(|c| *c == "Ready")
        .expect("Ready column");
    assert_eq!(table["rows"][0]["cells"][0], "books");
    assert_eq!(table["rows"][0]["cells"][ready], "True");
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}
