//! CloudFront, served in-process as the API reference (2020-05-31) says it
//! behaves, for the operations urlguard uses: distributions (create, create
//! with tags, get, get config, list, update, delete), origin access controls
//! (create, get, get config, list, update, delete), tags (list, tag,
//! untag) and invalidations (create, get, list; see `invalidation`).
//!
//! Emulated: a `DistributionConfig` (and an `OriginAccessControlConfig`) is
//! stored as the XML the client sent, completed with CloudFront's read-back
//! defaults (below), so every field sent round-trips; a new ETag on every change; `If-Match` required
//! (`InvalidIfMatchVersion`) and checked (`PreconditionFailed`) on update and
//! delete; `CallerReference` unique (`DistributionAlreadyExists`, naming the
//! existing id) and immutable (`IllegalUpdate`); `InProgress` after every
//! create and update, `Deployed` once the deploy time has passed; delete only
//! when disabled and deployed (`DistributionNotDisabled`); origin access
//! controls named by origins must exist (`InvalidOriginAccessControl`) and
//! cannot be deleted while named (`OriginAccessControlInUse`); OAC names
//! unique (`OriginAccessControlAlreadyExists`); Lambda@Edge associations name
//! a numbered version of an existing function in `us-east-1` that fits
//! Lambda@Edge (`InvalidLambdaFunctionAssociation`; see `edge`);
//! quotas of 100 origins (`TooManyOrigins`) and 75 cache behaviors
//! (`TooManyCacheBehaviors`); `InconsistentQuantities`; `NoSuchOrigin` for a
//! behavior whose target origin is missing; what CloudFront refuses in a geo
//! restriction, origin custom headers, CloudFront Functions associations (by
//! shape) and the viewer security policy (see `settings`). Every association
//! change feeds the Lambda@Edge replica ledger.
//!
//! Not emulated (knowingly): cache/origin-request/response
//! headers policies (ids are stored, not checked), CloudFront Functions
//! themselves (an association's function is not looked up), key
//! groups, field-level encryption, continuous deployment (staging
//! distributions), `CNAMEAlreadyExists` across distributions, certificate and
//! WAF checks, and the many field validations not named above.
//!
//! Read-back defaults: with `readback_defaults` on (the default), a stored
//! config is completed the way CloudFront completes it (every element the
//! request left out comes back with CloudFront's value; see `defaults` for
//! the list and its sources); off, it returns exactly as sent.

pub(crate) mod config;
mod defaults;
mod edge;
mod invalidation;
mod settings;
pub(crate) mod xml;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use http::{Method, StatusCode, request::Parts};
use roxmltree::Document;

use self::config::{
    DistributionConfig, EDGE_REGION, OacConfig, parse_distribution_request, parse_oac_config,
    parse_tags,
};
use self::xml::{CfError, child, children, escape};
use crate::faults::error_reply;
use crate::ids::{Ids, iso8601, lock};
use crate::replicas::Replicas;
use crate::reply::Reply;
use crate::route::{has_query_param, query_param, segments};
use crate::upstream::Upstream;
use crate::versions::PendingVersions;

/// The XML namespace of CloudFront's 2020-05-31 API.
pub(crate) const NAMESPACE: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";
const API: &str = "2020-05-31";

/// A CloudFront operation, with the id or resource it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    CreateDistribution,
    CreateDistributionWithTags,
    ListDistributions,
    GetDistribution(String),
    GetDistributionConfig(String),
    UpdateDistribution(String),
    DeleteDistribution(String),
    CreateOriginAccessControl,
    ListOriginAccessControls,
    GetOriginAccessControl(String),
    GetOriginAccessControlConfig(String),
    UpdateOriginAccessControl(String),
    DeleteOriginAccessControl(String),
    ListTagsForResource,
    TagResource,
    UntagResource,
    CreateInvalidation(String),
    GetInvalidation(String, String),
    ListInvalidations(String),
    Unknown,
}

