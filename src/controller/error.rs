//! The controller's errors: why one reconcile did not finish (retried by
//! the error policy), and why the controller could not start.

use std::time::Duration;

use kube::runtime::finalizer;

/// Why a reconcile did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The Kubernetes API refused or failed a request (status, finalizer,
    /// event).
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// This process may no longer write (it lost the leader lease): the
    /// write was not sent.
    #[error(transparent)]
    WritesRefused(#[from] crate::aws::GateClosed),
    /// A URL may not attach yet (its function's owner has not opted in,
    /// the function does not exist, ...); its status says why.
    #[error("cannot attach: {0}")]
    NotAttachable(String),
    /// The object's namespace names an IAM role the cluster admin did not
    /// allow (`AccountNotAllowed` in its status); looked at again with
    /// the error backoff, since the annotation may change.
    #[error("account not allowed: {0}")]
    AccountNotAllowed(String),
    /// A cache stopped before it held a complete list (the controller is
    /// shutting down).
    #[error("the {0} cache stopped before it was filled")]
    CacheStopped(&'static str),
    /// Adding or removing the finalizer failed.
    #[error("finalizer urlguard.io/cleanup: {0}")]
    Finalizer(#[source] Box<finalizer::Error<ReconcileError>>),
    /// A teardown waits for AWS (Lambda@Edge replicas, a deploying
    /// distribution): the finalizer stays and the object is looked at again
    /// after `retry_after`. Not a failure.
    #[error("waiting for AWS ({reason}); next attempt in {}s", retry_after.as_secs())]
    Waiting {
        /// `WaitingForEdgeReplicas` or `WaitingForDeployment`.
        reason: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// An observed distribution being deleted keeps its finalizer while
    /// URLs naming it are being deleted too: each of those reads from it
    /// that it is observed, and is released without any AWS call. Looked
    /// at again after `retry_after` (or when a URL goes). Not a failure.
    #[error("observed distribution waits for its URLs being deleted ({urls}) to go first")]
    WaitingForUrls {
        /// The URLs, `namespace/name`.
        urls: String,
        /// When to look again.
        retry_after: Duration,
    },
    /// AWS could not be made to match (an AWS error, a missing function, a
    /// name owned by someone else); the object's `Ready` condition says
    /// which and why.
    #[error("reconcile failed: {0}")]
    Failed(String),
    /// A teardown pass failed in a way retrying cannot fix: counted, and
    /// tried again after `retry_after` until the limit.
    #[error("teardown cannot succeed (attempt {attempt} of {limit}; next in {}s): {message}", retry_after.as_secs())]
    Stuck {
        /// The first failure, as the `Deleting` condition says it.
        message: String,
        /// This pass's number.
        attempt: u32,
        /// Passes allowed.
        limit: u32,
        /// When to try again.
        retry_after: Duration,
    },
    /// A teardown step failed; the message says which and why (also in
    /// the object's `Deleting` condition).
    #[error("teardown failed: {0}")]
    Teardown(String),
    /// The object cannot be torn down because its spec does not decode; it
    /// keeps its finalizer until the spec is fixed or the finalizer is
    /// removed by hand (after cleaning AWS up).
    #[error("cannot tear down with an invalid spec: {0}")]
    InvalidSpec(String),
}

impl From<finalizer::Error<ReconcileError>> for ReconcileError {
    fn from(error: finalizer::Error<ReconcileError>) -> Self {
        match error {
            finalizer::Error::ApplyFailed(inner) | finalizer::Error::CleanupFailed(inner) => inner,
            other => ReconcileError::Finalizer(Box::new(other)),
        }
    }
}

/// Why the controller could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// No Kubernetes configuration (in-cluster or kubeconfig) was usable.
    #[error("Kubernetes configuration: {0}")]
    KubeConfig(#[from] kube::config::InferConfigError),
    /// The Kubernetes client could not be built or the API not reached.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The CRDs are not installed (the API server does not serve a kind).
    #[error(
        "the API server does not serve {0}: install the CRDs first (kubectl apply -f crds/, or the Helm chart)"
    )]
    MissingCrd(String),
    /// The metrics endpoint could not bind.
    #[error(transparent)]
    Metrics(#[from] super::metrics::ServeError),
    /// Leader election failed.
    #[error("leader election: {0}")]
    Lease(#[from] kube_lease_manager::LeaseManagerError),
    /// The thread that keeps the leader lease could not start, or its
    /// task died.
    #[error("the leader lease's thread: {0}")]
    LeaseThread(String),
    /// A setting is unusable.
    #[error("{0}")]
    Config(String),
    /// Another replica took the lease: this one stops so it restarts as a
    /// follower and never writes beside the new leader.
    #[error("lost the leader lease {0}; stopping so that only the new leader writes")]
    LostLease(String),
}
