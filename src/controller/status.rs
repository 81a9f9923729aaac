//! Writing what a reconcile found into the status subresource: by
//! server-side apply with field manager `urlguard`, conditions carrying the
//! object's generation and keeping their `lastTransitionTime` while their
//! status stays the same, and no write at all when nothing changed (a
//! status write is a watch event for every client). The caches keep only a
//! slim status with a digest of the whole ([`super::cache`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::cache::{DIGEST, content, digest};
use super::objects::namespace_of;
use crate::api::{EdgeDistributionStatus, ProtectedFunctionUrlStatus};
use crate::reconcile::report::condition;
use crate::reconcile::{ConditionType, Kind, Reason, Status};

/// The field manager of every status urlguard writes.
pub const FIELD_MANAGER: &str = "urlguard";

/// The conditions to write: `lastTransitionTime` kept from `old` where the
/// same type has the same status, `observedGeneration` set to `generation`.
pub fn settle(new: &[Condition], old: &[Condition], generation: Option<i64>) -> Vec<Condition> {
    new.iter()
        .map(|condition| {
            let mut settled = condition.clone();
            settled.observed_generation = generation;
            if let Some(before) = old
                .iter()
                .find(|o| o.type_ == condition.type_ && o.status == condition.status)
            {
                settled.last_transition_time = before.last_transition_time.clone();
            }
            settled
        })
        .collect()
}

/// A status with its conditions settled against the object's current one
/// and `observedGeneration` set.
pub fn settled(status: &Status, object: &DynamicObject) -> Status {
    let generation = object.metadata.generation;
    match status {
        Status::Distribution(new) => {
            let old: EdgeDistributionStatus = current(object).unwrap_or_default();
            Status::Distribution(EdgeDistributionStatus {
                observed_generation: generation,
                conditions: settle(&new.conditions, &old.conditions, generation),
                exported_parameters: exported(&new.exported_parameters, old.exported_parameters),
                exported_config_maps: exported(&new.exported_config_maps, old.exported_config_maps),
                distribution_id: hint(&new.distribution_id, old.distribution_id),
                ..new.clone()
            })
        }
        Status::Url(new) => {
            let old: ProtectedFunctionUrlStatus = current(object).unwrap_or_default();
            Status::Url(ProtectedFunctionUrlStatus {
                observed_generation: generation,
                conditions: settle(&new.conditions, &old.conditions, generation),
                exported_parameters: exported(&new.exported_parameters, old.exported_parameters),
                exported_config_maps: exported(&new.exported_config_maps, old.exported_config_maps),
                distribution_id: hint(&new.distribution_id, old.distribution_id),
                ..new.clone()
            })
        }
    }
}

/// Where the distribution was last seen: the id this pass read, else the
/// one reported before. A pass that could not read the distribution (an
/// AWS error, a teardown denied) must not make the next one list every
/// distribution to find it again, nor a given-up teardown lose its id
/// (`plan::desired::known_distribution_id`: an id that no longer proves
/// the owner's is only a hint, and the next pass lists anyway).
fn hint(new: &Option<String>, old: Option<String>) -> Option<String> {
    new.clone().or(old)
}

/// A record of what urlguard wrote (SSM parameters, ConfigMaps): the new
/// one when the pass made it, otherwise the one kept. A pass that did not
/// get as far (a rejected spec, a function not opted in, an invalid
/// object, a teardown) must not forget what an earlier pass wrote, or a
/// later rename would orphan it.
fn exported<T: Clone>(new: &Option<Vec<T>>, old: Option<Vec<T>>) -> Option<Vec<T>> {
    new.clone().or(old)
}

/// The status an object has now, if it decodes.
fn current<T: DeserializeOwned>(object: &DynamicObject) -> Option<T> {
    content(object)
        .get("status")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
}

/// Whether writing `status` would change the object.
pub fn changes(status: &Status, object: &DynamicObject) -> bool {
    if let Some(kept) = content(object)
        .get("status")
        .and_then(|status| status.get(DIGEST))
        .and_then(serde_json::Value::as_str)
    {
        return kept != digest(status);
    }
    match status {
        Status::Distribution(new) => {
            current::<EdgeDistributionStatus>(object).as_ref() != Some(new)
        }
        Status::Url(new) => current::<ProtectedFunctionUrlStatus>(object).as_ref() != Some(new),
    }
}