impl Op {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::CreateDistribution => "CreateDistribution",
            Op::CreateDistributionWithTags => "CreateDistributionWithTags",
            Op::ListDistributions => "ListDistributions",
            Op::GetDistribution(_) => "GetDistribution",
            Op::GetDistributionConfig(_) => "GetDistributionConfig",
            Op::UpdateDistribution(_) => "UpdateDistribution",
            Op::DeleteDistribution(_) => "DeleteDistribution",
            Op::CreateOriginAccessControl => "CreateOriginAccessControl",
            Op::ListOriginAccessControls => "ListOriginAccessControls",
            Op::GetOriginAccessControl(_) => "GetOriginAccessControl",
            Op::GetOriginAccessControlConfig(_) => "GetOriginAccessControlConfig",
            Op::UpdateOriginAccessControl(_) => "UpdateOriginAccessControl",
            Op::DeleteOriginAccessControl(_) => "DeleteOriginAccessControl",
            Op::ListTagsForResource => "ListTagsForResource",
            Op::TagResource => "TagResource",
            Op::UntagResource => "UntagResource",
            Op::CreateInvalidation(_) => "CreateInvalidation",
            Op::GetInvalidation(..) => "GetInvalidation",
            Op::ListInvalidations(_) => "ListInvalidations",
            Op::Unknown => "Unknown",
        }
    }
}

/// The operation of a CloudFront REST request.
pub(crate) fn route(method: &Method, path: &str, query: &str) -> Op {
    let segs = segments(path);
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let id = |i: &str| i.to_owned();
    match (method.as_str(), s.as_slice()) {
        ("POST", [API, "distribution"]) if has_query_param(query, "WithTags") => {
            Op::CreateDistributionWithTags
        }
        ("POST", [API, "distribution"]) => Op::CreateDistribution,
        ("GET", [API, "distribution"]) => Op::ListDistributions,
        ("GET", [API, "distribution", d]) => Op::GetDistribution(id(d)),
        ("DELETE", [API, "distribution", d]) => Op::DeleteDistribution(id(d)),
        ("GET", [API, "distribution", d, "config"]) => Op::GetDistributionConfig(id(d)),
        ("PUT", [API, "distribution", d, "config"]) => Op::UpdateDistribution(id(d)),
        ("POST", [API, "distribution", d, "invalidation"]) => Op::CreateInvalidation(id(d)),
        ("GET", [API, "distribution", d, "invalidation"]) => Op::ListInvalidations(id(d)),
        ("GET", [API, "distribution", d, "invalidation", i]) => Op::GetInvalidation(id(d), id(i)),
        ("POST", [API, "origin-access-control"]) => Op::CreateOriginAccessControl,
        ("GET", [API, "origin-access-control"]) => Op::ListOriginAccessControls,
        ("GET", [API, "origin-access-control", o]) => Op::GetOriginAccessControl(id(o)),
        ("DELETE", [API, "origin-access-control", o]) => Op::DeleteOriginAccessControl(id(o)),
        ("GET", [API, "origin-access-control", o, "config"]) => {
            Op::GetOriginAccessControlConfig(id(o))
        }
        ("PUT", [API, "origin-access-control", o, "config"]) => {
            Op::UpdateOriginAccessControl(id(o))
        }
        ("GET", [API, "tagging"]) => Op::ListTagsForResource,
        ("POST", [API, "tagging"]) => match query_param(query, "Operation").as_deref() {
            Some("Tag") => Op::TagResource,
            Some("Untag") => Op::UntagResource,
            _ => Op::Unknown,
        },
        _ => Op::Unknown,
    }
}

struct Distribution {
    id: String,
    arn: String,
    domain_name: String,
    etag: String,
    config: DistributionConfig,
    tags: Vec<(String, String)>,
    last_modified: SystemTime,
    deployed_at: Instant,
    seq: u64,
}

