//! CloudFront invalidations: `CreateInvalidation`, `GetInvalidation` and
//! `ListInvalidations`, as the API reference (2020-05-31) and the
//! developer guide describe them.
//!
//! - `CreateInvalidation`
//!   (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html>,
//!   `InvalidationBatch`: <https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_InvalidationBatch.html>):
//!   `201` with `Location` and the `Invalidation`. "If you make a second
//!   invalidation request with the same value for `CallerReference`, and if
//!   the rest of the request is the same, CloudFront doesn't create a new
//!   invalidation request. Instead, CloudFront returns information about the
//!   invalidation request that you previously created"; with other paths,
//!   `InvalidationBatchAlreadyExists` (409). A `CallerReference` is per
//!   distribution. Paths start with `/` and `*` may only be the last
//!   character ("Specifying the objects to invalidate", developer guide),
//!   otherwise `InvalidArgument`; `Quantity` must match (`InconsistentQuantities`);
//!   an unknown distribution is `NoSuchDistribution`.
//! - The quota of paths in progress per distribution ("Concurrent
//!   invalidation request maximum",
//!   <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/InvalidationLimits.html>,
//!   and "Quotas on invalidations" in cloudfront-limits.html): 3,000 file
//!   paths and, independently, 15 wildcard paths in progress at a time;
//!   beyond them `TooManyInvalidationsInProgress` (400).
//! - `GetInvalidation`
//!   (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetInvalidation.html>):
//!   `InProgress` until the invalidation time has passed, then `Completed`;
//!   an unknown id is `NoSuchInvalidation` (404).
//! - `ListInvalidations`
//!   (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ListInvalidations.html>):
//!   `InvalidationSummary` (`Id`, `CreateTime`, `Status`, no
//!   `CallerReference`), newest first as the console and the CLI show
//!   them, in pages of `MaxItems` (default 100) from `Marker`.
//!
//! Not emulated: caches (nothing is cached, so nothing is evicted), the
//! per-month free path allowance, `BatchTooLarge`.

use std::time::{Instant, SystemTime};

use http::StatusCode;
use roxmltree::Document;

use super::xml::{CfError, child_text, escape, list_items};
use super::{API, NAMESPACE, State, list_xml, page};
use crate::ids::{Ids, iso8601};
use crate::reply::Reply;

/// File paths in progress at a time per distribution.
pub(crate) const MAX_FILE_PATHS_IN_PROGRESS: usize = 3000;
/// Wildcard paths in progress at a time per distribution.
pub(crate) const MAX_WILDCARD_PATHS_IN_PROGRESS: usize = 15;

/// One invalidation batch of a distribution.
pub(super) struct Invalidation {
    id: String,
    caller_reference: String,
    paths: Vec<String>,
    created: SystemTime,
    completed_at: Instant,
}

impl Invalidation {
    fn status(&self, now: Instant) -> &'static str {
        if now >= self.completed_at {
            "Completed"
        } else {
            "InProgress"
        }
    }

    fn xml(&self, now: Instant) -> String {
        let mut paths = String::new();
        for path in &self.paths {
            paths.push_str(&format!("<Path>{}</Path>", escape(path)));
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Invalidation xmlns=\"{NAMESPACE}\"><Id>{}</Id><Status>{}</Status><CreateTime>{}</CreateTime><InvalidationBatch><Paths><Quantity>{}</Quantity><Items>{paths}</Items></Paths><CallerReference>{}</CallerReference></InvalidationBatch></Invalidation>",
            self.id,
            self.status(now),
            iso8601(self.created),
            self.paths.len(),
            escape(&self.caller_reference)
        )
    }

    fn summary_xml(&self, now: Instant) -> String {
        format!(
            "<InvalidationSummary><Id>{}</Id><CreateTime>{}</CreateTime><Status>{}</Status></InvalidationSummary>",
            self.id,
            iso8601(self.created),
            self.status(now)
        )
    }
}

/// The number of invalidations of a distribution still in progress
/// (`InProgressInvalidationBatches` of `GetDistribution`).
pub(super) fn in_progress(invalidations: &[Invalidation], now: Instant) -> usize {
    invalidations
        .iter()
        .filter(|i| i.status(now) == "InProgress")
        .count()
}

fn is_wildcard(path: &str) -> bool {
    path.ends_with('*')
}

/// A batch's paths as CloudFront accepts them.
fn check_paths(paths: &[String]) -> Result<(), CfError> {
    if paths.is_empty() {
        return Err(CfError::invalid_argument(
            "Your request must contain at least one invalidation path.",
        ));
    }
    for path in paths {
        if !path.starts_with('/') {
            return Err(CfError::invalid_argument(format!(
                "The invalidation path {path} must begin with a slash (/)."
            )));
        }
        if path.trim_end_matches('*').contains('*') {
            return Err(CfError::invalid_argument(format!(
                "The invalidation path {path} is not valid: the * wildcard must be the last character."
            )));
        }
    }
    Ok(())
}

