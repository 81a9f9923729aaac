//! What urlguard left in the AWS test bed, read with plain SDK clients (not
//! urlguard's adapters): distributions, origin access controls, signer
//! functions with their versions, roles under urlguard's path, SSM
//! parameters, and the URL configs and resource-policy statements of the
//! application's functions. The teardown, fault, crash and controller tests
//! compare it with what must exist, to the count: nothing twice, nothing
//! orphaned.

use std::collections::BTreeMap;

use aws_config::SdkConfig;

use super::aws::lambda_client;
use super::books::BOOK_FUNCTIONS;

/// A distribution as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    pub id: String,
    pub enabled: bool,
    pub comment: String,
    pub path_patterns: Vec<String>,
}

/// Everything of interest in the bed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub distributions: Vec<Distribution>,
    /// Origin access control names.
    pub origin_access_controls: Vec<String>,
    /// Functions in us-east-1 whose name starts with `urlguard-`, with
    /// their numbered versions.
    pub signer_functions: BTreeMap<String, Vec<String>>,
    /// Roles under the path `/urlguard/`.
    pub roles: Vec<String>,
    /// Every SSM parameter in us-east-1.
    pub parameters: Vec<String>,
    /// The auth type of each application function's URL config (`None`
    /// when it has none).
    pub url_configs: BTreeMap<String, Option<String>>,
    /// The marker saying urlguard adopted each application function's URL
    /// config, which existed before it (tag
    /// `urlguard.io/adopted-url-config`), if any.
    pub adopted_markers: BTreeMap<String, Option<String>>,
    /// The marker saying urlguard created each application function's URL
    /// config (tag `urlguard.io/created-url-config`), if any.
    pub created_markers: BTreeMap<String, Option<String>>,
    /// Statement ids in each application function's resource policy.
    pub statements: BTreeMap<String, Vec<String>>,
}

impl Inventory {
    /// Nothing urlguard creates is left (URL configs and statements are
    /// checked separately, they depend on the deletion policy).
    pub fn assert_nothing_from_urlguard(&self, context: &str) {
        assert!(self.distributions.is_empty(), "{context}: {self:#?}");
        assert!(
            self.origin_access_controls.is_empty(),
            "{context}: {self:#?}"
        );
        assert!(self.signer_functions.is_empty(), "{context}: {self:#?}");
        assert!(self.roles.is_empty(), "{context}: {self:#?}");
        assert!(self.parameters.is_empty(), "{context}: {self:#?}");
        assert!(
            self.statements
                .values()
                .flatten()
                .all(|sid| !sid.starts_with("urlguard-")),
            "{context}: {self:#?}"
        );
        // A created marker goes with its config: none without one.
        for (function, marker) in &self.created_markers {
            assert!(
                marker.is_none() || self.url_configs[function].is_some(),
                "{context}: {function} keeps a created marker without a config: {self:#?}"
            );
        }
    }

    /// books.yaml applied once: one of everything, ten parameters, five
    /// URL configs on `AWS_IAM`, the signer with `versions` numbered
    /// versions.
    pub fn assert_books_applied(&self, versions: usize, context: &str) {
        assert_eq!(self.distributions.len(), 1, "{context}: {self:#?}");
        let distribution = &self.distributions[0];
        assert!(distribution.enabled, "{context}: {self:#?}");
        assert_eq!(distribution.path_patterns.len(), 5, "{context}: {self:#?}");
        assert_eq!(
            self.origin_access_controls,
            [super::books::books_owner("books").s3_oac_name()],
            "{context}"
        );
        assert_eq!(
            self.signer_functions.keys().collect::<Vec<_>>(),
            [&super::books::books_signer()],
            "{context}"
        );
        assert_eq!(
            self.signer_functions[&super::books::books_signer()].len(),
            versions,
            "{context}: {self:#?}"
        );
        assert_eq!(self.roles, [super::books::books_signer()], "{context}");
        assert_eq!(self.parameters.len(), 10, "{context}: {self:#?}");
        for function in BOOK_FUNCTIONS {
            assert_eq!(
                self.url_configs.get(function),
                Some(&Some("AWS_IAM".to_owned())),
                "{context}: {function}"
            );
        }
    }
}

