//! `urlguard iam-policy` grants exactly what the engine calls. The whole life
//! of books.yaml — apply, changes, drift repairs, and the full teardown until
//! everything is gone — runs with the product's key restricted to the policy
//! for the protection, the test bed evaluating every call as IAM would; then:
//!
//! - the ledger needs the very set of actions the policy grants: nothing
//!   missing, nothing unused (the only actions outside the ledger are those
//!   AWS checks on urlguard's behalf when a Lambda@Edge version is
//!   associated, [`IMPLIED_BY_EDGE_ASSOCIATION`]);
//! - no check was denied, and removing any single action from the policy
//!   denies at least one check the life made (re-decided by the emulator's
//!   own evaluator from its authorization log).
//!
//! CloudFront also checks the S3 ACL permissions when a distribution logs;
//! `iam-policy` grants them on the log buckets it is given (`--log-bucket`,
//! or `-f` manifests).

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use aws_emulator::AuthorizationRecord;
use serde_json::Value;
use support::aws::{TestBedOptions, as_product, lambda_client};
use support::books::{books, books_bed, books_yaml};
use support::engine::not_deleted;
use urlguard::api::{Adopt, AdoptionPolicy, EdgeDistribution, ProtectedFunctionUrl, Protection};
use urlguard::aws::Aws;
use urlguard::aws::permissions::{
    IMPLIED_BY_EDGE_ASSOCIATION, IMPLIED_BY_LOGGING, PolicyOptions, actions_for, controller_policy,
    granted_actions, log_buckets_of,
};
use urlguard::plan::{desired, teardown};
use urlguard::reconcile::{DeployWait, Engine, Mode, Reason, ResourceReport, RetryPolicy};

/// The boundary of the tests' instance, which every test bed creates.
const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/urlguard/urlguard-signer-boundary";

/// What one life of books.yaml needed.
struct Exercised {
    /// The IAM actions of every ledger entry.
    needed: BTreeSet<String>,
    /// The actions the policy for the protection grants.
    granted: Vec<String>,
    /// The ARN of the signer role urlguard created (EdgeSigner only).
    signer_role_arn: Option<String>,
    /// The policy the product's key was restricted to.
    policy: Value,
    /// Every check the test bed made of the product's calls.
    checks: Vec<AuthorizationRecord>,
}

/// books.yaml's distribution with `protection`, and what a production
/// distribution adds that needs (or might need) permissions of its own:
/// standard logging, aliases with an ACM certificate and a viewer TLS
/// policy, a WAF web ACL, an invalidation after each deployment, a geo
/// restriction, origin custom headers, and a default behavior with a
/// response headers policy and CloudFront Functions.
fn books_in_production(
    protection: Protection,
) -> (Vec<EdgeDistribution>, Vec<ProtectedFunctionUrl>) {
    let (mut distributions, urls) = books();
    let mut distribution = serde_json::to_value(&distributions[0]).expect("serializes");
    let spec = &mut distribution["spec"];
    spec["protection"] = serde_json::json!(protection);
    spec["logging"] = serde_json::json!({"bucketName": "books-logs", "prefix": "cdn/"});
    spec["aliases"] = serde_json::json!(["books.example.com"]);
    spec["certificateArn"] = serde_json::json!(
        "arn:aws:acm:us-east-1:123456789012:certificate/0d0c0f2a-1111-2222-3333-444455556666"
    );
    spec["invalidation"] =
        serde_json::json!({"paths": ["/index.html", "/assets/*"], "revision": "release-1"});
    spec["webAclArn"] = serde_json::json!(
        "arn:aws:wafv2:us-east-1:123456789012:global/webacl/books/0d0c0f2a-1111-2222-3333-444455556666"
    );
    spec["viewerTls"] = serde_json::json!({"minimumProtocolVersion": "TLSv1.2_2019"});
    spec["geoRestriction"] = serde_json::json!({"type": "Deny", "locations": ["KP"]});
    spec["defaultOrigin"]["s3"]["customHeaders"] =
        serde_json::json!([{"name": "X-Origin-Verify", "value": "s3cr3t"}]);
    spec["defaultBehavior"] = serde_json::json!({
        "responseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03",
        "functionAssociations": [{"eventType": "viewer-request",
            "functionArn": "arn:aws:cloudfront::123456789012:function/books-index-html"}],
    });
    distributions[0] = serde_json::from_value(distribution).expect("a valid EdgeDistribution");
    (distributions, urls)
}

