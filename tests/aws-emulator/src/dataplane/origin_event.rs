//! The request CloudFront sends to an origin, and the Lambda@Edge
//! origin-request event made of it, as the CloudFront developer guide
//! documents them ("Lambda@Edge event structure",
//! https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html):
//! `Records[0].cf.config` (`distributionDomainName`, `distributionId`,
//! `eventType`, `requestId`) and `Records[0].cf.request` (`clientIp`,
//! `headers` as lower-case names → `[{key, value}]`, `method`,
//! `querystring` without `?`, `uri`, `origin.custom` or `origin.s3`, and
//! with the association's `IncludeBody` a `body` of `action: "read-only"`,
//! `encoding: "base64"`, `data`, `inputTruncated`). A body is truncated at
//! 1 MB for origin-request events ("Restrictions on Lambda@Edge",
//! https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html#lambda-at-edge-restrictions-request-body).
//!
//! What the function returns is read back the same way: a request (its
//! method, uri, querystring, headers, origin and, when `body.action` is
//! `replace`, body) to send on, or a response (`status`, `headers`,
//! `body` with `bodyEncoding`) to answer the viewer with instead
//! ("Generating HTTP responses in request triggers",
//! https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Map, Value, json};

use super::behaviors::Origin;
use crate::reply::Reply;

/// The most of a body an origin-request event carries.
pub(crate) const ORIGIN_REQUEST_BODY_LIMIT: usize = 1024 * 1024;

/// A request on its way to an origin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OriginRequest {
    pub method: Method,
    pub uri: String,
    /// Without the `?`.
    pub querystring: String,
    /// `(key as sent, value)` in order; names compare case-insensitively.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub origin: Origin,
}

impl OriginRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn remove_header(&mut self, name: &str) {
        self.headers
            .retain(|(key, _)| !key.eq_ignore_ascii_case(name));
    }

    pub(crate) fn set_header(&mut self, key: &str, value: &str) {
        self.remove_header(key);
        self.headers.push((key.to_owned(), value.to_owned()));
    }

    /// The path on the origin: its origin path, then the URI.
    pub(crate) fn origin_path_and_query(&self) -> String {
        let mut out = format!("{}{}", self.origin.origin_path, self.uri);
        if !self.querystring.is_empty() {
            out.push('?');
            out.push_str(&self.querystring);
        }
        out
    }

    /// `headers` as the event carries them.
    fn event_headers(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in &self.headers {
            let entry = out
                .entry(key.to_ascii_lowercase())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = entry {
                list.push(json!({"key": key, "value": value}));
            }
        }
        out
    }
}

/// Who the event is about.
pub(crate) struct EventContext<'a> {
    pub distribution_domain: &'a str,
    pub distribution_id: &'a str,
    pub request_id: &'a str,
    pub client_ip: &'a str,
}

/// The origin-request event for `request`.
pub(crate) fn event(context: &EventContext, request: &OriginRequest, include_body: bool) -> Value {
    let origin = &request.origin;
    let origin_value = if origin.custom {
        json!({"custom": {
            "customHeaders": {},
            "domainName": origin.domain_name,
            "keepaliveTimeout": origin.keepalive_timeout,
            "path": origin.origin_path,
            "port": 443,
            "protocol": "https",
            "readTimeout": origin.read_timeout,
            "sslProtocols": ["TLSv1.2"],
        }})
    } else {
        json!({"s3": {
            "authMethod": "none",
            "customHeaders": {},
            "domainName": origin.domain_name,
            "path": origin.origin_path,
        }})
    };
    let mut cf_request = json!({
        "clientIp": context.client_ip,
        "headers": request.event_headers(),
        "method": request.method.as_str(),
        "origin": origin_value,
        "querystring": request.querystring,
        "uri": request.uri,
    });
    if include_body {
        let truncated = request.body.len() > ORIGIN_REQUEST_BODY_LIMIT;
        let kept = &request.body[..request.body.len().min(ORIGIN_REQUEST_BODY_LIMIT)];
        cf_request["body"] = json!({
            "action": "read-only",
            "data": STANDARD.encode(kept),
            "encoding": "base64",
            "inputTruncated": truncated,
        });
    }
    json!({"Records": [{"cf": {
        "config": {
            "distributionDomainName": context.distribution_domain,
            "distributionId": context.distribution_id,
            "eventType": "origin-request",
            "requestId": context.request_id,
        },
        "request": cf_request,
    }}]})
}

