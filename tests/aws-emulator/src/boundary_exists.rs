//! IAM refuses a permissions boundary that does not exist: `CreateRole` and
//! `PutRolePermissionsBoundary` with a `PermissionsBoundary` naming no
//! managed policy answer `404 NoSuchEntity`, "Scope ARN: ARN does not exist
//! or is not attachable." (IAM API Reference, CreateRole and
//! PutRolePermissionsBoundary, Errors: NoSuchEntity,
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html>).
//! moto stores any ARN, which let a role through whose boundary then
//! denied everything on the data path; the emulator asks moto for the
//! policy first (`GetPolicy`, the emulator's own call, never in the
//! ledger) and refuses as IAM does.

use http::StatusCode;

use crate::faults::error_reply;
use crate::ids::Ids;
use crate::reply::Reply;
use crate::upstream::Upstream;

/// IAM's refusal of a `CreateRole` or `PutRolePermissionsBoundary` whose
/// form body is `body`, when its boundary does not exist; `None` to relay.
pub(crate) async fn refusal(upstream: &Upstream, body: &[u8], ids: &Ids) -> Option<Reply> {
    let boundary = form_urlencoded::parse(body)
        .find(|(key, _)| key == "PermissionsBoundary")
        .map(|(_, value)| value.into_owned())
        .filter(|arn| !arn.is_empty())?;
    let exists = upstream
        .iam_query("GetPolicy", &[("PolicyArn", &boundary)])
        .await
        .is_some();
    (!exists).then(|| {
        error_reply(
            "iam",
            StatusCode::NOT_FOUND,
            "NoSuchEntity",
            &format!("Scope ARN: {boundary} does not exist or is not attachable."),
            ids,
        )
    })
}