async fn exercise(protection: Protection) -> Exercised {
    let (distributions, mut urls) = books_in_production(protection);
    let policy = controller_policy(
        "urlguard",
        &PolicyOptions {
            log_buckets: log_buckets_of(&distributions),
            ..only(protection)
        },
    );
    let (bed, config) = books_bed(TestBedOptions {
        product_policy: policy.clone(),
        ..TestBedOptions::default()
    })
    .await;
    let mut distributions = distributions;
    let aws = Aws::from_sdk_config(as_product(config.clone()));
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
    };
    // Replicas linger 2 s in the test bed: retry the signer's deletion soon.
    let engine = Engine::new(aws.clone(), Mode::Apply, wait).with_retry_policy(RetryPolicy {
        first: Duration::from_millis(250),
        cap: Duration::from_secs(1),
    });
    let apply = |distributions: Vec<_>, urls: Vec<_>| {
        let engine = engine.clone();
        async move {
            let reports = engine
                .reconcile(&desired::build("urlguard", &distributions, &urls))
                .await;
            assert!(reports.iter().all(ResourceReport::ready), "{reports:#?}");
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
    // A public grant the function's owner added, removed on request
    // (`RemovePermission` under either protection).
    lambda_client(&config, "eu-west-1")
        .add_permission()
        .function_name("books-get-books")
        .statement_id("public")
        .action("lambda:InvokeFunctionUrl")
        .principal("*")
        .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("a public grant");
    urls[0].spec.remove_foreign_statements = true;
    // A new release of the single-page app: one more invalidation.
    if let Some(invalidation) = distributions[0].spec.invalidation.as_mut() {
        invalidation.revision = "release-2".to_owned();
    }
    if protection == Protection::EdgeSigner {
        distributions[0].spec.signer.memory_size = 256;
        let lambda_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        aws_sdk_iam::Client::new(&config)
            .update_assume_role_policy()
            .role_name(support::books::books_signer())
            .policy_document(lambda_only)
            .send()
            .await
            .expect("edit the trust policy");
        // A role without the boundary (created before boundaries, or
        // stripped by hand) gets it back before any other write to it.
        aws_sdk_iam::Client::new(&config)
            .delete_role_permissions_boundary()
            .role_name(support::books::books_signer())
            .send()
            .await
            .expect("strip the boundary");
        lambda_client(&config, "us-east-1")
            .update_function_code()
            .function_name(support::books::books_signer())
            .zip_file(aws_sdk_lambda::primitives::Blob::new(
                support::aws::tiny_zip("index.mjs", b"export const handler = () => 1;"),
            ))
            .send()
            .await
            .expect("replace the signer code");
    } else {
        let lambda = lambda_client(&config, "eu-west-1");
        let sid = &support::books::books_owner("get-book").statement_id("invoke");
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
    apply(distributions.clone(), urls.clone()).await;
    let signer_role_arn = match protection {
        Protection::EdgeSigner => {
            let role = aws_sdk_iam::Client::new(&config)
                .get_role()
                .role_name(support::books::books_signer())
                .send()
                .await
                .expect("the signer role")
                .role
                .expect("role");
            assert_eq!(
                role.permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn()),
                Some(BOUNDARY),
                "the signer role is bounded again"
            );
            Some(role.arn)
        }
        Protection::OriginAccessControl => None,
    };

    // The whole teardown, through the waits for edge replicas, until gone.
    let reports = engine
        .destroy_until_gone(&teardown::build("urlguard", &distributions, &urls))
        .await;
    let left = not_deleted(&reports);
    assert!(left.is_empty(), "{protection:?}: not all gone: {left:#?}");

    // An adoption (`spec.adopt`) of a distribution another tool made and
    // handed over, then its hand-back (`Retain`, the default when
    // adopting): the owner tag goes on, and comes off again.
    let made = Aws::from_sdk_config(config.clone())
        .cloudfront()
        .create_distribution(
            &support::shapes::https_distribution("terraform-books", "made by terraform"),
            &std::collections::BTreeMap::from([(
                "urlguard.io/allow".to_owned(),
                "urlguard/books".to_owned(),
            )]),
        )
        .await
        .expect("set-up: another tool's distribution");
    let mut adopting = distributions.clone();
    adopting[0].spec.adopt = Some(Adopt {
        distribution_id: made.id.clone(),
        policy: AdoptionPolicy::Adopt,
    });
    apply(adopting.clone(), urls.clone()).await;
    let reports = engine
        .destroy_until_gone(&teardown::build("urlguard", &adopting, &urls))
        .await;
    let handed_back = &reports[0];
    assert_eq!(handed_back.verdict.reason, Reason::Retained, "{reports:#?}");
    let left: Vec<&ResourceReport> = reports[1..]
        .iter()
        .filter(|r| r.verdict.reason != Reason::Deleted)
        .collect();
    assert!(left.is_empty(), "{protection:?}: not all gone: {left:#?}");

    let needed: BTreeSet<String> = aws
        .ledger()
        .records()
        .iter()
        .flat_map(|record| actions_for(&record.key()))
        .collect();
    Exercised {
        needed,
        granted: granted_actions(&policy),
        signer_role_arn,
        policy,
        checks: bed.authorizations(),
    }
}

/// `policy` without `action` in any statement (a statement left with no
/// action goes).
fn without_action(policy: &Value, action: &str) -> Value {
    let mut reduced = policy.clone();
    if let Some(statements) = reduced["Statement"].as_array_mut() {
        for statement in statements.iter_mut() {
            if let Some(actions) = statement["Action"].as_array_mut() {
                actions.retain(|a| a != action);
            }
        }
        statements.retain(|s| s["Action"].as_array().is_none_or(|a| !a.is_empty()));
    }
    reduced
}

/// Every check passed under the policy, and without any single action of
/// it at least one of them would have been refused (or, for `ListTags`,
/// answered without the tags).
fn assert_every_action_is_needed(exercised: &Exercised, protection: Protection) {
    assert!(
        !exercised.checks.is_empty(),
        "the product's calls were not checked"
    );
    let refused: Vec<&AuthorizationRecord> = exercised
        .checks
        .iter()
        .filter(|c| !c.decision.is_allowed())
        .collect();
    assert!(
        refused.is_empty(),
        "{protection:?}: refused under its own policy: {refused:#?}"
    );
    let mut unneeded = Vec::new();
    for action in &exercised.granted {
        let reduced = without_action(&exercised.policy, action);
        let denies_one = exercised
            .checks
            .iter()
            .any(|check| !aws_emulator::evaluate(&reduced, check).is_allowed());
        if !denies_one {
            unneeded.push(action.as_str());
        }
    }
    assert!(
        unneeded.is_empty(),
        "{protection:?}: the life of books.yaml still passes without {unneeded:?}"
    );
}

/// The policy options for one protection, without log buckets.
fn only(protection: Protection) -> PolicyOptions {
    PolicyOptions {
        protection: Some(protection),
        ..PolicyOptions::default()
    }
}

/// IAM's `*` wildcard in a resource ARN (no `?` in ours).
fn arn_matches(pattern: &str, arn: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("split yields one part");
    let Some(mut remaining) = arn.strip_prefix(first) else {
        return false;
    };
    for (i, part) in rest.iter().enumerate() {
        if i == rest.len() - 1 {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.is_empty()
}

/// The policy grants exactly what the ledger needed, plus what AWS checks
/// implicitly for an edge association (only when there is one).
fn check(protection: Protection, needed: &BTreeSet<String>, granted: &[String]) {
    let mut expected = needed.clone();
    if protection == Protection::EdgeSigner {
        expected.extend(IMPLIED_BY_EDGE_ASSOCIATION.map(str::to_owned));
    }
    // books_in_production logs.
    expected.extend(IMPLIED_BY_LOGGING.map(str::to_owned));
    let granted: BTreeSet<String> = granted.iter().cloned().collect();
    let missing: Vec<&String> = expected.difference(&granted).collect();
    let unused: Vec<&String> = granted.difference(&expected).collect();
    assert!(
        missing.is_empty() && unused.is_empty(),
        "{protection:?}: the policy lacks {missing:?} and grants unused {unused:?}"
    );
}

#[tokio::test]
async fn edge_signer_policy_grants_exactly_what_the_engine_calls() {
    let exercised = exercise(Protection::EdgeSigner).await;
    let needed = &exercised.needed;
    check(Protection::EdgeSigner, needed, &exercised.granted);
    assert_every_action_is_needed(&exercised, Protection::EdgeSigner);
    assert!(
        needed.contains("iam:PassRole") && needed.contains("lambda:PublishVersion"),
        "{needed:?}"
    );

    // iam:PassRole: one statement, the signer roles only, to Lambda only.
    let policy = controller_policy("urlguard", &only(Protection::EdgeSigner));
    let passing: Vec<&serde_json::Value> = policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter(|s| {
            s["Action"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|x| x == "iam:PassRole" || x == "iam:*" || x == "*")
            })
        })
        .collect();
    assert_eq!(passing.len(), 1, "{passing:#?}");
    assert_eq!(passing[0]["Action"], serde_json::json!(["iam:PassRole"]));
    let resource = passing[0]["Resource"].as_str().expect("one resource");
    let signer_role = exercised.signer_role_arn.as_deref().expect("signer role");
    assert!(
        arn_matches(resource, signer_role),
        "{resource} does not cover the signer role {signer_role}"
    );
    for other in [
        "arn:aws:iam::123456789012:role/admin",
        "arn:aws:iam::123456789012:role/urlguard-admin",
        "arn:aws:iam::123456789012:role/other/urlguard_books-books-signer",
        "arn:aws:iam::123456789012:role/urlguard/team-b-books-books-signer",
    ] {
        assert!(!arn_matches(resource, other), "{resource} covers {other}");
    }
    // An instance whose name starts with this one's: the delimiter after
    // the instance keeps its roles out.
    let staging = urlguard::model::names::Owner {
        instance: "urlguard-staging".into(),
        ..support::books::books_owner("books")
    };
    let staging_role = format!(
        "arn:aws:iam::123456789012:role/urlguard/{}",
        staging.signer_role_name()
    );
    assert!(
        !arn_matches(resource, &staging_role),
        "{resource} covers {staging_role}"
    );
    assert_eq!(
        passing[0]["Condition"]["StringEquals"]["iam:PassedToService"],
        "lambda.amazonaws.com"
    );
}

#[tokio::test]
async fn origin_access_control_policy_grants_exactly_what_the_engine_calls() {
    let exercised = exercise(Protection::OriginAccessControl).await;
    let needed = &exercised.needed;
    check(Protection::OriginAccessControl, needed, &exercised.granted);
    assert_every_action_is_needed(&exercised, Protection::OriginAccessControl);
    assert!(needed.contains("lambda:AddPermission"), "{needed:?}");
    // IAM only to look for a signer role left by an earlier EdgeSigner life.
    let iam: Vec<&String> = needed.iter().filter(|a| a.starts_with("iam:")).collect();
    assert_eq!(iam, ["iam:GetRole"], "{needed:?}");
}

/// `urlguard iam-policy ARGS` in the repository root: exit success, the
/// policy printed (or `Null`), and standard error.
fn iam_policy(args: &[&str]) -> (bool, serde_json::Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_urlguard"))
        .arg("iam-policy")
        .args(args)
        .current_dir(support::repo_root())
        .output()
        .expect("urlguard runs");
    let policy = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), policy, stderr)
}

