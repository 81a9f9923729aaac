//! The AWS test bed: moto plus `aws-emulator` in front of it, both on free
//! loopback ports, for any test that needs AWS. The emulator runs in this
//! test process on a tokio runtime of its own (a dedicated thread), so it
//! outlives whatever runtime the test uses and needs no child process;
//! dropping the `TestBed` stops the emulator, then moto.
//!
//! Point the SDK at `TestBed::endpoint` (`sdk_config()` does). Fault rules
//! and wire counts go through the emulator's control endpoints
//! (`/__emulator/...`), the same ones a shell could `curl`.
//!
//! IAM: `sdk_config()` signs with `AKIDTESTING`, which has no identity
//! policy and is never restricted (set-up code). `restrict(key, policy)`
//! gives another access key an identity policy, and `sdk_config_as(key)`
//! calls as that key: each of its calls is then evaluated as IAM would.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_emulator::{
    AuthorizationRecord, CallRecord, CallReport, ControlClient, Emulator, EmulatorConfig,
    FaultRule, QuotaRates, RateReport, RuleReport,
};

use super::moto::{Moto, sdk_config_for};

/// How to start a test bed.
#[derive(Debug, Clone)]
pub struct TestBedOptions {
    /// How long a distribution stays `InProgress` after a change.
    pub deploy_time: Duration,
    /// How long an invalidation stays `InProgress` before `Completed`.
    pub invalidation_time: Duration,
    /// How long a Lambda@Edge version stays undeletable after its last
    /// association left.
    pub replica_linger: Duration,
    /// Fault rules in force from the first call.
    pub faults: Vec<FaultRule>,
    /// Restricted access keys and their identity policies, from the first
    /// call.
    pub identities: Vec<(String, serde_json::Value)>,
    /// The identity policy of [`PRODUCT_KEY`], the key urlguard signs with:
    /// by default exactly what `urlguard iam-policy` prints.
    pub product_policy: serde_json::Value,
    /// CloudFront configs read back completed with CloudFront's defaults
    /// (on, as on AWS); off, exactly as sent.
    pub readback_defaults: bool,
    /// AWS's request-rate quotas enforced from the first call, or `None`
    /// (the default: no call is throttled for its rate).
    pub rate_quotas: Option<QuotaRates>,
}

impl Default for TestBedOptions {
    fn default() -> Self {
        TestBedOptions {
            deploy_time: Duration::from_secs(1),
            invalidation_time: Duration::from_millis(500),
            replica_linger: Duration::from_secs(2),
            faults: Vec::new(),
            identities: Vec::new(),
            product_policy: product_policy(),
            readback_defaults: true,
            rate_quotas: None,
        }
    }
}

/// The access key urlguard signs with on every test bed (the engine through
/// [`as_product`], a urlguard process through [`TestBed::isolate`]): the
/// emulator evaluates each of its calls against
/// [`TestBedOptions::product_policy`]. Set-up and inspection sign with the
/// unrestricted `AKIDTESTING`.
pub const PRODUCT_KEY: &str = "AKIDURLGUARD";

/// The policy `urlguard iam-policy` prints for the tests' instance, both
/// protections, no log buckets.
pub fn product_policy() -> serde_json::Value {
    product_policy_for(&[])
}

/// The policy `urlguard iam-policy -f` prints for a manifest of these
/// distributions: with the S3 ACL permissions on their log buckets.
pub fn product_policy_for(distributions: &[urlguard::api::EdgeDistribution]) -> serde_json::Value {
    use urlguard::aws::permissions::{PolicyOptions, controller_policy, log_buckets_of};
    controller_policy(
        "urlguard",
        &PolicyOptions {
            log_buckets: log_buckets_of(distributions),
            ..PolicyOptions::default()
        },
    )
}

