//! Lists in pages, as the API server serves them: `limit` caps a page,
//! `metadata.continue` names where the next one starts, and a continue
//! token older than the history is `410 Gone` (reason `Expired`), which
//! tells a client to list again from the start. kube-rs's watcher lists in
//! pages of 500 by default, so a restart with thousands of objects is many
//! requests, not one.
//!
//! Source: "API Concepts", Retrieving large results sets in chunks
//! (<https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks>):
//! - a page holds at most `limit` items; `continue` is set when more remain
//!   and absent on the last page;
//! - every page of one list carries the first page's `resourceVersion`;
//! - `remainingItemCount` is an estimate, omitted when a label or field
//!   selector filters the list;
//! - a token whose resourceVersion was compacted answers `410 Gone`.
//!
//! Simplified: the API server serves every page from the snapshot of the
//! first (etcd keeps old revisions until compaction); the emulator keeps
//! one version per object, so a later page shows objects as they are now.
//! The token is base64 of JSON with the resourceVersion and the last key
//! served, as the API server's is; clients must treat it as opaque.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::status::ApiError;

/// Where a list starts and how much it may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items; `None` (or `limit=0`) for all.
    pub limit: Option<usize>,
    /// The resourceVersion of the list's first page, for a continued list.
    pub snapshot_rv: Option<u64>,
    /// The key (`namespace/name`) after which this page starts.
    pub after: Option<String>,
}

impl PageRequest {
    /// Reads `limit` and `continue`; a token older than `oldest_rv` is
    /// `410 Gone`.
    pub fn parse(
        limit: Option<&str>,
        token: Option<&str>,
        oldest_rv: u64,
    ) -> Result<PageRequest, ApiError> {
        let limit = match limit {
            None | Some("") => None,
            Some(text) => match text.parse::<usize>() {
                Ok(0) => None,
                Ok(n) => Some(n),
                Err(_) => {
                    return Err(ApiError::bad_request(format!("invalid limit: {text}")));
                }
            },
        };
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(PageRequest {
                limit,
                snapshot_rv: None,
                after: None,
            });
        };
        let invalid = || ApiError::bad_request(format!("continue key is not valid: {token}"));
        let decoded = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        let parsed: Value = serde_json::from_slice(&decoded).map_err(|_| invalid())?;
        let rv = parsed["rv"].as_u64().ok_or_else(invalid)?;
        let after = parsed["start"].as_str().ok_or_else(invalid)?.to_owned();
        if rv < oldest_rv {
            // The API server's words, their first sentences (the etcd3
            // store's answer to a continue token whose revision was
            // compacted).
            return Err(ApiError::gone(
                "The provided continue parameter is too old to display a consistent list result. \
                 You can start a new list without the continue parameter.",
            ));
        }
        Ok(PageRequest {
            limit,
            snapshot_rv: Some(rv),
            after: Some(after),
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The items of this page.
    pub items: Vec<Value>,
    /// The resourceVersion every page of this list reports.
    pub rv: u64,
    /// The token for the next page, when more remain.
    pub continue_token: Option<String>,
    /// How many items remain after this page.
    pub remaining: usize,
}

/// Cuts `items` (in key order, already filtered) into the requested page;
/// `current_rv` is the store's, for a list's first page.
pub fn page(items: Vec<Value>, request: &PageRequest, current_rv: u64) -> Page {
    let rv = request.snapshot_rv.unwrap_or(current_rv);
    let mut rest: Vec<Value> = match &request.after {
        Some(after) => items
            .into_iter()
            .filter(|item| key_of(item).as_str() > after.as_str())
            .collect(),
        None => items,
    };
    let Some(limit) = request.limit.filter(|&limit| limit < rest.len()) else {
        return Page {
            items: rest,
            rv,
            continue_token: None,
            remaining: 0,
        };
    };
    let remaining = rest.len() - limit;
    rest.truncate(limit);
    let last = rest.last().map(key_of).unwrap_or_default();
    let token =
        URL_SAFE_NO_PAD.encode(json!({"v": "meta.k8s.io/v1", "rv": rv, "start": last}).to_string());
    Page {
        items: rest,
        rv,
        continue_token: Some(token),
        remaining,
    }
}

/// `namespace/name` (just `name` for a cluster-scoped object): the order
/// the store lists in, and where a page ends.
fn key_of(item: &Value) -> String {
    let text = |pointer: &str| item.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    format!("{}/{}", text("/metadata/namespace"), text("/metadata/name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(names: &[&str]) -> Vec<Value> {
        names
            .iter()
            .map(|n| json!({"metadata": {"namespace": "ns", "name": n}}))
            .collect()
    }

    fn names(page: &Page) -> Vec<&str> {
        page.items
            .iter()
            .map(|i| i["metadata"]["name"].as_str().expect("name"))
            .collect()
    }

    #[test]
    fn pages_follow_their_tokens_to_the_end_at_the_first_pages_version() {
        let all = objects(&["a", "b", "c", "d", "e"]);
        let first = page(
            all.clone(),
            &PageRequest::parse(Some("2"), None, 0).expect("first"),
            40,
        );
        assert_eq!(
            (names(&first), first.rv, first.remaining),
            (vec!["a", "b"], 40, 3)
        );
        let token = first.continue_token.clone().expect("more");
        let second = page(
            all.clone(),
            &PageRequest::parse(Some("2"), Some(&token), 0).expect("second"),
            45,
        );
        assert_eq!((names(&second), second.rv), (vec!["c", "d"], 40));
        let token = second.continue_token.clone().expect("more");
        let last = page(
            all,
            &PageRequest::parse(Some("2"), Some(&token), 0).expect("last"),
            50,
        );
        assert_eq!(names(&last), ["e"]);
        assert_eq!(last.continue_token, None);
    }

    #[test]
    fn no_limit_or_zero_is_everything_in_one_page() {
        for limit in [None, Some("0")] {
            let whole = page(
                objects(&["a", "b"]),
                &PageRequest::parse(limit, None, 0).expect("request"),
                7,
            );
            assert_eq!(names(&whole), ["a", "b"]);
            assert_eq!(whole.continue_token, None);
        }
    }

    #[test]
    fn a_token_older_than_the_history_is_gone_and_a_forged_one_is_refused() {
        let first = page(
            objects(&["a", "b", "c"]),
            &PageRequest::parse(Some("1"), None, 0).expect("first"),
            10,
        );
        let token = first.continue_token.expect("more");
        let expired = PageRequest::parse(Some("1"), Some(&token), 11).expect_err("compacted");
        assert_eq!(expired.to_status()["code"], 410);
        assert_eq!(expired.to_status()["reason"], "Expired");
        let forged = PageRequest::parse(Some("1"), Some("not-a-token"), 0).expect_err("forged");
        assert_eq!(forged.to_status()["code"], 400);
        let bad_limit = PageRequest::parse(Some("-1"), None, 0).expect_err("limit");
        assert_eq!(bad_limit.to_status()["code"], 400);
    }
}