/// The resources of the statements granting `action`.
fn resources_for(policy: &serde_json::Value, action: &str) -> Vec<serde_json::Value> {
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            s["Action"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == action))
        })
        .map(|s| s["Resource"].clone())
        .collect()
}

#[test]
fn logging_adds_the_bucket_acl_permissions_on_exactly_the_log_buckets() {
    // books.yaml does not log: no S3 permission at all.
    let (ok, plain, _) = iam_policy(&["-f", "examples/books.yaml"]);
    assert!(ok);
    assert!(
        !granted_actions(&plain).iter().any(|a| a.starts_with("s3:")),
        "{plain:#}"
    );

    // The same application logging to a bucket: its manifest gives it.
    let logging = books_yaml().replacen(
        "spec:\n",
        "spec:\n  logging:\n    bucketName: books-logs\n",
        1,
    );
    let (distributions, _) = support::books::resources("logging.yaml", &logging);
    assert_eq!(log_buckets_of(&distributions), ["books-logs"]);
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("iam-policy-logging-{}.yaml", std::process::id()));
    std::fs::write(&file, &logging).expect("write");
    let path = file.to_string_lossy().into_owned();
    let (ok, from_file, stderr) = iam_policy(&["--protection", "EdgeSigner", "-f", &path]);
    assert!(ok, "{stderr}");
    for action in ["s3:GetBucketAcl", "s3:PutBucketAcl"] {
        assert_eq!(
            resources_for(&from_file, action),
            [serde_json::json!(["arn:aws:s3:::books-logs"])],
            "{action}"
        );
    }
    // Named on the command line instead: the same policy, as the library
    // renders it for those buckets.
    let (ok, from_flag, _) =
        iam_policy(&["--protection", "EdgeSigner", "--log-bucket", "books-logs"]);
    assert!(ok);
    assert_eq!(from_flag, from_file);
    let options = PolicyOptions {
        protection: Some(Protection::EdgeSigner),
        log_buckets: vec!["books-logs".into()],
    };
    assert_eq!(from_flag, controller_policy("urlguard", &options));
    // Both, repeated: each bucket once.
    let (ok, both, _) = iam_policy(&[
        "--log-bucket",
        "audit-logs",
        "--log-bucket",
        "books-logs",
        "-f",
        &path,
    ]);
    assert!(ok);
    assert_eq!(
        resources_for(&both, "s3:PutBucketAcl"),
        [serde_json::json!([
            "arn:aws:s3:::audit-logs",
            "arn:aws:s3:::books-logs"
        ])]
    );
    std::fs::remove_file(&file).ok();
}

