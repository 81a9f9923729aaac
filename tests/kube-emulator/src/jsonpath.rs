//! The JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[*].b`,
//! `.a['b']` and filters `[?(@.k=="v")]` (also `!=`). Anything else
//! evaluates to nothing (the cell shows `<none>`), never an error.

use serde_json::Value;

#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Index(usize),
    All,
    Filter {
        path: Vec<String>,
        value: String,
        negated: bool,
    },
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path);
    let path = path.strip_prefix('$').unwrap_or(path);
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                if !name.is_empty() {
                    steps.push(Step::Field(name));
                }
            }
            '[' => {
                let mut depth = 0;
                let start = i + 1;
                while i < chars.len() {
                    match chars[i] {
                        '[' => depth += 1,
                        ']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                let inner: String = chars.get(start..i)?.iter().collect();
                i += 1;
                steps.push(bracket(inner.trim())?);
            }
            _ => return None,
        }
    }
    Some(steps)
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    s.to_owned()
}

fn bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::All);
    }
    if let Ok(n) = inner.parse::<usize>() {
        return Some(Step::Index(n));
    }
    if let Some(filter) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        let (lhs, rhs, negated) = if let Some((l, r)) = filter.split_once("!=") {
            (l, r, true)
        } else {
            let (l, r) = filter.split_once("==")?;
            (l, r, false)
        };
        let lhs = lhs.trim().strip_prefix("@.")?;
        return Some(Step::Filter {
            path: lhs.split('.').map(str::to_owned).collect(),
            value: unquote(rhs),
            negated,
        });
    }
    Some(Step::Field(unquote(inner)))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every value the path selects in `object`, in document order.
pub fn evaluate<'a>(path: &str, object: &'a Value) -> Vec<&'a Value> {
    let Some(steps) = parse(path) else {
        return Vec::new();
    };
    let mut current = vec![object];
    for step in &steps {
        let mut next = Vec::new();
        for value in current {
            match step {
                Step::Field(name) => next.extend(value.get(name.as_str())),
                Step::Index(n) => next.extend(value.get(*n)),
                Step::All => match value {
                    Value::Array(items) => next.extend(items.iter()),
                    Value::Object(map) => next.extend(map.values()),
                    _ => {}
                },
                Step::Filter {
                    path,
                    value: want,
                    negated,
                } => {
                    if let Value::Array(items) = value {
                        for item in items {
                            let mut got = Some(item);
                            for p in path {
                                got = got.and_then(|g| g.get(p.as_str()));
                            }
                            let equal = got.is_some_and(|g| scalar_text(g) == *want);
                            if got.is_some() && equal != *negated {
                                next.push(item);
                            }
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// CRD `additionalPrinterColumns` take simple JSONPaths, including the
    /// Ready-condition filter every operator uses.
    #[test]
    fn printer_column_paths_evaluate() {
        let obj = json!({
            "spec": {"protection": "EdgeSigner", "items": [1, 2]},
            "status": {"conditions": [
                {"type": "Synced", "status": "False"},
                {"type": "Ready", "status": "True", "reason": "Deployed"}
            ]}
        });
        assert_eq!(
            evaluate(".spec.protection", &obj),
            vec![&json!("EdgeSigner")]
        );
        assert_eq!(evaluate(".spec.items[1]", &obj), vec![&json!(2)]);
        assert_eq!(
            evaluate(r#".status.conditions[?(@.type=="Ready")].status"#, &obj),
            vec![&json!("True")]
        );
        assert_eq!(
            evaluate(".status.conditions[*].type", &obj),
            vec![&json!("Synced"), &json!("Ready")]
        );
        assert!(evaluate(".status.missing", &obj).is_empty());
    }
}
