//! STS: who the credentials belong to. [`super::Aws::account_id`] asks once
//! and caches the answer.

use super::call::Door;
use super::call::call;
use super::error::AwsError;

pub(super) const SERVICE: &str = "sts";

/// The account id of the caller (`GetCallerIdentity`).
pub(super) async fn caller_account(
    client: &aws_sdk_sts::Client,
    door: &Door,
) -> Result<String, AwsError> {
    let output = call(
        door,
        SERVICE,
        "GetCallerIdentity",
        client.get_caller_identity().send(),
    )
    .await?;
    output
        .account()
        .filter(|account| !account.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            AwsError::invalid_response(SERVICE, "GetCallerIdentity", "the answer names no account")
        })
}
