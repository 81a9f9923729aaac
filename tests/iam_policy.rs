//! `urlguard iam-policy` grants what the engine calls: every operation in the
//! ledger of applies, changes and drift repairs of books.yaml, in both
//! protections, needs only actions the policy grants.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::aws::{TestBed, create_functions, lambda_client};
use urlguard::api::Protection;
use urlguard::aws::Aws;
use urlguard::aws::permissions::{
    IMPLIED_BY_EDGE_ASSOCIATION, actions_for, controller_policy, granted_actions,
};
use urlguard::manifest::{self, Resource};
use urlguard::plan::desired;
use urlguard::reconcile::{DeployWait, Engine, Mode};

/// Actions only teardown uses (issue 6's destroy exercises them).
const TEARDOWN_ONLY: [&str; 9] = [
    "cloudfront:DeleteDistribution",
    "cloudfront:ListTagsForResource",
    "cloudfront:DeleteOriginAccessControl",
    "cloudfront:GetOriginAccessControl",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "lambda:DeleteFunction",
    "lambda:DeleteFunctionUrlConfig",
    "ssm:DeleteParameter",
];

/// Actions that only a repair of a foreign-looking resource or a lost answer
/// reaches: an SSM parameter that exists before its first write.
const RECOVERY_ONLY: [&str; 1] = ["ssm:ListTagsForResource"];

async fn exercise(protection: Protection) -> (BTreeSet<String>, Vec<String>) {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let functions = [
        "books-get-books",
        "books-get-book",
        "books-create-book",
        "books-update-book",
        "books-delete-book",
    ];
    create_functions(&config, "eu-west-1", &functions).await;
    let text = std::fs::read_to_string(support::repo_root().join("examples/books.yaml"))
        .expect("books.yaml");
    let loaded = manifest::parse("books.yaml", &text).expect("YAML");
    let (mut distributions, mut urls) = (Vec::new(), Vec::new());
    for resource in loaded.resources {
        match resource {
            Resource::EdgeDistribution(d) => distributions.push(d),
            Resource::ProtectedFunctionUrl(u) => urls.push(u),
        }
    }
    distributions[0].spec.protection = protection;
    let aws = Aws::from_sdk_config(config.clone());
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
    };
    let engine = Engine::new(aws.clone(), Mode::Apply, wait);
    let apply = |distributions: Vec<_>, urls: Vec<_>| {
        let engine = engine.clone();
        async move {
            let reports = engine
                .reconcile(&desired::build("urlguard", &distributions, &urls))
                .await;
            assert!(reports.iter().all(|r| r.ready), "{reports:#?}");
        }
    };
    apply(distributions.clone(), urls.clone()).await;

    // Drift and change paths: a URL opened to the internet, a changed path,
    // a grant pointed at another distribution (origin access control), and
    // for the signer new memory, its code and trust policy edited by hand.
    lambda_client(&config, "eu-west-1")
        .update_function_url_config()
        .function_name("books-get-books")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .expect("open the URL");
    urls[0].spec.path_pattern = "/listBooks".to_owned();
    if protection == Protection::EdgeSigner {
        distributions[0].spec.signer.memory_size = 256;
        let lambda_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        aws_sdk_iam::Client::new(&config)
            .update_assume_role_policy()
            .role_name("urlguard-books-books-signer")
            .policy_document(lambda_only)
            .send()
            .await
            .expect("edit the trust policy");
        lambda_client(&config, "us-east-1")
            .update_function_code()
            .function_name("urlguard-books-books-signer")
            .zip_file(aws_sdk_lambda::primitives::Blob::new(
                support::aws::tiny_zip("index.mjs", b"export const handler = () => 1;"),
            ))
            .send()
            .await
            .expect("replace the signer code");
    } else {
        let lambda = lambda_client(&config, "eu-west-1");
        let sid = "urlguard-urlguard-books-get-book-invoke";
        lambda
            .remove_permission()
            .function_name("books-get-book")
            .statement_id(sid)
            .send()
            .await
            .expect("remove the grant");
        lambda
            .add_permission()
            .function_name("books-get-book")
            .statement_id(sid)
            .action("lambda:InvokeFunction")
            .principal("cloudfront.amazonaws.com")
            .source_arn("arn:aws:cloudfront::123456789012:distribution/EOTHER")
            .send()
            .await
            .expect("point the grant elsewhere");
    }
    apply(distributions, urls).await;

    let needed: BTreeSet<String> = aws
        .ledger()
        .records()
        .iter()
        .flat_map(|record| actions_for(&record.key()))
        .collect();
    (
        needed,
        granted_actions(&controller_policy("urlguard", Some(protection))),
    )
}

fn check(protection: Protection, needed: &BTreeSet<String>, granted: &[String]) {
    let missing: Vec<&String> = needed.iter().filter(|a| !granted.contains(a)).collect();
    assert!(
        missing.is_empty(),
        "{protection:?}: the policy lacks {missing:?}"
    );
    let unused: Vec<&String> = granted
        .iter()
        .filter(|a| !needed.contains(*a))
        .filter(|a| !TEARDOWN_ONLY.contains(&a.as_str()) && !RECOVERY_ONLY.contains(&a.as_str()))
        .filter(|a| !IMPLIED_BY_EDGE_ASSOCIATION.contains(&a.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "{protection:?}: the policy grants unused {unused:?}"
    );
}

#[tokio::test]
async fn edge_signer_policy_grants_exactly_what_the_engine_calls() {
    let (needed, granted) = exercise(Protection::EdgeSigner).await;
    check(Protection::EdgeSigner, &needed, &granted);
    assert!(
        needed.contains("iam:PassRole") && needed.contains("lambda:PublishVersion"),
        "{needed:?}"
    );
}

#[tokio::test]
async fn origin_access_control_policy_grants_exactly_what_the_engine_calls() {
    let (needed, granted) = exercise(Protection::OriginAccessControl).await;
    check(Protection::OriginAccessControl, &needed, &granted);
    assert!(needed.contains("lambda:AddPermission"), "{needed:?}");
    assert!(!needed.iter().any(|a| a.starts_with("iam:")), "{needed:?}");
}
