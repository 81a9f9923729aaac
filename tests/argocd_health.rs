//! The Argo CD health checks in `argocd/health/urlguard.io/<Kind>/health.lua`
//! run against their samples, as Argo CD runs them: each `health_test.yaml`
//! (Argo CD's own `resource_customizations` convention) names an input
//! object and the status and message the Lua must return. The samples are
//! real objects of our CRDs (they deserialize into the Rust types), and
//! `docs/argocd.md` carries the exact Lua files in its `argocd-cm` snippet.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mlua::serde::SerializeOptions;
use mlua::{Lua, LuaSerdeExt, Table};
use serde_json::Value;
use urlguard::api::{EdgeDistribution, ProtectedFunctionUrl};

const KINDS: [&str; 2] = ["EdgeDistribution", "ProtectedFunctionUrl"];

fn health_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("argocd/health/urlguard.io")
        .join(kind)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn yaml(path: &Path) -> Value {
    yaml_serde::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `script` with `obj` set to `object`, as Argo CD does; returns the
/// `status` and `message` of the table it returns.
fn health(script: &str, object: &Value) -> (String, String) {
    let lua = Lua::new();
    // JSON null must arrive as nil (as in Argo CD), not as mlua's NULL
    // sentinel, or `x == nil` checks would see a value.
    let options = SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    let obj = lua.to_value_with(object, options).expect("object to Lua");
    lua.globals().set("obj", obj).expect("set obj");
    let hs: Table = lua
        .load(script)
        .eval()
        .unwrap_or_else(|e| panic!("health.lua failed: {e}"));
    let field = |name: &str| -> String {
        hs.get::<Option<String>>(name)
            .unwrap_or_else(|e| panic!("hs.{name}: {e}"))
            .unwrap_or_default()
    };
    (field("status"), field("message"))
}

/// Every case of one kind's `health_test.yaml`; returns the statuses seen.
fn run_cases(kind: &str) -> BTreeSet<String> {
    let dir = health_dir(kind);
    let script = read(&dir.join("health.lua"));
    let cases = yaml(&dir.join("health_test.yaml"));
    let cases = cases["tests"].as_array().expect("tests: a list");
    assert!(!cases.is_empty(), "{kind}: no cases");
    let mut statuses = BTreeSet::new();
    let mut inputs = BTreeSet::new();
    for case in cases {
        let input = case["inputPath"].as_str().expect("inputPath");
        inputs.insert(input.to_owned());
        let object = yaml(&dir.join(input));
        // A sample must be an object the API server could hold.
        let parsed = match kind {
            "EdgeDistribution" => serde_json::from_value::<EdgeDistribution>(object.clone())
                .map(|_| ())
                .map_err(|e| e.to_string()),
            _ => serde_json::from_value::<ProtectedFunctionUrl>(object.clone())
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        assert!(parsed.is_ok(), "{kind}/{input} is not a {kind}: {parsed:?}");
        assert_eq!(object["kind"], kind, "{input}");
        let expected = (
            case["healthStatus"]["status"]
                .as_str()
                .expect("status")
                .to_owned(),
            case["healthStatus"]["message"]
                .as_str()
                .expect("message")
                .to_owned(),
        );
        assert_eq!(health(&script, &object), expected, "{kind}/{input}");
        statuses.insert(expected.0);
    }
    // A sample nobody asserts on is a sample nobody checks.
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir.join("testdata"))
        .expect("testdata")
        .map(|e| {
            format!(
                "testdata/{}",
                e.expect("entry").file_name().to_string_lossy()
            )
        })
        .collect();
    assert_eq!(on_disk, inputs, "{kind}: samples without a case");
    statuses
}

#[test]
fn edge_distribution_health_matches_every_sample() {
    let statuses = run_cases("EdgeDistribution");
    assert_eq!(
        statuses,
        BTreeSet::from(["Degraded", "Healthy", "Progressing"].map(str::to_owned))
    );
}

#[test]
fn protected_function_url_health_matches_every_sample() {
    let statuses = run_cases("ProtectedFunctionUrl");
    assert_eq!(
        statuses,
        BTreeSet::from(["Degraded", "Healthy", "Progressing"].map(str::to_owned))
    );
}

/// A condition list with a JSON null where Argo CD would see nil, and a
/// Ready=False reason nobody listed: Degraded, never a Lua error.
#[test]
fn unknown_reasons_are_degraded_and_nulls_are_nil() {
    let script = read(&health_dir("EdgeDistribution").join("health.lua"));
    let object = serde_json::json!({
        "apiVersion": "urlguard.io/v1alpha1",
        "kind": "EdgeDistribution",
        "metadata": {"name": "x", "namespace": "y", "generation": 2},
        "status": {
            "observedGeneration": 2,
            "conditions": [
                {"type": "Ready", "status": "False", "reason": "SomethingNew", "message": null}
            ]
        }
    });
    assert_eq!(
        health(&script, &object),
        ("Degraded".to_owned(), "SomethingNew".to_owned())
    );
    let mut generation_only = object.clone();
    generation_only["status"] = serde_json::json!({"observedGeneration": null});
    assert_eq!(health(&script, &generation_only).0, "Progressing");
}

/// The `argocd-cm` snippet of docs/argocd.md carries each health.lua
/// byte for byte, so the docs cannot drift from the tested Lua.
#[test]
fn the_argocd_cm_snippet_in_the_docs_is_the_tested_lua() {
    let docs = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/argocd.md"));
    let snippet = docs
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .find(|block| block.contains("name: argocd-cm"))
        .expect("docs/argocd.md has an argocd-cm ConfigMap in a yaml block");
    // The fence took the last line's newline; `|` keeps one.
    let config_map: Value =
        yaml_serde::from_str(&format!("{snippet}\n")).expect("the snippet is YAML");
    assert_eq!(config_map["kind"], "ConfigMap");
    for kind in KINDS {
        let key = format!("resource.customizations.health.urlguard.io_{kind}");
        let lua = read(&health_dir(kind).join("health.lua"));
        assert_eq!(
            config_map["data"][&key].as_str(),
            Some(lua.as_str()),
            "docs/argocd.md: {key} differs from argocd/health/urlguard.io/{kind}/health.lua"
        );
    }
}