/// Reads the inventory; `functions` are the application's functions in
/// eu-west-1.
pub async fn inventory(config: &SdkConfig, functions: &[&str]) -> Inventory {
    let mut inventory = Inventory::default();

    let cloudfront = aws_sdk_cloudfront::Client::new(config);
    let list = cloudfront
        .list_distributions()
        .send()
        .await
        .expect("ListDistributions");
    for summary in list
        .distribution_list()
        .map(|l| l.items().to_vec())
        .unwrap_or_default()
    {
        let config = cloudfront
            .get_distribution_config()
            .id(summary.id())
            .send()
            .await
            .expect("GetDistributionConfig");
        let config = config.distribution_config().expect("config");
        inventory.distributions.push(Distribution {
            id: summary.id().to_owned(),
            enabled: config.enabled(),
            comment: config.comment().to_owned(),
            path_patterns: config
                .cache_behaviors()
                .map(|b| {
                    b.items()
                        .iter()
                        .map(|b| b.path_pattern().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let oacs = cloudfront
        .list_origin_access_controls()
        .send()
        .await
        .expect("ListOriginAccessControls");
    inventory.origin_access_controls = oacs
        .origin_access_control_list()
        .map(|l| l.items().iter().map(|o| o.name().to_owned()).collect())
        .unwrap_or_default();

    let edge = lambda_client(config, "us-east-1");
    let listed = edge.list_functions().send().await.expect("ListFunctions");
    for function in listed.functions() {
        let name = function.function_name().unwrap_or_default().to_owned();
        // Signers of instance `urlguard` (model::names: `<instance>_…`).
        if !name.starts_with("urlguard_") {
            continue;
        }
        let versions = edge
            .list_versions_by_function()
            .function_name(&name)
            .send()
            .await
            .expect("ListVersionsByFunction");
        let numbers = versions
            .versions()
            .iter()
            .filter_map(|v| v.version())
            .filter(|v| *v != "$LATEST")
            .map(str::to_owned)
            .collect();
        inventory.signer_functions.insert(name, numbers);
    }

    let iam = aws_sdk_iam::Client::new(config);
    let roles = iam
        .list_roles()
        .path_prefix("/urlguard/")
        .send()
        .await
        .expect("ListRoles");
    inventory.roles = roles
        .roles()
        .iter()
        .map(|r| r.role_name().to_owned())
        .collect();

    let ssm = aws_sdk_ssm::Client::new(config);
    let mut token = None;
    loop {
        let page = ssm
            .describe_parameters()
            .set_next_token(token.take())
            .send()
            .await
            .expect("DescribeParameters");
        inventory.parameters.extend(
            page.parameters()
                .iter()
                .filter_map(|p| p.name().map(str::to_owned)),
        );
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => break,
        }
    }
    inventory.parameters.sort();

    let lambda = lambda_client(config, "eu-west-1");
    for function in functions {
        let auth = lambda
            .get_function_url_config()
            .function_name(*function)
            .send()
            .await
            .ok()
            .map(|u| u.auth_type().as_str().to_owned());
        inventory.url_configs.insert((*function).to_owned(), auth);
        let tags = lambda
            .get_function()
            .function_name(*function)
            .send()
            .await
            .ok()
            .and_then(|f| f.tags().cloned())
            .unwrap_or_default();
        let marker = |key: &str| tags.get(key).cloned();
        inventory.adopted_markers.insert(
            (*function).to_owned(),
            marker("urlguard.io/adopted-url-config"),
        );
        inventory.created_markers.insert(
            (*function).to_owned(),
            marker("urlguard.io/created-url-config"),
        );
        let sids = match lambda.get_policy().function_name(*function).send().await {
            Ok(policy) => {
                let document: serde_json::Value =
                    serde_json::from_str(policy.policy().unwrap_or("{}")).expect("policy JSON");
                document["Statement"]
                    .as_array()
                    .map(|s| {
                        s.iter()
                            .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            Err(_) => Vec::new(),
        };
        inventory.statements.insert((*function).to_owned(), sids);
    }
    inventory
}
