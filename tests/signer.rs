//! The edge signer against an independent SigV4 implementation (the AWS SDK
//! for Rust's `aws-sigv4`), and its deterministic package run by Node.js.

mod support;

use std::process::Command;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::Value;

/// Runs `node src/edge/test/sign-cases.mjs`: one JSON line per origin-request
/// case of `src/edge/test/cases.json`, as signed by `signer.mjs`.
fn signed_by_the_module() -> Vec<Value> {
    let output = Command::new("node")
        .arg("src/edge/test/sign-cases.mjs")
        .current_dir(support::repo_root())
        .output()
        .expect("node runs (Node.js is a prerequisite)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn text<'a>(case: &'a Value, pointer: &str) -> &'a str {
    case.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} missing in {case}"))
}

/// Signs the request the module forwarded (method, signed path, forwarded
/// query, host, payload hash) with `aws-sigv4`, as the AWS SDK would sign a
/// call to a function URL, and returns the `authorization` header.
fn sign_with_aws_sigv4(case: &Value) -> String {
    let credentials = Credentials::new(
        text(case, "/credentials/accessKeyId"),
        text(case, "/credentials/secretAccessKey"),
        case.pointer("/credentials/sessionToken")
            .and_then(Value::as_str)
            .map(str::to_owned),
        None,
        "sign-cases",
    );
    let identity: Identity = credentials.into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Double;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Enabled;
    settings.session_token_mode = SessionTokenMode::Include;
    settings.signature_location = SignatureLocation::Headers;
    let time: SystemTime = text(case, "/time")
        .parse::<jiff::Timestamp>()
        .expect("RFC 3339 time")
        .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(text(case, "/region"))
        .name(text(case, "/service"))
        .time(time)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();

    let host = text(case, "/signedHeaders/host");
    let query = text(case, "/query");
    let mut uri = format!("https://{host}{}", text(case, "/path"));
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(query);
    }
    let request = SignableRequest::new(
        text(case, "/method"),
        uri,
        [("host", host)].into_iter(),
        SignableBody::Precomputed(text(case, "/payloadSha256").to_owned()),
    )
    .expect("signable request");
    let (instructions, _signature) = sign(request, &params)
        .expect("aws-sigv4 signs")
        .into_parts();
    let (headers, _) = instructions.into_parts();
    headers
        .iter()
        .find(|h| h.name() == "authorization")
        .map(|h| h.value().to_owned())
        .expect("aws-sigv4 sets authorization")
}

#[test]
fn aws_sigv4_agrees_with_the_module_on_every_origin_request_case() {
    let cases = signed_by_the_module();
    let signed: Vec<&Value> = cases.iter().filter(|c| c["outcome"] == "signed").collect();
    assert!(
        signed.len() >= 25,
        "only {} signed cases: cases.json lost coverage",
        signed.len()
    );
    let disagreements: Vec<String> = signed
        .iter()
        .filter_map(|case| {
            let ours = text(case, "/authorization");
            let theirs = sign_with_aws_sigv4(case);
            (ours != theirs).then(|| {
                format!(
                    "{}:\n  module:    {ours}\n  aws-sigv4: {theirs}",
                    text(case, "/name")
                )
            })
        })
        .collect();
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn the_packaged_zip_imports_and_signs_in_node() {
    let package = urlguard::edge::package().expect("package");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("signer-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    zip::ZipArchive::new(std::io::Cursor::new(package.zip))
        .expect("valid zip")
        .extract(&dir)
        .expect("extracts");

    let script = r#"
        const { handler } = await import(process.cwd() + '/index.mjs');
        const event = { Records: [{ cf: { request: {
            clientIp: '203.0.113.9', method: 'POST', uri: '/createBook', querystring: 'x=1',
            headers: { host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }] },
            body: { inputTruncated: false, action: 'read-only', encoding: 'base64', data: Buffer.from('{"title":"Dune"}').toString('base64') },
            origin: { custom: { domainName: 'abc123.lambda-url.eu-west-1.on.aws', path: '', port: 443, protocol: 'https' } },
        } } }] };
        const forwarded = await handler(event);
        console.log(JSON.stringify(forwarded.headers));
    "#;
    let output = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .current_dir(&dir)
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("node runs");
    std::fs::remove_dir_all(&dir).expect("cleanup");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let headers: Value = serde_json::from_slice(&output.stdout).expect("headers as JSON");
    let authorization = headers["authorization"][0]["value"]
        .as_str()
        .expect("signed");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && authorization.contains("/eu-west-1/lambda/aws4_request"),
        "{authorization}"
    );
    assert_eq!(
        headers["host"][0]["value"],
        "abc123.lambda-url.eu-west-1.on.aws"
    );
}

#[test]
fn the_package_hash_is_the_committed_one() {
    let expected = std::fs::read_to_string(support::repo_root().join("src/edge/signer.zip.sha256"))
        .expect("committed hash");
    let package = urlguard::edge::package().expect("package");
    assert_eq!(
        package.code_sha256,
        expected.trim(),
        "the signer zip changed: if signer.mjs changed on purpose, run `make signer-hash` and commit; otherwise the zip is not deterministic"
    );
}
