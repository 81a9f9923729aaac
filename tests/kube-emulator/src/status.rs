//! API errors as the API server sends them: a `Status` object (`kind:
//! Status`, `status: Failure`, `reason`, `code`, `message`, `details`) with
//! the matching HTTP status code and the API server's message wording.

use serde_json::{Value, json};

use crate::resources::Resource;

/// One failed request.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `Status.reason` (`NotFound`, `AlreadyExists`, `Conflict`, ...).
    pub reason: &'static str,
    /// `Status.message`.
    pub message: String,
    /// `Status.details`, if any.
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: String) -> ApiError {
        ApiError {
            code,
            reason,
            message,
            details: None,
        }
    }

    fn with_details(mut self, res: &Resource, name: &str) -> ApiError {
        self.details = Some(json!({"name": name, "group": res.group, "kind": res.plural}));
        self
    }

    /// 404 `<resource>.<group> "<name>" not found`.
    pub fn not_found(res: &Resource, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", res.qualified()),
        )
        .with_details(res, name)
    }

    /// 404 for a namespace that does not exist.
    pub fn namespace_not_found(namespace: &str) -> ApiError {
        let mut e = ApiError::new(
            404,
            "NotFound",
            format!("namespaces \"{namespace}\" not found"),
        );
        e.details = Some(json!({"name": namespace, "kind": "namespaces"}));
        e
    }

    /// 403 for new content in a namespace being deleted.
    pub fn namespace_terminating(namespace: &str) -> ApiError {
        let mut e = ApiError::new(
            403,
            "Forbidden",
            format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        );
        e.details = Some(json!({"name": namespace, "kind": "namespaces"}));
        e
    }

    /// 404 for a path that names no resource.
    pub fn no_route(path: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// 409 `<resource> "<name>" already exists`.
    pub fn already_exists(res: &Resource, name: &str) -> ApiError {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", res.qualified()),
        )
        .with_details(res, name)
    }

    /// 409 on a stale resourceVersion or failed precondition.
    pub fn conflict(res: &Resource, name: &str, why: &str) -> ApiError {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                res.qualified()
            ),
        )
        .with_details(res, name)
    }

    /// 409 for a resourceVersion that is not the stored one.
    pub fn stale(res: &Resource, name: &str) -> ApiError {
        ApiError::conflict(
            res,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 `<Kind>.<group> "<name>" is invalid: field: detail`.
    pub fn invalid(res: &Resource, name: &str, causes: &[(String, String)]) -> ApiError {
        let qualified_kind = if res.group.is_empty() {
            res.kind.clone()
        } else {
            format!("{}.{}", res.kind, res.group)
        };
        let parts: Vec<String> = causes
            .iter()
            .map(|(field, detail)| {
                if field.is_empty() {
                    detail.clone()
                } else {
                    format!("{field}: {detail}")
                }
            })
            .collect();
        let joined = if parts.len() == 1 {
            parts.join("")
        } else {
            format!("[{}]", parts.join(", "))
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|(field, detail)| {
                json!({"reason": cause_reason(detail), "message": detail, "field": field})
            })
            .collect();
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("{qualified_kind} \"{name}\" is invalid: {joined}"),
            details: Some(
                json!({"name": name, "group": res.group, "kind": res.kind, "causes": causes}),
            ),
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message.into())
    }

    /// 410 Gone (`Expired`) for a compacted resourceVersion.
    pub fn gone(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message.into())
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(405, "MethodNotAllowed", message.into())
    }

    /// 415 for a body encoding the emulator does not read.
    pub fn unsupported_media_type(content_type: &str) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got {content_type})"
            ),
        )
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

/// The `StatusCause.reason` for a validation detail in the API server's words.
fn cause_reason(detail: &str) -> &'static str {
    if detail.starts_with("Unsupported value") {
        "FieldValueNotSupported"
    } else if detail.starts_with("Required value") {
        "FieldValueRequired"
    } else if detail.starts_with("Duplicate value") {
        "FieldValueDuplicate"
    } else if detail.starts_with("Too long") || detail.starts_with("Too many") {
        "FieldValueTooLong"
    } else if detail.contains("field not declared in schema") {
        "FieldValueNotFound"
    } else {
        "FieldValueInvalid"
    }
}
