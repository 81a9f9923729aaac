//! Scale benchmark of `urlguard controller` (not a test): how long the
//! controller takes to make thousands of `ProtectedFunctionUrl`s and a
//! hundred `EdgeDistribution`s Ready, how much memory it needs for that,
//! and how many AWS calls it makes per object.
//!
//! It starts the AWS test bed (moto behind our aws-emulator) and creates one
//! Lambda function per URL, starts the kube emulator in-process with the
//! CRDs, runs the release `urlguard controller` binary as a child process
//! (leader election on), creates every object through the Kubernetes API,
//! and watches until all of them have `Ready=True`. It then prints:
//!
//! - setup time (test bed and functions), object creation time;
//! - time from the first object created to all Ready (and milestones);
//! - the controller's peak RSS (`VmHWM`, goal ≤ 50 MiB);
//! - AWS calls per object, the total and the top operations, from the
//!   controller's `urlguard_aws_calls_total`; reconcile counts by outcome;
//! - CPU seconds per process (moto, controller) and per part of this
//!   process (kube emulator, aws-emulator, the bench's own client), which
//!   tells where the time went on a small machine;
//! - AWS requests per quota class and region (Lambda's control plane,
//!   `GetFunction`, `GetPolicy`, SSM, CloudFront, IAM, STS) during
//!   creation: the peak (busiest 10 s window) and the average, from the
//!   aws-emulator's calls per second, and the calls it throttled — with
//!   the emulator enforcing AWS's per-account, per-region rate quotas, as
//!   an account would (after the functions are set up);
//! - then, every object Ready, a steady-state phase: the rates per quota
//!   class against issue 18's targets (Lambda control plane <= 3/s,
//!   `GetFunction` <= 20/s, CloudFront <= 1/s);
//! - then a restart: the controller killed, a new one started, and, once
//!   it has reconciled every object again (and `URLGUARD_BENCH_AFTER_RESTART`
//!   more), how long that took, its AWS writes (must be 0), its calls, its
//!   peak RSS and its rates against the steady-state targets;
//! - the throttles the product saw over the whole run.
//!
//! It exits non-zero when not everything is Ready within the timeout, the
//! restarted controller does not reconcile every object within it, or a
//! controller dies. Nothing reaches real AWS or a real cluster.
//!
//! Run it (after `make setup`) with `make bench-controller`, or
//! `cargo bench --bench controller_scale`. Parameters by environment:
//!
//! - `URLGUARD_BENCH_URLS` (5000): `ProtectedFunctionUrl`s, one function each;
//! - `URLGUARD_BENCH_DISTRIBUTIONS` (100): `EdgeDistribution`s, each created
//!   followed by its share of the URLs (at most 75, the cache-behavior
//!   quota);
//! - `URLGUARD_BENCH_TIMEOUT` (90m): how long to wait for all Ready;
//! - `URLGUARD_BENCH_DEPLOY_TIME` (5m): how long CloudFront "deploys" a
//!   change (a real one takes minutes);
//! - `URLGUARD_BENCH_POLL_INTERVAL` (15s, the controller's default): its
//!   `--poll-interval`;
//! - `URLGUARD_BENCH_RATE_LIMITS` (`default`): `default` keeps the
//!   client-side rate limits (Lambda's control plane at 7.5 requests/s:
//!   creating 5,000 URLs then takes most of an hour, as it would in an
//!   account); `off` lifts them, to measure the controller's own time and
//!   memory; or a comma-separated list of `--aws-rate-limit` settings;
//! - `URLGUARD_BENCH_ENFORCE_QUOTAS` (`on`): the aws-emulator throttles
//!   calls over AWS's rate quotas (`off`: it only counts them);
//! - `URLGUARD_BENCH_STEADY` (5m): how long the steady-state phase lasts;
//! - `URLGUARD_BENCH_AFTER_RESTART` (2m): how long the restart phase lasts
//!   once every object was reconciled again;
//! - `URLGUARD_BENCH_RESYNC` (10m, the controller's default): its
//!   `--resync-interval`; a steady phase shorter than it may see no resync.
//!
//! A quick run: `URLGUARD_BENCH_URLS=200 URLGUARD_BENCH_DISTRIBUTIONS=4
//! URLGUARD_BENCH_DEPLOY_TIME=30s URLGUARD_BENCH_STEADY=60s
//! URLGUARD_BENCH_AFTER_RESTART=60s cargo bench --bench controller_scale`.

