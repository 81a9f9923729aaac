//! The `meta.k8s.io/v1` Table `kubectl get` asks for (`Accept:
//! application/json;as=Table;v=v1;g=meta.k8s.io`): Name plus the CRD
//! version's `additionalPrinterColumns` (dates shown as ages, as the API
//! server does), or Name and Age for built-ins and CRDs without columns
//! (namespaces add Status). Rows carry the object as
//! `PartialObjectMetadata`, the default `includeObject`.

use serde_json::{Value, json};

use crate::jsonpath;
use crate::resources::{Column, Resource};
use crate::time_fmt;

/// Whether an Accept header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

fn columns(res: &Resource) -> Vec<Column> {
    let name = Column {
        name: "Name".into(),
        type_: "string".into(),
        format: "name".into(),
        description: "Name must be unique within a namespace.".into(),
        priority: 0,
        json_path: None,
    };
    let age = Column {
        name: "Age".into(),
        type_: "date".into(),
        format: String::new(),
        description: "CreationTimestamp is a timestamp representing the server time when this object was created.".into(),
        priority: 0,
        json_path: Some(".metadata.creationTimestamp".into()),
    };
    let mut out = vec![name];
    if res.crd.is_some() && !res.columns.is_empty() {
        out.extend(res.columns.iter().cloned());
        return out;
    }
    if res.kind == "Namespace" && res.group.is_empty() {
        out.push(Column {
            name: "Status".into(),
            type_: "string".into(),
            format: String::new(),
            description: "The status of the namespace".into(),
            priority: 0,
            json_path: Some(".status.phase".into()),
        });
    }
    out.push(age);
    out
}

fn cell(column: &Column, object: &Value) -> Value {
    let Some(path) = &column.json_path else {
        return object
            .pointer("/metadata/name")
            .cloned()
            .unwrap_or(Value::Null);
    };
    let values = jsonpath::evaluate(path, object);
    let Some(first) = values.first() else {
        return Value::Null;
    };
    if column.type_ == "date" {
        return first
            .as_str()
            .and_then(time_fmt::age)
            .map(Value::String)
            .unwrap_or(Value::Null);
    }
    if values.len() > 1 {
        let joined: Vec<String> = values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        return Value::String(joined.join(","));
    }
    (*first).clone()
}

/// The Table of `objects`.
pub fn table(res: &Resource, objects: &[Value], resource_version: u64) -> Value {
    let columns = columns(res);
    let definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "cells": columns.iter().map(|c| cell(c, o)).collect::<Vec<_>>(),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
                },
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": definitions,
        "rows": rows,
    })
}
