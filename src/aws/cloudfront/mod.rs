//! CloudFront (global): distributions, their tags, origin access
//! controls, and invalidations ([`invalidation`]). The translation between [`DistributionShape`] and the SDK's
//! `DistributionConfig` lives in [`config`].
//!
//! Decisions written down here:
//! - Creation always uses `CreateDistributionWithTags`, so a distribution
//!   never exists without its owner tag; a reused `CallerReference`
//!   (`DistributionAlreadyExists`) names the existing id, which the
//!   reconciler adopts: the `CallerReference` derives from the owner, so a
//!   distribution created with it is urlguard's by construction.
//! - Updates and deletes send the ETag they were given; a stale one is
//!   [`AwsError::PreconditionFailed`]. Deleting a distribution or an origin
//!   access control that does not exist is success.
//! - Origin access controls are created with SigV4, signing always;
//!   deleting one reads its ETag first (`GetOriginAccessControl`).
//! - `ListDistributions` returns every distribution with its whole config,
//!   up to about 100 KB of XML each with 75 cache behaviors: it is read in
//!   small pages, one listing at a time per process, so that many
//!   reconciles starting together do not hold many large lists at once.
//! - An update writes back what urlguard does not manage as the last read
//!   returned it (see [`unmanaged`]): `UpdateDistribution` replaces the
//!   whole config, and urlguard's shape alone would reset it.

mod config;
mod invalidation;
mod unmanaged;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_sdk_cloudfront::types::{
    Distribution, DistributionConfigWithTags, OriginAccessControlConfig,
    OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols, Tag, Tags,
};

use super::call::Door;
use super::call::call;
use super::error::AwsError;
use crate::model::OWNER_TAG_KEY;
use crate::model::cloudfront::{
    DistributionObserved, DistributionShape, OacObserved, OacOriginType,
};

pub(super) const SERVICE: &str = "cloudfront";
/// Distributions per `ListDistributions` page (CloudFront's default is
/// 100): about a megabyte of XML at most.
const LIST_PAGE_SIZE: i32 = 10;

/// A distribution as `ListDistributions` reports it: enough to find the
/// ones urlguard may own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionSummary {
    /// The distribution id.
    pub id: String,
    /// Its ARN (what tags are listed by).
    pub arn: String,
    /// The ids of its origins.
    pub origin_ids: Vec<String>,
}

/// CloudFront (global).
#[derive(Debug, Clone)]
pub struct CloudFront {
    client: aws_sdk_cloudfront::Client,
    door: Door,
    listing: Arc<tokio::sync::Mutex<()>>,
    /// Per distribution id, the unmanaged part of its config as last read
    /// (or written), to write back on the next update; shared by every
    /// adapter of an [`Aws`](super::Aws).
    unmanaged: UnmanagedById,
}

/// The unmanaged part of each distribution's config as last read, by id.
pub(crate) type UnmanagedById = Arc<Mutex<HashMap<String, unmanaged::Unmanaged>>>;

impl CloudFront {
    /// The adapter over `client`; `listing` is held through a
    /// `ListDistributions` listing, shared by every adapter of a process;
    /// `unmanaged` is shared by every adapter of one `Aws`.
    pub(super) fn new(
        client: aws_sdk_cloudfront::Client,
        door: Door,
        listing: Arc<tokio::sync::Mutex<()>>,
        unmanaged: UnmanagedById,
    ) -> CloudFront {
        CloudFront {
            client,
            door,
            listing,
            unmanaged,
        }
    }

    fn unmanaged_by_id(&self) -> MutexGuard<'_, HashMap<String, unmanaged::Unmanaged>> {
        self.unmanaged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Remembers the unmanaged part of a distribution CloudFront answered
    /// with.
    fn remember(&self, distribution: Option<&Distribution>) {
        if let Some(distribution) = distribution
            && let Some(config) = distribution.distribution_config()
        {
            self.unmanaged_by_id()
                .insert(distribution.id().to_owned(), unmanaged::unmanaged(config));
        }
    }