/// The status of an object whose spec the schema refuses: `Ready=False`,
/// reason `InvalidSpec`, the message naming the field.
pub fn invalid(resource: &ApiResource, message: &str) -> Status {
    refused(
        resource,
        Reason::InvalidSpec,
        &format!("{message}; nothing was changed in AWS"),
    )
}

/// The status of an object refused before any AWS call: `Ready=False`
/// with `reason` and `message`, nothing else.
pub fn refused(resource: &ApiResource, reason: Reason, message: &str) -> Status {
    let conditions = vec![condition(ConditionType::Ready, false, reason, message)];
    if resource.kind == Kind::EdgeDistribution.as_str() {
        Status::Distribution(EdgeDistributionStatus {
            conditions,
            ..EdgeDistributionStatus::default()
        })
    } else {
        Status::Url(ProtectedFunctionUrlStatus {
            conditions,
            ..ProtectedFunctionUrlStatus::default()
        })
    }
}

/// Applies `status` (settled against `object`) to the status subresource,
/// unless it is already there. Returns whether it wrote.
pub async fn write(
    client: &Client,
    resource: &ApiResource,
    object: &DynamicObject,
    status: &Status,
) -> Result<bool, kube::Error> {
    let status = settled(status, object);
    if !changes(&status, object) {
        return Ok(false);
    }
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &namespace_of(object), resource);
    let patch = apply_patch(resource, &status);
    api.patch_status(
        &object.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(patch),
    )
    .await?;
    Ok(true)
}