impl Distribution {
    fn status(&self, now: Instant) -> &'static str {
        if now >= self.deployed_at {
            "Deployed"
        } else {
            "InProgress"
        }
    }

    fn xml(&self, now: Instant, invalidations_in_progress: usize) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Distribution xmlns=\"{NAMESPACE}\"><Id>{}</Id><ARN>{}</ARN><Status>{}</Status><LastModifiedTime>{}</LastModifiedTime><InProgressInvalidationBatches>{invalidations_in_progress}</InProgressInvalidationBatches><DomainName>{}</DomainName><ActiveTrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedSigners><ActiveTrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedKeyGroups><DistributionConfig>{}</DistributionConfig></Distribution>",
            self.id,
            self.arn,
            self.status(now),
            iso8601(self.last_modified),
            self.domain_name,
            self.config.inner
        )
    }

    fn summary_xml(&self, now: Instant) -> String {
        let mut out = format!(
            "<DistributionSummary><Id>{}</Id><ARN>{}</ARN><ETag>{}</ETag><Status>{}</Status><LastModifiedTime>{}</LastModifiedTime><DomainName>{}</DomainName>",
            self.id,
            self.arn,
            self.etag,
            self.status(now),
            iso8601(self.last_modified),
            self.domain_name
        );
        for (_, element) in &self.config.summary {
            out.push_str(element);
        }
        out.push_str("</DistributionSummary>");
        out
    }

    fn reply(&self, status: StatusCode, now: Instant) -> Reply {
        self.reply_with_invalidations(status, now, 0)
    }

    fn reply_with_invalidations(
        &self,
        status: StatusCode,
        now: Instant,
        invalidations_in_progress: usize,
    ) -> Reply {
        Reply::xml(status, self.xml(now, invalidations_in_progress)).with_header("etag", &self.etag)
    }
}

struct Oac {
    id: String,
    etag: String,
    config: OacConfig,
    seq: u64,
}

impl Oac {
    fn xml(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OriginAccessControl xmlns=\"{NAMESPACE}\"><Id>{}</Id><OriginAccessControlConfig>{}</OriginAccessControlConfig></OriginAccessControl>",
            self.id, self.config.inner
        )
    }

    fn summary_xml(&self) -> String {
        format!(
            "<OriginAccessControlSummary><Id>{}</Id><Description>{}</Description><Name>{}</Name><SigningProtocol>{}</SigningProtocol><SigningBehavior>{}</SigningBehavior><OriginAccessControlOriginType>{}</OriginAccessControlOriginType></OriginAccessControlSummary>",
            self.id,
            escape(&self.config.description),
            escape(&self.config.name),
            escape(&self.config.signing_protocol),
            escape(&self.config.signing_behavior),
            escape(&self.config.origin_type)
        )
    }
}

struct State {
    distributions: BTreeMap<String, Distribution>,
    oacs: BTreeMap<String, Oac>,
    /// Invalidation batches by distribution id, oldest first.
    invalidations: BTreeMap<String, Vec<invalidation::Invalidation>>,
    replicas: Replicas,
    seq: u64,
    /// A distribution has had a Lambda@Edge association: the replicator's
    /// service-linked role exists from then on.
    edge_used: bool,
}

impl State {
    fn distribution(&self, id: &str) -> Result<&Distribution, CfError> {
        self.distributions
            .get(id)
            .ok_or_else(|| no_such_distribution(id))
    }

    fn oac(&self, id: &str) -> Result<&Oac, CfError> {
        self.oacs.get(id).ok_or_else(|| no_such_oac(id))
    }

