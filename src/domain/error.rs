//! Rule violations, free of HTTP types. `crate::http::error` maps each
//! variant to a status code and the platform's error envelope.

/// A rejected command or lookup. The message is the exact string the
/// platform puts in `errors[0]` where the reference quotes one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// 400: invalid input, bounds, or a rule such as "No agent found" (R027).
    #[error("{0}")]
    Validation(String),
    /// 403: access rules (gated models, foreign organization).
    #[error("{0}")]
    Forbidden(String),
    /// 404: the resource does not exist in this organization.
    #[error("{0}")]
    NotFound(String),
    /// 409: the resource is in the wrong state for this command
    /// (already archived, security check pending, ...).
    #[error("{0}")]
    Conflict(String),
}

impl DomainError {
    /// Shorthand for [`DomainError::Validation`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Validation(msg.into())
    }
}
