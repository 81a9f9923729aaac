//! Checking a SigV4 signature the way an AWS service does, recomputed with
//! AWS's own `aws-sigv4` crate (independent of the signer under test,
//! `src/edge/signer.mjs`) from the request as it arrived:
//!
//! - `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
//!   SignedHeaders=..., Signature=...` and an `X-Amz-Date`; the signed
//!   headers must include `host` (IAM User Guide, "Elements of an AWS API
//!   request signature",
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/signing-elements.html);
//! - the time stamp within 5 minutes of the service's clock ("the request
//!   must reach AWS within five minutes of the time stamp", same page);
//! - a session's key needs its `X-Amz-Security-Token`;
//! - the payload: `X-Amz-Content-Sha256`, when sent, must be the body's
//!   SHA-256; `UNSIGNED-PAYLOAD` is refused, as Lambda does not support
//!   unsigned payloads (CloudFront developer guide, "Restrict access to an
//!   AWS Lambda function URL origin",
//!   https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html);
//! - the canonical request as Lambda builds it: the path URI-encoded twice
//!   and normalized, the query sorted (the settings `tests/signer.rs`
//!   cross-checks the signer against).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials as SdkCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, Method};
use sha2::{Digest, Sha256};

use super::credentials::{Credential, Credentials};

/// How far a signature's time stamp may be from the service's clock.
pub(crate) const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// Why a signature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SignatureError {
    #[error("the request is not signed (no AWS4-HMAC-SHA256 Authorization header)")]
    Unsigned,
    #[error("the Authorization header is malformed: {0}")]
    Malformed(&'static str),
    #[error("X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ")]
    BadDate,
    #[error("signed at {amz_date}, more than 5 minutes from the service's clock")]
    ClockSkew { amz_date: String },
    #[error("the credential scope is for {scope_service}/{scope_region}, not {service}/{region}")]
    WrongScope {
        scope_service: String,
        scope_region: String,
        service: String,
        region: String,
    },
    #[error("the access key {0} is not known")]
    UnknownKey(String),
    #[error("the security token is missing or does not belong to the access key")]
    BadSecurityToken,
    #[error("an unsigned payload (X-Amz-Content-Sha256: {0}): Lambda requires the body's hash")]
    UnsignedPayload(String),
    #[error("X-Amz-Content-Sha256 does not match the body's SHA-256")]
    PayloadMismatch,
    #[error("the signature does not match (recomputed {recomputed}, received {received})")]
    Mismatch {
        recomputed: String,
        received: String,
    },
}

