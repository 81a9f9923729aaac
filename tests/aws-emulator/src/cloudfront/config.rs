//! Reading what a client sends: a `DistributionConfig` is kept as the exact
//! XML text it came in, and only what the emulator must check is parsed
//! out of it — `CallerReference`, `Enabled`, origins (ids and
//! `OriginAccessControlId`), origin group ids, cache behaviors (target
//! origins and Lambda@Edge associations, the default behavior's too), and
//! the top-level elements a `DistributionSummary` repeats. The checks that
//! need no state happen here: quantities, the 100-origin and 75-behavior
//! quotas, target origins, association shape (a numbered version in
//! `us-east-1`, a known event type, `IncludeBody` only on request events,
//! one function per event type, at most four per behavior), and those of
//! `settings` (geo restriction, origin custom headers, CloudFront Functions
//! associations, the viewer security policy).

use http::StatusCode;
use roxmltree::{Document, Node};

use super::settings;
use super::xml::{CfError, child, child_text, children, inner_text, list_items, outer_text};
use crate::lambda::FunctionRef;

/// CloudFront's quota of origins per distribution.
pub(crate) const MAX_ORIGINS: usize = 100;
/// CloudFront's quota of cache behaviors per distribution.
pub(crate) const MAX_CACHE_BEHAVIORS: usize = 75;
/// Lambda@Edge functions live in this region only.
pub(crate) const EDGE_REGION: &str = "us-east-1";

/// Top-level `DistributionConfig` elements that a `DistributionSummary`
/// carries too, in the summary's order, with the value CloudFront reports
/// when the config leaves one out.
pub(crate) const SUMMARY_FIELDS: &[(&str, Option<&str>)] = &[
    ("Aliases", Some("<Aliases><Quantity>0</Quantity></Aliases>")),
    ("Origins", None),
    ("OriginGroups", None),
    ("DefaultCacheBehavior", None),
    (
        "CacheBehaviors",
        Some("<CacheBehaviors><Quantity>0</Quantity></CacheBehaviors>"),
    ),
    (
        "CustomErrorResponses",
        Some("<CustomErrorResponses><Quantity>0</Quantity></CustomErrorResponses>"),
    ),
    ("Comment", Some("<Comment></Comment>")),
    (
        "PriceClass",
        Some("<PriceClass>PriceClass_All</PriceClass>"),
    ),
    ("Enabled", None),
    (
        "ViewerCertificate",
        Some(
            "<ViewerCertificate><CloudFrontDefaultCertificate>true</CloudFrontDefaultCertificate><SSLSupportMethod>vip</SSLSupportMethod><MinimumProtocolVersion>TLSv1</MinimumProtocolVersion><CertificateSource>cloudfront</CertificateSource></ViewerCertificate>",
        ),
    ),
    (
        "Restrictions",
        Some(
            "<Restrictions><GeoRestriction><RestrictionType>none</RestrictionType><Quantity>0</Quantity></GeoRestriction></Restrictions>",
        ),
    ),
    ("WebACLId", Some("<WebACLId></WebACLId>")),
    ("HttpVersion", Some("<HttpVersion>http2</HttpVersion>")),
    (
        "IsIPV6Enabled",
        Some("<IsIPV6Enabled>false</IsIPV6Enabled>"),
    ),
    ("Staging", Some("<Staging>false</Staging>")),
    ("ConnectionMode", None),
    ("AnycastIpListId", None),
];

/// One Lambda@Edge association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Association {
    pub arn: String,
    pub function: FunctionRef,
    pub version: String,
    /// `viewer-request`, `origin-request`, ...
    pub event_type: String,
}

/// A `DistributionConfig`: the verbatim XML plus what the emulator checks.
#[derive(Debug, Clone)]
pub(crate) struct DistributionConfig {
    /// Everything between `<DistributionConfig ...>` and
    /// `</DistributionConfig>`, exactly as the client sent it.
    pub inner: String,
    pub caller_reference: String,
    pub enabled: bool,
    /// Origin access control ids the origins name.
    pub oac_ids: Vec<String>,
    /// Every association of every behavior.
    pub associations: Vec<Association>,
    /// `(element name, verbatim element)` for the summary.
    pub summary: Vec<(&'static str, String)>,
}

/// Parses the body of `CreateDistribution`/`UpdateDistribution` (root
/// `DistributionConfig`) or `CreateDistributionWithTags` (root
/// `DistributionConfigWithTags`: the config and its tags).
pub(crate) fn parse_distribution_request(
    body: &[u8],
    with_tags: bool,
) -> Result<(DistributionConfig, Vec<(String, String)>), CfError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| CfError::malformed("The request body is not UTF-8."))?;
    let doc = Document::parse(text).map_err(|e| {
        CfError::malformed(format!("The XML you provided was not well-formed: {e}"))
    })?;
    let root = doc.root_element();
    if with_tags {
        if root.tag_name().name() != "DistributionConfigWithTags" {
            return Err(CfError::malformed(
                "Expected a DistributionConfigWithTags element.",
            ));
        }
        let config = child(root, "DistributionConfig").ok_or_else(|| {
            CfError::malformed("DistributionConfigWithTags needs a DistributionConfig.")
        })?;
        let tags = match child(root, "Tags") {
            Some(tags) => parse_tags(tags)?,
            None => Vec::new(),
        };
        Ok((parse_distribution_config(text, config)?, tags))
    } else {
        if root.tag_name().name() != "DistributionConfig" {
            return Err(CfError::malformed("Expected a DistributionConfig element."));
        }
        Ok((parse_distribution_config(text, root)?, Vec::new()))
    }
}

