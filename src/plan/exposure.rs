//! Protected means verified: which statements of a function's resource
//! policy let someone other than the URL's distribution in.
//!
//! AWS's rules ("Control access to Lambda function URLs",
//! <https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html>): on
//! `AWS_IAM` Lambda authorizes a URL request by the caller's identity
//! policy and the function's resource-based policy; since October 2025 a
//! new function URL needs both `lambda:InvokeFunctionUrl` (condition key
//! `lambda:FunctionUrlAuthType`) and `lambda:InvokeFunction` (condition key
//! `lambda:InvokedViaFunctionUrl`). URLs made before need only the first.
//! So a statement exposes the URL when it is an `Allow` that covers (by
//! `Action` patterns, or everything but its `NotAction`):
//! - `lambda:InvokeFunctionUrl` with an auth-type condition that admits
//!   `AWS_IAM` (or none): enough on its own for an older URL, and half of
//!   what a newer one needs (a caller may hold the other half from any
//!   statement, or its own identity policy in its own account), or
//! - `lambda:InvokeFunction` not limited to calls through a function URL
//!   (`lambda:InvokedViaFunctionUrl` not `true`): the function itself is
//!   then invoked directly, past the distribution;
//!
//! for a principal other than the distribution:
//! - `*` (any AWS principal: on `AWS_IAM` that is every signed caller of
//!   every account), an ARN (a role or user, of any account: named in the
//!   resource policy it needs no identity policy in this account), another
//!   account, a federated or canonical user;
//! - `cloudfront.amazonaws.com` unless `AWS:SourceArn` names only this
//!   distribution: without it, or with another, other distributions (of any
//!   account) get in through their own origin access control.
//!
//! Not exposure: the function's own account as principal (a resource
//! policy naming an account delegates to its identity policies, which is
//! how urlguard's own signer role gets in); other service principals
//! (`s3.amazonaws.com`, `events.amazonaws.com`, ...: triggers invoking the
//! function through the Lambda API on behalf of their resources, which
//! cannot sign a function URL request); a statement whose `AWS:SourceArn`
//! names only this distribution, whatever its principal (nobody else sends
//! that source); a `Deny` (conservatively ignored: it may narrow an `Allow`
//! this check still reports). Statements urlguard wrote are not foreign:
//! this URL's own grants (`own_sids`), and another URL of the instance
//! naming the same function (its statement id starts with the instance's
//! prefix, it is for CloudFront only and scoped to a distribution).
//! Conditions other than these three keys (`aws:PrincipalOrgID`,
//! `AWS:SourceAccount`, `aws:SourceIp`, ...) narrow who gets in but still
//! let others in: the statement is reported.

use crate::model::lambda::{ConditionEntry, GrantStatement, StatementActions};
use crate::plan::permissions::CLOUDFRONT_PRINCIPAL;

/// Who may call the URL legitimately, and what urlguard wrote itself.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The function's account.
    pub account: &'a str,
    /// The ARN of the distribution that fronts the URL.
    pub distribution_arn: &'a str,
    /// This URL's own statement ids.
    pub own_sids: &'a [String],
    /// The prefix of every statement id of the instance.
    pub instance_sid_prefix: &'a str,
}

/// A statement that lets someone other than the distribution in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// Its statement id.
    pub sid: String,
    /// Whom it lets in and how, for people: `anyone (*) may call
    /// lambda:InvokeFunctionUrl`.
    pub grants: String,
}

const URL_ACTION: &str = "lambda:InvokeFunctionUrl";
const INVOKE_ACTION: &str = "lambda:InvokeFunction";

/// The statements of `grants` that expose the URL, in policy order.
pub fn foreign_statements(grants: &[GrantStatement], scope: Scope<'_>) -> Vec<Exposure> {
    grants
        .iter()
        .filter(|g| g.allow && !scope.own_sids.contains(&g.sid) && !another_urls_grant(g, scope))
        .filter_map(|g| exposure(g, scope))
        .collect()
}

