//! The distribution's part of a teardown: the one update that takes the
//! leaving URLs' behaviors and origins out (and disables a leaving
//! distribution), the wait for `Deployed`, and the delete, re-reading and
//! re-planning when CloudFront says it changed meanwhile.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::progress::Progress;
use crate::api::DeletionPolicy;
use crate::model::cloudfront::DistributionObserved;
use crate::model::names::{Owner, OwnerKind};
use crate::plan::teardown::{DistributionStep, Leaving, ReplicaWait, plan_distribution};
use crate::reconcile::engine::Engine;
use crate::reconcile::observe::{find_distribution, wait_deployed};
use crate::reconcile::problem::{Problem, UPDATE_ATTEMPTS};
use crate::reconcile::replica_waits::function_key;

/// What the distribution phase found.
#[derive(Debug)]
pub(super) enum Found {
    /// There is none (any more).
    Absent,
    /// It is not urlguard's: left alone.
    NotOwned,
    /// It is there, with the leaving URLs out (and, in the delete phase,
    /// disabled but not deployed yet).
    Present(DistributionObserved),
    /// This pass deleted it.
    Deleted(DistributionObserved),
}

/// How far a distribution phase goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Only the update that takes the leaving URLs out (and disables it).
    Detach,
    /// Every step, to the delete.
    Delete,
}

/// Drives one distribution through its planned steps, re-reading and
/// re-planning when CloudFront says it changed meanwhile.
pub(super) struct Tracker<'a> {
    engine: &'a Engine,
    owner: &'a Owner,
    /// Where the distribution was last seen (see [`find_distribution`]).
    known_id: Option<&'a str>,
    tag: String,
    leaving: Leaving<'a>,
    /// The distribution as last read or written, for the next phase.
    pub(super) latest: Option<DistributionObserved>,
    /// Owner tags read, by distribution id.
    tags: BTreeMap<String, Option<String>>,
}

