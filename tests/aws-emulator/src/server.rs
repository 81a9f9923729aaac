//! The front door: an HTTP/1.1 server on loopback (its loop is
//! `emulator-http`'s) that takes every SDK request, identifies
//! `service:Operation` from the SigV4 scope, counts it against its rate
//! quota (throttled, as the service throttles, when the quotas are
//! enforced: see `rate_quotas`), applies the fault rules, and
//! authorizes the call when its access key is restricted (see
//! `authorize`), answers — CloudFront in-process, Lambda through its corrections,
//! everything else (SSM, IAM, STS, ...) relayed from moto verbatim. Every
//! call and every injected fault is recorded in the ledger and logged with
//! `tracing`. Paths under `/__emulator/` are the control endpoints, never
//! forwarded; requests whose `Host` names a function URL or a distribution
//! are traffic, answered by `dataplane` and never counted as calls.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use emulator_http::Server;
use http::{Request, Response, StatusCode, request::Parts};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::accounts::{self, SessionAccounts};
use crate::authorize::{self, AuthorizationRecord, Authorizer, PolicyError, Verdict};
use crate::call_rates::{CallRates, RateReport};
use crate::cloudfront::CloudFront;
use crate::control::{self, CONTROL_PREFIX};
use crate::dataplane::{self, DataPlane};
use crate::faults::{FaultBook, FaultKind, FaultRule, FaultRuleError, fault_reply};
use crate::ids::{Ids, lock};
use crate::lambda::{self, LambdaFixes};
use crate::ledger::{CallRecord, CallReport, Ledger};
use crate::rate_quotas::{self, QuotaBook, QuotaRates};
use crate::reply::Reply;
use crate::route::Call;
use crate::upstream::{Upstream, UpstreamError};
use crate::versions::PendingVersions;
use crate::{EmulatorConfig, Error};

/// Everything the connections share.
pub(crate) struct Shared {
    pub ids: Ids,
    pub upstream: Upstream,
    /// CloudFront of each account, built on its first call.
    cloudfronts: Mutex<HashMap<String, Arc<CloudFront>>>,
    cloudfront_settings: CloudFrontSettings,
    /// The account of each session of a role in another account.
    pub accounts: SessionAccounts,
    pub lambda: LambdaFixes,
    pub versions: PendingVersions,
    pub faults: Mutex<FaultBook>,
    pub ledger: Mutex<Ledger>,
    /// The rate quotas in force, if enforced, and their buckets.
    pub quotas: Mutex<QuotaBook>,
    /// Calls per second per quota and region.
    pub rates: Mutex<CallRates>,
    pub authorizer: Authorizer,
    /// What the data path (function URLs, distributions' viewers) knows.
    pub dataplane: DataPlane,
    /// IAM answers carry their policies' lists reordered (`trust_order`).
    pub reorder_policy_lists: bool,
}

/// How every account's CloudFront is built.
struct CloudFrontSettings {
    deploy_time: std::time::Duration,
    replica_linger: std::time::Duration,
    versions: PendingVersions,
    readback_defaults: bool,
    invalidation_time: std::time::Duration,
}

impl CloudFrontSettings {
    fn build(&self) -> CloudFront {
        CloudFront::new(self.deploy_time, self.replica_linger, self.versions.clone())
            .with_readback_defaults(self.readback_defaults)
            .with_invalidation_time(self.invalidation_time)
    }
}

impl Shared {
    /// The CloudFront of the account the call acts in (`accounts`); the
    /// data path, outside any call, serves the default account's.
    pub(crate) fn cloudfront(&self) -> Arc<CloudFront> {
        let mut clouds = lock(&self.cloudfronts);
        Arc::clone(
            clouds
                .entry(accounts::current())
                .or_insert_with(|| Arc::new(self.cloudfront_settings.build())),
        )
    }

    pub(crate) fn report(&self) -> CallReport {
        let rules = lock(&self.faults).report();
        lock(&self.ledger).report(rules)
    }

    pub(crate) fn rate_report(&self) -> RateReport {
        let enforced = lock(&self.quotas)
            .rates()
            .map(|rates| rates.as_map().clone())
            .unwrap_or_default();
        lock(&self.rates).report(enforced, Instant::now())
    }

    /// Zeroes the counts, the log, the call rates and the authorization log.
    pub(crate) fn reset_counts(&self) {
        lock(&self.ledger).reset();
        lock(&self.rates).reset(Instant::now());
        self.authorizer.reset_log();
    }
}

/// The emulator, started in the calling tokio runtime.
pub struct Emulator;

