//! Origin access control for a Lambda function URL origin: CloudFront signs
//! the origin request with SigV4 for `lambda` as the service principal
//! `cloudfront.amazonaws.com`, on behalf of the distribution — so the
//! function's resource policy lets it in only through a statement for that
//! principal whose `AWS:SourceArn` is this distribution's ARN (CloudFront
//! developer guide, "Restrict access to an AWS Lambda function URL origin",
//! https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html).
//!
//! - Signing behavior `always` signs every request, replacing a viewer's
//!   `Authorization`; `never` signs none; `no-override` leaves a request
//!   that carries an `Authorization` unsigned (same page, "Advanced
//!   settings for origin access control").
//! - The payload hash is the viewer's `x-amz-content-sha256` when it sent
//!   one; a request without a body hashes the empty body; a body without
//!   the header is signed `UNSIGNED-PAYLOAD`, which Lambda refuses — so,
//!   as the page warns, PUT and POST callers must send the header.
//!
//! The emulator holds one key per distribution for this principal (see
//! `credentials`); its secret never leaves the process.

use std::time::SystemTime;

use aws_credential_types::Credentials as SdkCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use super::credentials::{Credential, Credentials, Principal};
use super::origin_event::OriginRequest;
use super::sigv4_verify::sha256_hex;

/// CloudFront's service principal.
pub(crate) const CLOUDFRONT_PRINCIPAL: &str = "cloudfront.amazonaws.com";

/// Why an origin request could not be signed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OacError {
    #[error("the origin {0} is not a Lambda function URL host")]
    NotAFunctionUrl(String),
    #[error("signing the origin request: {0}")]
    Signing(String),
}

/// The key CloudFront signs with for `distribution_arn`, made on first
/// use with a secret of `fresh_secret`.
fn distribution_key(
    keys: &Credentials,
    distribution_id: &str,
    distribution_arn: &str,
    fresh_secret: impl FnOnce() -> String,
) -> Credential {
    let access_key = format!("ASIACLOUDFRONT{distribution_id}");
    if let Some(existing) = keys.get(&access_key) {
        return existing;
    }
    let credential = Credential {
        access_key,
        secret: fresh_secret(),
        session_token: None,
        principal: Principal::Service {
            service: CLOUDFRONT_PRINCIPAL.to_owned(),
            source_arn: distribution_arn.to_owned(),
        },
    };
    keys.insert(credential.clone());
    credential
}

/// Signs `request` (in place) as the OAC of `signing_behavior` does for
/// the distribution.
pub(crate) fn sign_origin_request(
    request: &mut OriginRequest,
    signing_behavior: &str,
    keys: &Credentials,
    distribution: (&str, &str),
    fresh_secret: impl FnOnce() -> String,
    now: SystemTime,
) -> Result<(), OacError> {
    let (distribution_id, distribution_arn) = distribution;
    match signing_behavior {
        "never" => return Ok(()),
        "no-override" if request.header("authorization").is_some() => return Ok(()),
        _ => {}
    }
    let host = request.origin.domain_name.clone();
    let region = super::url_hosts::function_url_region(&host)
        .ok_or_else(|| OacError::NotAFunctionUrl(host.clone()))?
        .to_owned();
    let payload_hash = match request.header("x-amz-content-sha256") {
        Some(declared) => declared.to_owned(),
        None if request.body.is_empty() => sha256_hex(b""),
        None => "UNSIGNED-PAYLOAD".to_owned(),
    };
    let credential = distribution_key(keys, distribution_id, distribution_arn, fresh_secret);
    let identity: Identity = SdkCredentials::new(
        credential.access_key,
        credential.secret,
        None,
        None,
        "cloudfront-oac",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Double;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Enabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.signature_location = SignatureLocation::Headers;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("lambda")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| OacError::Signing(e.to_string()))?
        .into();
    let uri = format!("https://{host}{}", request.origin_path_and_query());
    let signable = SignableRequest::new(
        request.method.as_str(),
        uri,
        [("host", host.as_str())].into_iter(),
        SignableBody::Precomputed(payload_hash),
    )
    .map_err(|e| OacError::Signing(e.to_string()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| OacError::Signing(e.to_string()))?
        .into_parts();
    let (headers, _) = instructions.into_parts();
    for header in headers {
        request.set_header(header.name(), header.value());
    }
    request.set_header("host", &host);
    Ok(())
}
