//! `metadata.name` and `metadata.namespace` checked as the API server
//! checks them, so the CLI refuses a manifest a cluster would refuse: a
//! custom resource's name is a DNS-1123 subdomain (at most 253 characters,
//! lowercase alphanumerics, `-` and `.`, alphanumeric at both ends), a
//! namespace a DNS-1123 label (at most 63, no dots). The messages follow
//! the API server's, field first. Every AWS name urlguard derives rests on
//! these rules (model::names).

/// Why `metadata.name` or `metadata.namespace` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: Invalid value: {value:?}: {why}")]
pub struct MetadataError {
    /// The field: `metadata.name` or `metadata.namespace`.
    pub field: &'static str,
    /// The value given.
    pub value: String,
    /// The rule it breaks, in the API server's words.
    pub why: String,
}

const LABEL_RULE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const SUBDOMAIN_RULE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// Whether `text` is one DNS-1123 label (length aside).
fn is_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    bytes.first().is_some_and(alphanumeric)
        && bytes.last().is_some_and(alphanumeric)
        && bytes.iter().all(|b| alphanumeric(b) || *b == b'-')
}

/// Checks a custom resource's `metadata.name`: a DNS-1123 subdomain.
pub fn check_name(name: &str) -> Result<(), MetadataError> {
    let error = |why: String| MetadataError {
        field: "metadata.name",
        value: name.to_owned(),
        why,
    };
    if name.len() > 253 {
        return Err(error("must be no more than 253 characters".to_owned()));
    }
    if name.is_empty() || !name.split('.').all(is_label) {
        return Err(error(SUBDOMAIN_RULE.to_owned()));
    }
    Ok(())
}

/// Checks `metadata.namespace`: a DNS-1123 label.
pub fn check_namespace(namespace: &str) -> Result<(), MetadataError> {
    let error = |why: String| MetadataError {
        field: "metadata.namespace",
        value: namespace.to_owned(),
        why,
    };
    if namespace.len() > 63 {
        return Err(error("must be no more than 63 characters".to_owned()));
    }
    if !is_label(namespace) {
        return Err(error(LABEL_RULE.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_subdomains() {
        for good in ["books", "get-books.v1", "a", "1x", &"a".repeat(253)] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Books",
            "get_books",
            "-books",
            "books-",
            "books..v1",
            ".books",
            "books.",
            "a b",
            &"a".repeat(254),
        ] {
            let error = check_name(bad).expect_err(bad);
            assert_eq!(error.field, "metadata.name");
            assert!(
                error
                    .to_string()
                    .starts_with("metadata.name: Invalid value"),
                "{error}"
            );
        }
    }

    #[test]
    fn namespaces_are_dns_labels() {
        for good in ["books", "team-a", "a", &"n".repeat(63)] {
            assert_eq!(check_namespace(good), Ok(()), "{good}");
        }
        for bad in ["", "Books", "team.a", "team_a", "-a", "a-", &"n".repeat(64)] {
            let error = check_namespace(bad).expect_err(bad);
            assert!(
                error
                    .to_string()
                    .starts_with("metadata.namespace: Invalid value"),
                "{error}"
            );
        }
    }
}
