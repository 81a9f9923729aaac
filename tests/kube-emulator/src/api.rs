//! Request routing and the resource verbs, with the API server's semantics:
//!
//! - create (`POST`, 201, 409 AlreadyExists; `generateName`; the namespace
//!   must exist), get, list (`<Kind>List` with `metadata.resourceVersion`,
//!   label and field selectors, in pages with `limit` and `continue` — see
//!   [`paging`](crate::paging)), replace (`PUT`, 409 on a stale
//!   resourceVersion; unconditional without one), patch (merge, JSON,
//!   strategic, server-side apply — see [`patch`](crate::patch)), delete
//!   (with finalizers: `deletionTimestamp` is set, 202, the object goes when
//!   the last finalizer is removed; `preconditions` honoured; a namespace
//!   turns `Terminating`, deletes its objects and goes when they are gone,
//!   and takes no new ones meanwhile; a CRD takes its custom resources
//!   with it at once; dependents whose owners are gone are deleted in the
//!   background by [`gc`](crate::gc)), deletecollection;
//! - `uid`, `creationTimestamp`, `generation` (1 on create, +1 when anything
//!   but metadata — and status, for resources with a status subresource —
//!   changes, and when deletion starts), `managedFields`; an update that
//!   changes nothing writes nothing (same resourceVersion);
//! - status subresource: the main resource keeps the stored `.status`,
//!   `/status` changes only `.status`;
//! - custom resources are validated from their CRD by
//!   [`validation`](crate::validation) (pruning, defaults, schema, list
//!   types, CEL, ratcheting) on every write (422 Invalid with
//!   `details.causes`), always strictly: unknown fields are refused (422,
//!   one cause per field) whatever `fieldValidation` says, where the API
//!   server answers 400 for `Strict` and prunes them otherwise. Defaults
//!   are applied for validation only; the object is stored as sent.
//!   Built-ins are stored as sent;
//! - watch: `resourceVersion` resume from the event history (too old: an
//!   ERROR event with a 410 Expired Status, as the watch cache answers),
//!   unset/`0` starts with ADDED events for what exists, `allowWatchBookmarks`
//!   BOOKMARK events, `timeoutSeconds`, `sendInitialEvents=true` (with
//!   `resourceVersionMatch=NotOlderThan`: initial ADDED events, then a
//!   bookmark annotated `k8s.io/initial-events-end`). An object modified out
//!   of a watch's label selector is not reported as DELETED (simplified);
//! - Table output when `Accept` asks for it ([`table`](crate::table)).
//!
//! Requests are never authenticated; protobuf bodies are read by
//! [`protobuf`](crate::protobuf) for the kinds it knows, else 415.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, mpsc};
use tracing::debug;

use crate::discovery;
use crate::paging::{self, PageRequest};
use crate::patch;
use crate::resources::{self, CRD_GROUP, CRD_PLURAL, Resource};
use crate::selectors::{self, FieldRequirement, Requirement};
use crate::server::{ChannelBody, ResponseBody, Shared};
use crate::status::ApiError;
use crate::store::{EventType, Key, Store};
use crate::table;
use crate::time_fmt;
use crate::validation::{self, ValidationError};

type Reply = Result<Response<ResponseBody>, ApiError>;

/// The namespaces every cluster has.
const DEFAULT_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the default namespaces.
pub fn seed(shared: &Shared) {
    let mut store = shared.store();
    let Some(res) = resources::find(&store, "", "v1", "namespaces") else {
        return;
    };
    for ns in DEFAULT_NAMESPACES {
        let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        let _ = create(
            &mut store,
            &res,
            None,
            object,
            "kube-apiserver",
            None,
            false,
        );
    }
}

fn json_response(code: u16, value: &Value) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())).boxed_unsync());
    *response.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response(e: &ApiError) -> Response<ResponseBody> {
    json_response(e.code, &e.to_status())
}

/// What a handler needs of a request.
struct Call {
    method: Method,
    query: HashMap<String, String>,
    accept: String,
    content_type: String,
    user_agent: String,
    body: Bytes,
}

