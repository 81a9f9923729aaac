//! `verify`: for every URL of the model, find where it is served (its
//! distribution's domain, read back and proven by its `CallerReference`;
//! its function URL) and send the checks of [`crate::plan::verify`]. It
//! reads only that — `ListDistributions` and `GetDistribution` once per
//! distribution, `GetFunctionUrlConfig` once per URL — and writes nothing.
//!
//! A URL whose distribution does not route its path pattern yet is not
//! probed: a request there would reach the default origin and prove
//! nothing about the URL.

use serde::Serialize;

use super::engine::Engine;
use super::observe::find_distribution;
use crate::model::cloudfront::DistributionObserved;
use crate::plan::desired::{DesiredDistribution, DesiredModel, DesiredUrl};
use crate::plan::verify::{self, Check, CheckName, PROBE_BODY};
use crate::probe::{ProbeRequest, Prober};

/// One check as it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// `direct`, `through-distribution` or `method-refused`.
    pub name: CheckName,
    /// The method sent.
    pub method: &'static str,
    /// The URL requested.
    pub url: String,
    /// The answer's status, when there was one.
    pub status: Option<u16>,
    /// Whether the answer is the one wanted.
    pub ok: bool,
    /// Why there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything verified about one `ProtectedFunctionUrl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlVerification {
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// `https://<distribution domain><path>`, when found.
    pub protected_url: Option<String>,
    /// The function URL, when found.
    pub function_url: Option<String>,
    /// The checks made, in order.
    pub checks: Vec<CheckResult>,
    /// Why the checks could not be made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Every check made and passed, and nothing kept them from being made.
    pub ok: bool,
}

impl Engine {
    /// Verifies every URL of the model, rejected ones included (as not
    /// verifiable, with the rejection).
    /// `content_sha256`: whether bodies go with their `x-amz-content-sha256`
    /// (as AWS asks of callers behind an origin access control).
    pub async fn verify(
        &self,
        model: &DesiredModel,
        prober: &Prober,
        content_sha256: bool,
    ) -> Vec<UrlVerification> {
        let mut results = Vec::new();
        for distribution in &model.distributions {
            let found =
                find_distribution(self, &distribution.owner, distribution.known_id.as_deref())
                    .await
                    .map_err(|problem| problem.to_string());
            for url in &distribution.urls {
                let verification = match &found {
                    Ok(Some(observed)) => {
                        self.verify_url(url, observed, prober, content_sha256).await
                    }
                    Ok(None) => unverifiable(
                        url,
                        format!(
                            "EdgeDistribution {} has no distribution in AWS: apply it first",
                            describe(distribution)
                        ),
                    ),
                    Err(problem) => unverifiable(url, problem.clone()),
                };
                results.push(verification);
            }
        }
        results.extend(model.rejected.iter().map(|rejected| UrlVerification {
            namespace: rejected.owner.namespace.clone(),
            name: rejected.owner.name.clone(),
            protected_url: None,
            function_url: None,
            checks: Vec::new(),
            problem: Some(rejected.rejection.to_string()),
            ok: false,
        }));
        results
    }

    async fn verify_url(
        &self,
        url: &DesiredUrl,
        distribution: &DistributionObserved,
        prober: &Prober,
        content_sha256: bool,
    ) -> UrlVerification {
        let spec = &url.spec;
        let function = &spec.function;
        let protected_url = format!(
            "https://{}{}",
            distribution.domain_name,
            verify::request_path(&spec.path_pattern)
        );
        let config = self
            .aws
            .lambda(&function.region)
            .get_url_config(&function.name, function.qualifier.as_deref())
            .await;
        let function_url = match config {
            Ok(Some(config)) => config.function_url,
            Ok(None) => {
                return unverifiable(
                    url,
                    format!(
                        "spec.function: {} in {} has no function URL: apply it first",
                        function.name, function.region
                    ),
                );
            }
            Err(error) => return unverifiable(url, error.to_string()),
        };
        let routed = distribution
            .config
            .behaviors
            .iter()
            .any(|b| b.path_pattern.as_deref() == Some(spec.path_pattern.as_str()));
        if !routed {
            let mut verification = unverifiable(
                url,
                format!(
                    "spec.pathPattern: distribution {} has no behavior for {} (not applied yet, or changed out of band: run apply)",
                    distribution.id, spec.path_pattern
                ),
            );
            verification.function_url = Some(function_url);
            return verification;
        }
        let checks = verify::checks(
            &function_url,
            &distribution.domain_name,
            &spec.path_pattern,
            &spec.allowed_methods,
        );
        let mut results = Vec::with_capacity(checks.len());
        for check in &checks {
            results.push(run(prober, check, content_sha256).await);
        }
        UrlVerification {
            namespace: url.owner.namespace.clone(),
            name: url.owner.name.clone(),
            protected_url: Some(protected_url),
            function_url: Some(function_url),
            ok: results.iter().all(|r| r.ok),
            checks: results,
            problem: None,
        }
    }
}

async fn run(prober: &Prober, check: &Check, content_sha256: bool) -> CheckResult {
    let request = ProbeRequest {
        method: check.method.as_str(),
        url: &check.url,
        body: check.with_body.then_some(PROBE_BODY),
        content_sha256,
    };
    let answer = prober.status(&request).await;
    let (status, error) = match answer {
        Ok(status) => (Some(status), None),
        Err(error) => (None, Some(error.to_string())),
    };
    CheckResult {
        name: check.name,
        method: check.method.as_str(),
        url: check.url.clone(),
        status,
        ok: status.is_some_and(|s| check.passes(s)),
        error,
    }
}

fn unverifiable(url: &DesiredUrl, problem: String) -> UrlVerification {
    UrlVerification {
        namespace: url.owner.namespace.clone(),
        name: url.owner.name.clone(),
        protected_url: None,
        function_url: None,
        checks: Vec::new(),
        problem: Some(problem),
        ok: false,
    }
}

fn describe(distribution: &DesiredDistribution) -> String {
    format!(
        "{}/{}",
        distribution.owner.namespace, distribution.owner.name
    )
}
