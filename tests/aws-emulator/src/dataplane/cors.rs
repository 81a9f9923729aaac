//! CORS preflights of a function URL, answered by Lambda itself from the
//! URL config's `Cors` without invoking the function (Lambda developer
//! guide, "Cross-origin resource sharing (CORS)",
//! https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors):
//! an `OPTIONS` request with `Origin` and `Access-Control-Request-Method`
//! gets `Access-Control-Allow-*` headers when its origin and method are
//! allowed, and none otherwise (the browser then refuses the real request).

use http::{Method, StatusCode};
use serde_json::Value;

use super::Inbound;
use crate::reply::Reply;

/// Whether `request` is a CORS preflight.
pub(crate) fn is_preflight(request: &Inbound) -> bool {
    request.method == Method::OPTIONS
        && request.headers.contains_key("origin")
        && request
            .headers
            .contains_key("access-control-request-method")
}

fn strings(cors: &Value, field: &str) -> Vec<String> {
    cors.get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The answer to a preflight under the URL config's `cors`.
pub(crate) fn preflight(request: &Inbound, cors: &Value) -> Reply {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let origin = header("origin");
    let method = header("access-control-request-method");
    let origins = strings(cors, "AllowOrigins");
    let methods = strings(cors, "AllowMethods");
    let origin_ok = origins.iter().any(|o| o == "*" || o == origin);
    let method_ok = methods
        .iter()
        .any(|m| m == "*" || m.eq_ignore_ascii_case(method));
    let mut reply = Reply::empty(StatusCode::OK);
    if !(origin_ok && method_ok) {
        return reply;
    }
    let allowed_origin = if origins.iter().any(|o| o == origin) {
        origin
    } else {
        "*"
    };
    reply = reply
        .with_header("access-control-allow-origin", allowed_origin)
        .with_header("access-control-allow-methods", &methods.join(","));
    let headers = strings(cors, "AllowHeaders");
    if !headers.is_empty() {
        reply = reply.with_header("access-control-allow-headers", &headers.join(","));
    }
    if let Some(age) = cors.get("MaxAge").and_then(Value::as_u64) {
        reply = reply.with_header("access-control-max-age", &age.to_string());
    }
    if cors.get("AllowCredentials").and_then(Value::as_bool) == Some(true) {
        reply = reply.with_header("access-control-allow-credentials", "true");
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(origin: &str, method: &str) -> Inbound {
        let mut headers = http::HeaderMap::new();
        headers.insert("origin", origin.parse().expect("origin"));
        headers.insert(
            "access-control-request-method",
            method.parse().expect("method"),
        );
        Inbound {
            method: Method::OPTIONS,
            path_and_query: "/".into(),
            headers,
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn allowed_origins_and_methods_get_the_headers_others_none() {
        let cors = json!({"AllowOrigins": ["https://books.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["content-type"], "MaxAge": 600});
        let request = options("https://books.example", "POST");
        assert!(is_preflight(&request));
        let ok = preflight(&request, &cors);
        assert_eq!(
            ok.headers["access-control-allow-origin"],
            "https://books.example"
        );
        assert_eq!(ok.headers["access-control-allow-methods"], "GET,POST");
        assert_eq!(ok.headers["access-control-max-age"], "600");
        let other_origin = preflight(&options("https://evil.example", "POST"), &cors);
        assert!(
            !other_origin
                .headers
                .contains_key("access-control-allow-origin")
        );
        let other_method = preflight(&options("https://books.example", "DELETE"), &cors);
        assert!(
            !other_method
                .headers
                .contains_key("access-control-allow-origin")
        );
    }
}
