//! Whether a URL's `spec.function` changed since urlguard last applied it,
//! told from what AWS holds: the URL's ARN parameter publishes the function
//! urlguard protected for it (qualified when an alias is used). A manifest
//! file carries no record of earlier applies, and moving a URL to another
//! function would leave the old function's URL config and grants behind,
//! so such a change is refused before anything is written (in the cluster
//! the CRD refuses it: `spec.function` is immutable).

use crate::api::FunctionRef;

/// The function a published ARN names: `(region, name, qualifier)`.
/// `None` when the value is not a Lambda function ARN (someone else wrote
/// it; the parameter plan deals with that).
pub fn published_function(arn: &str) -> Option<(&str, &str, Option<&str>)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", region, _, "function", name] => Some((region, name, None)),
        ["arn", _, "lambda", region, _, "function", name, qualifier] => {
            Some((region, name, Some(qualifier)))
        }
        _ => None,
    }
}

/// Whether the published ARN names another function than `spec` (another
/// name, region or alias). A value that is not a function ARN is no
/// evidence of a change.
pub fn names_another_function(published_arn: &str, spec: &FunctionRef) -> bool {
    let Some((region, name, qualifier)) = published_function(published_arn) else {
        return false;
    };
    // `spec.function.name` is a name or an unqualified ARN.
    let spec_name = spec.name.rsplit(':').next().unwrap_or(&spec.name);
    region != spec.region || name != spec_name || qualifier != spec.qualifier.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, region: &str, qualifier: Option<&str>) -> FunctionRef {
        FunctionRef {
            name: name.into(),
            region: region.into(),
            qualifier: qualifier.map(str::to_owned),
        }
    }

    const PUBLISHED: &str = "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books";

    #[test]
    fn the_same_function_is_no_change_however_it_is_named() {
        assert!(!names_another_function(
            PUBLISHED,
            &spec("books-get-books", "eu-west-1", None)
        ));
        assert!(!names_another_function(
            PUBLISHED,
            &spec(PUBLISHED, "eu-west-1", None)
        ));
        let aliased = format!("{PUBLISHED}:live");
        assert!(!names_another_function(
            &aliased,
            &spec("books-get-books", "eu-west-1", Some("live"))
        ));
    }

    #[test]
    fn another_name_region_or_alias_is_a_change() {
        for other in [
            spec("books-get-book", "eu-west-1", None),
            spec("books-get-books", "us-west-2", None),
            spec("books-get-books", "eu-west-1", Some("live")),
        ] {
            assert!(names_another_function(PUBLISHED, &other), "{other:?}");
        }
        assert!(names_another_function(
            &format!("{PUBLISHED}:live"),
            &spec("books-get-books", "eu-west-1", None)
        ));
    }

    #[test]
    fn a_value_that_is_no_function_arn_is_no_evidence() {
        for value in [
            "theirs",
            "",
            "arn:aws:s3:::bucket",
            "https://x.lambda-url.eu-west-1.on.aws/",
        ] {
            assert!(
                !names_another_function(value, &spec("f", "eu-west-1", None)),
                "{value}"
            );
            assert_eq!(published_function(value), None);
        }
    }
}
