//! Test fixtures shared by the teardown tests: the owner tag and the signer
//! versions they plan against.

use crate::model::lambda::{FunctionVersion, SignerConfig};

pub(super) const OWNER: &str = "urlguard/books/EdgeDistribution/books";
pub(super) const V1: &str = "arn:aws:lambda:us-east-1:123456789012:function:s:1";
pub(super) const V2: &str = "arn:aws:lambda:us-east-1:123456789012:function:s:2";

fn config() -> SignerConfig {
    SignerConfig {
        code_sha256: "abc=".into(),
        memory_size: 128,
        timeout_seconds: 5,
        runtime: "nodejs24.x".into(),
        role_arn: "arn:aws:iam::123456789012:role/urlguard/r".into(),
        handler: "index.handler".into(),
    }
}

pub(super) fn version(number: &str) -> FunctionVersion {
    FunctionVersion {
        version: number.into(),
        arn: format!("arn:aws:lambda:us-east-1:123456789012:function:s:{number}"),
        config: config(),
    }
}