/// `<Tags><Items><Tag><Key/><Value/></Tag>...</Items></Tags>`.
pub(crate) fn parse_tags(tags: Node) -> Result<Vec<(String, String)>, CfError> {
    let Some(items) = child(tags, "Items") else {
        return Ok(Vec::new());
    };
    children(items, "Tag")
        .map(|tag| {
            let key = child_text(tag, "Key")
                .filter(|k| !k.is_empty())
                .ok_or_else(|| CfError::bad_request("InvalidTagging", "A tag needs a Key."))?;
            Ok((
                key.to_owned(),
                child_text(tag, "Value").unwrap_or("").to_owned(),
            ))
        })
        .collect()
}

fn required_text<'a>(node: Node<'a, '_>, name: &str, context: &str) -> Result<&'a str, CfError> {
    child_text(node, name).ok_or_else(|| CfError::malformed(format!("{context} needs {name}.")))
}

fn parse_bool(text: &str, name: &str) -> Result<bool, CfError> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(CfError::malformed(format!(
            "{name} must be true or false, not `{other}`."
        ))),
    }
}

fn parse_distribution_config(text: &str, node: Node) -> Result<DistributionConfig, CfError> {
    let caller_reference = required_text(node, "CallerReference", "DistributionConfig")?;
    if caller_reference.is_empty() {
        return Err(CfError::invalid_argument(
            "CallerReference must not be empty.",
        ));
    }
    let enabled = parse_bool(
        required_text(node, "Enabled", "DistributionConfig")?,
        "Enabled",
    )?;
    required_text(node, "Comment", "DistributionConfig")?;

    let origins = list_items(node, "Origins", "Origin")?;
    if origins.is_empty() {
        return Err(CfError::invalid_argument(
            "A distribution needs at least one origin.",
        ));
    }
    if origins.len() > MAX_ORIGINS {
        return Err(CfError::bad_request(
            "TooManyOrigins",
            format!("You cannot create more origins for the distribution. (limit {MAX_ORIGINS})"),
        ));
    }
    let mut origin_ids: Vec<&str> = Vec::new();
    let mut oac_ids = Vec::new();
    for origin in &origins {
        let id = required_text(*origin, "Id", "Origin")?;
        required_text(*origin, "DomainName", "Origin")?;
        if origin_ids.contains(&id) {
            return Err(CfError::invalid_argument(format!(
                "The parameter Origin Id must be unique. ({id})"
            )));
        }
        origin_ids.push(id);
        settings::check_custom_headers(*origin)?;
        if let Some(oac) = child_text(*origin, "OriginAccessControlId").filter(|o| !o.is_empty()) {
            oac_ids.push(oac.to_owned());
        }
    }
    for group in list_items(node, "OriginGroups", "OriginGroup")? {
        origin_ids.push(required_text(group, "Id", "OriginGroup")?);
    }
    list_items(node, "Aliases", "CNAME")?;
    list_items(node, "CustomErrorResponses", "CustomErrorResponse")?;

    let default_behavior = child(node, "DefaultCacheBehavior")
        .ok_or_else(|| CfError::malformed("DistributionConfig needs DefaultCacheBehavior."))?;
    let behaviors = list_items(node, "CacheBehaviors", "CacheBehavior")?;
    if behaviors.len() > MAX_CACHE_BEHAVIORS {
        return Err(CfError::bad_request(
            "TooManyCacheBehaviors",
            format!(
                "You cannot create more cache behaviors for the distribution. (limit {MAX_CACHE_BEHAVIORS})"
            ),
        ));
    }
    let mut associations = Vec::new();
    for behavior in std::iter::once(default_behavior).chain(behaviors.iter().copied()) {
        let target = required_text(behavior, "TargetOriginId", "A cache behavior")?;
        if !origin_ids.contains(&target) {
            return Err(CfError::new(
                StatusCode::NOT_FOUND,
                "NoSuchOrigin",
                format!("One or more of your origins or origin groups do not exist. ({target})"),
            ));
        }
        associations.extend(parse_associations(behavior)?);
        settings::check_function_associations(behavior)?;
    }
    settings::check_geo_restriction(node)?;
    settings::check_minimum_protocol_version(node)?;

    let summary = SUMMARY_FIELDS
        .iter()
        .filter_map(|(name, default)| match child(node, name) {
            Some(element) => Some((*name, outer_text(text, element).to_owned())),
            None => default.map(|d| (*name, d.to_owned())),
        })
        .collect();

    Ok(DistributionConfig {
        inner: inner_text(text, node).to_owned(),
        caller_reference: caller_reference.to_owned(),
        enabled,
        oac_ids,
        associations,
        summary,
    })
}

