//! `spec.viewerTls`: the security policy CloudFront uses with viewers (the
//! oldest TLS version and the ciphers it accepts) when the distribution
//! serves its aliases with `certificateArn`.
//!
//! Only with a certificate: on the default `*.cloudfront.net` certificate
//! CloudFront always uses its own `TLSv1` policy, whatever the request
//! says (API reference, `ViewerCertificate.MinimumProtocolVersion`), so the
//! schema refuses `viewerTls` without `certificateArn` instead of
//! accepting a setting that does nothing. urlguard serves aliases with SNI
//! only, and CloudFront requires `TLSv1` or newer there: `SSLv3` is not
//! offered. Without `viewerTls` the policy is `TLSv1.2_2021`, as before
//! this field existed.

use serde::{Deserialize, Serialize};

/// The viewer-facing TLS settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViewerTls {
    /// CloudFront's security policy: `TLSv1.2_2021` (default), or
    /// `TLSv1.3_2025`, `TLSv1.2_2025`, `TLSv1.2_2019`, `TLSv1.2_2018`,
    /// `TLSv1.1_2016`, `TLSv1_2016`, `TLSv1` for old clients.
    #[serde(default)]
    pub minimum_protocol_version: MinimumProtocolVersion,
}

/// A CloudFront viewer security policy (the name CloudFront gives it).
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum MinimumProtocolVersion {
    /// TLS 1.0 and newer, many ciphers.
    #[serde(rename = "TLSv1")]
    TlsV1,
    /// TLS 1.0 and newer, fewer ciphers.
    #[serde(rename = "TLSv1_2016")]
    TlsV1_2016,
    /// TLS 1.1 and newer.
    #[serde(rename = "TLSv1.1_2016")]
    TlsV1_1_2016,
    /// TLS 1.2 and newer, 2018 ciphers.
    #[serde(rename = "TLSv1.2_2018")]
    TlsV1_2_2018,
    /// TLS 1.2 and newer, 2019 ciphers.
    #[serde(rename = "TLSv1.2_2019")]
    TlsV1_2_2019,
    /// TLS 1.2 and newer, 2021 ciphers: what urlguard always used.
    #[default]
    #[serde(rename = "TLSv1.2_2021")]
    TlsV1_2_2021,
    /// TLS 1.2 and newer, 2025 ciphers.
    #[serde(rename = "TLSv1.2_2025")]
    TlsV1_2_2025,
    /// TLS 1.3 only.
    #[serde(rename = "TLSv1.3_2025")]
    TlsV1_3_2025,
}

#[cfg(test)]
mod tests {
    use crate::api::fixtures::edge_distribution_errors;
    use serde_json::{Value, json};

    fn errors(extra: Value) -> Vec<String> {
        let mut spec = json!({"defaultOrigin": {"s3": {"bucketName": "shop-spa"}}});
        if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
            spec.extend(extra);
        }
        edge_distribution_errors(spec)
    }

    const CERTIFICATE: &str =
        "arn:aws:acm:us-east-1:123456789012:certificate/0d0c0f2a-1111-2222-3333-444455556666";

    #[test]
    fn a_security_policy_needs_a_certificate() {
        assert!(
            errors(json!({"certificateArn": CERTIFICATE,
                "viewerTls": {"minimumProtocolVersion": "TLSv1.3_2025"}}))
            .is_empty()
        );
        assert_eq!(
            errors(json!({"viewerTls": {"minimumProtocolVersion": "TLSv1.2_2021"}})),
            ["spec.viewerTls"]
        );
    }

    #[test]
    fn only_policies_cloudfront_takes_with_sni_are_offered() {
        for version in ["SSLv3", "TLSv1.2", "tlsv1.2_2021"] {
            assert_eq!(
                errors(json!({"certificateArn": CERTIFICATE,
                    "viewerTls": {"minimumProtocolVersion": version}})),
                ["spec.viewerTls.minimumProtocolVersion"],
                "{version}"
            );
        }
    }
}