    /// Every distribution of the account (`ListDistributions`, page by page).
    pub async fn list_distributions(&self) -> Result<Vec<DistributionSummary>, AwsError> {
        let _one_listing_at_a_time = self.listing.lock().await;
        let mut summaries = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .client
                .list_distributions()
                .max_items(LIST_PAGE_SIZE)
                .set_marker(marker.take())
                .send();
            let output = call(&self.door, SERVICE, "ListDistributions", request).await?;
            let Some(list) = output.distribution_list() else {
                break;
            };
            summaries.extend(list.items().iter().map(|d| DistributionSummary {
                id: d.id().to_owned(),
                arn: d.arn().to_owned(),
                origin_ids: config::origin_ids(d.origins()),
            }));
            match list.next_marker() {
                Some(next) if list.is_truncated() && !next.is_empty() => {
                    marker = Some(next.to_owned());
                }
                _ => break,
            }
        }
        Ok(summaries)
    }

    /// A distribution with its status, ETag and managed config; `None` when
    /// it does not exist.
    pub async fn get_distribution(
        &self,
        id: &str,
    ) -> Result<Option<DistributionObserved>, AwsError> {
        const OPERATION: &str = "GetDistribution";
        let request = self.client.get_distribution().id(id).send();
        let output = match call(&self.door, SERVICE, OPERATION, request).await {
            Ok(output) => output,
            Err(e) if e.is_not_found() => {
                self.unmanaged_by_id().remove(id);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        self.remember(output.distribution());
        observed(OPERATION, output.distribution(), output.e_tag()).map(Some)
    }

    /// The owner tag of a distribution (by ARN); `None` when it has none or
    /// does not exist.
    pub async fn owner_of(&self, arn: &str) -> Result<Option<String>, AwsError> {
        Ok(self.tags_of(arn).await?.remove(OWNER_TAG_KEY))
    }

    /// Every tag of a distribution (by ARN); none when it does not exist.
    pub async fn tags_of(&self, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let request = self.client.list_tags_for_resource().resource(arn).send();
        match call(&self.door, SERVICE, "ListTagsForResource", request).await {
            Ok(output) => Ok(output
                .tags()
                .map(Tags::items)
                .unwrap_or_default()
                .iter()
                .map(|tag| {
                    (
                        tag.key().to_owned(),
                        tag.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect()),
            Err(e) if e.is_not_found() => Ok(BTreeMap::new()),
            Err(e) => Err(e),
        }
    }

    /// Tags a distribution (by ARN) with the owner tag `owner`: how an
    /// adopted distribution is recorded as urlguard's.
    pub async fn tag_owner(&self, arn: &str, owner: &str) -> Result<(), AwsError> {
        const OPERATION: &str = "TagResource";
        let tag = Tag::builder()
            .key(OWNER_TAG_KEY)
            .value(owner)
            .build()
            .map_err(|e| AwsError::construction(SERVICE, OPERATION, e.to_string()))?;
        let request = self
            .client
            .tag_resource()
            .resource(arn)
            .tags(Tags::builder().items(tag).build())
            .send();
        call(&self.door, SERVICE, OPERATION, request).await?;
        Ok(())
    }

    /// Removes the owner tag from a distribution (by ARN): an adopted
    /// distribution handed back. One that does not exist is fine.
    pub async fn untag_owner(&self, arn: &str) -> Result<(), AwsError> {
        let request = self
            .client
            .untag_resource()
            .resource(arn)
            .tag_keys(
                aws_sdk_cloudfront::types::TagKeys::builder()
                    .items(OWNER_TAG_KEY)
                    .build(),
            )
            .send();
        match call(&self.door, SERVICE, "UntagResource", request).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Creates a distribution with its tags (which include the owner tag).
    /// A reused caller reference is [`AwsError::DistributionAlreadyExists`].
    pub async fn create_distribution(
        &self,
        shape: &DistributionShape,
        tags: &BTreeMap<String, String>,
    ) -> Result<DistributionObserved, AwsError> {
        const OPERATION: &str = "CreateDistributionWithTags";
        let construction = |e: aws_sdk_cloudfront::error::BuildError| {
            AwsError::construction(SERVICE, OPERATION, e.to_string())
        };
        let distribution_config = config::render(shape).map_err(construction)?;
        let tags = tags
            .iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(construction)?;
        let request = self
            .client
            .create_distribution_with_tags()
            .distribution_config_with_tags(
                DistributionConfigWithTags::builder()
                    .distribution_config(distribution_config)
                    .tags(Tags::builder().set_items(Some(tags)).build())
                    .build(),
            )
            .send();
        let output = call(&self.door, SERVICE, OPERATION, request).await?;
        self.remember(output.distribution());
        observed(OPERATION, output.distribution(), output.e_tag())
    }

    /// Replaces a distribution's config, if `etag` is still current; a
    /// stale one is [`AwsError::PreconditionFailed`]. What urlguard does not
    /// manage goes back as last read.
    pub async fn update_distribution(
        &self,
        id: &str,
        etag: &str,
        shape: &DistributionShape,
    ) -> Result<DistributionObserved, AwsError> {
        const OPERATION: &str = "UpdateDistribution";
        let rendered = config::render(shape)
            .map_err(|e| AwsError::construction(SERVICE, OPERATION, e.to_string()))?;
        let kept = self.unmanaged_by_id().get(id).cloned().unwrap_or_default();
        let distribution_config = unmanaged::with_unmanaged(rendered, &kept);
        let request = self
            .client
            .update_distribution()
            .id(id)
            .if_match(etag)
            .distribution_config(distribution_config)
            .send();
        let output = call(&self.door, SERVICE, OPERATION, request).await?;
        self.remember(output.distribution());
        observed(OPERATION, output.distribution(), output.e_tag())
    }

    /// Deletes a disabled, deployed distribution, if `etag` is still
    /// current; an absent one is fine. One still enabled or deploying is
    /// [`AwsError::InUse`] (`DistributionNotDisabled`).
    pub async fn delete_distribution(&self, id: &str, etag: &str) -> Result<(), AwsError> {
        let request = self
            .client
            .delete_distribution()
            .id(id)
            .if_match(etag)
            .send();
        let deleted = call(&self.door, SERVICE, "DeleteDistribution", request).await;
        if deleted.as_ref().is_ok() || deleted.as_ref().is_err_and(AwsError::is_not_found) {
            self.unmanaged_by_id().remove(id);
        }
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every origin access control of the account (page by page).
    pub async fn list_origin_access_controls(&self) -> Result<Vec<OacObserved>, AwsError> {
        let mut controls = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .client
                .list_origin_access_controls()
                .set_marker(marker.take())
                .send();
            let output = call(&self.door, SERVICE, "ListOriginAccessControls", request).await?;
            let Some(list) = output.origin_access_control_list() else {
                break;
            };
            controls.extend(list.items().iter().filter_map(|oac| {
                Some(OacObserved {
                    id: oac.id().to_owned(),
                    name: oac.name().to_owned(),
                    description: oac.description().to_owned(),
                    origin_type: origin_type_from_sdk(oac.origin_access_control_origin_type())?,
                    signs_always: oac.signing_behavior()
                        == &OriginAccessControlSigningBehaviors::Always,
                })
            }));
            match list.next_marker() {
                Some(next) if list.is_truncated() && !next.is_empty() => {
                    marker = Some(next.to_owned());
                }
                _ => break,
            }
        }
        Ok(controls)
    }

    /// Creates an origin access control (SigV4, signing always) with the
    /// `description` that records its owner. A name in use is
    /// [`AwsError::Conflict`].
    pub async fn create_origin_access_control(
        &self,
        name: &str,
        description: &str,
        origin_type: OacOriginType,
    ) -> Result<OacObserved, AwsError> {
        const OPERATION: &str = "CreateOriginAccessControl";
        let oac_config = OriginAccessControlConfig::builder()
            .name(name)
            .description(description)
            .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
            .signing_behavior(OriginAccessControlSigningBehaviors::Always)
            .origin_access_control_origin_type(origin_type_to_sdk(origin_type))
            .build()
            .map_err(|e| AwsError::construction(SERVICE, OPERATION, e.to_string()))?;
        let request = self
            .client
            .create_origin_access_control()
            .origin_access_control_config(oac_config)
            .send();
        let output = call(&self.door, SERVICE, OPERATION, request).await?;
        let oac = output.origin_access_control().ok_or_else(|| {
            AwsError::invalid_response(
                SERVICE,
                OPERATION,
                "the answer holds no origin access control",
            )
        })?;
        let written = oac.origin_access_control_config();
        Ok(OacObserved {
            id: oac.id().to_owned(),
            name: written.map_or(name, |c| c.name()).to_owned(),
            description: written
                .and_then(|c| c.description())
                .unwrap_or(description)
                .to_owned(),
            origin_type: written
                .and_then(|c| origin_type_from_sdk(c.origin_access_control_origin_type()))
                .unwrap_or(origin_type),
            signs_always: written.is_none_or(|c| {
                c.signing_behavior() == &OriginAccessControlSigningBehaviors::Always
            }),
        })
    }

    /// Deletes an origin access control (reading its ETag first); an
    /// absent one is fine, one still named by an origin is
    /// [`AwsError::InUse`].
    pub async fn delete_origin_access_control(&self, id: &str) -> Result<(), AwsError> {
        let request = self.client.get_origin_access_control().id(id).send();
        let etag = match call(&self.door, SERVICE, "GetOriginAccessControl", request).await {
            Ok(output) => output.e_tag().unwrap_or_default().to_owned(),
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let request = self
            .client
            .delete_origin_access_control()
            .id(id)
            .if_match(etag)
            .send();
        match call(&self.door, SERVICE, "DeleteOriginAccessControl", request).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A distribution answer as observed.
fn observed(
    operation: &'static str,
    distribution: Option<&Distribution>,
    etag: Option<&str>,
) -> Result<DistributionObserved, AwsError> {
    let distribution = distribution.ok_or_else(|| {
        AwsError::invalid_response(SERVICE, operation, "the answer holds no distribution")
    })?;
    let etag = etag.filter(|etag| !etag.is_empty()).ok_or_else(|| {
        AwsError::invalid_response(SERVICE, operation, "the answer carries no ETag")
    })?;
    let distribution_config = distribution.distribution_config().ok_or_else(|| {
        AwsError::invalid_response(SERVICE, operation, "the distribution has no configuration")
    })?;
    Ok(DistributionObserved {
        id: distribution.id().to_owned(),
        arn: distribution.arn().to_owned(),
        domain_name: distribution.domain_name().to_owned(),
        status: distribution.status().to_owned(),
        etag: etag.to_owned(),
        config: config::parse(distribution_config),
    })
}

fn origin_type_to_sdk(origin_type: OacOriginType) -> OriginAccessControlOriginTypes {
    match origin_type {
        OacOriginType::S3 => OriginAccessControlOriginTypes::S3,
        OacOriginType::Lambda => OriginAccessControlOriginTypes::Lambda,
    }
}

/// `None` for origin types urlguard never creates (MediaStore, ...).
fn origin_type_from_sdk(origin_type: &OriginAccessControlOriginTypes) -> Option<OacOriginType> {
    match origin_type {
        OriginAccessControlOriginTypes::S3 => Some(OacOriginType::S3),
        OriginAccessControlOriginTypes::Lambda => Some(OacOriginType::Lambda),
        _ => None,
    }
}