/// What a function made of the request.
#[derive(Debug)]
pub(crate) enum Outcome {
    Forward(OriginRequest),
    Respond(Reply),
}

/// Why a function's result is not a request or a response
/// (CloudFront's `LambdaValidationError`).
#[derive(Debug, thiserror::Error)]
#[error("the Lambda@Edge function returned an invalid result: {0}")]
pub(crate) struct InvalidResult(String);

fn invalid(message: impl Into<String>) -> InvalidResult {
    InvalidResult(message.into())
}

fn headers_of(value: &Value) -> Result<Vec<(String, String)>, InvalidResult> {
    let Some(map) = value.as_object() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, entries) in map {
        for entry in entries
            .as_array()
            .ok_or_else(|| invalid(format!("headers.{name} is not a list")))?
        {
            let value = entry["value"]
                .as_str()
                .ok_or_else(|| invalid(format!("headers.{name} has an entry without a value")))?;
            let key = entry["key"].as_str().unwrap_or(name);
            if !key.eq_ignore_ascii_case(name) {
                return Err(invalid(format!(
                    "header key {key} does not match its name {name}"
                )));
            }
            out.push((key.to_owned(), value.to_owned()));
        }
    }
    Ok(out)
}

fn body_of(data: &str, encoding: Option<&str>) -> Result<Bytes, InvalidResult> {
    match encoding {
        Some("base64") => STANDARD
            .decode(data)
            .map(Bytes::from)
            .map_err(|e| invalid(format!("the body is not base64: {e}"))),
        _ => Ok(Bytes::from(data.to_owned())),
    }
}

