//! Deterministic names and owner tags, derived from the instance name, the
//! namespace and the object name, so that the CLI and the controller derive
//! the same names and a controller can adopt what the CLI applied.
//!
//! AWS limits some names to 64 characters; a name that would be longer keeps
//! a readable prefix and ends in a hash of the whole, so it stays unique and
//! stable. Lambda accepts only `[a-zA-Z0-9-_]` in function names and
//! statement ids, while a Kubernetes name may hold dots (`books.v1`): such a
//! name has them replaced and a hash of the original added, so it stays
//! unique too (and names without them are unchanged).

use sha2::{Digest, Sha256};

/// urlguard's two kinds: what an owner tag names, and what a reconcile
/// reports on (`reconcile::Kind`). Serialized as the Kubernetes kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum OwnerKind {
    /// An `EdgeDistribution`.
    EdgeDistribution,
    /// A `ProtectedFunctionUrl`.
    ProtectedFunctionUrl,
}

impl OwnerKind {
    /// The Kubernetes kind.
    pub const fn as_str(self) -> &'static str {
        match self {
            OwnerKind::EdgeDistribution => "EdgeDistribution",
            OwnerKind::ProtectedFunctionUrl => "ProtectedFunctionUrl",
        }
    }
}

/// Who owns an AWS resource: one object of one urlguard instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner {
    /// The urlguard instance (`--instance`, Helm `instanceName`).
    pub instance: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl Owner {
    /// The owner tag's value: `<instance>/<namespace>/<kind>/<name>`.
    pub fn tag_value(&self, kind: OwnerKind) -> String {
        format!(
            "{}/{}/{}/{}",
            self.instance,
            self.namespace,
            kind.as_str(),
            self.name
        )
    }

    /// `<instance>-<namespace>-<name>`, the stem of AWS resource names.
    fn stem(&self) -> String {
        format!("{}-{}-{}", self.instance, self.namespace, self.name)
    }

    /// The Lambda@Edge signer function of a distribution (≤ 64 characters,
    /// `[a-zA-Z0-9-_]`).
    pub fn signer_function_name(&self) -> String {
        bounded(&lambda_safe(&format!("{}-signer", self.stem())), 64)
    }

    /// The signer's IAM role (≤ 64 characters).
    pub fn signer_role_name(&self) -> String {
        bounded(&format!("{}-signer", self.stem()), 64)
    }

    /// The origin access control for function URL origins (≤ 64).
    pub fn lambda_oac_name(&self) -> String {
        bounded(&format!("{}-lambda", self.stem()), 64)
    }

    /// The origin access control for an S3 default origin (≤ 64).
    pub fn s3_oac_name(&self) -> String {
        bounded(&format!("{}-s3", self.stem()), 64)
    }

    /// The distribution's `CallerReference`: unique per owner, never reused
    /// by another object, so a retried create finds the first one.
    pub fn caller_reference(&self) -> String {
        format!(
            "urlguard/{}/{}/{}",
            self.instance, self.namespace, self.name
        )
    }

    /// The id of the distribution's default origin. It names the owner, so
    /// that `ListDistributions` alone finds the owner's distribution.
    pub fn default_origin_id(&self) -> String {
        format!("default:{}/{}/{}", self.instance, self.namespace, self.name)
    }

    /// Statement ids of a URL's resource-policy grants (≤ 100 characters,
    /// `[a-zA-Z0-9-_]`).
    pub fn statement_id(&self, purpose: &str) -> String {
        bounded(
            &lambda_safe(&format!("urlguard-{}-{purpose}", self.stem())),
            100,
        )
    }
}

/// The IAM path of roles urlguard creates.
pub const ROLE_PATH: &str = "/urlguard/";

/// The inline policy on the signer role that names the attached functions.
pub const SIGNER_POLICY_NAME: &str = "invoke-protected-function-urls";

/// The origin id of a `ProtectedFunctionUrl`'s function URL inside its
/// distribution.
pub fn url_origin_id(url_name: &str) -> String {
    format!("pfu-{url_name}")
}

/// `text` if it fits in `max` characters, else a prefix and a 12-hex-digit
/// hash of the whole.
fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let hash = short_hash(text);
    let keep = max - hash.len() - 1;
    format!("{}-{hash}", &text[..keep])
}

/// `text` if it holds only `[a-zA-Z0-9-_]`, else with every other
/// character as `-` and a hash of `text` appended.
fn lambda_safe(text: &str) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if text.chars().all(allowed) {
        return text.to_owned();
    }
    let replaced: String = text
        .chars()
        .map(|c| if allowed(c) { c } else { '-' })
        .collect();
    format!("{replaced}-{}", short_hash(text))
}

/// 12 hex digits of the SHA-256 of `text`.
fn short_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(name: &str) -> Owner {
        Owner {
            instance: "urlguard".into(),
            namespace: "books".into(),
            name: name.into(),
        }
    }

    #[test]
    fn names_are_readable_when_short() {
        let books = owner("books");
        assert_eq!(books.signer_function_name(), "urlguard-books-books-signer");
        assert_eq!(books.caller_reference(), "urlguard/urlguard/books/books");
        assert_eq!(
            books.tag_value(OwnerKind::EdgeDistribution),
            "urlguard/books/EdgeDistribution/books"
        );
        assert_eq!(
            owner("get-books").statement_id("invoke"),
            "urlguard-urlguard-books-get-books-invoke"
        );
    }

    #[test]
    fn dotted_kubernetes_names_give_lambda_names_lambda_accepts() {
        let lambda_name = regex::Regex::new("^[a-zA-Z0-9_-]{1,64}$").expect("regex");
        let statement_id = regex::Regex::new("^[a-zA-Z0-9_-]{1,100}$").expect("regex");
        let dotted = owner("books.v1");
        let dashed = owner("books-v1");
        assert!(lambda_name.is_match(&dotted.signer_function_name()));
        assert!(statement_id.is_match(&dotted.statement_id("invoke")));
        assert_ne!(dotted.signer_function_name(), dashed.signer_function_name());
        assert_ne!(dotted.statement_id("url"), dashed.statement_id("url"));
        assert_eq!(
            dashed.signer_function_name(),
            "urlguard-books-books-v1-signer",
            "names Lambda accepts stay as they were"
        );
        let long = owner(&format!("{}.v2", "a".repeat(240)));
        assert!(lambda_name.is_match(&long.signer_function_name()));
    }

    #[test]
    fn long_names_stay_within_limits_unique_and_stable() {
        let a = owner(&"a".repeat(80));
        let b = owner(&format!("{}b", "a".repeat(79)));
        let name_a = a.signer_function_name();
        assert_eq!(name_a.len(), 64);
        assert_eq!(name_a, a.signer_function_name(), "stable");
        assert_ne!(name_a, b.signer_function_name(), "unique");
    }
}
