//! Functions found manageable by [`super::Engine::refusal`] moments before
//! the pass that acts on them. The controller checks a URL's function
//! before it puts the finalizer on; the distribution's reconcile that the
//! finalizer triggers would read the same function again (issue 18
//! measured 3.3 `GetFunction` per URL created, against Lambda's
//! per-account quota). The check's answer is handed to that pass once, if
//! it comes within [`REUSE_WITHIN`]; every other pass reads the function
//! afresh, because its owner may withdraw the opt-in at any time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::model::lambda::FunctionFound;
use crate::plan::desired::DesiredUrl;

/// How long a check's answer may stand in for a read.
pub(super) const REUSE_WITHIN: Duration = Duration::from_secs(60);

/// Answers of checks not yet used, by URL and function. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub(super) struct Admissions {
    found: Arc<Mutex<HashMap<String, (Instant, FunctionFound)>>>,
}

impl Admissions {
    /// Keeps what a check found for `url` (dropping answers too old to use).
    pub(super) fn admitted(&self, url: &DesiredUrl, found: FunctionFound, now: Instant) {
        let mut answers = self.lock();
        answers.retain(|_, (at, _)| now.saturating_duration_since(*at) < REUSE_WITHIN);
        answers.insert(key(url), (now, found));
    }

    /// What a check found for `url` within [`REUSE_WITHIN`] of `now`, once.
    pub(super) fn take(&self, url: &DesiredUrl, now: Instant) -> Option<FunctionFound> {
        let (at, found) = self.lock().remove(&key(url))?;
        (now.saturating_duration_since(at) < REUSE_WITHIN).then_some(found)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, (Instant, FunctionFound)>> {
        self.found
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The URL and the function it names, as the spec says them: a changed
/// spec is another key.
fn key(url: &DesiredUrl) -> String {
    let function = &url.spec.function;
    format!(
        "{}/{}/{}|{}|{}|{}",
        url.owner.instance,
        url.owner.namespace,
        url.owner.name,
        function.region,
        function.name,
        function.qualifier.as_deref().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::desired;
    use crate::plan::fixtures;

    fn found(arn: &str) -> FunctionFound {
        FunctionFound {
            function_arn: arn.to_owned(),
            target_arn: arn.to_owned(),
            opt_in: Some("urlguard/books".to_owned()),
            adopted_url_config: None,
            created_url_config: None,
        }
    }

    #[test]
    fn an_answer_is_used_once_and_only_while_fresh() {
        let url = desired::url("urlguard", &fixtures::url("get-books", "books", "/a"));
        let admissions = Admissions::default();
        let t0 = Instant::now();
        admissions.admitted(&url, found("arn:1"), t0);
        assert_eq!(
            admissions.take(&url, t0 + Duration::from_secs(5)),
            Some(found("arn:1"))
        );
        assert_eq!(
            admissions.take(&url, t0 + Duration::from_secs(6)),
            None,
            "once"
        );
        admissions.admitted(&url, found("arn:1"), t0);
        assert_eq!(admissions.take(&url, t0 + REUSE_WITHIN), None, "too old");
    }

    #[test]
    fn another_url_or_a_changed_function_is_another_answer() {
        let url = desired::url("urlguard", &fixtures::url("get-books", "books", "/a"));
        let other = desired::url("urlguard", &fixtures::url("get-book", "books", "/b"));
        let mut moved = url.clone();
        moved.spec.function.region = "us-west-2".to_owned();
        let admissions = Admissions::default();
        let t0 = Instant::now();
        admissions.admitted(&url, found("arn:1"), t0);
        assert_eq!(admissions.take(&other, t0), None);
        assert_eq!(admissions.take(&moved, t0), None);
        assert!(admissions.take(&url, t0).is_some());
    }
}