#[test]
fn a_log_bucket_that_is_no_bucket_name_is_refused_naming_the_flag() {
    let (ok, policy, stderr) = iam_policy(&["--log-bucket", "Books_Logs"]);
    assert!(!ok);
    assert_eq!(policy, serde_json::Value::Null, "nothing printed");
    assert!(stderr.contains("--log-bucket"), "{stderr}");
    assert!(stderr.contains("Books_Logs"), "{stderr}");
}

// ------------------------------------------- what a stolen key cannot do

/// Whether an SDK error is IAM's refusal (`AccessDenied` /
/// `AccessDeniedException`), as opposed to the call reaching the service.
fn denied<E: std::fmt::Debug>(result: Result<impl std::fmt::Debug, E>) -> bool {
    match result {
        Ok(_) => false,
        Err(e) => format!("{e:?}").contains("AccessDenied"),
    }
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#;
const EVERYTHING: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// With the controller's key, as someone who stole it would use it: a role
/// trusting an outside account with an inline `*:*` policy needs the
/// instance's boundary, which lets it do no more than a signer.
#[tokio::test]
async fn the_policy_creates_and_writes_signer_roles_only_within_the_boundary() {
    let bed = support::aws::TestBed::start();
    let admin = aws_sdk_iam::Client::new(&bed.sdk_config().await);
    let product = aws_sdk_iam::Client::new(&as_product(bed.sdk_config().await));
    let create = |name: &str, boundary: Option<&str>| {
        product
            .create_role()
            .role_name(name)
            .path("/urlguard/")
            .assume_role_policy_document(TRUST)
            .set_permissions_boundary(boundary.map(str::to_owned))
            .tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("urlguard.io/owner")
                    .value("urlguard/books/EdgeDistribution/stolen")
                    .build()
                    .expect("tag"),
            )
            .send()
    };
    assert!(
        denied(create("urlguard_books-stolen-signer", None).await),
        "a role without a boundary"
    );
    for other in [
        "arn:aws:iam::123456789012:policy/urlguard/other-signer-boundary",
        "arn:aws:iam::123456789012:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    ] {
        assert!(
            denied(create("urlguard_books-stolen-signer", Some(other)).await),
            "a role with the boundary {other}"
        );
    }
    create("urlguard_books-stolen-signer", Some(BOUNDARY))
        .await
        .expect("within the boundary, a role is created");

    // A role under urlguard's name that someone created without the
    // boundary: no inline policy until the boundary is set, and only ours.
    admin
        .create_role()
        .role_name("urlguard_books-old-signer")
        .path("/urlguard/")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("set-up: a role without a boundary");
    let put = |name: &str| {
        product
            .put_role_policy()
            .role_name(name)
            .policy_name("invoke-protected-function-urls")
            .policy_document(EVERYTHING)
            .send()
    };
    assert!(
        denied(put("urlguard_books-old-signer").await),
        "an inline policy on a role without the boundary"
    );
    let set_boundary = |name: &str, boundary: &str| {
        product
            .put_role_permissions_boundary()
            .role_name(name)
            .permissions_boundary(boundary)
            .send()
    };
    assert!(
        denied(
            set_boundary(
                "urlguard_books-old-signer",
                "arn:aws:iam::aws:policy/AdministratorAccess"
            )
            .await
        ),
        "another boundary"
    );
    set_boundary("urlguard_books-old-signer", BOUNDARY)
        .await
        .expect("ours");
    put("urlguard_books-old-signer")
        .await
        .expect("within the boundary, the inline policy may be written");
    assert!(
        denied(
            product
                .delete_role_permissions_boundary()
                .role_name("urlguard_books-old-signer")
                .send()
                .await
        ),
        "the boundary cannot be removed"
    );
}

