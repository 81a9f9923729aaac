//! The way to moto: requests forwarded verbatim over plain HTTP (method,
//! path and query, headers including the SigV4 `Authorization` — moto does
//! not check signatures but routes by the credential scope — and body), and
//! the emulator's own look-ups (e.g. Lambda `GetFunction` to validate a
//! CloudFront association), signed with a plausible dummy scope.

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::reply::{Reply, is_framing_header};

/// moto could not be reached or answered garbage.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("invalid upstream URI {0}: {1}")]
    Uri(String, String),
    #[error("building the upstream request: {0}")]
    Request(#[from] http::Error),
    #[error("calling moto: {0}")]
    Send(#[from] hyper_util::client::legacy::Error),
    #[error("reading moto's answer: {0}")]
    Body(#[from] hyper::Error),
}

/// A client for one moto server.
pub(crate) struct Upstream {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Upstream {
    pub(crate) fn new(base: &str) -> Upstream {
        Upstream {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends a request to moto and buffers the whole answer.
    pub(crate) async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Reply, UpstreamError> {
        let uri_text = format!("{}{}", self.base, path_and_query);
        let uri: Uri = uri_text.parse().map_err(|e: http::uri::InvalidUri| {
            UpstreamError::Uri(uri_text.clone(), e.to_string())
        })?;
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::new(body))?;
        let outgoing = request.headers_mut();
        for (name, value) in headers {
            if !is_framing_header(name) {
                outgoing.append(name.clone(), value.clone());
            }
        }
        let response = self.client.request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Forwards a client's request unchanged.
    pub(crate) async fn forward(
        &self,
        parts: &http::request::Parts,
        body: Bytes,
    ) -> Result<Reply, UpstreamError> {
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        self.send(parts.method.clone(), path_and_query, &parts.headers, body)
            .await
    }

    /// A call of the emulator's own to `service` in `region` (moto routes by
    /// the credential scope; the signature is not checked).
    pub(crate) async fn call(
        &self,
        service: &str,
        region: &str,
        method: Method,
        path_and_query: &str,
    ) -> Result<Reply, UpstreamError> {
        self.call_with(service, region, method, path_and_query, &[], Bytes::new())
            .await
    }

    /// An IAM query-protocol call of the emulator's own: `Action` with its
    /// parameters (encoded here); the answer's XML, or `None` when moto
    /// could not be reached or refused it (a role that does not exist).
    pub(crate) async fn iam_query(&self, action: &str, params: &[(&str, &str)]) -> Option<String> {
        let path = format!(
            "/?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("Action", action)
                .append_pair("Version", "2010-05-08")
                .extend_pairs(params)
                .finish()
        );
        let reply = self
            .call("iam", "us-east-1", Method::GET, &path)
            .await
            .ok()?;
        reply
            .is_success()
            .then(|| String::from_utf8_lossy(&reply.body).into_owned())
    }

    /// [`Upstream::call`] with extra headers (`X-Amz-Target`,
    /// `Content-Type`) and a body.
    pub(crate) async fn call_with(
        &self,
        service: &str,
        region: &str,
        method: Method,
        path_and_query: &str,
        extra: &[(&'static str, &str)],
        body: Bytes,
    ) -> Result<Reply, UpstreamError> {
        let mut headers = HeaderMap::new();
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDAWSEMULATOR/20240101/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
        );
        if let Ok(value) = HeaderValue::from_str(&authorization) {
            headers.insert(AUTHORIZATION, value);
        }
        headers.insert("x-amz-date", HeaderValue::from_static("20240101T000000Z"));
        // The emulator's own calls act in the account of the call it
        // handles (moto would take this key for the default account).
        if let Ok(account) = HeaderValue::from_str(&crate::accounts::current()) {
            headers.insert("x-moto-account-id", account);
        }
        for (name, value) in extra {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(*name, value);
            }
        }
        self.send(method, path_and_query, &headers, body).await
    }
}
