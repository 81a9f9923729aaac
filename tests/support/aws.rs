//! The AWS test bed: moto plus `aws-emulator` in front of it, both on free
//! loopback ports, for any test that needs AWS. The emulator runs in this
//! test process on a tokio runtime of its own (a dedicated thread), so it
//! outlives whatever runtime the test uses and needs no child process;
//! dropping the `TestBed` stops the emulator, then moto.
//!
//! Point the SDK at `TestBed::endpoint` (`sdk_config()` does). Fault rules
//! and wire counts go through the emulator's control endpoints
//! (`/__emulator/...`), the same ones a shell could `curl`.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_emulator::{
    CallRecord, CallReport, ControlClient, Emulator, EmulatorConfig, FaultRule, RuleReport,
};

use super::moto::{Moto, sdk_config_for};

/// How to start a test bed.
#[derive(Debug, Clone)]
pub struct TestBedOptions {
    /// How long a distribution stays `InProgress` after a change.
    pub deploy_time: Duration,
    /// How long a Lambda@Edge version stays undeletable after its last
    /// association left.
    pub replica_linger: Duration,
    /// Fault rules in force from the first call.
    pub faults: Vec<FaultRule>,
}

impl Default for TestBedOptions {
    fn default() -> Self {
        TestBedOptions {
            deploy_time: Duration::from_secs(1),
            replica_linger: Duration::from_secs(2),
            faults: Vec::new(),
        }
    }
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
        config.replica_linger = options.replica_linger;
        config.faults = options.faults;

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

    /// An SDK config that reaches this bed only (dummy credentials,
    /// `us-east-1`, the SDK's standard retries).
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint).await
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

    /// Zeroes the counts and the log.
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

/// A minimal zip archive (one file, stored, not compressed) — enough for
/// moto's `CreateFunction`, which does not run the code.
pub fn tiny_zip(file_name: &str, contents: &[u8]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let name = file_name.as_bytes();
    let crc = crc32(contents);
    let size = u32::try_from(contents.len()).expect("a small file");
    let name_len = u16::try_from(name.len()).expect("a short name");
    let mut zip = Vec::new();
    // Local file header.
    zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]); // version, flags, method, time, date
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&name_len.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(name);
    zip.extend_from_slice(contents);
    let central_start = u32::try_from(zip.len()).expect("small");
    // Central directory header.
    zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&name_len.to_le_bytes());
    zip.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // extra, comment, disk, internal attrs
    zip.extend_from_slice(&(0o100644u32 << 16).to_le_bytes()); // external attrs
    zip.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    zip.extend_from_slice(name);
    let central_size = u32::try_from(zip.len()).expect("small") - central_start;
    // End of central directory.
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    zip.extend_from_slice(&central_size.to_le_bytes());
    zip.extend_from_slice(&central_start.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}
