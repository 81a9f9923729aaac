//! urlguard publishes AWS Lambda function URLs safely: on `AWS_IAM` auth,
//! reachable only through a CloudFront distribution whose Lambda@Edge signer
//! (or origin access control) is the one way in.
//!
//! Layers, data flowing one way (see `docs/design.md`): [`api`] holds the custom
//! resource types and their schema; [`plan`] turns the desired [`model`]
//! and the observed AWS state into actions, purely; [`aws`] holds the thin
//! SDK adapters, [`probe`] the data path's HTTP client (`verify`); [`reconcile`] runs observe → plan → apply; the drivers
//! ([`cli`] for files, [`controller`] for a cluster) read resources through
//! [`manifest`] and report. [`edge`] is the
//! Lambda@Edge signer urlguard deploys.

pub mod api;
pub mod aws;
pub mod cli;
pub mod controller;
pub mod edge;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod probe;
pub mod reconcile;
