//! SSM Parameter Store in one region: the `String` parameters urlguard
//! publishes (function URL and ARN, distribution id and domain), tagged with
//! their owner.
//!
//! `PutParameter` cannot combine `Tags` with `Overwrite`, so a parameter is
//! created with its tags ([`Ssm::create_parameter`], refused when it exists)
//! and changed later without them ([`Ssm::overwrite_parameter`]); ownership
//! is read with `ListTagsForResource` ([`Ssm::owner_of`]). Both say
//! `Overwrite` explicitly: the controller's policy tells a create
//! (`ssm:Overwrite` = `false`, the owner tag in the request) from an
//! overwrite (`true`, the owner tag on the parameter) by that key.

use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};

use super::call::Door;
use super::call::call;
use super::error::AwsError;
use crate::model::OWNER_TAG_KEY;
use crate::model::ssm::{DesiredParameter, ParameterObserved};

pub(super) const SERVICE: &str = "ssm";

/// `GetParameters` takes at most this many names.
const GET_PARAMETERS_BATCH: usize = 10;

/// SSM in one region.
#[derive(Debug, Clone)]
pub struct Ssm {
    client: aws_sdk_ssm::Client,
    door: Door,
}

impl Ssm {
    pub(super) fn new(client: aws_sdk_ssm::Client, door: Door) -> Ssm {
        Ssm { client, door }
    }

    /// The region this adapter calls.
    pub fn region(&self) -> &str {
        self.client.config().region().map_or("", |r| r.as_ref())
    }

    /// The parameters that exist among `names` (`GetParameters`, ten names
    /// per call); missing names are simply absent from the answer.
    pub async fn get_parameters(
        &self,
        names: &[String],
    ) -> Result<Vec<ParameterObserved>, AwsError> {
        let mut found = Vec::new();
        for batch in names.chunks(GET_PARAMETERS_BATCH) {
            let output = call(
                &self.door,
                SERVICE,
                "GetParameters",
                self.client
                    .get_parameters()
                    .set_names(Some(batch.to_vec()))
                    .send(),
            )
            .await?;
            found.extend(output.parameters().iter().filter_map(|p| {
                Some(ParameterObserved {
                    name: p.name()?.to_owned(),
                    value: p.value().unwrap_or_default().to_owned(),
                })
            }));
        }
        Ok(found)
    }

    /// The owner tag of a parameter; `None` when it has none or does not
    /// exist (`ListTagsForResource`).
    pub async fn owner_of(&self, name: &str) -> Result<Option<String>, AwsError> {
        let request = self
            .client
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send();
        match call(&self.door, SERVICE, "ListTagsForResource", request).await {
            Ok(output) => Ok(output
                .tag_list()
                .iter()
                .find(|tag| tag.key() == OWNER_TAG_KEY)
                .map(|tag| tag.value().to_owned())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a `String` parameter tagged with its owner; one that exists
    /// already is [`AwsError::Conflict`] (`ParameterAlreadyExists`).
    pub async fn create_parameter(&self, parameter: &DesiredParameter) -> Result<(), AwsError> {
        let tag = Tag::builder()
            .key(OWNER_TAG_KEY)
            .value(&parameter.owner)
            .build()
            .map_err(|e| AwsError::construction(SERVICE, "PutParameter", e.to_string()))?;
        let request = self
            .client
            .put_parameter()
            .name(&parameter.name)
            .value(&parameter.value)
            .r#type(ParameterType::String)
            .overwrite(false)
            .tags(tag)
            .send();
        call(&self.door, SERVICE, "PutParameter", request).await?;
        Ok(())
    }

    /// Replaces the value of an existing parameter (`Overwrite`, no tags).
    pub async fn overwrite_parameter(&self, parameter: &DesiredParameter) -> Result<(), AwsError> {
        let request = self
            .client
            .put_parameter()
            .name(&parameter.name)
            .value(&parameter.value)
            .r#type(ParameterType::String)
            .overwrite(true)
            .send();
        call(&self.door, SERVICE, "PutParameter", request).await?;
        Ok(())
    }

    /// Deletes a parameter; one that does not exist is fine.
    pub async fn delete_parameter(&self, name: &str) -> Result<(), AwsError> {
        let request = self.client.delete_parameter().name(name).send();
        match call(&self.door, SERVICE, "DeleteParameter", request).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
