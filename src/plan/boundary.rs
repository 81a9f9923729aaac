//! The permissions boundary of the signer roles urlguard creates, as
//! `urlguard iam-policy --boundary` prints it. The platform team creates it
//! once per instance as the customer managed policy
//! `arn:aws:iam::<account>:policy/urlguard/<instance>-signer-boundary`
//! (`model::iam::signer_boundary_arn`); the controller's policy lets it
//! create signer roles and write their inline policies only with that
//! boundary attached.
//!
//! A role's permissions are its inline policy *and* its boundary, so the
//! boundary holds exactly what any signer of the instance may need, and no
//! more, whatever a stolen controller credential writes into the inline
//! policy:
//! - invoking function URLs (`lambda:InvokeFunctionUrl`, and
//!   `lambda:InvokeFunction`, which a URL call also needs since October
//!   2025) of functions whose owner opted in to this instance: the tag
//!   [`OPT_IN_TAG_KEY`] valued `<instance>/<namespace>` or `<instance>/*`
//!   (`aws:ResourceTag`, which Lambda evaluates for both actions). The
//!   inline policy still names the attached functions one by one; the
//!   boundary is the ceiling;
//! - writing Lambda@Edge's logs, which land in `/aws/lambda/us-east-1.<function>`
//!   in the region the edge ran in, for the instance's signer functions.
//!
//! Nothing else: no IAM, no `sts:AssumeRole`, no other service. Functions
//! of any account match by ARN (a cross-account function is refused by the
//! controller before it is granted); the tag condition is what limits them.

use serde_json::{Value, json};

use crate::model::OPT_IN_TAG_KEY;
use crate::model::names::INSTANCE_DELIMITER;

/// The boundary policy for the urlguard instance `instance`.
pub fn boundary_policy(instance: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InvokeOptedInFunctionUrls",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
                "Resource": "arn:aws:lambda:*:*:function:*",
                "Condition": {
                    "StringLike": {format!("aws:ResourceTag/{OPT_IN_TAG_KEY}"): format!("{instance}/*")}
                }
            },
            {
                "Sid": "EdgeLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                // The signer functions' names start with `<instance>_`
                // (model::names), as in the invoke policy's log group.
                "Resource": format!("arn:aws:logs:*:*:log-group:/aws/lambda/us-east-1.{instance}{INSTANCE_DELIMITER}*")
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::signer::invoke_policy;

    /// Every action the signer's inline policy allows is within the
    /// boundary: a boundary narrower than the inline policy would break the
    /// signer silently.
    #[test]
    fn the_boundary_allows_every_action_of_the_invoke_policy() {
        let boundary = boundary_policy("urlguard");
        let bounded: Vec<&Value> = boundary["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .flat_map(|s| s["Action"].as_array().expect("actions"))
            .collect();
        let inline = invoke_policy(
            "urlguard-books-books-signer",
            &["arn:aws:lambda:eu-west-1:123456789012:function:books-get-books".into()],
        );
        for statement in inline["Statement"].as_array().expect("statements") {
            if statement["Effect"] != "Allow" {
                continue;
            }
            let actions = match &statement["Action"] {
                Value::Array(actions) => actions.clone(),
                one => vec![one.clone()],
            };
            for action in actions {
                assert!(
                    bounded.contains(&&action),
                    "{action} is outside the boundary"
                );
            }
        }
    }

    #[test]
    fn only_functions_opted_in_to_the_instance() {
        let boundary = boundary_policy("team");
        let invoke = &boundary["Statement"][0];
        assert_eq!(
            invoke["Condition"]["StringLike"]["aws:ResourceTag/urlguard.io/allow"], "team/*",
            "the delimiter keeps `team-staging/...` out"
        );
        assert!(
            boundary.to_string().find("iam:").is_none(),
            "no IAM in the boundary"
        );
    }
}
