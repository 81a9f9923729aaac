//! Deterministic names and owner tags, derived from the instance name, the
//! namespace and the object name, so that the CLI and the controller derive
//! the same names and a controller can adopt what the CLI applied.
//!
//! Every AWS name urlguard makes for an object is
//! `<instance>_<namespace>-<name>-<hash>-<what>`, where `<hash>` is 12 hex
//! digits of the SHA-256 of the exact (instance, namespace, name) triple.
//! The readable part alone is ambiguous (`team-a`/`x` and `team`/`a-x` both
//! read `team-a-x`); the hash makes the name unique per triple, and it is
//! stable across restarts, so a retried create finds what the first one
//! made. A readable part too long for AWS's limit is cut; the hash stays.
//!
//! `_` ends the instance: an instance name is a DNS-1123 label (no `_`, see
//! [`check_instance`]), so the policy's patterns `<instance>_*` never match
//! the names of an instance `<instance>-staging`. Every kind of name
//! allows `_` (Lambda function names and statement ids `[a-zA-Z0-9-_]`,
//! IAM role names `[\w+=,.@-]`, CloudFront OAC names any text up to 64).
//! Lambda accepts neither dots nor other punctuation, and a Kubernetes name
//! may hold dots (`books.v1`): they read as `-`; the hash keeps the name
//! unique.

use sha2::{Digest, Sha256};

use super::OWNER_TAG_KEY;

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

    /// 12 hex digits of the SHA-256 of the exact triple: what makes every
    /// name of this owner unique. The parts are joined by NUL, which none
    /// of them can hold, so distinct triples hash distinct texts.
    pub fn hash(&self) -> String {
        short_hash(&format!(
            "{}\0{}\0{}",
            self.instance, self.namespace, self.name
        ))
    }

    /// `<prefix><instance>_<namespace>-<name>-<hash>-<what>`, Lambda-safe,
    /// the readable part cut so the whole fits in `max` characters.
    fn aws_name(&self, prefix: &str, what: &str, max: usize) -> String {
        let readable = lambda_safe(&format!(
            "{prefix}{}{INSTANCE_DELIMITER}{}-{}",
            self.instance, self.namespace, self.name
        ));
        let tail = format!("-{}-{what}", self.hash());
        let keep = max.saturating_sub(tail.len()).min(readable.len());
        // Lambda-safe text is ASCII: any byte index is a character boundary.
        format!("{}{tail}", &readable[..keep])
    }

    /// The Lambda@Edge signer function of a distribution (≤ 64 characters,
    /// `[a-zA-Z0-9-_]`).
    pub fn signer_function_name(&self) -> String {
        self.aws_name("", "signer", 64)
    }

    /// The signer's IAM role (≤ 64 characters).
    pub fn signer_role_name(&self) -> String {
        self.aws_name("", "signer", 64)
    }

    /// The origin access control for function URL origins (≤ 64).
    pub fn lambda_oac_name(&self) -> String {
        self.aws_name("", "lambda", 64)
    }

    /// The origin access control for an S3 default origin (≤ 64).
    pub fn s3_oac_name(&self) -> String {
        self.aws_name("", "s3", 64)
    }

    /// The description urlguard gives the owner's origin access controls:
    /// OACs take no tags, so this is where their owner is recorded, and it
    /// is checked before an OAC is adopted or deleted (≤ 256 characters,
    /// CloudFront's limit; a longer owner keeps the hash of the triple).
    pub fn oac_description(&self) -> String {
        let full = format!(
            "{OWNER_TAG_KEY}={}",
            self.tag_value(OwnerKind::EdgeDistribution)
        );
        if full.len() <= 256 {
            return full;
        }
        let tail = format!(" #{}", self.hash());
        let mut cut = 256 - tail.len();
        while !full.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}{tail}", &full[..cut])
    }

    /// The distribution's `CallerReference`: unique per owner, never reused
    /// by another object, so a retried create finds the first one.
    pub fn caller_reference(&self) -> String {
        format!(
            "urlguard/{}/{}/{}",
            self.instance, self.namespace, self.name
        )
    }

    /// The `CallerReference` of the distribution's invalidation for
    /// `revision`: `urlguard-` and 32 hex digits of the SHA-256 of the
    /// owner and the revision, so a retry, a second controller or the CLI
    /// name the same invalidation and CloudFront never makes it twice.
    pub fn invalidation_caller_reference(&self, revision: &str) -> String {
        let digest = Sha256::digest(
            format!(
                "{}\0{}\0{}\0{revision}",
                self.instance, self.namespace, self.name
            )
            .as_bytes(),
        );
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("urlguard-{hex}")
    }

    /// The id of the distribution's default origin. It names the owner, so
    /// that `ListDistributions` alone finds the owner's distribution.
    pub fn default_origin_id(&self) -> String {
        format!("default:{}/{}/{}", self.instance, self.namespace, self.name)
    }

    /// Statement ids of a URL's resource-policy grants (≤ 100 characters,
    /// `[a-zA-Z0-9-_]`), all starting `urlguard-`.
    pub fn statement_id(&self, purpose: &str) -> String {
        self.aws_name("urlguard-", purpose, 100)
    }
}