/// Reads a function's result against the request it was given.
pub(crate) fn outcome(result: &Value, given: &OriginRequest) -> Result<Outcome, InvalidResult> {
    if result.get("status").is_some() {
        let status = match &result["status"] {
            Value::String(s) => s.parse::<u16>().ok(),
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            _ => None,
        }
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| invalid("status is not an HTTP status"))?;
        let body = match result["body"].as_str() {
            Some(data) => body_of(data, result["bodyEncoding"].as_str())?,
            None => Bytes::new(),
        };
        let mut reply = Reply {
            status,
            headers: http::HeaderMap::new(),
            body,
        };
        for (key, value) in headers_of(&result["headers"])? {
            let name = HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| invalid(format!("bad header name {key}")))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| invalid(format!("bad value for {key}")))?;
            reply.headers.append(name, value);
        }
        return Ok(Outcome::Respond(reply));
    }
    if !result.is_object() {
        return Err(invalid("neither a request nor a response"));
    }
    let text = |field: &str, given: &str| -> Result<String, InvalidResult> {
        match &result[field] {
            Value::Null => Ok(given.to_owned()),
            Value::String(s) => Ok(s.clone()),
            _ => Err(invalid(format!("{field} is not a string"))),
        }
    };
    let method = text("method", given.method.as_str())?
        .parse::<Method>()
        .map_err(|_| invalid("method is not an HTTP method"))?;
    let mut origin = given.origin.clone();
    if let Some(custom) = result.pointer("/origin/custom") {
        origin.domain_name = custom["domainName"]
            .as_str()
            .unwrap_or(&origin.domain_name)
            .to_owned();
        origin.origin_path = custom["path"]
            .as_str()
            .unwrap_or(&origin.origin_path)
            .to_owned();
    }
    let body = match result.pointer("/body/action").and_then(Value::as_str) {
        Some("replace") => body_of(
            result
                .pointer("/body/data")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            result.pointer("/body/encoding").and_then(Value::as_str),
        )?,
        _ => given.body.clone(),
    };
    Ok(Outcome::Forward(OriginRequest {
        method,
        uri: text("uri", &given.uri)?,
        querystring: text("querystring", &given.querystring)?,
        headers: if result.get("headers").is_some() {
            headers_of(&result["headers"])?
        } else {
            given.headers.clone()
        },
        body,
        origin,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &[u8]) -> OriginRequest {
        OriginRequest {
            method: Method::POST,
            uri: "/createBook".into(),
            querystring: "a=1&a=2".into(),
            headers: vec![
                ("Host".into(), "abc.lambda-url.eu-west-1.on.aws".into()),
                ("X-Test".into(), "one".into()),
                ("x-test".into(), "two".into()),
            ],
            body: Bytes::copy_from_slice(body),
            origin: Origin {
                id: "url".into(),
                domain_name: "abc.lambda-url.eu-west-1.on.aws".into(),
                origin_path: String::new(),
                custom: true,
                oac_id: None,
                read_timeout: 30,
                keepalive_timeout: 5,
            },
        }
    }

    fn context() -> EventContext<'static> {
        EventContext {
            distribution_domain: "d1.cloudfront.net",
            distribution_id: "E1",
            request_id: "req",
            client_ip: "203.0.113.1",
        }
    }

    #[test]
    fn the_event_has_the_documented_shape() {
        let event = event(&context(), &request(b"hello"), true);
        let cf = &event["Records"][0]["cf"];
        assert_eq!(cf["config"]["eventType"], "origin-request");
        assert_eq!(cf["config"]["distributionId"], "E1");
        assert_eq!(cf["request"]["clientIp"], "203.0.113.1");
        assert_eq!(cf["request"]["querystring"], "a=1&a=2");
        assert_eq!(
            cf["request"]["headers"]["x-test"],
            json!([{"key": "X-Test", "value": "one"}, {"key": "x-test", "value": "two"}])
        );
        assert_eq!(
            cf["request"]["origin"]["custom"]["domainName"],
            "abc.lambda-url.eu-west-1.on.aws"
        );
        assert_eq!(
            cf["request"]["body"],
            json!({"action": "read-only", "data": "aGVsbG8=", "encoding": "base64", "inputTruncated": false})
        );
        let without = super::event(&context(), &request(b"hello"), false);
        assert!(without["Records"][0]["cf"]["request"].get("body").is_none());
    }

    #[test]
    fn a_body_past_one_megabyte_is_truncated_and_says_so() {
        let big = vec![b'x'; ORIGIN_REQUEST_BODY_LIMIT + 1];
        let event = event(&context(), &request(&big), true);
        let body = &event["Records"][0]["cf"]["request"]["body"];
        assert_eq!(body["inputTruncated"], true);
        let kept = STANDARD
            .decode(body["data"].as_str().expect("data"))
            .expect("base64");
        assert_eq!(kept.len(), ORIGIN_REQUEST_BODY_LIMIT);
        let exact = vec![b'x'; ORIGIN_REQUEST_BODY_LIMIT];
        assert_eq!(
            super::event(&context(), &request(&exact), true)["Records"][0]["cf"]["request"]["body"]
                ["inputTruncated"],
            false
        );
    }

    #[test]
    fn results_are_read_as_requests_or_responses() {
        let given = request(b"hello");
        let Ok(Outcome::Forward(same)) = outcome(
            &json!({"method": "POST", "uri": "/createBook", "querystring": "a=1&a=2",
            "headers": {"x-new": [{"key": "X-New", "value": "v"}]}, "body": {"action": "read-only"}}),
            &given,
        ) else {
            panic!("a request")
        };
        assert_eq!(same.headers, vec![("X-New".to_owned(), "v".to_owned())]);
        assert_eq!(same.body, given.body, "read-only keeps the viewer's body");
        let Ok(Outcome::Forward(replaced)) = outcome(
            &json!({"body": {"action": "replace", "data": "Ynll", "encoding": "base64"}}),
            &given,
        ) else {
            panic!("a request")
        };
        assert_eq!(replaced.body, Bytes::from_static(b"bye"));
        let Ok(Outcome::Respond(reply)) = outcome(
            &json!({"status": "413", "headers": {"content-type": [{"key": "Content-Type", "value": "text/plain"}]}, "body": "too big"}),
            &given,
        ) else {
            panic!("a response")
        };
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.body, Bytes::from_static(b"too big"));
        assert!(outcome(&json!({"status": "abc"}), &given).is_err());
        assert!(outcome(&json!("nothing"), &given).is_err());
        assert!(
            outcome(
                &json!({"headers": {"a": [{"key": "B", "value": "x"}]}}),
                &given
            )
            .is_err()
        );
    }
}
