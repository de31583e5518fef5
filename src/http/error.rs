//! `ApiError`: every failure the HTTP layer can answer with, rendered in
//! the platform's error envelope `{"status": false, "errors": ["…"]}`
//! (BEHAVIOR R005). Only 5xx errors are logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::domain::DomainError;

/// R003's exact 401 message.
pub const UNAUTHORIZED: &str = "Unauthorized: User not found";

/// An HTTP error with its status and message.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with a message naming the problem.
    #[error("{0}")]
    BadRequest(String),
    /// 401 `Unauthorized: User not found` (R003).
    #[error("{UNAUTHORIZED}")]
    Unauthorized,
    /// 403.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body exceeds the 1 MiB limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 500 `Internal server error` (R005); the detail is only logged.
    #[error("Internal server error")]
    Internal(String),
}

impl ApiError {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(m) => Self::BadRequest(m),
            DomainError::Forbidden(m) => Self::Forbidden(m),
            DomainError::NotFound(m) => Self::NotFound(m),
            DomainError::Conflict(m) => Self::Conflict(m),
        }
    }
}

/// The error envelope for `status` and `message`.
pub fn envelope(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"status": false, "errors": [message]}))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        envelope(self.status(), &self.to_string())
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
