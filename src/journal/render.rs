//! Entries as the control API shows them (JSON), rendered on read.

use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{Captured, Entry, Headers};
use crate::domain::time::iso;

/// A body as the control API shows it: `null` when empty, else
/// `{text | base64, size, truncated}`; `text` when the kept bytes are UTF-8
/// (a character cut by truncation is dropped), `base64` otherwise.
pub fn render_body(c: &Captured) -> Value {
    if c.size == 0 {
        return Value::Null;
    }
    let text = match std::str::from_utf8(&c.bytes) {
        Ok(t) => Some(t),
        // An incomplete character at the cut is not binary.
        Err(e) if e.error_len().is_none() && c.truncated() => std::str::from_utf8(&c.bytes[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    let (key, data) = match text {
        Some(t) => ("text", t.to_owned()),
        None => ("base64", base64::engine::general_purpose::STANDARD.encode(&c.bytes)),
    };
    json!({key: data, "size": c.size, "truncated": c.truncated()})
}

/// `(name, value)` pairs as a JSON object (repeated names joined with
/// `, `), with `authorization` cut to its last 4 characters (`***abcd`).
fn render_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a [u8])>) -> Value {
    let mut out = Map::new();
    for (name, value) in pairs {
        let value = String::from_utf8_lossy(value);
        let value = if name == "authorization" { redact(&value) } else { value.into_owned() };
        match out.get_mut(name) {
            Some(Value::String(joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            _ => {
                out.insert(name.to_owned(), Value::String(value));
            }
        }
    }
    Value::Object(out)
}

/// Headers as a JSON object (see `render_pairs`).
pub fn render_headers(h: &HeaderMap) -> Value {
    render_pairs(h.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
}

/// Journal headers as a JSON object (see `render_pairs`).
pub fn render_kept_headers(h: Headers<'_>) -> Value {
    render_pairs(h.iter())
}

/// `***` and the last 4 characters of `secret` (all of it hidden when shorter).
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let tail: String = if n > 4 { secret.chars().skip(n - 4).collect() } else { String::new() };
    format!("***{tail}")
}

/// An entry as the control API shows it.
pub fn render(e: &Entry) -> Value {
    json!({
        "seq": e.seq,
        "at": iso(e.at),
        "latencyMs": e.latency_ms,
        "method": e.method.as_str(),
        "path": e.text.path(),
        "query": e.text.query(),
        "apiKey": e.text.api_key(),
        "request": {"headers": render_kept_headers(e.text.request_headers()), "body": render_body(&e.request_body)},
        "response": {
            "status": e.status,
            "headers": render_kept_headers(e.text.response_headers()),
            "body": e.response_body.as_ref().map_or(Value::Null, render_body),
            "streamed": e.response_body.is_none(),
        },
        "fault": e.fault.as_deref(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Text, BODY_CAPTURE};
    use super::*;

    #[test]
    fn bodies_render_as_text_or_base64_with_their_size() {
        assert_eq!(render_body(&Captured::default()), Value::Null);
        let text = Captured::new(b"{\"a\":1}");
        assert_eq!(render_body(&text), json!({"text": "{\"a\":1}", "size": 7, "truncated": false}));
        let bin = Captured::new(&[0xff, 0x00]);
        assert_eq!(render_body(&bin), json!({"base64": "/wA=", "size": 2, "truncated": false}));
        let unread = Captured::prefix(b"", 2_000_000);
        assert_eq!(render_body(&unread), json!({"text": "", "size": 2_000_000, "truncated": true}));
    }

    #[test]
    fn long_bodies_are_cut_at_64_kib_without_turning_into_base64() {
        let mut body = vec![b'a'; BODY_CAPTURE - 1];
        body.extend_from_slice("é and more".as_bytes());
        let c = Captured::new(&body);
        assert_eq!(c.bytes.len(), BODY_CAPTURE);
        let v = render_body(&c);
        assert_eq!(v["text"].as_str().map(str::len), Some(BODY_CAPTURE - 1));
        assert_eq!(v["truncated"], true);
    }

    #[test]
    fn authorization_is_redacted_to_its_last_four_characters() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk_live_1234".parse().expect("value"));
        h.append("x-a", "1".parse().expect("value"));
        h.append("x-a", "2".parse().expect("value"));
        let expected = json!({"authorization": "***1234", "x-a": "1, 2"});
        assert_eq!(render_headers(&h), expected);
        assert_eq!(render_kept_headers(Text::request("/", None, None, &h).request_headers()), expected);
        assert_eq!(redact("abc"), "***");
    }
}
