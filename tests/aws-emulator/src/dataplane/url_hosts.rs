//! Which function a function URL host invokes. Lambda gives each URL config
//! a host `<url-id>.lambda-url.<region>.on.aws` (Lambda developer guide,
//! "Creating and managing Lambda function URLs",
//! https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html);
//! the emulator learns the mapping from every URL-config answer that passes
//! through it (`CreateFunctionUrlConfig`, `GetFunctionUrlConfig`,
//! `UpdateFunctionUrlConfig`), each naming `FunctionUrl` and `FunctionArn`
//! (qualified when the URL belongs to an alias). Whether the URL still
//! exists, and its auth type and CORS, are read from Lambda per request.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use super::invoke_auth::Target;
use crate::ids::lock;

/// `<url-id>.lambda-url.<region>.on.aws` → its region, or `None` for any
/// other host.
pub(crate) fn function_url_region(host: &str) -> Option<&str> {
    let (id, rest) = host.split_once('.')?;
    let region = rest.strip_prefix("lambda-url.")?.strip_suffix(".on.aws")?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    (plain(id) && plain(region)).then_some(region)
}

/// The host of a URL (`https://HOST/...`), lower-cased.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Function URL hosts seen in Lambda's answers.
#[derive(Debug, Default)]
pub(crate) struct UrlHosts {
    targets: Mutex<HashMap<String, Target>>,
}

impl UrlHosts {
    /// Learns the host of a URL-config answer (JSON), if it names one.
    pub(crate) fn learn(&self, answer: &[u8]) {
        let Ok(config) = serde_json::from_slice::<Value>(answer) else {
            return;
        };
        let url = config.get("FunctionUrl").and_then(Value::as_str);
        let arn = config.get("FunctionArn").and_then(Value::as_str);
        let (Some(host), Some(arn)) = (url.and_then(host_of), arn) else {
            return;
        };
        let Some(region) = function_url_region(&host).map(str::to_owned) else {
            return;
        };
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() < 7 {
            return;
        }
        let target = Target {
            region,
            function_arn: parts[..7].join(":"),
            qualifier: parts.get(7).map(|q| (*q).to_owned()),
        };
        lock(&self.targets).insert(host, target);
    }

    pub(crate) fn target(&self, host: &str) -> Option<Target> {
        lock(&self.targets).get(&host.to_ascii_lowercase()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts_are_recognised_and_learned_with_their_alias() {
        assert_eq!(
            function_url_region("abc123.lambda-url.eu-west-1.on.aws"),
            Some("eu-west-1")
        );
        assert_eq!(function_url_region("d111.cloudfront.net"), None);
        assert_eq!(function_url_region("x.lambda-url..on.aws"), None);
        let hosts = UrlHosts::default();
        hosts.learn(br#"{"FunctionUrl": "https://abc123.lambda-url.eu-west-1.on.aws/", "FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:f:live"}"#);
        let target = hosts
            .target("ABC123.lambda-url.eu-west-1.on.aws")
            .expect("learned");
        assert_eq!(
            target.function_arn,
            "arn:aws:lambda:eu-west-1:123456789012:function:f"
        );
        assert_eq!(target.qualifier.as_deref(), Some("live"));
        assert_eq!(
            target.resource(),
            "arn:aws:lambda:eu-west-1:123456789012:function:f:live"
        );
        assert!(hosts.target("other.lambda-url.eu-west-1.on.aws").is_none());
    }
}
