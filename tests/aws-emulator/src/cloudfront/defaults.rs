//! What CloudFront adds to a `DistributionConfig` it reads back. Real
//! CloudFront answers `GetDistribution`, `GetDistributionConfig`,
//! `ListDistributions` and the create/update answers with a complete
//! configuration: every element a request left out comes back with the
//! value CloudFront uses for it, and some values come back rewritten. With
//! `readback_defaults` on (the default), the emulator stores the completed
//! configuration, so a client that compares what it sent with what it reads
//! sees what it would see on AWS.
//!
//! Filled in when the request leaves them out (CloudFront API reference
//! 2020-05-31, `DistributionConfig` and the types it holds, unless noted):
//!
//! | element | value | source |
//! | --- | --- | --- |
//! | `Aliases`, `OriginGroups`, `CacheBehaviors`, `CustomErrorResponses` | `Quantity` 0 | an empty list; the types' "Quantity" members |
//! | `DefaultRootObject`, `WebACLId`, `ContinuousDeploymentPolicyId` | empty | "If you don't want to specify a default root object, specify an empty element"; the same wording for `WebACLId` |
//! | `Logging` | `Enabled` false, `IncludeCookies` false, `Bucket` and `Prefix` empty | `LoggingConfig`: "If you don't want to enable logging ... specify false for Enabled, and specify empty Bucket and Prefix elements" |
//! | `PriceClass` | `PriceClass_All` | `DistributionConfig.PriceClass`: "If you specify PriceClass_All, CloudFront responds ... from all CloudFront edge locations" (what a distribution without one uses) |
//! | `ViewerCertificate` | `CloudFrontDefaultCertificate` true, `SSLSupportMethod` vip, `MinimumProtocolVersion` TLSv1, `CertificateSource` cloudfront | `ViewerCertificate`: "If you specify true for CloudFrontDefaultCertificate, CloudFront automatically sets the security policy to TLSv1 regardless of the value that you specify" (so a default certificate always reads back TLSv1) |
//! | `ViewerCertificate` with `ACMCertificateArn` | `Certificate` = the ARN, `CertificateSource` acm, `CloudFrontDefaultCertificate` false | `ViewerCertificate.Certificate`/`CertificateSource` (deprecated echoes of the certificate) |
//! | `Restrictions` | `GeoRestriction` `RestrictionType` none, `Quantity` 0 | `GeoRestriction` |
//! | `HttpVersion` | `http2` | `DistributionConfig.HttpVersion`: "The default value for new distributions is http2" |
//! | `IsIPV6Enabled` | false | what a distribution created without it reads back |
//! | `Staging` | false | `DistributionConfig.Staging` |
//! | `Origin.OriginPath` | empty | `Origin.OriginPath` |
//! | `Origin.CustomHeaders` | `Quantity` 0 | `CustomHeaders` |
//! | `Origin.ConnectionAttempts` | 3 | `Origin.ConnectionAttempts`: "the default (if you don't specify otherwise) is 3" |
//! | `Origin.ConnectionTimeout` | 10 | `Origin.ConnectionTimeout`: "the default (if you don't specify otherwise) is 10 seconds" |
//! | `Origin.OriginShield` | `Enabled` false | `OriginShield` |
//! | `Origin.OriginAccessControlId` | empty | `Origin.OriginAccessControlId` |
//! | `CustomOriginConfig.OriginReadTimeout` | 30 | `CustomOriginConfig.OriginReadTimeout`: "The default ... is 30 seconds" |
//! | `CustomOriginConfig.OriginKeepaliveTimeout` | 5 | `CustomOriginConfig.OriginKeepaliveTimeout`: "The default ... is 5 seconds" |
//! | behaviors: `TrustedSigners`, `TrustedKeyGroups` | `Enabled` false, `Quantity` 0 | `TrustedSigners`, `TrustedKeyGroups` |
//! | behaviors: `SmoothStreaming`, `Compress` | false | `CacheBehavior.SmoothStreaming`, `CacheBehavior.Compress` ("If you don't specify a value ... false") |
//! | behaviors: `LambdaFunctionAssociations`, `FunctionAssociations` | `Quantity` 0 | their types |
//! | behaviors: `FieldLevelEncryptionId` | empty | `CacheBehavior.FieldLevelEncryptionId` |
//! | behaviors: `AllowedMethods` | GET, HEAD; `CachedMethods` GET, HEAD | `AllowedMethods`, `CachedMethods` ("CloudFront caches responses to GET and HEAD requests" by default) |
//! | `CustomErrorResponse.ResponsePagePath`, `ResponseCode` | empty | `CustomErrorResponse`: "If you don't want to specify a value, include an empty element" |
//! | `CustomErrorResponse.ErrorCachingMinTTL` | 10 | Developer Guide, "Control how long CloudFront caches errors": "CloudFront caches error responses for a default duration of 10 seconds" |
//!
//! Not filled in (no documented value to copy, or not a default):
//! `CustomOriginConfig.OriginSslProtocols` (required in practice; no
//! documented default), `ResponseHeadersPolicyId`/`OriginRequestPolicyId`
//! (none means none), `RealtimeLogConfigArn`, `AnycastIpListId`,
//! `ConnectionMode`, `TenantConfig`. Elements the request sent are kept as
//! sent (in CloudFront's element order); elements the emulator does not
//! know are kept at the end of their parent, so nothing a client sent is
//! lost.

