//! Extractors whose rejections use the platform's envelope: JSON bodies,
//! query strings and the caller's organization.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::store::Tenant;

/// Largest accepted request body: 1 MiB. Larger bodies get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body; an empty body counts as `{}`, so optional bodies
/// (publish, activate, test-call) need nothing. On `/atoms/v1` the body is
/// read only when its `Content-Type` is `application/json`, as
/// `express.json()` does; any other body counts as empty, so the usual
/// validation message answers (see `transport`). The control API reads
/// any body as JSON. Malformed JSON, wrong types and missing fields give
/// 400 naming the problem; a body over [`BODY_LIMIT`] gives 413.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let path = req.extensions().get::<OriginalUri>().map_or(req.uri().path(), |o| o.0.path());
        if path.starts_with(super::API_PREFIX) && !super::transport::is_json(req.headers()) {
            return parse_json(b"").map(ApiJson);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!("Request body too large: the limit is {BODY_LIMIT} bytes"))
            } else {
                ApiError::BadRequest(format!("Could not read request body: {e}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses `bytes` as JSON into `T` with the envelope's messages.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let blank = bytes.iter().all(u8::is_ascii_whitespace);
    let src: &[u8] = if blank { b"{}" } else { bytes };
    serde_json::from_slice(src).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::BadRequest(format!("Malformed JSON in request body: {e}"))
            }
            Category::Data => ApiError::BadRequest(format!("Invalid input: {e}")),
        }
    })
}

/// A query string; a bad value gives 400 naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::BadRequest(format!("Invalid query string: {}", e.body_text())))
    }
}

/// The Bearer token of `Authorization`, trimmed; `None` when absent,
/// empty or another scheme. The scheme is case-insensitive (`Bearer`,
/// `bearer`, `BEARER`), as HTTP auth schemes are (RFC 9110 §11.1).
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let h = headers.get("authorization").and_then(|h| h.to_str().ok())?.trim_start();
    let (scheme, key) = h.split_once(' ')?;
    Some(key.trim()).filter(|k| scheme.eq_ignore_ascii_case("bearer") && !k.is_empty())
}

/// The caller's organization, put in place by the auth middleware.
#[derive(Debug, Clone)]
pub struct Org(pub Arc<Tenant>);

impl<S: Send + Sync> FromRequestParts<S> for Org {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Org>().cloned().ok_or(ApiError::Unauthorized)
    }
}

/// An optional string field of a JSON body; another type gives 400
/// `<key>: Expected string, received <type>`.
pub fn opt_str(body: &serde_json::Map<String, serde_json::Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::BadRequest(format!(
            "{key}: Expected string, received {}",
            crate::domain::config_rules::type_name(other)
        ))),
    }
}

/// An optional boolean field of a JSON body; another type gives 400.
pub fn opt_bool(body: &serde_json::Map<String, serde_json::Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match body.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::BadRequest(format!(
            "{key}: Expected boolean, received {}",
            crate::domain::config_rules::type_name(other)
        ))),
    }
}
