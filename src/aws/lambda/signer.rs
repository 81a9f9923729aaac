//! The Lambda@Edge signer function urlguard owns: read with every numbered
//! version, created, updated, waited for, published and deleted.
//!
//! Decisions written down here:
//! - Creating or reconfiguring the signer with a role IAM has not propagated
//!   yet fails with "The role defined for the function cannot be assumed by
//!   Lambda"; those calls are retried with backoff for about a minute (each
//!   attempt is a call in the ledger).
//! - `wait_signer_ready` accepts `Inactive` like `Active`: an idle `$LATEST`
//!   goes inactive and updates reactivate it; waiting would never end.

use std::future::Future;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, FunctionCode, LastUpdateStatus, Runtime, State};
use tokio::time::Instant;

use super::{Lambda, SERVICE, ok_if_absent, unqualified_arn};
use crate::aws::call::call;
use crate::aws::error::AwsError;
use crate::model::OWNER_TAG_KEY;
use crate::model::lambda::{FunctionVersion, SignerConfig, SignerObserved};

/// How long a role may take to become assumable by Lambda after IAM created
/// or changed it.
const ROLE_PROPAGATION_DEADLINE: Duration = Duration::from_secs(60);

/// How long a function may stay `Pending` or `InProgress`.
const READY_DEADLINE: Duration = Duration::from_secs(300);

/// The settings of one function version as Lambda reports them (the output
/// types of `GetFunctionConfiguration`, `PublishVersion`, ... share these
/// accessors but no type).
macro_rules! signer_config {
    ($c:expr) => {
        SignerConfig {
            code_sha256: $c.code_sha256().unwrap_or_default().to_owned(),
            memory_size: $c.memory_size().unwrap_or_default(),
            timeout_seconds: $c.timeout().unwrap_or_default(),
            runtime: $c
                .runtime()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            role_arn: $c.role().unwrap_or_default().to_owned(),
            handler: $c.handler().unwrap_or_default().to_owned(),
        }
    };
}

