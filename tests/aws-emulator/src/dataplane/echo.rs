//! The stand-in for a function behind a URL: it answers with what it
//! received, as JSON, so a test can see that nothing was lost or altered on
//! the way (method, path, raw query string, the body's SHA-256 and length,
//! the headers that matter) and who was let in.

use serde_json::{Map, Value, json};

use super::Inbound;
use super::sigv4_verify::sha256_hex;

/// Headers the echo reports (the signer's, CloudFront's, the viewer's).
pub(crate) const ECHOED_HEADERS: [&str; 11] = [
    "host",
    "content-type",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "x-forwarded-authorization",
    "x-forwarded-for",
    "via",
    "x-amz-cf-id",
    "user-agent",
    "origin",
    "x-test",
];

/// The echo of `request`, let in as `caller` (a principal's ARN or name,
/// `anonymous` under `AuthType NONE`).
pub(crate) fn echo(request: &Inbound, caller: &str) -> Value {
    let mut headers = Map::new();
    for name in ECHOED_HEADERS {
        if let Some(value) = request.headers.get(name).and_then(|v| v.to_str().ok()) {
            headers.insert(name.to_owned(), Value::from(value));
        }
    }
    json!({
        "method": request.method.as_str(),
        "path": request.path(),
        "query": request.query(),
        "bodySha256": sha256_hex(&request.body),
        "bodyLength": request.body.len(),
        "headers": headers,
        "caller": caller,
    })
}
