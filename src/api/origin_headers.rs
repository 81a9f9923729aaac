//! `customHeaders` of the default origin (S3 or custom): name/value pairs
//! CloudFront adds to every request it sends there, such as a secret the
//! origin checks to refuse requests that bypass the distribution.
//!
//! The limits are CloudFront's (Developer Guide, "Quotas", custom headers):
//! 10 headers per origin, names of at most 256 and values of at most 1,783
//! characters, 10,240 for all names and values together. Names CloudFront
//! refuses to add are refused here (Developer Guide, "Add custom headers to
//! origin requests" → "Custom headers that CloudFront can't add to origin
//! requests"): `Cache-Control`, `Connection`, `Content-Length`, `Cookie`,
//! `Host`, `If-Match`, `If-Modified-Since`, `If-None-Match`, `If-Range`,
//! `If-Unmodified-Since`, `Max-Forwards`, `Pragma`, `Proxy-Authorization`,
//! `Proxy-Connection`, `Range`, `Request-Range`, `TE`, `Trailer`,
//! `Transfer-Encoding`, `Upgrade`, `Via`, `X-Real-Ip`, and names beginning
//! with `X-Amz-` or `X-Edge-`, in any case (HTTP header names are
//! case-insensitive, so two names differing only in case are one header).

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// CloudFront's quota of custom headers per origin.
pub(crate) const MAX_ORIGIN_CUSTOM_HEADERS: u32 = 10;

/// The CEL rule on a header name: not one CloudFront refuses to add.
pub(crate) const ADDABLE_HEADER_RULE: &str = "!(self.lowerAscii() in ['cache-control', 'connection', 'content-length', 'cookie', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'max-forwards', 'pragma', 'proxy-authorization', 'proxy-connection', 'range', 'request-range', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via', 'x-real-ip']) && !self.lowerAscii().startsWith('x-amz-') && !self.lowerAscii().startsWith('x-edge-')";

/// The CEL rule on a header list: no name twice, in any case.
pub(crate) const DISTINCT_HEADERS_RULE: &str =
    "self.all(h, self.filter(o, o.name.lowerAscii() == h.name.lowerAscii()).size() == 1)";

/// The CEL rule on a header list: CloudFront's quota of 10,240 characters
/// for all names and values together.
pub(crate) const HEADERS_SIZE_RULE: &str =
    "self.map(h, size(h.name) + size(h.value)).sum() <= 10240";

/// One header CloudFront adds to the requests it sends to the origin.
#[derive(KubeSchema, Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OriginCustomHeader {
    /// The header name, such as `X-Origin-Verify`. CloudFront refuses to
    /// add `Cache-Control`, `Connection`, `Content-Length`, `Cookie`,
    /// `Host`, `If-Match`, `If-Modified-Since`, `If-None-Match`,
    /// `If-Range`, `If-Unmodified-Since`, `Max-Forwards`, `Pragma`,
    /// `Proxy-Authorization`, `Proxy-Connection`, `Range`, `Request-Range`,
    /// `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`, `Via`, `X-Real-Ip`
    /// and names beginning with `X-Amz-` or `X-Edge-`.
    #[schemars(
        length(min = 1, max = 256),
        regex(pattern = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]*$")
    )]
    #[x_kube(validation = Rule::new(ADDABLE_HEADER_RULE)
        .message("CloudFront cannot add this header to origin requests: Cache-Control, Connection, Content-Length, Cookie, Host, If-Match, If-Modified-Since, If-None-Match, If-Range, If-Unmodified-Since, Max-Forwards, Pragma, Proxy-Authorization, Proxy-Connection, Range, Request-Range, TE, Trailer, Transfer-Encoding, Upgrade, Via, X-Real-Ip and names beginning with X-Amz- or X-Edge- are refused (CloudFront Developer Guide, \"Custom headers that CloudFront can't add to origin requests\")"))]
    pub name: String,
    /// The value, printable ASCII, at most 1,783 characters. It is stored in
    /// this resource and in the distribution's configuration as written;
    /// urlguard never prints it (`plan` shows `<hidden>`).
    #[schemars(length(min = 1, max = 1783), regex(pattern = r"^[\t\x20-\x7e]*$"))]
    pub value: String,
}

/// Without the value: it is often a secret the origin checks.
impl std::fmt::Debug for OriginCustomHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OriginCustomHeader")
            .field("name", &self.name)
            .field("value", &"<hidden>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fixtures::edge_distribution_errors;
    use serde_json::{Value, json};

    fn errors(origin: &str, headers: Value) -> Vec<String> {
        let origin = match origin {
            "s3" => json!({"s3": {"bucketName": "shop-spa", "customHeaders": headers}}),
            _ => json!({"custom": {"domainName": "app.example.com", "customHeaders": headers}}),
        };
        edge_distribution_errors(json!({"defaultOrigin": origin}))
    }

    #[test]
    fn headers_go_on_either_origin() {
        for origin in ["s3", "custom"] {
            assert_eq!(
                errors(
                    origin,
                    json!([{"name": "X-Origin-Verify", "value": "s3cr3t"}])
                ),
                Vec::<String>::new(),
                "{origin}"
            );
        }
    }

    #[test]
    fn names_cloudfront_refuses_are_named_in_any_case() {
        for name in [
            "Host",
            "cache-control",
            "X-Real-IP",
            "TE",
            "x-amz-date",
            "X-Edge-Location",
            "Transfer-Encoding",
        ] {
            assert_eq!(
                errors("custom", json!([{"name": name, "value": "v"}])),
                ["spec.defaultOrigin.custom.customHeaders[0].name"],
                "{name}"
            );
        }
        // Prefixes only where CloudFront has one.
        assert!(errors("s3", json!([{"name": "X-Amzn-Trace", "value": "v"}])).is_empty());
        assert!(errors("s3", json!([{"name": "Hostname", "value": "v"}])).is_empty());
    }

    #[test]
    fn quotas_and_shapes_are_cloudfronts() {
        let eleven: Vec<Value> = (0..11)
            .map(|i| json!({"name": format!("X-H{i}"), "value": "v"}))
            .collect();
        assert_eq!(
            errors("s3", json!(eleven)),
            ["spec.defaultOrigin.s3.customHeaders"]
        );
        assert_eq!(
            errors(
                "s3",
                json!([{"name": "X-A", "value": "v"}, {"name": "x-a", "value": "w"}])
            ),
            ["spec.defaultOrigin.s3.customHeaders"]
        );
        let big: Vec<Value> = (0..6)
            .map(|i| json!({"name": format!("X-H{i}"), "value": "v".repeat(1783)}))
            .collect();
        assert_eq!(
            errors("s3", json!(big)),
            ["spec.defaultOrigin.s3.customHeaders"]
        );
        for (header, field) in [
            (json!({"name": "X Space", "value": "v"}), "name"),
            (json!({"name": "X-A", "value": "line\nbreak"}), "value"),
            (json!({"name": "X-A", "value": "v".repeat(1784)}), "value"),
            (json!({"name": "X-A", "value": ""}), "value"),
        ] {
            assert_eq!(
                errors("custom", json!([header])),
                [format!(
                    "spec.defaultOrigin.custom.customHeaders[0].{field}"
                )],
                "{header}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_value() {
        let header = OriginCustomHeader {
            name: "X-Origin-Verify".into(),
            value: "s3cr3t".into(),
        };
        let printed = format!("{header:?}");
        assert!(printed.contains("X-Origin-Verify"), "{printed}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
    }
}
