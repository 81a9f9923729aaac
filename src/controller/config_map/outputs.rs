//! What an object's ConfigMap holds: its outputs, under keys named like
//! the status fields they come from.
//!
//! - `ProtectedFunctionUrl`: `protectedUrl`, `functionUrl`, `functionArn`,
//!   `distributionId` and `domainName` (its distribution's domain).
//! - `EdgeDistribution`: `distributionId`, `distributionArn`, `domainName`,
//!   and `protectedUrl.<url name>` for each attached `ProtectedFunctionUrl`
//!   (a URL whose key would pass a ConfigMap key's 253 characters is left
//!   out), so that one ConfigMap configures a whole single-page app.
//!
//! A pass that could not learn a value (an AWS error, a URL held by a
//! retry pass, a distribution that does not exist yet) keeps the one the
//! ConfigMap has: workloads never see a key vanish because AWS did not
//! answer once. A key goes only with its source: a URL that leaves the
//! distribution, or the export itself.

use std::collections::BTreeMap;

use crate::api::{EdgeDistributionStatus, ProtectedFunctionUrlStatus};
use crate::reconcile::{ResourceReport, Status};

/// The URL to call, through the distribution.
pub const PROTECTED_URL: &str = "protectedUrl";
/// The function URL itself (answers only signed requests).
pub const FUNCTION_URL: &str = "functionUrl";
/// The function's ARN.
pub const FUNCTION_ARN: &str = "functionArn";
/// The CloudFront distribution id.
pub const DISTRIBUTION_ID: &str = "distributionId";
/// The CloudFront distribution ARN.
pub const DISTRIBUTION_ARN: &str = "distributionArn";
/// The distribution's domain name.
pub const DOMAIN_NAME: &str = "domainName";

/// The longest ConfigMap key.
const KEY_MAX: usize = 253;

/// What one pass learnt of an object's outputs: per key, the value found,
/// or `None` when the pass could not learn it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Learnt(BTreeMap<String, Option<String>>);

impl Learnt {
    /// What a pass learnt of `report`'s object, from all its `reports`
    /// (a distribution's with its URLs') and, for a distribution, the
    /// names of the URLs `attached` to it.
    pub fn of_report(
        report: &ResourceReport,
        reports: &[ResourceReport],
        attached: &[String],
    ) -> Learnt {
        match &report.found {
            Status::Url(status) => {
                let domain = reports.iter().find_map(|r| match &r.found {
                    Status::Distribution(distribution) => distribution.domain_name.as_deref(),
                    Status::Url(_) => None,
                });
                Learnt::of_url(status, domain)
            }
            Status::Distribution(status) => {
                let urls: Vec<(String, Option<String>)> = attached
                    .iter()
                    .map(|name| {
                        let found = reports.iter().find_map(|r| match &r.found {
                            Status::Url(url) if r.name == *name => url.protected_url.clone(),
                            _ => None,
                        });
                        (name.clone(), found)
                    })
                    .collect();
                Learnt::of_distribution(status, &urls)
            }
        }
    }

    /// A `ProtectedFunctionUrl`'s outputs, from the status its pass found
    /// and its distribution's domain (when that pass read the distribution).
    pub fn of_url(status: &ProtectedFunctionUrlStatus, domain: Option<&str>) -> Learnt {
        Learnt(BTreeMap::from([
            (PROTECTED_URL.to_owned(), status.protected_url.clone()),
            (FUNCTION_URL.to_owned(), status.function_url.clone()),
            (FUNCTION_ARN.to_owned(), status.function_arn.clone()),
            (DISTRIBUTION_ID.to_owned(), status.distribution_id.clone()),
            (DOMAIN_NAME.to_owned(), domain.map(str::to_owned)),
        ]))
    }

    /// An `EdgeDistribution`'s outputs, from the status its pass found and
    /// its attached URLs: each one's name and the protected URL its pass
    /// found (`None` when it was not reported or had none).
    pub fn of_distribution(
        status: &EdgeDistributionStatus,
        urls: &[(String, Option<String>)],
    ) -> Learnt {
        let mut learnt = BTreeMap::from([
            (DISTRIBUTION_ID.to_owned(), status.distribution_id.clone()),
            (DISTRIBUTION_ARN.to_owned(), status.distribution_arn.clone()),
            (DOMAIN_NAME.to_owned(), status.domain_name.clone()),
        ]);
        for (name, protected_url) in urls {
            if let Some(key) = url_key(name) {
                learnt.insert(key, protected_url.clone());
            }
        }
        Learnt(learnt)
    }

    /// The ConfigMap's data: each key's learnt value, else the one in
    /// `current`; a key with neither is left out.
    pub fn data(&self, current: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter_map(|(key, learnt)| {
                learnt
                    .clone()
                    .or_else(|| current.get(key).cloned())
                    .map(|value| (key.clone(), value))
            })
            .collect()
    }
}

