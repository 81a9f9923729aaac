//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`, comma =
//! AND) and field selectors (`=`, `==`, `!=` on any dotted path such as
//! `metadata.name`, `metadata.namespace`, `type`), as list and watch accept
//! them.

use serde_json::Value;

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` / `key==value`.
    Eq(String, String),
    /// `key!=value` (also matches objects without the label).
    NotEq(String, String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)` (also matches objects without the label).
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    NotExists(String),
}

fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

fn set_values(s: &str) -> Result<Vec<String>, String> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesized set of values, got {s:?}"))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect())
}

/// Parses a label selector.
pub fn parse_labels(selector: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for term in split_top_level(selector) {
        if let Some(key) = term.strip_prefix('!') {
            out.push(Requirement::NotExists(key.trim().to_owned()));
        } else if let Some((key, values)) = term.split_once(" notin ") {
            out.push(Requirement::NotIn(
                key.trim().to_owned(),
                set_values(values)?,
            ));
        } else if let Some((key, values)) = term.split_once(" in ") {
            out.push(Requirement::In(key.trim().to_owned(), set_values(values)?));
        } else if let Some((key, value)) = term.split_once("!=") {
            out.push(Requirement::NotEq(key.trim().into(), value.trim().into()));
        } else if let Some((key, value)) = term.split_once("==") {
            out.push(Requirement::Eq(key.trim().into(), value.trim().into()));
        } else if let Some((key, value)) = term.split_once('=') {
            out.push(Requirement::Eq(key.trim().into(), value.trim().into()));
        } else if term.contains(' ') || term.contains('(') {
            return Err(format!("unable to parse requirement: {term:?}"));
        } else {
            out.push(Requirement::Exists(term));
        }
    }
    Ok(out)
}

/// Whether an object's labels satisfy every requirement.
pub fn labels_match(requirements: &[Requirement], object: &Value) -> bool {
    let labels = object.pointer("/metadata/labels");
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    requirements.iter().all(|r| match r {
        Requirement::Eq(k, v) => label(k) == Some(v.as_str()),
        Requirement::NotEq(k, v) => label(k) != Some(v.as_str()),
        Requirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
        Requirement::NotIn(k, vs) => !label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
        Requirement::Exists(k) => label(k).is_some(),
        Requirement::NotExists(k) => label(k).is_none(),
    })
}

/// One field requirement: path, value, negated.
pub type FieldRequirement = (String, String, bool);

/// Parses a field selector.
pub fn parse_fields(selector: &str) -> Result<Vec<FieldRequirement>, String> {
    split_top_level(selector)
        .into_iter()
        .map(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                Ok((k.trim().to_owned(), v.trim().to_owned(), true))
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                Ok((k.trim().to_owned(), v.trim().to_owned(), false))
            } else {
                Err(format!(
                    "invalid selector: '{term}'; can't understand '{term}'"
                ))
            }
        })
        .collect()
}

/// Whether an object's fields satisfy every requirement.
pub fn fields_match(requirements: &[FieldRequirement], object: &Value) -> bool {
    requirements.iter().all(|(path, want, negated)| {
        let mut current = Some(object);
        for part in path.split('.') {
            current = current.and_then(|c| c.get(part));
        }
        let got = match current {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        (got == *want) != *negated
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// API conventions (labels): set-based and equality-based requirements,
    /// ANDed; `!=` and `notin` match objects without the key.
    #[test]
    fn label_selectors_follow_the_conventions() {
        let obj = json!({"metadata": {"labels": {"owner": "helm", "name": "rel", "tier": "web"}}});
        let bare = json!({"metadata": {}});
        let check = |s: &str, o: &Value| labels_match(&parse_labels(s).expect(s), o);
        assert!(check("name=rel,owner=helm", &obj));
        assert!(check("owner==helm", &obj));
        assert!(!check("owner!=helm", &obj));
        assert!(check("owner!=helm", &bare));
        assert!(check("tier in (web, api)", &obj));
        assert!(!check("tier notin (web)", &obj));
        assert!(check("tier notin (web)", &bare));
        assert!(check("tier", &obj));
        assert!(check("!tier", &bare));
        assert!(!check("!tier", &obj));
        assert!(check("", &bare));
    }

    /// API conventions (field selectors): `metadata.name`,
    /// `metadata.namespace`, `=`/`==`/`!=`.
    #[test]
    fn field_selectors_match_metadata() {
        let obj = json!({"metadata": {"name": "a", "namespace": "books"}});
        let check = |s: &str| fields_match(&parse_fields(s).expect(s), &obj);
        assert!(check("metadata.name=a"));
        assert!(check("metadata.namespace==books,metadata.name!=b"));
        assert!(!check("metadata.name=b"));
    }
}
