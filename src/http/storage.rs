//! The mock's object storage over HTTP, outside `/atoms/v1` and without
//! the API key (the URLs carry their own signature), as S3 and the CDN
//! answer: `PUT /_storage/{*key}?X-Amz-Expires&X-Amz-Signature` takes the
//! body of a presigned upload (200 empty; S3's XML errors: 403
//! `SignatureDoesNotMatch` / `AccessDenied`, 400 `EntityTooLarge`), and
//! `GET /_cdn/{*key}` serves a stored avatar with its `Content-Type` (404
//! otherwise). See `crate::storage`.

use crate::http::routes::OpenApiRouter;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;

use crate::state::AppState;
use crate::storage::Put;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/_storage/{*key}", put(put_object)).route("/_cdn/{*key}", get(get_object))
}

/// The signature half of a presigned URL.
#[derive(Debug, Deserialize)]
struct Signature {
    #[serde(rename = "X-Amz-Expires", default)]
    expires: i64,
    #[serde(rename = "X-Amz-Signature", default)]
    signature: String,
}

async fn put_object(
    State(s): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<Signature>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let p = Put { signature: &q.signature, expires_at: q.expires, content_type, bytes };
    match s.storage.put(&key, &p, s.store.clock().now()) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::FORBIDDEN);
            (status, [(header::CONTENT_TYPE, "application/xml")], e.xml()).into_response()
        }
    }
}

async fn get_object(State(s): State<AppState>, Path(key): Path<String>) -> Response {
    match s.storage.cdn(&key) {
        Some((content_type, bytes)) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