impl Call {
    fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("true" | "1"))
    }

    fn dry_run(&self) -> bool {
        self.param("dryRun") == Some("All")
    }

    /// `fieldManager`, else the user agent's program name.
    fn manager(&self) -> String {
        match self.param("fieldManager") {
            Some(m) if !m.is_empty() => m.to_owned(),
            _ => self
                .user_agent
                .split('/')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or("unknown")
                .to_owned(),
        }
    }

    fn media_type(&self) -> &str {
        self.content_type.split(';').next().unwrap_or("").trim()
    }

    fn body_value(&self) -> Result<Value, ApiError> {
        let media = self.media_type();
        if media.contains("protobuf") {
            return match crate::protobuf::decode(&self.body) {
                Ok(Some(value)) => Ok(value),
                Ok(None) => Ok(Value::Null),
                Err(e) => Err(ApiError {
                    message: e.to_string(),
                    ..ApiError::unsupported_media_type(media)
                }),
            };
        }
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        if media.contains("yaml") {
            let text = std::str::from_utf8(&self.body)
                .map_err(|e| ApiError::bad_request(format!("body is not UTF-8: {e}")))?;
            return yaml_serde::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}")))
    }
}

/// Serves one request.
pub async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<ResponseBody> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return error_response(&ApiError::bad_request(format!("reading body: {e}"))),
    };
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let call = Call {
        method: parts.method.clone(),
        query: parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        accept: header_text(header::ACCEPT),
        content_type: header_text(header::CONTENT_TYPE),
        user_agent: header_text(header::USER_AGENT),
        body,
    };
    let path = parts.uri.path().to_owned();
    let reply = route(&shared, &path, &call).await;
    let response = reply.unwrap_or_else(|e| error_response(&e));
    debug!(method = %call.method, uri = %parts.uri, status = response.status().as_u16(), "request");
    response
}

async fn route(shared: &Arc<Shared>, path: &str, call: &Call) -> Reply {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let discovery_only = call.method == Method::GET;
    let ok = |value: Option<Value>| {
        value
            .map(|v| json_response(200, &v))
            .ok_or_else(|| ApiError::no_route(path))
    };
    match segments.as_slice() {
        ["version"] if discovery_only => ok(Some(discovery::version())),
        ["healthz" | "readyz" | "livez"] => {
            let mut r = Response::new(Full::new(Bytes::from_static(b"ok")).boxed_unsync());
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain"),
            );
            Ok(r)
        }
        ["api"] if discovery_only => ok(Some(discovery::api_versions(&shared.addr.to_string()))),
        ["apis"] if discovery_only => {
            let all = resources::all(&shared.store());
            ok(Some(discovery::api_group_list(&all)))
        }
        ["apis", group] if discovery_only => {
            let all = resources::all(&shared.store());
            ok(discovery::api_group(&all, group))
        }
        ["api", version] if discovery_only => {
            let all = resources::all(&shared.store());
            ok(discovery::api_resource_list(&all, "", version))
        }
        ["apis", group, version] if discovery_only => {
            let all = resources::all(&shared.store());
            ok(discovery::api_resource_list(&all, group, version))
        }
        ["openapi", "v3"] if discovery_only => {
            let all = resources::all(&shared.store());
            ok(Some(discovery::openapi_index(&all)))
        }
        ["openapi", "v3", "api", version] if discovery_only => {
            let all = resources::all(&shared.store());
            ok(discovery::openapi_document(&all, "", version))
        }
        ["openapi", "v3", "apis", group, version] if discovery_only => {
            let all = resources::all(&shared.store());
            ok(discovery::openapi_document(&all, group, version))
        }
        ["api", version, rest @ ..] if !rest.is_empty() => {
            resource_request(shared, "", version, rest, call, path).await
        }
        ["apis", group, version, rest @ ..] if !rest.is_empty() => {
            resource_request(shared, group, version, rest, call, path).await
        }
        _ => Err(ApiError::no_route(path)),
    }
}

/// A parsed resource path.
struct Target {
    res: Resource,
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

impl Target {
    fn key(&self, name: &str) -> Key {
        Key {
            group: self.res.group.clone(),
            resource: self.res.plural.clone(),
            namespace: self.namespace.clone().unwrap_or_default(),
            name: name.to_owned(),
        }
    }
}

fn parse_target(
    store: &Store,
    group: &str,
    version: &str,
    rest: &[&str],
    path: &str,
) -> Result<Target, ApiError> {
    let (namespace, plural, name, sub) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            (Some((*ns).to_owned()), *plural, tail.first(), tail.get(1))
        }
        [plural, tail @ ..] => (None, *plural, tail.first(), tail.get(1)),
        [] => return Err(ApiError::no_route(path)),
    };
    let res =
        resources::find(store, group, version, plural).ok_or_else(|| ApiError::no_route(path))?;
    if namespace.is_some() && !res.namespaced {
        return Err(ApiError::no_route(path));
    }
    if namespace.is_none() && res.namespaced && name.is_some() {
        return Err(ApiError::no_route(path));
    }
    if let Some(sub) = sub
        && !(*sub == "status" && res.status)
    {
        return Err(ApiError::no_route(path));
    }
    if rest.len() > if namespace.is_some() { 5 } else { 3 } {
        return Err(ApiError::no_route(path));
    }
    Ok(Target {
        res,
        namespace,
        name: name.map(|n| (*n).to_owned()),
        sub: sub.map(|s| (*s).to_owned()),
    })
}

