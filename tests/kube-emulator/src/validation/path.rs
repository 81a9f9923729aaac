//! Field paths as the API server prints them (apimachinery's `field.Path`):
//! `spec.aliases[0]` for a property and an array item, `spec.tags[key]`
//! for a map value in the list-type and CEL checks. The OpenAPI checks
//! name map values with a dot instead (`spec.tags.key`), as kube-openapi
//! does; both use [`child`] for that.

/// `parent.name` (just `name` at the root).
pub fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// `parent[key]`, a map value.
pub fn key(parent: &str, key: &str) -> String {
    format!("{parent}[{key}]")
}

/// `parent[index]`, an array item.
pub fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}
