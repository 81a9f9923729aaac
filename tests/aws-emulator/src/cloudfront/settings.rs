//! What CloudFront refuses in a config's viewer-facing settings and origin
//! headers, checked without state when a config arrives: the geo
//! restriction, origin custom headers, CloudFront Functions associations
//! and the viewer security policy. Error codes are the API reference's
//! (`UpdateDistribution` errors); the messages are ours.
//!
//! - `GeoRestriction`: `none`, `whitelist` or `blacklist`
//!   (`InvalidGeoRestrictionParameter`); countries only with a restricting
//!   type, at least one then; each two upper-case letters
//!   (`InvalidLocationCode`).
//! - `CustomHeaders`: at most 10 per origin (`TooManyOriginCustomHeaders`;
//!   Developer Guide, "Quotas"); no name CloudFront cannot add (Developer
//!   Guide, "Custom headers that CloudFront can't add to origin requests"),
//!   none twice in any case, names of at most 256 and values of at most
//!   1,783 characters, 10,240 together (`InvalidArgument`).
//! - `FunctionAssociations`: viewer events only, one function per event
//!   (`InvalidFunctionAssociation`), at most two (`TooManyFunctionAssociations`),
//!   ARNs of the shape `arn:aws:cloudfront::<account>:function/<name>`.
//!   CloudFront Functions themselves are not emulated: whether the function
//!   exists and is published to `LIVE` is not checked.
//! - `MinimumProtocolVersion`: a policy CloudFront knows, and with
//!   `sni-only` not `SSLv3` (`InvalidMinimumProtocolVersion`; API
//!   reference, `ViewerCertificate`: "you must specify TLSv1 or higher").

use roxmltree::Node;

use super::xml::{CfError, child, child_text, list_items};

/// CloudFront's quota of custom headers per origin.
const MAX_CUSTOM_HEADERS: usize = 10;
/// The longest header name CloudFront takes.
const MAX_HEADER_NAME: usize = 256;
/// The longest header value CloudFront takes.
const MAX_HEADER_VALUE: usize = 1783;
/// CloudFront's quota of header names and values together, per origin.
const MAX_HEADERS_TOTAL: usize = 10_240;

/// Headers CloudFront cannot add to origin requests, lower-case.
const REFUSED_HEADERS: [&str; 22] = [
    "cache-control",
    "connection",
    "content-length",
    "cookie",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "max-forwards",
    "pragma",
    "proxy-authorization",
    "proxy-connection",
    "range",
    "request-range",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "x-real-ip",
];

/// Header name prefixes CloudFront cannot add, lower-case.
const REFUSED_PREFIXES: [&str; 2] = ["x-amz-", "x-edge-"];

/// The security policies CloudFront knows.
const SECURITY_POLICIES: [&str; 9] = [
    "SSLv3",
    "TLSv1",
    "TLSv1_2016",
    "TLSv1.1_2016",
    "TLSv1.2_2018",
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
];

/// `Restrictions/GeoRestriction` of a `DistributionConfig`.
pub(crate) fn check_geo_restriction(config: Node) -> Result<(), CfError> {
    let Some(restrictions) = child(config, "Restrictions") else {
        return Ok(());
    };
    let Some(geo) = child(restrictions, "GeoRestriction") else {
        return Ok(());
    };
    let kind = child_text(geo, "RestrictionType").unwrap_or("").trim();
    let locations = list_items(restrictions, "GeoRestriction", "Location")?;
    let restricts = match kind {
        "none" => false,
        "whitelist" | "blacklist" => true,
        other => {
            return Err(CfError::bad_request(
                "InvalidGeoRestrictionParameter",
                format!("The RestrictionType {other} is not valid: none, whitelist or blacklist."),
            ));
        }
    };
    if restricts == locations.is_empty() {
        return Err(CfError::bad_request(
            "InvalidGeoRestrictionParameter",
            format!(
                "A {kind} geo restriction takes {} Location.",
                if restricts { "at least one" } else { "no" }
            ),
        ));
    }
    for location in locations {
        let code = location.text().unwrap_or("").trim();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(CfError::bad_request(
                "InvalidLocationCode",
                format!("The location code {code} is not an ISO 3166-1 alpha-2 code."),
            ));
        }
    }
    Ok(())
}

