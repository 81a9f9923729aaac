//! The write gate: one switch, shared by the whole process, that every
//! write to AWS ([`super::call`]) and every Kubernetes write of the
//! controller (status, finalizers, events) asks before it is sent.
//!
//! The controller holds it open only while it holds the leader lease: it is
//! closed for good the moment the lease is lost, and it closes by itself
//! when the lease's expiry, by this process's own clock, passes without a
//! confirmed renewal (a replica cut off from the API server cannot know
//! whether another one took over, so it must assume so). Reads are not
//! gated: they change nothing, and the process exits right after the gate
//! closes. The CLI's gate is always open (it holds no lease).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// Why writes are refused: the error a refused write carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("writes refused: {0}")]
pub struct GateClosed(pub String);

#[derive(Debug, Default)]
struct GateState {
    /// Set once, never cleared: why the gate closed.
    closed: Option<String>,
    /// While a lease guards the gate: until when it is known to be held.
    held_until: Option<SystemTime>,
}

/// The process's write gate (cheap to clone: every clone is the same gate).
#[derive(Debug, Clone, Default)]
pub struct WriteGate {
    state: Arc<Mutex<GateState>>,
}

impl WriteGate {
    /// A gate that lets writes through until [`WriteGate::close`].
    pub fn open() -> WriteGate {
        WriteGate::default()
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // A panic while holding this lock cannot leave the state half
        // written (each field is one assignment), so a poisoned lock is
        // still good to use.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that the lease is held until `until` (its renew time plus
    /// its duration); the gate refuses writes from that instant on unless
    /// a later renewal moves it.
    pub fn held_until(&self, until: SystemTime) {
        self.lock().held_until = Some(until);
    }

    /// Closes the gate for good; the first reason given is kept.
    pub fn close(&self, why: impl Into<String>) {
        let mut state = self.lock();
        if state.closed.is_none() {
            let why = why.into();
            tracing::error!(reason = %why, "write gate closed: no more writes to AWS or Kubernetes");
            state.closed = Some(why);
        }
    }

    /// `Ok` when a write may be sent now; otherwise why not. A lease whose
    /// expiry has passed closes the gate here, at the first write after it.
    pub fn check(&self) -> Result<(), GateClosed> {
        self.check_at(SystemTime::now())
    }

    fn check_at(&self, now: SystemTime) -> Result<(), GateClosed> {
        let mut state = self.lock();
        if let Some(why) = &state.closed {
            return Err(GateClosed(why.clone()));
        }
        if let Some(until) = state.held_until
            && now >= until
        {
            let why = format!(
                "the leader lease expired at {} by this process's clock without a confirmed renewal",
                k8s_openapi::jiff::Timestamp::try_from(until)
                    .map_or_else(|_| format!("{until:?}"), |t| t.to_string())
            );
            tracing::error!(reason = %why, "write gate closed: no more writes to AWS or Kubernetes");
            state.closed = Some(why.clone());
            return Err(GateClosed(why));
        }
        Ok(())
    }

    /// Why the gate is closed, if it is (expiry included).
    pub fn closed(&self) -> Option<String> {
        self.check().err().map(|GateClosed(why)| why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_open_gate_lets_writes_through_until_closed_and_stays_closed() {
        let gate = WriteGate::open();
        assert_eq!(gate.check(), Ok(()));
        let clone = gate.clone();
        clone.close("lost the lease urlguard-controller to urlguard-b");
        clone.close("a second reason is not kept");
        assert_eq!(
            gate.check(),
            Err(GateClosed(
                "lost the lease urlguard-controller to urlguard-b".into()
            ))
        );
        // A renewal seen after the loss does not reopen it.
        gate.held_until(SystemTime::now() + Duration::from_secs(60));
        assert!(gate.check().is_err());
        assert_eq!(
            gate.closed().as_deref(),
            Some("lost the lease urlguard-controller to urlguard-b")
        );
    }

    #[test]
    fn the_gate_closes_by_itself_when_the_lease_expires_unrenewed() {
        let gate = WriteGate::open();
        let now = SystemTime::now();
        gate.held_until(now + Duration::from_secs(3));
        assert_eq!(gate.check_at(now), Ok(()));
        assert_eq!(gate.check_at(now + Duration::from_millis(2999)), Ok(()));
        // A renewal moves the expiry.
        gate.held_until(now + Duration::from_secs(6));
        assert_eq!(gate.check_at(now + Duration::from_secs(4)), Ok(()));
        let expired = gate.check_at(now + Duration::from_secs(6));
        assert!(
            expired
                .as_ref()
                .is_err_and(|GateClosed(why)| why.contains("expired")),
            "{expired:?}"
        );
        // Closed for good: a renewal seen too late does not reopen it.
        gate.held_until(now + Duration::from_secs(60));
        assert!(gate.check_at(now + Duration::from_secs(7)).is_err());
    }
}
