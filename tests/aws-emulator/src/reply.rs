//! `Reply`: a complete HTTP answer (status, headers, whole body) — what every
//! part of the emulator produces, whether it answered itself or relayed moto.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;

/// A buffered HTTP response.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub(crate) fn new(
        status: StatusCode,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        Reply {
            status,
            headers,
            body: body.into(),
        }
    }

    /// An empty answer (`204 No Content` and the like).
    pub(crate) fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    pub(crate) fn xml(status: StatusCode, body: String) -> Reply {
        Reply::new(status, "text/xml", body)
    }

    pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
        Reply::new(status, "application/json", value.to_string())
    }

    pub(crate) fn text(status: StatusCode, body: impl Into<String>) -> Reply {
        Reply::new(status, "text/plain; charset=utf-8", body.into())
    }

    /// Adds a header; a value that is not a valid header value is skipped
    /// (every caller passes ids and ETags, which always are).
    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(HeaderName::from_static(name), value);
        }
        self
    }

    pub(crate) fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The hyper response. Framing headers are recomputed from the body.
    pub(crate) fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            if !is_framing_header(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        response
    }
}

/// Headers that describe one hop's framing, never relayed as they came.
pub(crate) fn is_framing_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "content-length"
            | "transfer-encoding"
            | "connection"
            | "keep-alive"
            | "host"
            | "expect"
            | "upgrade"
    )
}