async fn resource_request(
    shared: &Arc<Shared>,
    group: &str,
    version: &str,
    rest: &[&str],
    call: &Call,
    path: &str,
) -> Reply {
    let target = parse_target(&shared.store(), group, version, rest, path)?;
    let method = call.method.clone();
    let name = target.name.clone();
    match (method, name) {
        (Method::GET, None) if call.flag("watch") => watch(shared, &target, call),
        (Method::GET, None) => {
            if let Some((_, delay)) = shared
                .slow_lists
                .iter()
                .find(|(plural, _)| *plural == target.res.plural)
            {
                tokio::time::sleep(*delay).await;
            }
            let store = shared.store();
            if call
                .param("continue")
                .is_some_and(|token| !token.is_empty())
            {
                shared.continued_lists.fetch_add(1, Ordering::Relaxed);
            }
            let body = list(&store, &target, call, shared.page_cap)?;
            Ok(json_response(200, &body))
        }
        (Method::GET, Some(name)) => {
            let store = shared.store();
            let object = store
                .get(&target.key(&name))
                .cloned()
                .ok_or_else(|| ApiError::not_found(&target.res, &name))?;
            if table::wants_table(&call.accept) {
                return Ok(json_response(
                    200,
                    &table::table(&target.res, &[object], store.rv()),
                ));
            }
            Ok(json_response(200, &object))
        }
        (Method::POST, None) => {
            let body = call.body_value()?;
            let mut store = shared.store();
            if let Some(ns) = &target.namespace {
                ensure_namespace(&store, ns)?;
            }
            let (code, object) = create(
                &mut store,
                &target.res,
                target.namespace.as_deref(),
                body,
                &call.manager(),
                None,
                call.dry_run(),
            )?;
            Ok(json_response(code, &object))
        }
        (Method::PUT, Some(name)) => {
            let body = call.body_value()?;
            let mut store = shared.store();
            let key = target.key(&name);
            let existing = store
                .get(&key)
                .cloned()
                .ok_or_else(|| ApiError::not_found(&target.res, &name))?;
            let (code, object) = update(
                &mut store,
                &target,
                &key,
                &existing,
                body,
                &call.manager(),
                None,
                call.dry_run(),
            )?;
            Ok(json_response(code, &object))
        }
        (Method::PATCH, Some(name)) => {
            let mut store = shared.store();
            let (code, object) = patch_object(&mut store, &target, &name, call)?;
            Ok(json_response(code, &object))
        }
        (Method::DELETE, Some(name)) => {
            let options = call.body_value()?;
            let mut store = shared.store();
            let (code, object) = delete(&mut store, &target, &name, &options, call)?;
            Ok(json_response(code, &object))
        }
        (Method::DELETE, None) => {
            let mut store = shared.store();
            let mut deleted = list(&store, &target, call, None)?;
            let names: Vec<(String, String)> = deleted["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|o| (text(o, "/metadata/namespace"), text(o, "/metadata/name")))
                        .collect()
                })
                .unwrap_or_default();
            let mut items = Vec::new();
            for (ns, name) in names {
                let t = Target {
                    res: target.res.clone(),
                    namespace: (!ns.is_empty()).then_some(ns),
                    name: None,
                    sub: None,
                };
                items.push(delete(&mut store, &t, &name, &Value::Null, call)?.1);
            }
            deleted["items"] = Value::Array(items);
            Ok(json_response(200, &deleted))
        }
        (method, _) => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({method} {path})"
        ))),
    }
}

fn text(object: &Value, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn namespace_key(name: &str) -> Key {
    Key {
        group: String::new(),
        resource: "namespaces".into(),
        namespace: String::new(),
        name: name.to_owned(),
    }
}

/// New objects need a namespace that exists and is not terminating.
fn ensure_namespace(store: &Store, namespace: &str) -> Result<(), ApiError> {
    match store.get(&namespace_key(namespace)) {
        Some(n) if n.pointer("/metadata/deletionTimestamp").is_some() => {
            Err(ApiError::namespace_terminating(namespace))
        }
        Some(_) => Ok(()),
        None => Err(ApiError::namespace_not_found(namespace)),
    }
}

fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    match object.get_mut("metadata") {
        Some(Value::Object(map)) => map,
        _ => unreachable!("metadata was just made an object"),
    }
}