    fn check_oacs(&self, config: &DistributionConfig) -> Result<(), CfError> {
        match config
            .oac_ids
            .iter()
            .find(|id| !self.oacs.contains_key(*id))
        {
            Some(missing) => Err(CfError::bad_request(
                "InvalidOriginAccessControl",
                format!("The origin access control is not valid: {missing} does not exist."),
            )),
            None => Ok(()),
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn new_id(&self, ids: &Ids) -> String {
        loop {
            let id = ids.cloudfront_id();
            if !self.distributions.contains_key(&id) && !self.oacs.contains_key(&id) {
                return id;
            }
        }
    }

    /// Recomputes the Lambda@Edge versions associated across distributions.
    fn refresh_replicas(&mut self, now: Instant) {
        let associated: BTreeSet<String> = self
            .distributions
            .values()
            .flat_map(|d| d.config.associations.iter())
            .map(|a| format!("{}:{}", a.function.unqualified_arn(EDGE_REGION), a.version))
            .collect();
        self.edge_used |= !associated.is_empty();
        self.replicas.set_associated(now, associated);
    }
}

/// A stored distribution, for the data path.
#[derive(Debug, Clone)]
pub(crate) struct Served {
    pub id: String,
    pub arn: String,
    pub domain_name: String,
    pub enabled: bool,
    /// The inside of its `<DistributionConfig>`.
    pub config: String,
}

/// What IAM needs of a stored distribution.
#[derive(Debug, Clone, Default)]
pub(crate) struct DistributionFacts {
    pub tags: Vec<(String, String)>,
    /// The Lambda@Edge versions its config associates.
    pub edge_versions: Vec<String>,
}

/// The versions a config associates, as qualified ARNs.
pub(crate) fn edge_versions(config: &DistributionConfig) -> Vec<String> {
    let mut versions: Vec<String> = config
        .associations
        .iter()
        .map(|a| format!("{}:{}", a.function.unqualified_arn(EDGE_REGION), a.version))
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

fn no_such_distribution(id: &str) -> CfError {
    CfError::new(
        StatusCode::NOT_FOUND,
        "NoSuchDistribution",
        format!("The specified distribution does not exist: {id}"),
    )
}

fn no_such_oac(id: &str) -> CfError {
    CfError::new(
        StatusCode::NOT_FOUND,
        "NoSuchOriginAccessControl",
        format!("The specified origin access control does not exist: {id}"),
    )
}

fn check_if_match(if_match: Option<&str>, etag: &str) -> Result<(), CfError> {
    match if_match {
        None | Some("") => Err(CfError::bad_request(
            "InvalidIfMatchVersion",
            "The If-Match version is missing or not valid for the resource.",
        )),
        Some(given) if given != etag => Err(CfError::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "The precondition given in one or more of the request-header fields evaluated to false.",
        )),
        Some(_) => Ok(()),
    }
}

/// A page of a list: the items after `marker`, at most `max_items`, and the
/// marker of the next page when there is one.
fn page<T>(
    items: Vec<(&str, T)>,
    query: &str,
) -> Result<(Vec<T>, Option<String>, String, usize), CfError> {
    let marker = query_param(query, "Marker").unwrap_or_default();
    let max_items = match query_param(query, "MaxItems") {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| CfError::invalid_argument("MaxItems must be a number."))?,
        None => 100,
    };
    let start = if marker.is_empty() {
        0
    } else {
        items
            .iter()
            .position(|(id, _)| *id == marker)
            .map(|p| p + 1)
            .unwrap_or(items.len())
    };
    let rest: Vec<(&str, T)> = items.into_iter().skip(start).collect();
    let truncated = rest.len() > max_items;
    let mut taken = Vec::new();
    let mut last_id = None;
    for (id, item) in rest.into_iter().take(max_items) {
        last_id = Some(id.to_owned());
        taken.push(item);
    }
    let next = if truncated { last_id } else { None };
    Ok((taken, next, marker, max_items))
}

fn list_xml(
    root: &str,
    items: Vec<String>,
    next: Option<String>,
    marker: &str,
    max_items: usize,
) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NAMESPACE}\"><Marker>{}</Marker>",
        escape(marker)
    );
    if let Some(next) = &next {
        out.push_str(&format!("<NextMarker>{}</NextMarker>", escape(next)));
    }
    out.push_str(&format!(
        "<MaxItems>{max_items}</MaxItems><IsTruncated>{}</IsTruncated><Quantity>{}</Quantity>",
        next.is_some(),
        items.len()
    ));
    if !items.is_empty() {
        out.push_str("<Items>");
        for item in items {
            out.push_str(&item);
        }
        out.push_str("</Items>");
    }
    out.push_str(&format!("</{root}>"));
    out
}

/// The emulated CloudFront.
pub(crate) struct CloudFront {
    state: Mutex<State>,
    deploy_time: Duration,
    /// How long an invalidation stays `InProgress`.
    invalidation_time: Duration,
    /// Published Lambda versions not `Active` yet: never associated.
    versions: PendingVersions,
    /// Whether stored configs are completed with CloudFront's defaults.
    readback_defaults: bool,
}

impl CloudFront {
    pub(crate) fn new(
        deploy_time: Duration,
        replica_linger: Duration,
        versions: PendingVersions,
    ) -> CloudFront {
        CloudFront {
            versions,
            readback_defaults: true,
            state: Mutex::new(State {
                distributions: BTreeMap::new(),
                oacs: BTreeMap::new(),
                invalidations: BTreeMap::new(),
                replicas: Replicas::new(replica_linger),
                seq: 0,
                edge_used: false,
            }),
            deploy_time,
            invalidation_time: crate::DEFAULT_INVALIDATION_TIME,
        }
    }