impl Lambda {
    /// The signer function with its owner tag, `$LATEST` and every
    /// numbered version (`GetFunction`, then `ListVersionsByFunction` page
    /// by page); `None` when it does not exist.
    pub async fn get_signer(&self, name: &str) -> Result<Option<SignerObserved>, AwsError> {
        let request = self.client.get_function().function_name(name).send();
        let output = match call(&self.door, SERVICE, "GetFunction", request).await {
            Ok(output) => output,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(latest) = output.configuration() else {
            return Err(AwsError::invalid_response(
                SERVICE,
                "GetFunction",
                "the answer holds no configuration",
            ));
        };
        let function_arn = unqualified_arn(latest.function_arn().unwrap_or_default()).to_owned();
        let owner = output
            .tags()
            .and_then(|tags| tags.get(OWNER_TAG_KEY))
            .cloned();
        let mut versions = vec![FunctionVersion {
            version: "$LATEST".to_owned(),
            arn: format!("{function_arn}:$LATEST"),
            config: signer_config!(latest),
        }];

        let mut marker: Option<String> = None;
        loop {
            let request = self
                .client
                .list_versions_by_function()
                .function_name(name)
                .set_marker(marker.take())
                .send();
            let page = match call(&self.door, SERVICE, "ListVersionsByFunction", request).await {
                Ok(page) => page,
                // Deleted between the two calls.
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            };
            for version in page.versions() {
                let number = version.version().unwrap_or_default();
                if number.is_empty() || number == "$LATEST" {
                    continue;
                }
                let arn = match version.function_arn() {
                    Some(arn) if arn != unqualified_arn(arn) => arn.to_owned(),
                    _ => format!("{function_arn}:{number}"),
                };
                versions.push(FunctionVersion {
                    version: number.to_owned(),
                    arn,
                    config: signer_config!(version),
                });
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(Some(SignerObserved {
            function_arn,
            versions,
            owner,
        }))
    }

    /// Creates the signer function (x86_64, no environment, no layers, not
    /// published, tagged with its owner); returns its unqualified ARN. A
    /// role IAM has not propagated yet is retried for about a minute.
    pub async fn create_signer(
        &self,
        name: &str,
        config: &SignerConfig,
        zip: &[u8],
        owner_tag: &str,
    ) -> Result<String, AwsError> {
        let output = retry_role_propagation(|| {
            let request = self
                .client
                .create_function()
                .function_name(name)
                .runtime(Runtime::from(config.runtime.as_str()))
                .role(&config.role_arn)
                .handler(&config.handler)
                .memory_size(config.memory_size)
                .timeout(config.timeout_seconds)
                .architectures(Architecture::X8664)
                .publish(false)
                .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
                .tags(OWNER_TAG_KEY, owner_tag)
                .send();
            call(&self.door, SERVICE, "CreateFunction", request)
        })
        .await?;
        let arn = output.function_arn().ok_or_else(|| {
            AwsError::invalid_response(
                SERVICE,
                "CreateFunction",
                "the answer names no function ARN",
            )
        })?;
        Ok(unqualified_arn(arn).to_owned())
    }

    /// Replaces `$LATEST`'s code (not published).
    pub async fn update_signer_code(&self, name: &str, zip: &[u8]) -> Result<(), AwsError> {
        let request = self
            .client
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(zip))
            .publish(false)
            .send();
        call(&self.door, SERVICE, "UpdateFunctionCode", request).await?;
        Ok(())
    }

    /// Sets `$LATEST`'s memory, timeout, runtime, role and handler. A role
    /// IAM has not propagated yet is retried for about a minute.
    pub async fn update_signer_configuration(
        &self,
        name: &str,
        config: &SignerConfig,
    ) -> Result<(), AwsError> {
        retry_role_propagation(|| {
            let request = self
                .client
                .update_function_configuration()
                .function_name(name)
                .memory_size(config.memory_size)
                .timeout(config.timeout_seconds)
                .runtime(Runtime::from(config.runtime.as_str()))
                .role(&config.role_arn)
                .handler(&config.handler)
                .send();
            call(&self.door, SERVICE, "UpdateFunctionConfiguration", request)
        })
        .await?;
        Ok(())
    }

    /// Polls `GetFunctionConfiguration` until the function is `Active` and
    /// its last update `Successful` (or never updated); a `Failed` state or
    /// update is an error, and so is waiting longer than five minutes.
    pub async fn wait_signer_ready(&self, name: &str) -> Result<(), AwsError> {
        self.wait_ready(name, None).await
    }

    /// Polls a freshly published numbered version until it is `Active`:
    /// Lambda publishes it `Pending`, and CloudFront refuses to associate
    /// it until then ("The function must be in an Active state").
    pub async fn wait_version_ready(&self, name: &str, version: &str) -> Result<(), AwsError> {
        self.wait_ready(name, Some(version)).await
    }

    async fn wait_ready(&self, name: &str, qualifier: Option<&str>) -> Result<(), AwsError> {
        const OPERATION: &str = "GetFunctionConfiguration";
        let started = Instant::now();
        let mut delay = Duration::from_millis(500);
        loop {
            let request = self
                .client
                .get_function_configuration()
                .function_name(name)
                .set_qualifier(qualifier.map(str::to_owned))
                .send();
            let output = call(&self.door, SERVICE, OPERATION, request).await?;
            let state = output.state();
            let update = output.last_update_status();
            if state == Some(&State::Failed) {
                return Err(AwsError::Service {
                    service: SERVICE,
                    operation: OPERATION,
                    code: output
                        .state_reason_code()
                        .map_or("FunctionFailed", |c| c.as_str())
                        .to_owned(),
                    message: format!(
                        "function {name} is in state Failed: {}",
                        output.state_reason().unwrap_or("no reason given")
                    ),
                });
            }
            if update == Some(&LastUpdateStatus::Failed) {
                return Err(AwsError::Service {
                    service: SERVICE,
                    operation: OPERATION,
                    code: output
                        .last_update_status_reason_code()
                        .map_or("FunctionUpdateFailed", |c| c.as_str())
                        .to_owned(),
                    message: format!(
                        "the last update of function {name} failed: {}",
                        output
                            .last_update_status_reason()
                            .unwrap_or("no reason given")
                    ),
                });
            }
            let settled = matches!(state, None | Some(State::Active | State::Inactive))
                && matches!(update, None | Some(LastUpdateStatus::Successful));
            if settled {
                return Ok(());
            }
            if started.elapsed() + delay > READY_DEADLINE {
                return Err(AwsError::Service {
                    service: SERVICE,
                    operation: OPERATION,
                    code: "FunctionNotReady".to_owned(),
                    message: format!(
                        "function {name} is still {} (last update {}) after {} s",
                        state.map_or("unknown", |s| s.as_str()),
                        update.map_or("unknown", |s| s.as_str()),
                        READY_DEADLINE.as_secs()
                    ),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 3 / 2).min(Duration::from_secs(5));
        }
    }

    /// Publishes `$LATEST` as a numbered version, only if its code is still
    /// `code_sha256` (Lambda refuses otherwise). Publishing an unchanged
    /// `$LATEST` returns the newest existing version.
    pub async fn publish_signer_version(
        &self,
        name: &str,
        code_sha256: &str,
    ) -> Result<FunctionVersion, AwsError> {
        let request = self
            .client
            .publish_version()
            .function_name(name)
            .code_sha256(code_sha256)
            .send();
        let output = call(&self.door, SERVICE, "PublishVersion", request).await?;
        let version = output.version().unwrap_or_default().to_owned();
        let arn = output.function_arn().unwrap_or_default();
        if version.is_empty() || arn.is_empty() {
            return Err(AwsError::invalid_response(
                SERVICE,
                "PublishVersion",
                "the answer names no version",
            ));
        }
        let arn = if arn == unqualified_arn(arn) {
            format!("{arn}:{version}")
        } else {
            arn.to_owned()
        };
        Ok(FunctionVersion {
            version,
            arn,
            config: signer_config!(output),
        })
    }

    /// Deletes a function (or one version, with a qualifier); an absent one
    /// is fine. One Lambda@Edge still replicates is
    /// [`AwsError::ReplicatedFunction`].
    pub async fn delete_function(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .delete_function()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send();
        ok_if_absent(call(&self.door, SERVICE, "DeleteFunction", request).await)
    }
}

/// Whether Lambda refused a role because IAM has not propagated it yet.
fn is_role_not_yet_assumable(error: &AwsError) -> bool {
    matches!(
        error,
        AwsError::Service { code, message, .. }
            if code == "InvalidParameterValueException" && message.contains("cannot be assumed by Lambda")
    )
}

/// Repeats `attempt` while Lambda cannot assume the role yet, with backoff
/// (1 s doubling to 10 s) for up to [`ROLE_PROPAGATION_DEADLINE`].
async fn retry_role_propagation<T, F, Fut>(mut attempt: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_secs(1);
    loop {
        match attempt().await {
            Err(e)
                if is_role_not_yet_assumable(&e)
                    && started.elapsed() + delay <= ROLE_PROPAGATION_DEADLINE =>
            {
                tracing::info!(
                    delay_s = delay.as_secs(),
                    "role not yet assumable by Lambda (IAM propagation); retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_role_refusal_is_retried_until_lambda_accepts_it() {
        let refusal = || {
            AwsError::classify(
                "lambda",
                "CreateFunction",
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.".into(),
            )
        };
        let mut attempts = 0;
        let result = retry_role_propagation(|| {
            attempts += 1;
            let answer = if attempts == 1 {
                Err(refusal())
            } else {
                Ok(attempts)
            };
            async move { answer }
        })
        .await;
        assert_eq!(result, Ok(2));

        let mut attempts = 0;
        let result: Result<(), AwsError> = retry_role_propagation(|| {
            attempts += 1;
            let answer = Err(AwsError::classify(
                "lambda",
                "CreateFunction",
                "AccessDeniedException",
                "no".into(),
            ));
            async move { answer }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(attempts, 1, "other errors are not retried");
    }

    #[test]
    fn only_the_role_propagation_refusal_is_retried() {
        let refusal = AwsError::classify(
            "lambda",
            "CreateFunction",
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.".into(),
        );
        assert!(is_role_not_yet_assumable(&refusal));
        let other = AwsError::classify(
            "lambda",
            "CreateFunction",
            "InvalidParameterValueException",
            "Runtime nodejs20.x is deprecated".into(),
        );
        assert!(!is_role_not_yet_assumable(&other));
    }
}
