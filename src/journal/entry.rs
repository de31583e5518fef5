//! What the journal keeps of one request: [`Entry`], its bodies as
//! [`Captured`] prefixes and its headers as [`Headers`], each copied into
//! allocations of their own so an entry never keeps a connection's read
//! buffer alive, and [`Entry::cost`], the bytes the budget counts.

use std::sync::Arc;

use axum::http::{HeaderMap, Method};
use bytes::Bytes;

use crate::domain::Millis;

/// Longest body kept per request or response, in bytes (64 KiB).
pub const BODY_CAPTURE: usize = 64 * 1024;

/// Bodies up to this many bytes are copied by [`Captured::shared`].
pub const COPY_BELOW: usize = 256;

/// A captured body: at most [`BODY_CAPTURE`] bytes of it, and its length.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// The first bytes (a copy).
    pub bytes: Bytes,
    /// The body's length in bytes: what was read, or the declared
    /// `Content-Length` when that is more (a body refused with 413 before
    /// it was read). More than `bytes.len()` when truncated.
    pub size: usize,
}

impl Captured {
    /// Keeps a copy of `body`'s first [`BODY_CAPTURE`] bytes.
    pub fn new(body: &[u8]) -> Self {
        Self::prefix(body, body.len())
    }

    /// Keeps a copy of at most [`BODY_CAPTURE`] bytes of `head`, the start
    /// of a body of `size` bytes in all.
    pub fn prefix(head: &[u8], size: usize) -> Self {
        Self { bytes: Bytes::copy_from_slice(&head[..head.len().min(BODY_CAPTURE)]), size: size.max(head.len()) }
    }

    /// Shares `body` (a reference-count bump, no copy) when it fits in
    /// [`BODY_CAPTURE`]; keeps a copy of the first bytes of a longer one,
    /// so the journal never pins a buffer larger than what it counts. A
    /// body of at most [`COPY_BELOW`] bytes is copied too: its buffer may
    /// be several times its length (`axum::Json` starts at 128 bytes), and
    /// the copy costs less than what sharing would pin.
    pub fn shared(body: &Bytes) -> Self {
        if body.len() <= COPY_BELOW {
            Self::new(body)
        } else if body.len() <= BODY_CAPTURE {
            Self { bytes: body.clone(), size: body.len() }
        } else {
            Self::new(body)
        }
    }

    /// Whether bytes were dropped (or never read).
    pub fn truncated(&self) -> bool {
        self.size > self.bytes.len()
    }
}

/// Room left in a [`Text`] for the response's header fields (the mock's
/// answers carry about 80 bytes of them), so that recording them does not
/// grow the buffer.
const RESPONSE_HEADROOM: usize = 128;

/// An entry's text in one buffer (one allocation rather than five): the
/// path, the query, the Bearer token and both header blocks, one after
/// another. Header fields are `name:value\n` each (names are lowercase
/// tokens and values never hold `\n`, so the split is unambiguous).
#[derive(Debug, Default)]
pub struct Text {
    buf: Vec<u8>,
    /// Where the path, the query, the key and the request's headers end
    /// in `buf` (the response's headers run to its end).
    ends: [usize; 4],
    /// Whether a query and a key were given (either may be empty).
    has_query: bool,
    has_key: bool,
}

impl Text {
    /// The request's side: `path`, `query` (without `?`), the Bearer `key`
    /// and the request's headers, copied (repeated names stay repeated, in
    /// order), with room for the response's headers ([`Text::respond`]).
    pub fn request(path: &str, query: Option<&str>, key: Option<&str>, headers: &HeaderMap) -> Self {
        let (q, k) = (query.unwrap_or_default(), key.unwrap_or_default());
        let len = path.len() + q.len() + k.len() + headers_len(headers);
        let mut buf = Vec::with_capacity(len + RESPONSE_HEADROOM);
        let mut ends = [0; 4];
        for (end, part) in ends.iter_mut().zip([path, q, k]) {
            buf.extend_from_slice(part.as_bytes());
            *end = buf.len();
        }
        write_headers(&mut buf, headers);
        ends[3] = buf.len();
        Self { buf, ends, has_query: query.is_some(), has_key: key.is_some() }
    }

    /// Records the response's headers (once, after [`Text::request`]).
    pub fn respond(&mut self, headers: &HeaderMap) {
        self.buf.truncate(self.ends[3]);
        self.buf.reserve_exact(headers_len(headers));
        write_headers(&mut self.buf, headers);
    }

    fn str(&self, from: usize, to: usize) -> &str {
        std::str::from_utf8(&self.buf[from..to]).unwrap_or_default()
    }

    /// The path, e.g. `/atoms/v1/agent`.
    pub fn path(&self) -> &str {
        self.str(0, self.ends[0])
    }

    /// The raw query string, without `?`.
    pub fn query(&self) -> Option<&str> {
        self.has_query.then(|| self.str(self.ends[0], self.ends[1]))
    }

    /// The Bearer token as sent.
    pub fn api_key(&self) -> Option<&str> {
        self.has_key.then(|| self.str(self.ends[1], self.ends[2]))
    }

