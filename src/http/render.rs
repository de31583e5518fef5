//! The success envelope `{"status": true, "data": …}` (BEHAVIOR R004),
//! and [`JsonObject`], which writes an object straight into bytes for the
//! hot read paths. Each area renders its own wire shapes (e.g.
//! `agents::render`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

/// `200 {"status": true, "data": data}`.
pub fn ok(data: Value) -> Response {
    Json(success(data)).into_response()
}

/// `{"status": true, "data": data}` without copying `data`.
pub fn success(data: Value) -> Value {
    let mut m = Map::with_capacity(2);
    m.insert("status".into(), Value::Bool(true));
    m.insert("data".into(), data);
    Value::Object(m)
}

/// `201 {"status": true, "data": data}`.
pub fn created(data: Value) -> Response {
    (StatusCode::CREATED, Json(success(data))).into_response()
}

/// `201 {"status": true, "data": "<id>"}`: the bytes of [`created`] of
/// the string `id`, written into one buffer of their size.
pub fn created_id(id: &str) -> Response {
    let mut body = Vec::with_capacity(ENVELOPE_OPEN.len() + id.len() + 3);
    body.extend_from_slice(ENVELOPE_OPEN);
    if serde_json::to_writer(&mut body, id).is_err() {
        body.extend_from_slice(b"null");
    }
    body.push(b'}');
    (StatusCode::CREATED, ok_enveloped(body)).into_response()
}

/// A JSON object written straight into bytes, so cached fragments can be
/// spliced in without building a `Value` tree.
pub struct JsonObject {
    buf: Vec<u8>,
    empty: bool,
}

impl JsonObject {
    /// An empty object with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.push(b'{');
        Self { buf, empty: true }
    }

    fn key(&mut self, k: &str) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        // Keys are ASCII identifiers chosen by this crate: no escaping needed.
        self.buf.push(b'"');
        self.buf.extend_from_slice(k.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// Adds `"k": v`.
    pub fn field<T: serde::Serialize + ?Sized>(&mut self, k: &str, v: &T) {
        self.key(k);
        if serde_json::to_writer(&mut self.buf, v).is_err() {
            self.buf.extend_from_slice(b"null");
        }
    }

    /// Adds `"k": <raw JSON>`.
    pub fn raw(&mut self, k: &str, json: &str) {
        self.key(k);
        self.buf.extend_from_slice(json.as_bytes());
    }

    /// Adds already-serialized `"a":1,"b":2` pairs.
    pub fn pairs(&mut self, pairs: &str) {
        if pairs.is_empty() {
            return;
        }
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        self.buf.extend_from_slice(pairs.as_bytes());
    }

    /// The finished object.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(b'}');
        self.buf
    }

    /// An empty object written as the `data` of the success envelope
    /// (`{"status":true,"data":{`), with room for `capacity` bytes more;
    /// [`JsonObject::finish_enveloped`] closes both.
    pub fn enveloped(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(ENVELOPE_OPEN.len() + capacity + 2);
        buf.extend_from_slice(ENVELOPE_OPEN);
        buf.push(b'{');
        Self { buf, empty: true }
    }

    /// The finished envelope of an [`JsonObject::enveloped`] object: the
    /// same bytes as [`ok_raw`] of [`JsonObject::finish`].
    pub fn finish_enveloped(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(b"}}");
        self.buf
    }
}

/// The success envelope's start, up to its `data`.
const ENVELOPE_OPEN: &[u8] = b"{\"status\":true,\"data\":";

/// `200 {"status": true, "data": <raw JSON>}` without re-parsing `data`.
pub fn ok_raw(data: &[u8]) -> Response {
    let mut body = Vec::with_capacity(data.len() + ENVELOPE_OPEN.len() + 1);
    body.extend_from_slice(ENVELOPE_OPEN);
    body.extend_from_slice(data);
    body.push(b'}');
    ok_enveloped(body)
}

/// `200` with `body`, a whole success envelope already written (e.g. by
/// [`JsonObject::enveloped`]), as JSON.
pub fn ok_enveloped(body: Vec<u8>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `{"status": true}` without `data`, with `status` (the knowledge-base
/// writes answer 200 or 201 this way).
pub fn bare(status: StatusCode) -> Response {
    (status, Json(serde_json::json!({"status": true}))).into_response()
}

/// `200 {"status": true}`.
pub fn done() -> Response {
    bare(StatusCode::OK)
}

/// `{"success": true, "data": data}` with `status` (the call-action and
/// widget routes' envelope).
pub fn succeeded(status: StatusCode, data: Value) -> Response {
    let mut m = Map::with_capacity(2);
    m.insert("success".into(), Value::Bool(true));
    m.insert("data".into(), data);
    (status, Json(Value::Object(m))).into_response()
}
