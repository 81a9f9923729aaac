//! SSM shapes: the parameters urlguard publishes.

/// A parameter as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterObserved {
    /// The parameter name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// A parameter urlguard wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredParameter {
    /// The region it lives in.
    pub region: String,
    /// The parameter name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// The owner tag's value it carries.
    pub owner: String,
}
