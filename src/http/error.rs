//! `ApiError`: every failure the HTTP layer can answer with, rendered in
//! the platform's error envelope `{"status": false, "errors": ["…"]}`
//! (BEHAVIOR R005). Only 5xx errors are logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::domain::error::Rejection;
use crate::domain::DomainError;

/// 503's message for requests cut short by server shutdown (long-polls,
/// fault delays).
pub const SHUTTING_DOWN: &str = "Server shutting down";

/// The rejection of a multipart body whose reading failed (the audience
/// CSV upload, knowledge-base media, compliance applications): 413
/// `too_large` past the route's body limit; 408
/// [`BODY_STALLED`](crate::http::extract::BODY_STALLED) when the body
/// stalled past the body timeout, as for JSON bodies; otherwise 400
/// `Malformed multipart body: <multer's reason>`.
pub fn multipart_error(e: &axum::extract::multipart::MultipartError, too_large: &str) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(too_large.into())
    } else if crate::http::extract::stalled(e) {
        ApiError::RequestTimeout(crate::http::extract::BODY_STALLED.into())
    } else {
        ApiError::BadRequest(format!("Malformed multipart body: {}", e.body_text()))
    }
}

/// R003's exact 401 message.
pub use crate::domain::UNAUTHORIZED;

/// An HTTP error with its status and message.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with a message naming the problem.
    #[error("{0}")]
    BadRequest(String),
    /// 401 `Unauthorized: User not found` (R003).
    #[error("{UNAUTHORIZED}")]
    Unauthorized,
    /// A rule the domain enforces: 400, 403, 404 or 409 as the
    /// [`DomainError`] names it, with its message (and a 409's
    /// `error_type` and `data`, R073, R082).
    #[error(transparent)]
    Rule(#[from] DomainError),
    /// R075's 409: a [`DomainError::Detailed`] body with the header
    /// `Deprecation: true`.
    #[error("{}", .0.errors.first().map_or("", String::as_str))]
    Deprecated(Box<Rejection>),
    /// 408: the request body stalled past the body timeout.
    #[error("{0}")]
    RequestTimeout(String),
    /// 413: the body exceeds the 1 MiB limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 400 in the `"status": "error"` envelope some routes use
    /// (`{"status": "error", "errors": ["…"]}`, R008, R181).
    #[error("{0}")]
    StatusError(String),
    /// 400 as `{"success": false, "message": "…"}` (the account routes).
    #[error("{0}")]
    Unsuccessful(String),
    /// 500 `Internal server error` (R005); the detail is only logged.
    #[error("Internal server error")]
    Internal(String),
}

impl ApiError {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::StatusError(_) | Self::Unsuccessful(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Rule(DomainError::Validation(_)) => StatusCode::BAD_REQUEST,
            Self::Rule(DomainError::Forbidden(_)) => StatusCode::FORBIDDEN,
            Self::Rule(DomainError::NotFound(_)) => StatusCode::NOT_FOUND,
            Self::Rule(DomainError::Conflict(_) | DomainError::Detailed(_)) | Self::Deprecated(_) => {
                StatusCode::CONFLICT
            }
            Self::Rule(DomainError::Locked(_)) => StatusCode::LOCKED,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        match self {
            Self::Rule(DomainError::Detailed(r)) => detailed(*r, false),
            Self::Rule(DomainError::Locked(m)) => {
                let body = json!({"status": false, "error_type": "config_freeze_active", "errors": [m]});
                (StatusCode::LOCKED, Json(body)).into_response()
            }
            Self::Deprecated(r) => detailed(*r, true),
            Self::StatusError(m) => {
                (StatusCode::BAD_REQUEST, Json(json!({"status": "error", "errors": [m]}))).into_response()
            }
            Self::Unsuccessful(m) => {
                (StatusCode::BAD_REQUEST, Json(json!({"success": false, "message": m}))).into_response()
            }
            other => envelope(other.status(), &other.to_string()),
        }
    }
}

/// A 409 in the platform's conflict shape `{status: false, error_type?,
/// errors, data?}`, with `Deprecation: true` when `deprecation` (R075).
fn detailed(r: Rejection, deprecation: bool) -> Response {
    let mut body = json!({"status": false});
    if let Some(t) = r.error_type {
        body["error_type"] = json!(t);
    }
    body["errors"] = json!(r.errors);
    if let Some(d) = r.data {
        body["data"] = d;
    }
    let mut res = (StatusCode::CONFLICT, Json(body)).into_response();
    if deprecation {
        res.headers_mut().insert("deprecation", axum::http::HeaderValue::from_static("true"));
    }
    res
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// What a handler answers: a rendered response, or an [`ApiError`] in the
/// platform's envelope. Most handlers return this.
pub type Reply = ApiResult<Response>;