#[path = "controller_scale/quota_rates.rs"]
mod quota_rates;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_emulator::QuotaRates;
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};

use quota_rates::Phase;
use support::aws::{TestBed, TestBedOptions, create_functions_at_once};
use support::controller::{Controller, samples};
use support::kube::Cluster;

/// CloudFront's cache behaviors per distribution in our plan.
const BEHAVIORS_PER_DISTRIBUTION: usize = 75;
/// Where every object lives.
const NAMESPACE: &str = "urlguard-bench";
/// `CreateFunction` calls in flight during setup.
const FUNCTIONS_AT_ONCE: usize = 16;
/// Kubernetes creates in flight.
const CREATES_AT_ONCE: usize = 16;
/// Between two looks at the Ready counts.
const READY_POLL: Duration = Duration::from_secs(1);
/// Between two progress lines.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);
const MIB: f64 = 1024.0 * 1024.0;

/// What to run, from the environment.
struct Params {
    urls: usize,
    distributions: usize,
    timeout: Duration,
    poll_interval: String,
    deploy_time: Duration,
    rate_limits: Vec<String>,
    enforce_quotas: bool,
    steady: Duration,
    after_restart: Duration,
    resync_interval: String,
}

impl Params {
    fn from_env() -> Params {
        let number = |name: &str, default: usize| match std::env::var(name) {
            Ok(value) => value
                .parse()
                .unwrap_or_else(|e| panic!("{name}={value:?}: {e}")),
            Err(_) => default,
        };
        let text = |name: &str, default: &str| std::env::var(name).unwrap_or(default.to_owned());
        let timeout = text("URLGUARD_BENCH_TIMEOUT", "90m");
        let steady = text("URLGUARD_BENCH_STEADY", "5m");
        let after_restart = text("URLGUARD_BENCH_AFTER_RESTART", "2m");
        let deploy_time = text("URLGUARD_BENCH_DEPLOY_TIME", "5m");
        let enforce = text("URLGUARD_BENCH_ENFORCE_QUOTAS", "on");
        let params = Params {
            urls: number("URLGUARD_BENCH_URLS", 5000),
            distributions: number("URLGUARD_BENCH_DISTRIBUTIONS", 100),
            timeout: humantime::parse_duration(&timeout)
                .unwrap_or_else(|e| panic!("URLGUARD_BENCH_TIMEOUT={timeout:?}: {e}")),
            poll_interval: text("URLGUARD_BENCH_POLL_INTERVAL", "15s"),
            deploy_time: humantime::parse_duration(&deploy_time)
                .unwrap_or_else(|e| panic!("URLGUARD_BENCH_DEPLOY_TIME={deploy_time:?}: {e}")),
            rate_limits: match text("URLGUARD_BENCH_RATE_LIMITS", "default").as_str() {
                "off" => [
                    "cloudfront",
                    "iam",
                    "lambda",
                    "lambda:GetFunction",
                    "lambda:GetPolicy",
                    "ssm",
                    "sts",
                ]
                .iter()
                .map(|quota| format!("{quota}=0"))
                .collect(),
                "default" => Vec::new(),
                list => list.split(',').map(str::to_owned).collect(),
            },
            enforce_quotas: match enforce.as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                other => panic!("URLGUARD_BENCH_ENFORCE_QUOTAS={other:?}: on or off"),
            },
            steady: humantime::parse_duration(&steady)
                .unwrap_or_else(|e| panic!("URLGUARD_BENCH_STEADY={steady:?}: {e}")),
            after_restart: humantime::parse_duration(&after_restart)
                .unwrap_or_else(|e| panic!("URLGUARD_BENCH_AFTER_RESTART={after_restart:?}: {e}")),
            resync_interval: text("URLGUARD_BENCH_RESYNC", "10m"),
        };
        assert!(
            params.distributions > 0 && params.urls > 0,
            "URLGUARD_BENCH_URLS and URLGUARD_BENCH_DISTRIBUTIONS must be positive"
        );
        assert!(
            params.urls_per_distribution() <= BEHAVIORS_PER_DISTRIBUTION,
            "{} URLs over {} distributions exceed {BEHAVIORS_PER_DISTRIBUTION} cache behaviors per distribution",
            params.urls,
            params.distributions
        );
        params
    }

    fn objects(&self) -> usize {
        self.urls + self.distributions
    }

    /// URLs per distribution: consecutive URLs share one, as a team's
    /// manifests would.
    fn urls_per_distribution(&self) -> usize {
        self.urls.div_ceil(self.distributions)
    }
}

