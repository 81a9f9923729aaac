//! IAM on every call: a caller is its access key (the SigV4 credential
//! scope's `Credential=AKID/...`); a key given an identity policy (by
//! `EmulatorConfig::identities`, `PUT /__emulator/identities/KEY` or
//! `--iam-policy KEY=FILE`) is restricted, and each of its calls is
//! evaluated before it reaches CloudFront or moto. Keys without a policy are
//! unrestricted, so set-up code (`AKIDTESTING`) keeps working.
//!
//! For one call: [`table`] says which actions the operation needs and where
//! each resource comes from (with the Service Authorization Reference page
//! it follows), [`request`] reads the request for resource names, tags and
//! condition-key values, [`lookup`] reads what only AWS would know (a role's
//! path, resource tags) from moto without touching the ledger, and
//! [`evaluate`] decides with `iam-rs` — a maintained policy evaluator rather
//! than one of our own, pinned `=0.8.0` as its README asks. Every check is
//! kept in a bounded authorization log (`GET /__emulator/authorizations`);
//! [`evaluate()`](crate::evaluate) re-decides a logged check against another
//! policy with the same code, so a test can show that dropping an action from
//! a policy denies something the product did.
//!
//! A call is refused at the first required check denied, as [`deny`] words
//! it; `GetFunction` without `ListTags` is partial authorization: the call
//! succeeds and the answer loses its `Tags` (GetFunction API reference).
//!
//! Authorization runs before fault injection: AWS refuses an unauthorized
//! call whatever its luck, and a fault rule's `count` is spent only on calls
//! that reach the service.

mod deny;
pub(crate) mod evaluate;
pub(crate) mod lookup;
mod request;
mod table;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

pub use self::deny::principal_arn;
use self::evaluate::CompiledPolicy;
pub use self::evaluate::{ANY_RESOURCE, Decision, PolicyError};
use self::request::Facts;
use self::table::{Check, Key, Need, Res, When};
use crate::ids::lock;
use crate::reply::Reply;
use crate::route::Call;
use crate::server::Shared;

/// How many checks the authorization log keeps.
const LOG_CAPACITY: usize = 20_000;

/// The Lambda@Edge replicator's service-linked role (CloudFront developer
/// guide, Lambda@Edge permissions).
const REPLICATOR_ROLE: &str =
    "role/aws-service-role/replicator.lambda.amazonaws.com/AWSServiceRoleForLambdaReplicator";

/// One evaluated check of one call, as `GET /__emulator/authorizations`
/// serves it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuthorizationRecord {
    /// 1, 2, 3... in evaluation order.
    pub seq: u64,
    /// The caller's access key id.
    pub access_key: String,
    /// `service:Operation` of the call.
    pub call: String,
    /// The IAM action checked, e.g. `cloudfront:TagResource`.
    pub action: String,
    /// The resource ARN, or `*` for an action with no resource type.
    pub resource: String,
    /// The condition keys and their values (strings, booleans, string lists).
    pub context: BTreeMap<String, Value>,
    /// `false` when a denial only trims the answer (`lambda:ListTags` of a
    /// `GetFunction`).
    pub required: bool,
    pub decision: Decision,
}

/// Decides `record`'s action on its resource with its context under
/// `policy`, by the same code the emulator enforces with. A policy that is
/// not an IAM policy document allows nothing.
pub fn evaluate(policy: &Value, record: &AuthorizationRecord) -> Decision {
    match CompiledPolicy::new(policy) {
        Ok(policy) => policy.decide(&record.action, &record.resource, &record.context),
        Err(e) => {
            tracing::warn!(error = %e, "not a policy: nothing is allowed");
            Decision::ImplicitDeny
        }
    }
}

/// Checks that a document is a policy the emulator can enforce.
pub fn validate_policy(policy: &Value) -> Result<(), PolicyError> {
    CompiledPolicy::new(policy).map(|_| ())
}

/// The restricted identities and the authorization log.
#[derive(Debug, Default)]
pub(crate) struct Authorizer {
    identities: Mutex<BTreeMap<String, CompiledPolicy>>,
    log: Mutex<AuthLog>,
}

