//! `kube-emulator`: the test-only Kubernetes API server of urlguard's test bed
//! (never shipped). It serves, over plain HTTP on loopback, the part of the
//! Kubernetes API that kubectl, helm and kube-rs depend on:
//!
//! - discovery (`/version`, `/api`, `/apis`, group/version resource lists;
//!   legacy format only — clients that ask for aggregated discovery fall back
//!   to it, as they do against any server that answers plain JSON) and
//!   OpenAPI v3 documents declaring `fieldValidation` ([`discovery`]);
//! - a built-in resource table plus every served version of every stored
//!   CustomResourceDefinition ([`resources`]);
//! - one in-memory store with a global resourceVersion, uid,
//!   creationTimestamp, generation rules, a bounded event history for watch
//!   resume and `410 Gone` ([`store`]);
//! - CRUD, patches (merge, JSON, strategic merge as merge, server-side
//!   apply), status subresource, finalizers, garbage collection of
//!   dependents whose owners are gone ([`gc`]), list/watch with selectors and
//!   bookmarks, Table output for `kubectl get` ([`api`]); lists in pages
//!   (`limit`/`continue`, an expired token `410 Gone`: [`paging`]);
//! - for tests, what a busy cluster does to clients: lists of chosen
//!   resources that take seconds (`Config::slow_lists`), pages smaller
//!   than asked (`Config::page_cap`), and watches
//!   dropped and compacted past every client's resourceVersion, so that
//!   resuming gets `410 Gone` (`KubeEmulatorHandle::expire_watches`);
//! - custom resources validated from their CRD as the API server does it:
//!   pruning (strict), defaulting, the structural schema's value
//!   validations, list-type invariants, CEL rules, ratcheting
//!   ([`validation`]) — an implementation independent of urlguard's own
//!   validator, so that tests can catch the two disagreeing.
//!
//! Run in-process with [`KubeEmulator::start`], or as the `kube-emulator`
//! binary. What is knowingly simplified is listed in each module's docs.

pub mod api;
pub mod discovery;
pub mod gc;
pub mod jsonpath;
pub mod kubeconfig;
pub mod paging;
pub mod patch;
pub mod protobuf;
pub mod resources;
pub mod selectors;
pub mod server;
pub mod status;
pub mod store;
pub mod table;
pub mod time_fmt;
pub mod validation;

use std::net::SocketAddr;
use std::time::Duration;

pub use kubeconfig::write_kubeconfig;
pub use server::{KubeEmulator, KubeEmulatorHandle};
pub use validation::{ValidationError, validate};

/// The bearer token the written kubeconfig carries (the emulator accepts any).
pub const TOKEN: &str = "kube-emulator-token";

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// How many watch events are kept for `resourceVersion` resume; a watch
    /// from an older resourceVersion gets `410 Gone`.
    pub history_limit: usize,
    /// How often a watch that allows bookmarks gets a BOOKMARK event.
    pub bookmark_interval: Duration,
    /// Lists (not watches, not gets) of these resources, by plural, answer
    /// only after this long: a stand-in for a list of thousands of objects
    /// in pages, which takes a real API server seconds, so that tests see
    /// a client's caches fill at different times.
    pub slow_lists: Vec<(String, Duration)>,
    /// A page of a list holds at most this many items, whatever `limit`
    /// asks: what a list of thousands in pages of 500 is, shown with a
    /// handful of objects.
    pub page_cap: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(5),
            slow_lists: Vec::new(),
            page_cap: None,
        }
    }
}

/// The emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}
