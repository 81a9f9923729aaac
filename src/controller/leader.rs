//! Leader election with a `coordination.k8s.io` Lease, through the
//! kube-lease-manager crate: of several replicas only the lease holder
//! reconciles; the others wait and take over when the holder stops
//! renewing (within the lease duration).
//!
//! The held lease guards the process's [`WriteGate`]: a guard reads the
//! Lease every [`LeaseSettings::check_interval`] and moves the gate's
//! expiry to the lease's renew time plus its duration. The gate closes
//! the moment the guard (or the lease manager) sees another holder, or
//! when that expiry passes by this process's clock without a confirmed
//! renewal (the API server unreachable: another replica may lead by now).
//! From then on no AWS write and no Kubernetes write of this process is
//! sent; in-flight reconciles fail at their next write, and the process
//! exits. kube-lease-manager alone would notice a takeover only at its
//! next renewal, and keeps saying "leader" while its renewals fail.
//!
//! The lease manager and the guard run on a thread and runtime of their
//! own, with a Kubernetes client of their own: renewals never queue
//! behind reconciles. On the reconciles' runtime, a restarted controller
//! listing 5,000 objects on two busy cores renewed too late, lost its
//! lease and stopped (issue 18's benchmark, twice).

use std::time::{Duration, SystemTime};

use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::error::ControllerError;
use crate::aws::WriteGate;

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
    /// How often the guard reads the Lease: twice per grace period, at
    /// most once a second, so a renewal is seen well before the old expiry
    /// and a takeover within a second.
    pub fn check_interval(&self) -> Duration {
        (self.grace / 2).min(Duration::from_secs(1))
    }
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
    held: HeldLease,
    /// Keeps the lease's thread running; dropped, it ends the thread and
    /// every task on it.
    _thread: LeaseThread,
}

/// Waits until this replica holds the lease; from then on `gate` lets
/// writes through only while it is held. The lease is kept on a thread of
/// its own, with a client built from `kube_config`.
pub async fn acquire(
    kube_config: kube::Config,
    settings: &LeaseSettings,
    gate: WriteGate,
) -> Result<Leadership, ControllerError> {
    settings.check()?;
    let thread = LeaseThread::start()?;
    let settings = settings.clone();
    // Dropping this future (the process stops before it leads) drops the
    // thread, and the acquiring task with it.
    let acquiring = thread.runtime.spawn(async move {
        let client = Client::try_from(kube_config)?;
        acquire_on_this_runtime(client, &settings, gate).await
    });
    let held = acquiring
        .await
        .map_err(|error| ControllerError::LeaseThread(error.to_string()))??;
    Ok(Leadership {
        held,
        _thread: thread,
    })
}

/// A current-thread runtime on a thread of its own, running until dropped.
struct LeaseThread {
    runtime: tokio::runtime::Handle,
    _running: oneshot::Sender<()>,
}

impl LeaseThread {
    fn start() -> Result<LeaseThread, ControllerError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ControllerError::LeaseThread(error.to_string()))?;
        let handle = runtime.handle().clone();
        let (running, dropped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("leader-lease".to_owned())
            // As the reconciles' workers (see `cli::block_on`): kube
            // futures nest deep in a debug build.
            .stack_size(8 * 1024 * 1024)
            .spawn(move || {
                let _ = runtime.block_on(dropped);
            })
            .map_err(|error| ControllerError::LeaseThread(error.to_string()))?;
        Ok(LeaseThread {
            runtime: handle,
            _running: running,
        })
    }
}

/// What [`acquire`] builds on the lease's runtime.
struct HeldLease {
    state: watch::Receiver<bool>,
    task: JoinHandle<Result<LeaseManager, kube_lease_manager::LeaseManagerError>>,
    guard: JoinHandle<()>,
    guard_saw_loss: watch::Receiver<bool>,
    gate: WriteGate,
    name: String,
}

/// [`acquire`]'s work, spawning the manager and the guard on the runtime
/// it runs on.
async fn acquire_on_this_runtime(
    client: Client,
    settings: &LeaseSettings,
    gate: WriteGate,
) -> Result<HeldLease, ControllerError> {
    let manager = LeaseManagerBuilder::new(client.clone(), settings.name.clone())
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
    // Until the guard's first read, the lease is known held for one
    // duration from now at most.
    gate.held_until(SystemTime::now() + settings.duration);
    let (saw_loss, guard_saw_loss) = watch::channel(false);
    let guard = tokio::spawn(guard(
        Api::namespaced(client, &settings.namespace),
        settings.clone(),
        gate.clone(),
        saw_loss,
    ));
    Ok(HeldLease {
        state,
        task,
        guard,
        guard_saw_loss,
        gate,
        name: settings.name.clone(),
    })
}

