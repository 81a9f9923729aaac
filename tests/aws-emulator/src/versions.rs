//! Published Lambda versions start `Pending` and become `Active` a while
//! later ("Lambda function states" in the Lambda developer guide: a new
//! version is `Pending` while Lambda prepares it). moto answers `Active`
//! at once, so the emulator remembers when each version it saw published
//! becomes `Active`, says `Pending` until then in `PublishVersion`,
//! `GetFunction` and `GetFunctionConfiguration` answers, and CloudFront
//! refuses to associate a version that is not `Active` yet
//! (`InvalidLambdaFunctionAssociation`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ids::lock;

/// When each published version becomes `Active`. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub(crate) struct PendingVersions {
    pending_for: Duration,
    active_at: Arc<Mutex<HashMap<String, Instant>>>,
}

impl PendingVersions {
    /// Versions published from now on are `Pending` for `pending_for`.
    pub(crate) fn new(pending_for: Duration) -> PendingVersions {
        PendingVersions {
            pending_for,
            active_at: Arc::default(),
        }
    }

    /// `version_arn` was just published.
    pub(crate) fn published(&self, version_arn: &str, now: Instant) {
        if !self.pending_for.is_zero() {
            lock(&self.active_at).insert(version_arn.to_owned(), now + self.pending_for);
        }
    }

    /// Whether `version_arn` is still `Pending` at `now`.
    pub(crate) fn is_pending(&self, version_arn: &str, now: Instant) -> bool {
        lock(&self.active_at)
            .get(version_arn)
            .is_some_and(|active_at| now < *active_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_pending_for_the_configured_time_only() {
        let versions = PendingVersions::new(Duration::from_secs(2));
        let start = Instant::now();
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f:1";
        assert!(!versions.is_pending(arn, start), "not published yet");
        versions.published(arn, start);
        assert!(versions.is_pending(arn, start + Duration::from_secs(1)));
        assert!(!versions.is_pending(arn, start + Duration::from_secs(2)));
        let instant = PendingVersions::new(Duration::ZERO);
        instant.published(arn, start);
        assert!(!instant.is_pending(arn, start));
    }
}
