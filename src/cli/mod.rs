//! The command-line driver: `urlguard <command>`. Each subcommand lives in
//! its own file; this one parses arguments and maps outcomes to exit codes.

mod apply;
mod aws_args;
mod controller;
mod crds;
mod destroy;
mod iam_policy;
mod invalidate;
mod output;
mod signer;
mod verify;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::reconcile::Mode;

/// Publish AWS Lambda function URLs safely behind CloudFront.
#[derive(Debug, Parser)]
#[command(name = "urlguard", version, about)]
pub struct Cli {
    /// The urlguard instance: every AWS name and owner tag derives from it,
    /// so two instances never touch each other's resources. A DNS-1123
    /// label of at most 24 characters, starting with a letter (as the
    /// chart's `instanceName`): it never holds the `_` that ends it in names.
    #[arg(
        long,
        global = true,
        env = "URLGUARD_INSTANCE",
        default_value = "urlguard",
        value_parser = parse_instance
    )]
    instance: String,
    /// Where each namespace's SSM parameters must be: a template that
    /// starts and ends with `/`, `{namespace}` standing for the object's
    /// namespace (`/` allows every name). A parameter outside it is refused
    /// with the field named, and nothing is written.
    #[arg(
        long,
        global = true,
        env = "URLGUARD_SSM_PREFIX",
        default_value = crate::plan::ssm_prefix::DEFAULT_TEMPLATE,
        value_parser = crate::plan::ssm_prefix::SsmPrefix::new
    )]
    ssm_prefix: crate::plan::ssm_prefix::SsmPrefix,
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// `--instance`, checked by [`crate::model::names::check_instance`].
fn parse_instance(text: &str) -> Result<String, crate::model::names::InstanceNameError> {
    crate::model::names::check_instance(text).map(|()| text.to_owned())
}

/// How logs and progress are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions of both kinds as YAML.
    Crds,
    /// Show what `apply` would change, field by field, without writing.
    Plan(apply::ApplyArgs),
    /// Make AWS match the resources in the files, and wait for CloudFront.
    Apply(apply::ApplyArgs),
    /// Delete what urlguard made for the resources in the files. Exit codes:
    /// 0 all gone, 1 failed, 3 waiting for AWS (Lambda@Edge replicas, a
    /// deploying distribution): run again later, or pass --wait.
    Destroy(destroy::DestroyArgs),
    /// Invalidate paths of an applied EdgeDistribution in CloudFront's
    /// caches, print the invalidation's id, and wait until it completes
    /// (unless --no-wait). The same --revision never invalidates twice.
    Invalidate(invalidate::InvalidateArgs),
    /// Prove with real requests that each ProtectedFunctionUrl answers
    /// through its distribution and refuses everything else: the function
    /// URL called directly, each allowed method through CloudFront, one
    /// method outside the allowed set. Exit 0 only when every check passes.
    Verify(verify::VerifyArgs),
    /// Run the Kubernetes controller: reconcile EdgeDistributions and
    /// ProtectedFunctionUrls until SIGTERM.
    Controller(Box<controller::ControllerArgs>),
    /// Print the controller's least-privilege IAM policy (JSON).
    IamPolicy(iam_policy::IamPolicyArgs),
    /// Print the CodeSha256 of the embedded Lambda@Edge signer package.
    Signer {
        /// Also write the package's zip to this file.
        #[arg(long, value_name = "FILE")]
        zip: Option<std::path::PathBuf>,
    },
}

/// Parses the process arguments, runs the command, and returns its exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let outcome: Result<bool, Box<dyn std::error::Error>> = match &cli.command {
        Command::Crds => crds::print().map(|()| true).map_err(Into::into),
        Command::IamPolicy(args) => iam_policy::print(&cli.instance, args).map_err(Into::into),
        Command::Signer { zip } => signer::print(zip.clone())
            .map(|()| true)
            .map_err(Into::into),
        Command::Plan(args) => {
            block_on(apply::run(&cli.instance, &cli.ssm_prefix, Mode::Plan, args))
        }
        Command::Apply(args) => block_on(apply::run(
            &cli.instance,
            &cli.ssm_prefix,
            Mode::Apply,
            args,
        )),
        Command::Invalidate(args) => {
            block_on(invalidate::run(&cli.instance, &cli.ssm_prefix, args))
        }
        Command::Verify(args) => block_on(verify::run(&cli.instance, &cli.ssm_prefix, args)),
        Command::Controller(args) => {
            tune_malloc();
            block_on(controller::run(&cli.instance, &cli.ssm_prefix, args)).map(|()| true)
        }
        Command::Destroy(args) => return destroy_exit(block_on(destroy::run(&cli.instance, args))),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("urlguard: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `destroy`'s exit code: 0 done, 1 failed, 3 waiting for AWS.
fn destroy_exit(outcome: Result<destroy::DestroyOutcome, Box<dyn std::error::Error>>) -> ExitCode {
    match outcome {
        Ok(destroy::DestroyOutcome::Done) => ExitCode::SUCCESS,
        Ok(destroy::DestroyOutcome::Waiting) => ExitCode::from(destroy::EXIT_WAITING),
        Ok(destroy::DestroyOutcome::Failed) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("urlguard: {error}");
            ExitCode::FAILURE
        }
    }
}

/// glibc's defaults suit short programs, not a controller that runs for
/// months through bursts of reconciles (measured with `cargo bench --bench
/// controller_scale`: peak RSS 95 MiB with the defaults, 46 MiB with these):
///
/// - each thread that contends for the heap gets an arena of its own (up to
///   eight per core), whose free memory is rarely returned: two arenas are
///   plenty for a runtime of a few threads;
/// - the mmap threshold grows with every large block freed, so that large
///   response buffers soon come from the heap and leave it fragmented:
///   a fixed threshold keeps them in mappings of their own, returned to the
///   system when freed;
/// - the heap's top is returned to the system once it has this much free.
///
/// (musl, as in the image, has no arenas and no such thresholds.)
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // the runtime starts any thread.
    unsafe {
        const THRESHOLD: libc::c_int = 128 * 1024;
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD);
    }
}

fn block_on<T, E: Into<Box<dyn std::error::Error>>>(
    future: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Box<dyn std::error::Error>> {
    // Worker threads get 8 MiB of stack, as the main thread has: polling a
    // distribution's reconcile goes deep through nested futures, and in a
    // debug build it overflowed tokio's default of 2 MiB (the controller
    // tests died with "stack overflow"). Only what is touched is resident.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 * 1024 * 1024)
        .build()?;
    runtime.block_on(future).map_err(Into::into)
}

/// Progress and logs go to standard error; `RUST_LOG` refines the level
/// (default: urlguard at info, dependencies at warn). Text is coloured
/// only on a terminal, and never with `NO_COLOR` set (no-color.org): piped
/// to a file, escape codes are noise. JSON lines carry the spans a line was
/// written in (the resource a pass works on), as `span` and `spans`.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,urlguard=info"));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    match format {
        LogFormat::Text => builder.without_time().compact().init(),
        LogFormat::Json => builder.json().init(),
    }
}