/// Whether `name` is a DNS-1123 subdomain, as most names must be.
fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 253
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// What generation tracks: everything but metadata (and status, for
/// resources with a status subresource).
fn generation_content(res: &Resource, object: &Value) -> Value {
    let mut content = object.clone();
    if let Some(map) = content.as_object_mut() {
        map.remove("metadata");
        if res.status {
            map.remove("status");
        }
    }
    content
}

fn without_volatile(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(meta) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        if let Some(Value::Array(entries)) = meta.get_mut("managedFields") {
            for entry in entries {
                if let Some(e) = entry.as_object_mut() {
                    e.remove("time");
                }
            }
        }
    }
    copy
}

fn check_identity(res: &Resource, object: &Value) -> Result<(), ApiError> {
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    let kind = object.get("kind").and_then(Value::as_str);
    if api_version.is_some_and(|v| v != res.api_version()) || kind.is_some_and(|k| k != res.kind) {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            api_version.unwrap_or(""),
            res.api_version()
        )));
    }
    Ok(())
}

/// Schema + CEL validation of custom resources, CRD well-formedness.
fn validate(
    res: &Resource,
    name: &str,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    if let Some(crd) = &res.crd {
        return match validation::validate(crd, &res.version, object, old) {
            Ok(()) => Ok(()),
            Err(ValidationError::Invalid(errors)) => {
                let causes: Vec<(String, String)> =
                    errors.iter().map(|e| (e.field.clone(), e.body())).collect();
                Err(ApiError::invalid(res, name, &causes))
            }
            Err(ValidationError::UnknownFields(paths)) => {
                let causes: Vec<(String, String)> = paths
                    .into_iter()
                    .map(|path| {
                        let detail = format!("unknown field \"{path}\"");
                        (path, detail)
                    })
                    .collect();
                Err(ApiError::invalid(res, name, &causes))
            }
            Err(other @ ValidationError::UnknownVersion { .. }) => Err(ApiError::invalid(
                res,
                name,
                &[(String::new(), other.to_string())],
            )),
        };
    }
    if res.group == CRD_GROUP && res.plural == CRD_PLURAL {
        let crd: CustomResourceDefinition =
            serde_json::from_value(object.clone()).map_err(|e| {
                ApiError::invalid(res, name, &[("spec".into(), format!("Invalid value: {e}"))])
            })?;
        let expected = format!("{}.{}", crd.spec.names.plural, crd.spec.group);
        if name != expected {
            return Err(ApiError::invalid(
                res,
                name,
                &[(
                    "metadata.name".into(),
                    format!(
                        "Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"
                    ),
                )],
            ));
        }
    }
    Ok(())
}

fn crd_status(object: &Value) -> Value {
    let now = time_fmt::now();
    let stored: Vec<Value> = object
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
        ],
        "acceptedNames": object.pointer("/spec/names").cloned().unwrap_or_else(|| json!({})),
        "storedVersions": stored,
    })
}

/// Server-set status of built-ins the emulator knows.
fn server_status(res: &Resource, object: &mut Value, existing: Option<&Value>) {
    if res.group == CRD_GROUP && res.plural == CRD_PLURAL {
        let same_names =
            existing.is_some_and(|e| e.pointer("/spec/names") == object.pointer("/spec/names"));
        object["status"] = match existing.and_then(|e| e.get("status")) {
            Some(status) if same_names => status.clone(),
            _ => crd_status(object),
        };
    } else if res.group.is_empty() && res.plural == "namespaces" && existing.is_none() {
        object["status"] = json!({"phase": "Active"});
    }
}

