//! The data path: requests that are not API calls but traffic, routed by
//! their `Host` header on the emulator's own port (plain HTTP):
//!
//! - `<url-id>.lambda-url.<region>.on.aws` — a function URL
//!   ([`function_url`]): SigV4 verified, IAM evaluated, then a stand-in
//!   function echoes the request;
//! - a distribution's domain name (`<id>.cloudfront.net`) or one of its
//!   aliases — its viewers ([`viewer`]): cache behavior, allowed methods,
//!   origin request policy, the origin-request Lambda@Edge function's
//!   uploaded code run by Node, origin access control, then the origin.
//!
//! A client reaches both as it would on AWS, only over plain HTTP to the
//! emulator's port with the real `Host` (curl's `--connect-to`): the
//! crate README states the contract.
//!
//! Everything else (the SDK's calls, whose `Host` is the emulator's
//! address) is an API call. Traffic is not counted in the call ledger: it
//! is not an AWS API call.

pub(crate) mod behaviors;
pub(crate) mod cors;
pub(crate) mod credentials;
pub(crate) mod echo;
pub(crate) mod edge_code;
pub(crate) mod edge_function;
pub(crate) mod function_url;
pub(crate) mod invoke_auth;
pub(crate) mod node_runner;
pub(crate) mod oac_sign;
pub(crate) mod origin_event;
pub(crate) mod sigv4_verify;
pub(crate) mod url_hosts;
pub(crate) mod viewer;

use bytes::Bytes;
use http::{HeaderMap, Method, request::Parts};

use self::credentials::Credentials;
use self::edge_code::CodeStore;
use self::edge_function::RoleSessions;
use self::node_runner::NodeRunner;
use self::url_hosts::UrlHosts;
use crate::reply::Reply;
use crate::route::Call;
use crate::server::Shared;

/// What the data path remembers.
#[derive(Debug, Default)]
pub(crate) struct DataPlane {
    pub credentials: Credentials,
    pub url_hosts: UrlHosts,
    pub code: CodeStore,
    pub role_sessions: RoleSessions,
    pub node: NodeRunner,
}

/// One HTTP request on the data path, whole.
#[derive(Debug, Clone)]
pub(crate) struct Inbound {
    pub method: Method,
    /// The path and query exactly as sent.
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Inbound {
    pub(crate) fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }

    /// The raw query string, `""` when there is none.
    pub(crate) fn query(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or("", |(_, query)| query)
    }
}

/// The `Host` of a request, lower-cased, without a port.
fn host(parts: &Parts) -> Option<String> {
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.host())?;
    let name = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    Some(name.to_ascii_lowercase())
}

/// Answers `parts` when it is traffic for a function URL or a
/// distribution; `None` for an API call.
pub(crate) async fn route(shared: &Shared, parts: &Parts, body: &Bytes) -> Option<Reply> {
    let host = host(parts)?;
    let inbound = || Inbound {
        method: parts.method.clone(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    if url_hosts::function_url_region(&host).is_some() {
        return Some(function_url::handle(shared, &host, &inbound()).await);
    }
    if host == "127.0.0.1" || host == "localhost" {
        return None;
    }
    let (served, routing) = viewer::distribution_for(shared, &host)?;
    Some(viewer::handle(shared, &served, &routing, &inbound()).await)
}

/// Learns from an API call and its answer what the data path needs:
/// sessions of assumed roles (their secrets, to verify what they sign),
/// function URL hosts, and uploaded function code.
pub(crate) fn observe(shared: &Shared, call: &Call, request_body: &[u8], reply: &Reply) {
    if !reply.is_success() {
        return;
    }
    match (call.service.as_str(), call.operation.as_str()) {
        ("sts", "AssumeRole") => {
            shared
                .dataplane
                .credentials
                .learn_session(&String::from_utf8_lossy(&reply.body));
        }
        (
            "lambda",
            "CreateFunctionUrlConfig" | "GetFunctionUrlConfig" | "UpdateFunctionUrlConfig",
        ) => {
            shared.dataplane.url_hosts.learn(&reply.body);
        }
        ("lambda", "CreateFunction" | "UpdateFunctionCode") => {
            shared.dataplane.code.learn(request_body);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(host: &str) -> Parts {
        http::Request::builder()
            .uri("/x?y=1")
            .header("host", host)
            .body(())
            .map(|r| r.into_parts().0)
            .expect("request")
    }

    #[test]
    fn the_host_is_read_without_its_port_and_lower_cased() {
        assert_eq!(
            host(&parts("D1.CloudFront.net:80")).as_deref(),
            Some("d1.cloudfront.net")
        );
        assert_eq!(
            host(&parts("abc.lambda-url.eu-west-1.on.aws")).as_deref(),
            Some("abc.lambda-url.eu-west-1.on.aws")
        );
        assert_eq!(host(&parts("127.0.0.1:4566")).as_deref(), Some("127.0.0.1"));
    }
}