/// SSM parameters: a create must carry the instance's owner tag; an
/// overwrite or a delete needs the parameter to carry it.
#[tokio::test]
async fn the_policy_writes_only_parameters_the_instance_owns() {
    use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};
    let bed = support::aws::TestBed::start();
    let admin = aws_sdk_ssm::Client::new(&bed.sdk_config().await);
    let product = aws_sdk_ssm::Client::new(&as_product(bed.sdk_config().await));
    let tag = |value: &str| {
        Tag::builder()
            .key("urlguard.io/owner")
            .value(value)
            .build()
            .expect("tag")
    };
    for (name, owner) in [
        (
            "/payments/Foreign",
            Some("other/payments/ProtectedFunctionUrl/x"),
        ),
        ("/payments/Untagged", None),
        (
            "/books/Mine",
            Some("urlguard/books/ProtectedFunctionUrl/get-books"),
        ),
    ] {
        admin
            .put_parameter()
            .name(name)
            .value("before")
            .r#type(ParameterType::String)
            .set_tags(owner.map(|o| vec![tag(o)]))
            .send()
            .await
            .expect("set-up: a parameter");
    }
    let overwrite = |name: &str| {
        product
            .put_parameter()
            .name(name)
            .value("https://evil.example.com/")
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
    };
    let delete = |name: &str| product.delete_parameter().name(name).send();
    for name in ["/payments/Foreign", "/payments/Untagged"] {
        assert!(denied(overwrite(name).await), "overwrite {name}");
        assert!(denied(delete(name).await), "delete {name}");
    }
    assert!(
        denied(
            product
                .add_tags_to_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id("/payments/Foreign")
                .tags(tag("urlguard/books/ProtectedFunctionUrl/get-books"))
                .send()
                .await
        ),
        "claiming another owner's parameter by tagging it"
    );
    let create = |name: &str, owner: Option<&str>| {
        product
            .put_parameter()
            .name(name)
            .value("v")
            .r#type(ParameterType::String)
            .overwrite(false)
            .set_tags(owner.map(|o| vec![tag(o)]))
            .send()
    };
    assert!(
        denied(create("/books/NoTag", None).await),
        "untagged create"
    );
    assert!(
        denied(create("/books/Theirs", Some("other/books/ProtectedFunctionUrl/x")).await),
        "a create tagged for another instance"
    );
    create(
        "/books/New",
        Some("urlguard/books/ProtectedFunctionUrl/get-books"),
    )
    .await
    .expect("a create with the instance's owner tag");
    overwrite("/books/Mine").await.expect("overwrite its own");
    delete("/books/Mine").await.expect("delete its own");
    let untouched = admin
        .get_parameters()
        .names("/payments/Foreign")
        .names("/payments/Untagged")
        .send()
        .await
        .expect("read");
    assert!(
        untouched
            .parameters()
            .iter()
            .all(|p| p.value() == Some("before")),
        "{untouched:?}"
    );
}

