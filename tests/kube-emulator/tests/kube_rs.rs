//! kube-rs 5 (the controller's own client) against the emulator: the
//! runtime watcher (list with `limit=500`, then watch with bookmarks and
//! resume) sees create, update and delete; server-side apply of the status
//! subresource (what a controller does) leaves `metadata.generation`
//! alone, spec changes bump it; finalizers hold deletion.

use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::runtime::watcher;
use kube::{Client, Config as ClientConfig};
use kube_emulator::{Config, KubeEmulator, KubeEmulatorHandle};
use serde_json::json;

async fn client(test: &str) -> (Client, KubeEmulatorHandle) {
    client_of(
        test,
        Config {
            bookmark_interval: Duration::from_millis(300),
            ..Config::default()
        },
    )
    .await
}

async fn client_of(test: &str, config: Config) -> (Client, KubeEmulatorHandle) {
    let handle = KubeEmulator::start(config).await.expect("emulator starts");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kube-rs-{test}-{}", handle.addr().port()))
        .join("kubeconfig");
    handle.write_kubeconfig(&path).expect("kubeconfig");
    let kubeconfig = Kubeconfig::read_from(&path).expect("kubeconfig reads");
    let config = ClientConfig::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("client config");
    (Client::try_from(config).expect("client"), handle)
}

/// The committed CRDs, read as a cluster admin would apply them (the
/// emulator does not depend on urlguard's Rust types).
fn committed_crds() -> Vec<CustomResourceDefinition> {
    let path = format!(
        "{}/../../crds/urlguard.io_crds.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("CRDs");
    text.split("\n---")
        .filter_map(|doc| yaml_serde::from_str::<serde_json::Value>(doc).ok())
        .filter(serde_json::Value::is_object)
        .map(|doc| serde_json::from_value(doc).expect("a CRD"))
        .collect()
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": value}})).expect("cm")
}

/// API concepts (efficient detection of changes): a list then a watch from
/// its resourceVersion sees every later change, in order.
#[tokio::test]
async fn watcher_sees_create_update_delete() {
    let (client, _handle) = client("watcher").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &configmap("before", "1"))
        .await
        .expect("create");
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    let writer = {
        let api = api.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            api.create(&PostParams::default(), &configmap("live", "1"))
                .await
                .expect("create");
            api.patch(
                "live",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"k": "2"}})),
            )
            .await
            .expect("patch");
            api.delete("live", &DeleteParams::default())
                .await
                .expect("delete");
        }
    };
    let reader = async {
        while let Some(event) = events.next().await {
            let label = match event.expect("watch event") {
                watcher::Event::Init => "init".to_owned(),
                watcher::Event::InitApply(cm) => {
                    format!("init-apply {}", cm.metadata.name.unwrap_or_default())
                }
                watcher::Event::InitDone => "init-done".to_owned(),
                watcher::Event::Apply(cm) => format!(
                    "apply {} {}",
                    cm.metadata.name.unwrap_or_default(),
                    cm.data
                        .and_then(|d| d.get("k").cloned())
                        .unwrap_or_default()
                ),
                watcher::Event::Delete(cm) => {
                    format!("delete {}", cm.metadata.name.unwrap_or_default())
                }
            };
            let done = label == "delete live";
            seen.push(label);
            if done {
                break;
            }
        }
    };
    let (finished, ()) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(10), reader),
        writer
    );
    assert!(finished.is_ok(), "watcher saw only {seen:?}");
    assert_eq!(
        seen,
        [
            "init",
            "init-apply before",
            "init-done",
            "apply live 1",
            "apply live 2",
            "delete live"
        ]
    );
}