fn exposure(grant: &GrantStatement, scope: Scope<'_>) -> Option<Exposure> {
    let mut actions = Vec::new();
    if covers(&grant.actions, URL_ACTION) && auth_type_admits_iam(&grant.conditions) {
        actions.push(URL_ACTION);
    }
    if covers(&grant.actions, INVOKE_ACTION) && !via_function_url_only(&grant.conditions) {
        actions.push(INVOKE_ACTION);
    }
    if actions.is_empty() || only_this_distribution(&grant.conditions, scope.distribution_arn) {
        return None;
    }
    let who: Vec<String> = grant
        .principals
        .iter()
        .filter_map(|p| foreign_principal(p, &grant.conditions, scope))
        .collect();
    if who.is_empty() {
        return None;
    }
    Some(Exposure {
        sid: grant.sid.clone(),
        grants: format!("{} may call {}", who.join(", "), actions.join(" and ")),
    })
}

/// Whether the statement is another URL's grant of the instance: its id
/// has the instance's prefix, it is for CloudFront only, scoped to a
/// distribution.
fn another_urls_grant(grant: &GrantStatement, scope: Scope<'_>) -> bool {
    grant.sid.starts_with(scope.instance_sid_prefix)
        && !grant.principals.is_empty()
        && grant.principals.iter().all(|p| p == CLOUDFRONT_PRINCIPAL)
        && !values_of(&grant.conditions, "aws:SourceArn").is_empty()
}

/// `principal` described, when it is someone other than the distribution.
fn foreign_principal(
    principal: &str,
    conditions: &[ConditionEntry],
    scope: Scope<'_>,
) -> Option<String> {
    if principal == "*" {
        return Some("anyone (*)".to_owned());
    }
    if principal == CLOUDFRONT_PRINCIPAL {
        let sources = values_of(conditions, "aws:SourceArn");
        return Some(if sources.is_empty() {
            "CloudFront for any distribution".to_owned()
        } else {
            format!("CloudFront for {}", sources.join(", "))
        });
    }
    if principal.ends_with(".amazonaws.com") || principal.ends_with(".amazonaws.com.cn") {
        return None;
    }
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return (principal != scope.account).then(|| format!("account {principal}"));
    }
    Some(principal.to_owned())
}

/// Whether `actions` cover `action` (IAM matches actions
/// case-insensitively, with `*` and `?` wildcards).
fn covers(actions: &StatementActions, action: &str) -> bool {
    match actions {
        StatementActions::Listed(patterns) => patterns.iter().any(|p| glob(p, action)),
        StatementActions::AllBut(patterns) => !patterns.iter().any(|p| glob(p, action)),
    }
}

/// Whether the `lambda:FunctionUrlAuthType` conditions admit `AWS_IAM`,
/// the auth type urlguard keeps the URL on. Operators urlguard does not
/// know count as admitting (the safe side: reported).
fn auth_type_admits_iam(conditions: &[ConditionEntry]) -> bool {
    conditions
        .iter()
        .filter(|c| c.key.eq_ignore_ascii_case("lambda:FunctionUrlAuthType"))
        .all(|c| {
            let matches = c.values.iter().any(|v| glob(v, "AWS_IAM"));
            match base_operator(&c.operator).as_str() {
                "stringequals" | "stringequalsignorecase" | "stringlike" => matches,
                "stringnotequals" | "stringnotequalsignorecase" | "stringnotlike" => !matches,
                _ => true,
            }
        })
}

/// Whether a `Bool` condition limits `lambda:InvokeFunction` to calls
/// through a function URL.
fn via_function_url_only(conditions: &[ConditionEntry]) -> bool {
    conditions.iter().any(|c| {
        c.key.eq_ignore_ascii_case("lambda:InvokedViaFunctionUrl")
            && base_operator(&c.operator) == "bool"
            && !c.values.is_empty()
            && c.values.iter().all(|v| v.eq_ignore_ascii_case("true"))
    })
}