    /// How long an invalidation stays `InProgress` before it is
    /// `Completed`.
    pub(crate) fn with_invalidation_time(mut self, time: Duration) -> CloudFront {
        self.invalidation_time = time;
        self
    }

    /// Whether a stored config reads back completed with CloudFront's
    /// defaults (on by default) or exactly as sent.
    pub(crate) fn with_readback_defaults(mut self, on: bool) -> CloudFront {
        self.readback_defaults = on;
        self
    }

    /// The config as CloudFront stores it.
    fn stored(&self, config: DistributionConfig) -> Result<DistributionConfig, CfError> {
        if self.readback_defaults {
            defaults::completed(&config)
        } else {
            Ok(config)
        }
    }

    /// The replicated version that blocks deleting a function (or one
    /// version of it), if any.
    pub(crate) fn replica_blocking(
        &self,
        function_arn: &str,
        version: Option<&str>,
        now: Instant,
    ) -> Option<String> {
        lock(&self.state)
            .replicas
            .blocking(function_arn, version, now)
    }

    /// A stored distribution's tags and the Lambda@Edge versions its config
    /// associates (`arn:aws:lambda:us-east-1:ACCOUNT:function:NAME:VERSION`),
    /// for IAM's condition keys and replication checks.
    pub(crate) fn distribution_facts(&self, id: &str) -> Option<DistributionFacts> {
        let st = lock(&self.state);
        let d = st.distributions.get(id)?;
        Some(DistributionFacts {
            tags: d.tags.clone(),
            edge_versions: edge_versions(&d.config),
        })
    }

    /// Every stored distribution as the data path serves it.
    pub(crate) fn served(&self) -> Vec<Served> {
        lock(&self.state)
            .distributions
            .values()
            .map(|d| Served {
                id: d.id.clone(),
                arn: d.arn.clone(),
                domain_name: d.domain_name.clone(),
                enabled: d.config.enabled,
                config: d.config.inner.clone(),
            })
            .collect()
    }

    /// A stored origin access control's config.
    pub(crate) fn oac_config(&self, id: &str) -> Option<OacConfig> {
        lock(&self.state).oacs.get(id).map(|o| o.config.clone())
    }

    /// Whether the Lambda@Edge replicator's service-linked role exists (a
    /// distribution has had an association).
    pub(crate) fn replicator_role_exists(&self) -> bool {
        lock(&self.state).edge_used
    }

