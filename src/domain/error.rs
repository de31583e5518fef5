//! Rule violations, free of HTTP types. Each variant names the status the
//! platform answers with; the HTTP layer renders it in the platform's error
//! envelope (BEHAVIOR R005, R006).

use serde_json::Value;

/// The 401 message for a missing, malformed, unknown or revoked key (R003).
pub const UNAUTHORIZED: &str = "Unauthorized: User not found";

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
    /// A rejection whose body carries more than `errors`: a 409 with an
    /// `error_type` (`ConflictErrorResponse`) or a `DraftConflictError`
    /// with `data.conflict` (R073, R082).
    #[error("{}", .0.errors.first().map_or("", String::as_str))]
    Detailed(Box<Rejection>),
    /// 423: a config freeze is active (R017, the spec's
    /// `LockedErrorResponse`), rendered with `error_type:
    /// "config_freeze_active"`.
    #[error("{0}")]
    Locked(String),
}

/// The body of a [`DomainError::Detailed`]: always a 409.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Stable discriminator (`branch_name_exists`, `publish_in_progress`, ...).
    pub error_type: Option<&'static str>,
    /// `errors`: messages, or conflicting leaf paths (R082).
    pub errors: Vec<String>,
    /// `data`, e.g. `{conflict: {expectedRevision, latestRevision, diffs}}`.
    pub data: Option<Value>,
}

/// zod's message for a value outside a fixed set, as the platform words
/// it: `<path>: Invalid enum value. Expected 'a' | 'b', received '<got>'`.
pub fn enum_message(path: &str, allowed: &[&str], got: &str) -> String {
    let expected: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    format!("{path}: Invalid enum value. Expected {}, received '{got}'", expected.join(" | "))
}

/// A mock bound on how many of one resource an owner (an organization,
/// an agent) holds: 400 `<Kind> limit reached: <owner> can have at most
/// <max> <plural>` when an owner holding `existing` may not add one
/// (*inferred* wording, in the plan limits' style), e.g. `("Audience",
/// "an organization", "audiences")`.
pub fn check_count(existing: usize, max: usize, names: (&str, &str, &str)) -> Result<(), DomainError> {
    check_room(existing, 1, max, names)
}

/// [`check_count`] for `adding` at once: 400 when `existing + adding`
/// would pass `max`.
pub fn check_room(
    existing: usize,
    adding: usize,
    max: usize,
    (kind, owner, plural): (&str, &str, &str),
) -> Result<(), DomainError> {
    if existing.saturating_add(adding) > max {
        return Err(DomainError::Validation(format!("{kind} limit reached: {owner} can have at most {max} {plural}")));
    }
    Ok(())
}

/// zod's size check of an array at `path` with `len` elements:
/// `<path>: Array must contain at least <min> element(s)` below `min`,
/// `<path>: Array must contain at most <max> element(s)` above `max`.
pub fn array_len(path: &str, len: usize, min: usize, max: usize) -> Result<(), String> {
    size(path, len, min, max, ("Array", "element(s)"))
}

/// zod's size check of the string `v` at `path`, in characters:
/// `<path>: String must contain at least <min> character(s)` below `min`,
/// `<path>: String must contain at most <max> character(s)` above `max`.
pub fn string_len(path: &str, v: &str, min: usize, max: usize) -> Result<(), String> {
    size(path, v.chars().count(), min, max, ("String", "character(s)"))
}

fn size(path: &str, n: usize, min: usize, max: usize, (kind, unit): (&str, &str)) -> Result<(), String> {
    let (bound, limit) = match n {
        n if n < min => ("least", min),
        n if n > max => ("most", max),
        _ => return Ok(()),
    };
    Err(format!("{path}: {kind} must contain at {bound} {limit} {unit}"))
}

impl DomainError {
    /// Shorthand for [`DomainError::Validation`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Validation(msg.into())
    }

    /// A 400 with [`enum_message`]: `got` at `path` is not one of `allowed`.
    pub fn invalid_enum(path: &str, allowed: &[&str], got: &str) -> Self {
        Self::Validation(enum_message(path, allowed, got))
    }

    /// A 409 `{status: false, error_type, errors: [msg]}` (R073, R079, R088).
    pub fn typed(error_type: &'static str, msg: impl Into<String>) -> Self {
        Self::Detailed(Box::new(Rejection { error_type: Some(error_type), errors: vec![msg.into()], data: None }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_fail_with_zod_messages() {
        assert_eq!(array_len("urls", 0, 1, 100).unwrap_err(), "urls: Array must contain at least 1 element(s)");
        assert_eq!(array_len("urls", 101, 1, 100).unwrap_err(), "urls: Array must contain at most 100 element(s)");
        assert_eq!((array_len("urls", 1, 1, 100), array_len("urls", 100, 1, 100)), (Ok(()), Ok(())));
        assert_eq!(string_len("name", "", 1, 40).unwrap_err(), "name: String must contain at least 1 character(s)");
        assert_eq!(string_len("name", "ééé", 0, 2).unwrap_err(), "name: String must contain at most 2 character(s)");
        assert_eq!(string_len("name", "éé", 0, 2), Ok(()), "characters, not bytes");
    }
}