impl<'a> Tracker<'a> {
    pub(super) fn new(
        engine: &'a Engine,
        owner: &'a Owner,
        known_id: Option<&'a str>,
        leaving: Leaving<'a>,
    ) -> Tracker<'a> {
        Tracker {
            engine,
            owner,
            known_id,
            tag: owner.tag_value(OwnerKind::EdgeDistribution),
            leaving,
            latest: None,
            tags: BTreeMap::new(),
        }
    }

    async fn observe(&mut self) -> Result<Option<DistributionObserved>, Problem> {
        if let Some(latest) = self.latest.take() {
            return Ok(Some(latest));
        }
        find_distribution(self.engine, self.owner, self.known_id).await
    }

    async fn owner_tag(
        &mut self,
        observed: &DistributionObserved,
    ) -> Result<Option<String>, Problem> {
        if let Some(tag) = self.tags.get(&observed.id) {
            return Ok(tag.clone());
        }
        let tag = self
            .engine
            .aws
            .cloudfront()
            .owner_of(&observed.arn)
            .await
            .map_err(Problem::from)?;
        self.tags.insert(observed.id.clone(), tag.clone());
        Ok(tag)
    }

    pub(super) async fn run(
        &mut self,
        phase: Phase,
        progress: &mut Progress,
    ) -> Result<Found, Problem> {
        let cloudfront = self.engine.aws.cloudfront();
        let default_origin_id = self.owner.default_origin_id();
        for _ in 0..UPDATE_ATTEMPTS {
            let mut observed = match self.observe().await {
                Ok(Some(observed)) => observed,
                Ok(None) => return Ok(Found::Absent),
                // urlguard's origin id, another caller reference: not ours.
                Err(Problem::NotOwned(message)) => {
                    progress.note_left_alone(message.clone(), &message);
                    return Ok(Found::NotOwned);
                }
                Err(problem) => return Err(problem),
            };
            let owner_found = self.owner_tag(&observed).await?;
            let steps = match plan_distribution(
                &observed,
                owner_found.as_deref(),
                &self.tag,
                &default_origin_id,
                self.leaving,
            ) {
                Ok(steps) => steps,
                Err(not_owned) => {
                    progress.leave(&not_owned);
                    return Ok(Found::NotOwned);
                }
            };
            let mut changed_meanwhile = false;
            for step in steps {
                match step {
                    DistributionStep::Update {
                        shape,
                        removed_urls,
                        disables,
                    } => {
                        let description = describe_update(&observed.id, &removed_urls, disables);
                        if !self.engine.applies() {
                            // Said once: the delete phase plans the same
                            // update again.
                            if phase == Phase::Detach {
                                progress.actions.push(description);
                                self.note_foreign_urls(&removed_urls, progress);
                            }
                            continue;
                        }
                        match cloudfront
                            .update_distribution(&observed.id, &observed.etag, &shape)
                            .await
                        {
                            Ok(updated) => {
                                progress.actions.push(description);
                                self.note_foreign_urls(&removed_urls, progress);
                                if let Leaving::Whole {
                                    policy: DeletionPolicy::Delete,
                                    ..
                                } = self.leaving
                                {
                                    // The signer's associations left: its
                                    // replicas' clock starts now.
                                    self.engine.waits.set_if_absent(
                                        &function_key(&self.owner.signer_function_name()),
                                        ReplicaWait::released(SystemTime::now()),
                                    );
                                }
                                observed = updated;
                            }
                            Err(error) if error.is_precondition_failed() => {
                                changed_meanwhile = true;
                                break;
                            }
                            Err(error) => return Err(Problem::from(error)),
                        }
                    }
                    DistributionStep::WaitDeployed if phase == Phase::Delete => {
                        if self.engine.applies() {
                            observed = wait_deployed(self.engine, observed).await;
                            if !observed.is_deployed() {
                                self.latest = Some(observed.clone());
                                return Ok(Found::Present(observed));
                            }
                        }
                    }
                    DistributionStep::Delete if phase == Phase::Delete => {
                        let description = format!("delete distribution {}", observed.id);
                        if !self.engine.applies() {
                            progress.actions.push(description);
                            return Ok(Found::Deleted(observed));
                        }
                        match cloudfront
                            .delete_distribution(&observed.id, &observed.etag)
                            .await
                        {
                            Ok(()) => {
                                progress.actions.push(description);
                                return Ok(Found::Deleted(observed));
                            }
                            Err(error) if error.is_precondition_failed() || error.is_in_use() => {
                                changed_meanwhile = true;
                                break;
                            }
                            Err(error) => return Err(Problem::from(error)),
                        }
                    }
                    DistributionStep::WaitDeployed | DistributionStep::Delete => break,
                }
            }
            if !changed_meanwhile {
                self.latest = Some(observed.clone());
                return Ok(Found::Present(observed));
            }
            tracing::info!(distribution = %observed.id, "the distribution changed since it was read; re-reading");
        }
        Err(Problem::ConcurrentUpdates { write: "write" })
    }

    /// URL origins that leave with the distribution but belong to no URL of
    /// the files: their URLs' own resources stay, which is said.
    fn note_foreign_urls(&self, removed_urls: &[String], progress: &mut Progress) {
        let (Leaving::Whole { urls, .. } | Leaving::HandBack(urls)) = self.leaving else {
            return;
        };
        for name in removed_urls.iter().filter(|n| !urls.contains(n)) {
            progress.actions.push(format!(
                "ProtectedFunctionUrl {}/{name} is not in the files: its behavior leaves with the distribution, its URL config, grants and parameters stay",
                self.owner.namespace
            ));
        }
    }
}

fn describe_update(id: &str, removed_urls: &[String], disables: bool) -> String {
    let urls = if removed_urls.is_empty() {
        String::new()
    } else {
        format!(
            "take {} URL behavior(s) out ({})",
            removed_urls.len(),
            removed_urls.join(", ")
        )
    };
    match (disables, urls.is_empty()) {
        (true, true) => format!("disable distribution {id}"),
        (true, false) => format!("disable distribution {id} and {urls}"),
        (false, _) => format!("update distribution {id}: {urls}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_says_what_leaves_and_whether_it_disables() {
        let urls = ["get-books".to_owned(), "put-book".to_owned()];
        assert_eq!(
            describe_update("E1", &urls, true),
            "disable distribution E1 and take 2 URL behavior(s) out (get-books, put-book)"
        );
        assert_eq!(describe_update("E1", &[], true), "disable distribution E1");
        assert_eq!(
            describe_update("E1", &urls[..1], false),
            "update distribution E1: take 1 URL behavior(s) out (get-books)"
        );
    }
}