/// Creates an object. `apply` carries the FieldsV1 of a server-side apply.
fn create(
    store: &mut Store,
    res: &Resource,
    namespace: Option<&str>,
    mut object: Value,
    manager: &str,
    apply: Option<Value>,
    dry_run: bool,
) -> Result<(u16, Value), ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    check_identity(res, &object)?;
    object["apiVersion"] = json!(res.api_version());
    object["kind"] = json!(res.kind);
    let meta = metadata_mut(&mut object);
    if res.namespaced {
        let ns = namespace.unwrap_or("");
        match meta.get("namespace").and_then(Value::as_str) {
            Some(body_ns) if !body_ns.is_empty() && body_ns != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {
                meta.insert("namespace".into(), json!(ns));
            }
        }
    } else {
        meta.remove("namespace");
    }
    let mut name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if name.is_empty() {
        let prefix = meta
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                res,
                "",
                &[(
                    "metadata.name".into(),
                    "Required value: name or generateName is required".into(),
                )],
            ));
        }
        name = format!("{prefix}{}", suffix(store.rv() + 1));
        meta.insert("name".into(), json!(name));
    }
    if !valid_name(&name) {
        return Err(ApiError::invalid(
            res,
            &name,
            &[(
                "metadata.name".into(),
                format!(
                    "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
                ),
            )],
        ));
    }
    let uid = store.uid();
    for field in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
    ] {
        meta.remove(field);
    }
    meta.insert("uid".into(), json!(uid));
    meta.insert("creationTimestamp".into(), json!(time_fmt::now()));
    meta.insert("generation".into(), json!(1));
    if res.status
        && let Some(map) = object.as_object_mut()
    {
        map.remove("status");
    }
    server_status(res, &mut object, None);
    let key = Key {
        group: res.group.clone(),
        resource: res.plural.clone(),
        namespace: if res.namespaced {
            namespace.unwrap_or("").to_owned()
        } else {
            String::new()
        },
        name: name.clone(),
    };
    if store.get(&key).is_some() {
        return Err(ApiError::already_exists(res, &name));
    }
    validate(res, &name, &object, None)?;
    let (operation, fields) = match apply {
        Some(fields) => ("Apply", fields),
        None => ("Update", patch::fields_v1(&object)),
    };
    patch::record_manager(
        &mut object,
        manager,
        operation,
        &res.api_version(),
        None,
        fields,
    );
    if dry_run {
        return Ok((201, object));
    }
    Ok((201, store.put(key, object, EventType::Added)))
}

fn suffix(seed: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = seed.wrapping_mul(2_654_435_761).wrapping_add(0x9e37_79b9);
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// Replaces an object (PUT, and every patch once applied).
#[allow(clippy::too_many_arguments)]
fn update(
    store: &mut Store,
    target: &Target,
    key: &Key,
    existing: &Value,
    candidate: Value,
    manager: &str,
    apply: Option<Value>,
    dry_run: bool,
) -> Result<(u16, Value), ApiError> {
    let res = &target.res;
    let name = key.name.as_str();
    if !candidate.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    check_identity(res, &candidate)?;
    if let Some(body_name) = candidate.pointer("/metadata/name").and_then(Value::as_str)
        && body_name != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if let Some(rv) = candidate
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        && !rv.is_empty()
        && Some(rv)
            != existing
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    {
        return Err(ApiError::stale(res, name));
    }
    let on_status = target.sub.as_deref() == Some("status");
    let mut object = if on_status {
        let mut object = existing.clone();
        match candidate.get("status") {
            Some(status) => object["status"] = status.clone(),
            None => {
                if let Some(map) = object.as_object_mut() {
                    map.remove("status");
                }
            }
        }
        object
    } else {
        let mut object = candidate;
        if res.status {
            match existing.get("status") {
                Some(status) => object["status"] = status.clone(),
                None => {
                    if let Some(map) = object.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
        }
        let old_meta = existing
            .get("metadata")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let meta = metadata_mut(&mut object);
        for field in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "managedFields",
        ] {
            match old_meta.get(field) {
                Some(v) => meta.insert(field.into(), v.clone()),
                None => meta.remove(field),
            };
        }
        server_status(res, &mut object, Some(existing));
        object
    };
    object["apiVersion"] = json!(res.api_version());
    object["kind"] = json!(res.kind);
    set_rv_text(&mut object, existing);
    validate(res, name, &object, Some(existing))?;
    if generation_content(res, &object) != generation_content(res, existing) {
        let generation = existing
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        metadata_mut(&mut object).insert("generation".into(), json!(generation + 1));
    }
    let content_changed = without_managed(&object) != without_managed(existing);
    let subresource = target.sub.as_deref();
    match apply {
        Some(fields) => patch::record_manager(
            &mut object,
            manager,
            "Apply",
            &res.api_version(),
            subresource,
            fields,
        ),
        None if content_changed => {
            patch::record_update(
                &mut object,
                existing,
                manager,
                &res.api_version(),
                subresource,
            );
        }
        None => {}
    }
    if without_volatile(&object) == without_volatile(existing) {
        return Ok((200, existing.clone()));
    }
    let finalizers_empty = object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if dry_run {
        return Ok((200, object));
    }
    if object.pointer("/metadata/deletionTimestamp").is_some() && finalizers_empty {
        store.put(key.clone(), object, EventType::Modified);
        let gone = remove_with_contents(store, res, key);
        finish_namespace(store, &key.namespace);
        return Ok((200, gone));
    }
    Ok((200, store.put(key.clone(), object, EventType::Modified)))
}

fn set_rv_text(object: &mut Value, existing: &Value) {
    if let Some(rv) = existing.pointer("/metadata/resourceVersion") {
        metadata_mut(object).insert("resourceVersion".into(), rv.clone());
    }
}

fn without_managed(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(meta) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    copy
}

fn patch_object(
    store: &mut Store,
    target: &Target,
    name: &str,
    call: &Call,
) -> Result<(u16, Value), ApiError> {
    let res = &target.res;
    let key = target.key(name);
    let media = call.media_type().to_owned();
    let body = call.body_value()?;
    let existing = store.get(&key).cloned();
    if media == "application/apply-patch+yaml" || media == "application/apply-patch+json" {
        let manager = call
            .param("fieldManager")
            .filter(|m| !m.is_empty())
            .ok_or_else(|| ApiError::bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"))?
            .to_owned();
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "the apply configuration must be an object",
            ));
        }
        if body.get("apiVersion").is_none() || body.get("kind").is_none() {
            return Err(ApiError::bad_request(
                "apiVersion and kind must be set in an apply configuration",
            ));
        }
        check_identity(res, &body)?;
        if let Some(body_name) = body.pointer("/metadata/name").and_then(Value::as_str)
            && body_name != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let fields = patch::fields_v1(&body);
        return match existing {
            None => {
                if let Some(ns) = &target.namespace {
                    ensure_namespace(store, ns)?;
                }
                let mut object = body;
                metadata_mut(&mut object).insert("name".into(), json!(name));
                create(
                    store,
                    res,
                    target.namespace.as_deref(),
                    object,
                    &manager,
                    Some(fields),
                    call.dry_run(),
                )
            }
            Some(existing) => {
                let mut candidate = existing.clone();
                let mut applied = body;
                if let Some(meta) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("resourceVersion");
                    meta.remove("managedFields");
                }
                patch::merge(&mut candidate, &applied);
                patch::remove_unsent(&mut candidate, &manager, target.sub.as_deref(), &fields);
                update(
                    store,
                    target,
                    &key,
                    &existing,
                    candidate,
                    &manager,
                    Some(fields),
                    call.dry_run(),
                )
            }
        };
    }
    let existing = existing.ok_or_else(|| ApiError::not_found(res, name))?;
    let mut candidate = existing.clone();
    match media.as_str() {
        "application/merge-patch+json" => patch::merge(&mut candidate, &body),
        "application/json-patch+json" => patch::json_patch(&mut candidate, &body)
            .map_err(|e| ApiError::invalid(res, name, &[(String::new(), e.to_string())]))?,
        "application/strategic-merge-patch+json" if res.crd.is_some() => {
            return Err(ApiError::unsupported_media_type(
                "application/strategic-merge-patch+json (strategic merge patch is not supported for custom resources)",
            ));
        }
        "application/strategic-merge-patch+json" => patch::strategic(&mut candidate, &body)
            .map_err(|e| ApiError::invalid(res, name, &[(String::new(), e.to_string())]))?,
        other => return Err(ApiError::unsupported_media_type(other)),
    }
    update(
        store,
        target,
        &key,
        &existing,
        candidate,
        &call.manager(),
        None,
        call.dry_run(),
    )
}