/// Reads the Lease every check interval until the gate closes: moves the
/// gate's expiry with each renewal, closes it when another identity holds
/// the lease, and says so on `saw_loss` once the gate is closed (by it, by
/// the expiry, or by [`Leadership::lost`]).
async fn guard(
    leases: Api<Lease>,
    settings: LeaseSettings,
    gate: WriteGate,
    saw_loss: watch::Sender<bool>,
) {
    let mut ticks = tokio::time::interval(settings.check_interval());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match leases.get(&settings.name).await {
            Ok(lease) => {
                let spec = lease.spec.unwrap_or_default();
                let holder = spec.holder_identity.unwrap_or_default();
                if holder != settings.identity {
                    gate.close(format!(
                        "lost the leader lease {} (held by {:?} now)",
                        settings.name, holder
                    ));
                } else if let (Some(renewed), Some(seconds)) =
                    (spec.renew_time, spec.lease_duration_seconds)
                {
                    let seconds = u64::try_from(seconds).unwrap_or(0);
                    gate.held_until(SystemTime::from(renewed.0) + Duration::from_secs(seconds));
                }
            }
            // The expiry already set stays: without a confirmed renewal
            // the gate closes by itself when it passes.
            Err(error) => {
                tracing::warn!(lease = %settings.name, %error, "cannot read the leader lease")
            }
        }
        if gate.closed().is_some() {
            let _ = saw_loss.send(true);
            return;
        }
    }
}

impl Leadership {
    /// Completes when the lease is lost (the write gate is closed by then).
    /// The lease manager is stopped at once: it would go on renewing what
    /// it still believes is its lease (its renewal patches the Lease's
    /// `renewTime` and duration without a precondition, over the new
    /// holder's), and once that looked expired it would clear the Lease.
    pub async fn lost(&mut self) -> String {
        loop {
            tokio::select! {
                changed = self.held.state.changed() => {
                    if changed.is_err() || !*self.held.state.borrow_and_update() {
                        self.held.gate.close(format!("lost the leader lease {}", self.held.name));
                        break;
                    }
                }
                _ = self.held.guard_saw_loss.wait_for(|lost| *lost) => break,
            }
        }
        self.held.task.abort();
        self.held.name.clone()
    }

    /// Gives the lease up, so that another replica takes over at once
    /// instead of after the lease duration; a lease already lost is left
    /// alone.
    pub async fn release(self) {
        // The lease's thread runs until the end of this function: the
        // manager's release below runs on it.
        let Leadership {
            held: lease,
            _thread,
        } = self;
        lease.guard.abort();
        if let Some(why) = lease.gate.closed() {
            // Lost: the Lease is another replica's now (or may be). The
            // manager's release acts on what it last read and would clear
            // the new holder's Lease: stop it without a word to the API.
            lease.task.abort();
            tracing::info!(lease = %lease.name, reason = %why, "not releasing a lease this replica no longer holds");
            return;
        }
        drop(lease.state);
        match lease.task.await {
            Ok(Ok(_)) => tracing::info!(lease = %lease.name, "released the leader lease"),
            Ok(Err(error)) => {
                tracing::warn!(lease = %lease.name, %error, "releasing the leader lease")
            }
            Err(error) => {
                tracing::warn!(lease = %lease.name, %error, "the lease task ended abnormally")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_emulator::{Config as EmulatorConfig, KubeEmulator};

    fn runtime_with_one_worker() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime")
    }

    fn settings(identity: &str) -> LeaseSettings {
        LeaseSettings {
            name: "urlguard-leader".to_owned(),
            namespace: "default".to_owned(),
            identity: identity.to_owned(),
            duration: Duration::from_secs(4),
            grace: Duration::from_secs(2),
        }
    }

    /// The reconciles' runtime stalls (its only worker busy) for more than
    /// twice the lease duration while another replica waits for the lease:
    /// the lease is renewed on its own thread all along, so the other
    /// replica never takes it and the write gate stays open. With the
    /// lease on the reconciles' runtime, the other replica took it after
    /// one duration.
    #[test]
    fn the_lease_is_kept_while_the_reconciles_runtime_is_stalled() {
        let cluster = runtime_with_one_worker();
        let emulator = cluster
            .block_on(KubeEmulator::start(EmulatorConfig::default()))
            .expect("the kube emulator starts");
        let kube_config = kube::Config::new(emulator.url().parse().expect("the emulator's URL"));

        let reconciles = runtime_with_one_worker();
        let gate = WriteGate::open();
        let leadership = reconciles
            .block_on(acquire(
                kube_config.clone(),
                &settings("stalled"),
                gate.clone(),
            ))
            .expect("the first replica leads");
        let other = cluster.spawn({
            let kube_config = kube_config.clone();
            async move { acquire(kube_config, &settings("other"), WriteGate::open()).await }
        });

        reconciles.block_on(async {
            tokio::spawn(async { std::thread::sleep(Duration::from_secs(10)) })
                .await
                .expect("the stall ends")
        });

        assert!(!other.is_finished(), "the other replica took the lease");
        assert_eq!(gate.closed(), None);
        let holder = cluster.block_on(async {
            let leases: Api<Lease> =
                Api::namespaced(Client::try_from(kube_config).expect("a client"), "default");
            leases
                .get("urlguard-leader")
                .await
                .expect("the Lease")
                .spec
                .and_then(|spec| spec.holder_identity)
        });
        assert_eq!(holder.as_deref(), Some("stalled"));

        other.abort();
        reconciles.block_on(leadership.release());
    }
}
