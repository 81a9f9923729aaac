//! `spec.configMapExport`, which both kinds share: the ConfigMap, in the
//! object's own namespace, where the controller publishes what the object's
//! status reports (URLs, ARNs, ids) for workloads to read, and the name it
//! takes when none is given.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// The longest ConfigMap name: a DNS subdomain.
const NAME_MAX: usize = 253;

/// What an `EdgeDistribution`'s name is followed by in its default
/// ConfigMap name.
pub const DISTRIBUTION_SUFFIX: &str = "-distribution";

/// What a `ProtectedFunctionUrl`'s name is followed by in its default
/// ConfigMap name. No name ends in both suffixes, so the defaults of an
/// `EdgeDistribution` and a `ProtectedFunctionUrl` never meet.
pub const URL_SUFFIX: &str = "-url";

/// A ConfigMap the controller writes and owns.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapExport {
    /// The ConfigMap's name, in the object's namespace. Defaults to the
    /// object's name followed by `-distribution` (an `EdgeDistribution`)
    /// or `-url` (a `ProtectedFunctionUrl`). A ConfigMap of that name that
    /// this object does not own is never overwritten: the export is refused
    /// (condition `ConfigMapExported`, reason `ConfigMapNotOwned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')")
        .message("spec.configMapExport.name must be a DNS subdomain, as ConfigMap names are: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"))]
    pub name: Option<String>,
}

/// The default name of a ConfigMap would be longer than a ConfigMap's name
/// may be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the default ConfigMap name {0} is longer than {NAME_MAX} characters: set spec.configMapExport.name"
)]
pub struct DefaultNameTooLong(pub String);

impl ConfigMapExport {
    /// The ConfigMap's name for an object `name` whose kind gives default
    /// names `suffix` ([`DISTRIBUTION_SUFFIX`], [`URL_SUFFIX`]): the
    /// declared one, or the default.
    pub fn name_for(&self, name: &str, suffix: &str) -> Result<String, DefaultNameTooLong> {
        match &self.name {
            Some(declared) => Ok(declared.clone()),
            None => {
                let derived = format!("{name}{suffix}");
                if derived.len() > NAME_MAX {
                    return Err(DefaultNameTooLong(derived));
                }
                Ok(derived)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_name_wins_and_the_default_follows_the_kind() {
        let declared = ConfigMapExport {
            name: Some("books-urls".into()),
        };
        assert_eq!(
            declared.name_for("books", DISTRIBUTION_SUFFIX),
            Ok("books-urls".to_owned())
        );
        let default = ConfigMapExport::default();
        assert_eq!(
            default.name_for("books", DISTRIBUTION_SUFFIX),
            Ok("books-distribution".to_owned())
        );
        assert_eq!(
            default.name_for("get-books", URL_SUFFIX),
            Ok("get-books-url".to_owned())
        );
    }

    #[test]
    fn a_default_name_too_long_for_a_config_map_names_the_field_to_set() {
        let long = "a".repeat(250);
        let error = ConfigMapExport::default()
            .name_for(&long, URL_SUFFIX)
            .expect_err("253 characters at most");
        assert!(
            error.to_string().contains("spec.configMapExport.name"),
            "{error}"
        );
        assert!(
            ConfigMapExport::default()
                .name_for(&"a".repeat(249), URL_SUFFIX)
                .is_ok()
        );
    }

    #[test]
    fn an_empty_export_takes_the_default_name() {
        let parsed: ConfigMapExport = serde_json::from_str("{}").expect("parses");
        assert_eq!(parsed, ConfigMapExport::default());
        assert_eq!(serde_json::to_string(&parsed).expect("json"), "{}");
    }
}
