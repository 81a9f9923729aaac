//! The data path's HTTP client, for `urlguard verify`: one request to a
//! viewer-facing URL (a distribution's or a function URL's), its status
//! back. Beside [`crate::aws`] as the other adapter: it calls no AWS API,
//! it is what any client on the internet would send.
//!
//! Against AWS it speaks HTTPS, trusting the system's root certificates.
//! With a `connect_to` address every request goes there instead, in plain
//! HTTP, with the real host in `Host` (as curl's `--connect-to`): that is
//! how the local test bed, which serves every host on one port, is reached.
//!
//! hyper and hyper-rustls, not a higher-level client: both are already in
//! the build (the AWS SDK's and kube's HTTPS), and a probe needs no
//! redirects, cookies or retries — a retry would hide the answer it asks
//! for.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};

/// How long one request may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL cannot be requested.
    #[error("{url} is not a URL to request: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No answer: DNS, connection, TLS or timeout.
    #[error("{method} {url}: no answer: {reason}")]
    NoAnswer {
        /// The method sent.
        method: String,
        /// The URL.
        url: String,
        /// What the client reported.
        reason: String,
    },
    /// The TLS roots could not be loaded.
    #[error("cannot load the system's TLS root certificates: {0}")]
    Roots(String),
}

/// One request: the method, the full `https://` URL, and an optional body
/// (sent with its SHA-256 in `x-amz-content-sha256` when `content_sha256`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// `https://host/path?query`.
    pub url: &'a str,
    /// The body, if any.
    pub body: Option<&'a [u8]>,
    /// Whether a body goes with its `x-amz-content-sha256`.
    pub content_sha256: bool,
}

/// Sends probes, to the real hosts or to one local address.
#[derive(Clone)]
pub struct Prober {
    https: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    plain: Client<HttpConnector, Full<Bytes>>,
    connect_to: Option<String>,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober")
            .field("connect_to", &self.connect_to)
            .finish_non_exhaustive()
    }
}

impl Prober {
    /// A prober; `connect_to` (`HOST:PORT`) sends every request there over
    /// plain HTTP, keeping the URL's host in `Host`.
    pub fn new(connect_to: Option<String>) -> Result<Prober, ProbeError> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| ProbeError::Roots(e.to_string()))?
            .https_only()
            .enable_http1()
            .build();
        Ok(Prober {
            https: Client::builder(TokioExecutor::new()).build(https),
            plain: Client::builder(TokioExecutor::new()).build_http(),
            connect_to,
        })
    }

    /// Sends one request and returns the answer's status (the body is read
    /// and dropped, so the connection can be reused).
    pub async fn status(&self, probe: &ProbeRequest<'_>) -> Result<u16, ProbeError> {
        let bad = |reason: String| ProbeError::BadUrl {
            url: probe.url.to_owned(),
            reason,
        };
        let uri: Uri = probe
            .url
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(e.to_string()))?;
        let host = uri
            .authority()
            .ok_or_else(|| bad("it names no host".to_owned()))?
            .as_str()
            .to_owned();
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let target = match &self.connect_to {
            Some(address) => format!("http://{address}{path}"),
            None => probe.url.to_owned(),
        };
        let method = Method::from_bytes(probe.method.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let mut request = Request::builder()
            .method(method)
            .uri(&target)
            .header(
                header::HOST,
                HeaderValue::from_str(&host).map_err(|e| bad(e.to_string()))?,
            )
            .header(
                header::USER_AGENT,
                concat!("urlguard-verify/", env!("CARGO_PKG_VERSION")),
            );
        let body = match probe.body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                if probe.content_sha256 {
                    request = request.header("x-amz-content-sha256", hex(&Sha256::digest(body)));
                }
                Full::new(Bytes::copy_from_slice(body))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).map_err(|e| bad(e.to_string()))?;
        let no_answer = |reason: String| ProbeError::NoAnswer {
            method: probe.method.to_owned(),
            url: probe.url.to_owned(),
            reason,
        };
        let send = async {
            let response = match self.connect_to {
                Some(_) => self.plain.request(request).await,
                None => self.https.request(request).await,
            }
            .map_err(|e| no_answer(error_chain(&e)))?;
            let status = response.status().as_u16();
            response
                .into_body()
                .collect()
                .await
                .map_err(|e| no_answer(e.to_string()))?;
            Ok(status)
        };
        tokio::time::timeout(REQUEST_TIMEOUT, send)
            .await
            .map_err(|_| no_answer(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())))?
    }
}

/// The error and its sources: hyper's own message ("client error
/// (Connect)") says little without them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
