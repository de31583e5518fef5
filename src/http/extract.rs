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

/// The body limit of the route at `path`: the audience routes take CSV
/// uploads up to `UPLOAD_LIMIT` (their router's `DefaultBodyLimit`),
/// every other route [`BODY_LIMIT`].
pub fn body_limit(path: &str) -> usize {
    match path.strip_prefix("/atoms/v1/audience") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => super::campaigns::audiences::UPLOAD_LIMIT,
        _ => BODY_LIMIT,
    }
}

/// The declared `Content-Length`, if there is a valid one.
pub fn content_length(headers: &axum::http::HeaderMap) -> Option<usize> {
    headers.get(axum::http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// 408's message: the body stalled past `--body-timeout-secs`.
pub const BODY_STALLED: &str = "Request timeout: the request body stopped arriving (no data within the body timeout)";

/// Whether a body read failed because the body stalled past the body
/// timeout (tower-http's `TimeoutError` anywhere in the error's chain).
pub fn stalled(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// A JSON body; an empty body counts as `{}`, so optional bodies
/// (publish, activate, test-call) need nothing. On `/atoms/v1` the body is
/// read only when its `Content-Type` is `application/json`, as
/// `express.json()` does; any other body counts as empty, so the usual
/// validation message answers (see `transport`). The control API reads
/// any body as JSON. Malformed JSON, wrong types and missing fields give
/// 400 naming the problem; a body over [`BODY_LIMIT`] gives 413; a body that stalls past
/// the body timeout gives 408.
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
            } else if stalled(&e) {
                ApiError::RequestTimeout(BODY_STALLED.into())
            } else {
                ApiError::BadRequest(format!("Could not read request body: {e}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses `bytes` as JSON into `T` with the envelope's messages: 400
/// `Malformed JSON in request body: …` for syntax errors (a lone UTF-16
/// surrogate escape is named as such), `Invalid input: Expected object,
/// received <type>` when an object is expected at the top, and `Invalid
/// input: …` for other shape errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let blank = bytes.iter().all(u8::is_ascii_whitespace);
    let src: &[u8] = if blank { b"{}" } else { bytes };
    serde_json::from_slice(src).map_err(|e| {
        use serde_json::error::Category;
        let message = e.to_string();
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io if is_surrogate_error(&message) => {
                ApiError::BadRequest(format!(
                    "Malformed JSON in request body: a \\u escape holds a lone UTF-16 surrogate (\\ud800-\\udfff \
                     must come as a high-low pair) at line {} column {}",
                    e.line(),
                    e.column()
                ))
            }
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::BadRequest(format!("Malformed JSON in request body: {message}"))
            }
            Category::Data => match json_type(src) {
                Some(kind) if kind != "object" && expects_object(&message) => {
                    ApiError::BadRequest(format!("Invalid input: Expected object, received {kind}"))
                }
                _ => ApiError::BadRequest(format!("Invalid input: {message}")),
            },
        }
    })
}

/// serde_json's errors for a surrogate escape without its pair.
fn is_surrogate_error(message: &str) -> bool {
    message.starts_with("unexpected end of hex escape") || message.starts_with("lone leading surrogate")
}

/// serde's error for a map or struct target given something else.
fn expects_object(message: &str) -> bool {
    message.starts_with("invalid type:") && (message.contains("expected a map") || message.contains("expected struct"))
}

/// The JSON type of the top-level value, by its first character, in
/// Zod's words.
fn json_type(src: &[u8]) -> Option<&'static str> {
    Some(match src.iter().find(|b| !b.is_ascii_whitespace())? {
        b'{' => "object",
        b'[' => "array",
        b'"' => "string",
        b't' | b'f' => "boolean",
        b'n' => "null",
        _ => "number",
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value};

    fn message(body: &[u8]) -> String {
        parse_json::<Map<String, Value>>(body).expect_err("rejected").to_string()
    }

    #[test]
    fn a_lone_surrogate_escape_is_named_as_such() {
        for body in [&br#"{"name": "\ud800"}"#[..], br#"{"name": "\ud800x"}"#, br#"{"name": "\udc00"}"#] {
            let m = message(body);
            assert!(m.starts_with("Malformed JSON in request body: a \\u escape holds a lone UTF-16 surrogate"), "{m}");
            assert!(m.contains("line 1 column"), "{m}");
        }
        let pair: Map<String, Value> = parse_json(br#"{"name": "\ud83d\ude00"}"#).expect("a valid pair");
        assert_eq!(pair["name"], "\u{1f600}");
    }

    #[test]
    fn a_top_level_value_other_than_an_object_is_named_by_its_type() {
        assert_eq!(message(b"[]"), "Invalid input: Expected object, received array");
        assert_eq!(message(b" \"x\""), "Invalid input: Expected object, received string");
        assert_eq!(message(b"12"), "Invalid input: Expected object, received number");
        assert_eq!(message(b"null"), "Invalid input: Expected object, received null");
        assert_eq!(message(b"true"), "Invalid input: Expected object, received boolean");
        assert!(message(b"{").starts_with("Malformed JSON in request body: EOF"), "syntax errors keep serde's words");
    }

    #[test]
    fn the_audience_routes_take_larger_bodies() {
        assert_eq!(body_limit("/atoms/v1/agent"), BODY_LIMIT);
        assert_eq!(body_limit("/atoms/v1/audiences"), BODY_LIMIT);
        assert!(body_limit("/atoms/v1/audience") > BODY_LIMIT);
        assert!(body_limit("/atoms/v1/audience/abc/members") > BODY_LIMIT);
    }
}