/// Whether an `AWS:SourceArn` condition names this distribution and
/// nothing else.
fn only_this_distribution(conditions: &[ConditionEntry], distribution_arn: &str) -> bool {
    let sources = values_of(conditions, "aws:SourceArn");
    !sources.is_empty() && sources.iter().all(|s| s == distribution_arn)
}

/// Every value of the conditions on `key` (case-insensitive), except under
/// negated operators.
fn values_of(conditions: &[ConditionEntry], key: &str) -> Vec<String> {
    conditions
        .iter()
        .filter(|c| c.key.eq_ignore_ascii_case(key) && !base_operator(&c.operator).contains("not"))
        .flat_map(|c| c.values.iter().cloned())
        .collect()
}

/// The operator without a set qualifier (`ForAnyValue:`) or `IfExists`,
/// lowercase.
fn base_operator(operator: &str) -> String {
    let operator = operator.rsplit(':').next().unwrap_or(operator);
    let operator = operator.strip_suffix("IfExists").unwrap_or(operator);
    operator.to_ascii_lowercase()
}

/// IAM's wildcard match, case-insensitive: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let text: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::policy::parse_grants;

    const ACCOUNT: &str = "123456789012";
    const OURS: &str = "arn:aws:cloudfront::123456789012:distribution/EOURS";
    const OTHER: &str = "arn:aws:cloudfront::123456789012:distribution/EOTHER";

    fn own() -> Vec<String> {
        vec![
            "urlguard-urlguard_books-get-books-0123456789ab-url".to_owned(),
            "urlguard-urlguard_books-get-books-0123456789ab-invoke".to_owned(),
        ]
    }

    /// The exposures of one statement, given as JSON.
    fn judge(statement: serde_json::Value) -> Vec<Exposure> {
        let document = serde_json::json!({"Version": "2012-10-17", "Statement": [statement]});
        let grants = parse_grants(&document.to_string()).expect("parses");
        let own = own();
        foreign_statements(
            &grants,
            Scope {
                account: ACCOUNT,
                distribution_arn: OURS,
                own_sids: &own,
                instance_sid_prefix: "urlguard-urlguard_",
            },
        )
    }

    fn exposed(statement: serde_json::Value) -> String {
        let found = judge(statement.clone());
        assert_eq!(found.len(), 1, "{statement} should expose the URL");
        assert_eq!(found[0].sid, "s");
        found[0].grants.clone()
    }

    fn safe(statement: serde_json::Value) {
        assert_eq!(
            judge(statement.clone()),
            [],
            "{statement} should not expose the URL"
        );
    }

    fn allow(principal: serde_json::Value, action: &str) -> serde_json::Value {
        serde_json::json!({"Sid": "s", "Effect": "Allow", "Principal": principal, "Action": action})
    }

    #[test]
    fn anyone_is_foreign_in_every_spelling() {
        assert_eq!(
            exposed(allow(serde_json::json!("*"), URL_ACTION)),
            "anyone (*) may call lambda:InvokeFunctionUrl"
        );
        exposed(allow(serde_json::json!({"AWS": "*"}), URL_ACTION));
        exposed(serde_json::json!({"Sid": "s", "Effect": "Allow",
            "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "lambda:*"}));
        // Narrowed by organization or IP, still others.
        exposed(
            serde_json::json!({"Sid": "s", "Effect": "Allow", "Principal": "*",
            "Action": URL_ACTION, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}),
        );
    }

    #[test]
    fn accounts_and_named_principals() {
        assert_eq!(
            exposed(allow(
                serde_json::json!({"AWS": "arn:aws:iam::210987654321:root"}),
                INVOKE_ACTION
            )),
            "account 210987654321 may call lambda:InvokeFunction"
        );
        exposed(allow(serde_json::json!("210987654321"), URL_ACTION));
        // Named in the resource policy, a role needs nothing else, in any
        // account.
        exposed(allow(
            serde_json::json!({"AWS": "arn:aws:iam::123456789012:role/ops"}),
            URL_ACTION,
        ));
        exposed(allow(
            serde_json::json!({"AWS": "arn:aws:iam::210987654321:user/u"}),
            INVOKE_ACTION,
        ));
        exposed(allow(
            serde_json::json!({"Federated": "accounts.google.com"}),
            URL_ACTION,
        ));
        // The function's own account delegates to its identity policies.
        safe(allow(
            serde_json::json!({"AWS": "arn:aws:iam::123456789012:root"}),
            URL_ACTION,
        ));
        safe(allow(serde_json::json!(ACCOUNT), "lambda:*"));
    }

    #[test]
    fn service_principals_other_than_cloudfront_are_triggers() {
        safe(allow(
            serde_json::json!({"Service": "s3.amazonaws.com"}),
            INVOKE_ACTION,
        ));
        safe(allow(
            serde_json::json!({"Service": "events.amazonaws.com"}),
            "lambda:*",
        ));
        // One foreign principal among several is enough.
        let mixed = exposed(allow(
            serde_json::json!({"Service": "s3.amazonaws.com", "AWS": "arn:aws:iam::210987654321:root"}),
            INVOKE_ACTION,
        ));
        assert_eq!(mixed, "account 210987654321 may call lambda:InvokeFunction");
    }

    #[test]
    fn cloudfront_is_foreign_unless_scoped_to_this_distribution() {
        let cloudfront = |condition: serde_json::Value| {
            serde_json::json!({"Sid": "s", "Effect": "Allow",
                "Principal": {"Service": CLOUDFRONT_PRINCIPAL}, "Action": URL_ACTION,
                "Condition": condition})
        };
        assert_eq!(
            exposed(cloudfront(
                serde_json::json!({"ArnLike": {"AWS:SourceArn": OTHER}})
            )),
            format!("CloudFront for {OTHER} may call lambda:InvokeFunctionUrl")
        );
        assert_eq!(
            exposed(allow(
                serde_json::json!({"Service": CLOUDFRONT_PRINCIPAL}),
                URL_ACTION
            )),
            "CloudFront for any distribution may call lambda:InvokeFunctionUrl"
        );
        exposed(cloudfront(
            serde_json::json!({"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::*:distribution/*"}}),
        ));
        exposed(cloudfront(
            serde_json::json!({"StringEquals": {"AWS:SourceAccount": ACCOUNT}}),
        ));
        exposed(cloudfront(
            serde_json::json!({"ArnLike": {"aws:SourceArn": [OURS, OTHER]}}),
        ));
        safe(cloudfront(
            serde_json::json!({"ArnLike": {"AWS:SourceArn": OURS}}),
        ));
        safe(cloudfront(
            serde_json::json!({"ArnEquals": {"aws:sourcearn": [OURS]}}),
        ));
        // A source that is not this distribution, negated: not a scope.
        exposed(cloudfront(
            serde_json::json!({"ArnNotEquals": {"AWS:SourceArn": OURS}}),
        ));
    }

    #[test]
    fn actions_by_pattern_and_not_action() {
        for action in [
            "lambda:*",
            "*",
            "lambda:Invoke*",
            "LAMBDA:invokefunctionurl",
            "lambda:InvokeFunction?rl",
        ] {
            exposed(allow(serde_json::json!("*"), action));
        }
        for action in [
            "lambda:GetFunction",
            "lambda:InvokeAsync",
            "s3:*",
            "lambda:Get*",
        ] {
            safe(allow(serde_json::json!("*"), action));
        }
        assert_eq!(
            exposed(
                serde_json::json!({"Sid": "s", "Effect": "Allow", "Principal": "*",
                "NotAction": "lambda:InvokeFunctionUrl"})
            ),
            "anyone (*) may call lambda:InvokeFunction"
        );
        safe(
            serde_json::json!({"Sid": "s", "Effect": "Allow", "Principal": "*",
            "NotAction": ["lambda:Invoke*"]}),
        );
    }

    #[test]
    fn the_auth_type_condition_decides_whether_a_url_grant_applies_to_aws_iam() {
        let url = |operator: &str, value: &str| {
            serde_json::json!({"Sid": "s", "Effect": "Allow", "Principal": "*", "Action": URL_ACTION,
                "Condition": {operator: {"lambda:FunctionUrlAuthType": value}}})
        };
        // A public grant for NONE does not apply to a URL on AWS_IAM.
        safe(url("StringEquals", "NONE"));
        exposed(url("StringEquals", "AWS_IAM"));
        exposed(url("StringNotEquals", "NONE"));
        safe(url("StringNotEquals", "AWS_IAM"));
        exposed(url("StringLike", "*"));
        exposed(url("StringEqualsIfExists", "AWS_IAM"));
    }

    #[test]
    fn invoke_function_counts_unless_limited_to_function_url_calls() {
        let invoke = |value: serde_json::Value| {
            serde_json::json!({"Sid": "s", "Effect": "Allow", "Principal": "*", "Action": INVOKE_ACTION,
                "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": value}}})
        };
        // Through a URL only: a URL call also needs InvokeFunctionUrl,
        // whose statement is the one reported.
        safe(invoke(serde_json::json!(true)));
        safe(invoke(serde_json::json!("true")));
        // Direct invocations pass the distribution by.
        exposed(invoke(serde_json::json!(false)));
        exposed(allow(serde_json::json!("*"), INVOKE_ACTION));
        // Both actions, via a URL only: the URL half still exposes.
        assert_eq!(
            exposed(
                serde_json::json!({"Sid": "s", "Effect": "Allow", "Principal": "*",
                "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
                "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}})
            ),
            "anyone (*) may call lambda:InvokeFunctionUrl"
        );
    }

    #[test]
    fn urlguards_own_grants_and_denies_are_not_foreign() {
        let own = own();
        let ours = |sid: &str, source: &str| {
            serde_json::json!({"Sid": sid, "Effect": "Allow",
                "Principal": {"Service": CLOUDFRONT_PRINCIPAL}, "Action": URL_ACTION,
                "Condition": {"ArnLike": {"AWS:SourceArn": source}}})
        };
        // This URL's own grant, even if it drifted (the grant plan repairs it).
        assert_eq!(judge(ours(&own[0], OTHER)), []);
        // Another URL of the instance naming the same function, through
        // its own distribution.
        assert_eq!(
            judge(ours(
                "urlguard-urlguard_books-get-books-v2-0123456789ab-url",
                OTHER
            )),
            []
        );
        // The instance's prefix alone does not make a statement urlguard's.
        let mimic = serde_json::json!({"Sid": "urlguard-urlguard_x", "Effect": "Allow",
            "Principal": "*", "Action": URL_ACTION});
        assert_eq!(judge(mimic).len(), 1);
        // Another instance's grant is foreign.
        assert_eq!(
            judge(ours("urlguard-staging_books-x-0123456789ab-url", OTHER)).len(),
            1
        );
        safe(
            serde_json::json!({"Sid": "s", "Effect": "Deny", "Principal": "*", "Action": "lambda:*"}),
        );
    }

    #[test]
    fn statements_are_reported_in_policy_order() {
        let document = serde_json::json!({"Statement": [
            {"Sid": "b", "Effect": "Allow", "Principal": "*", "Action": URL_ACTION},
            {"Sid": "trigger", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": INVOKE_ACTION},
            {"Sid": "a", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": INVOKE_ACTION}
        ]});
        let grants = parse_grants(&document.to_string()).expect("parses");
        let sids: Vec<String> = foreign_statements(
            &grants,
            Scope {
                account: ACCOUNT,
                distribution_arn: OURS,
                own_sids: &[],
                instance_sid_prefix: "urlguard-urlguard_",
            },
        )
        .into_iter()
        .map(|e| e.sid)
        .collect();
        assert_eq!(sids, ["b", "a"]);
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(glob("lambda:*", "lambda:InvokeFunction"));
        assert!(glob("*", ""));
        assert!(glob("l?mbda:*Url", "lambda:InvokeFunctionUrl"));
        assert!(!glob("lambda:Invoke", "lambda:InvokeFunction"));
        assert!(!glob("lambda:*Url", "lambda:InvokeFunction"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
    }
}