#[derive(Debug, Default)]
struct AuthLog {
    records: VecDeque<AuthorizationRecord>,
    seq: u64,
}

/// What authorization decided for one call.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// The key has no policy.
    Unrestricted,
    /// Allowed; `strip_tags` when the answer must lose its `Tags`.
    Allowed { strip_tags: bool },
    /// Refused with this reply.
    Denied(Reply),
}

impl Authorizer {
    pub(crate) fn new(identities: &[(String, Value)]) -> Result<Authorizer, PolicyError> {
        let authorizer = Authorizer::default();
        for (key, policy) in identities {
            authorizer.set(key, policy)?;
        }
        Ok(authorizer)
    }

    /// Restricts `key` to `policy` (replacing any policy it had).
    pub(crate) fn set(&self, key: &str, policy: &Value) -> Result<(), PolicyError> {
        let compiled = CompiledPolicy::new(policy)?;
        info!(access_key = key, "identity policy set");
        lock(&self.identities).insert(key.to_owned(), compiled);
        Ok(())
    }

    /// Makes `key` unrestricted again; whether it had a policy.
    pub(crate) fn remove(&self, key: &str) -> bool {
        info!(access_key = key, "identity policy removed");
        lock(&self.identities).remove(key).is_some()
    }

    /// The restricted keys with their policies.
    pub(crate) fn identities(&self) -> BTreeMap<String, Value> {
        lock(&self.identities)
            .iter()
            .map(|(k, p)| (k.clone(), p.document().clone()))
            .collect()
    }

    pub(crate) fn log(&self) -> Vec<AuthorizationRecord> {
        lock(&self.log).records.iter().cloned().collect()
    }

    pub(crate) fn reset_log(&self) {
        lock(&self.log).records.clear();
    }

    fn record(&self, mut record: AuthorizationRecord) {
        let mut log = lock(&self.log);
        log.seq += 1;
        record.seq = log.seq;
        if log.records.len() == LOG_CAPACITY {
            log.records.pop_front();
        }
        log.records.push_back(record);
    }
}

/// One action on one resource, before its context is built.
struct Planned {
    action: String,
    resource: String,
    keys: &'static [Key],
    need: Need,
}

/// Authorizes one call.
pub(crate) async fn authorize(shared: &Shared, call: &Call, parts: &Parts, body: &[u8]) -> Verdict {
    let Some(key) = call.access_key.as_deref() else {
        return Verdict::Unrestricted;
    };
    let Some(policy) = lock(&shared.authorizer.identities).get(key).cloned() else {
        return Verdict::Unrestricted;
    };
    let call_key = call.key();
    let facts = Facts::read(call, parts, body, &shared.cloudfront());
    let mut resolver = Resolver {
        shared,
        facts: &facts,
        with_resource_tags: policy.mentions("aws:ResourceTag/"),
        roles: HashMap::new(),
        tags: HashMap::new(),
    };
    let entry = table::entry(&call_key);
    let source = entry.map_or(
        "not in the table: the action of the operation's name on *",
        |e| e.source,
    );
    let planned = match entry {
        Some(entry) => plan(entry.checks, &facts, &mut resolver, &shared.cloudfront()).await,
        None => vec![Planned {
            action: format!("{}:{}", call.service, call.operation),
            resource: ANY_RESOURCE.to_owned(),
            keys: &[],
            need: Need::Required,
        }],
    };
    let untagging =
        call.operation.starts_with("Untag") || call.operation == "RemoveTagsFromResource";
    let mut denial: Option<Reply> = None;
    let mut strip_tags = false;
    for check in planned {
        let context = resolver.context(&check, untagging).await;
        let decision = policy.decide(&check.action, &check.resource, &context);
        let required = check.need == Need::Required;
        if !decision.is_allowed() {
            info!(access_key = key, call = %call_key, action = %check.action, resource = %check.resource, decision = ?decision, required, source, "denied");
            if required {
                if denial.is_none() {
                    let message = deny::message(key, &check.action, &check.resource, decision);
                    denial = Some(deny::reply(&call.service, &message, &shared.ids));
                }
            } else {
                strip_tags = true;
            }
        }
        shared.authorizer.record(AuthorizationRecord {
            seq: 0,
            access_key: key.to_owned(),
            call: call_key.clone(),
            action: check.action,
            resource: check.resource,
            context,
            required,
            decision,
        });
    }
    match denial {
        Some(reply) => Verdict::Denied(reply),
        None => Verdict::Allowed { strip_tags },
    }
}