/// API conventions (spec and status): status written through `/status`
/// by server-side apply does not bump generation; a spec change does;
/// a finalizer keeps a deleted object until it is removed.
#[tokio::test]
async fn status_apply_generation_and_finalizers() {
    let (client, _handle) = client("status").await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in committed_crds() {
        crds.create(&PostParams::default(), &crd)
            .await
            .expect("crd");
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "books"}})).expect("ns"),
        )
        .await
        .expect("namespace");
    let gvk = GroupVersionKind::gvk("urlguard.io", "v1alpha1", "EdgeDistribution");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "edgedistributions");
    let api: Api<DynamicObject> = Api::namespaced_with(client, "books", &resource);
    let ed: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution",
        "metadata": {"name": "books", "finalizers": ["urlguard.io/cleanup"]},
        "spec": {"defaultOrigin": {"s3": {"bucketName": "books-frontend"}}}
    }))
    .expect("edge distribution");
    let created = api
        .create(&PostParams::default(), &ed)
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, Some(1));
    let status = json!({
        "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution",
        "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "False", "reason": "Pending", "message": "waiting", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    });
    let patched = api
        .patch_status(
            "books",
            &PatchParams::apply("urlguard").force(),
            &Patch::Apply(status),
        )
        .await
        .expect("status apply");
    assert_eq!(patched.metadata.generation, Some(1));
    assert!(patched.data["status"].is_object());
    let changed = api
        .patch(
            "books",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"comment": "changed"}})),
        )
        .await
        .expect("spec patch");
    assert_eq!(changed.metadata.generation, Some(2));
    assert!(
        changed.data["status"].is_object(),
        "status survives a spec change"
    );
    api.delete("books", &DeleteParams::default())
        .await
        .expect("delete");
    let deleting = api.get("books").await.expect("still there");
    assert!(deleting.metadata.deletion_timestamp.is_some());
    api.patch(
        "books",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("remove finalizer");
    assert!(api.get_opt("books").await.expect("get").is_none());
}

/// API concepts (retrieving large results sets in chunks): kube-rs follows
/// `continue` tokens to the end, and its watcher, listing in pages, starts
/// with every object.
#[tokio::test]
async fn lists_come_in_pages_that_kube_rs_follows() {
    let (client, _handle) = client("paging").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for i in 0..7 {
        api.create(&PostParams::default(), &configmap(&format!("cm-{i}"), "v"))
            .await
            .expect("create");
    }
    let mut names = Vec::new();
    let mut params = kube::api::ListParams::default().limit(3);
    let mut pages = 0;
    let mut first_rv = None;
    loop {
        let page = api.list(&params).await.expect("a page");
        pages += 1;
        assert!(page.items.len() <= 3);
        first_rv.get_or_insert(page.metadata.resource_version.clone());
        assert_eq!(Some(&page.metadata.resource_version), first_rv.as_ref());
        names.extend(page.items.into_iter().filter_map(|cm| cm.metadata.name));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("cm-{i}")).collect::<Vec<_>>());

    let config = watcher::Config::default().page_size(2);
    let mut events = watcher(api, config).boxed();
    let mut initial = Vec::new();
    while let Some(event) = events.next().await {
        match event.expect("event") {
            watcher::Event::InitApply(cm) => initial.extend(cm.metadata.name),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(initial.len(), 7);
}

/// A continue token whose resourceVersion left the history is 410 Gone:
/// the client must list again from the start.
#[tokio::test]
async fn a_continue_token_older_than_the_history_is_gone() {
    let (client, _handle) = client_of(
        "paging-gone",
        Config {
            history_limit: 4,
            ..Config::default()
        },
    )
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for i in 0..3 {
        api.create(&PostParams::default(), &configmap(&format!("cm-{i}"), "v"))
            .await
            .expect("create");
    }
    let first = api
        .list(&kube::api::ListParams::default().limit(1))
        .await
        .expect("first page");
    let token = first.metadata.continue_.expect("more to come");
    for i in 3..10 {
        api.create(&PostParams::default(), &configmap(&format!("cm-{i}"), "v"))
            .await
            .expect("create");
    }
    let gone = api
        .list(
            &kube::api::ListParams::default()
                .limit(1)
                .continue_token(&token),
        )
        .await
        .expect_err("compacted");
    match gone {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 410);
            assert_eq!(status.reason, "Expired");
        }
        other => panic!("expected 410 Gone, got {other:?}"),
    }
}
