//! A function URL's config: create it, switch it to `AWS_IAM`, or bring its
//! invoke mode and CORS back to the declared values.

use super::change::{FieldChange, compare};
use crate::model::lambda::{AuthType, DesiredUrlConfig, UrlConfig};

/// What to do with one function URL config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlConfigAction {
    /// It matches.
    Keep,
    /// There is none: create it on `AWS_IAM`.
    Create,
    /// It exists but differs.
    Update {
        /// It was on `NONE`: the function was open to the internet.
        switches_from_none: bool,
        /// What differs.
        changes: Vec<FieldChange>,
    },
}

/// Plans one URL config.
pub fn plan(observed: Option<&UrlConfig>, desired: &DesiredUrlConfig) -> UrlConfigAction {
    let Some(observed) = observed else {
        return UrlConfigAction::Create;
    };
    let mut changes = Vec::new();
    compare(
        &mut changes,
        "authType",
        &observed.auth_type,
        &AuthType::AwsIam,
    );
    compare(
        &mut changes,
        "invokeMode",
        &observed.invoke_mode,
        &desired.invoke_mode,
    );
    compare(&mut changes, "cors", &observed.cors, &desired.cors);
    if changes.is_empty() {
        UrlConfigAction::Keep
    } else {
        UrlConfigAction::Update {
            switches_from_none: observed.auth_type == AuthType::None,
            changes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Cors, InvokeMode};

    fn observed(auth_type: AuthType, invoke_mode: InvokeMode) -> UrlConfig {
        UrlConfig {
            function_url: "https://abc.lambda-url.eu-west-1.on.aws/".into(),
            auth_type,
            invoke_mode,
            cors: None,
        }
    }

    fn desired(invoke_mode: InvokeMode) -> DesiredUrlConfig {
        DesiredUrlConfig {
            invoke_mode,
            cors: None,
        }
    }

    #[test]
    fn table() {
        let cors = Some(Cors {
            allow_origins: vec!["https://books.example.com".into()],
            ..Cors::default()
        });
        let cases: Vec<(&str, Option<UrlConfig>, DesiredUrlConfig, UrlConfigAction)> = vec![
            (
                "missing",
                None,
                desired(InvokeMode::Buffered),
                UrlConfigAction::Create,
            ),
            (
                "matching",
                Some(observed(AuthType::AwsIam, InvokeMode::Buffered)),
                desired(InvokeMode::Buffered),
                UrlConfigAction::Keep,
            ),
            (
                "open to the internet",
                Some(observed(AuthType::None, InvokeMode::Buffered)),
                desired(InvokeMode::Buffered),
                UrlConfigAction::Update {
                    switches_from_none: true,
                    changes: vec![FieldChange::new("authType", "None", "AwsIam")],
                },
            ),
            (
                "invoke mode drifted",
                Some(observed(AuthType::AwsIam, InvokeMode::Buffered)),
                desired(InvokeMode::ResponseStream),
                UrlConfigAction::Update {
                    switches_from_none: false,
                    changes: vec![FieldChange::new("invokeMode", "Buffered", "ResponseStream")],
                },
            ),
            (
                "cors declared",
                Some(observed(AuthType::AwsIam, InvokeMode::Buffered)),
                DesiredUrlConfig {
                    invoke_mode: InvokeMode::Buffered,
                    cors: cors.clone(),
                },
                UrlConfigAction::Update {
                    switches_from_none: false,
                    changes: vec![FieldChange::new("cors", "None", format!("{cors:?}"))],
                },
            ),
        ];
        for (name, observed, desired, expected) in cases {
            assert_eq!(plan(observed.as_ref(), &desired), expected, "{name}");
        }
    }
}
