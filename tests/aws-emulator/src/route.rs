//! Which AWS service, region and operation a request is for: the service and
//! region from the SigV4 credential scope (`Authorization` header, or the
//! `X-Amz-Credential` query parameter of a presigned request), the operation
//! from each protocol's own marker — CloudFront's and Lambda's REST paths,
//! `X-Amz-Target` (JSON 1.1, e.g. SSM) and the form field `Action` (query
//! protocol: IAM, STS). The key `service:Operation` names a call in counts,
//! logs and fault rules.

use http::{HeaderMap, Method, request::Parts};

use crate::{cloudfront, lambda};

/// One identified call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The signing name: `cloudfront`, `lambda`, `ssm`, `iam`, `sts`, ... or
    /// `unknown` for an unsigned request.
    pub service: String,
    /// The signing region (`us-east-1` for the global services).
    pub region: String,
    /// The API operation, e.g. `UpdateDistribution`; `Unknown` when the
    /// emulator cannot tell.
    pub operation: String,
    /// The access key id of the credential scope: who is calling.
    pub access_key: Option<String>,
}

impl Call {
    pub(crate) fn identify(parts: &Parts, body: &[u8]) -> Call {
        let query = parts.uri.query().unwrap_or("");
        let (service, region, access_key) = match credential_scope(&parts.headers, query) {
            Some(scope) => (scope.service, scope.region, Some(scope.access_key)),
            None => ("unknown".to_owned(), "us-east-1".to_owned(), None),
        };
        let path = parts.uri.path();
        let operation = match service.as_str() {
            "cloudfront" => cloudfront::route(&parts.method, path, query)
                .name()
                .to_owned(),
            "lambda" => lambda::operation(&parts.method, path).to_owned(),
            _ => rpc_operation(&parts.method, &parts.headers, query, body),
        };
        Call {
            service,
            region,
            operation,
            access_key,
        }
    }

    /// `service:Operation`.
    pub(crate) fn key(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// A SigV4 credential scope: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub access_key: String,
    pub region: String,
    pub service: String,
}

/// The credential scope of the `Authorization` header, or of the
/// `X-Amz-Credential` query parameter of a presigned request.
pub(crate) fn credential_scope(headers: &HeaderMap, query: &str) -> Option<Scope> {
    let from_header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| {
            let rest = auth.strip_prefix("AWS4-HMAC-SHA256")?;
            rest.split(',')
                .map(str::trim)
                .find_map(|part| part.strip_prefix("Credential="))
                .map(str::to_owned)
        });
    let credential = from_header.or_else(|| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "X-Amz-Credential")
            .map(|(_, v)| v.into_owned())
    })?;
    let parts: Vec<&str> = credential.split('/').collect();
    let n = parts.len();
    if n < 5 || parts[n - 1] != "aws4_request" {
        return None;
    }
    Some(Scope {
        access_key: parts[..n - 4].join("/"),
        region: parts[n - 3].to_owned(),
        service: parts[n - 2].to_owned(),
    })
}

/// The operation of a JSON-RPC (`X-Amz-Target: AmazonSSM.PutParameter`) or
/// query-protocol (`Action=CreateRole`) request.
fn rpc_operation(method: &Method, headers: &HeaderMap, query: &str, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let from_query = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned());
    if let Some(action) = from_query {
        return action;
    }
    if method == Method::POST {
        let is_form = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if is_form
            && let Some((_, action)) = form_urlencoded::parse(body).find(|(k, _)| k == "Action")
        {
            return action.into_owned();
        }
    }
    "Unknown".to_owned()
}

/// The path's segments, percent-decoded, without empty ones.
pub(crate) fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// The first value of a query parameter, decoded.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Whether the query string has the parameter, with or without a value.
pub(crate) fn has_query_param(query: &str, name: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Request;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(()).map(|r| r.into_parts().0).expect("request")
    }

    fn auth(service: &str, region: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDTESTING/20240101/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
        )
    }

    #[test]
    fn the_credential_scope_names_service_and_region() {
        let a = auth("lambda", "eu-west-1");
        let p = parts("GET", "/2015-03-31/functions/f", &[("authorization", &a)]);
        let call = Call::identify(&p, b"");
        assert_eq!(
            (call.service.as_str(), call.region.as_str()),
            ("lambda", "eu-west-1")
        );
        assert_eq!(call.key(), "lambda:GetFunction");
        assert_eq!(call.access_key.as_deref(), Some("AKIDTESTING"));
    }

    #[test]
    fn rpc_operations_come_from_the_target_header_or_the_action_field() {
        let a = auth("ssm", "us-east-1");
        let p = parts(
            "POST",
            "/",
            &[
                ("authorization", &a),
                ("x-amz-target", "AmazonSSM.PutParameter"),
            ],
        );
        assert_eq!(Call::identify(&p, b"{}").key(), "ssm:PutParameter");

        let a = auth("iam", "us-east-1");
        let p = parts(
            "POST",
            "/",
            &[
                ("authorization", &a),
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
            ],
        );
        assert_eq!(
            Call::identify(&p, b"Action=CreateRole&Version=2010-05-08").key(),
            "iam:CreateRole"
        );
    }

    #[test]
    fn presigned_requests_carry_the_scope_in_the_query() {
        let p = parts(
            "GET",
            "/?Action=GetCallerIdentity&X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fsts%2Faws4_request",
            &[],
        );
        assert_eq!(Call::identify(&p, b"").key(), "sts:GetCallerIdentity");
    }

    #[test]
    fn unsigned_requests_are_unknown() {
        let p = parts("GET", "/", &[]);
        assert_eq!(Call::identify(&p, b"").key(), "unknown:Unknown");
    }
}
