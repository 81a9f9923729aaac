//! The two custom resources users declare, `EdgeDistribution` and
//! `ProtectedFunctionUrl` (group `urlguard.io`, version `v1alpha1`), and how
//! their schema is rendered and enforced.
//!
//! This layer owns the wire shape of the API and nothing else: serde and
//! schemars types whose doc comments become `kubectl explain` text, the
//! OpenAPI constraints and CEL `x-kubernetes-validations` that the API server
//! enforces, [`validation`], which applies that same schema to a manifest
//! outside a cluster so the CLI refuses exactly what a cluster would, and
//! [`decode`], which checks and decodes one object for either driver.

mod adopt;
mod common;
mod config_map_export;
pub mod crds;
pub mod decode;
mod default_behavior;
mod edge_distribution;
#[cfg(test)]
pub(crate) mod fixtures;
mod geo_restriction;
pub mod metadata;
mod origin_headers;
mod protected_function_url;
pub mod validation;
mod viewer_tls;

pub use adopt::{Adopt, AdoptionPolicy};
pub use common::{DeletionPolicy, ExportedParameter, ManagementPolicy};
pub use config_map_export::{ConfigMapExport, DISTRIBUTION_SUFFIX, DefaultNameTooLong, URL_SUFFIX};
pub use default_behavior::{
    CACHING_OPTIMIZED_POLICY_ID, DefaultBehavior, FunctionAssociation, FunctionEventType,
};
pub use edge_distribution::{
    Confirmation, CustomErrorResponse, CustomOrigin, DefaultOrigin, DistributionSsmExport,
    EdgeDistribution, EdgeDistributionSpec, EdgeDistributionStatus, Invalidation,
    InvalidationStatus, Logging, PriceClass, Protection, RetiredSignerVersion, S3Origin,
    SignerSettings,
};
pub use geo_restriction::{GeoRestriction, GeoRestrictionType};
pub use origin_headers::OriginCustomHeader;
pub use protected_function_url::{
    Cors, DistributionRef, ExposedStatement, FunctionRef, HttpMethod, InvokeMode,
    ProtectedFunctionUrl, ProtectedFunctionUrlSpec, ProtectedFunctionUrlStatus, UrlSsmExport,
};
pub use viewer_tls::{MinimumProtocolVersion, ViewerTls};

/// The API group of both kinds.
pub const GROUP: &str = "urlguard.io";
/// The served and stored version of both kinds.
pub const VERSION: &str = "v1alpha1";
