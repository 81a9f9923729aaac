//! `spec.configMapExport`: publishing an object's outputs (URLs, ARNs,
//! ids) in a ConfigMap of its own namespace, for workloads to read.
//!
//! After a reconcile pass writes an object's status, this reads the
//! declared ConfigMap and writes it by server-side apply (field manager
//! `urlguard`) only when it lacks what the pass learnt ([`outputs`]), so a
//! resync of an unchanged object costs one read and no write. A ConfigMap
//! of that name the object does not own is never written: the export is
//! refused ([`decision`]). The ConfigMaps the status records
//! (`status.exportedConfigMaps`) and the spec no longer declares (the
//! export removed or renamed) are deleted, when the object still owns
//! them. The outcome goes into the status the pass writes: the condition
//! `ConfigMapExported` and the record; refusals and failures are also
//! warning events.
//!
//! The object is the ConfigMap's controller owner, so Kubernetes' garbage
//! collector deletes it with the object; urlguard itself never deletes a
//! ConfigMap it does not own. A Kubernetes error is the condition's
//! message and is tried again on the next pass; only a closed write gate
//! (the lease lost) fails the reconcile.

mod decision;
mod outputs;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::runtime::events::EventType;

use super::cache::content;
use super::context::Context;
use super::error::ReconcileError;
use super::objects::namespace_of;
use super::status::FIELD_MANAGER;
use crate::api::{ConfigMapExport, DISTRIBUTION_SUFFIX, URL_SUFFIX};
use crate::reconcile::report::condition;
use crate::reconcile::{ConditionType, EventReason, Kind, Reason, Status};
use decision::{Owner, Step};
pub use outputs::Learnt;

/// What exporting did for one object, for its status.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// `ConfigMapExported`, when the spec declares an export.
    condition: Option<Condition>,
    /// The ConfigMaps the object owns now (`None`: it never had one and
    /// declares none, so its status says nothing of them).
    record: Option<Vec<String>>,
}

impl Exported {
    /// `status` with the condition and the record added.
    pub fn into_status(self, mut status: Status) -> Status {
        let (conditions, record) = match &mut status {
            Status::Distribution(s) => (&mut s.conditions, &mut s.exported_config_maps),
            Status::Url(s) => (&mut s.conditions, &mut s.exported_config_maps),
        };
        conditions.extend(self.condition);
        if self.record.is_some() {
            *record = self.record;
        }
        status
    }
}

