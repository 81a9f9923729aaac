//! The CEL validation rules of a structural schema
//! (`x-kubernetes-validations`), evaluated at the schema node that declares
//! them with `self` bound to the value there and, for transition rules,
//! `oldSelf` to the stored value.
//!
//! Follows "Extend the Kubernetes API with CustomResourceDefinitions" →
//! "Validation rules"
//! (<https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-rules>)
//! and "CEL in Kubernetes" (<https://kubernetes.io/docs/reference/using-api/cel/>):
//!
//! - a rule is checked only where the value is present and not null;
//! - a rule that mentions `oldSelf` is a transition rule: it runs only on
//!   update and only when the old value can be correlated (same field; the
//!   item with the same keys of a `map` list), unless `optionalOldSelf`
//!   makes `oldSelf` an optional that is empty on create;
//! - a failed rule reports `message`, else `messageExpression` when it
//!   yields a non-empty single-line string (it takes precedence over
//!   `message`), else `failed rule: <rule>`; at the node's path extended by
//!   `fieldPath`; as the error type `reason` names (`FieldValueInvalid` by
//!   default); showing the value for scalars and omitting it for objects
//!   and arrays (Kubernetes 1.35);
//! - ratcheting: a failed rule that does not use `oldSelf` is not an error
//!   when its node (or nearest correlatable ancestor) is unchanged.
//!
//! Values reach CEL typed by the schema: `integer` → int, `number` →
//! double, `format: date-time` → timestamp, `format: byte` → bytes,
//! objects with properties expose only them, escaped as the documentation's
//! "Escaping" table says (`x-y` → `x__dash__y`), and the root object
//! exposes `apiVersion`, `kind` and `metadata.name`/`generateName`.
//! Evaluation uses the `cel` interpreter with kube-cel's Kubernetes
//! extension libraries (strings, lists, regex, URLs, quantities, ...).
//!
//! Knowingly simplified: no cost budget; `==` on `set` and `map` lists
//! compares in order (Kubernetes ignores order there); rules are not
//! type-checked against the schema before evaluation.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use base64::Engine as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, ValidationRule,
};
use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map as CelMap, OptionalValue};
use kube_cel::cel::{Context, Program, Value as Cel};
use serde_json::Value;

use super::field::{BadValue, ErrorType, FieldError};
use super::structural::correlated_item;
use super::{path, schema};

/// Evaluates every rule of `root` on `object`; `old` is the stored object
/// on update.
pub fn check(root: &JSONSchemaProps, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut walker = Walker {
        base: Context::default().with_all(),
        programs: HashMap::new(),
        errors: Vec::new(),
        ratcheting: old.is_some(),
    };
    walker.node(root, object, old, "", false, true);
    walker.errors
}

struct Walker {
    /// The Kubernetes CEL environment, shared by every evaluation.
    base: Context<'static>,
    /// Compiled rules and message expressions by source.
    programs: HashMap<String, Result<Arc<Program>, String>>,
    errors: Vec<FieldError>,
    /// Whether this is an update (ratcheting applies only then).
    ratcheting: bool,
}

