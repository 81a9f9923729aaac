//! Teardown, planned purely: what leaves, which deletion steps run in which
//! order for what was observed, what urlguard must leave alone because it
//! does not own it, and how long to wait before asking Lambda again to
//! delete a signer whose Lambda@Edge replicas CloudFront has not removed yet.
//!
//! The order (`docs/design.md`, "Deletion"):
//! - a `ProtectedFunctionUrl` leaving: its behavior and origin leave the
//!   distribution first (one update for all URLs leaving together), then its
//!   grants (resource-policy statements by id; under `EdgeSigner`, its entry
//!   in the signer role's policy), its SSM parameters, and its URL config
//!   when urlguard created it for this URL, `deletionPolicy` is `Delete`
//!   and no live URL still names the function (`url_config`); otherwise
//!   the URL config stays as it is (on `AWS_IAM`, so nothing opens up);
//! - an `EdgeDistribution` leaving (`Delete`): one update that disables it
//!   and takes every URL behavior and origin out (CloudFront's replica clock
//!   starts when the last association leaves, so it starts here, not at the
//!   delete), its URLs' grants, parameters and the URL configs of those
//!   URLs that are being deleted themselves (a URL that stays keeps its
//!   config, [`TeardownModel::staying`]), the wait for
//!   `Deployed`, the delete, its origin access controls (by deterministic
//!   name: they carry no tags), its own parameters, then the signer function
//!   with every version, its role's inline policy and the role. With
//!   `Retain`, only its URLs leave; the distribution, signer, role, origin
//!   access controls and its parameters stay.
//!
//! `attempts` says when a teardown that cannot succeed is given up.
//!
//! One file per part, in the order a teardown meets them: `model` (what
//! leaves), `ownership` (what urlguard may delete at all), `distribution`,
//! `invoke_policy` (the signer role's policy losing the leaving functions),
//! `url` (parameters), `url_config` (what urlguard created is what it
//! deletes), `signer` (function and role),
//! `retirement` (signer versions an apply no longer uses) and
//! `replica_wait` (when to ask Lambda again). Every item is re-exported
//! here; callers name `crate::plan::teardown::X`. Reading the role's policy
//! document is the model's ([`crate::model::policy`]); its
//! [`invoke_policy_resources`] is re-exported here for those callers.

mod attempts;
mod distribution;
#[cfg(test)]
mod fixtures;
mod invoke_policy;
mod model;
mod ownership;
mod replica_wait;
mod retirement;
mod signer;
mod url;
mod url_config;

pub use crate::model::policy::invoke_policy_resources;
pub use attempts::{ATTEMPTS_ANNOTATION, AfterStuck, DEFAULT_ATTEMPTS, after_stuck, counted};
pub use distribution::{DistributionStep, Leaving, plan_distribution};
pub use invoke_policy::{invoke_policy_without, names_function};
pub use model::{DetachedUrls, Released, TeardownModel, build};
pub use ownership::NotOwned;
pub use replica_wait::{ReplicaWait, RetryPolicy};
pub use retirement::{Retirement, plan_retirement};
pub use signer::{RoleStep, SignerTeardown, plan_role, plan_signer};
pub use url::plan_parameter;
pub use url_config::{
    FunctionUser, Kept, LeavingConfig, UrlConfigStep, plan_url_config, same_function,
};
