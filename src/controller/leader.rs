//! Leader election with a `coordination.k8s.io` Lease, through the
//! kube-lease-manager crate: of several replicas only the lease holder
//! reconciles; the others wait and take over when the holder stops
//! renewing (within the lease duration). A replica that loses the lease
//! takes no new work and exits once its in-flight reconciles finish; until
//! then the new leader may already be reconciling (issue 16 asks to cut
//! that window).

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::error::ControllerError;

/// Where the lease lives and who competes for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseSettings {
    /// The Lease's name.
    pub name: String,
    /// The Lease's namespace.
    pub namespace: String,
    /// This replica's identity (its pod name).
    pub identity: String,
    /// How long a holder keeps the lease without renewing it.
    pub duration: Duration,
    /// How long before expiry the holder renews it.
    pub grace: Duration,
}

impl LeaseSettings {
    /// Refuses settings the lease manager cannot work with (it would
    /// panic on them).
    pub fn check(&self) -> Result<(), ControllerError> {
        let (duration, grace) = (self.duration.as_secs(), self.grace.as_secs());
        if grace == 0 || grace >= duration {
            return Err(ControllerError::Config(format!(
                "--lease-grace ({grace}s) must be at least 1s and shorter than --lease-duration ({duration}s)"
            )));
        }
        Ok(())
    }
}

/// The held lease; dropping it without [`Leadership::release`] lets it
/// expire.
pub struct Leadership {
    state: watch::Receiver<bool>,
    task: JoinHandle<Result<LeaseManager, kube_lease_manager::LeaseManagerError>>,
    name: String,
}

/// Waits until this replica holds the lease.
pub async fn acquire(
    client: Client,
    settings: &LeaseSettings,
) -> Result<Leadership, ControllerError> {
    settings.check()?;
    let manager = LeaseManagerBuilder::new(client, settings.name.clone())
        .with_namespace(settings.namespace.clone())
        .with_identity(settings.identity.clone())
        .with_duration(settings.duration.as_secs())
        .with_grace(settings.grace.as_secs())
        .build()
        .await?;
    let (mut state, task) = manager.watch().await;
    tracing::info!(lease = %settings.name, identity = %settings.identity, "waiting for the leader lease");
    while !*state.borrow_and_update() {
        if state.changed().await.is_err() {
            return Err(ControllerError::LostLease(settings.name.clone()));
        }
    }
    tracing::info!(lease = %settings.name, identity = %settings.identity, "holding the leader lease");
    Ok(Leadership {
        state,
        task,
        name: settings.name.clone(),
    })
}

impl Leadership {
    /// Completes when the lease is lost.
    pub async fn lost(&mut self) -> String {
        loop {
            if self.state.changed().await.is_err() || !*self.state.borrow_and_update() {
                return self.name.clone();
            }
        }
    }

    /// Gives the lease up, so that another replica takes over at once
    /// instead of after the lease duration.
    pub async fn release(self) {
        drop(self.state);
        match self.task.await {
            Ok(Ok(_)) => tracing::info!(lease = %self.name, "released the leader lease"),
            Ok(Err(error)) => {
                tracing::warn!(lease = %self.name, %error, "releasing the leader lease")
            }
            Err(error) => {
                tracing::warn!(lease = %self.name, %error, "the lease task ended abnormally")
            }
        }
    }
}