impl Emulator {
    /// Binds `config.listen` and serves until the handle is shut down or
    /// dropped (or the runtime ends).
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, Error> {
        for rule in &config.faults {
            rule.validate()?;
        }
        let authorizer = Authorizer::new(&config.identities)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        let versions = PendingVersions::new(config.version_pending);
        let shared = Arc::new(Shared {
            ids: Ids::from_clock(),
            upstream: Upstream::new(&config.moto_endpoint),
            cloudfronts: Mutex::default(),
            cloudfront_settings: CloudFrontSettings {
                deploy_time: config.deploy_time,
                replica_linger: config.replica_linger,
                versions: versions.clone(),
                readback_defaults: config.readback_defaults,
                invalidation_time: config.invalidation_time,
            },
            accounts: SessionAccounts::default(),
            lambda: LambdaFixes::default(),
            versions,
            faults: Mutex::new(FaultBook::new(config.faults.clone())),
            ledger: Mutex::new(Ledger::default()),
            quotas: Mutex::new(QuotaBook::new(config.rate_quotas.clone())),
            rates: Mutex::new(CallRates::new(Instant::now())),
            authorizer,
            dataplane: DataPlane::default(),
            reorder_policy_lists: config.reorder_policy_lists,
        });
        let handler = {
            let shared = Arc::clone(&shared);
            move |request| {
                let shared = Arc::clone(&shared);
                async move { serve(&shared, request).await }
            }
        };
        let server = emulator_http::serve(listener, "aws-emulator", handler);
        info!(
            %addr,
            moto = %config.moto_endpoint,
            deploy_seconds = config.deploy_time.as_secs_f64(),
            invalidation_seconds = config.invalidation_time.as_secs_f64(),
            replica_linger_seconds = config.replica_linger.as_secs_f64(),
            version_pending_seconds = config.version_pending.as_secs_f64(),
            faults = config.faults.len(),
            identities = config.identities.len(),
            rate_quotas = %config.rate_quotas.as_ref().map_or("not enforced".to_owned(), QuotaRates::to_string),
            "aws-emulator listening"
        );
        Ok(EmulatorHandle {
            addr,
            shared,
            server,
        })
    }
}

/// A running emulator. Dropping it stops the server (open connections
/// are closed); `shutdown` also waits for that.
pub struct EmulatorHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Server,
}

impl EmulatorHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The ledger, as `GET /__emulator/calls` reports it.
    pub fn calls(&self) -> CallReport {
        self.shared.report()
    }

    /// Replaces the fault rules.
    pub fn set_faults(&self, rules: Vec<FaultRule>) -> Result<(), FaultRuleError> {
        for rule in &rules {
            rule.validate()?;
        }
        lock(&self.shared.faults).replace(rules);
        Ok(())
    }

    /// Calls per second per quota and region, as `GET /__emulator/rates`
    /// reports them.
    pub fn rates(&self) -> RateReport {
        self.shared.rate_report()
    }

    /// Enforces these rate quotas from now on (`None`: stops enforcing).
    pub fn set_rate_quotas(&self, rates: Option<QuotaRates>) {
        lock(&self.shared.quotas).replace(rates);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).replace(Vec::new());
    }

    /// Restricts the access key `key` to `policy` (an IAM policy document).
    pub fn set_identity(&self, key: &str, policy: &serde_json::Value) -> Result<(), PolicyError> {
        self.shared.authorizer.set(key, policy)
    }

    /// Makes `key` unrestricted again; whether it had a policy.
    pub fn remove_identity(&self, key: &str) -> bool {
        self.shared.authorizer.remove(key)
    }

    /// The authorization log, as `GET /__emulator/authorizations` serves it.
    pub fn authorizations(&self) -> Vec<AuthorizationRecord> {
        self.shared.authorizer.log()
    }

    /// Stops accepting, closes open connections, and waits for the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// The answer is lost on purpose: hyper closes the connection without a
/// response when the service fails.
#[derive(Debug, thiserror::Error)]
#[error("answer dropped after the write (fault rule drop_after_write)")]
pub(crate) struct AnswerDropped;

async fn serve(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, AnswerDropped> {
    let (parts, incoming) = request.into_parts();
    let body = match incoming.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return Ok(Reply::text(
                StatusCode::BAD_REQUEST,
                format!("reading the request body: {e}"),
            )
            .into_response());
        }
    };
    if parts.uri.path().starts_with(CONTROL_PREFIX) {
        return Ok(control::handle(shared, &parts, &body).into_response());
    }
    if let Some(reply) = dataplane::route(shared, &parts, &body).await {
        return Ok(reply.into_response());
    }
    let call = Call::identify(&parts, &body);
    let account = shared.accounts.of(call.access_key.as_deref());
    accounts::within(account, serve_call(shared, call, parts, body)).await
}

