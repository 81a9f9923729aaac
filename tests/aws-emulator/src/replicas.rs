//! Lambda@Edge replicas. CloudFront copies every function version that a
//! distribution associates to its edge locations and removes the copies
//! only hours after the last association left; until then Lambda refuses to
//! delete the version or its function ("replicated function"). Here: the set
//! of version ARNs associated now (across all distributions), and for each
//! version that left the set, when it left; a version is replicated while
//! associated and for `linger` after it was released.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Replication state of function versions, keyed by the qualified ARN
/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION`.
#[derive(Debug)]
pub(crate) struct Replicas {
    linger: Duration,
    associated: BTreeSet<String>,
    released: HashMap<String, Instant>,
}

impl Replicas {
    pub(crate) fn new(linger: Duration) -> Replicas {
        Replicas {
            linger,
            associated: BTreeSet::new(),
            released: HashMap::new(),
        }
    }

    /// Sets what is associated now; versions that left are released `now`.
    pub(crate) fn set_associated(&mut self, now: Instant, associated: BTreeSet<String>) {
        for gone in self.associated.difference(&associated) {
            self.released.insert(gone.clone(), now);
        }
        for arn in &associated {
            self.released.remove(arn);
        }
        self.associated = associated;
    }

    fn replicated(&self, arn: &str, now: Instant) -> bool {
        self.associated.contains(arn)
            || self
                .released
                .get(arn)
                .is_some_and(|at| now.duration_since(*at) < self.linger)
    }

    /// The replicated version that blocks deleting `function_arn` (the
    /// unqualified ARN) — or, with `version`, that one version — if any.
    pub(crate) fn blocking(
        &self,
        function_arn: &str,
        version: Option<&str>,
        now: Instant,
    ) -> Option<String> {
        match version {
            Some(v) => {
                let arn = format!("{function_arn}:{v}");
                self.replicated(&arn, now).then_some(arn)
            }
            None => {
                let prefix = format!("{function_arn}:");
                self.associated
                    .iter()
                    .chain(self.released.keys())
                    .filter(|arn| {
                        arn.strip_prefix(&prefix)
                            .is_some_and(|rest| !rest.contains(':'))
                    })
                    .find(|arn| self.replicated(arn, now))
                    .cloned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "arn:aws:lambda:us-east-1:123456789012:function:signer";

    #[test]
    fn a_version_stays_replicated_for_the_linger_after_it_left() {
        let t0 = Instant::now();
        let mut r = Replicas::new(Duration::from_secs(10));
        r.set_associated(t0, BTreeSet::from([format!("{F}:1")]));
        assert_eq!(
            r.blocking(F, Some("1"), t0).as_deref(),
            Some(&*format!("{F}:1"))
        );
        assert!(r.blocking(F, None, t0).is_some());
        assert!(r.blocking(F, Some("2"), t0).is_none());
        assert!(r.blocking(&format!("{F}-other"), None, t0).is_none());

        r.set_associated(t0 + Duration::from_secs(1), BTreeSet::new());
        assert!(
            r.blocking(F, Some("1"), t0 + Duration::from_secs(10))
                .is_some()
        );
        assert!(
            r.blocking(F, Some("1"), t0 + Duration::from_secs(11))
                .is_none()
        );
        assert!(r.blocking(F, None, t0 + Duration::from_secs(11)).is_none());
    }

    #[test]
    fn associating_again_cancels_the_release() {
        let t0 = Instant::now();
        let mut r = Replicas::new(Duration::from_secs(1));
        r.set_associated(t0, BTreeSet::from([format!("{F}:1")]));
        r.set_associated(t0, BTreeSet::new());
        r.set_associated(t0, BTreeSet::from([format!("{F}:1")]));
        assert!(
            r.blocking(F, Some("1"), t0 + Duration::from_secs(5))
                .is_some()
        );
    }
}