fn invalid_association(message: String) -> CfError {
    CfError::bad_request("InvalidLambdaFunctionAssociation", message)
}

fn parse_associations(behavior: Node) -> Result<Vec<Association>, CfError> {
    let items = list_items(
        behavior,
        "LambdaFunctionAssociations",
        "LambdaFunctionAssociation",
    )?;
    if items.len() > 4 {
        return Err(CfError::bad_request(
            "TooManyLambdaFunctionAssociations",
            "Your request contains more Lambda@Edge function associations than are allowed per cache behavior (4).",
        ));
    }
    let mut seen_events: Vec<&str> = Vec::new();
    let mut associations = Vec::new();
    for item in items {
        let arn = required_text(item, "LambdaFunctionARN", "LambdaFunctionAssociation")?.trim();
        let event = required_text(item, "EventType", "LambdaFunctionAssociation")?.trim();
        let include_body = match child_text(item, "IncludeBody") {
            Some(text) => parse_bool(text, "IncludeBody")?,
            None => false,
        };
        if ![
            "viewer-request",
            "viewer-response",
            "origin-request",
            "origin-response",
        ]
        .contains(&event)
        {
            return Err(invalid_association(format!(
                "The event type {event} is not valid. ARN: {arn}"
            )));
        }
        if include_body && !event.ends_with("-request") {
            return Err(invalid_association(format!(
                "IncludeBody is only supported for viewer-request and origin-request events. ARN: {arn}"
            )));
        }
        if seen_events.contains(&event) {
            return Err(invalid_association(format!(
                "A cache behavior can have only one Lambda function association per event type ({event}). ARN: {arn}"
            )));
        }
        seen_events.push(event);
        let mut association = association_target(arn)?;
        association.event_type = event.to_owned();
        associations.push(association);
    }
    Ok(associations)
}

/// Checks the ARN's shape: a numbered version of a function in `us-east-1`.
pub(crate) fn association_target(arn: &str) -> Result<Association, CfError> {
    let function = FunctionRef::parse(arn)
        .filter(|f| f.region.is_some() && arn.starts_with("arn:"))
        .ok_or_else(|| invalid_association(format!("The function ARN is not valid. ARN: {arn}")))?;
    let version = function
        .qualifier
        .clone()
        .filter(|q| !q.is_empty() && q.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| {
            invalid_association(format!(
                "The function ARN must reference a specific function version. (The ARN must end with the version number.) ARN: {arn}"
            ))
        })?;
    if function.region.as_deref() != Some(EDGE_REGION) {
        return Err(invalid_association(format!(
            "The function must be in region '{EDGE_REGION}'. ARN: {arn}"
        )));
    }
    Ok(Association {
        arn: arn.to_owned(),
        function,
        version,
        event_type: String::new(),
    })
}

/// An `OriginAccessControlConfig`.
#[derive(Debug, Clone)]
pub(crate) struct OacConfig {
    pub inner: String,
    pub name: String,
    pub description: String,
    pub signing_protocol: String,
    pub signing_behavior: String,
    pub origin_type: String,
}