    /// Answers one CloudFront request.
    pub(crate) async fn handle(
        &self,
        parts: &Parts,
        body: &[u8],
        upstream: &Upstream,
        ids: &Ids,
    ) -> Reply {
        let query = parts.uri.query().unwrap_or("");
        let op = route(&parts.method, parts.uri.path(), query);
        let if_match = parts.headers.get("if-match").and_then(|v| v.to_str().ok());
        let result = match op {
            Op::CreateDistribution => self.create_distribution(body, false, upstream, ids).await,
            Op::CreateDistributionWithTags => {
                self.create_distribution(body, true, upstream, ids).await
            }
            Op::ListDistributions => self.list_distributions(query),
            Op::GetDistribution(id) => {
                let st = lock(&self.state);
                let now = Instant::now();
                let in_progress = st
                    .invalidations
                    .get(&id)
                    .map(|batches| invalidation::in_progress(batches, now))
                    .unwrap_or(0);
                st.distribution(&id)
                    .map(|d| d.reply_with_invalidations(StatusCode::OK, now, in_progress))
            }
            Op::GetDistributionConfig(id) => {
                let st = lock(&self.state);
                st.distribution(&id).map(|d| {
                    Reply::xml(
                        StatusCode::OK,
                        format!(
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DistributionConfig xmlns=\"{NAMESPACE}\">{}</DistributionConfig>",
                            d.config.inner
                        ),
                    )
                    .with_header("etag", &d.etag)
                })
            }
            Op::UpdateDistribution(id) => {
                self.update_distribution(&id, if_match, body, upstream, ids)
                    .await
            }
            Op::DeleteDistribution(id) => self.delete_distribution(&id, if_match),
            Op::CreateOriginAccessControl => self.create_oac(body, ids),
            Op::ListOriginAccessControls => self.list_oacs(query),
            Op::GetOriginAccessControl(id) => {
                let st = lock(&self.state);
                st.oac(&id)
                    .map(|o| Reply::xml(StatusCode::OK, o.xml()).with_header("etag", &o.etag))
            }
            Op::GetOriginAccessControlConfig(id) => {
                let st = lock(&self.state);
                st.oac(&id).map(|o| {
                    Reply::xml(
                        StatusCode::OK,
                        format!(
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OriginAccessControlConfig xmlns=\"{NAMESPACE}\">{}</OriginAccessControlConfig>",
                            o.config.inner
                        ),
                    )
                    .with_header("etag", &o.etag)
                })
            }
            Op::UpdateOriginAccessControl(id) => self.update_oac(&id, if_match, body, ids),
            Op::DeleteOriginAccessControl(id) => self.delete_oac(&id, if_match),
            Op::ListTagsForResource => self.list_tags(query),
            Op::TagResource => self.tag(query, body, true),
            Op::UntagResource => self.tag(query, body, false),
            Op::CreateInvalidation(id) => invalidation::create(
                &mut lock(&self.state),
                &id,
                body,
                ids,
                self.invalidation_time,
            ),
            Op::GetInvalidation(id, invalidation) => {
                invalidation::get(&lock(&self.state), &id, &invalidation)
            }
            Op::ListInvalidations(id) => invalidation::list(&lock(&self.state), &id, query),
            Op::Unknown => Err(CfError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                format!(
                    "aws-emulator does not emulate this CloudFront operation: {} {}",
                    parts.method,
                    parts.uri.path()
                ),
            )),
        };
        result.unwrap_or_else(|e| error_reply("cloudfront", e.status, e.code, &e.message, ids))
    }

    async fn create_distribution(
        &self,
        body: &[u8],
        with_tags: bool,
        upstream: &Upstream,
        ids: &Ids,
    ) -> Result<Reply, CfError> {
        let (config, tags) = parse_distribution_request(body, with_tags)?;
        let config = self.stored(config)?;
        edge::check_associations(&config, upstream, &self.versions).await?;
        let now = Instant::now();
        let mut st = lock(&self.state);
        st.check_oacs(&config)?;
        if let Some(existing) = st
            .distributions
            .values()
            .find(|d| d.config.caller_reference == config.caller_reference)
        {
            return Err(CfError::new(
                StatusCode::CONFLICT,
                "DistributionAlreadyExists",
                format!(
                    "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: {}",
                    existing.id
                ),
            ));
        }
        let id = st.new_id(ids);
        let seq = st.next_seq();
        let distribution = Distribution {
            arn: format!(
                "arn:aws:cloudfront::{}:distribution/{id}",
                crate::accounts::current()
            ),
            domain_name: format!("{}.cloudfront.net", id.to_lowercase()),
            etag: ids.etag(),
            config,
            tags,
            last_modified: SystemTime::now(),
            deployed_at: now + self.deploy_time,
            seq,
            id: id.clone(),
        };
        let reply = distribution.reply(StatusCode::CREATED, now).with_header(
            "location",
            &format!("https://cloudfront.amazonaws.com/{API}/distribution/{id}"),
        );
        st.distributions.insert(id, distribution);
        st.refresh_replicas(now);
        Ok(reply)
    }

    async fn update_distribution(
        &self,
        id: &str,
        if_match: Option<&str>,
        body: &[u8],
        upstream: &Upstream,
        ids: &Ids,
    ) -> Result<Reply, CfError> {
        {
            let st = lock(&self.state);
            check_if_match(if_match, &st.distribution(id)?.etag)?;
        }
        let (config, _) = parse_distribution_request(body, false)?;
        let config = self.stored(config)?;
        edge::check_associations(&config, upstream, &self.versions).await?;
        let now = Instant::now();
        let mut st = lock(&self.state);
        let current = st.distribution(id)?;
        check_if_match(if_match, &current.etag)?;
        if current.config.caller_reference != config.caller_reference {
            return Err(CfError::bad_request(
                "IllegalUpdate",
                "The update contains modifications that are not allowed: CallerReference cannot be changed.",
            ));
        }
        st.check_oacs(&config)?;
        let deployed_at = now + self.deploy_time;
        let reply = match st.distributions.get_mut(id) {
            Some(d) => {
                d.config = config;
                d.etag = ids.etag();
                d.last_modified = SystemTime::now();
                d.deployed_at = deployed_at;
                d.reply(StatusCode::OK, now)
            }
            None => return Err(no_such_distribution(id)),
        };
        st.refresh_replicas(now);
        Ok(reply)
    }

    fn delete_distribution(&self, id: &str, if_match: Option<&str>) -> Result<Reply, CfError> {
        let now = Instant::now();
        let mut st = lock(&self.state);
        let current = st.distribution(id)?;
        check_if_match(if_match, &current.etag)?;
        if current.config.enabled || current.status(now) != "Deployed" {
            return Err(CfError::new(
                StatusCode::CONFLICT,
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled.",
            ));
        }
        st.distributions.remove(id);
        st.invalidations.remove(id);
        st.refresh_replicas(now);
        Ok(Reply::empty(StatusCode::NO_CONTENT))
    }

    fn list_distributions(&self, query: &str) -> Result<Reply, CfError> {
        let now = Instant::now();
        let st = lock(&self.state);
        let mut all: Vec<&Distribution> = st.distributions.values().collect();
        all.sort_by_key(|d| d.seq);
        let items = all
            .iter()
            .map(|d| (d.id.as_str(), d.summary_xml(now)))
            .collect();
        let (items, next, marker, max_items) = page(items, query)?;
        Ok(Reply::xml(
            StatusCode::OK,
            list_xml("DistributionList", items, next, &marker, max_items),
        ))
    }

    fn create_oac(&self, body: &[u8], ids: &Ids) -> Result<Reply, CfError> {
        let config = parse_oac_config(body)?;
        let mut st = lock(&self.state);
        if st.oacs.values().any(|o| o.config.name == config.name) {
            return Err(CfError::new(
                StatusCode::CONFLICT,
                "OriginAccessControlAlreadyExists",
                format!(
                    "An origin access control with the name {} already exists.",
                    config.name
                ),
            ));
        }
        let id = st.new_id(ids);
        let seq = st.next_seq();
        let oac = Oac {
            id: id.clone(),
            etag: ids.etag(),
            config,
            seq,
        };
        let reply = Reply::xml(StatusCode::CREATED, oac.xml())
            .with_header("etag", &oac.etag)
            .with_header(
                "location",
                &format!("https://cloudfront.amazonaws.com/{API}/origin-access-control/{id}"),
            );
        st.oacs.insert(id, oac);
        Ok(reply)
    }

    fn update_oac(
        &self,
        id: &str,
        if_match: Option<&str>,
        body: &[u8],
        ids: &Ids,
    ) -> Result<Reply, CfError> {
        let mut st = lock(&self.state);
        check_if_match(if_match, &st.oac(id)?.etag)?;
        let config = parse_oac_config(body)?;
        if st
            .oacs
            .values()
            .any(|o| o.id != id && o.config.name == config.name)
        {
            return Err(CfError::new(
                StatusCode::CONFLICT,
                "OriginAccessControlAlreadyExists",
                format!(
                    "An origin access control with the name {} already exists.",
                    config.name
                ),
            ));
        }
        match st.oacs.get_mut(id) {
            Some(oac) => {
                oac.config = config;
                oac.etag = ids.etag();
                Ok(Reply::xml(StatusCode::OK, oac.xml()).with_header("etag", &oac.etag))
            }
            None => Err(no_such_oac(id)),
        }
    }

    fn delete_oac(&self, id: &str, if_match: Option<&str>) -> Result<Reply, CfError> {
        let mut st = lock(&self.state);
        check_if_match(if_match, &st.oac(id)?.etag)?;
        if let Some(user) = st
            .distributions
            .values()
            .find(|d| d.config.oac_ids.iter().any(|o| o == id))
        {
            return Err(CfError::new(
                StatusCode::CONFLICT,
                "OriginAccessControlInUse",
                format!(
                    "Cannot delete the origin access control because it's in use by one or more distributions (for example {}).",
                    user.id
                ),
            ));
        }
        st.oacs.remove(id);
        Ok(Reply::empty(StatusCode::NO_CONTENT))
    }

    fn list_oacs(&self, query: &str) -> Result<Reply, CfError> {
        let st = lock(&self.state);
        let mut all: Vec<&Oac> = st.oacs.values().collect();
        all.sort_by_key(|o| o.seq);
        let items = all
            .iter()
            .map(|o| (o.id.as_str(), o.summary_xml()))
            .collect();
        let (items, next, marker, max_items) = page(items, query)?;
        Ok(Reply::xml(
            StatusCode::OK,
            list_xml("OriginAccessControlList", items, next, &marker, max_items),
        ))
    }

    fn tagged<'a>(st: &'a mut State, query: &str) -> Result<&'a mut Distribution, CfError> {
        let resource = query_param(query, "Resource")
            .ok_or_else(|| CfError::invalid_argument("The Resource parameter is required."))?;
        st.distributions
            .values_mut()
            .find(|d| d.arn == resource)
            .ok_or_else(|| {
                CfError::new(
                    StatusCode::NOT_FOUND,
                    "NoSuchResource",
                    format!("The specified resource does not exist: {resource}"),
                )
            })
    }

    fn list_tags(&self, query: &str) -> Result<Reply, CfError> {
        let mut st = lock(&self.state);
        let distribution = Self::tagged(&mut st, query)?;
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tags xmlns=\"{NAMESPACE}\"><Items>"
        );
        for (key, value) in &distribution.tags {
            out.push_str(&format!(
                "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
                escape(key),
                escape(value)
            ));
        }
        out.push_str("</Items></Tags>");
        Ok(Reply::xml(StatusCode::OK, out))
    }

    fn tag(&self, query: &str, body: &[u8], add: bool) -> Result<Reply, CfError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| CfError::malformed("The request body is not UTF-8."))?;
        let doc = Document::parse(text).map_err(|e| {
            CfError::malformed(format!("The XML you provided was not well-formed: {e}"))
        })?;
        let root = doc.root_element();
        let mut st = lock(&self.state);
        let distribution = Self::tagged(&mut st, query)?;
        if add {
            for (key, value) in parse_tags(root)? {
                match distribution.tags.iter_mut().find(|(k, _)| *k == key) {
                    Some(existing) => existing.1 = value,
                    None => distribution.tags.push((key, value)),
                }
            }
        } else {
            let keys: Vec<String> = child(root, "Items")
                .map(|items| {
                    children(items, "Key")
                        .map(|k| k.text().unwrap_or("").to_owned())
                        .collect()
                })
                .unwrap_or_default();
            distribution.tags.retain(|(k, _)| !keys.contains(k));
        }
        Ok(Reply::empty(StatusCode::NO_CONTENT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudfront_paths_name_their_operations() {
        assert_eq!(
            route(&Method::POST, "/2020-05-31/distribution", ""),
            Op::CreateDistribution
        );
        assert_eq!(
            route(&Method::POST, "/2020-05-31/distribution", "WithTags"),
            Op::CreateDistributionWithTags
        );
        assert_eq!(
            route(&Method::PUT, "/2020-05-31/distribution/E123/config", ""),
            Op::UpdateDistribution("E123".into())
        );
        assert_eq!(
            route(
                &Method::POST,
                "/2020-05-31/tagging",
                "Operation=Untag&Resource=arn"
            ),
            Op::UntagResource
        );
        assert_eq!(
            route(
                &Method::POST,
                "/2020-05-31/distribution/E1/invalidation",
                ""
            ),
            Op::CreateInvalidation("E1".into())
        );
        assert_eq!(
            route(
                &Method::GET,
                "/2020-05-31/distribution/E1/invalidation/I1",
                ""
            ),
            Op::GetInvalidation("E1".into(), "I1".into())
        );
        assert_eq!(
            route(&Method::GET, "/2020-05-31/invalidation", ""),
            Op::Unknown
        );
    }

    #[test]
    fn if_match_is_required_and_checked() {
        assert_eq!(
            check_if_match(None, "E1").map_err(|e| e.code),
            Err("InvalidIfMatchVersion")
        );
        assert_eq!(
            check_if_match(Some("E0"), "E1").map_err(|e| e.code),
            Err("PreconditionFailed")
        );
        assert!(check_if_match(Some("E1"), "E1").is_ok());
    }
}