fn function_name(url: usize) -> String {
    format!("bench-fn-{url:05}")
}

fn distribution_name(distribution: usize) -> String {
    format!("d{distribution:03}")
}

fn distribution_manifest(distribution: usize) -> Value {
    let name = distribution_name(distribution);
    json!({
        "apiVersion": "urlguard.io/v1alpha1",
        "kind": "EdgeDistribution",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "protection": "EdgeSigner",
            "comment": format!("urlguard bench {name}"),
            "defaultOrigin": {"s3": {"bucketName": format!("bench-frontend-{name}")}},
        },
    })
}

fn url_manifest(url: usize, distribution: usize) -> Value {
    json!({
        "apiVersion": "urlguard.io/v1alpha1",
        "kind": "ProtectedFunctionUrl",
        "metadata": {"name": format!("u{url:05}"), "namespace": NAMESPACE},
        "spec": {
            "function": {"name": function_name(url), "region": "eu-west-1"},
            "distributionRef": {"name": distribution_name(distribution)},
            "pathPattern": format!("/api/u{url:05}/*"),
            "allowedMethods": ["GET", "HEAD", "OPTIONS"],
        },
    })
}

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("urlguard.io", "v1alpha1", kind),
        plural,
    )
}

/// The Kubernetes API of the bench's objects.
struct Objects {
    distributions: Api<DynamicObject>,
    urls: Api<DynamicObject>,
}

impl Objects {
    async fn connect(cluster: &Cluster) -> Objects {
        let kubeconfig =
            Kubeconfig::read_from(&cluster.kubeconfig).expect("reading the kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("a client config from the kubeconfig");
        let client = kube::Client::try_from(config).expect("a Kubernetes client");
        Objects {
            distributions: Api::namespaced_with(
                client.clone(),
                NAMESPACE,
                &resource("EdgeDistribution", "edgedistributions"),
            ),
            urls: Api::namespaced_with(
                client,
                NAMESPACE,
                &resource("ProtectedFunctionUrl", "protectedfunctionurls"),
            ),
        }
    }

    /// Creates each distribution followed by its URLs (as applying one
    /// team's manifests would), `CREATES_AT_ONCE` at a time.
    async fn create_all(&self, params: &Params) {
        let per = params.urls_per_distribution();
        let manifests = (0..params.distributions).flat_map(|d| {
            let urls = (d * per..((d + 1) * per).min(params.urls))
                .map(move |u| (&self.urls, url_manifest(u, d)));
            std::iter::once((&self.distributions, distribution_manifest(d))).chain(urls)
        });
        futures::stream::iter(manifests)
            .map(|(api, manifest)| async move {
                let object: DynamicObject =
                    serde_json::from_value(manifest).expect("a manifest is an object");
                api.create(&PostParams::default(), &object)
                    .await
                    .unwrap_or_else(|e| panic!("creating {:?}: {e}", object.metadata.name));
            })
            .buffer_unordered(CREATES_AT_ONCE)
            .collect::<Vec<()>>()
            .await;
    }

    /// Starts counting the distributions and URLs with `Ready=True`, from
    /// a watch of each kind (a list per poll would load the API server
    /// more than the controller does).
    fn track_ready(&self, runtime: &tokio::runtime::Runtime) -> ReadyCounts {
        let (distributions, urls) = (Arc::default(), Arc::default());
        let watches = vec![
            runtime.spawn(count_ready(
                self.distributions.clone(),
                Arc::clone(&distributions),
            )),
            runtime.spawn(count_ready(self.urls.clone(), Arc::clone(&urls))),
        ];
        ReadyCounts {
            distributions,
            urls,
            watches,
        }
    }
}

/// How many objects of each kind are Ready, as the watches last saw them;
/// the watches stop on drop.
struct ReadyCounts {
    distributions: Arc<AtomicUsize>,
    urls: Arc<AtomicUsize>,
    watches: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for ReadyCounts {
    fn drop(&mut self) {
        for watch in &self.watches {
            watch.abort();
        }
    }
}

impl ReadyCounts {
    fn get(&self) -> (usize, usize) {
        (
            self.distributions.load(Ordering::Relaxed),
            self.urls.load(Ordering::Relaxed),
        )
    }
}

fn is_ready(object: &DynamicObject) -> bool {
    object
        .data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Keeps `ready` at the number of objects of `api` with `Ready=True`.
async fn count_ready(api: Api<DynamicObject>, ready: Arc<AtomicUsize>) {
    let mut seen: HashMap<String, bool> = HashMap::new();
    let mut count = 0usize;
    let events = watcher(api, watcher::Config::default()).default_backoff();
    let mut events = std::pin::pin!(events);
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init) => {
                seen.clear();
                count = 0;
            }
            Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) => {
                let now = is_ready(&object);
                let before = seen.insert(object.name_any(), now).unwrap_or(false);
                count = count + usize::from(now) - usize::from(before);
            }
            Ok(watcher::Event::Delete(object)) => {
                if seen.remove(&object.name_any()) == Some(true) {
                    count -= 1;
                }
            }
            Ok(watcher::Event::InitDone) => {}
            Err(error) => println!("  watching for Ready objects: {error}"),
        }
        ready.store(count, Ordering::Relaxed);
    }
}

