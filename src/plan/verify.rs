//! What `urlguard verify` asks of the data path, and how it judges the
//! answers: the checks that together prove "CloudFront is the only door".
//!
//! For each URL, in order:
//! - `direct`: the function URL itself, unsigned, must answer `403`
//!   (`AWS_IAM` refuses every caller that is not signed and allowed);
//! - `through-distribution`: the protected URL, once per allowed method
//!   (with a body on the methods that carry one), must get the function's
//!   answer — anything but `403` or a `5xx`;
//! - `method-refused`: where the allowed set is not all seven methods, one
//!   outside it must get CloudFront's `403`.
//!
//! The body methods send `x-amz-content-sha256` (unless told not to), as
//! AWS asks of callers of a URL behind an origin access control ("Restricting access to an AWS
//! Lambda function URL origin",
//! <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html>):
//! a correct client passes under both protections.

use serde::Serialize;

use crate::api::HttpMethod;

/// The body sent on `POST`, `PUT` and `PATCH`.
pub const PROBE_BODY: &[u8] = br#"{"urlguard":"verify"}"#;

/// Which of the three questions a check asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckName {
    /// The function URL, called directly and unsigned.
    Direct,
    /// The protected URL, with an allowed method.
    ThroughDistribution,
    /// The protected URL, with a method the behavior does not allow.
    MethodRefused,
}

impl CheckName {
    /// What the check wants, as printed after a failure.
    pub const fn wanted(self) -> &'static str {
        match self {
            CheckName::Direct => "403: the function URL refuses unsigned callers",
            CheckName::ThroughDistribution => {
                "the function's answer (not 403, 413 or 5xx): the distribution lets it through"
            }
            CheckName::MethodRefused => "CloudFront's 403 for a method the behavior does not allow",
        }
    }

    /// The kebab-case name, as printed.
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckName::Direct => "direct",
            CheckName::ThroughDistribution => "through-distribution",
            CheckName::MethodRefused => "method-refused",
        }
    }
}

/// One request to make and what its answer must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The question it answers.
    pub name: CheckName,
    /// The method to send.
    pub method: HttpMethod,
    /// The full `https://` URL (its host goes into `Host`).
    pub url: String,
    /// Whether to send [`PROBE_BODY`].
    pub with_body: bool,
}

impl Check {
    /// Whether an answer with this status passes: `direct` and
    /// `method-refused` want a refusal; `through-distribution` wants the
    /// function's own answer (a `403` is a refusal on the way in, a `413`
    /// a body that could not reach the function whole, a `5xx` a failure
    /// of the signer, the origin or the function).
    pub fn passes(&self, status: u16) -> bool {
        match self.name {
            CheckName::Direct | CheckName::MethodRefused => status == 403,
            CheckName::ThroughDistribution => !matches!(status, 403 | 413) && status < 500,
        }
    }
}

/// The path a request sends to match `path_pattern`: CloudFront's `*`
/// matches any run of characters (none is fine) and `?` exactly one.
pub fn request_path(path_pattern: &str) -> String {
    let path: String = path_pattern
        .chars()
        .filter(|c| *c != '*')
        .map(|c| if c == '?' { 'x' } else { c })
        .collect();
    if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    }
}

/// Every check of one URL, in the order they run.
pub fn checks(
    function_url: &str,
    distribution_domain: &str,
    path_pattern: &str,
    allowed: &[HttpMethod],
) -> Vec<Check> {
    let protected = format!(
        "https://{distribution_domain}{}",
        request_path(path_pattern)
    );
    let mut checks = vec![Check {
        name: CheckName::Direct,
        method: HttpMethod::Get,
        url: function_url.to_owned(),
        with_body: false,
    }];
    checks.extend(allowed.iter().map(|&method| Check {
        name: CheckName::ThroughDistribution,
        method,
        url: protected.clone(),
        with_body: carries_body(method),
    }));
    if let Some(method) = REFUSED_PREFERENCE
        .into_iter()
        .find(|m| !allowed.contains(m))
    {
        checks.push(Check {
            name: CheckName::MethodRefused,
            method,
            url: protected,
            with_body: carries_body(method),
        });
    }
    checks
}

