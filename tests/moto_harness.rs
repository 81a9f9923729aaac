//! The local AWS test bed starts, answers through the AWS SDK for Rust, and
//! goes away with the test.

mod support;

use std::net::TcpStream;

use support::moto::{ACCOUNT_ID, Moto};

#[tokio::test]
async fn sts_and_ssm_answer_through_the_sdk() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;

    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(identity.account(), Some(ACCOUNT_ID));

    let ssm = aws_sdk_ssm::Client::new(&config);
    ssm.put_parameter()
        .name("/books/GetBooksUrl")
        .value("https://example.lambda-url.eu-west-1.on.aws/")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    let read = ssm
        .get_parameter()
        .name("/books/GetBooksUrl")
        .send()
        .await
        .expect("GetParameter");
    assert_eq!(
        read.parameter().and_then(|p| p.value()),
        Some("https://example.lambda-url.eu-west-1.on.aws/")
    );

    let missing = ssm.get_parameter().name("/books/Nope").send().await;
    assert!(
        missing.is_err_and(|e| e.into_service_error().is_parameter_not_found()),
        "a missing parameter is ParameterNotFound"
    );
}

#[test]
fn dropping_the_guard_stops_the_server() {
    let moto = Moto::start();
    let addr = moto.endpoint.trim_start_matches("http://").to_owned();
    let pid = moto.pid();
    assert!(TcpStream::connect(&addr).is_ok());
    drop(moto);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z ")),
        "moto_server {pid} still runs after its guard dropped"
    );
}