/// Serves one AWS call, inside its account (see `accounts`).
async fn serve_call(
    shared: &Shared,
    call: Call,
    parts: Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, AnswerDropped> {
    let key = call.key();
    let record = |status: Option<u16>, fault: Option<FaultKind>| CallRecord {
        seq: 0,
        call: key.clone(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        status,
        fault: fault.map(|k| k.as_str().to_owned()),
        throttled: None,
    };
    if call.access_key.is_some() && !crate::regions::exists(&call.region) {
        let reply = crate::regions::no_such_region(&call.service, &call.region, &shared.ids);
        info!(call = %key, region = %call.region, status = reply.status.as_u16(), "no such region");
        lock(&shared.ledger).record(record(Some(reply.status.as_u16()), None));
        return Ok(reply.into_response());
    }
    if let Some(quota) = rate_quotas::quota_of(&call.service, &call.operation) {
        let now = Instant::now();
        let admitted = lock(&shared.quotas).admit(&call.region, quota, now);
        lock(&shared.rates).count(quota, &call.region, !admitted, now);
        if !admitted {
            let reply = fault_reply(&call.service, FaultKind::Throttle, &shared.ids);
            warn!(call = %key, region = %call.region, quota, status = reply.status.as_u16(), "rate quota exceeded: throttled");
            lock(&shared.ledger).record(CallRecord {
                throttled: Some(quota.to_owned()),
                ..record(Some(reply.status.as_u16()), None)
            });
            return Ok(reply.into_response());
        }
    }
    let verdict = authorize::authorize(shared, &call, &parts, &body).await;
    let restricted = !matches!(verdict, Verdict::Unrestricted);
    let strip_tags = match verdict {
        Verdict::Denied(reply) => {
            info!(call = %key, region = %call.region, method = %parts.method, path = %parts.uri.path(), status = reply.status.as_u16(), "call denied");
            lock(&shared.ledger).record(record(Some(reply.status.as_u16()), None));
            return Ok(reply.into_response());
        }
        Verdict::Allowed { strip_tags } => strip_tags,
        Verdict::Unrestricted => false,
    };
    let fault = lock(&shared.faults).decide(&call.service, &call.operation);
    let after_work =
        |kind: &FaultKind| matches!(kind, FaultKind::DropAfterWrite | FaultKind::SlowAnswer);
    if let Some((rule, kind)) = fault.filter(|(_, kind)| !after_work(kind)) {
        let reply = fault_reply(&call.service, kind, &shared.ids);
        warn!(call = %key, rule, fault = kind.as_str(), status = reply.status.as_u16(), "injected fault");
        lock(&shared.ledger).record(record(Some(reply.status.as_u16()), Some(kind)));
        return Ok(reply.into_response());
    }
    let mut reply = dispatch(shared, &call, &parts, body.clone()).await;
    if strip_tags {
        reply = without_tags(reply);
    }
    dataplane::observe(shared, &call, &body, &reply);
    if key == "sts:AssumeRole" {
        shared.accounts.learn(&reply);
    }
    if restricted && key == "sts:AssumeRole" {
        crate::assumed_roles::restrict_session(shared, &reply).await;
    }
    if let Some((rule, FaultKind::SlowAnswer)) = fault {
        // Recorded when the work is done, not when the answer leaves: the
        // call reached AWS at this instant.
        warn!(call = %key, rule, fault = "slow_answer", status = reply.status.as_u16(), "injected fault: did the work, answering late");
        lock(&shared.ledger).record(record(
            Some(reply.status.as_u16()),
            Some(FaultKind::SlowAnswer),
        ));
        tokio::time::sleep(crate::faults::SLOW_ANSWER).await;
        return Ok(reply.into_response());
    }
    if let Some((rule, kind)) = fault {
        warn!(call = %key, rule, fault = kind.as_str(), status = reply.status.as_u16(), "injected fault: did the work, dropping the answer");
        lock(&shared.ledger).record(record(None, Some(kind)));
        return Err(AnswerDropped);
    }
    info!(call = %key, region = %call.region, method = %parts.method, path = %parts.uri.path(), status = reply.status.as_u16(), "call");
    lock(&shared.ledger).record(record(Some(reply.status.as_u16()), None));
    Ok(reply.into_response())
}

/// A JSON answer without its `Tags` (partial authorization).
fn without_tags(mut reply: Reply) -> Reply {
    if !reply.is_success() {
        return reply;
    }
    if let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice(&reply.body) {
        object.remove("Tags");
        reply.body = Bytes::from(serde_json::Value::Object(object).to_string());
    }
    reply
}

async fn dispatch(shared: &Shared, call: &Call, parts: &Parts, body: Bytes) -> Reply {
    if call.service == "iam"
        && call.operation == "PutRolePolicy"
        && let Some(refused) =
            crate::role_policy_size::refusal(&shared.upstream, &body, &shared.ids).await
    {
        return refused;
    }
    if call.service == "iam"
        && matches!(
            call.operation.as_str(),
            "CreateRole" | "PutRolePermissionsBoundary"
        )
        && let Some(refused) =
            crate::boundary_exists::refusal(&shared.upstream, &body, &shared.ids).await
    {
        return refused;
    }
    let relayed: Result<Reply, UpstreamError> = match call.service.as_str() {
        "cloudfront" => {
            return shared
                .cloudfront()
                .handle(parts, &body, &shared.upstream, &shared.ids)
                .await;
        }
        "lambda" => lambda::handle(shared, call, parts, body).await,
        "iam" if shared.reorder_policy_lists => shared
            .upstream
            .forward(parts, body)
            .await
            .map(|reply| crate::trust_order::reordered(&call.operation, reply)),
        _ => shared.upstream.forward(parts, body).await,
    };
    relayed.unwrap_or_else(|e| {
        warn!(call = %call.key(), error = %e, "moto unreachable");
        Reply::text(
            StatusCode::BAD_GATEWAY,
            format!("aws-emulator could not reach moto: {e}"),
        )
    })
}