/// Creates the permissions boundary of `instance`'s signer roles, as the
/// platform team does before installing urlguard (README): the policy
/// `urlguard iam-policy --boundary` prints, named
/// `/urlguard/<instance>-signer-boundary`. Every bed has it for the tests'
/// instance `urlguard`.
pub async fn create_signer_boundary(endpoint: &str, instance: &str) -> Result<(), String> {
    use urlguard::model::iam::{BOUNDARY_PATH, signer_boundary_name};
    let config = sdk_config_for(endpoint).await;
    aws_sdk_iam::Client::new(&config)
        .create_policy()
        .path(BOUNDARY_PATH)
        .policy_name(signer_boundary_name(instance))
        .policy_document(urlguard::plan::boundary::boundary_policy(instance).to_string())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("CreatePolicy {}: {e:?}", signer_boundary_name(instance)))
}

/// `config`, signing as [`PRODUCT_KEY`]: what urlguard's engine uses.
pub fn as_product(config: SdkConfig) -> SdkConfig {
    with_access_key(config, PRODUCT_KEY)
}

fn with_access_key(config: SdkConfig, key: &str) -> SdkConfig {
    config
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_sdk_sts::config::Credentials::new(
                    key,
                    "testing-secret",
                    None,
                    None,
                    "urlguard-tests",
                ),
            ),
        )
        .build()
}

/// moto + aws-emulator, stopped on drop.
pub struct TestBed {
    /// `http://127.0.0.1:PORT` of the emulator: the SDK's endpoint.
    pub endpoint: String,
    /// The emulator's address.
    pub addr: SocketAddr,
    control: ControlClient,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// The moto server behind the emulator (declared last: dropped last).
    pub moto: Moto,
}

impl TestBed {
    /// moto and the emulator with the default options.
    pub fn start() -> TestBed {
        TestBed::start_with(TestBedOptions::default())
    }

    /// moto and the emulator with these options.
    pub fn start_with(options: TestBedOptions) -> TestBed {
        let moto = Moto::start();
        let mut config = EmulatorConfig::new(&moto.endpoint);
        config.deploy_time = options.deploy_time;
        config.invalidation_time = options.invalidation_time;
        config.replica_linger = options.replica_linger;
        config.faults = options.faults;
        config.identities = options.identities;
        config
            .identities
            .push((PRODUCT_KEY.to_owned(), options.product_policy));
        config.readback_defaults = options.readback_defaults;
        config.rate_quotas = options.rate_quotas;

        let moto_endpoint = moto.endpoint.clone();
        let (started_tx, started_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("aws-emulator".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the emulator's tokio runtime");
                let handle = match runtime.block_on(Emulator::start(config)) {
                    Ok(handle) => handle,
                    Err(e) => {
                        let _ = started_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                if let Err(e) = runtime.block_on(create_signer_boundary(&moto_endpoint, "urlguard"))
                {
                    let _ = started_tx.send(Err(e));
                    return;
                }
                let _ = started_tx.send(Ok(handle.addr()));
                // Serve (on the runtime's workers) until the bed drops.
                let _ = stop_rx.recv();
                runtime.block_on(handle.shutdown());
            })
            .expect("spawning the emulator thread");
        let addr = match started_rx.recv() {
            Ok(Ok(addr)) => addr,
            Ok(Err(e)) => panic!("aws-emulator did not start: {e}"),
            Err(_) => panic!("aws-emulator thread ended before starting"),
        };
        TestBed {
            endpoint: format!("http://{addr}"),
            addr,
            control: ControlClient::new(addr),
            stop: Some(stop_tx),
            thread: Some(thread),
            moto,
        }
    }

    /// Points `command` (a urlguard process) at this bed only, signing as
    /// [`PRODUCT_KEY`], with none of the machine's own AWS configuration.
    pub fn isolate(&self, command: &mut std::process::Command) {
        command
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", PRODUCT_KEY)
            .env("AWS_SECRET_ACCESS_KEY", "testing-secret")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
    }

    /// An SDK config that reaches this bed only (dummy credentials,
    /// `us-east-1`, the SDK's standard retries).
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint).await
    }

    /// An SDK config like `sdk_config()` that signs with the access key
    /// `key` (restricted if `restrict` gave it a policy).
    pub async fn sdk_config_as(&self, key: &str) -> SdkConfig {
        with_access_key(sdk_config_for(&self.endpoint).await, key)
    }

