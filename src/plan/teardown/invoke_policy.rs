//! The signer role's invoke policy under a teardown: which function ARNs a
//! leaving URL's function stands for, and the policy rewritten without them,
//! as the apply would render it for the functions that stay.

use serde_json::Value;

use crate::api::FunctionRef;
use crate::model::policy::invoke_policy_resources;
use crate::plan::signer::invoke_policy;

/// Whether `arn` (a function ARN, maybe qualified with an alias) names the
/// function `function` refers to: same region, name and qualifier.
pub fn names_function(arn: &str, function: &FunctionRef) -> bool {
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    let parts: Vec<&str> = arn.split(':').collect();
    let (Some(region), Some(name)) = (parts.get(3), parts.get(6)) else {
        return false;
    };
    let qualifier = parts.get(7).copied();
    let (want_region, want_name, arn_qualifier) = match function.name.split_once(":function:") {
        Some((prefix, rest)) => {
            let region = prefix.split(':').nth(3).unwrap_or(&function.region);
            let (name, qualifier) = match rest.split_once(':') {
                Some((name, qualifier)) => (name, Some(qualifier)),
                None => (rest, None),
            };
            (region, name, qualifier)
        }
        None => (function.region.as_str(), function.name.as_str(), None),
    };
    let want_qualifier = function.qualifier.as_deref().or(arn_qualifier);
    *region == want_region && *name == want_name && qualifier == want_qualifier
}

/// The signer role's invoke policy without the functions `leaving` names,
/// or `None` when the policy does not name any of them. `current` is the
/// policy as read; the result is what [`invoke_policy`] renders for the
/// functions that stay, so a later apply finds nothing to change.
pub fn invoke_policy_without(
    current: &Value,
    signer_function_name: &str,
    leaving: &[&FunctionRef],
) -> Option<Value> {
    let mut arns = invoke_policy_resources(current);
    let before = arns.len();
    arns.retain(|arn| !leaving.iter().any(|f| names_function(arn, f)));
    (arns.len() != before).then(|| invoke_policy(signer_function_name, &arns))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str, qualifier: Option<&str>) -> FunctionRef {
        FunctionRef {
            name: name.into(),
            region: "eu-west-1".into(),
            qualifier: qualifier.map(str::to_owned),
        }
    }

    #[test]
    fn function_arns_match_by_region_name_and_qualifier() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books";
        assert!(names_function(arn, &function("books-get-books", None)));
        assert!(!names_function(arn, &function("books-get-book", None)));
        assert!(!names_function(
            arn,
            &function("books-get-books", Some("live"))
        ));
        assert!(names_function(
            &format!("{arn}:live"),
            &function("books-get-books", Some("live"))
        ));
        assert!(names_function(arn, &function(arn, None)), "by ARN");
        let mut elsewhere = function("books-get-books", None);
        elsewhere.region = "us-east-1".into();
        assert!(!names_function(arn, &elsewhere));
    }

    #[test]
    fn the_role_policy_loses_exactly_the_leaving_functions() {
        let a = "arn:aws:lambda:eu-west-1:123456789012:function:a".to_owned();
        let b = "arn:aws:lambda:eu-west-1:123456789012:function:b".to_owned();
        let current = invoke_policy("signer", &[a.clone(), b.clone()]);
        let leaving = function("a", None);
        assert_eq!(
            invoke_policy_without(&current, "signer", &[&leaving]),
            Some(invoke_policy("signer", &[b]))
        );
        let gone = invoke_policy("signer", &[]);
        assert_eq!(invoke_policy_without(&gone, "signer", &[&leaving]), None);
        let last = invoke_policy("signer", &[a]);
        assert_eq!(
            invoke_policy_without(&last, "signer", &[&leaving]),
            Some(invoke_policy("signer", &[]))
        );
    }
}