/// One origin's `CustomHeaders`.
pub(crate) fn check_custom_headers(origin: Node) -> Result<(), CfError> {
    let headers = list_items(origin, "CustomHeaders", "OriginCustomHeader")?;
    if headers.len() > MAX_CUSTOM_HEADERS {
        return Err(CfError::bad_request(
            "TooManyOriginCustomHeaders",
            format!(
                "Your request contains too many origin custom headers. (limit {MAX_CUSTOM_HEADERS})"
            ),
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut total = 0;
    for header in headers {
        let name = child_text(header, "HeaderName").unwrap_or("");
        let value = child_text(header, "HeaderValue").unwrap_or("");
        let lower = name.to_ascii_lowercase();
        if REFUSED_HEADERS.contains(&lower.as_str())
            || REFUSED_PREFIXES.iter().any(|p| lower.starts_with(p))
        {
            return Err(CfError::invalid_argument(format!(
                "The parameter HeaderName : {name} is not allowed."
            )));
        }
        if name.is_empty() || name.len() > MAX_HEADER_NAME || value.len() > MAX_HEADER_VALUE {
            return Err(CfError::invalid_argument(format!(
                "The origin custom header {name} is too long or empty."
            )));
        }
        if seen.contains(&lower) {
            return Err(CfError::invalid_argument(format!(
                "The origin custom header {name} appears more than once."
            )));
        }
        seen.push(lower);
        total += name.len() + value.len();
    }
    if total > MAX_HEADERS_TOTAL {
        return Err(CfError::invalid_argument(format!(
            "The origin custom headers have more than {MAX_HEADERS_TOTAL} characters together."
        )));
    }
    Ok(())
}

/// One behavior's `FunctionAssociations`.
pub(crate) fn check_function_associations(behavior: Node) -> Result<(), CfError> {
    let items = list_items(behavior, "FunctionAssociations", "FunctionAssociation")?;
    if items.len() > 2 {
        return Err(CfError::bad_request(
            "TooManyFunctionAssociations",
            "Your request contains more CloudFront Functions associations than are allowed per cache behavior.",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        let arn = child_text(item, "FunctionARN").unwrap_or("").trim();
        let event = child_text(item, "EventType").unwrap_or("").trim();
        if !["viewer-request", "viewer-response"].contains(&event) {
            return Err(invalid_function(format!(
                "CloudFront Functions run on viewer-request and viewer-response only, not {event}. ARN: {arn}"
            )));
        }
        if seen.contains(&event) {
            return Err(invalid_function(format!(
                "A cache behavior can have only one function per event type ({event}). ARN: {arn}"
            )));
        }
        seen.push(event);
        if !is_function_arn(arn) {
            return Err(invalid_function(format!(
                "The function ARN is not valid. ARN: {arn}"
            )));
        }
    }
    Ok(())
}

fn invalid_function(message: String) -> CfError {
    CfError::bad_request("InvalidFunctionAssociation", message)
}

/// `arn:<partition>:cloudfront::<12 digits>:function/<1-64 of [A-Za-z0-9_-]>`.
fn is_function_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let name = resource.strip_prefix("function/").unwrap_or("");
    scheme == "arn"
        && partition.starts_with("aws")
        && service == "cloudfront"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `ViewerCertificate/MinimumProtocolVersion`.
pub(crate) fn check_minimum_protocol_version(config: Node) -> Result<(), CfError> {
    let Some(certificate) = child(config, "ViewerCertificate") else {
        return Ok(());
    };
    let Some(policy) = child_text(certificate, "MinimumProtocolVersion").map(str::trim) else {
        return Ok(());
    };
    let sni_only = child_text(certificate, "SSLSupportMethod").map(str::trim) == Some("sni-only");
    if !SECURITY_POLICIES.contains(&policy) || (sni_only && policy == "SSLv3") {
        return Err(CfError::bad_request(
            "InvalidMinimumProtocolVersion",
            format!(
                "The minimum protocol version {policy} is not valid here (with sni-only, TLSv1 or higher)."
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use roxmltree::Document;

    use super::*;

    fn checked(xml: &str, check: fn(Node) -> Result<(), CfError>) -> Result<(), &'static str> {
        let doc = Document::parse(xml).expect("xml");
        check(doc.root_element()).map_err(|e| e.code)
    }

    fn geo(inner: &str) -> Result<(), &'static str> {
        checked(
            &format!(
                "<C><Restrictions><GeoRestriction>{inner}</GeoRestriction></Restrictions></C>"
            ),
            check_geo_restriction,
        )
    }

    #[test]
    fn geo_restrictions_need_countries_exactly_when_they_restrict() {
        assert_eq!(
            geo("<RestrictionType>none</RestrictionType><Quantity>0</Quantity>"),
            Ok(())
        );
        assert_eq!(
            geo(
                "<RestrictionType>whitelist</RestrictionType><Quantity>1</Quantity><Items><Location>DE</Location></Items>"
            ),
            Ok(())
        );
        assert_eq!(
            geo("<RestrictionType>blacklist</RestrictionType><Quantity>0</Quantity>"),
            Err("InvalidGeoRestrictionParameter")
        );
        assert_eq!(
            geo(
                "<RestrictionType>none</RestrictionType><Quantity>1</Quantity><Items><Location>DE</Location></Items>"
            ),
            Err("InvalidGeoRestrictionParameter")
        );
        assert_eq!(
            geo("<RestrictionType>allow</RestrictionType><Quantity>0</Quantity>"),
            Err("InvalidGeoRestrictionParameter")
        );
        assert_eq!(
            geo(
                "<RestrictionType>whitelist</RestrictionType><Quantity>1</Quantity><Items><Location>de</Location></Items>"
            ),
            Err("InvalidLocationCode")
        );
    }

    fn headers(pairs: &[(&str, &str)]) -> Result<(), &'static str> {
        let items: String = pairs
            .iter()
            .map(|(n, v)| {
                format!(
                    "<OriginCustomHeader><HeaderName>{n}</HeaderName><HeaderValue>{v}</HeaderValue></OriginCustomHeader>"
                )
            })
            .collect();
        checked(
            &format!(
                "<Origin><CustomHeaders><Quantity>{}</Quantity><Items>{items}</Items></CustomHeaders></Origin>",
                pairs.len()
            ),
            check_custom_headers,
        )
    }

    #[test]
    fn custom_headers_cloudfront_cannot_add_are_refused() {
        assert_eq!(headers(&[("X-Origin-Verify", "s3cr3t")]), Ok(()));
        for name in ["Host", "x-amz-date", "X-Edge-Location", "X-Real-IP", "te"] {
            assert_eq!(headers(&[(name, "v")]), Err("InvalidArgument"), "{name}");
        }
        assert_eq!(
            headers(&[("X-A", "1"), ("x-a", "2")]),
            Err("InvalidArgument")
        );
        let names: Vec<String> = (0..11).map(|i| format!("X-H{i}")).collect();
        let eleven: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        assert_eq!(headers(&eleven), Err("TooManyOriginCustomHeaders"));
        let long = "v".repeat(1783);
        let six: Vec<(&str, &str)> = names[..6]
            .iter()
            .map(|n| (n.as_str(), long.as_str()))
            .collect();
        assert_eq!(headers(&six), Err("InvalidArgument"));
    }

    fn functions(items: &[(&str, &str)]) -> Result<(), &'static str> {
        let xml: String = items
            .iter()
            .map(|(event, arn)| {
                format!(
                    "<FunctionAssociation><FunctionARN>{arn}</FunctionARN><EventType>{event}</EventType></FunctionAssociation>"
                )
            })
            .collect();
        checked(
            &format!(
                "<B><FunctionAssociations><Quantity>{}</Quantity><Items>{xml}</Items></FunctionAssociations></B>",
                items.len()
            ),
            check_function_associations,
        )
    }

    #[test]
    fn function_associations_are_viewer_events_once_each_by_function_arn() {
        const ARN: &str = "arn:aws:cloudfront::123456789012:function/index-html";
        assert_eq!(
            functions(&[("viewer-request", ARN), ("viewer-response", ARN)]),
            Ok(())
        );
        assert_eq!(
            functions(&[("viewer-request", ARN), ("viewer-request", ARN)]),
            Err("InvalidFunctionAssociation")
        );
        assert_eq!(
            functions(&[("origin-request", ARN)]),
            Err("InvalidFunctionAssociation")
        );
        for arn in [
            "arn:aws:lambda:us-east-1:123456789012:function:edge:1",
            "arn:aws:cloudfront:us-east-1:123456789012:function/x",
            "arn:aws:cloudfront::123456789012:function/",
        ] {
            assert_eq!(
                functions(&[("viewer-request", arn)]),
                Err("InvalidFunctionAssociation"),
                "{arn}"
            );
        }
    }

    #[test]
    fn sni_only_takes_tls_1_or_newer() {
        let certificate = |policy: &str| {
            checked(
                &format!(
                    "<C><ViewerCertificate><SSLSupportMethod>sni-only</SSLSupportMethod><MinimumProtocolVersion>{policy}</MinimumProtocolVersion></ViewerCertificate></C>"
                ),
                check_minimum_protocol_version,
            )
        };
        assert_eq!(certificate("TLSv1.2_2021"), Ok(()));
        assert_eq!(certificate("TLSv1.3_2025"), Ok(()));
        assert_eq!(certificate("SSLv3"), Err("InvalidMinimumProtocolVersion"));
        assert_eq!(certificate("TLSv9"), Err("InvalidMinimumProtocolVersion"));
    }
}