/// The parts of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub(crate) fn parse_authorization(value: &str) -> Result<Authorization, SignatureError> {
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or(SignatureError::Unsigned)?;
    let field = |name: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|part| part.strip_prefix(name))
    };
    let credential = field("Credential=").ok_or(SignatureError::Malformed("no Credential"))?;
    let signed = field("SignedHeaders=").ok_or(SignatureError::Malformed("no SignedHeaders"))?;
    let signature = field("Signature=").ok_or(SignatureError::Malformed("no Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(SignatureError::Malformed(
            "Credential is not AKID/DATE/REGION/SERVICE/aws4_request",
        ));
    };
    Ok(Authorization {
        access_key: (*access_key).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers: signed.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

/// `YYYYMMDDTHHMMSSZ` as a time.
pub(crate) fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let month = time::Month::try_from(u8::try_from(number(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(number(0..4)?).ok()?,
        month,
        u8::try_from(number(6..8)?).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(number(9..11)?).ok()?,
        u8::try_from(number(11..13)?).ok()?,
        u8::try_from(number(13..15)?).ok()?,
    )
    .ok()?;
    Some(
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .into(),
    )
}

/// The lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A request as the service received it.
pub(crate) struct Received<'a> {
    pub method: &'a Method,
    /// The path and query exactly as sent.
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Verifies `request`'s signature for `service` in `region` at `now`; the
/// credential that signed it.
pub(crate) fn verify(
    request: &Received,
    service: &str,
    region: &str,
    keys: &Credentials,
    now: SystemTime,
) -> Result<Credential, SignatureError> {
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = parse_authorization(header("authorization").ok_or(SignatureError::Unsigned)?)?;
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SignatureError::Malformed("host is not a signed header"));
    }
    let amz_date = header("x-amz-date").ok_or(SignatureError::BadDate)?;
    let signed_at = parse_amz_date(amz_date).ok_or(SignatureError::BadDate)?;
    let skew = match now.duration_since(signed_at) {
        Ok(late) => late,
        Err(early) => early.duration(),
    };
    if skew > MAX_CLOCK_SKEW {
        return Err(SignatureError::ClockSkew {
            amz_date: amz_date.to_owned(),
        });
    }
    if auth.service != service || auth.region != region || !amz_date.starts_with(&auth.date) {
        return Err(SignatureError::WrongScope {
            scope_service: auth.service,
            scope_region: auth.region,
            service: service.to_owned(),
            region: region.to_owned(),
        });
    }
    let credential = keys
        .get(&auth.access_key)
        .ok_or_else(|| SignatureError::UnknownKey(auth.access_key.clone()))?;
    if credential.session_token.is_some()
        && credential.session_token.as_deref() != header("x-amz-security-token")
    {
        return Err(SignatureError::BadSecurityToken);
    }
    let body_hash = sha256_hex(request.body);
    let payload_hash = match header("x-amz-content-sha256") {
        Some(declared) if declared.eq_ignore_ascii_case(&body_hash) => body_hash,
        Some(declared) if !declared.chars().all(|c| c.is_ascii_hexdigit()) => {
            return Err(SignatureError::UnsignedPayload(declared.to_owned()));
        }
        Some(_) => return Err(SignatureError::PayloadMismatch),
        None => body_hash,
    };
    let recomputed = recompute(request, &auth, &credential, payload_hash, signed_at)?;
    if recomputed != auth.signature {
        return Err(SignatureError::Mismatch {
            recomputed,
            received: auth.signature,
        });
    }
    Ok(credential)
}

/// The signature `aws-sigv4` computes over the headers the caller signed.
fn recompute(
    request: &Received,
    auth: &Authorization,
    credential: &Credential,
    payload_hash: String,
    signed_at: SystemTime,
) -> Result<String, SignatureError> {
    // aws-sigv4 adds these three itself, from the settings below.
    const ADDED: [&str; 3] = ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];
    let signs = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Double;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Enabled;
    settings.signature_location = SignatureLocation::Headers;
    settings.excluded_headers = Some(Vec::new());
    settings.payload_checksum_kind = if signs("x-amz-content-sha256") {
        PayloadChecksumKind::XAmzSha256
    } else {
        PayloadChecksumKind::NoHeader
    };
    settings.session_token_mode = if signs("x-amz-security-token") {
        SessionTokenMode::Include
    } else {
        SessionTokenMode::Exclude
    };
    let identity: Identity = SdkCredentials::new(
        credential.access_key.clone(),
        credential.secret.clone(),
        credential.session_token.clone(),
        None,
        "aws-emulator",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&auth.region)
        .name(&auth.service)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|_| SignatureError::Malformed("signing parameters"))?
        .into();
    let mut headers: Vec<(&str, String)> = Vec::new();
    for name in &auth.signed_headers {
        if ADDED.contains(&name.as_str()) {
            continue;
        }
        let values: Vec<&str> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return Err(SignatureError::Malformed("a signed header is missing"));
        }
        headers.push((name.as_str(), values.join(",")));
    }
    let host = headers
        .iter()
        .find(|(name, _)| *name == "host")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let signable = SignableRequest::new(
        request.method.as_str(),
        format!("https://{host}{}", request.path_and_query),
        headers.iter().map(|(name, value)| (*name, value.as_str())),
        SignableBody::Precomputed(payload_hash),
    )
    .map_err(|_| SignatureError::Malformed("the request cannot be canonicalized"))?;
    let output =
        sign(signable, &params).map_err(|_| SignatureError::Malformed("signing failed"))?;
    Ok(output.signature().to_owned())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::dataplane::credentials::Principal;

    /// The AWS SigV4 test suite (awslabs/aws-c-auth, Apache-2.0), read in
    /// place as the signer's tests read it: a missing suite fails.
    fn suite() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sigv4-test-suite/v4")
    }

    /// The cases a Lambda-style verifier (header signature, path
    /// normalized) must accept as the suite signed them.
    const CASES: [&str; 14] = [
        "get-vanilla",
        "get-vanilla-query",
        "get-vanilla-query-order-key-case",
        "get-vanilla-query-unreserved",
        "get-vanilla-with-session-token",
        "get-header-value-trim",
        "get-unreserved",
        "get-slash-normalized",
        "post-vanilla",
        "post-vanilla-query",
        "post-header-key-sort",
        "post-header-value-case",
        "post-x-www-form-urlencoded",
        "post-x-www-form-urlencoded-parameters",
    ];

    struct Case {
        method: Method,
        path_and_query: String,
        headers: HeaderMap,
        body: Vec<u8>,
        keys: Credentials,
        now: SystemTime,
    }

    fn case(name: &str) -> Case {
        let dir = suite().join(name);
        let read = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
        };
        let context: serde_json::Value =
            serde_json::from_str(&read("context.json")).expect("context.json");
        let signed = read("header-signed-request.txt");
        let (head, body) = signed.split_once("\n\n").unwrap_or((&signed, ""));
        let mut lines = head.lines();
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method");
        let path_and_query = rest.rsplit_once(' ').expect("version").0.to_owned();
        let mut headers = HeaderMap::new();
        for line in lines {
            let (name, value) = line.split_once(':').expect("header");
            headers.append(
                http::HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
                    .expect("name"),
                http::HeaderValue::from_str(value.trim()).expect("value"),
            );
        }
        let credentials = &context["credentials"];
        let keys = Credentials::default();
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        keys.insert(Credential {
            access_key: text(&credentials["access_key_id"]).expect("key"),
            secret: text(&credentials["secret_access_key"]).expect("secret"),
            session_token: text(&credentials["token"]),
            principal: Principal::Service {
                service: "test".into(),
                source_arn: "arn:aws:test".into(),
            },
        });
        let now = parse_amz_date(headers["x-amz-date"].to_str().expect("date")).expect("date");
        Case {
            method: method.parse().expect("method"),
            path_and_query,
            headers,
            body: body.as_bytes().to_vec(),
            keys,
            now,
        }
    }

    fn check(case: &Case, now: SystemTime) -> Result<Credential, SignatureError> {
        let received = Received {
            method: &case.method,
            path_and_query: &case.path_and_query,
            headers: &case.headers,
            body: &case.body,
        };
        verify(&received, "service", "us-east-1", &case.keys, now)
    }

    #[test]
    fn the_aws_test_suite_signatures_verify_and_any_change_breaks_them() {
        for name in CASES {
            let good = case(name);
            assert!(
                check(&good, good.now).is_ok(),
                "{name}: {:?}",
                check(&good, good.now)
            );

            let mut tampered = case(name);
            tampered.path_and_query.push_str(if name.contains("query") {
                "&x=1"
            } else {
                "?x=1"
            });
            assert!(
                matches!(
                    check(&tampered, good.now),
                    Err(SignatureError::Mismatch { .. })
                ),
                "{name}: query"
            );

            let mut tampered = case(name);
            let auth = tampered.headers["authorization"]
                .to_str()
                .expect("auth")
                .to_owned();
            let flipped = format!(
                "{}{}",
                &auth[..auth.len() - 1],
                if auth.ends_with('0') { '1' } else { '0' }
            );
            tampered
                .headers
                .insert("authorization", flipped.parse().expect("value"));
            assert!(
                matches!(
                    check(&tampered, good.now),
                    Err(SignatureError::Mismatch { .. })
                ),
                "{name}: signature"
            );

            assert!(
                check(&good, good.now + MAX_CLOCK_SKEW).is_ok(),
                "{name}: 5 minutes late is fine"
            );
            assert_eq!(
                check(&good, good.now + MAX_CLOCK_SKEW + Duration::from_secs(1)).err(),
                Some(SignatureError::ClockSkew {
                    amz_date: "20150830T123600Z".into()
                }),
                "{name}"
            );
            assert!(
                matches!(
                    check(&good, good.now - MAX_CLOCK_SKEW - Duration::from_secs(1)),
                    Err(SignatureError::ClockSkew { .. })
                ),
                "{name}: too early"
            );
        }
    }

    #[test]
    fn an_unknown_key_a_foreign_scope_or_a_wrong_token_is_refused() {
        let good = case("get-vanilla-with-session-token");
        let mut no_token = case("get-vanilla-with-session-token");
        no_token.headers.remove("x-amz-security-token");
        assert_eq!(
            check(&no_token, good.now).err(),
            Some(SignatureError::BadSecurityToken)
        );

        let unknown = case("get-vanilla");
        let empty = Credentials::default();
        let received = Received {
            method: &unknown.method,
            path_and_query: &unknown.path_and_query,
            headers: &unknown.headers,
            body: &unknown.body,
        };
        assert_eq!(
            verify(&received, "service", "us-east-1", &empty, unknown.now).err(),
            Some(SignatureError::UnknownKey("AKIDEXAMPLE".into()))
        );
        assert!(matches!(
            verify(&received, "lambda", "us-east-1", &unknown.keys, unknown.now),
            Err(SignatureError::WrongScope { .. })
        ));
        let mut unsigned = case("get-vanilla");
        unsigned.headers.remove("authorization");
        assert_eq!(
            check(&unsigned, unsigned.now).err(),
            Some(SignatureError::Unsigned)
        );
    }

    #[test]
    fn the_declared_payload_hash_must_be_the_bodys() {
        let mut lying = case("post-x-www-form-urlencoded");
        lying.headers.insert(
            "x-amz-content-sha256",
            sha256_hex(b"other").parse().expect("v"),
        );
        assert_eq!(
            check(&lying, lying.now).err(),
            Some(SignatureError::PayloadMismatch)
        );
        let mut unsigned = case("post-x-www-form-urlencoded");
        unsigned.headers.insert(
            "x-amz-content-sha256",
            "UNSIGNED-PAYLOAD".parse().expect("v"),
        );
        assert_eq!(
            check(&unsigned, unsigned.now).err(),
            Some(SignatureError::UnsignedPayload("UNSIGNED-PAYLOAD".into()))
        );
        let mut changed_body = case("post-x-www-form-urlencoded");
        changed_body.body = b"Param1=value2".to_vec();
        assert_eq!(
            check(&changed_body, changed_body.now).err(),
            Some(SignatureError::PayloadMismatch),
            "the body no longer matches the hash the signature covers"
        );
    }
}
