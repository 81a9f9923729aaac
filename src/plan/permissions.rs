//! Resource-policy statements on a user's function, managed by statement id
//! (`urlguard-...`). Under `OriginAccessControl` these are the two grants
//! for `cloudfront.amazonaws.com`, scoped by `AWS:SourceArn` to the
//! distribution; a drifted or missing statement is (re)written.

use crate::model::lambda::PolicyStatement;

/// The principal CloudFront's origin access control signs as.
pub const CLOUDFRONT_PRINCIPAL: &str = "cloudfront.amazonaws.com";

/// The two statements that let one distribution, and nobody else, call a
/// function URL through origin access control.
pub fn origin_access_statements(
    url_sid: String,
    invoke_sid: String,
    distribution_arn: &str,
) -> [PolicyStatement; 2] {
    [
        PolicyStatement {
            sid: url_sid,
            action: "lambda:InvokeFunctionUrl".to_owned(),
            principal: CLOUDFRONT_PRINCIPAL.to_owned(),
            source_arn: Some(distribution_arn.to_owned()),
            function_url_auth_type: Some("AWS_IAM".to_owned()),
            invoked_via_function_url: false,
        },
        PolicyStatement {
            sid: invoke_sid,
            action: "lambda:InvokeFunction".to_owned(),
            principal: CLOUDFRONT_PRINCIPAL.to_owned(),
            source_arn: Some(distribution_arn.to_owned()),
            function_url_auth_type: None,
            invoked_via_function_url: true,
        },
    ]
}

/// What to do with one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementAction {
    /// Add it.
    Add(PolicyStatement),
    /// Remove the statement with this id and add the desired one.
    Replace(PolicyStatement),
    /// Remove the statement with this id.
    Remove(String),
}

/// Plans `desired` against `observed`; statements urlguard manages but no
/// longer wants (ids in `managed_sids` that are not desired) are removed.
pub fn plan(
    desired: &[PolicyStatement],
    observed: &[PolicyStatement],
    managed_sids: &[String],
) -> Vec<StatementAction> {
    let mut actions: Vec<StatementAction> = desired
        .iter()
        .filter_map(|want| match observed.iter().find(|o| o.sid == want.sid) {
            None => Some(StatementAction::Add(want.clone())),
            Some(found) if found != want => Some(StatementAction::Replace(want.clone())),
            Some(_) => None,
        })
        .collect();
    actions.extend(
        observed
            .iter()
            .filter(|o| managed_sids.contains(&o.sid) && !desired.iter().any(|d| d.sid == o.sid))
            .map(|o| StatementAction::Remove(o.sid.clone())),
    );
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:cloudfront::123456789012:distribution/E1";

    #[test]
    fn table() {
        let [url, invoke] = origin_access_statements("u".into(), "i".into(), ARN);
        let desired = [url.clone(), invoke.clone()];
        assert_eq!(
            plan(&desired, &[], &[]),
            vec![
                StatementAction::Add(url.clone()),
                StatementAction::Add(invoke.clone())
            ]
        );
        assert_eq!(plan(&desired, &desired, &[]), vec![]);
        let mut other_distribution = url.clone();
        other_distribution.source_arn =
            Some("arn:aws:cloudfront::123456789012:distribution/E2".into());
        assert_eq!(
            plan(&desired, &[other_distribution, invoke.clone()], &[]),
            vec![StatementAction::Replace(url.clone())]
        );
        let foreign = PolicyStatement {
            sid: "someone-else".into(),
            ..url.clone()
        };
        assert_eq!(
            plan(&[], &[url.clone(), foreign], &["u".into()]),
            vec![StatementAction::Remove("u".into())],
            "only managed ids are removed"
        );
    }
}
