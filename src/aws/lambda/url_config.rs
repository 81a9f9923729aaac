//! A function's URL config: read, created, updated and deleted by the
//! function's name and qualifier.
//!
//! Decisions written down here:
//! - A URL config is always written with `AuthType=AWS_IAM`: that is the
//!   protection. Observed CORS that is empty in every field reads as `None`
//!   (Lambda may return an empty object after CORS was cleared), and clearing
//!   CORS sends an empty `Cors` object. An invoke mode Lambda does not
//!   report (or reports outside the enum, as moto does) reads as `BUFFERED`,
//!   Lambda's default.
//! - A function URL always reads with its trailing `/`, as Lambda returns it
//!   (moto omits it).
//! - The markers recording that urlguard created a URL config
//!   ([`crate::model::lambda::created_marker_key`]) or adopted one which
//!   existed before it ([`crate::model::lambda::adopted_marker_key`]) are
//!   written on the unqualified function ARN: Lambda tags
//!   functions, never aliases or versions.

use aws_sdk_lambda::types::{Cors as SdkCors, FunctionUrlAuthType, InvokeMode as SdkInvokeMode};

use super::{Lambda, SERVICE, ok_if_absent};
use crate::api::{Cors, InvokeMode};
use crate::aws::call::call;
use crate::aws::error::AwsError;
use crate::model::lambda::{
    AuthType, DesiredUrlConfig, UrlConfig, adopted_marker_key, created_marker_key,
};

/// A URL config from any of the URL-config outputs (same accessors, no
/// shared type).
macro_rules! url_config {
    ($o:expr) => {
        UrlConfig {
            function_url: with_trailing_slash($o.function_url()),
            auth_type: auth_type_from_sdk($o.auth_type()),
            invoke_mode: invoke_mode_from_sdk($o.invoke_mode()),
            cors: cors_from_sdk($o.cors()),
        }
    };
}

impl Lambda {
    /// The URL config, or `None` when the function (or alias) has none.
    pub async fn get_url_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<UrlConfig>, AwsError> {
        let request = self
            .client
            .get_function_url_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send();
        match call(&self.door, SERVICE, "GetFunctionUrlConfig", request).await {
            Ok(output) => Ok(Some(url_config!(output))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates the URL config, on `AWS_IAM`. One that exists is
    /// [`AwsError::Conflict`].
    pub async fn create_url_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        desired: &DesiredUrlConfig,
    ) -> Result<UrlConfig, AwsError> {
        let request = self
            .client
            .create_function_url_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .auth_type(FunctionUrlAuthType::AwsIam)
            .invoke_mode(invoke_mode_to_sdk(desired.invoke_mode))
            .set_cors(desired.cors.as_ref().map(cors_to_sdk))
            .send();
        let output = call(&self.door, SERVICE, "CreateFunctionUrlConfig", request).await?;
        Ok(url_config!(output))
    }

    /// Sets `AWS_IAM`, the invoke mode and CORS (`None` clears it).
    pub async fn update_url_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        desired: &DesiredUrlConfig,
    ) -> Result<UrlConfig, AwsError> {
        let cors = desired
            .cors
            .as_ref()
            .map_or_else(|| SdkCors::builder().build(), cors_to_sdk);
        let request = self
            .client
            .update_function_url_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .auth_type(FunctionUrlAuthType::AwsIam)
            .invoke_mode(invoke_mode_to_sdk(desired.invoke_mode))
            .cors(cors)
            .send();
        let output = call(&self.door, SERVICE, "UpdateFunctionUrlConfig", request).await?;
        Ok(url_config!(output))
    }

    /// Deletes the URL config; none is fine.
    pub async fn delete_url_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .delete_function_url_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send();
        ok_if_absent(call(&self.door, SERVICE, "DeleteFunctionUrlConfig", request).await)
    }
}

impl Lambda {
    /// Tags the function (`function_arn`, unqualified) with the marker
    /// saying `adopter` adopted the URL config of `qualifier`, which
    /// existed before urlguard.
    pub async fn mark_adopted(
        &self,
        function_arn: &str,
        qualifier: Option<&str>,
        adopter: &str,
    ) -> Result<(), AwsError> {
        self.tag_marker(function_arn, adopted_marker_key(qualifier), adopter)
            .await
    }

    /// Tags the function (`function_arn`, unqualified) with the marker
    /// saying `creator` creates the URL config of `qualifier`: written
    /// before `CreateFunctionUrlConfig`, so that a crash in between still
    /// leaves the config urlguard's.
    pub async fn mark_created(
        &self,
        function_arn: &str,
        qualifier: Option<&str>,
        creator: &str,
    ) -> Result<(), AwsError> {
        self.tag_marker(function_arn, created_marker_key(qualifier), creator)
            .await
    }

