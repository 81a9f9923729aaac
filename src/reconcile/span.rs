//! The `tracing` span of one pass over one resource: every log line an AWS
//! call or a phase writes beneath it carries the resource's kind,
//! namespace and name (and the distribution id, once a phase found it), so
//! with concurrent reconciles a failed call can be tied to its object.
//!
//! The name's field is `object`, not `name`: the JSON log format writes a
//! span's own name under `name`, and a field of that name would be lost.

use tracing::Span;
use tracing::field::Empty;

use super::report::Kind;
use crate::model::names::Owner;

/// The span of a pass (`reconcile` or `teardown`) over `owner`'s `kind`.
pub(super) fn pass(pass: &'static str, kind: Kind, owner: &Owner) -> Span {
    tracing::info_span!(
        "pass",
        pass,
        kind = kind.as_str(),
        namespace = %owner.namespace,
        object = %owner.name,
        distribution = Empty,
    )
}

/// Records, on the current pass' span, the distribution it works on.
pub(super) fn found_distribution(id: &str) {
    Span::current().record("distribution", id);
}
