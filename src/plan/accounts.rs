//! Which AWS account a namespace's objects live in. A namespace names the
//! IAM role the controller assumes for it with the annotation
//! [`ROLE_ANNOTATION`]; the cluster admin allows each mapping
//! (`--aws-namespace-role NAMESPACE=ROLE_ARN_OR_ACCOUNT`, Helm value
//! `aws.namespaceRoles`). A namespace without the annotation uses the
//! controller's own credentials; one whose annotation the admin did not
//! allow is refused, so a tenant able to annotate its own namespace still
//! cannot pick another team's role. Pure: the controller reads the
//! annotation, this decides.

use std::fmt;

/// The namespace annotation that names the role.
pub const ROLE_ANNOTATION: &str = "urlguard.io/aws-role-arn";

/// Where a namespace's objects are reconciled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Account {
    /// The controller's own credentials (the standard chain, or
    /// `--aws-assume-role-arn`).
    Default,
    /// A role assumed for the namespace, whose account is `account`.
    Role {
        /// The role's ARN.
        arn: String,
        /// The account id the ARN names.
        account: String,
    },
}

impl Account {
    /// The label of metrics and logs: the account id, or `default`.
    pub fn label(&self) -> &str {
        match self {
            Account::Default => "default",
            Account::Role { account, .. } => account,
        }
    }
}

/// Why a namespace's mapping is refused: the message for the objects'
/// status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A grant the admin gave: which namespace (or `*`) may use which role (or
/// any role of an account).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    namespace: String,
    target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Role(String),
    Account(String),
}

/// The admin's allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedRoles {
    grants: Vec<Grant>,
}

/// Why an allow-list entry is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--aws-namespace-role {0:?} is invalid: expected NAMESPACE=ROLE_ARN or NAMESPACE=ACCOUNT_ID (NAMESPACE may be '*'), such as 'books=arn:aws:iam::111111111111:role/urlguard' or '*=111111111111'"
)]
pub struct AllowedRoleError(pub String);

