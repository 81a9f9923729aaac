//! Whether a urlguard instance may manage a function: the function's owner
//! opts in with the tag [`OPT_IN_TAG_KEY`], and the function is in the
//! controller's own account.
//!
//! Decisions written down here:
//! - The tag's value is `<instance>/<namespace>` (one namespace) or
//!   `<instance>/*` (every namespace of the instance); nothing else opts in,
//!   so one instance's opt-in never admits another instance, and a tag for
//!   `team-a` never admits `team-b`. urlguard reads the tag and never writes
//!   it: the function's owner sets it where the function is deployed (SAM,
//!   CDK, Terraform, `aws lambda tag-resource`).
//! - The controller's policy lets it write to application functions only
//!   when the tag's value starts with `<instance>/`, so a stolen credential
//!   cannot reach a function nobody opted in.
//! - A function named by an ARN of another account is refused until
//!   cross-account grants exist; a bare name is always in the caller's own
//!   account, so only ARNs need the account (`sts:GetCallerIdentity`).

use crate::model::OPT_IN_TAG_KEY;

/// The opt-in tag's value that admits `instance` for `namespace`.
pub fn tag_value(instance: &str, namespace: &str) -> String {
    format!("{instance}/{namespace}")
}

/// Whether the opt-in tag's value `tag` admits `instance` for `namespace`.
pub fn admits(tag: Option<&str>, instance: &str, namespace: &str) -> bool {
    let Some(rest) = tag.and_then(|t| t.strip_prefix(instance)) else {
        return false;
    };
    match rest.strip_prefix('/') {
        Some(scope) => scope == "*" || scope == namespace,
        None => false,
    }
}

/// The account of a function ARN (`arn:<partition>:lambda:<region>:<account>:function:<name>`),
/// `None` for a bare name.
pub fn account_of(function: &str) -> Option<&str> {
    if !function.starts_with("arn:") {
        return None;
    }
    function.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The command the function's owner runs to opt in (`arn` is the
/// function's unqualified ARN).
pub fn command(arn: &str, instance: &str, namespace: &str) -> String {
    format!(
        "aws lambda tag-resource --resource {arn} --tags {OPT_IN_TAG_KEY}={}",
        tag_value(instance, namespace)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_instance_and_namespace_or_its_wildcard_opt_in() {
        assert!(admits(Some("urlguard/books"), "urlguard", "books"));
        assert!(admits(Some("urlguard/*"), "urlguard", "books"));
        for (tag, why) in [
            (None, "no tag"),
            (Some(""), "empty"),
            (Some("urlguard/team-b"), "another namespace"),
            (Some("urlguard"), "no namespace"),
            (Some("urlguard/"), "empty namespace"),
            (Some("urlguard-staging/books"), "another instance"),
            (Some("urlguard/books/x"), "more than a namespace"),
            (Some("*"), "a bare wildcard"),
            (Some("other/*"), "another instance's wildcard"),
            (Some("urlguard/boo*"), "a pattern"),
        ] {
            assert!(!admits(tag, "urlguard", "books"), "{why}: {tag:?}");
        }
    }

    #[test]
    fn only_arns_name_an_account() {
        assert_eq!(
            account_of("arn:aws:lambda:eu-west-1:210987654321:function:payments"),
            Some("210987654321")
        );
        assert_eq!(account_of("books-get-books"), None);
    }

    #[test]
    fn the_command_tags_the_function_for_the_namespace() {
        assert_eq!(
            command(
                "arn:aws:lambda:eu-west-1:123456789012:function:f",
                "urlguard",
                "shop"
            ),
            "aws lambda tag-resource --resource arn:aws:lambda:eu-west-1:123456789012:function:f --tags urlguard.io/allow=urlguard/shop"
        );
    }
}
