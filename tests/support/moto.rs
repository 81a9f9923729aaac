//! The moto server (PyPI `moto[server]`, pinned in the Makefile and installed
//! into `.venv` by `make setup`) on a free loopback port.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::process::{OwnedChild, free_port, wait_until_listening};

/// The account moto answers for.
pub const ACCOUNT_ID: &str = "123456789012";

/// A moto server that lives as long as this value.
pub struct Moto {
    process: OwnedChild,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Moto {
    /// Starts moto on a free port and waits until it answers.
    pub fn start() -> Moto {
        let server = super::repo_root().join(".venv/bin/moto_server");
        assert!(
            server.exists(),
            "{} is missing: run `make setup` (it installs the pinned moto into .venv)",
            server.display()
        );
        let log_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        for _ in 0..5 {
            let port = free_port();
            let mut command = Command::new(&server);
            command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            let log = log_dir.join(format!("moto-{port}.log"));
            let mut process = OwnedChild::spawn("moto_server", command, &log);
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            if wait_until_listening(&mut process, addr, Duration::from_secs(60)) {
                return Moto {
                    process,
                    endpoint: format!("http://{addr}"),
                };
            }
        }
        panic!(
            "moto_server did not start in five attempts; see {}/moto-*.log",
            log_dir.display()
        );
    }

    /// An SDK config that reaches this server only: explicit endpoint,
    /// dummy static credentials, `us-east-1`.
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint).await
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}

/// An SDK config for a local endpoint, with dummy credentials, so that no
/// test can reach real AWS even if the machine has credentials.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "AKIDTESTING",
            "testing-secret",
            None,
            None,
            "urlguard-tests",
        ))
        .load()
        .await
}
