//! What a teardown pass did for one resource, what it left alone because
//! urlguard does not own it, and what stopped it; and where a leaving
//! distribution stands at the end of a pass.

use crate::plan::teardown::NotOwned;
use crate::reconcile::problem::Problem;

/// What a pass did for one resource, and what stopped it.
#[derive(Debug, Default)]
pub(super) struct Progress {
    pub(super) actions: Vec<String>,
    pub(super) left_alone: Vec<String>,
    /// What a failed step leaves in AWS, where (said if the teardown is
    /// given up: see `plan::teardown::attempts`).
    pub(super) left_in_aws: Vec<String>,
    pub(super) problem: Option<Problem>,
}

impl Progress {
    pub(super) fn fail(&mut self, problem: Problem) {
        self.problem.get_or_insert(problem);
    }

    /// Fails with `problem`, leaving `what` in AWS.
    pub(super) fn fail_leaving(&mut self, problem: Problem, what: String) {
        if !self.left_in_aws.contains(&what) {
            self.left_in_aws.push(what);
        }
        self.fail(problem);
    }

    pub(super) fn leave(&mut self, note: &NotOwned) {
        self.note_left_alone(note.what.clone(), &note.to_string());
    }

    /// Lists `what` as left alone, once, with the action line `left alone:
    /// {said}`.
    pub(super) fn note_left_alone(&mut self, what: String, said: &str) {
        if self.left_alone.contains(&what) {
            return;
        }
        self.actions.push(format!("left alone: {said}"));
        self.left_alone.push(what);
    }

    /// The condition message suffix naming what was left alone.
    pub(super) fn left_alone_suffix(&self) -> String {
        if self.left_alone.is_empty() {
            String::new()
        } else {
            format!(
                "; left alone (not owned by urlguard): {}",
                self.left_alone.join(", ")
            )
        }
    }
}

/// Where a leaving distribution stands after a pass.
#[derive(Debug)]
pub(super) enum Standing {
    Gone,
    Retained,
    WaitingForDeployment(String),
    WaitingForReplicas(String),
    Failed(Problem),
}