    /// Restricts the access key `key` to the identity policy `policy`
    /// (`PUT /__emulator/identities/KEY`).
    pub fn restrict(&self, key: &str, policy: &serde_json::Value) {
        self.control
            .set_identity(key, policy)
            .expect("PUT /__emulator/identities/KEY");
    }

    /// Makes `key` unrestricted again (`DELETE /__emulator/identities/KEY`).
    pub fn unrestrict(&self, key: &str) {
        self.control
            .remove_identity(key)
            .expect("DELETE /__emulator/identities/KEY");
    }

    /// Every check of a restricted call since the last reset
    /// (`GET /__emulator/authorizations`).
    pub fn authorizations(&self) -> Vec<AuthorizationRecord> {
        self.control
            .authorizations()
            .expect("GET /__emulator/authorizations")
    }

    /// The same without retries: every injected fault reaches the caller.
    pub async fn sdk_config_without_retries(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint)
            .await
            .into_builder()
            .retry_config(RetryConfig::disabled())
            .build()
    }

    /// The wire counts (`GET /__emulator/calls`).
    pub fn calls(&self) -> CallReport {
        self.control.calls().expect("GET /__emulator/calls")
    }

    /// Calls of one `service:Operation` so far.
    pub fn count(&self, key: &str) -> u64 {
        self.calls().count(key)
    }

    /// The recent calls in order (`GET /__emulator/log`).
    pub fn log(&self) -> Vec<CallRecord> {
        self.control.log().expect("GET /__emulator/log")
    }

    /// Calls per second per quota and region since the start or the last
    /// reset (`GET /__emulator/rates`).
    pub fn rates(&self) -> RateReport {
        self.control.rates().expect("GET /__emulator/rates")
    }

    /// Enforces `rates` from now on, or stops enforcing rate quotas
    /// (`PUT`/`DELETE /__emulator/rate-quotas`).
    pub fn set_rate_quotas(&self, rates: Option<&QuotaRates>) {
        self.control
            .set_rate_quotas(rates)
            .expect("PUT /__emulator/rate-quotas");
    }

    /// Zeroes the counts, the log, the call rates and the authorization log.
    pub fn reset_counts(&self) {
        self.control
            .reset_counts()
            .expect("POST /__emulator/reset-counts");
    }

    /// Replaces the fault rules (`PUT /__emulator/faults`).
    pub fn set_faults(&self, rules: &[FaultRule]) -> Vec<RuleReport> {
        self.control
            .set_faults(rules)
            .expect("PUT /__emulator/faults")
    }

    /// Adds fault rules after those in force (`POST /__emulator/faults`).
    pub fn add_faults(&self, rules: &[FaultRule]) -> Vec<RuleReport> {
        self.control
            .add_faults(rules)
            .expect("POST /__emulator/faults")
    }

    /// Removes every fault rule (`DELETE /__emulator/faults`).
    pub fn clear_faults(&self) {
        self.control
            .clear_faults()
            .expect("DELETE /__emulator/faults");
    }
}

impl Drop for TestBed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The test failed: show what went over the wire.
            if let Ok(log) = self.control.log() {
                eprintln!("aws-emulator wire log (last {} calls):", log.len().min(60));
                for record in log.iter().rev().take(60).rev() {
                    eprintln!(
                        "  #{} {} {} {} -> {} {}",
                        record.seq,
                        record.call,
                        record.method,
                        record.path,
                        record
                            .status
                            .map_or("dropped".to_owned(), |s| s.to_string()),
                        record.fault.as_deref().unwrap_or("")
                    );
                }
            }
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A zip archive of one file — enough for moto's `CreateFunction`, which
/// does not run the code.
pub fn tiny_zip(file_name: &str, contents: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file(file_name, options).expect("zip entry");
    writer.write_all(contents).expect("zip contents");
    writer.finish().expect("zip").into_inner()
}