/// The `CallerReference` and paths of an `InvalidationBatch` body.
fn parse_batch(body: &[u8]) -> Result<(String, Vec<String>), CfError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| CfError::malformed("The request body is not UTF-8."))?;
    let doc = Document::parse(text).map_err(|e| {
        CfError::malformed(format!("The XML you provided was not well-formed: {e}"))
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "InvalidationBatch" {
        return Err(CfError::malformed(
            "The root element must be InvalidationBatch.",
        ));
    }
    let caller_reference = child_text(root, "CallerReference")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| CfError::invalid_argument("CallerReference is required."))?
        .to_owned();
    let paths = list_items(root, "Paths", "Path")?
        .iter()
        .map(|p| p.text().unwrap_or("").to_owned())
        .collect();
    Ok((caller_reference, paths))
}

/// `CreateInvalidation`.
pub(super) fn create(
    st: &mut State,
    distribution_id: &str,
    body: &[u8],
    ids: &Ids,
    completion_time: std::time::Duration,
) -> Result<Reply, CfError> {
    st.distribution(distribution_id)?;
    let (caller_reference, paths) = parse_batch(body)?;
    check_paths(&paths)?;
    let now = Instant::now();
    let batches = st
        .invalidations
        .entry(distribution_id.to_owned())
        .or_default();
    let location = |id: &str| {
        format!(
            "https://cloudfront.amazonaws.com/{API}/distribution/{distribution_id}/invalidation/{id}"
        )
    };
    if let Some(existing) = batches
        .iter()
        .find(|i| i.caller_reference == caller_reference)
    {
        if existing.paths != paths {
            return Err(CfError::new(
                StatusCode::CONFLICT,
                "InvalidationBatchAlreadyExists",
                format!(
                    "The caller reference {caller_reference} was used for a previous invalidation batch with other paths ({})",
                    existing.id
                ),
            ));
        }
        return Ok(Reply::xml(StatusCode::CREATED, existing.xml(now))
            .with_header("location", &location(&existing.id)));
    }
    let (mut wildcards, mut files) = (0, 0);
    for path in batches
        .iter()
        .filter(|i| i.status(now) == "InProgress")
        .flat_map(|i| i.paths.iter())
        .chain(paths.iter())
    {
        if is_wildcard(path) {
            wildcards += 1;
        } else {
            files += 1;
        }
    }
    if wildcards > MAX_WILDCARD_PATHS_IN_PROGRESS || files > MAX_FILE_PATHS_IN_PROGRESS {
        return Err(CfError::bad_request(
            "TooManyInvalidationsInProgress",
            format!(
                "You have exceeded the maximum number of allowable InProgress invalidation batch requests, or invalidation objects ({files} file paths of {MAX_FILE_PATHS_IN_PROGRESS}, {wildcards} wildcard paths of {MAX_WILDCARD_PATHS_IN_PROGRESS})."
            ),
        ));
    }
    let invalidation = Invalidation {
        id: ids.invalidation_id(),
        caller_reference,
        paths,
        created: SystemTime::now(),
        completed_at: now + completion_time,
    };
    let reply = Reply::xml(StatusCode::CREATED, invalidation.xml(now))
        .with_header("location", &location(&invalidation.id));
    batches.push(invalidation);
    Ok(reply)
}

fn no_such_invalidation(id: &str) -> CfError {
    CfError::new(
        StatusCode::NOT_FOUND,
        "NoSuchInvalidation",
        format!("The specified invalidation does not exist: {id}"),
    )
}

/// `GetInvalidation`.
pub(super) fn get(st: &State, distribution_id: &str, id: &str) -> Result<Reply, CfError> {
    st.distribution(distribution_id)?;
    st.invalidations
        .get(distribution_id)
        .and_then(|batches| batches.iter().find(|i| i.id == id))
        .map(|i| Reply::xml(StatusCode::OK, i.xml(Instant::now())))
        .ok_or_else(|| no_such_invalidation(id))
}

/// `ListInvalidations`: newest first.
pub(super) fn list(st: &State, distribution_id: &str, query: &str) -> Result<Reply, CfError> {
    st.distribution(distribution_id)?;
    let now = Instant::now();
    let items = st
        .invalidations
        .get(distribution_id)
        .map(|batches| {
            batches
                .iter()
                .rev()
                .map(|i| (i.id.as_str(), i.summary_xml(now)))
                .collect()
        })
        .unwrap_or_default();
    let (items, next, marker, max_items) = page(items, query)?;
    Ok(Reply::xml(
        StatusCode::OK,
        list_xml("InvalidationList", items, next, &marker, max_items),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_start_with_a_slash_and_end_any_wildcard() {
        let ok = [
            "/index.html".to_owned(),
            "/assets/*".to_owned(),
            "/*".to_owned(),
        ];
        assert!(check_paths(&ok).is_ok());
        for bad in ["index.html", "/a*/b", "/*.js"] {
            let err = check_paths(&[bad.to_owned()]).expect_err(bad);
            assert_eq!(err.code, "InvalidArgument", "{bad}");
        }
        assert!(check_paths(&[]).is_err());
    }

    #[test]
    fn a_batch_reads_its_caller_reference_and_paths() {
        let body = br#"<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Paths><Quantity>2</Quantity><Items><Path>/a</Path><Path>/b/*</Path></Items></Paths><CallerReference>r1</CallerReference></InvalidationBatch>"#;
        let (reference, paths) = parse_batch(body).expect("batch");
        assert_eq!(reference, "r1");
        assert_eq!(paths, ["/a", "/b/*"]);
    }
}