/// The key of URL `name`'s protected URL in its distribution's ConfigMap;
/// `None` when it would be longer than a ConfigMap key may be. URL names
/// are lowercase, so no such key meets a fixed one.
fn url_key(name: &str) -> Option<String> {
    let key = format!("{PROTECTED_URL}.{name}");
    (key.len() <= KEY_MAX).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_url_publishes_its_status_outputs_and_its_distributions_domain() {
        let status = ProtectedFunctionUrlStatus {
            protected_url: Some("https://d1.cloudfront.net/getBooks".into()),
            function_url: Some("https://abc.lambda-url.eu-west-1.on.aws/".into()),
            function_arn: Some("arn:aws:lambda:eu-west-1:123456789012:function:f".into()),
            distribution_id: Some("E1".into()),
            url_parameter: Some("/books/GetBooksUrl".into()),
            ..ProtectedFunctionUrlStatus::default()
        };
        let data = Learnt::of_url(&status, Some("d1.cloudfront.net")).data(&BTreeMap::new());
        assert_eq!(
            data,
            current(&[
                ("distributionId", "E1"),
                ("domainName", "d1.cloudfront.net"),
                (
                    "functionArn",
                    "arn:aws:lambda:eu-west-1:123456789012:function:f"
                ),
                ("functionUrl", "https://abc.lambda-url.eu-west-1.on.aws/"),
                ("protectedUrl", "https://d1.cloudfront.net/getBooks"),
            ])
        );
    }

    #[test]
    fn a_value_not_learnt_keeps_the_one_the_config_map_has() {
        // An AWS error: the pass found the function URL, not the rest.
        let status = ProtectedFunctionUrlStatus {
            function_url: Some("https://new.lambda-url.eu-west-1.on.aws/".into()),
            ..ProtectedFunctionUrlStatus::default()
        };
        let before = current(&[
            ("protectedUrl", "https://d1.cloudfront.net/getBooks"),
            ("functionUrl", "https://old.lambda-url.eu-west-1.on.aws/"),
            ("someoneElses", "kept by server-side apply, not by urlguard"),
        ]);
        let data = Learnt::of_url(&status, None).data(&before);
        assert_eq!(
            data,
            current(&[
                ("functionUrl", "https://new.lambda-url.eu-west-1.on.aws/"),
                ("protectedUrl", "https://d1.cloudfront.net/getBooks"),
            ])
        );
        assert!(
            Learnt::of_url(&ProtectedFunctionUrlStatus::default(), None)
                .data(&BTreeMap::new())
                .is_empty(),
            "nothing learnt, nothing there: an empty ConfigMap"
        );
    }

    #[test]
    fn a_distribution_lists_its_urls_and_drops_one_that_left() {
        let status = EdgeDistributionStatus {
            distribution_id: Some("E1".into()),
            distribution_arn: Some("arn:aws:cloudfront::123456789012:distribution/E1".into()),
            domain_name: Some("d1.cloudfront.net".into()),
            ..EdgeDistributionStatus::default()
        };
        let before = current(&[
            (
                "protectedUrl.get-book",
                "https://d1.cloudfront.net/getBook/",
            ),
            (
                "protectedUrl.delete-book",
                "https://d1.cloudfront.net/deleteBook/",
            ),
        ]);
        // get-books reported; get-book held by a retry pass; delete-book
        // left the distribution.
        let urls = [
            (
                "get-books".to_owned(),
                Some("https://d1.cloudfront.net/getBooks".to_owned()),
            ),
            ("get-book".to_owned(), None),
        ];
        let data = Learnt::of_distribution(&status, &urls).data(&before);
        assert_eq!(
            data,
            current(&[
                (
                    "distributionArn",
                    "arn:aws:cloudfront::123456789012:distribution/E1"
                ),
                ("distributionId", "E1"),
                ("domainName", "d1.cloudfront.net"),
                (
                    "protectedUrl.get-book",
                    "https://d1.cloudfront.net/getBook/"
                ),
                (
                    "protectedUrl.get-books",
                    "https://d1.cloudfront.net/getBooks"
                ),
            ])
        );
    }

    #[test]
    fn a_url_whose_key_would_be_too_long_is_left_out() {
        let long = "a".repeat(241);
        assert_eq!(url_key(&"a".repeat(240)).map(|k| k.len()), Some(253));
        let urls = [(long, Some("https://d1.cloudfront.net/x".to_owned()))];
        let data = Learnt::of_distribution(&EdgeDistributionStatus::default(), &urls)
            .data(&BTreeMap::new());
        assert!(data.is_empty(), "{data:?}");
    }
}
