//! Refusals made from the request head alone, before any body byte is
//! read, in the error envelope:
//!
//! | Status | When |
//! |---|---|
//! | 431 | request line and header fields over [`HEAD_LIMIT`] bytes |
//! | 413 | a declared `Content-Length` over the route's body limit (`extract::body_limit`: 1 MiB, 5.25 MiB on the audience routes, `--state-import-bytes` on `/_admin/state`) |
//!
//! Nothing reads the body first (the journal skips such bodies too), so a
//! client sending `Expect: 100-continue` never sends it, and one that
//! declares a length and sends nothing is answered at once.
//!
//! What hyper refuses itself, before any of this runs, answers with an
//! empty body: a head over hyper's buffer (about 400 KiB) or with more than
//! 100 header fields (431), a malformed request line or header (400), a URI
//! over 64 KiB (414) and an unsupported HTTP version (505).

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;

use super::error::envelope;
use super::extract::{body_limit, content_length};

/// Largest request head (request line plus header fields, as sent on the
/// wire): 16 KiB, Node.js's default `--max-http-header-size`, as the
/// platform's Express server would apply (mock decision).
pub(crate) const HEAD_LIMIT: usize = 16 * 1024;

/// The size of the request head as HTTP/1.1 sends it.
fn head_size(req: &Request) -> usize {
    let line = req.method().as_str().len() + req.uri().path_and_query().map_or(1, |p| p.as_str().len()) + 12;
    line + req.headers().iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum::<usize>() + 2
}

/// The 431 or 413 answer for an oversized head or declared body (see the
/// module doc; `state_import` is `--state-import-bytes`); `None` for
/// everything else, which goes on untouched.
pub(crate) fn refusal(req: &Request, state_import: usize) -> Option<Response> {
    if head_size(req) > HEAD_LIMIT {
        let msg = format!("Request header fields too large: the limit is {HEAD_LIMIT} bytes");
        return Some(envelope(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, &msg));
    }
    let limit = body_limit(req.uri().path(), state_import);
    let declared = content_length(req.headers()).filter(|n| *n > limit)?;
    let msg = format!("Request body too large: {declared} bytes declared, the limit is {limit} bytes");
    Some(envelope(StatusCode::PAYLOAD_TOO_LARGE, &msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_size_counts_the_request_line_and_every_field() {
        let req = Request::get("/a?b=c").header("x-k", "vv").body(axum::body::Body::empty()).expect("request");
        // "GET /a?b=c HTTP/1.1\r\n" + "x-k: vv\r\n" + "\r\n"
        assert_eq!(head_size(&req), 21 + 9 + 2);
    }
}