/// The start of every statement id of `instance`'s URLs
/// ([`Owner::statement_id`]): `urlguard-<instance>_`.
pub fn statement_id_prefix(instance: &str) -> String {
    lambda_safe(&format!("urlguard-{instance}{INSTANCE_DELIMITER}"))
}

/// What ends the instance in every AWS name (`<instance>_…`): a character
/// an instance name cannot hold, so the patterns `<instance>_*` of the
/// controller's policy match no other instance's names.
pub const INSTANCE_DELIMITER: char = '_';

/// Why a name cannot be an instance name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "instance name {0:?} is invalid: it must be 1 to 24 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
)]
pub struct InstanceNameError(pub String);

/// Checks an instance name (`--instance`, Helm `instanceName`, whose values
/// schema holds the same rule): a DNS-1123 label starting with a letter, at
/// most 24 characters so the names derived from it stay readable. It never
/// holds [`INSTANCE_DELIMITER`].
pub fn check_instance(instance: &str) -> Result<(), InstanceNameError> {
    let bytes = instance.as_bytes();
    let valid = (1..=24).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.last() != Some(&b'-');
    if valid {
        Ok(())
    } else {
        Err(InstanceNameError(instance.to_owned()))
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

/// `text` with every character Lambda names refuse (outside
/// `[a-zA-Z0-9-_]`) as `-`. Not unique on its own: the owner's hash is.
fn lambda_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
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

    #[test]
    fn an_invalidation_caller_reference_is_stable_per_owner_and_revision() {
        let books = owner("books");
        let first = books.invalidation_caller_reference("build-41");
        assert_eq!(first, books.invalidation_caller_reference("build-41"));
        assert_ne!(first, books.invalidation_caller_reference("build-42"));
        assert_ne!(
            first,
            owner("books2").invalidation_caller_reference("build-41")
        );
        assert!(
            first.starts_with("urlguard-") && first.len() == 41,
            "{first}"
        );
    }

    fn owner(name: &str) -> Owner {
        in_namespace("books", name)
    }

    fn in_namespace(namespace: &str, name: &str) -> Owner {
        Owner {
            instance: "urlguard".into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Every kind of name an owner gets, labelled.
    fn every_name(owner: &Owner) -> Vec<(&'static str, String)> {
        vec![
            ("signer function", owner.signer_function_name()),
            ("signer role", owner.signer_role_name()),
            ("lambda OAC", owner.lambda_oac_name()),
            ("s3 OAC", owner.s3_oac_name()),
            ("OAC description", owner.oac_description()),
            ("caller reference", owner.caller_reference()),
            ("default origin", owner.default_origin_id()),
            ("statement id", owner.statement_id("invoke")),
            ("owner tag", owner.tag_value(OwnerKind::EdgeDistribution)),
        ]
    }

    #[test]
    fn names_are_readable_and_carry_the_owner_hash() {
        let books = owner("books");
        let hash = books.hash();
        assert_eq!(hash.len(), 12);
        assert_eq!(
            books.signer_function_name(),
            format!("urlguard_books-books-{hash}-signer")
        );
        assert_eq!(books.caller_reference(), "urlguard/urlguard/books/books");
        assert_eq!(
            books.tag_value(OwnerKind::EdgeDistribution),
            "urlguard/books/EdgeDistribution/books"
        );
        let get_books = owner("get-books");
        assert_eq!(
            get_books.statement_id("invoke"),
            format!(
                "urlguard-urlguard_books-get-books-{}-invoke",
                get_books.hash()
            )
        );
        assert_eq!(
            books.oac_description(),
            "urlguard.io/owner=urlguard/books/EdgeDistribution/books"
        );
    }

    #[test]
    fn statement_ids_start_with_their_instances_prefix_only() {
        let books = owner("books");
        assert!(
            books
                .statement_id("url")
                .starts_with(&statement_id_prefix("urlguard"))
        );
        let staging = Owner {
            instance: "urlguard-staging".into(),
            ..owner("books")
        };
        assert!(
            !staging
                .statement_id("url")
                .starts_with(&statement_id_prefix("urlguard"))
        );
    }

    #[test]
    fn names_are_deterministic() {
        assert_eq!(every_name(&owner("books")), every_name(&owner("books")));
        // Pinned: a change here renames every installation's resources.
        assert_eq!(owner("books").hash(), short_hash("urlguard\0books\0books"));
    }

    #[test]
    fn namespace_and_name_split_differently_give_different_names() {
        let a = in_namespace("team-a", "x");
        let b = in_namespace("team", "a-x");
        for ((kind, name_a), (_, name_b)) in every_name(&a).into_iter().zip(every_name(&b)) {
            assert_ne!(name_a, name_b, "{kind}");
        }
        assert_ne!(a.statement_id("url"), b.statement_id("url"));
    }

    #[test]
    fn every_name_starts_with_the_instance_and_its_delimiter() {
        let staging = Owner {
            instance: "urlguard-staging".into(),
            namespace: "books".into(),
            name: "books".into(),
        };
        for name in [
            staging.signer_function_name(),
            staging.signer_role_name(),
            staging.lambda_oac_name(),
            staging.s3_oac_name(),
        ] {
            assert!(name.starts_with("urlguard-staging_"), "{name}");
            assert!(!name.starts_with("urlguard_"), "{name}");
        }
        assert!(
            staging
                .statement_id("url")
                .starts_with("urlguard-urlguard-staging_")
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
        let long = owner(&format!("{}.v2", "a".repeat(240)));
        assert!(lambda_name.is_match(&long.signer_function_name()));
        assert!(statement_id.is_match(&long.statement_id("account")));
    }

    #[test]
    fn long_names_stay_within_limits_unique_and_stable() {
        let a = in_namespace(&"n".repeat(63), &"a".repeat(253));
        let b = in_namespace(&"n".repeat(63), &format!("{}b", "a".repeat(252)));
        let name_a = a.signer_function_name();
        assert_eq!(name_a.len(), 64);
        assert!(name_a.starts_with("urlguard_nnn"), "{name_a}");
        assert_eq!(name_a, a.signer_function_name(), "stable");
        assert_ne!(name_a, b.signer_function_name(), "unique");
        assert!(a.lambda_oac_name().len() <= 64);
        assert!(a.statement_id("account").len() <= 100);
        assert!(a.oac_description().len() <= 256);
        assert_ne!(a.oac_description(), b.oac_description());
    }

    #[test]
    fn instance_names_are_dns_labels_without_the_delimiter() {
        for good in ["urlguard", "urlguard-staging", "a", "team-1"] {
            assert_eq!(check_instance(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "urlguard_x",
            "Urlguard",
            "1st",
            "ends-",
            "has.dot",
            &"a".repeat(25),
        ] {
            assert!(check_instance(bad).is_err(), "{bad:?}");
        }
    }
}