/// The checks of an entry that apply, one per resource.
async fn plan(
    checks: &[Check],
    facts: &Facts,
    resolver: &mut Resolver<'_>,
    cloudfront: &crate::cloudfront::CloudFront,
) -> Vec<Planned> {
    let mut out = Vec::new();
    for check in checks {
        let applies = match check.when {
            When::Always => true,
            When::Tagged => !facts.request_tags.is_empty(),
            When::PassesRole => facts.passed_role.is_some(),
            When::Associates => !facts.edge_versions.is_empty(),
            When::FirstAssociation => {
                !facts.edge_versions.is_empty() && !cloudfront.replicator_role_exists()
            }
            When::Logs => facts.log_bucket.is_some(),
        };
        if !applies {
            continue;
        }
        for resource in resolver.resources(check.resource).await {
            out.push(Planned {
                action: check.action.to_owned(),
                resource,
                keys: check.keys,
                need: check.need,
            });
        }
    }
    out
}

/// Resolves resources and condition keys, remembering what it looked up.
struct Resolver<'a> {
    shared: &'a Shared,
    facts: &'a Facts,
    with_resource_tags: bool,
    /// Role name → what `GetRole` said.
    roles: HashMap<String, lookup::RoleFacts>,
    /// Resource ARN → tags.
    tags: HashMap<String, Vec<(String, String)>>,
}