pub(crate) fn parse_oac_config(body: &[u8]) -> Result<OacConfig, CfError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| CfError::malformed("The request body is not UTF-8."))?;
    let doc = Document::parse(text).map_err(|e| {
        CfError::malformed(format!("The XML you provided was not well-formed: {e}"))
    })?;
    let node = doc.root_element();
    if node.tag_name().name() != "OriginAccessControlConfig" {
        return Err(CfError::malformed(
            "Expected an OriginAccessControlConfig element.",
        ));
    }
    let field =
        |name: &str| required_text(node, name, "OriginAccessControlConfig").map(str::to_owned);
    let config = OacConfig {
        inner: inner_text(text, node).to_owned(),
        name: field("Name")?,
        description: child_text(node, "Description").unwrap_or("").to_owned(),
        signing_protocol: field("SigningProtocol")?,
        signing_behavior: field("SigningBehavior")?,
        origin_type: field("OriginAccessControlOriginType")?,
    };
    if config.name.is_empty() || config.name.len() > 64 {
        return Err(CfError::invalid_argument(
            "The origin access control name must have 1 to 64 characters.",
        ));
    }
    if config.signing_protocol != "sigv4" {
        return Err(CfError::invalid_argument(format!(
            "SigningProtocol must be sigv4, not {}.",
            config.signing_protocol
        )));
    }
    if !["always", "never", "no-override"].contains(&config.signing_behavior.as_str()) {
        return Err(CfError::invalid_argument(format!(
            "SigningBehavior must be always, never or no-override, not {}.",
            config.signing_behavior
        )));
    }
    if !["s3", "mediastore", "lambda", "mediapackagev2"].contains(&config.origin_type.as_str()) {
        return Err(CfError::invalid_argument(format!(
            "OriginAccessControlOriginType must be s3, mediastore, lambda or mediapackagev2, not {}.",
            config.origin_type
        )));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(behaviors: &str, associations: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><CallerReference>ref-1</CallerReference><Origins><Quantity>1</Quantity><Items><Origin><Id>o1</Id><DomainName>x.lambda-url.eu-west-1.on.aws</DomainName><OriginAccessControlId>EOAC</OriginAccessControlId></Origin></Items></Origins><DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId><LambdaFunctionAssociations>{associations}</LambdaFunctionAssociations></DefaultCacheBehavior>{behaviors}<Comment>c &amp; d</Comment><Enabled>true</Enabled></DistributionConfig>"#
        )
    }

    #[test]
    fn the_config_is_kept_verbatim_and_its_checked_parts_parsed() {
        let body = config(
            "",
            "<Quantity>1</Quantity><Items><LambdaFunctionAssociation><LambdaFunctionARN>arn:aws:lambda:us-east-1:123456789012:function:signer:3</LambdaFunctionARN><EventType>origin-request</EventType><IncludeBody>true</IncludeBody></LambdaFunctionAssociation></Items>",
        );
        let (parsed, tags) = parse_distribution_request(body.as_bytes(), false).expect("valid");
        assert!(tags.is_empty());
        assert_eq!(parsed.caller_reference, "ref-1");
        assert!(parsed.enabled);
        assert_eq!(parsed.oac_ids, ["EOAC"]);
        assert_eq!(parsed.associations.len(), 1);
        assert_eq!(parsed.associations[0].version, "3");
        assert!(
            parsed
                .inner
                .starts_with("<CallerReference>ref-1</CallerReference>")
        );
        assert!(
            parsed
                .inner
                .ends_with("<Comment>c &amp; d</Comment><Enabled>true</Enabled>")
        );
        let names: Vec<&str> = parsed.summary.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"Aliases") && names.contains(&"Staging"));
    }

    #[test]
    fn associations_must_be_numbered_versions_in_us_east_1() {
        for (arn, wording) in [
            (
                "arn:aws:lambda:us-east-1:123456789012:function:signer:$LATEST",
                "specific function version",
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:signer:live",
                "specific function version",
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:signer",
                "specific function version",
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:signer:1",
                "region 'us-east-1'",
            ),
            ("signer:1", "not valid"),
        ] {
            let err = association_target(arn).expect_err(arn);
            assert_eq!(err.code, "InvalidLambdaFunctionAssociation");
            assert!(err.message.contains(wording), "{arn}: {}", err.message);
        }
    }

    #[test]
    fn quotas_and_targets_are_checked() {
        let behavior = "<CacheBehavior><PathPattern>/p</PathPattern><TargetOriginId>o1</TargetOriginId></CacheBehavior>";
        let many = format!(
            "<CacheBehaviors><Quantity>76</Quantity><Items>{}</Items></CacheBehaviors>",
            behavior.repeat(76)
        );
        let err =
            parse_distribution_request(config(&many, "<Quantity>0</Quantity>").as_bytes(), false)
                .expect_err("too many");
        assert_eq!(err.code, "TooManyCacheBehaviors");

        let stray = "<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/p</PathPattern><TargetOriginId>nope</TargetOriginId></CacheBehavior></Items></CacheBehaviors>";
        let err =
            parse_distribution_request(config(stray, "<Quantity>0</Quantity>").as_bytes(), false)
                .expect_err("no such origin");
        assert_eq!(err.code, "NoSuchOrigin");
    }
}