use roxmltree::{Document, Node};

use super::NAMESPACE;
use super::config::{DistributionConfig, parse_distribution_request};
use super::xml::{CfError, child, child_text, children, escape, outer_text};

/// How one element is completed.
#[derive(Clone, Copy)]
enum Kind {
    /// Kept exactly as sent.
    Verbatim,
    /// Its children completed by these fields.
    Nested(&'static [Field]),
    /// Completed by a function of the element and the document text.
    Custom(fn(Node, &str) -> String),
}

/// One child element, in CloudFront's order.
#[derive(Clone, Copy)]
struct Field {
    name: &'static str,
    /// The element's content when the request leaves it out; `None`: left
    /// out too.
    default: Option<&'static str>,
    kind: Kind,
}

const fn leaf(name: &'static str, default: Option<&'static str>) -> Field {
    Field {
        name,
        default,
        kind: Kind::Verbatim,
    }
}

const fn nested(
    name: &'static str,
    default: Option<&'static str>,
    fields: &'static [Field],
) -> Field {
    Field {
        name,
        default,
        kind: Kind::Nested(fields),
    }
}

const EMPTY_LIST: Option<&str> = Some("<Quantity>0</Quantity>");
const EMPTY: Option<&str> = Some("");
const DEFAULT_CERTIFICATE: &str = "<CloudFrontDefaultCertificate>true</CloudFrontDefaultCertificate><SSLSupportMethod>vip</SSLSupportMethod><MinimumProtocolVersion>TLSv1</MinimumProtocolVersion><CertificateSource>cloudfront</CertificateSource>";
const GET_HEAD: &str =
    "<Quantity>2</Quantity><Items><Method>HEAD</Method><Method>GET</Method></Items>";

const CUSTOM_ORIGIN: &[Field] = &[
    leaf("HTTPPort", None),
    leaf("HTTPSPort", None),
    leaf("OriginProtocolPolicy", None),
    leaf("OriginSslProtocols", None),
    leaf("OriginReadTimeout", Some("30")),
    leaf("OriginKeepaliveTimeout", Some("5")),
];

const ORIGIN: &[Field] = &[
    leaf("Id", None),
    leaf("DomainName", None),
    leaf("OriginPath", EMPTY),
    leaf("CustomHeaders", EMPTY_LIST),
    leaf("S3OriginConfig", None),
    nested("CustomOriginConfig", None, CUSTOM_ORIGIN),
    leaf("VpcOriginConfig", None),
    leaf("ConnectionAttempts", Some("3")),
    leaf("ConnectionTimeout", Some("10")),
    leaf("ResponseCompletionTimeout", None),
    leaf("OriginShield", Some("<Enabled>false</Enabled>")),
    leaf("OriginAccessControlId", EMPTY),
];

const ORIGINS: &[Field] = &[
    leaf("Quantity", None),
    nested("Items", None, &[nested("Origin", None, ORIGIN)]),
];

const ALLOWED_METHODS: &[Field] = &[
    leaf("Quantity", None),
    leaf("Items", None),
    leaf("CachedMethods", Some(GET_HEAD)),
];

const TRUSTED: Option<&str> = Some("<Enabled>false</Enabled><Quantity>0</Quantity>");

/// A cache behavior's fields (`PathPattern` is absent from the default one).
const BEHAVIOR: &[Field] = &[
    leaf("PathPattern", None),
    leaf("TargetOriginId", None),
    leaf("TrustedSigners", TRUSTED),
    leaf("TrustedKeyGroups", TRUSTED),
    leaf("ViewerProtocolPolicy", None),
    nested(
        "AllowedMethods",
        Some(
            "<Quantity>2</Quantity><Items><Method>HEAD</Method><Method>GET</Method></Items><CachedMethods><Quantity>2</Quantity><Items><Method>HEAD</Method><Method>GET</Method></Items></CachedMethods>",
        ),
        ALLOWED_METHODS,
    ),
    leaf("SmoothStreaming", Some("false")),
    leaf("Compress", Some("false")),
    leaf("LambdaFunctionAssociations", EMPTY_LIST),
    leaf("FunctionAssociations", EMPTY_LIST),
    leaf("FieldLevelEncryptionId", EMPTY),
    leaf("RealtimeLogConfigArn", None),
    leaf("CachePolicyId", None),
    leaf("OriginRequestPolicyId", None),
    leaf("ResponseHeadersPolicyId", None),
    leaf("GrpcConfig", None),
    leaf("ForwardedValues", None),
    leaf("MinTTL", None),
    leaf("DefaultTTL", None),
    leaf("MaxTTL", None),
];

const CACHE_BEHAVIORS: &[Field] = &[
    leaf("Quantity", None),
    nested("Items", None, &[nested("CacheBehavior", None, BEHAVIOR)]),
];

const ERROR_RESPONSE: &[Field] = &[
    leaf("ErrorCode", None),
    leaf("ResponsePagePath", EMPTY),
    leaf("ResponseCode", EMPTY),
    leaf("ErrorCachingMinTTL", Some("10")),
];

const ERROR_RESPONSES: &[Field] = &[
    leaf("Quantity", None),
    nested(
        "Items",
        None,
        &[nested("CustomErrorResponse", None, ERROR_RESPONSE)],
    ),
];

const LOGGING: &[Field] = &[
    leaf("Enabled", Some("false")),
    leaf("IncludeCookies", Some("false")),
    leaf("Bucket", EMPTY),
    leaf("Prefix", EMPTY),
];

const DISTRIBUTION_CONFIG: &[Field] = &[
    leaf("CallerReference", None),
    leaf("Aliases", EMPTY_LIST),
    leaf("DefaultRootObject", EMPTY),
    nested("Origins", None, ORIGINS),
    leaf("OriginGroups", EMPTY_LIST),
    nested("DefaultCacheBehavior", None, BEHAVIOR),
    nested("CacheBehaviors", EMPTY_LIST, CACHE_BEHAVIORS),
    nested("CustomErrorResponses", EMPTY_LIST, ERROR_RESPONSES),
    leaf("Comment", None),
    nested(
        "Logging",
        Some(
            "<Enabled>false</Enabled><IncludeCookies>false</IncludeCookies><Bucket></Bucket><Prefix></Prefix>",
        ),
        LOGGING,
    ),
    leaf("PriceClass", Some("PriceClass_All")),
    leaf("Enabled", None),
    Field {
        name: "ViewerCertificate",
        default: Some(DEFAULT_CERTIFICATE),
        kind: Kind::Custom(viewer_certificate),
    },
    leaf(
        "Restrictions",
        Some(
            "<GeoRestriction><RestrictionType>none</RestrictionType><Quantity>0</Quantity></GeoRestriction>",
        ),
    ),
    leaf("WebACLId", EMPTY),
    leaf("HttpVersion", Some("http2")),
    leaf("IsIPV6Enabled", Some("false")),
    leaf("ContinuousDeploymentPolicyId", EMPTY),
    leaf("Staging", Some("false")),
    leaf("AnycastIpListId", None),
    leaf("TenantConfig", None),
    leaf("ConnectionMode", None),
];

/// The viewer certificate as CloudFront reads it back: the default
/// certificate always with `vip` and `TLSv1`; an ACM or IAM certificate
/// echoed in `Certificate` with its `CertificateSource`.
fn viewer_certificate(node: Node, text: &str) -> String {
    let acm = child_text(node, "ACMCertificateArn").filter(|a| !a.is_empty());
    let iam = child_text(node, "IAMCertificateId").filter(|a| !a.is_empty());
    let (certificate, source) = match (acm, iam) {
        (Some(arn), _) => (arn, "acm"),
        (None, Some(id)) => (id, "iam"),
        (None, None) => return DEFAULT_CERTIFICATE.to_owned(),
    };
    let mut out =
        String::from("<CloudFrontDefaultCertificate>false</CloudFrontDefaultCertificate>");
    for name in ["IAMCertificateId", "ACMCertificateArn"] {
        if let Some(element) = child(node, name) {
            out.push_str(outer_text(text, element));
        }
    }
    match child(node, "SSLSupportMethod") {
        Some(element) => out.push_str(outer_text(text, element)),
        None => out.push_str("<SSLSupportMethod>sni-only</SSLSupportMethod>"),
    }
    if let Some(element) = child(node, "MinimumProtocolVersion") {
        out.push_str(outer_text(text, element));
    }
    out.push_str(&format!(
        "<Certificate>{}</Certificate><CertificateSource>{source}</CertificateSource>",
        escape(certificate)
    ));
    out
}

/// The content of `node` completed by `fields`: known children in
/// CloudFront's order (each as sent, completed, or its default when
/// missing), then unknown children as sent.
fn complete(node: Node, text: &str, fields: &[Field]) -> String {
    let mut out = String::new();
    for field in fields {
        let mut present = false;
        for element in children(node, field.name) {
            present = true;
            match field.kind {
                Kind::Verbatim => out.push_str(outer_text(text, element)),
                Kind::Nested(inner) => {
                    out.push_str(&format!(
                        "<{0}>{1}</{0}>",
                        field.name,
                        complete(element, text, inner)
                    ));
                }
                Kind::Custom(fill) => {
                    out.push_str(&format!("<{0}>{1}</{0}>", field.name, fill(element, text)));
                }
            }
        }
        if !present && let Some(default) = field.default {
            out.push_str(&format!("<{0}>{default}</{0}>", field.name));
        }
    }
    for element in node.children().filter(|c| c.is_element()) {
        if !fields.iter().any(|f| f.name == element.tag_name().name()) {
            out.push_str(outer_text(text, element));
        }
    }
    out
}

/// The inner XML of a `DistributionConfig` as CloudFront reads it back.
pub(crate) fn completed_inner(inner: &str) -> Result<String, CfError> {
    let text = format!("<DistributionConfig xmlns=\"{NAMESPACE}\">{inner}</DistributionConfig>");
    let doc = Document::parse(&text).map_err(|e| {
        CfError::malformed(format!("The XML you provided was not well-formed: {e}"))
    })?;
    Ok(complete(doc.root_element(), &text, DISTRIBUTION_CONFIG))
}

/// `config` as CloudFront stores it: completed, and parsed again so that
/// every derived part (the summary among them) shows the completed values.
pub(crate) fn completed(config: &DistributionConfig) -> Result<DistributionConfig, CfError> {
    let inner = completed_inner(&config.inner)?;
    let body = format!("<DistributionConfig xmlns=\"{NAMESPACE}\">{inner}</DistributionConfig>");
    let (completed, _) = parse_distribution_request(body.as_bytes(), false)?;
    Ok(completed)
}

/// The text of the first `name` child, for tests.
#[cfg(test)]
fn first<'a>(node: Node<'a, '_>, path: &[&str]) -> Option<&'a str> {
    let mut current = node;
    for name in path {
        current = child(current, name)?;
    }
    Some(current.text().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "<CallerReference>ref</CallerReference><Origins><Quantity>2</Quantity><Items><Origin><Id>web</Id><DomainName>example.com</DomainName><CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>https-only</OriginProtocolPolicy></CustomOriginConfig></Origin><Origin><Id>s3</Id><DomainName>b.s3.amazonaws.com</DomainName><S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins><DefaultCacheBehavior><TargetOriginId>web</TargetOriginId><ViewerProtocolPolicy>https-only</ViewerProtocolPolicy><AllowedMethods><Quantity>2</Quantity><Items><Method>GET</Method><Method>HEAD</Method></Items></AllowedMethods><CachePolicyId>p</CachePolicyId></DefaultCacheBehavior><CustomErrorResponses><Quantity>1</Quantity><Items><CustomErrorResponse><ErrorCode>404</ErrorCode></CustomErrorResponse></Items></CustomErrorResponses><Comment>c</Comment><Enabled>true</Enabled><ViewerCertificate><CloudFrontDefaultCertificate>true</CloudFrontDefaultCertificate><MinimumProtocolVersion>TLSv1.2_2021</MinimumProtocolVersion></ViewerCertificate><FutureElement>kept</FutureElement>";

    fn doc_of(inner: &str) -> String {
        format!("<DistributionConfig>{inner}</DistributionConfig>")
    }

    #[test]
    fn left_out_elements_come_back_with_cloudfronts_defaults() {
        let text = doc_of(&completed_inner(MINIMAL).expect("completes"));
        let doc = Document::parse(&text).expect("xml");
        let root = doc.root_element();
        for (path, want) in [
            (&["Aliases", "Quantity"][..], "0"),
            (&["DefaultRootObject"], ""),
            (&["OriginGroups", "Quantity"], "0"),
            (&["CacheBehaviors", "Quantity"], "0"),
            (&["Logging", "Enabled"], "false"),
            (&["Logging", "Prefix"], ""),
            (&["PriceClass"], "PriceClass_All"),
            (&["ViewerCertificate", "MinimumProtocolVersion"], "TLSv1"),
            (&["ViewerCertificate", "CertificateSource"], "cloudfront"),
            (
                &["Restrictions", "GeoRestriction", "RestrictionType"],
                "none",
            ),
            (&["WebACLId"], ""),
            (&["HttpVersion"], "http2"),
            (&["IsIPV6Enabled"], "false"),
            (&["Staging"], "false"),
            (&["ContinuousDeploymentPolicyId"], ""),
            (&["DefaultCacheBehavior", "Compress"], "false"),
            (&["DefaultCacheBehavior", "SmoothStreaming"], "false"),
            (&["DefaultCacheBehavior", "FieldLevelEncryptionId"], ""),
            (
                &["DefaultCacheBehavior", "TrustedSigners", "Enabled"],
                "false",
            ),
            (
                &["DefaultCacheBehavior", "FunctionAssociations", "Quantity"],
                "0",
            ),
            (
                &[
                    "DefaultCacheBehavior",
                    "AllowedMethods",
                    "CachedMethods",
                    "Quantity",
                ],
                "2",
            ),
            (&["FutureElement"], "kept"),
        ] {
            assert_eq!(first(root, path), Some(want), "{path:?}");
        }
        let origins: Vec<Node> = children(
            child(child(root, "Origins").expect("origins"), "Items").expect("items"),
            "Origin",
        )
        .collect();
        assert_eq!(origins.len(), 2);
        for origin in &origins {
            assert_eq!(first(*origin, &["ConnectionAttempts"]), Some("3"));
            assert_eq!(first(*origin, &["ConnectionTimeout"]), Some("10"));
            assert_eq!(first(*origin, &["OriginShield", "Enabled"]), Some("false"));
            assert_eq!(first(*origin, &["OriginPath"]), Some(""));
            assert_eq!(first(*origin, &["CustomHeaders", "Quantity"]), Some("0"));
        }
        assert_eq!(
            first(origins[0], &["CustomOriginConfig", "OriginReadTimeout"]),
            Some("30")
        );
        assert_eq!(
            first(
                origins[0],
                &["CustomOriginConfig", "OriginKeepaliveTimeout"]
            ),
            Some("5")
        );
        let error = child(
            child(
                child(root, "CustomErrorResponses").expect("errors"),
                "Items",
            )
            .expect("items"),
            "CustomErrorResponse",
        )
        .expect("one");
        assert_eq!(first(error, &["ErrorCachingMinTTL"]), Some("10"));
        assert_eq!(first(error, &["ResponseCode"]), Some(""));
    }

    #[test]
    fn an_acm_certificate_is_echoed_and_sent_values_are_kept() {
        let sent = "<CallerReference>r</CallerReference><Comment>c &amp; d</Comment><Enabled>false</Enabled><PriceClass>PriceClass_100</PriceClass><ViewerCertificate><ACMCertificateArn>arn:aws:acm:us-east-1:1:certificate/x</ACMCertificateArn><MinimumProtocolVersion>TLSv1.2_2021</MinimumProtocolVersion></ViewerCertificate><HttpVersion>http2and3</HttpVersion>";
        let text = doc_of(&completed_inner(sent).expect("completes"));
        let doc = Document::parse(&text).expect("xml");
        let root = doc.root_element();
        assert_eq!(first(root, &["Comment"]), Some("c & d"));
        assert_eq!(first(root, &["PriceClass"]), Some("PriceClass_100"));
        assert_eq!(first(root, &["HttpVersion"]), Some("http2and3"));
        let certificate = child(root, "ViewerCertificate").expect("certificate");
        assert_eq!(
            first(certificate, &["CloudFrontDefaultCertificate"]),
            Some("false")
        );
        assert_eq!(first(certificate, &["SSLSupportMethod"]), Some("sni-only"));
        assert_eq!(
            first(certificate, &["MinimumProtocolVersion"]),
            Some("TLSv1.2_2021")
        );
        assert_eq!(
            first(certificate, &["Certificate"]),
            Some("arn:aws:acm:us-east-1:1:certificate/x")
        );
        assert_eq!(first(certificate, &["CertificateSource"]), Some("acm"));
    }

    #[test]
    fn completing_twice_changes_nothing() {
        let once = completed_inner(MINIMAL).expect("once");
        assert_eq!(completed_inner(&once).expect("twice"), once);
    }
}