/// Exports `object` (of `resource`) after a pass that `learnt` its
/// outputs: writes or refuses the declared ConfigMap, deletes the stale
/// ones, and says so in events.
pub async fn export(
    context: &Context,
    resource: &ApiResource,
    object: &DynamicObject,
    learnt: &Learnt,
) -> Result<Exported, ReconcileError> {
    let content = content(object);
    let declared: Option<ConfigMapExport> = content
        .pointer("/spec/configMapExport")
        .and_then(|export| serde_json::from_value(export.clone()).ok());
    let record: Vec<String> = content
        .pointer("/status/exportedConfigMaps")
        .and_then(|record| serde_json::from_value(record.clone()).ok())
        .unwrap_or_default();
    if declared.is_none() && record.is_empty() {
        return Ok(Exported {
            condition: None,
            record: None,
        });
    }
    let Some(uid) = object.uid() else {
        // Objects read from the API server always have one.
        tracing::warn!(object = %object.name_any(), "no uid: nothing to own a ConfigMap");
        return Ok(Exported {
            condition: None,
            record: None,
        });
    };
    let owner = Owner {
        api_version: resource.api_version.clone(),
        kind: resource.kind.clone(),
        namespace: namespace_of(object),
        name: object.name_any(),
        uid,
    };
    let api: Api<ConfigMap> = Api::namespaced(context.client.clone(), &owner.namespace);
    let suffix = if owner.kind == Kind::EdgeDistribution.as_str() {
        DISTRIBUTION_SUFFIX
    } else {
        URL_SUFFIX
    };
    let mut warnings = Vec::new();
    let mut kept = Vec::new();
    let mut condition = None;
    let mut declared_name = None;
    match declared.map(|export| export.name_for(&owner.name, suffix)) {
        None => {}
        Some(Err(too_long)) => {
            // The object's name never changes, so neither does its default
            // ConfigMap name: nothing was ever written under it, and the
            // record stays as it is.
            let message = too_long.to_string();
            let condition = failed(Reason::ConfigMapExportFailed, &message);
            let warnings = vec![(Reason::ConfigMapExportFailed, message)];
            return finish(context, resource, object, warnings, Some(condition), record).await;
        }
        Some(Ok(name)) => {
            let recorded = record.contains(&name);
            match write(context, &api, &owner, &name, learnt, recorded).await? {
                Written::Holds => {
                    let message = format!(
                        "ConfigMap {}/{name} holds this object's outputs",
                        owner.namespace
                    );
                    condition = Some(condition_of(true, Reason::Exported, &message));
                    kept.push(name.clone());
                }
                Written::Refused(message) => {
                    condition = Some(failed(Reason::ConfigMapNotOwned, &message));
                    warnings.push((Reason::ConfigMapNotOwned, message));
                }
                Written::Failed { message, owned } => {
                    condition = Some(failed(Reason::ConfigMapExportFailed, &message));
                    warnings.push((Reason::ConfigMapExportFailed, message));
                    if owned {
                        kept.push(name.clone());
                    }
                }
            }
            declared_name = Some(name);
        }
    }
    for stale in decision::stale(&record, declared_name.as_deref()) {
        if let Err(message) = delete(context, &api, &owner, &stale).await? {
            warnings.push((Reason::ConfigMapExportFailed, message));
            kept.push(stale);
        }
    }
    finish(context, resource, object, warnings, condition, kept).await
}

/// Publishes the warnings and gives the outcome.
async fn finish(
    context: &Context,
    resource: &ApiResource,
    object: &DynamicObject,
    warnings: Vec<(Reason, String)>,
    condition: Option<Condition>,
    kept: Vec<String>,
) -> Result<Exported, ReconcileError> {
    for (reason, message) in warnings {
        context
            .event(
                resource,
                object,
                EventType::Warning,
                EventReason::Condition(reason),
                message,
            )
            .await;
    }
    Ok(Exported {
        condition,
        record: Some(kept),
    })
}

fn condition_of(status: bool, reason: Reason, message: &str) -> Condition {
    condition(ConditionType::ConfigMapExported, status, reason, message)
}

fn failed(reason: Reason, message: &str) -> Condition {
    condition_of(false, reason, message)
}

/// How writing the declared ConfigMap went.
enum Written {
    /// It holds the outputs (written now, or already).
    Holds,
    /// Someone else's: not written.
    Refused(String),
    /// The Kubernetes API failed; `owned` when the ConfigMap is the
    /// object's all the same (found so, or recorded), to keep it recorded.
    Failed { message: String, owned: bool },
}

/// Reads ConfigMap `name` and applies what `learnt` asks, if anything.
async fn write(
    context: &Context,
    api: &Api<ConfigMap>,
    owner: &Owner,
    name: &str,
    learnt: &Learnt,
    recorded: bool,
) -> Result<Written, ReconcileError> {
    let found = match api.get_opt(name).await {
        Ok(found) => found,
        Err(error) => {
            return Ok(Written::Failed {
                message: format!(
                    "reading ConfigMap {}/{name}: {}",
                    owner.namespace,
                    said(&error)
                ),
                owned: recorded,
            });
        }
    };
    let (config_map, force) =
        match decision::step(owner, name, learnt, found.as_ref(), FIELD_MANAGER) {
            Step::UpToDate => return Ok(Written::Holds),
            Step::Refuse { message } => return Ok(Written::Refused(message)),
            Step::Apply { config_map, force } => (config_map, force),
        };
    context.writable()?;
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if force {
        params = params.force();
    }
    match api.patch(name, &params, &Patch::Apply(&config_map)).await {
        Ok(_) => {
            tracing::info!(namespace = %owner.namespace, config_map = %name, "ConfigMap written");
            Ok(Written::Holds)
        }
        Err(error) => Ok(Written::Failed {
            message: format!(
                "writing ConfigMap {}/{name}: {}",
                owner.namespace,
                said(&error)
            ),
            owned: found.is_some(),
        }),
    }
}

