//! CloudFront invalidations of a distribution: create, get, and the ids of
//! the newest ones.
//!
//! Decisions written down here:
//! - A `CreateInvalidation` with a `CallerReference` CloudFront already
//!   knows for the distribution, and the same paths, answers the existing
//!   invalidation instead of making another (API reference,
//!   `InvalidationBatch`); with other paths it is
//!   `InvalidationBatchAlreadyExists`, classified as
//!   [`AwsError::Conflict`].
//! - `ListInvalidations` reports ids and statuses only, not the
//!   `CallerReference`: [`CloudFront::recent_invalidation_ids`] returns one
//!   page of the newest, and the caller reads each with `GetInvalidation`.

use aws_sdk_cloudfront::types::{Invalidation, InvalidationBatch, Paths};

use super::super::call::call;
use super::super::error::AwsError;
use super::{CloudFront, SERVICE};
use crate::model::cloudfront::InvalidationObserved;

impl CloudFront {
    /// One invalidation of a distribution; `None` when the invalidation
    /// (or the distribution) does not exist.
    pub async fn get_invalidation(
        &self,
        distribution_id: &str,
        id: &str,
    ) -> Result<Option<InvalidationObserved>, AwsError> {
        const OPERATION: &str = "GetInvalidation";
        let request = self
            .client
            .get_invalidation()
            .distribution_id(distribution_id)
            .id(id)
            .send();
        match call(&self.door, SERVICE, OPERATION, request).await {
            Ok(output) => invalidation(OPERATION, output.invalidation()).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The ids of a distribution's newest invalidations, at most `count`,
    /// newest first (one `ListInvalidations` page).
    pub async fn recent_invalidation_ids(
        &self,
        distribution_id: &str,
        count: i32,
    ) -> Result<Vec<String>, AwsError> {
        let request = self
            .client
            .list_invalidations()
            .distribution_id(distribution_id)
            .max_items(count)
            .send();
        let output = call(&self.door, SERVICE, "ListInvalidations", request).await?;
        Ok(output
            .invalidation_list()
            .map(|list| list.items().iter().map(|i| i.id().to_owned()).collect())
            .unwrap_or_default())
    }

    /// Creates an invalidation of `paths` under `caller_reference`, or
    /// answers the one CloudFront already has under it with the same paths.
    pub async fn create_invalidation(
        &self,
        distribution_id: &str,
        caller_reference: &str,
        paths: &[String],
    ) -> Result<InvalidationObserved, AwsError> {
        const OPERATION: &str = "CreateInvalidation";
        let construction = |e: aws_sdk_cloudfront::error::BuildError| {
            AwsError::construction(SERVICE, OPERATION, e.to_string())
        };
        let count = i32::try_from(paths.len())
            .map_err(|_| AwsError::construction(SERVICE, OPERATION, "too many paths"))?;
        let batch = InvalidationBatch::builder()
            .caller_reference(caller_reference)
            .paths(
                Paths::builder()
                    .quantity(count)
                    .set_items(Some(paths.to_vec()))
                    .build()
                    .map_err(construction)?,
            )
            .build()
            .map_err(construction)?;
        let request = self
            .client
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch)
            .send();
        let output = call(&self.door, SERVICE, OPERATION, request).await?;
        invalidation(OPERATION, output.invalidation())
    }
}

fn invalidation(
    operation: &'static str,
    answer: Option<&Invalidation>,
) -> Result<InvalidationObserved, AwsError> {
    let answer = answer.ok_or_else(|| {
        AwsError::invalid_response(SERVICE, operation, "the answer holds no invalidation")
    })?;
    let batch = answer.invalidation_batch();
    Ok(InvalidationObserved {
        id: answer.id().to_owned(),
        status: answer.status().to_owned(),
        caller_reference: batch
            .map(|b| b.caller_reference().to_owned())
            .unwrap_or_default(),
        paths: batch
            .and_then(|b| b.paths())
            .map(|p| p.items().to_vec())
            .unwrap_or_default(),
    })
}
