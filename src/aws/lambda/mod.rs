//! Lambda in one region: the user's function (looked up, never changed but
//! for the marker tag saying urlguard created its URL config), its URL
//! config and resource-policy statements (which urlguard manages), and
//! the Lambda@Edge signer function with its numbered versions (which
//! urlguard owns).
//!
//! One file per resource, each with the decisions it makes: this one holds
//! the client and the user's function; `url_config` its function URL
//! config, `permissions` its resource-policy statements, `signer` the
//! Lambda@Edge signer. They are all methods of [`Lambda`].

mod permissions;
mod signer;
mod url_config;

use super::call::Door;
use super::call::call;
use super::error::AwsError;
use crate::model::OPT_IN_TAG_KEY;
use crate::model::lambda::{FunctionFound, adopted_marker_key, created_marker_key};

pub(super) const SERVICE: &str = "lambda";

/// Lambda in one region.
#[derive(Debug, Clone)]
pub struct Lambda {
    client: aws_sdk_lambda::Client,
    door: Door,
}

impl Lambda {
    pub(super) fn new(client: aws_sdk_lambda::Client, door: Door) -> Lambda {
        Lambda { client, door }
    }

    /// The region this adapter calls.
    pub fn region(&self) -> &str {
        self.client.config().region().map_or("", |r| r.as_ref())
    }

    /// The function (and alias, when qualified) with its owner's opt-in
    /// tag, or `None` when either does not exist (`GetFunction`).
    pub async fn get_function(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<FunctionFound>, AwsError> {
        let request = self
            .client
            .get_function()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send();
        let output = match call(&self.door, SERVICE, "GetFunction", request).await {
            Ok(output) => output,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let arn = output
            .configuration()
            .and_then(|c| c.function_arn())
            .ok_or_else(|| {
                AwsError::invalid_response(
                    SERVICE,
                    "GetFunction",
                    "the answer names no function ARN",
                )
            })?;
        let function_arn = unqualified_arn(arn).to_owned();
        let target_arn = match qualifier {
            Some(alias) => format!("{function_arn}:{alias}"),
            None => function_arn.clone(),
        };
        // The tags are the unqualified function's (an alias has none); the
        // markers' keys name the qualifier whose URL config they are about.
        let tags = output.tags();
        let opt_in = tags.and_then(|tags| tags.get(OPT_IN_TAG_KEY)).cloned();
        let adopted_url_config = tags
            .and_then(|tags| tags.get(&adopted_marker_key(qualifier)))
            .cloned();
        let created_url_config = tags
            .and_then(|tags| tags.get(&created_marker_key(qualifier)))
            .cloned();
        Ok(Some(FunctionFound {
            function_arn,
            target_arn,
            opt_in,
            adopted_url_config,
            created_url_config,
        }))
    }
}

/// `Ok(())` for success and for "not found".
fn ok_if_absent<T>(result: Result<T, AwsError>) -> Result<(), AwsError> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// `arn:aws:lambda:<region>:<account>:function:<name>` without a trailing
/// `:<qualifier>`.
fn unqualified_arn(arn: &str) -> &str {
    match arn.match_indices(':').nth(6) {
        Some((index, _)) => &arn[..index],
        None => arn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_lose_their_qualifier() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books";
        assert_eq!(unqualified_arn(arn), arn);
        assert_eq!(unqualified_arn(&format!("{arn}:live")), arn);
        assert_eq!(unqualified_arn(&format!("{arn}:$LATEST")), arn);
        assert_eq!(unqualified_arn("books-get-books"), "books-get-books");
    }
}