    /// The request's header fields as received.
    pub fn request_headers(&self) -> Headers<'_> {
        Headers(&self.buf[self.ends[2]..self.ends[3]])
    }

    /// The response's header fields.
    pub fn response_headers(&self) -> Headers<'_> {
        Headers(&self.buf[self.ends[3]..])
    }

    /// Heap bytes held (the buffer's capacity).
    pub fn cost(&self) -> usize {
        self.buf.capacity()
    }
}

impl Clone for Text {
    /// A copy with the same capacity, so it costs the same.
    fn clone(&self) -> Self {
        let mut buf = Vec::with_capacity(self.buf.capacity());
        buf.extend_from_slice(&self.buf);
        Self { buf, ..*self }
    }
}

fn headers_len(h: &HeaderMap) -> usize {
    h.iter().map(|(n, v)| n.as_str().len() + v.len() + 2).sum()
}

fn write_headers(buf: &mut Vec<u8>, h: &HeaderMap) {
    for (name, value) in h {
        buf.extend_from_slice(name.as_str().as_bytes());
        buf.push(b':');
        buf.extend_from_slice(value.as_bytes());
        buf.push(b'\n');
    }
}

/// Header fields kept in a [`Text`].
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a>(&'a [u8]);

impl<'a> Headers<'a> {
    /// `(name, value)` pairs in order.
    pub fn iter(self) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        self.0.split(|b| *b == b'\n').filter(|l| !l.is_empty()).filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            Some((std::str::from_utf8(&line[..colon]).ok()?, &line[colon + 1..]))
        })
    }

    /// Bytes held.
    pub fn len(self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }
}

/// One request and its answer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Position, from 1; assigned by [`super::Journal::record`].
    pub seq: u64,
    /// Arrival, epoch ms on the mock's clock.
    pub at: Millis,
    /// Real time from arrival to the response head, in ms.
    pub latency_ms: u64,
    /// HTTP method.
    pub method: Method,
    /// Path, query, Bearer token and both header blocks (request headers
    /// are rendered with `authorization` redacted).
    pub text: Text,
    /// Request body.
    pub request_body: Captured,
    /// Response status code.
    pub status: u16,
    /// Response body; `None` when it was streamed and not captured.
    pub response_body: Option<Captured>,
    /// Id of the fault rule that answered or delayed the request.
    pub fault: Option<Arc<str>>,
}

/// Bookkeeping counted per entry on top of [`Entry`] itself: the `Arc`
/// counts, the ring slot and allocator rounding, as an estimate.
const ENTRY_OVERHEAD: usize = 64;

impl Entry {
    /// The heap bytes this entry holds, as the journal's budget counts
    /// them: the struct, its text (strings and headers) and captured bodies.
    pub fn cost(&self) -> usize {
        std::mem::size_of::<Self>()
            + ENTRY_OVERHEAD
            + self.text.cost()
            + self.request_body.bytes.len()
            + self.response_body.as_ref().map_or(0, |b| b.bytes.len())
    }
}

#[cfg(test)]
pub(crate) fn test_entry(path: &str, key: Option<&str>, status: u16) -> Entry {
    Entry {
        seq: 0,
        at: 0,
        latency_ms: 0,
        method: Method::GET,
        text: Text::request(path, None, key, &HeaderMap::new()),
        request_body: Captured::default(),
        status,
        response_body: None,
        fault: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_is_a_copy_cut_at_64_kib_that_remembers_the_whole_length() {
        let body = vec![b'a'; BODY_CAPTURE + 10];
        let c = Captured::new(&body);
        assert_eq!((c.bytes.len(), c.size, c.truncated()), (BODY_CAPTURE, BODY_CAPTURE + 10, true));
        let unread = Captured::prefix(b"", 5_000_000);
        assert_eq!((unread.bytes.len(), unread.size, unread.truncated()), (0, 5_000_000, true));
        assert!(!Captured::new(b"{}").truncated());
    }

    #[test]
    fn the_text_keeps_repeated_header_fields_in_order_and_both_sides_apart() {
        let mut h = HeaderMap::new();
        h.append("x-a", "1".parse().expect("value"));
        h.insert("content-type", "application/json; q=1:2".parse().expect("value"));
        h.append("x-a", "2".parse().expect("value"));
        let mut text = Text::request("/a", Some(""), None, &h);
        text.respond(&HeaderMap::from_iter([(axum::http::header::VARY, "origin".parse().expect("value"))]));
        let pairs: Vec<(&str, &[u8])> = text.request_headers().iter().collect();
        assert_eq!(pairs, [("x-a", &b"1"[..]), ("x-a", b"2"), ("content-type", b"application/json; q=1:2")]);
        assert_eq!(text.request_headers().len(), "x-a:1\nx-a:2\ncontent-type:application/json; q=1:2\n".len());
        assert_eq!(text.response_headers().iter().collect::<Vec<_>>(), [("vary", &b"origin"[..])]);
        assert_eq!((text.path(), text.query(), text.api_key()), ("/a", Some(""), None));
    }

    #[test]
    fn the_cost_grows_with_bodies_and_headers() {
        let small = test_entry("/atoms/v1/agent", None, 200);
        let mut big = small.clone();
        big.request_body = Captured::new(&[b'x'; 1000]);
        big.response_body = Some(Captured::new(&[b'y'; 500]));
        assert_eq!(big.cost() - small.cost(), 1500);
        assert!(small.cost() >= std::mem::size_of::<Entry>());
    }
}
