//! urlguard publishes AWS Lambda function URLs safely: on `AWS_IAM` auth,
//! reachable only through a CloudFront distribution whose Lambda@Edge signer
//! (or origin access control) is the one way in.
//!
//! Layers, data flowing one way (see DESIGN.md): [`api`] holds the custom
//! resource types and their schema; the drivers ([`cli`]) read manifests and
//! act on them.

pub mod api;
pub mod cli;
pub mod edge;
pub mod manifest;
