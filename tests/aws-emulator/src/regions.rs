//! The AWS Regions: a request signed for any other region has no endpoint.
//!
//! Without an endpoint override an SDK sends such a request to
//! `<service>.<region>.amazonaws.com`, a name that does not resolve, and
//! gets a DNS failure; through an endpoint that exists (an override, a
//! proxy: the test bed's case) AWS answers that the credential must be
//! scoped to a valid region, and the request does nothing. The emulator
//! answers the latter: 403 `InvalidSignatureException` (restJson and JSON
//! services) or `SignatureDoesNotMatch` (query and restXml), "Credential
//! should be scoped to a valid region, not '<region>'.", before any
//! authorization or fault rule (nothing is recorded as authorized).
//!
//! The list is AWS's, commercial, GovCloud and China partitions:
//! <https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html>.

use http::StatusCode;

use crate::faults::error_reply;
use crate::ids::Ids;
use crate::reply::Reply;

/// Every AWS Region code.
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// Whether `region` is an AWS Region.
pub(crate) fn exists(region: &str) -> bool {
    REGIONS.contains(&region)
}

/// AWS's answer to a request signed for `region`, which does not exist.
pub(crate) fn no_such_region(service: &str, region: &str, ids: &Ids) -> Reply {
    let code = match service {
        "cloudfront" | "iam" | "sts" => "SignatureDoesNotMatch",
        _ => "InvalidSignatureException",
    };
    error_reply(
        service,
        StatusCode::FORBIDDEN,
        code,
        &format!("Credential should be scoped to a valid region, not '{region}'."),
        ids,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_regions_exist_and_made_up_ones_do_not() {
        for region in ["us-east-1", "eu-west-1", "ap-southeast-7", "us-gov-west-1"] {
            assert!(exists(region), "{region}");
        }
        for region in ["xx-fake-1", "eu-west-9", "", "US-EAST-1", "local"] {
            assert!(!exists(region), "{region}");
        }
    }
}