/// With the controller's key, on distributions it did not make: one of
/// another owner and an untagged one can be neither changed, disabled nor
/// deleted, nor claimed by tagging; the instance's own can.
#[tokio::test]
async fn the_policy_changes_only_distributions_the_instance_owns() {
    use std::collections::BTreeMap;

    let bed = support::aws::TestBed::start();
    let admin = Aws::from_sdk_config(bed.sdk_config().await).cloudfront();
    let product = Aws::from_sdk_config(as_product(bed.sdk_config().await)).cloudfront();
    let shape = |reference: &str| {
        support::shapes::https_distribution(reference, &format!("made by {reference}"))
    };
    let owned_by = |owner: Option<&str>| {
        owner
            .map(|o| BTreeMap::from([("urlguard.io/owner".to_owned(), o.to_owned())]))
            .unwrap_or_default()
    };
    let mut made = Vec::new();
    for (reference, owner) in [
        (
            "payments-team",
            Some("other/payments/EdgeDistribution/shop"),
        ),
        ("by-hand", None),
        (
            "urlguard/urlguard/books/books",
            Some("urlguard/books/EdgeDistribution/books"),
        ),
    ] {
        made.push(
            admin
                .create_distribution(&shape(reference), &owned_by(owner))
                .await
                .expect("set-up: a distribution"),
        );
    }
    for foreign in &made[..2] {
        let mut disabled = foreign.config.clone();
        disabled.enabled = false;
        assert!(
            denied(
                product
                    .update_distribution(&foreign.id, &foreign.etag, &disabled)
                    .await
            ),
            "disabling {}",
            foreign.config.caller_reference
        );
        assert!(
            denied(
                product
                    .delete_distribution(&foreign.id, &foreign.etag)
                    .await
            ),
            "deleting {}",
            foreign.config.caller_reference
        );
    }
    let cloudfront = aws_sdk_cloudfront::Client::new(&as_product(bed.sdk_config().await));
    let claim = cloudfront
        .tag_resource()
        .resource(&made[0].arn)
        .tags(
            aws_sdk_cloudfront::types::Tags::builder()
                .items(
                    aws_sdk_cloudfront::types::Tag::builder()
                        .key("urlguard.io/owner")
                        .value("urlguard/books/EdgeDistribution/books")
                        .build()
                        .expect("tag"),
                )
                .build(),
        )
        .send()
        .await;
    assert!(
        denied(claim),
        "claiming another owner's distribution by tagging it"
    );
    let own = &made[2];
    let mut disabled = own.config.clone();
    disabled.enabled = false;
    product
        .update_distribution(&own.id, &own.etag, &disabled)
        .await
        .expect("its own distribution");
}
