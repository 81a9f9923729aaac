//! Field errors worded as the Kubernetes API server words them.
//!
//! The API server reports each problem as an apimachinery `field.Error`: a
//! field path, an error type (`Required value`, `Unsupported value`,
//! `Invalid value`, ...), the offending value and a detail, joined as
//! `<path>: <type>: <value>: <detail>`. Clients (kubectl, and people reading
//! its output) see exactly that text, so this module reproduces the
//! rendering rules of `field.Error.ErrorBody` (Kubernetes 1.35): which
//! types omit the value, Go's `%q` quoting of strings, Go's `%v` printing of
//! numbers, and JSON for compound values.
//!
//! See "API Concepts" → "Field validation" and the `Status` causes in the
//! Kubernetes API conventions
//! (<https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md>).

use std::fmt;

use serde_json::Value;

/// The error types of apimachinery's `field.ErrorType` that custom resource
/// validation produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// `Required value`: a required field is missing.
    Required,
    /// `Unsupported value`: a value outside an `enum`.
    NotSupported,
    /// `Invalid value`: any other constraint.
    Invalid,
    /// `Invalid value`, reported for a wrong JSON type or string format.
    TypeInvalid,
    /// `Too long`: a string over `maxLength`.
    TooLong,
    /// `Too many`: an array over `maxItems`, an object over `maxProperties`.
    TooMany,
    /// `Duplicate value`: a repeated item of a set or map list.
    Duplicate,
    /// `Forbidden`: a CEL rule with `reason: FieldValueForbidden`.
    Forbidden,
}

impl ErrorType {
    /// The words that start the error body.
    fn words(self) -> &'static str {
        match self {
            ErrorType::Required => "Required value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Forbidden => "Forbidden",
        }
    }

    /// Whether the API server skips the CEL rules when a schema error of this
    /// type is present (`hasBlockingErr` in the custom resource strategy):
    /// the rules were written assuming the schema holds, so evaluating them
    /// on a value of the wrong shape would only produce noise.
    pub fn blocks_rules(self) -> bool {
        matches!(
            self,
            ErrorType::NotSupported
                | ErrorType::Required
                | ErrorType::TooLong
                | ErrorType::TooMany
                | ErrorType::TypeInvalid
        )
    }
}

/// The offending value, as `field.Error.BadValue` holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum BadValue {
    /// Not shown (`Too long`, `Required value`, CEL errors on objects).
    Omitted,
    /// A JSON value from the object (or a Go string such as a type name).
    Json(Value),
}

impl BadValue {
    /// A Go string value, shown `%q`-quoted.
    pub fn text(text: impl Into<String>) -> BadValue {
        BadValue::Json(Value::String(text.into()))
    }
}

/// One reason an object is invalid.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The field path (`spec.aliases[0]`, `spec.tags[key]`); `<nil>` for an
    /// error about the whole object, as the API server prints a nil path.
    pub field: String,
    /// What kind of problem.
    pub kind: ErrorType,
    /// The value at fault.
    pub value: BadValue,
    /// The explanation after the value.
    pub detail: String,
}

impl FieldError {
    /// A new error.
    pub fn new(
        field: impl Into<String>,
        kind: ErrorType,
        value: BadValue,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            field: field.into(),
            kind,
            value,
            detail: detail.into(),
        }
    }

    /// The text after `<field>: ` (apimachinery's `ErrorBody`).
    pub fn body(&self) -> String {
        let mut body = self.kind.words().to_owned();
        let shows_value = !matches!(
            self.kind,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong
        );
        if shows_value && let BadValue::Json(value) = &self.value {
            body.push_str(": ");
            body.push_str(&go_value(value));
        }
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// A value as `ErrorBody` prints it: strings `%q`, numbers and booleans
/// `%v`, anything else (and null) as JSON.
pub fn go_value(value: &Value) -> String {
    match value {
        Value::String(text) => go_quote(text),
        Value::Number(number) => go_number(number),
        Value::Bool(flag) => flag.to_string(),
        other => sorted_json(other),
    }
}

/// A JSON number as Go prints the int64 or float64 it decodes to.
pub fn go_number(number: &serde_json::Number) -> String {
    match (number.as_i64(), number.as_u64(), number.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (None, Some(u), _) => u.to_string(),
        (None, None, Some(f)) => go_float(f),
        (None, None, None) => number.to_string(),
    }
}

/// Go's `%v` for a float64: the shortest representation, in exponent form
/// (`3.1536e+07`) when the exponent is below -4 or at least 6 — so bounds
/// in messages read as the API server prints them.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let scientific = format!("{f:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return scientific;
    };
    if (-4..6).contains(&exponent) {
        format!("{f}")
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

/// Go's `%q` (strconv.Quote): double quotes, backslash escapes for quotes,
/// backslashes and control characters, printable Unicode kept as is.
pub fn go_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\u{7}' => quoted.push_str("\\a"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{b}' => quoted.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                quoted.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// JSON with object keys sorted, as Go's `encoding/json` writes a map.
pub fn sorted_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), sorted_json(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(sorted_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_follow_error_body() {
        let cases = [
            (
                FieldError::new("spec.x", ErrorType::Required, BadValue::Omitted, ""),
                "spec.x: Required value",
            ),
            (
                FieldError::new(
                    "spec.p",
                    ErrorType::NotSupported,
                    BadValue::text("Foo"),
                    r#"supported values: "A", "B""#,
                ),
                r#"spec.p: Unsupported value: "Foo": supported values: "A", "B""#,
            ),
            (
                FieldError::new(
                    "spec.s",
                    ErrorType::TooLong,
                    BadValue::text("long"),
                    "may not be more than 3 bytes",
                ),
                "spec.s: Too long: may not be more than 3 bytes",
            ),
            (
                FieldError::new(
                    "spec.a",
                    ErrorType::TooMany,
                    BadValue::Json(json!(3)),
                    "must have at most 2 items",
                ),
                "spec.a: Too many: 3: must have at most 2 items",
            ),
            (
                FieldError::new(
                    "spec.l[1]",
                    ErrorType::Duplicate,
                    BadValue::Json(json!({"b": 1, "a": "x"})),
                    "",
                ),
                r#"spec.l[1]: Duplicate value: {"a":"x","b":1}"#,
            ),
            (
                FieldError::new("spec.o", ErrorType::Invalid, BadValue::Omitted, "message"),
                "spec.o: Invalid value: message",
            ),
            (
                FieldError::new(
                    "<nil>",
                    ErrorType::Invalid,
                    BadValue::Json(Value::Null),
                    "d",
                ),
                "<nil>: Invalid value: null: d",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn floats_print_as_go_prints_them() {
        for (f, text) in [
            (65535.0, "65535"),
            (31536000.0, "3.1536e+07"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (-2.5, "-2.5"),
        ] {
            assert_eq!(go_float(f), text, "{f}");
        }
    }

    #[test]
    fn strings_quote_as_go_quotes_them() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
    }
}