/// Removes an object; a namespace takes its namespaced objects along, a CRD
/// its custom resources.
fn remove_with_contents(store: &mut Store, res: &Resource, key: &Key) -> Value {
    let mut contents = Vec::new();
    if res.group.is_empty() && res.plural == "namespaces" {
        contents = store.keys_in_namespace(&key.name);
    } else if res.group == CRD_GROUP
        && res.plural == CRD_PLURAL
        && let Some(object) = store.get(key)
        && let (Some(group), Some(plural)) = (
            object.pointer("/spec/group").and_then(Value::as_str),
            object.pointer("/spec/names/plural").and_then(Value::as_str),
        )
    {
        contents = store.keys(group, plural);
    }
    for k in contents {
        store.remove(&k);
    }
    store.remove(key).unwrap_or(Value::Null)
}

fn delete(
    store: &mut Store,
    target: &Target,
    name: &str,
    options: &Value,
    call: &Call,
) -> Result<(u16, Value), ApiError> {
    let res = &target.res;
    let key = target.key(name);
    let existing = store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, name))?;
    if let Some(uid) = options
        .pointer("/preconditions/uid")
        .and_then(Value::as_str)
        && Some(uid) != existing.pointer("/metadata/uid").and_then(Value::as_str)
    {
        return Err(ApiError::conflict(
            res,
            name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                text(&existing, "/metadata/uid")
            ),
        ));
    }
    if let Some(rv) = options
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        && Some(rv)
            != existing
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    {
        return Err(ApiError::conflict(
            res,
            name,
            &format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                text(&existing, "/metadata/resourceVersion")
            ),
        ));
    }
    let dry_run = call.dry_run()
        || options
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v == "All"));
    if dry_run {
        return Ok((if has_finalizers(&existing) { 202 } else { 200 }, existing));
    }
    if res.group.is_empty() && res.plural == "namespaces" {
        return Ok((200, terminate_namespace(store, &key, existing)));
    }
    if has_finalizers(&existing) {
        return Ok((202, start_deletion(store, &key, existing)));
    }
    Ok((200, remove_with_contents(store, res, &key)))
}