impl AllowedRoles {
    /// Parses the entries of `--aws-namespace-role`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowedRoles, AllowedRoleError> {
        let grants = entries
            .iter()
            .map(|entry| parse_grant(entry.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(AllowedRoles { grants })
    }

    /// Where `namespace`'s objects go, given its annotation (`None`: not
    /// annotated).
    pub fn resolve(&self, namespace: &str, annotation: Option<&str>) -> Result<Account, Refused> {
        let Some(arn) = annotation.map(str::trim) else {
            return Ok(Account::Default);
        };
        let Some(account) = role_account(arn) else {
            return Err(Refused(format!(
                "namespace {namespace}'s annotation {ROLE_ANNOTATION}={arn:?} is not an IAM role ARN (arn:aws:iam::<account id>:role/<name>); nothing was changed in AWS"
            )));
        };
        let allowed = self.grants.iter().any(|grant| {
            (grant.namespace == "*" || grant.namespace == namespace)
                && match &grant.target {
                    Target::Role(role) => role == arn,
                    Target::Account(id) => id == account,
                }
        });
        if allowed {
            Ok(Account::Role {
                arn: arn.to_owned(),
                account: account.to_owned(),
            })
        } else {
            Err(Refused(format!(
                "namespace {namespace}'s annotation {ROLE_ANNOTATION}={arn} is not allowed by the cluster admin (the controller's --aws-namespace-role, Helm value aws.namespaceRoles, has no entry {namespace}={arn} or {namespace}={account}); nothing was changed in AWS"
            )))
        }
    }
}

fn parse_grant(entry: &str) -> Result<Grant, AllowedRoleError> {
    let invalid = || AllowedRoleError(entry.to_owned());
    let (namespace, target) = entry.split_once('=').ok_or_else(invalid)?;
    let (namespace, target) = (namespace.trim(), target.trim());
    if namespace.is_empty() || (namespace != "*" && !is_dns_label(namespace)) {
        return Err(invalid());
    }
    let target = if is_account_id(target) {
        Target::Account(target.to_owned())
    } else if role_account(target).is_some() {
        Target::Role(target.to_owned())
    } else {
        return Err(invalid());
    };
    Ok(Grant {
        namespace: namespace.to_owned(),
        target,
    })
}

/// The account of an IAM role ARN (`arn:<partition>:iam::<account>:role/<name>`).
pub fn role_account(arn: &str) -> Option<&str> {
    let [scheme, _partition, service, region, account, resource] =
        arn.splitn(6, ':').collect::<Vec<_>>()[..]
    else {
        return None;
    };
    let named = resource
        .strip_prefix("role/")
        .is_some_and(|name| !name.is_empty());
    (scheme == "arn" && service == "iam" && region.is_empty() && is_account_id(account) && named)
        .then_some(account)
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_dns_label(text: &str) -> bool {
    text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAM_A: &str = "arn:aws:iam::111111111111:role/urlguard";
    const TEAM_B: &str = "arn:aws:iam::222222222222:role/urlguard";

    fn allowed(entries: &[&str]) -> AllowedRoles {
        AllowedRoles::parse(entries).expect("valid entries")
    }

    #[test]
    fn a_namespace_without_the_annotation_uses_the_default_credentials() {
        assert_eq!(allowed(&[]).resolve("books", None), Ok(Account::Default));
        assert_eq!(Account::Default.label(), "default");
    }

    #[test]
    fn an_allowed_role_is_assumed_for_its_namespace_only() {
        let roles = allowed(&[&format!("team-a={TEAM_A}")]);
        let account = roles.resolve("team-a", Some(TEAM_A)).expect("allowed");
        assert_eq!(
            account,
            Account::Role {
                arn: TEAM_A.into(),
                account: "111111111111".into()
            }
        );
        assert_eq!(account.label(), "111111111111");
        let refused = roles
            .resolve("mallory", Some(TEAM_A))
            .expect_err("not for mallory");
        assert!(
            refused.0.contains("not allowed by the cluster admin"),
            "{refused}"
        );
        assert!(refused.0.contains("mallory="), "{refused}");
    }

    #[test]
    fn an_account_entry_allows_every_role_of_that_account() {
        let roles = allowed(&["*=222222222222"]);
        assert!(roles.resolve("anyone", Some(TEAM_B)).is_ok());
        assert!(roles.resolve("anyone", Some(TEAM_A)).is_err());
    }

    #[test]
    fn without_any_entry_every_annotation_is_refused() {
        let refused = allowed(&[])
            .resolve("books", Some(TEAM_A))
            .expect_err("refused");
        assert!(
            refused.0.contains("nothing was changed in AWS"),
            "{refused}"
        );
    }

    #[test]
    fn an_annotation_that_is_not_a_role_arn_is_refused_as_such() {
        let roles = allowed(&["*=111111111111"]);
        for text in [
            "111111111111",
            "arn:aws:iam::111111111111:user/x",
            "arn:aws:iam::1111:role/x",
            "arn:aws:iam::111111111111:role/",
        ] {
            let refused = roles.resolve("books", Some(text)).expect_err(text);
            assert!(refused.0.contains("is not an IAM role ARN"), "{refused}");
        }
    }

    #[test]
    fn entries_are_checked() {
        for bad in [
            "books",
            "=111111111111",
            "Books=111111111111",
            "books=11111",
            "books=arn:aws:s3:::bucket",
        ] {
            assert!(AllowedRoles::parse(&[bad]).is_err(), "{bad}");
        }
        assert!(AllowedRoles::parse(&[format!("books={TEAM_A}"), "*=222222222222".into()]).is_ok());
    }

    #[test]
    fn role_arns_of_other_partitions_name_their_account() {
        assert_eq!(
            role_account("arn:aws-us-gov:iam::333333333333:role/path/x"),
            Some("333333333333")
        );
        assert_eq!(
            role_account("arn:aws:iam:us-east-1:333333333333:role/x"),
            None
        );
    }
}