/// The method tried outside the allowed set: a write first, because a
/// write reaching a read-only URL is the failure that matters.
const REFUSED_PREFERENCE: [HttpMethod; 7] = [
    HttpMethod::Post,
    HttpMethod::Delete,
    HttpMethod::Put,
    HttpMethod::Patch,
    HttpMethod::Options,
    HttpMethod::Head,
    HttpMethod::Get,
];

fn carries_body(method: HttpMethod) -> bool {
    matches!(
        method,
        HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FUNCTION_URL: &str = "https://abc.lambda-url.eu-west-1.on.aws/";

    #[test]
    fn request_paths_match_their_patterns() {
        assert_eq!(request_path("/books*"), "/books");
        assert_eq!(request_path("/api/*"), "/api/");
        assert_eq!(request_path("/img/*.jpg"), "/img/.jpg");
        assert_eq!(request_path("/v?/items"), "/vx/items");
        assert_eq!(request_path("books"), "/books");
    }

    #[test]
    fn a_url_that_allows_options_gets_a_write_refused() {
        let allowed = [HttpMethod::Get, HttpMethod::Head, HttpMethod::Options];
        let got = checks(FUNCTION_URL, "d1.cloudfront.net", "/a", &allowed);
        assert_eq!(got.len(), 5);
        let refused = got.last().expect("checks");
        assert_eq!(refused.name, CheckName::MethodRefused);
        assert_eq!(refused.method, HttpMethod::Post);
        assert!(refused.with_body);
    }

    #[test]
    fn read_only_urls_get_one_refused_method() {
        let got = checks(
            FUNCTION_URL,
            "d1.cloudfront.net",
            "/books*",
            &[HttpMethod::Get, HttpMethod::Head],
        );
        let names: Vec<(CheckName, HttpMethod, bool)> = got
            .iter()
            .map(|c| (c.name, c.method, c.with_body))
            .collect();
        assert_eq!(
            names,
            [
                (CheckName::Direct, HttpMethod::Get, false),
                (CheckName::ThroughDistribution, HttpMethod::Get, false),
                (CheckName::ThroughDistribution, HttpMethod::Head, false),
                (CheckName::MethodRefused, HttpMethod::Post, true),
            ]
        );
        assert_eq!(got[0].url, FUNCTION_URL);
        assert_eq!(got[1].url, "https://d1.cloudfront.net/books");
    }

    #[test]
    fn all_seven_methods_leave_nothing_to_refuse_and_send_bodies() {
        let got = checks(
            FUNCTION_URL,
            "d1.cloudfront.net",
            "/api/*",
            &REFUSED_PREFERENCE,
        );
        assert_eq!(got.len(), 8);
        assert!(got.iter().all(|c| c.name != CheckName::MethodRefused));
        let mut with_body: Vec<HttpMethod> = got
            .iter()
            .filter(|c| c.with_body)
            .map(|c| c.method)
            .collect();
        with_body.sort();
        assert_eq!(
            with_body,
            [HttpMethod::Put, HttpMethod::Patch, HttpMethod::Post]
        );
    }

    #[test]
    fn refusals_pass_only_on_403_and_answers_only_when_neither_refused_nor_failed() {
        let direct = &checks(FUNCTION_URL, "d", "/a", &[HttpMethod::Get])[0];
        assert!(direct.passes(403));
        assert!(!direct.passes(200));
        assert!(!direct.passes(401));
        let through = &checks(FUNCTION_URL, "d", "/a", &[HttpMethod::Get])[1];
        assert!(through.passes(200));
        assert!(through.passes(404), "the function's own 404 is its answer");
        assert!(!through.passes(403));
        assert!(
            !through.passes(413),
            "a body cut at the edge never reached the function"
        );
        assert!(!through.passes(502));
    }
}
