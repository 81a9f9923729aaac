//! Discovery and OpenAPI v3, computed from the resource table on each
//! request (so a new CRD shows at once):
//!
//! - `/version`; `/api` (APIVersions), `/apis` (APIGroupList), `/apis/<g>`
//!   (APIGroup), `/api/v1` and `/apis/<g>/<v>` (APIResourceList with kind,
//!   singularName, namespaced, verbs, shortNames, categories and
//!   `<plural>/status`). Aggregated discovery (`apidiscovery.k8s.io/v2`) is
//!   not served: the reply is the legacy format with `Content-Type:
//!   application/json`, which kubectl, helm and kube-rs accept as the
//!   fallback, as against any older server.
//! - `/openapi/v3` (index with hashed `serverRelativeURL`s) and one OpenAPI
//!   3.0 document per group/version whose operations carry
//!   `x-kubernetes-group-version-kind` and the `fieldValidation`, `dryRun`
//!   and `fieldManager` query parameters — what kubectl checks before it
//!   sends `fieldValidation=Strict` and leaves validation to the server.
//!   Schemas: a CRD's `openAPIV3Schema`; built-ins get an open object
//!   schema (the emulator does not validate built-ins). `/openapi/v2` is 404.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value, json};

use crate::resources::{self, Resource};

/// The version the emulator claims.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "35",
        "emulationMajor": "1",
        "emulationMinor": "35",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "34",
        "gitVersion": "v1.35.0",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `GET /api`.
pub fn api_versions(server: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}],
    })
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
    })
}

/// `GET /apis`.
pub fn api_group_list(all: &[Resource]) -> Value {
    let groups: Vec<Value> = resources::groups(all)
        .iter()
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<group>`, if served.
pub fn api_group(all: &[Resource], group: &str) -> Option<Value> {
    let (g, vs) = resources::groups(all)
        .into_iter()
        .find(|(g, _)| g == group)?;
    let mut out = group_json(&g, &vs);
    out["kind"] = json!("APIGroup");
    out["apiVersion"] = json!("v1");
    Some(out)
}

/// `GET /api/v1` or `/apis/<group>/<version>`, if served.
pub fn api_resource_list(all: &[Resource], group: &str, version: &str) -> Option<Value> {
    let mut list = Vec::new();
    for r in all
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            entry["categories"] = json!(r.categories);
        }
        list.push(entry);
        if r.status {
            list.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if list.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": list,
    }))
}

/// `api/v1` or `apis/<g>/<v>`, the key of the OpenAPI v3 index.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The schema name of a kind (`io.urlguard.v1alpha1.EdgeDistribution`).
fn schema_name(r: &Resource) -> String {
    let group = if r.group.is_empty() {
        "io.k8s.api.core".to_owned()
    } else {
        r.group.split('.').rev().collect::<Vec<_>>().join(".")
    };
    format!("{group}.{}.{}", r.version, r.kind)
}

fn hash_of(value: &Value) -> String {
    let mut h = DefaultHasher::new();
    value.to_string().hash(&mut h);
    format!("{:016X}", h.finish())
}

/// `GET /openapi/v3`.
pub fn openapi_index(all: &[Resource]) -> Value {
    let mut gvs: Vec<(String, String)> = Vec::new();
    for r in all {
        let gv = (r.group.clone(), r.version.clone());
        if !gvs.contains(&gv) {
            gvs.push(gv);
        }
    }
    let mut paths = Map::new();
    for (g, v) in gvs {
        let doc = openapi_document(all, &g, &v).unwrap_or(Value::Null);
        let path = gv_path(&g, &v);
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", hash_of(&doc))}),
        );
    }
    json!({"paths": paths})
}

fn write_params() -> Value {
    json!([
        {"name": "dryRun", "in": "query", "description": "When present, indicates that modifications should not be persisted.", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldManager", "in": "query", "description": "fieldManager is a name associated with the actor or entity that is making these changes.", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldValidation", "in": "query", "description": "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.", "schema": {"type": "string", "uniqueItems": true}},
    ])
}

fn operation(r: &Resource, action: &str, body_types: &[&str], with_params: bool) -> Value {
    let reference = json!({"$ref": format!("#/components/schemas/{}", schema_name(r))});
    let mut op = json!({
        "operationId": format!("{action}{}", r.kind),
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
    });
    if with_params {
        op["parameters"] = write_params();
    }
    if !body_types.is_empty() {
        let content: Map<String, Value> = body_types
            .iter()
            .map(|t| ((*t).to_owned(), json!({"schema": reference})))
            .collect();
        op["requestBody"] = json!({"content": content, "required": true});
    }
    op
}

fn schema_of(r: &Resource) -> Value {
    let gvk = json!([{"group": r.group, "version": r.version, "kind": r.kind}]);
    let mut schema = r
        .crd
        .as_ref()
        .and_then(|crd| {
            crd.spec
                .versions
                .iter()
                .find(|v| v.name == r.version)
                .and_then(|v| v.schema.as_ref())
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .and_then(|s| serde_json::to_value(s).ok())
        })
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert("apiVersion".into(), json!({"type": "string"}));
        props.insert("kind".into(), json!({"type": "string"}));
        props.insert("metadata".into(), json!({"type": "object"}));
    }
    schema["x-kubernetes-group-version-kind"] = gvk;
    schema
}

/// `GET /openapi/v3/api/v1` or `/openapi/v3/apis/<g>/<v>`, if served.
pub fn openapi_document(all: &[Resource], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&Resource> = all
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let patch_types = [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
    ];
    for r in served {
        let base = format!("/{}", gv_path(group, version));
        let collection = if r.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{base}/{}", r.plural)
        };
        paths.insert(
            collection.clone(),
            json!({
                "get": operation(r, "list", &[], false),
                "post": operation(r, "post", &["application/json", "application/yaml"], true),
            }),
        );
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({
                "get": operation(r, "get", &[], false),
                "put": operation(r, "put", &["application/json", "application/yaml"], true),
                "patch": operation(r, "patch", &patch_types, true),
                "delete": operation(r, "delete", &[], false),
            }),
        );
        if r.status {
            paths.insert(
                format!("{collection}/{{name}}/status"),
                json!({
                    "get": operation(r, "get", &[], false),
                    "put": operation(r, "put", &["application/json"], true),
                    "patch": operation(r, "patch", &patch_types, true),
                }),
            );
        }
        schemas.insert(schema_name(r), schema_of(r));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.35.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}