/// Lambda in one region of the bed.
pub fn lambda_client(config: &SdkConfig, region: &str) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(config)
            .region(aws_config::Region::new(region.to_owned()))
            .build(),
    )
}

/// Reads the bed's (first) distribution's config and writes it back
/// changed, as someone editing it in the console would: with the ETag it
/// read, so a change made in between is refused.
pub async fn change_distribution(
    config: SdkConfig,
    change: impl FnOnce(&mut aws_sdk_cloudfront::types::DistributionConfig),
) {
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    let list = cloudfront
        .list_distributions()
        .send()
        .await
        .expect("ListDistributions");
    let id = list
        .distribution_list()
        .map(|l| l.items()[0].id().to_owned())
        .expect("a distribution");
    let current = cloudfront
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .expect("GetDistributionConfig");
    let mut edited = current.distribution_config().cloned().expect("config");
    change(&mut edited);
    cloudfront
        .update_distribution()
        .id(&id)
        .if_match(current.e_tag().expect("ETag"))
        .distribution_config(edited)
        .send()
        .await
        .expect("UpdateDistribution");
}

/// The opt-in tag's key (`urlguard.io/allow`), set by a function's owner.
pub const OPT_IN_TAG: &str = "urlguard.io/allow";

/// The opt-in most tests' functions carry: instance `urlguard`, any
/// namespace (the tests use several).
pub const OPT_IN_ANY_NAMESPACE: &str = "urlguard/*";

/// The application's own functions, as its deployment (not urlguard) would
/// create them: an execution role `app` and tiny Node.js handlers, opted
/// in for instance `urlguard` in every namespace ([`OPT_IN_ANY_NAMESPACE`]).
pub async fn create_functions(config: &SdkConfig, region: &str, names: &[&str]) {
    create_functions_opted_in(config, region, names, Some(OPT_IN_ANY_NAMESPACE)).await;
}

/// [`create_functions`] with the opt-in tag's value `allow` (`None`: no
/// opt-in tag at all).
pub async fn create_functions_opted_in(
    config: &SdkConfig,
    region: &str,
    names: &[&str],
    allow: Option<&str>,
) {
    create_functions_with(config, region, names, 1, allow).await;
}

/// [`create_functions`] with up to `at_once` `CreateFunction` calls in
/// flight (in no particular order when more than one).
pub async fn create_functions_at_once(
    config: &SdkConfig,
    region: &str,
    names: &[&str],
    at_once: usize,
) {
    create_functions_with(config, region, names, at_once, Some(OPT_IN_ANY_NAMESPACE)).await;
}

async fn create_functions_with(
    config: &SdkConfig,
    region: &str,
    names: &[&str],
    at_once: usize,
    allow: Option<&str>,
) {
    use futures::StreamExt;

    let iam = aws_sdk_iam::Client::new(config);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = match iam.get_role().role_name("app").send().await {
        Ok(found) => found.role().map(|r| r.arn().to_owned()),
        Err(_) => iam
            .create_role()
            .role_name("app")
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("CreateRole")
            .role()
            .map(|r| r.arn().to_owned()),
    }
    .expect("role ARN");
    let lambda = lambda_client(config, region);
    let zip = tiny_zip(
        "index.mjs",
        b"export const handler = async () => ({statusCode: 200});",
    );
    let (lambda, role, zip) = (&lambda, &role, &zip);
    futures::stream::iter(names)
        .map(|name| async move {
            lambda
                .create_function()
                .function_name(*name)
                .runtime(aws_sdk_lambda::types::Runtime::Nodejs22x)
                .role(role)
                .handler("index.handler")
                .set_tags(allow.map(|value| [(OPT_IN_TAG.to_owned(), value.to_owned())].into()))
                .code(
                    aws_sdk_lambda::types::FunctionCode::builder()
                        .zip_file(aws_sdk_lambda::primitives::Blob::new(zip.clone()))
                        .build(),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("CreateFunction {name}: {e:?}"));
        })
        .buffer_unordered(at_once.max(1))
        .collect::<Vec<()>>()
        .await;
}
