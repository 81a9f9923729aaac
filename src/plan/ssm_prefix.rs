//! The cluster-wide rule confining SSM parameter names: every parameter an
//! object names (`spec.ssmExport.*Parameter`) must start with the prefix
//! its namespace gets from a template, `/{namespace}/` by default
//! (`--ssm-prefix`, Helm value `ssmPrefix`). Without it a tenant could
//! write under another team's path, or take a name first that another
//! team's stack reads (`/books/GetBooksUrl`). The defaults urlguard derives
//! (`/<namespace>/<Name>Url`) are inside the default rule.

use std::fmt;

/// The placeholder a template names the namespace with.
pub const NAMESPACE_PLACEHOLDER: &str = "{namespace}";

/// The default template: a namespace's parameters live under `/<namespace>/`.
pub const DEFAULT_TEMPLATE: &str = "/{namespace}/";

/// A prefix template, checked: it starts and ends with `/`, so a prefix
/// `/books/` never admits `/books-other/…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsmPrefix {
    template: String,
}

/// Why a template is not a prefix rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "SSM prefix template {0:?} is invalid: it must start and end with '/' (such as '/{{namespace}}/' or '/apps/{{namespace}}/'; '/' allows every name)"
)]
pub struct SsmPrefixError(pub String);

impl SsmPrefix {
    /// Checks `template`.
    pub fn new(template: &str) -> Result<Self, SsmPrefixError> {
        if template.starts_with('/') && template.ends_with('/') {
            Ok(Self {
                template: template.to_owned(),
            })
        } else {
            Err(SsmPrefixError(template.to_owned()))
        }
    }

    /// The prefix of `namespace`'s parameters.
    pub fn for_namespace(&self, namespace: &str) -> String {
        self.template.replace(NAMESPACE_PLACEHOLDER, namespace)
    }

    /// Whether `parameter` is inside `namespace`'s prefix.
    pub fn admits(&self, namespace: &str, parameter: &str) -> bool {
        parameter.starts_with(&self.for_namespace(namespace))
    }
}

impl Default for SsmPrefix {
    fn default() -> Self {
        Self {
            template: DEFAULT_TEMPLATE.to_owned(),
        }
    }
}

impl fmt::Display for SsmPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_confines_a_namespace_to_its_own_path() {
        let rule = SsmPrefix::default();
        assert!(rule.admits("books", "/books/GetBooksUrl"));
        assert!(rule.admits("books", "/books/deep/er/Url"));
        assert!(!rule.admits("books", "/payments/GetBooksUrl"));
        assert!(!rule.admits("books", "/books-other/x"));
        assert!(!rule.admits("books", "/booksX"));
    }

    #[test]
    fn templates_may_nest_the_namespace_and_must_end_with_a_slash() {
        let rule = SsmPrefix::new("/apps/{namespace}/urls/").expect("valid");
        assert_eq!(rule.for_namespace("books"), "/apps/books/urls/");
        assert!(rule.admits("books", "/apps/books/urls/x"));
        assert!(!rule.admits("books", "/books/x"));
        assert!(SsmPrefix::new("/").expect("everything").admits("a", "/b/c"));
        for bad in ["", "/{namespace}", "{namespace}/", "apps/"] {
            assert!(SsmPrefix::new(bad).is_err(), "{bad:?}");
        }
    }
}
