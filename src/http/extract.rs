//! Extractors whose rejections use the platform's envelope: JSON bodies,
//! query strings and the caller's organization.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::json::{parse_body, RequestBody};
use crate::state::AppState;
use crate::store::Tenant;

/// Largest accepted request body: 1 MiB. Larger bodies get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The body limit of the route at `path`, in bytes: the audience routes
/// take CSV uploads up to `UPLOAD_LIMIT` (their router's
/// `DefaultBodyLimit`), `/_admin/state` imports up to `state_import`
/// (`--state-import-bytes`), the compliance applications ten 5 MB
/// documents, every other route [`BODY_LIMIT`].
pub fn body_limit(path: &str, state_import: usize) -> usize {
    if path == "/_admin/state" {
        return state_import;
    }
    if path.starts_with("/atoms/v1/compliance/applications") {
        return super::compliance::form::UPLOAD_LIMIT;
    }
    match path.strip_prefix("/atoms/v1/audience") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => super::campaigns::audiences::UPLOAD_LIMIT,
        _ if path.starts_with("/atoms/v1/knowledgebase/") && path.ends_with("/items/upload-media") => {
            super::knowledge_base::items::UPLOAD_LIMIT
        }
        _ if path.starts_with("/_storage/") => super::knowledge_base::items::UPLOAD_LIMIT,
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

impl<T: RequestBody> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = req.extensions().get::<OriginalUri>().map_or(req.uri().path(), |o| o.0.path());
        if path.starts_with(super::API_PREFIX) && !super::transport::is_json(req.headers()) {
            return parse_body(b"").map(ApiJson);
        }
        let limit = body_limit(path, state.config.persistence.state_import_bytes);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!("Request body too large: the limit is {limit} bytes"))
            } else if stalled(&e) {
                ApiError::RequestTimeout(BODY_STALLED.into())
            } else {
                ApiError::BadRequest(format!("Could not read request body: {e}"))
            }
        })?;
        parse_body(&bytes).map(ApiJson)
    }
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

/// Path parameters; a parameter that does not parse gives 400 with its
/// type's message (typed ids: `Invalid agent id`, see [`super::ids`]).
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(p)) => Ok(ApiPath(p)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(match e.into_kind() {
                ErrorKind::Message(m) => ApiError::BadRequest(m),
                other => ApiError::BadRequest(format!("Invalid path parameter: {other}")),
            }),
            Err(e) => Err(ApiError::Internal(e.body_text())),
        }
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

/// The server's state together with the caller's organization: what a
/// handler of `/atoms/v1` serving a tenant's resources takes
/// (`OrgState(s, t): OrgState`). Rejects as [`Org`] does (401
/// `Unauthorized` without the auth middleware's organization).
#[derive(Debug, Clone)]
pub struct OrgState(pub AppState, pub Arc<Tenant>);

impl FromRequestParts<AppState> for OrgState {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Org(t) = Org::from_request_parts(parts, state).await?;
        Ok(Self(state.clone(), t))
    }
}

/// The server's state, the caller's organization and the route's path
/// parameters: what a handler of one of a tenant's resources by id takes
/// (`OrgPath(s, t, id): OrgPath<AgentId>`, or a tuple of typed ids).
/// Rejects as [`OrgState`] does (401 `Unauthorized`), then as [`ApiPath`]
/// (400 with the id's own message, e.g. `Invalid agent id`), in that order.
#[derive(Debug, Clone)]
pub struct OrgPath<T>(pub AppState, pub Arc<Tenant>, pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for OrgPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let OrgState(s, t) = OrgState::from_request_parts(parts, state).await?;
        let ApiPath(path) = ApiPath::from_request_parts(parts, state).await?;
        Ok(Self(s, t, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audience_routes_take_larger_bodies() {
        assert_eq!(body_limit("/atoms/v1/agent", 7), BODY_LIMIT);
        assert_eq!(body_limit("/atoms/v1/audiences", 7), BODY_LIMIT);
        assert!(body_limit("/atoms/v1/audience", 7) > BODY_LIMIT);
        assert!(body_limit("/atoms/v1/audience/abc/members", 7) > BODY_LIMIT);
        assert_eq!(body_limit("/_admin/state", 7), 7, "--state-import-bytes");
    }
}