/// `/proc/<pid>/status` field `name` (such as `VmHWM`) in bytes.
fn proc_status_bytes(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// The name and the user + system CPU seconds in a `/proc/.../stat`.
fn stat_cpu(path: &str) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    Some((name, ticks as f64 / per_second as f64))
}

/// CPU seconds so far: the moto and controller processes, and this
/// process's threads grouped by what they run.
fn cpu_usage(moto: u32, controller: u32) -> BTreeMap<&'static str, f64> {
    let mut usage = BTreeMap::new();
    for (label, pid) in [("moto", moto), ("urlguard controller", controller)] {
        if let Some((_, seconds)) = stat_cpu(&format!("/proc/{pid}/stat")) {
            usage.insert(label, seconds);
        }
    }
    let threads = std::fs::read_dir("/proc/self/task").expect("listing /proc/self/task");
    for thread in threads.flatten() {
        let path = format!("{}/stat", thread.path().display());
        let Some((name, seconds)) = stat_cpu(&path) else {
            continue;
        };
        let label = match name.as_str() {
            "kube-emulator" => "kube emulator (in-process)",
            // The test bed's runtime keeps tokio's default thread name.
            "aws-emulator" | "tokio-rt-worker" => "aws-emulator (in-process)",
            // Creates, the Ready watches, /metrics.
            _ => "bench itself",
        };
        *usage.entry(label).or_default() += seconds;
    }
    usage
}

/// AWS calls, reconciles and reconcile durations from `/metrics`.
struct Counts {
    aws_calls: BTreeMap<String, f64>,
    aws_errors: BTreeMap<String, f64>,
    reconciles: BTreeMap<String, f64>,
    reconcile_seconds: BTreeMap<String, (f64, f64)>,
}

/// The value of `name="value"` in a label set.
fn label<'a>(labels: &'a str, name: &str) -> &'a str {
    labels
        .split(',')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix("=\""))
        .and_then(|value| value.strip_suffix('"'))
        .unwrap_or("?")
}

impl Counts {
    fn parse(metrics: &str) -> Counts {
        let mut counts = Counts {
            aws_calls: BTreeMap::new(),
            aws_errors: BTreeMap::new(),
            reconciles: BTreeMap::new(),
            reconcile_seconds: BTreeMap::new(),
        };
        for (labels, value) in samples(metrics, "urlguard_aws_calls_total") {
            let call = format!(
                "{}:{}",
                label(&labels, "service"),
                label(&labels, "operation")
            );
            *counts.aws_calls.entry(call.clone()).or_default() += value;
            let outcome = label(&labels, "outcome");
            if outcome != "ok" {
                *counts
                    .aws_errors
                    .entry(format!("{call} {outcome}"))
                    .or_default() += value;
            }
        }
        for (labels, value) in samples(metrics, "urlguard_reconciles_total") {
            let key = format!("{} {}", label(&labels, "kind"), label(&labels, "outcome"));
            *counts.reconciles.entry(key).or_default() += value;
        }
        for (suffix, sum) in [("_sum", true), ("_count", false)] {
            let metric = format!("urlguard_reconcile_duration_seconds{suffix}");
            for (labels, value) in samples(metrics, &metric) {
                let entry = counts
                    .reconcile_seconds
                    .entry(label(&labels, "kind").to_owned())
                    .or_default();
                if sum {
                    entry.0 += value;
                } else {
                    entry.1 += value;
                }
            }
        }
        counts
    }