impl Walker {
    fn program(&mut self, source: &str) -> Result<Arc<Program>, String> {
        self.programs
            .entry(source.to_owned())
            .or_insert_with(|| {
                Program::compile(source)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// `unchanged`: whether the nearest correlatable node is equal to its
    /// old value (for ratcheting).
    fn node(
        &mut self,
        node: &JSONSchemaProps,
        value: &Value,
        old: Option<&Value>,
        at: &str,
        inherited_unchanged: bool,
        resource_root: bool,
    ) {
        if value.is_null() {
            return;
        }
        let unchanged = self.ratcheting && old.map_or(inherited_unchanged, |o| o == value);
        let old = old.filter(|o| !o.is_null());
        if let Some(rules) = node
            .x_kubernetes_validations
            .as_deref()
            .filter(|r| !r.is_empty())
        {
            let site = Site {
                node,
                value,
                this: to_cel(value, Some(node), resource_root),
                old: old.map(|o| to_cel(o, Some(node), resource_root)),
                at,
                unchanged,
            };
            for rule in rules {
                self.rule(&site, rule);
            }
        }
        match value {
            Value::Object(map) => {
                let old_map = old.and_then(Value::as_object);
                for (name, field) in map {
                    let old_field = old_map.and_then(|m| m.get(name));
                    if let Some(values) = schema::additional_properties(node) {
                        let field_path = path::key(at, name);
                        self.node(values, field, old_field, &field_path, unchanged, false);
                    }
                    if let Some(property) = node.properties.as_ref().and_then(|p| p.get(name)) {
                        let field_path = path::child(at, name);
                        self.node(property, field, old_field, &field_path, unchanged, false);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema::items(node) {
                    let old_items = old.and_then(Value::as_array);
                    for (index, item) in items.iter().enumerate() {
                        let old_item = old_items.and_then(|olds| correlated_item(node, olds, item));
                        let item_path = path::index(at, index);
                        self.node(item_schema, item, old_item, &item_path, unchanged, false);
                    }
                }
            }
            _ => {}
        }
    }

    fn rule(&mut self, site: &Site<'_>, rule: &ValidationRule) {
        let node = site.node;
        let at = site.at;
        let type_name = BadValue::text(node.type_.clone().unwrap_or_default());
        let program = match self.program(&rule.rule) {
            Ok(program) => program,
            Err(e) => {
                let detail = format!("rule compile error: {e}");
                self.errors
                    .push(FieldError::new(at, ErrorType::Invalid, type_name, detail));
                return;
            }
        };
        let uses_old_self = program.references().has_variable("oldSelf");
        let optional_old_self = rule.optional_old_self == Some(true);
        if uses_old_self && site.old.is_none() && !optional_old_self {
            return;
        }
        let bindings = Bindings {
            this: site.this.clone(),
            old: site.old.clone(),
            optional_old_self,
        };
        match self.evaluate(&program, &bindings) {
            Ok(Cel::Bool(true)) => return,
            Ok(_) => {}
            Err(e) => {
                let detail = if e.to_lowercase().starts_with("no such overload") {
                    format!(
                        "'{e}': call arguments did not match a supported operator, function or macro signature for rule: {}",
                        rule_text(rule)
                    )
                } else {
                    format!("{e} evaluating rule: {}", rule_text(rule))
                };
                self.errors
                    .push(FieldError::new(at, ErrorType::Invalid, type_name, detail));
                return;
            }
        }
        if !uses_old_self && site.unchanged {
            return;
        }
        let detail = self.message_expression(rule, &bindings).unwrap_or_else(|| {
            match rule.message.as_deref().map(str::trim) {
                Some(message) if !message.is_empty() => message.to_owned(),
                _ => format!("failed rule: {}", rule_text(rule)),
            }
        });
        let field = match rule.field_path.as_deref() {
            Some(field_path) if !field_path.is_empty() => relative_path(node, field_path)
                .map_or_else(|| at.to_owned(), |p| path::child(at, &p)),
            _ => at.to_owned(),
        };
        let shown = if matches!(site.value, Value::Object(_) | Value::Array(_)) {
            BadValue::Omitted
        } else {
            BadValue::Json(site.value.clone())
        };
        let error = match rule.reason.as_deref() {
            Some("FieldValueForbidden") => {
                FieldError::new(field, ErrorType::Forbidden, BadValue::Omitted, detail)
            }
            Some("FieldValueRequired") => {
                FieldError::new(field, ErrorType::Required, BadValue::Omitted, detail)
            }
            Some("FieldValueDuplicate") => FieldError::new(field, ErrorType::Duplicate, shown, ""),
            _ => FieldError::new(field, ErrorType::Invalid, shown, detail),
        };
        self.errors.push(error);
    }

    fn evaluate(&self, program: &Program, bindings: &Bindings) -> Result<Cel, String> {
        let mut context = self.base.new_inner_scope();
        context.add_variable_from_value("self", bindings.this.clone());
        match (&bindings.old, bindings.optional_old_self) {
            (Some(old), false) => context.add_variable_from_value("oldSelf", old.clone()),
            (old, true) => {
                let optional = match old {
                    Some(old) => OptionalValue::of(old.clone()),
                    None => OptionalValue::none(),
                };
                context.add_variable_from_value("oldSelf", Cel::Opaque(Arc::new(optional)));
            }
            (None, false) => {}
        }
        // The interpreter panics on a few unsupported constructs (message
        // literals); a request must get an error, not a dropped connection.
        match catch_unwind(AssertUnwindSafe(|| program.execute(&context))) {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err("the CEL interpreter cannot evaluate this expression".to_owned()),
        }
    }

    /// The evaluated `messageExpression`, when it yields a usable message.
    fn message_expression(&mut self, rule: &ValidationRule, bindings: &Bindings) -> Option<String> {
        let source = rule.message_expression.as_deref()?;
        let program = self.program(source).ok()?;
        match self.evaluate(&program, bindings) {
            Ok(Cel::String(text)) => {
                let text = text.trim();
                (!text.is_empty() && !text.contains('\n')).then(|| text.to_owned())
            }
            _ => None,
        }
    }
}

/// A schema node with rules, and its values.
struct Site<'a> {
    node: &'a JSONSchemaProps,
    value: &'a Value,
    /// `self`.
    this: Cel,
    /// `oldSelf`, when the old value correlates.
    old: Option<Cel>,
    at: &'a str,
    /// Whether the node (or its nearest correlatable ancestor) is unchanged.
    unchanged: bool,
}

/// The variables of one evaluation.
struct Bindings {
    this: Cel,
    old: Option<Cel>,
    optional_old_self: bool,
}

/// The rule as error messages quote it: its message if any, else its text.
fn rule_text(rule: &ValidationRule) -> String {
    match rule.message.as_deref().map(str::trim) {
        Some(message) if !message.is_empty() => message.to_owned(),
        _ => rule.rule.trim().to_owned(),
    }
}

/// A rule's `fieldPath` (`.name`, `.spec['a.b']`) as a field path relative
/// to the node: declared properties as children, map values as keys.
/// `None` when it does not name a field of the schema (the API server
/// refuses such a CRD).
fn relative_path(node: &JSONSchemaProps, field_path: &str) -> Option<String> {
    let mut current = node;
    let mut rendered = String::new();
    let mut rest = field_path;
    while !rest.is_empty() {
        let name;
        if let Some(after) = rest.strip_prefix("['") {
            let mut unescaped = String::new();
            let mut chars = after.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => unescaped.push(chars.next()?.1),
                    '\'' => {
                        end = Some(i);
                        break;
                    }
                    c => unescaped.push(c),
                }
            }
            let end = end?;
            rest = after[end + 1..].strip_prefix(']')?;
            name = unescaped;
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            name = after[..end].to_owned();
            rest = &after[end..];
        } else {
            return None;
        }
        if let Some(property) = current.properties.as_ref().and_then(|p| p.get(&name)) {
            rendered = path::child(&rendered, &name);
            current = property;
        } else if let Some(values) = schema::additional_properties(current) {
            rendered = path::key(&rendered, &name);
            current = values;
        } else {
            return None;
        }
    }
    Some(rendered)
}

/// CEL's reserved words, which property names escape as `__word__`.
const RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// A property name as CEL sees it, or `None` when it cannot be accessed.
pub fn escape(name: &str) -> Option<String> {
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    let mut chars = name.chars();
    let first = chars.next()?;
    let allowed = |c: char, first: bool| {
        c.is_ascii_alphabetic()
            || c == '_'
            || c == '.'
            || c == '-'
            || c == '/'
            || (!first && c.is_ascii_digit())
    };
    if !allowed(first, true) || !chars.all(|c| allowed(c, false)) {
        return None;
    }
    Some(
        name.replace("__", "__underscores__")
            .replace('.', "__dot__")
            .replace('-', "__dash__")
            .replace('/', "__slash__"),
    )
}

/// A JSON value as a CEL value of the type its schema gives it.
fn to_cel(value: &Value, node: Option<&JSONSchemaProps>, resource_root: bool) -> Cel {
    let declared = node.and_then(|n| n.type_.as_deref());
    match value {
        Value::Null => Cel::Null,
        Value::Bool(flag) => Cel::Bool(*flag),
        Value::Number(number) => match (declared, number.as_i64()) {
            (Some("number"), _) | (_, None) => Cel::Float(number.as_f64().unwrap_or(f64::NAN)),
            (_, Some(int)) => Cel::Int(int),
        },
        Value::String(text) => string_to_cel(text, node),
        Value::Array(items) => {
            let item_schema = node.and_then(schema::items);
            Cel::List(Arc::new(
                items
                    .iter()
                    .map(|i| to_cel(i, item_schema, false))
                    .collect(),
            ))
        }
        Value::Object(map) => {
            let mut fields: HashMap<Key, Cel> = HashMap::new();
            let properties = node.and_then(|n| n.properties.as_ref());
            let values = node.and_then(schema::additional_properties);
            for (name, field) in map {
                if resource_root && name == "metadata" {
                    fields.insert(Key::from(name.clone()), root_metadata(field));
                    continue;
                }
                match (properties.and_then(|p| p.get(name)), values) {
                    (Some(property), _) => {
                        if let Some(escaped) = escape(name) {
                            fields.insert(Key::from(escaped), to_cel(field, Some(property), false));
                        }
                    }
                    (None, Some(values)) => {
                        fields.insert(Key::from(name.clone()), to_cel(field, Some(values), false));
                    }
                    // Fields outside the schema: `apiVersion`/`kind` at the
                    // root, anything below preserve-unknown-fields.
                    (None, None) => {
                        fields.insert(Key::from(name.clone()), to_cel(field, None, false));
                    }
                }
            }
            Cel::Map(CelMap {
                map: Arc::new(fields),
            })
        }
    }
}

fn string_to_cel(text: &str, node: Option<&JSONSchemaProps>) -> Cel {
    let format = node.and_then(|n| n.format.as_deref());
    match format {
        Some("date-time") => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(timestamp) => Cel::Timestamp(timestamp),
            Err(_) => Cel::String(Arc::new(text.to_owned())),
        },
        Some("byte") => match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(bytes) => Cel::Bytes(Arc::new(bytes)),
            Err(_) => Cel::String(Arc::new(text.to_owned())),
        },
        _ => Cel::String(Arc::new(text.to_owned())),
    }
}

