//! `spec.geoRestriction`: the countries a distribution serves, or refuses,
//! by ISO 3166-1 alpha-2 code.
//!
//! The user-facing spelling is `Allow` / `Deny` (CloudFront's console says
//! "allow list" / "block list"); CloudFront's API calls them `whitelist` /
//! `blacklist`, and the AWS adapter maps one to the other. `None`, or no
//! `geoRestriction` at all, restricts nothing.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// Which countries' viewers CloudFront serves.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.type == 'None' ? (!has(self.locations) || size(self.locations) == 0) : (has(self.locations) && size(self.locations) > 0)")
    .message("spec.geoRestriction.locations must name at least one country when type is Allow or Deny, and none when type is None")
    .field_path(".locations"))]
pub struct GeoRestriction {
    /// `Allow`: only viewers in `locations` are served (CloudFront's
    /// `whitelist`). `Deny`: viewers in `locations` get 403 (CloudFront's
    /// `blacklist`). `None`: no restriction, as without `geoRestriction`.
    #[serde(rename = "type")]
    pub restriction_type: GeoRestrictionType,
    /// Countries as ISO 3166-1 alpha-2 codes, two upper-case letters such as
    /// `DE` or `US`, each at most once. At least one with `Allow` or
    /// `Deny`, none with `None`. At most 249: ISO 3166-1 assigns no more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 249),
        inner(regex(pattern = r"^[A-Z]{2}$")),
        extend("x-kubernetes-list-type" = "set")
    )]
    pub locations: Vec<String>,
}

/// How `locations` restricts viewers.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub enum GeoRestrictionType {
    /// Only the listed countries are served.
    Allow,
    /// The listed countries are refused.
    Deny,
    /// No country is refused.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fixtures::edge_distribution_errors;
    use serde_json::{Value, json};

    fn errors(geo: Value) -> Vec<String> {
        edge_distribution_errors(json!({
            "defaultOrigin": {"s3": {"bucketName": "shop-spa"}},
            "geoRestriction": geo,
        }))
    }

    #[test]
    fn a_restricting_type_needs_countries_and_none_takes_none() {
        assert!(errors(json!({"type": "Allow", "locations": ["DE", "FR"]})).is_empty());
        assert!(errors(json!({"type": "None"})).is_empty());
        for geo in [
            json!({"type": "Allow"}),
            json!({"type": "Deny", "locations": []}),
            json!({"type": "None", "locations": ["DE"]}),
        ] {
            assert_eq!(
                errors(geo.clone()),
                ["spec.geoRestriction.locations"],
                "{geo}"
            );
        }
    }

    #[test]
    fn countries_are_two_upper_case_letters_each_once() {
        for (locations, field) in [
            (json!(["de"]), "spec.geoRestriction.locations[0]"),
            (json!(["DEU"]), "spec.geoRestriction.locations[0]"),
            (json!(["DE", "DE"]), "spec.geoRestriction.locations[1]"),
        ] {
            assert_eq!(
                errors(json!({"type": "Deny", "locations": locations})),
                [field],
                "{locations}"
            );
        }
        let too_many: Vec<String> = (0..250)
            .map(|i| format!("{}{}", char::from(b'A' + i / 26), char::from(b'A' + i % 26)))
            .collect();
        assert_eq!(
            errors(json!({"type": "Deny", "locations": too_many})),
            ["spec.geoRestriction.locations"]
        );
    }

    #[test]
    fn the_type_is_spelled_allow_deny_or_none() {
        let geo: GeoRestriction =
            serde_json::from_value(serde_json::json!({"type": "Deny", "locations": ["RU"]}))
                .expect("parses");
        assert_eq!(geo.restriction_type, GeoRestrictionType::Deny);
        let none: GeoRestriction =
            serde_json::from_value(serde_json::json!({"type": "None"})).expect("parses");
        assert!(none.locations.is_empty());
        assert!(
            serde_json::from_value::<GeoRestriction>(serde_json::json!({"type": "whitelist"}))
                .is_err(),
            "CloudFront's spelling is not the resource's"
        );
    }
}