/// Deletes the object at `key` as a `DELETE` without options does (what
/// the garbage collector does to a dependent whose owners are gone): a
/// namespace terminates, an object with finalizers gets its
/// `deletionTimestamp`, any other goes, with what it contains.
pub(crate) fn delete_in_background(store: &mut Store, key: &Key) {
    let Some(existing) = store.get(key).cloned() else {
        return;
    };
    if key.group.is_empty() && key.resource == "namespaces" {
        terminate_namespace(store, key, existing);
    } else if has_finalizers(&existing) {
        start_deletion(store, key, existing);
    } else {
        match resources::all(store)
            .into_iter()
            .find(|r| r.group == key.group && r.plural == key.resource)
        {
            Some(res) => {
                remove_with_contents(store, &res, key);
            }
            None => {
                store.remove(key);
            }
        }
        finish_namespace(store, &key.namespace);
    }
}

fn has_finalizers(object: &Value) -> bool {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// Deletion of an object with finalizers: it gets its `deletionTimestamp`
/// (once) and stays until the finalizers are removed.
fn start_deletion(store: &mut Store, key: &Key, existing: Value) -> Value {
    if existing.pointer("/metadata/deletionTimestamp").is_some() {
        return existing;
    }
    let mut object = existing;
    let generation = object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let meta = metadata_mut(&mut object);
    meta.insert("deletionTimestamp".into(), json!(time_fmt::now()));
    meta.insert("deletionGracePeriodSeconds".into(), json!(0));
    meta.insert("generation".into(), json!(generation + 1));
    store.put(key.clone(), object, EventType::Modified)
}

/// Deleting a namespace, as the namespace controller does: the namespace
/// turns `Terminating`, each object in it is deleted (one with finalizers
/// stays until they are removed), and the namespace goes once it is empty.
fn terminate_namespace(store: &mut Store, key: &Key, existing: Value) -> Value {
    let mut namespace = existing;
    if namespace.pointer("/metadata/deletionTimestamp").is_none() {
        metadata_mut(&mut namespace).insert("deletionTimestamp".into(), json!(time_fmt::now()));
        namespace["status"] = json!({"phase": "Terminating"});
        namespace = store.put(key.clone(), namespace, EventType::Modified);
    }
    for content in store.keys_in_namespace(&key.name) {
        match store.get(&content).cloned() {
            Some(object) if has_finalizers(&object) => {
                start_deletion(store, &content, object);
            }
            Some(_) => {
                store.remove(&content);
            }
            None => {}
        }
    }
    finish_namespace(store, &key.name).unwrap_or(namespace)
}

/// Removes namespace `name` if it is terminating and empty; returns it then.
fn finish_namespace(store: &mut Store, name: &str) -> Option<Value> {
    let key = namespace_key(name);
    let terminating = store
        .get(&key)
        .is_some_and(|n| n.pointer("/metadata/deletionTimestamp").is_some());
    if terminating && store.keys_in_namespace(name).is_empty() {
        store.remove(&key)
    } else {
        None
    }
}

struct Filter {
    labels: Vec<Requirement>,
    fields: Vec<FieldRequirement>,
}

impl Filter {
    fn from_call(call: &Call) -> Result<Filter, ApiError> {
        Ok(Filter {
            labels: selectors::parse_labels(call.param("labelSelector").unwrap_or(""))
                .map_err(ApiError::bad_request)?,
            fields: selectors::parse_fields(call.param("fieldSelector").unwrap_or(""))
                .map_err(ApiError::bad_request)?,
        })
    }

    fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    fn matches(&self, object: &Value) -> bool {
        selectors::labels_match(&self.labels, object)
            && selectors::fields_match(&self.fields, object)
    }
}

fn list(
    store: &Store,
    target: &Target,
    call: &Call,
    page_cap: Option<usize>,
) -> Result<Value, ApiError> {
    let filter = Filter::from_call(call)?;
    let mut request = PageRequest::parse(
        call.param("limit"),
        call.param("continue"),
        store.oldest_rv(),
    )?;
    if let Some(cap) = page_cap {
        request.limit = Some(request.limit.map_or(cap, |limit| limit.min(cap)));
    }
    let res = &target.res;
    let items: Vec<Value> = store
        .list(&res.group, &res.plural, target.namespace.as_deref())
        .into_iter()
        .filter(|o| filter.matches(o))
        .cloned()
        .collect();
    let page = paging::page(items, &request, store.rv());
    let mut list = if table::wants_table(&call.accept) {
        table::table(res, &page.items, page.rv)
    } else {
        json!({
            "kind": res.list_kind(),
            "apiVersion": res.api_version(),
            "metadata": {"resourceVersion": page.rv.to_string()},
            "items": page.items,
        })
    };
    if let Some(token) = &page.continue_token {
        list["metadata"]["continue"] = json!(token);
        if filter.is_empty() {
            list["metadata"]["remainingItemCount"] = json!(page.remaining);
        }
    }
    Ok(list)
}

fn event_line(type_: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": type_, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

fn bookmark(res: &Resource, rv: u64, initial_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    event_line(
        "BOOKMARK",
        &json!({"kind": res.kind, "apiVersion": res.api_version(), "metadata": metadata}),
    )
}

fn watch(shared: &Arc<Shared>, target: &Target, call: &Call) -> Reply {
    let filter = Filter::from_call(call)?;
    let res = target.res.clone();
    let namespace = target.namespace.clone();
    let bookmarks = call.flag("allowWatchBookmarks");
    let send_initial = call.flag("sendInitialEvents");
    if send_initial && (call.param("resourceVersionMatch") != Some("NotOlderThan") || !bookmarks) {
        return Err(ApiError::invalid(
            &res,
            "",
            &[(
                "sendInitialEvents".into(),
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks".into(),
            )],
        ));
    }
    let timeout = call
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map_or(
            std::time::Duration::from_secs(1800),
            std::time::Duration::from_secs,
        );
    let requested = call.param("resourceVersion").unwrap_or("");
    let matches = {
        let res = res.clone();
        let namespace = namespace.clone();
        move |key: &Key, object: &Value| {
            key.group == res.group
                && key.resource == res.plural
                && namespace.as_deref().is_none_or(|ns| key.namespace == ns)
                && filter.matches(object)
        }
    };
    let mut lines = Vec::new();
    let (mut last_rv, receiver) = {
        let store = shared.store();
        let from_now = requested.is_empty() || requested == "0" || send_initial;
        if from_now {
            let receiver = store.subscribe();
            for object in store.list(&res.group, &res.plural, namespace.as_deref()) {
                let key = Key {
                    group: res.group.clone(),
                    resource: res.plural.clone(),
                    namespace: text(object, "/metadata/namespace"),
                    name: text(object, "/metadata/name"),
                };
                if matches(&key, object) {
                    lines.push(event_line("ADDED", object));
                }
            }
            if send_initial {
                lines.push(bookmark(&res, store.rv(), true));
            }
            (store.rv(), Some(receiver))
        } else {
            let rv: u64 = requested.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resource version: {requested}"))
            })?;
            match store.watch_from(rv) {
                Ok((past, receiver)) => {
                    for event in past {
                        if matches(&event.key, &event.object) {
                            lines.push(event_line(event.type_.as_str(), &event.object));
                        }
                    }
                    (store.rv().max(rv), Some(receiver))
                }
                Err(compacted) => {
                    shared.gone_watches.fetch_add(1, Ordering::Relaxed);
                    let status = ApiError::gone(format!(
                        "too old resource version: {rv} ({})",
                        compacted.oldest
                    ))
                    .to_status();
                    lines.push(event_line("ERROR", &status));
                    (rv, None)
                }
            }
        }
    };
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
    let interval = shared.bookmark_interval;
    let mut epoch = shared.watch_epoch.subscribe();
    tokio::spawn(async move {
        for line in lines {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        let Some(mut receiver) = receiver else {
            return;
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = tx.closed() => break,
                _ = epoch.changed() => break,
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(bookmark(&res, last_rv, false)).await.is_err() {
                        break;
                    }
                }
                received = receiver.recv() => match received {
                    Ok(event) => {
                        last_rv = last_rv.max(event.rv);
                        if matches(&event.key, &event.object)
                            && tx.send(event_line(event.type_.as_str(), &event.object)).await.is_err()
                        {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let status = ApiError::gone("watch fell behind; re-list").to_status();
                        let _ = tx.send(event_line("ERROR", &status)).await;
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        }
    });
    let mut response = Response::new(ChannelBody::new(rx).boxed_unsync());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
