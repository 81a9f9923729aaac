//! The `aws-emulator` binary: prints its address first, serves CloudFront
//! itself and the control endpoints over plain HTTP (what `curl` would do),
//! applies `--fault` rules from the first call, answers 502 when moto is not
//! there, and exits cleanly on SIGTERM. No moto is needed here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_emulator::ControlClient;

/// The child, killed if the test fails before it stops it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn signed(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDTESTING/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
    )
}

/// One raw HTTP/1.1 exchange: status and body.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

#[test]
fn the_binary_prints_its_address_serves_applies_fault_flags_and_stops_on_sigterm() {
    let child = Command::new(env!("CARGO_BIN_EXE_aws-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--moto",
            "http://127.0.0.1:9",
            "--deploy-seconds",
            "0",
            "--fault",
            "cloudfront:ListDistributions:throttle:count=1",
            "--quiet",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting aws-emulator");
    let mut running = Running(child);
    let mut first_line = String::new();
    BufReader::new(running.0.stdout.take().expect("stdout"))
        .read_line(&mut first_line)
        .expect("the first line");
    let addr: SocketAddr = first_line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"));

    let cloudfront = signed("cloudfront");
    let list = [("Authorization", cloudfront.as_str())];
    let (status, body) = exchange(addr, "GET", "/2020-05-31/distribution", &list, "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>Throttling</Code>"), "{body}");
    let (status, body) = exchange(addr, "GET", "/2020-05-31/distribution", &list, "");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<DistributionList") && body.contains("<Quantity>0</Quantity>"),
        "{body}"
    );

    let sts = signed("sts");
    let (status, _) = exchange(
        addr,
        "POST",
        "/",
        &[
            ("Authorization", &sts),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(status, 502, "moto is not there");

    let (status, _) = exchange(
        addr,
        "PUT",
        "/__emulator/faults",
        &[("Content-Type", "application/json")],
        r#"[{"service":"cloudfront","operation":"*","kind":"http503","count":1}]"#,
    );
    assert_eq!(status, 200);
    let (status, body) = exchange(addr, "GET", "/2020-05-31/origin-access-control", &list, "");
    assert_eq!(status, 503, "{body}");

    let calls = ControlClient::new(addr)
        .calls()
        .expect("GET /__emulator/calls");
    assert_eq!(calls.count("cloudfront:ListDistributions"), 2);
    assert_eq!(calls.faults_of("cloudfront:ListDistributions"), 1);
    assert_eq!(calls.count("sts:GetCallerIdentity"), 1);
    assert_eq!(calls.faults_of("cloudfront:ListOriginAccessControls"), 1);

    let pid = running.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = running.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "aws-emulator ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}

#[test]
fn the_binary_refuses_a_bad_fault_rule() {
    let output = Command::new(env!("CARGO_BIN_EXE_aws-emulator"))
        .args([
            "--moto",
            "http://127.0.0.1:9",
            "--fault",
            "lambda:CreateFunction:explode:count=1",
        ])
        .output()
        .expect("running aws-emulator");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown fault kind"));
}

fn signed_as(key: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={key}/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
    )
}

#[test]
fn iam_policy_flags_restrict_their_key_and_the_control_endpoints_change_identities() {
    let dir = std::env::temp_dir().join(format!("aws-emulator-iam-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let policy_file = dir.join("list-only.json");
    std::fs::write(
        &policy_file,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudfront:ListDistributions","Resource":"*"}]}"#,
    )
    .expect("policy file");
    let child = Command::new(env!("CARGO_BIN_EXE_aws-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--moto",
            "http://127.0.0.1:9",
            "--quiet",
        ])
        .arg("--iam-policy")
        .arg(format!("AKIDLISTONLY={}", policy_file.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting aws-emulator");
    let mut running = Running(child);
    let mut first_line = String::new();
    BufReader::new(running.0.stdout.take().expect("stdout"))
        .read_line(&mut first_line)
        .expect("the first line");
    let addr: SocketAddr = first_line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"));

    let restricted = signed_as("AKIDLISTONLY", "cloudfront");
    let as_restricted = [("Authorization", restricted.as_str())];
    let (status, body) = exchange(addr, "GET", "/2020-05-31/distribution", &as_restricted, "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = exchange(
        addr,
        "GET",
        "/2020-05-31/origin-access-control",
        &as_restricted,
        "",
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(
        body.contains("User: arn:aws:iam::123456789012:user/AKIDLISTONLY is not authorized to perform: cloudfront:ListOriginAccessControls on resource: * because no identity-based policy allows the cloudfront:ListOriginAccessControls action"),
        "{body}"
    );
    let unrestricted = signed("cloudfront");
    let (status, _) = exchange(
        addr,
        "GET",
        "/2020-05-31/origin-access-control",
        &[("Authorization", unrestricted.as_str())],
        "",
    );
    assert_eq!(status, 200, "a key without a policy is unrestricted");

    let control = ControlClient::new(addr);
    let log = control
        .authorizations()
        .expect("GET /__emulator/authorizations");
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(log[1].action, "cloudfront:ListOriginAccessControls");
    assert_eq!(log[1].decision, aws_emulator::Decision::ImplicitDeny);
    let calls = control.calls().expect("calls");
    assert_eq!(calls.count("cloudfront:ListOriginAccessControls"), 2);

    control
        .remove_identity("AKIDLISTONLY")
        .expect("DELETE identity");
    let (status, _) = exchange(
        addr,
        "GET",
        "/2020-05-31/origin-access-control",
        &as_restricted,
        "",
    );
    assert_eq!(status, 200, "unrestricted again");
    control
        .set_identity(
            "AKIDLISTONLY",
            &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "cloudfront:*", "Resource": "*"}, {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        )
        .expect("PUT identity");
    let (status, body) = exchange(addr, "GET", "/2020-05-31/distribution", &as_restricted, "");
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("with an explicit deny in an identity-based policy"),
        "{body}"
    );
    control.reset_counts().expect("reset");
    assert!(control.authorizations().expect("log").is_empty());

    let (status, body) = exchange(
        addr,
        "PUT",
        "/__emulator/identities/AKIDBAD",
        &[("Content-Type", "application/json")],
        r#"{"Statement": "not a statement"}"#,
    );
    assert_eq!(status, 400, "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}