/// At the resource root CEL sees only `metadata.name` and
/// `metadata.generateName`.
fn root_metadata(metadata: &Value) -> Cel {
    let mut fields: HashMap<Key, Cel> = HashMap::new();
    for name in ["name", "generateName"] {
        if let Some(Value::String(text)) = metadata.get(name) {
            fields.insert(
                Key::from(name.to_owned()),
                Cel::String(Arc::new(text.clone())),
            );
        }
    }
    Cel::Map(CelMap {
        map: Arc::new(fields),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(value: Value) -> JSONSchemaProps {
        serde_json::from_value(value).expect("schema")
    }

    fn run(root: &Value, object: Value, old: Option<Value>) -> Vec<String> {
        check(&schema(root.clone()), &object, old.as_ref())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn rules_report_as_the_api_server_does() {
        let root = json!({
            "type": "object",
            "properties": {
                "methods": {
                    "type": "array", "items": {"type": "string"},
                    "x-kubernetes-validations": [{"rule": "'GET' in self && size(self) >= 2", "message": "needs GET"}],
                },
                "qualifier": {
                    "type": "string",
                    "x-kubernetes-validations": [{"rule": "!self.matches('^[0-9]+$')", "message": "not a number"}],
                },
                "function": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "region": {"type": "string"}},
                    "x-kubernetes-validations": [{
                        "rule": "!self.name.startsWith('arn:') || self.name.split(':')[3] == self.region",
                        "fieldPath": ".name", "message": "other region",
                    }],
                },
                "spec": {
                    "type": "object",
                    "properties": {"aliases": {"type": "array", "items": {"type": "string"}},
                                   "cert": {"type": "string"}},
                    "x-kubernetes-validations": [{
                        "rule": "!has(self.aliases) || has(self.cert)", "fieldPath": ".cert",
                        "reason": "FieldValueRequired", "message": "cert needed",
                    }],
                },
                "tags": {
                    "type": "object", "additionalProperties": {"type": "string"},
                    "x-kubernetes-validations": [{"rule": "self.all(k, !k.startsWith('x/') && size(self[k]) <= 3)"}],
                },
                "count": {
                    "type": "integer",
                    "x-kubernetes-validations": [{
                        "rule": "self < 10", "message": "static",
                        "messageExpression": "'count ' + string(self) + ' is too big'",
                    }],
                },
                "forbidden": {
                    "type": "string",
                    "x-kubernetes-validations": [{"rule": "self == 'ok'", "reason": "FieldValueForbidden", "message": "no"}],
                },
                "broken": {
                    "type": "object", "properties": {"a": {"type": "string"}},
                    "x-kubernetes-validations": [{"rule": "self.a == 'x'"}],
                },
            },
        });
        let cases = [
            (
                json!({"methods": ["GET", "HEAD"], "qualifier": "live"}),
                vec![],
            ),
            (
                json!({"methods": ["HEAD", "POST"]}),
                vec!["methods: Invalid value: needs GET"],
            ),
            (
                json!({"qualifier": "7"}),
                vec![r#"qualifier: Invalid value: "7": not a number"#],
            ),
            (
                json!({"function": {"name": "arn:aws:lambda:us-west-2:1:function:f", "region": "eu-west-1"}}),
                vec!["function.name: Invalid value: other region"],
            ),
            (
                json!({"function": {"name": "arn:aws:lambda:eu-west-1:1:function:f", "region": "eu-west-1"}}),
                vec![],
            ),
            (
                json!({"spec": {"aliases": []}}),
                vec!["spec.cert: Required value: cert needed"],
            ),
            (
                json!({"tags": {"x/a": "1"}}),
                vec![
                    "tags: Invalid value: failed rule: self.all(k, !k.startsWith('x/') && size(self[k]) <= 3)",
                ],
            ),
            (json!({"tags": {"a": "123"}}), vec![]),
            (
                json!({"count": 12}),
                vec!["count: Invalid value: 12: count 12 is too big"],
            ),
            (json!({"forbidden": "no"}), vec!["forbidden: Forbidden: no"]),
            (
                json!({"broken": {}}),
                vec![
                    r#"broken: Invalid value: "object": No such key: a evaluating rule: self.a == 'x'"#,
                ],
            ),
            (json!({"qualifier": null}), vec![]),
        ];
        for (object, expected) in cases {
            assert_eq!(run(&root, object.clone(), None), expected, "{object}");
        }
    }

    #[test]
    fn transition_rules_need_an_old_value() {
        let root = json!({
            "type": "object",
            "properties": {
                "ref": {
                    "type": "object", "properties": {"name": {"type": "string"}},
                    "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "immutable"}],
                },
                "grow": {
                    "type": "integer",
                    "x-kubernetes-validations": [{
                        "rule": "oldSelf.hasValue() ? self >= oldSelf.value() : self < 5",
                        "optionalOldSelf": true, "message": "only grows",
                    }],
                },
            },
        });
        let old = json!({"ref": {"name": "a"}, "grow": 3});
        assert_eq!(
            run(&root, json!({"ref": {"name": "b"}}), None),
            Vec::<String>::new()
        );
        assert_eq!(
            run(&root, old.clone(), Some(old.clone())),
            Vec::<String>::new()
        );
        assert_eq!(
            run(
                &root,
                json!({"ref": {"name": "b"}, "grow": 3}),
                Some(old.clone())
            ),
            ["ref: Invalid value: immutable"]
        );
        // A field the old object lacked has no old value: the rule is skipped.
        assert_eq!(
            run(&root, json!({"ref": {"name": "b"}}), Some(json!({}))),
            Vec::<String>::new()
        );
        assert_eq!(
            run(&root, json!({"grow": 7}), None),
            ["grow: Invalid value: 7: only grows"]
        );
        assert_eq!(
            run(&root, json!({"grow": 2}), Some(old)),
            ["grow: Invalid value: 2: only grows"]
        );
    }

    #[test]
    fn unchanged_values_ratchet_plain_rules_only() {
        let root = json!({
            "type": "object",
            "properties": {
                "size": {"type": "integer", "x-kubernetes-validations": [{"rule": "self < 5"}]},
                "other": {"type": "string"},
            },
        });
        let old = json!({"size": 9, "other": "a"});
        assert_eq!(
            run(&root, json!({"size": 9, "other": "b"}), Some(old.clone())),
            Vec::<String>::new()
        );
        assert_eq!(
            run(&root, json!({"size": 8, "other": "a"}), Some(old)),
            ["size: Invalid value: 8: failed rule: self < 5"]
        );
    }

    /// Only a rule that evaluates to false ratchets: one that cannot be
    /// evaluated (here on a value of the wrong type, whose schema error
    /// ratcheted) is an error on every write, as in the API server.
    #[test]
    fn evaluation_errors_do_not_ratchet() {
        let root = json!({
            "type": "object",
            "properties": {
                "methods": {
                    "type": "array", "items": {"type": "string"},
                    "x-kubernetes-validations": [{"rule": "'GET' in self", "message": "needs GET"}],
                },
                "other": {"type": "string"},
            },
        });
        let old = json!({"methods": "GET", "other": "a"});
        let errors = run(&root, json!({"methods": "GET", "other": "b"}), Some(old));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(r#"methods: Invalid value: "array": "#)
                && errors[0].ends_with("needs GET"),
            "{errors:?}"
        );
    }

    #[test]
    fn values_are_typed_and_escaped_by_the_schema() {
        let root = json!({
            "type": "object",
            "properties": {
                "x-y": {"type": "string"},
                "if": {"type": "string"},
                "ratio": {"type": "number"},
                "when": {"type": "string", "format": "date-time"},
            },
            "x-kubernetes-validations": [
                {"rule": "self.x__dash__y == 'a' && self.__if__ == 'b'", "message": "escaped"},
                {"rule": "self.ratio == 2.0", "message": "double"},
                {"rule": "self.when < timestamp('2030-01-01T00:00:00Z')", "message": "timestamp"},
                {"rule": "self.metadata.name == 'n' && !has(self.metadata.labels)", "message": "metadata"},
            ],
        });
        let object = json!({
            "metadata": {"name": "n", "labels": {"a": "b"}},
            "x-y": "a", "if": "b", "ratio": 2, "when": "2026-01-01T00:00:00Z",
        });
        assert_eq!(run(&root, object, None), Vec::<String>::new());
        assert_eq!(escape("a__b"), Some("a__underscores__b".to_owned()));
        assert_eq!(escape("a.b/c"), Some("a__dot__b__slash__c".to_owned()));
        assert_eq!(escape("9lives"), None);
    }
}