impl Resolver<'_> {
    async fn role(&mut self, name: &str) -> lookup::RoleFacts {
        if let Some(found) = self.roles.get(name) {
            return found.clone();
        }
        let found = lookup::role(&self.shared.upstream, name).await;
        self.roles.insert(name.to_owned(), found.clone());
        found
    }

    async fn resources(&mut self, res: Res) -> Vec<String> {
        let facts = self.facts;
        let function = |qualified: bool| {
            facts.function.as_ref().map(|(arn, q)| match q {
                Some(q) if qualified => format!("{arn}:{q}"),
                _ => arn.clone(),
            })
        };
        match res {
            Res::Any => vec![ANY_RESOURCE.to_owned()],
            Res::Distribution => vec![facts.distribution_arn()],
            Res::OriginAccessControl => vec![facts.oac_arn()],
            Res::TaggedArn => facts.tagged_arn.iter().cloned().collect(),
            Res::Function => function(true).into_iter().collect(),
            Res::UnqualifiedFunction => function(false).into_iter().collect(),
            Res::Role => {
                let Some(name) = facts.role_name.clone() else {
                    return Vec::new();
                };
                // `CreateRole` gives its path; an existing role has one.
                let path = match &facts.role_path {
                    Some(path) => path.clone(),
                    None => self.role(&name).await.path,
                };
                let account = crate::accounts::current();
                vec![format!("arn:aws:iam::{account}:role{path}{name}")]
            }
            Res::PassedRole => facts.passed_role.iter().cloned().collect(),
            Res::ReplicatorRole => vec![format!(
                "arn:aws:iam::{}:{REPLICATOR_ROLE}",
                crate::accounts::current()
            )],
            Res::Parameters => facts
                .parameters
                .iter()
                .map(|(_, arn)| arn.clone())
                .collect(),
            Res::EdgeVersions => facts.edge_versions.clone(),
            Res::RemovedEdgeVersions => facts.removed_edge_versions.clone(),
            Res::LogBucket => facts
                .log_bucket
                .iter()
                .map(|b| format!("arn:aws:s3:::{b}"))
                .collect(),
            Res::AssumedRole => facts.assumed_role.iter().cloned().collect(),
        }
    }

    /// The tags of an existing resource (empty when unknown).
    async fn resource_tags(&mut self, resource: &str) -> Vec<(String, String)> {
        if let Some(tags) = self.tags.get(resource) {
            return tags.clone();
        }
        let facts = self.facts;
        let upstream = &self.shared.upstream;
        let parts: Vec<&str> = resource.splitn(6, ':').collect();
        let tags = match parts.as_slice() {
            ["arn", _, "cloudfront", _, _, rest] => match rest.strip_prefix("distribution/") {
                Some(id) => self
                    .shared
                    .cloudfront()
                    .distribution_facts(id)
                    .map(|d| d.tags)
                    .unwrap_or_default(),
                None => Vec::new(),
            },
            ["arn", _, "lambda", region, _, _] => {
                let unqualified = resource.split(':').take(7).collect::<Vec<_>>().join(":");
                lookup::function_tags(upstream, region, &unqualified).await
            }
            ["arn", _, "iam", _, _, rest] => {
                let name = rest.rsplit('/').next().unwrap_or(rest).to_owned();
                self.role(&name).await.tags
            }
            ["arn", _, "ssm", region, _, _] => {
                let name = facts
                    .parameters
                    .iter()
                    .find(|(_, arn)| arn == resource)
                    .map(|(name, _)| name.clone());
                match name {
                    Some(name) => lookup::parameter_tags(upstream, region, &name).await,
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        self.tags.insert(resource.to_owned(), tags.clone());
        tags
    }

    async fn context(&mut self, check: &Planned, untagging: bool) -> BTreeMap<String, Value> {
        let facts = self.facts;
        let mut context = BTreeMap::new();
        for key in check.keys {
            match key {
                Key::RequestTags if !facts.request_tags.is_empty() => {
                    if !untagging {
                        for (k, v) in &facts.request_tags {
                            context.insert(format!("aws:RequestTag/{k}"), Value::from(v.clone()));
                        }
                    }
                    let keys: Vec<Value> = facts
                        .request_tags
                        .iter()
                        .map(|(k, _)| Value::from(k.clone()))
                        .collect();
                    context.insert("aws:TagKeys".to_owned(), Value::Array(keys));
                }
                Key::ResourceTags if self.with_resource_tags && check.resource != ANY_RESOURCE => {
                    for (k, v) in self.resource_tags(&check.resource).await {
                        context.insert(format!("aws:ResourceTag/{k}"), Value::from(v));
                    }
                }
                Key::PassedToLambda => {
                    context.insert(
                        "iam:PassedToService".to_owned(),
                        Value::from("lambda.amazonaws.com"),
                    );
                }
                Key::PermissionsBoundary => {
                    if let Some(b) = &facts.permissions_boundary {
                        context
                            .insert("iam:PermissionsBoundary".to_owned(), Value::from(b.clone()));
                    }
                }
                Key::RoleBoundary => {
                    if let Some(name) = facts.role_name.clone()
                        && let Some(b) = self.role(&name).await.boundary
                    {
                        context.insert("iam:PermissionsBoundary".to_owned(), Value::from(b));
                    }
                }
                Key::ReplicatorServiceName => {
                    context.insert(
                        "iam:AWSServiceName".to_owned(),
                        Value::from("replicator.lambda.amazonaws.com"),
                    );
                }
                Key::FunctionUrlAuthType => {
                    if let Some(t) = &facts.auth_type {
                        context.insert(
                            "lambda:FunctionUrlAuthType".to_owned(),
                            Value::from(t.clone()),
                        );
                    }
                }
                Key::LambdaPrincipal => {
                    if let Some(p) = &facts.principal {
                        context.insert("lambda:Principal".to_owned(), Value::from(p.clone()));
                    }
                }
                Key::Overwrite => {
                    let overwrite = facts.overwrite.unwrap_or(false);
                    context.insert(
                        "ssm:Overwrite".to_owned(),
                        Value::from(overwrite.to_string()),
                    );
                }
                Key::RequestTags | Key::ResourceTags => {}
            }
        }
        context
    }
}
