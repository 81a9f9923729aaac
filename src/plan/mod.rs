//! Pure planning: from the desired model and the observed AWS state to the
//! ordered actions that make AWS match, and the status to report. No I/O,
//! no clocks; every function here is a table-driven test away from proof.
//!
//! Reconciling a distribution runs in phases because later phases need what
//! earlier ones produced (a function URL's host, the signer version's ARN,
//! an origin access control's id, the distribution's ARN); each phase has
//! its own plan function, and `reconcile` feeds each the results of the
//! ones before.

pub mod accounts;
pub mod adoption;
pub mod boundary;
pub mod change;
pub mod desired;
pub mod distribution;
pub mod exposure;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod function_change;
pub mod invalidation;
pub mod observe;
pub mod opt_in;
pub mod permissions;
pub mod signer;
pub mod ssm;
pub mod ssm_prefix;
pub mod teardown;
pub mod url;
pub mod verify;

pub use change::FieldChange;