    /// Removes the created marker of `qualifier` once urlguard deleted the
    /// config: a config someone creates later is not urlguard's. Absent is
    /// fine.
    pub async fn unmark_created(
        &self,
        function_arn: &str,
        qualifier: Option<&str>,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .untag_resource()
            .resource(function_arn)
            .tag_keys(created_marker_key(qualifier))
            .send();
        ok_if_absent(call(&self.door, SERVICE, "UntagResource", request).await)
    }

    async fn tag_marker(
        &self,
        function_arn: &str,
        key: String,
        value: &str,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .tag_resource()
            .resource(function_arn)
            .tags(key, value)
            .send();
        call(&self.door, SERVICE, "TagResource", request).await?;
        Ok(())
    }
}

/// Lambda's URLs end in `/`; moto's do not. Always `https://host/`.
fn with_trailing_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

fn auth_type_from_sdk(auth_type: &FunctionUrlAuthType) -> AuthType {
    match auth_type {
        FunctionUrlAuthType::AwsIam => AuthType::AwsIam,
        // `NONE`, and anything else: not protected.
        _ => AuthType::None,
    }
}

fn invoke_mode_from_sdk(mode: Option<&SdkInvokeMode>) -> InvokeMode {
    match mode {
        Some(SdkInvokeMode::ResponseStream) => InvokeMode::ResponseStream,
        _ => InvokeMode::Buffered,
    }
}

fn invoke_mode_to_sdk(mode: InvokeMode) -> SdkInvokeMode {
    match mode {
        InvokeMode::Buffered => SdkInvokeMode::Buffered,
        InvokeMode::ResponseStream => SdkInvokeMode::ResponseStream,
    }
}

fn cors_to_sdk(cors: &Cors) -> SdkCors {
    SdkCors::builder()
        .set_allow_origins(non_empty(&cors.allow_origins))
        .set_allow_methods(non_empty(&cors.allow_methods))
        .set_allow_headers(non_empty(&cors.allow_headers))
        .set_expose_headers(non_empty(&cors.expose_headers))
        .allow_credentials(cors.allow_credentials)
        .set_max_age(cors.max_age)
        .build()
}

fn non_empty(items: &[String]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.to_vec())
}

fn cors_from_sdk(cors: Option<&SdkCors>) -> Option<Cors> {
    let cors = cors?;
    let parsed = Cors {
        allow_origins: cors.allow_origins().to_vec(),
        allow_methods: cors.allow_methods().to_vec(),
        allow_headers: cors.allow_headers().to_vec(),
        expose_headers: cors.expose_headers().to_vec(),
        allow_credentials: cors.allow_credentials().unwrap_or(false),
        max_age: cors.max_age().filter(|age| *age != 0),
    };
    (parsed != Cors::default()).then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_urls_read_with_their_trailing_slash() {
        assert_eq!(
            with_trailing_slash("https://x.lambda-url.us-east-1.on.aws"),
            "https://x.lambda-url.us-east-1.on.aws/"
        );
        assert_eq!(
            with_trailing_slash("https://x.lambda-url.us-east-1.on.aws/"),
            "https://x.lambda-url.us-east-1.on.aws/"
        );
    }

    #[test]
    fn cors_round_trips_and_empty_cors_reads_as_none() {
        let cors = Cors {
            allow_origins: vec!["https://books.example.com".into()],
            allow_methods: vec!["GET".into()],
            allow_headers: vec!["content-type".into()],
            expose_headers: vec!["x-request-id".into()],
            allow_credentials: true,
            max_age: Some(300),
        };
        assert_eq!(cors_from_sdk(Some(&cors_to_sdk(&cors))), Some(cors));
        assert_eq!(cors_from_sdk(Some(&SdkCors::builder().build())), None);
        assert_eq!(cors_from_sdk(None), None);
    }

    #[test]
    fn invoke_modes_outside_the_enum_read_as_buffered() {
        assert_eq!(
            invoke_mode_from_sdk(Some(&SdkInvokeMode::from("Buffered"))),
            InvokeMode::Buffered
        );
        assert_eq!(invoke_mode_from_sdk(None), InvokeMode::Buffered);
        assert_eq!(
            invoke_mode_from_sdk(Some(&invoke_mode_to_sdk(InvokeMode::ResponseStream))),
            InvokeMode::ResponseStream
        );
        assert_eq!(
            auth_type_from_sdk(&FunctionUrlAuthType::AwsIam),
            AuthType::AwsIam
        );
        assert_eq!(
            auth_type_from_sdk(&FunctionUrlAuthType::None),
            AuthType::None
        );
    }
}