    /// Reconciles of `kind`, every outcome.
    fn reconciled(&self, kind: &str) -> f64 {
        self.reconciles
            .iter()
            .filter(|(key, _)| key.split(' ').next() == Some(kind))
            .fold(0.0, |total, (_, count)| total + count)
    }

    fn aws_total(&self) -> f64 {
        // A fold from +0.0: an empty f64 sum is -0.0.
        self.aws_calls
            .values()
            .fold(0.0, |total, calls| total + calls)
    }
}

/// When the numbers of Ready objects first reached a milestone.
#[derive(Default)]
struct Milestones {
    first_url: Option<Duration>,
    half_urls: Option<Duration>,
    all_distributions: Option<Duration>,
    all: Option<Duration>,
}

fn seconds(duration: Option<Duration>) -> String {
    duration.map_or("never".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
}

fn main() -> ExitCode {
    let params = Params::from_env();
    println!(
        "urlguard controller scale bench: {} ProtectedFunctionUrls over {} EdgeDistributions",
        params.urls, params.distributions
    );
    if run(&params) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the bench and prints the report; whether everything became Ready.
/// Every process and server it starts stops when it returns.
fn run(params: &Params) -> bool {
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .expect("the bench's tokio runtime");
    let kube_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kube-emulator")
        .enable_all()
        .build()
        .expect("the kube emulator's tokio runtime");

    // 1. AWS: moto + aws-emulator, one function per URL.
    let setup = Instant::now();
    let bed = TestBed::start_with(TestBedOptions {
        deploy_time: params.deploy_time,
        ..TestBedOptions::default()
    });
    let bed_started = setup.elapsed();
    let functions: Vec<String> = (0..params.urls).map(function_name).collect();
    let names: Vec<&str> = functions.iter().map(String::as_str).collect();
    client_runtime.block_on(async {
        let config = bed.sdk_config().await;
        create_functions_at_once(&config, "eu-west-1", &names, FUNCTIONS_AT_ONCE).await;
    });
    let aws_setup = setup.elapsed();
    println!(
        "setup: AWS test bed started in {:.1} s; {} Lambda functions created in {:.1} s ({:.0}/s, {FUNCTIONS_AT_ONCE} at a time); total {:.1} s",
        bed_started.as_secs_f64(),
        params.urls,
        (aws_setup - bed_started).as_secs_f64(),
        params.urls as f64 / (aws_setup - bed_started).as_secs_f64(),
        aws_setup.as_secs_f64()
    );
    bed.reset_counts();
    // The emulator's calls per second count from here.
    let series_start = Instant::now();
    if params.enforce_quotas {
        bed.set_rate_quotas(Some(&QuotaRates::aws()));
        println!(
            "setup: the aws-emulator enforces AWS's rate quotas ({})",
            QuotaRates::aws()
        );
    } else {
        println!("setup: the aws-emulator counts but does not enforce AWS's rate quotas");
    }

    // 2. Kubernetes: the emulator with the CRDs and the namespace.
    let cluster_started = Instant::now();
    let cluster = kube_runtime.block_on(Cluster::start("controller-scale"));
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    cluster.ok("kubectl", &["create", "namespace", NAMESPACE]);
    let objects = client_runtime.block_on(Objects::connect(&cluster));
    println!(
        "setup: kube emulator with CRDs and namespace in {:.1} s",
        cluster_started.elapsed().as_secs_f64()
    );

    // 3. The controller, leading before the first object exists.
    // The lease a deployment has (the chart's defaults), not the tests'
    // 3 s: a controller listing thousands of objects on a busy machine
    // must not lose a lease no real one would.
    let mut flags = vec![
        "--lease-duration",
        "15s",
        "--lease-grace",
        "5s",
        "--poll-interval",
        params.poll_interval.as_str(),
        "--error-retry-interval",
        "5s",
        "--resync-interval",
        params.resync_interval.as_str(),
    ];
    for setting in &params.rate_limits {
        flags.extend(["--aws-rate-limit", setting.as_str()]);
    }
    println!(
        "controller: {} controller --metrics-address <port> {} (and the tests' short retry intervals; leader election on, a 15 s lease)",
        env!("CARGO_BIN_EXE_urlguard"),
        flags.join(" ")
    );
    let mut controller = Controller::start_with(&bed, &cluster, "urlguard-bench", &flags, "info");
    let leading = Instant::now();
    while !controller.is_leader() {
        assert!(
            leading.elapsed() < Duration::from_secs(60),
            "the controller did not take the lease:\n{}",
            controller.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let idle_rss = proc_status_bytes(controller.pid(), "VmRSS").unwrap_or_default();
    let moto_pid = bed.moto.pid();
    let cpu_before = cpu_usage(moto_pid, controller.pid());

    // 4. Every object, then wait until all are Ready.
    let counts = objects.track_ready(&client_runtime);
    let started = Instant::now();
    client_runtime.block_on(objects.create_all(params));
    let created = started.elapsed();
    println!(
        "created {} objects in {:.1} s ({:.0}/s, {CREATES_AT_ONCE} at a time)",
        params.objects(),
        created.as_secs_f64(),
        params.objects() as f64 / created.as_secs_f64()
    );

    let mut milestones = Milestones::default();
    let mut last_progress = Instant::now();
    let outcome = loop {
        let (distributions, urls) = counts.get();
        let elapsed = started.elapsed();
        if urls > 0 {
            milestones.first_url.get_or_insert(elapsed);
        }
        if urls * 2 >= params.urls {
            milestones.half_urls.get_or_insert(elapsed);
        }
        if distributions == params.distributions {
            milestones.all_distributions.get_or_insert(elapsed);
        }
        if distributions == params.distributions && urls == params.urls {
            milestones.all = Some(elapsed);
            break Ok(());
        }
        if controller.has_exited() {
            break Err("the controller exited");
        }
        if elapsed > params.timeout {
            break Err("timed out");
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            let calls = Counts::parse(&controller.metrics()).aws_total();
            let rss = proc_status_bytes(controller.pid(), "VmRSS").unwrap_or_default();
            let cpu = cpu_usage(moto_pid, controller.pid());
            let cpu: Vec<String> = cpu
                .iter()
                .map(|(label, seconds)| {
                    let before = cpu_before.get(label).copied().unwrap_or_default();
                    format!("{label} {:.0} s", seconds - before)
                })
                .collect();
            println!(
                "  {:>6.0} s: Ready {distributions}/{} distributions, {urls}/{} URLs; {calls:.0} AWS calls; controller RSS {:.1} MiB; CPU {}",
                elapsed.as_secs_f64(),
                params.distributions,
                params.urls,
                rss as f64 / MIB,
                cpu.join(", ")
            );
        }
        std::thread::sleep(READY_POLL);
    };
    let ready = counts.get();
    let converged = started.elapsed();
    let cpu_after = cpu_usage(moto_pid, controller.pid());
    let metrics = if controller.has_exited() {
        None
    } else {
        Some(controller.metrics())
    };
    let peak_rss = proc_status_bytes(controller.pid(), "VmHWM");
    let final_rss = ["VmRSS", "RssAnon", "RssFile"]
        .map(|field| proc_status_bytes(controller.pid(), field).unwrap_or_default() as f64 / MIB);
    let moto_peak_rss = proc_status_bytes(moto_pid, "VmHWM");
    let wire = bed.calls();
    let log_path = controller.log_path().to_owned();
    let all_ready_at = Instant::now();

    // 5. The report.
    println!();
    println!(
        "== report: {} URLs, {} distributions ==",
        params.urls, params.distributions
    );
    println!(
        "setup (test bed + {} functions): {:.1} s",
        params.urls,
        aws_setup.as_secs_f64()
    );
    println!(
        "object creation ({} objects): {:.1} s",
        params.objects(),
        created.as_secs_f64()
    );
    match outcome {
        Ok(()) => println!(
            "time from the first object created to all Ready: {:.1} s",
            converged.as_secs_f64()
        ),
        Err(why) => println!(
            "NOT all Ready ({why}) after {:.1} s: {}/{} distributions, {}/{} URLs Ready",
            converged.as_secs_f64(),
            ready.0,
            params.distributions,
            ready.1,
            params.urls
        ),
    }
    println!(
        "  first URL Ready {}, half the URLs {}, all distributions {}, all {}",
        seconds(milestones.first_url),
        seconds(milestones.half_urls),
        seconds(milestones.all_distributions),
        seconds(milestones.all)
    );
    if let Some(all) = milestones.all {
        println!(
            "  throughput: {:.1} objects/s",
            params.objects() as f64 / all.as_secs_f64()
        );
    }
    match peak_rss {
        Some(bytes) => {
            let mib = bytes as f64 / MIB;
            let verdict = if mib <= 50.0 { "met" } else { "NOT met" };
            println!(
                "controller peak RSS (VmHWM): {mib:.1} MiB (goal <= 50 MiB: {verdict}); {:.1} MiB when it took the lease, before any object",
                idle_rss as f64 / MIB
            );
        }
        None => println!("controller peak RSS: unknown (the process was gone)"),
    }
    let [rss, anonymous, file] = final_rss;
    println!(
        "controller RSS at the end: {rss:.1} MiB = {anonymous:.1} MiB anonymous (heap) + {file:.1} MiB file-backed (mostly the binary's code)"
    );
    if let Some(metrics) = &metrics {
        let counts = Counts::parse(metrics);
        let total = counts.aws_total();
        println!(
            "AWS calls: {total:.0} in total, {:.2} per object ({} objects); the aws-emulator saw {}",
            total / params.objects() as f64,
            params.objects(),
            wire.calls.values().sum::<u64>()
        );
        let mut top: Vec<(&String, &f64)> = counts.aws_calls.iter().collect();
        top.sort_by(|a, b| b.1.total_cmp(a.1));
        for (call, calls) in top.iter().take(12) {
            println!(
                "  {call:<48} {calls:>9.0}  ({:.2} per object)",
                *calls / params.objects() as f64
            );
        }
        if top.len() > 12 {
            println!("  ... {} more operations", top.len() - 12);
        }
        for (call, calls) in &counts.aws_errors {
            println!("  error: {call} x{calls:.0}");
        }
        println!("reconciles:");
        for (key, count) in &counts.reconciles {
            println!("  {key:<40} {count:>8.0}");
        }
        for (kind, (sum, count)) in &counts.reconcile_seconds {
            println!(
                "  {kind}: {sum:.1} s in reconciles, {:.3} s each on average",
                sum / count.max(1.0)
            );
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "CPU seconds from the first object created (wall {:.1} s; {cores} cores: {:.1} CPU s available):",
        converged.as_secs_f64(),
        converged.as_secs_f64() * cores as f64
    );
    for (label, after) in &cpu_after {
        let before = cpu_before.get(label).copied().unwrap_or_default();
        println!("  {label:<40} {:>8.1} s", after - before);
    }
    if let Some(bytes) = moto_peak_rss {
        println!("moto peak RSS: {:.1} MiB", bytes as f64 / MIB);
    }
    println!("controller log: {}", log_path.display());

    // 6. AWS request rates during creation, against the quotas.
    let creation = Phase::between(series_start, started, all_ready_at);
    let throttled = quota_rates::print_phase(&bed.rates(), creation, "creation");
    println!("throttles seen by the product during creation: {throttled}");
    if outcome.is_err() {
        return false;
    }

    // 7. Steady state, then 8. a restart.
    if !steady_state(params, &bed, &mut controller, series_start) {
        return false;
    }
    let restarted = restart(params, &bed, &cluster, controller, &flags, series_start);
    println!(
        "throttles seen by the product over the whole run: {}",
        bed.calls().throttled_total()
    );
    restarted
}

/// Waits `params.steady` with every object Ready and reports the rates per
/// quota class against issue 18's targets; whether the controller lived.
fn steady_state(
    params: &Params,
    bed: &TestBed,
    controller: &mut Controller,
    series_start: Instant,
) -> bool {
    println!();
    println!(
        "== steady state: {} with every object Ready (resync interval {}) ==",
        humantime::format_duration(params.steady),
        params.resync_interval
    );
    if humantime::parse_duration(&params.resync_interval).is_ok_and(|r| r > params.steady) {
        println!(
            "  note: the phase is shorter than the resync interval: resync reads may fall outside it"
        );
    }
    let from = Instant::now();
    while from.elapsed() < params.steady {
        if controller.has_exited() {
            println!("NOT measured: the controller exited");
            return false;
        }
        std::thread::sleep(READY_POLL);
    }
    let phase = Phase::between(series_start, from, Instant::now());
    let rates = bed.rates();
    let throttled = quota_rates::print_phase(&rates, phase, "steady state");
    let met = quota_rates::print_targets(&rates, phase, "steady state");
    println!(
        "steady state: targets {}; throttles seen by the product: {throttled}",
        if met { "met" } else { "NOT met" }
    );
    true
}

/// Whether a `service:Operation` of the controller's metrics changes AWS.
fn is_write(call: &str) -> bool {
    let (service, operation) = call.split_once(':').unwrap_or(("", call));
    service != "sts"
        && !["Get", "List", "Describe", "Head"]
            .iter()
            .any(|read| operation.starts_with(read))
}

/// Kills `controller`, starts another, and waits until it has reconciled
/// every object again (a reconcile of each kind per object, from its
/// `urlguard_reconciles_total`); reports its time, AWS writes (must be 0),
/// calls and peak RSS. Whether it got there.
fn restart(
    params: &Params,
    bed: &TestBed,
    cluster: &Cluster,
    controller: Controller,
    flags: &[&str],
    series_start: Instant,
) -> bool {
    println!();
    println!("== restart: the controller killed, a new one started ==");
    drop(controller);
    let killed = Instant::now();
    let mut controller =
        Controller::start_with(bed, cluster, "urlguard-bench-restarted", flags, "info");
    let mut last_progress = Instant::now();
    let outcome = loop {
        let counts = Counts::parse(&controller.metrics());
        let (distributions, urls) = (
            counts.reconciled("EdgeDistribution"),
            counts.reconciled("ProtectedFunctionUrl"),
        );
        if distributions >= params.distributions as f64 && urls >= params.urls as f64 {
            break Ok(());
        }
        if controller.has_exited() {
            break Err("the controller exited");
        }
        if killed.elapsed() > params.timeout {
            break Err("timed out");
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            println!(
                "  {:>6.0} s: reconciled {distributions:.0} distributions, {urls:.0} URLs",
                killed.elapsed().as_secs_f64()
            );
        }
        std::thread::sleep(READY_POLL);
    };
    let took = killed.elapsed();
    match outcome {
        Ok(()) => println!(
            "restart: every object reconciled again {:.1} s after the kill (leader election included)",
            took.as_secs_f64()
        ),
        Err(why) => println!(
            "restart: NOT every object reconciled ({why}) after {:.1} s",
            took.as_secs_f64()
        ),
    }
    // Distributions confirmed within the resync interval wait for their
    // resync slot: the rates after a restart are steady state's.
    println!(
        "  then {} more, to see the rates after the restart",
        humantime::format_duration(params.after_restart)
    );
    let from = Instant::now();
    while outcome.is_ok() && from.elapsed() < params.after_restart && !controller.has_exited() {
        std::thread::sleep(READY_POLL);
    }
    let counts = Counts::parse(&controller.metrics());
    let peak_rss = proc_status_bytes(controller.pid(), "VmHWM");
    let phase = Phase::between(series_start, killed, Instant::now());
    let writes: Vec<(&String, &f64)> = counts
        .aws_calls
        .iter()
        .filter(|(call, count)| is_write(call) && **count > 0.0)
        .collect();
    // A fold from +0.0: an empty f64 sum is -0.0.
    let total_writes = writes.iter().fold(0.0, |total, (_, count)| total + **count);
    println!(
        "restart: AWS writes {total_writes:.0} (goal 0: {}); AWS calls {:.0}",
        if total_writes == 0.0 {
            "met"
        } else {
            "NOT met"
        },
        counts.aws_total()
    );
    for (call, count) in writes {
        println!("  write: {call} x{count:.0}");
    }
    match peak_rss {
        Some(bytes) => {
            let mib = bytes as f64 / MIB;
            println!(
                "restart: peak RSS (VmHWM) {mib:.1} MiB (goal <= 50 MiB: {})",
                if mib <= 50.0 { "met" } else { "NOT met" }
            );
        }
        None => println!("restart: peak RSS unknown (the process was gone)"),
    }
    let rates = bed.rates();
    quota_rates::print_phase(&rates, phase, "restart");
    let met = quota_rates::print_targets(&rates, phase, "restart");
    println!(
        "restart: steady-state targets {} from the kill on",
        if met { "met" } else { "NOT met" }
    );
    outcome.is_ok()
}