fn apply_patch(resource: &ApiResource, status: &impl Serialize) -> serde_json::Value {
    json!({
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ExportedParameter;
    use crate::controller::cache::slim_status;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn at(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).expect("a timestamp"))
    }

    fn ready(status: bool, reason: Reason, message: &str) -> Condition {
        condition(ConditionType::Ready, status, reason, message)
    }

    fn with_time(mut c: Condition, seconds: i64) -> Condition {
        c.last_transition_time = at(seconds);
        c
    }

    #[test]
    fn transition_time_moves_only_when_the_status_flips() {
        let old = vec![
            with_time(ready(false, Reason::Deploying, "deploying"), 100),
            with_time(
                condition(ConditionType::Deploying, true, Reason::InProgress, "x"),
                100,
            ),
        ];
        let new = vec![
            with_time(ready(false, Reason::Pending, "other reason"), 500),
            with_time(
                condition(ConditionType::Deploying, false, Reason::Deployed, "y"),
                500,
            ),
        ];
        let settled = settle(&new, &old, Some(3));
        assert_eq!(settled[0].last_transition_time, at(100), "same status");
        assert_eq!(
            settled[0].reason,
            Reason::Pending.as_str(),
            "reason and message follow"
        );
        assert_eq!(settled[1].last_transition_time, at(500), "flipped");
        assert!(settled.iter().all(|c| c.observed_generation == Some(3)));
    }

    #[test]
    fn a_pass_without_a_record_keeps_the_one_written_before() {
        let record = vec![ExportedParameter {
            region: "us-east-1".into(),
            name: "/books/GetBooksUrl".into(),
        }];
        let mut object: DynamicObject = serde_json::from_value(json!({
            "metadata": {"name": "get-books", "namespace": "books", "generation": 2},
            "status": {"exportedParameters": record},
        }))
        .expect("object");
        // A rejected spec or a function not opted in: the report has none.
        let rejected = Status::Url(ProtectedFunctionUrlStatus {
            conditions: vec![ready(false, Reason::ParameterOutsidePrefix, "no")],
            ..ProtectedFunctionUrlStatus::default()
        });
        let Status::Url(kept) = settled(&rejected, &object) else {
            unreachable!()
        };
        assert_eq!(kept.exported_parameters, Some(record.clone()));
        // A pass that wrote says what it wrote, an empty record included.
        let retired = Status::Url(ProtectedFunctionUrlStatus {
            exported_parameters: Some(Vec::new()),
            ..ProtectedFunctionUrlStatus::default()
        });
        let Status::Url(replaced) = settled(&retired, &object) else {
            unreachable!()
        };
        assert_eq!(replaced.exported_parameters, Some(Vec::new()));
        object.data["status"] = json!({});
        let Status::Url(none) = settled(&rejected, &object) else {
            unreachable!()
        };
        assert_eq!(none.exported_parameters, None);
    }

    #[test]
    fn a_pass_that_could_not_read_the_distribution_keeps_its_id() {
        let object: DynamicObject = serde_json::from_value(json!({
            "metadata": {"name": "books", "namespace": "books", "generation": 2},
            "status": {"distributionId": "E1", "domainName": "d1.cloudfront.net"},
        }))
        .expect("object");
        let denied = Status::Distribution(EdgeDistributionStatus {
            conditions: vec![ready(false, Reason::AwsError, "AccessDenied")],
            ..EdgeDistributionStatus::default()
        });
        let Status::Distribution(kept) = settled(&denied, &object) else {
            unreachable!()
        };
        assert_eq!(kept.distribution_id.as_deref(), Some("E1"));
        assert_eq!(kept.domain_name, None, "outputs say what this pass found");
        let moved = Status::Distribution(EdgeDistributionStatus {
            distribution_id: Some("E2".into()),
            ..EdgeDistributionStatus::default()
        });
        let Status::Distribution(found) = settled(&moved, &object) else {
            unreachable!()
        };
        assert_eq!(found.distribution_id.as_deref(), Some("E2"));
    }

    #[test]
    fn an_unchanged_status_is_not_written_again() {
        let status = Status::Url(ProtectedFunctionUrlStatus {
            conditions: vec![with_time(ready(true, Reason::Protected, "ok"), 100)],
            protected_url: Some("https://d.cloudfront.net/getBooks".into()),
            ..ProtectedFunctionUrlStatus::default()
        });
        let mut object: DynamicObject = serde_json::from_value(json!({
            "metadata": {"name": "get-books", "namespace": "books", "generation": 2},
        }))
        .expect("object");
        let first = settled(&status, &object);
        assert!(changes(&first, &object));
        object.data["status"] = serde_json::to_value(&first).expect("json");
        let again = Status::Url(ProtectedFunctionUrlStatus {
            conditions: vec![with_time(ready(true, Reason::Protected, "ok"), 900)],
            protected_url: Some("https://d.cloudfront.net/getBooks".into()),
            ..ProtectedFunctionUrlStatus::default()
        });
        assert!(!changes(&settled(&again, &object), &object));
        object.metadata.generation = Some(3);
        assert!(
            changes(&settled(&again, &object), &object),
            "a new generation is news"
        );
    }

    #[test]
    fn a_slim_status_keeps_what_reconciles_read_and_still_tells_changes() {
        let status = Status::Url(ProtectedFunctionUrlStatus {
            conditions: vec![with_time(
                ready(true, Reason::Protected, "a long message"),
                100,
            )],
            protected_url: Some("https://d.cloudfront.net/getBooks".into()),
            function_url: Some("https://abc.lambda-url.eu-west-1.on.aws/".into()),
            distribution_id: Some("E2QWRUHEXAMPLE".into()),
            ..ProtectedFunctionUrlStatus::default()
        });
        let mut object: DynamicObject = serde_json::from_value(json!({
            "metadata": {"name": "get-books", "namespace": "books", "generation": 2},
        }))
        .expect("object");
        let written = settled(&status, &object);
        let whole = serde_json::to_value(&written).expect("json");
        object.data["status"] = slim_status(&whole, "ProtectedFunctionUrl");

        let kept = &object.data["status"];
        assert!(kept.get("protectedUrl").is_none() && kept.get("functionUrl").is_none());
        assert_eq!(kept["observedGeneration"], 2);
        assert_eq!(kept["distributionId"], "E2QWRUHEXAMPLE");
        assert_eq!(kept["conditions"][0]["status"], "True");
        assert_eq!(kept["conditions"][0]["message"], "");
        let read_back: ProtectedFunctionUrlStatus = current(&object).expect("decodes");
        assert_eq!(
            read_back.conditions[0].last_transition_time,
            at(100),
            "lastTransitionTime survives"
        );

        assert!(!changes(&settled(&status, &object), &object));
        let moved = Status::Url(ProtectedFunctionUrlStatus {
            protected_url: Some("https://d.cloudfront.net/books".into()),
            ..match &status {
                Status::Url(url) => url.clone(),
                Status::Distribution(_) => unreachable!(),
            }
        });
        assert!(changes(&settled(&moved, &object), &object));
    }
}
