//! A field-level difference, as `urlguard plan` prints it.

use std::fmt;

/// One field that differs between AWS and the declared state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// Which field, such as `behaviors[/getBooks].allowedMethods`.
    pub field: String,
    /// What AWS has now (`(none)` when absent).
    pub before: String,
    /// What it will have.
    pub after: String,
}

impl FieldChange {
    /// A change from `before` to `after`, both rendered with `Debug` when
    /// they are not plain strings.
    pub fn new(
        field: impl Into<String>,
        before: impl Into<String>,
        after: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            before: before.into(),
            after: after.into(),
        }
    }
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} → {}", self.field, self.before, self.after)
    }
}

/// Compares one field and records a change when it differs.
pub(crate) fn compare<T: PartialEq + fmt::Debug>(
    changes: &mut Vec<FieldChange>,
    field: &str,
    before: &T,
    after: &T,
) {
    if before != after {
        changes.push(FieldChange::new(
            field,
            format!("{before:?}"),
            format!("{after:?}"),
        ));
    }
}
