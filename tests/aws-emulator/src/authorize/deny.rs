//! A denial as AWS words and shapes it, in the protocol of the service
//! called (whichever action was denied — `iam:PassRole` refused during
//! `lambda:CreateFunction` answers as Lambda does):
//!
//! - CloudFront (REST-XML), IAM and STS (query): `403`,
//!   `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>…`;
//! - Lambda (REST-JSON): `403`, `x-amzn-ErrorType: AccessDeniedException`,
//!   `{"Type": "User", "Message": "…"}`;
//! - SSM and the other JSON 1.1 services: `400`,
//!   `{"__type": "AccessDeniedException", "message": "…"}`.
//!
//! The message is IAM's: "User: PRINCIPAL is not authorized to perform:
//! ACTION on resource: RESOURCE because no identity-based policy allows the
//! ACTION action" (or "with an explicit deny in an identity-based policy"),
//! as in the IAM user guide's "Troubleshoot access denied error messages".
//! The emulator does not know the caller's role, so the principal is
//! `arn:aws:iam::ACCOUNT:user/ACCESS_KEY_ID`: the key names the identity.

use bytes::Bytes;
use http::StatusCode;

use super::evaluate::Decision;
use crate::ACCOUNT_ID;
use crate::faults::error_reply;
use crate::ids::Ids;
use crate::reply::Reply;

/// The principal a denial names for an access key.
pub fn principal_arn(access_key: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:user/{access_key}")
}

/// IAM's denial message.
pub(crate) fn message(
    access_key: &str,
    action: &str,
    resource: &str,
    decision: Decision,
) -> String {
    let why = match decision {
        Decision::ExplicitDeny => "with an explicit deny in an identity-based policy".to_owned(),
        _ => format!("because no identity-based policy allows the {action} action"),
    };
    format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
        principal_arn(access_key)
    )
}

/// The reply of `service` refusing the call.
pub(crate) fn reply(service: &str, message: &str, ids: &Ids) -> Reply {
    match service {
        "cloudfront" | "iam" | "sts" | "s3" => {
            error_reply(service, StatusCode::FORBIDDEN, "AccessDenied", message, ids)
        }
        "lambda" => {
            let body = serde_json::json!({"Type": "User", "Message": message});
            Reply::new(
                StatusCode::FORBIDDEN,
                "application/json",
                Bytes::from(body.to_string()),
            )
            .with_header("x-amzn-errortype", "AccessDeniedException")
            .with_header("x-amzn-requestid", &ids.request_id())
        }
        _ => error_reply(
            service,
            StatusCode::BAD_REQUEST,
            "AccessDeniedException",
            message,
            ids,
        ),
    }
}