/// A Kubernetes error as the condition says it: a refusal by RBAC says
/// where the grant comes from.
fn said(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(response) if response.code == 403 => format!(
            "{error} (the controller may not use ConfigMaps in this namespace: the Helm chart grants it with configMapExport.enabled and configMapExport.namespaces)"
        ),
        _ => error.to_string(),
    }
}

/// Deletes ConfigMap `name` if the object owns it (precondition: the uid
/// read, so a ConfigMap someone made under that name meanwhile stays).
/// `Ok(Err)` says why it could not be, to try again on the next pass.
async fn delete(
    context: &Context,
    api: &Api<ConfigMap>,
    owner: &Owner,
    name: &str,
) -> Result<Result<(), String>, ReconcileError> {
    let found = match api.get_opt(name).await {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(Ok(())),
        Err(error) => {
            return Ok(Err(format!(
                "reading ConfigMap {}/{name}, no longer declared: {}",
                owner.namespace,
                said(&error)
            )));
        }
    };
    if !owner.owns(&found) {
        tracing::info!(namespace = %owner.namespace, config_map = %name, "ConfigMap no longer declared is not this object's: left alone");
        return Ok(Ok(()));
    }
    context.writable()?;
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: found.metadata.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => {
            tracing::info!(namespace = %owner.namespace, config_map = %name, "ConfigMap no longer declared: deleted");
            Ok(Ok(()))
        }
        Err(kube::Error::Api(response)) if response.code == 404 => Ok(Ok(())),
        Err(error) => Ok(Err(format!(
            "deleting ConfigMap {}/{name}, no longer declared: {}",
            owner.namespace,
            said(&error)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProtectedFunctionUrlStatus;
    use crate::controller::cache::slim;
    use crate::controller::objects::url_resource;

    #[test]
    fn the_outcome_adds_its_condition_and_record_to_the_status() {
        let exported = Exported {
            condition: Some(failed(
                Reason::ConfigMapNotOwned,
                "spec.configMapExport.name: no",
            )),
            record: Some(vec!["old".into()]),
        };
        let Status::Url(status) = exported.into_status(Status::Url(ProtectedFunctionUrlStatus {
            conditions: vec![condition(
                ConditionType::Ready,
                true,
                Reason::Protected,
                "ok",
            )],
            ..ProtectedFunctionUrlStatus::default()
        })) else {
            unreachable!()
        };
        let types: Vec<(&str, &str)> = status
            .conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.reason.as_str()))
            .collect();
        assert_eq!(
            types,
            [
                ("Ready", "Protected"),
                ("ConfigMapExported", "ConfigMapNotOwned")
            ]
        );
        assert_eq!(status.exported_config_maps, Some(vec!["old".to_owned()]));

        let nothing = Exported {
            condition: None,
            record: None,
        };
        let kept = Status::Url(ProtectedFunctionUrlStatus {
            exported_config_maps: Some(vec!["x".into()]),
            ..ProtectedFunctionUrlStatus::default()
        });
        assert_eq!(nothing.into_status(kept.clone()), kept);
    }

    #[test]
    fn the_record_survives_the_cache() {
        let mut object: DynamicObject = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "get-books", "namespace": "books", "uid": "u1"},
            "spec": {"configMapExport": {"name": "books-urls"}},
            "status": {"exportedConfigMaps": ["books-urls"], "protectedUrl": "https://d/x"},
        }))
        .expect("an object");
        slim(&mut object, &url_resource());
        let content = content(&object);
        assert_eq!(
            content["status"]["exportedConfigMaps"],
            serde_json::json!(["books-urls"])
        );
        assert_eq!(content["spec"]["configMapExport"]["name"], "books-urls");
    }
}
