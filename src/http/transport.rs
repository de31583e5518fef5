//! What clients see of the platform's web framework rather than of its API
//! (LIVE T1–T3): the platform is an Express service, and clients written
//! against it rely on Express habits the OpenAPI document never mentions.
//!
//! - **Content type (LIVE T1).** Every JSON answer, errors included, says
//!   `application/json; charset=utf-8` (Express's `res.json`); `stamp`
//!   rewrites a bare `application/json` on the way out, so no handler has
//!   to remember it.
//! - **Unknown routes (LIVE T2).** A method and path with no route answer
//!   404 with Express's default HTML page, byte for byte ([`not_found_page`]):
//!   Express has no 405, so a known path with an unknown method gets the
//!   same page. Routes that exist answer unknown ids in the JSON envelope.
//! - **Trailing slash.** Express routes are not strict: `/agent/` is
//!   `/agent`. [`stack`] trims trailing slashes before routing and keeps
//!   the URI as sent in `OriginalUri`, which the 404 page names.
//! - **JSON bodies.** `express.json()` parses a body only when its
//!   `Content-Type` is `application/json` (parameters such as `charset`
//!   allowed); any other body counts as empty, so the handler's usual
//!   validation message answers ([`is_json`], used by `ApiJson` on
//!   `/atoms/v1`). The control API keeps reading any body as JSON, so
//!   `curl -d` works there without a header.
//! - **Bearer.** The auth scheme is matched case-insensitively
//!   (`Bearer`, `bearer`, `BEARER`), as HTTP auth schemes are (RFC 9110
//!   §11.1); see `extract::bearer`.
//! - **CORS.** A browser app built against the platform needs preflights
//!   and `Access-Control-Allow-*` on every answer: [`cors_layer`], tower-
//!   http's `CorsLayer`, configured by `--cors` ([`CorsOrigins`]).
//!
//! [`stack`] puts the last two around the whole router, so they are built
//! once per connection: as route layers they would be cloned on every
//! request (about 1.5 µs each time, measured in-process).

use std::time::Duration;

pub use super::control_layers::App;
use axum::extract::{OriginalUri, Request};
use axum::http::header::{self, CONTENT_TYPE};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower::util::{Either, MapRequest, MapResponse};
use tower::Layer;
use tower_http::cors::{AllowHeaders, AllowOrigin, Cors, CorsLayer, ExposeHeaders};

pub use crate::config::CorsOrigins;

/// `application/json; charset=utf-8`, the content type of every JSON
/// answer (LIVE T1).
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Sets [`JSON_UTF8`] on an answer that says bare `application/json`
/// (LIVE T1). Other content types are left alone.
pub(crate) fn json_charset(res: &mut Response) {
    let bare = res.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"application/json"));
    if bare {
        res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    }
}

/// Whether `headers` declare a JSON body the way `express.json()` checks
/// it: the media type is `application/json`, case-insensitive, parameters
/// ignored. A missing header is not JSON.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Express's 404 page for `method` and `path` (LIVE T2): `text/html;
/// charset=utf-8`, the body
/// `<!DOCTYPE html>…<pre>Cannot GET /atoms/v1/organization</pre>…</html>\n`,
/// and the two headers Express's `finalhandler` adds
/// (`Content-Security-Policy: default-src 'none'`,
/// `X-Content-Type-Options: nosniff`). The path is encoded and escaped as
/// `finalhandler` does (`encodeurl`, then `escape-html`).
pub fn not_found_page(method: &Method, path: &str) -> Response {
    let message = escape_html(&format!("Cannot {method} {}", encode_url(path)));
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n\
         <body>\n<pre>{message}</pre>\n</body>\n</html>\n"
    );
    let mut res = (StatusCode::NOT_FOUND, body).into_response();
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert("content-security-policy", HeaderValue::from_static("default-src 'none'"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    res
}

/// The fallback for every method and path without a route: [`not_found_page`]
/// naming the path as the client sent it (before trailing-slash trimming).
pub(crate) async fn unknown_route(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    not_found_page(&method, uri.path())
}

/// `encodeurl`: percent-encodes every byte outside the URL-safe set it
/// keeps, and a `%` that does not start a `%XX` escape.
fn encode_url(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = String::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        let escape_start = c == b'%' && b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
        let keep = matches!(c, b'!' | b'&'..=b';' | b'=' | b'?'..=b'[' | b']' | b'_' | b'a'..=b'z' | b'~');
        if keep || escape_start {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// `escape-html`: `& < > " '` as entities.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The CORS layer for `origins`, or `None` for `off`. Preflights
/// (`OPTIONS` with `Access-Control-Request-Method`) are answered 200
/// before auth and routing; every answer carries
/// `Access-Control-Allow-Origin`, and `x-request-id`, `Deprecation` and
/// `Retry-After` are exposed to scripts. Allowed request headers mirror
/// the preflight's (`Authorization`, `Content-Type`,
/// `x-atoms-mock-scenario`, ...); preflights are cached 10 minutes.
/// `Vary` is left to [`stack`], which adds tower-http's default value
/// ([`CORS_VARY`]) as one fixed header instead of the layer joining the
/// names anew for every answer.
pub fn cors_layer(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allow = match origins {
        CorsOrigins::Off => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(l) => AllowOrigin::list(l.iter().filter_map(|o| HeaderValue::from_str(o).ok())),
    };
    let expose = ["x-request-id", "deprecation", "retry-after"].map(HeaderName::from_static);
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers(ExposeHeaders::list(expose))
            .max_age(Duration::from_secs(600))
            .vary([] as [HeaderName; 0]),
    )
}

/// tower-http's default CORS `Vary` (`preflight_request_headers()`, joined
/// as its `CorsLayer` joins them).
pub const CORS_VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// Appends [`CORS_VARY`] to an answer that went through the CORS layer (as
/// the layer itself would: after any `Vary` of the app's).
fn cors_vary(mut res: Response) -> Response {
    res.headers_mut().append(header::VARY, HeaderValue::from_static(CORS_VARY));
    res
}

/// The app as served: trailing slashes trimmed, then CORS (unless
/// `off`), then the app.
pub type Served = MapRequest<Either<MapResponse<Cors<App>, fn(Response) -> Response>, App>, fn(Request) -> Request>;

/// Wraps `app` in the transport layers (see the module doc).
pub fn stack(app: App, origins: &CorsOrigins) -> Served {
    let inner = match cors_layer(origins) {
        Some(cors) => Either::Left(MapResponse::new(cors.layer(app), cors_vary as fn(Response) -> Response)),
        None => Either::Right(app),
    };
    MapRequest::new(inner, trim_trailing_slash as fn(Request) -> Request)
}

/// `/agent/` → `/agent` (query kept); the URI as sent goes into
/// `OriginalUri` first. `/` stays `/`.
fn trim_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() < 2 || !path.ends_with('/') {
        return req;
    }
    let trimmed = match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let pq = match req.uri().query() {
        Some(q) => format!("{trimmed}?{q}"),
        None => trimmed.to_owned(),
    };
    let original = req.uri().clone();
    let mut parts = original.clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(pq).ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        req.extensions_mut().insert(OriginalUri(original));
        *req.uri_mut() = uri;
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn the_fixed_cors_vary_is_tower_http_s_default_joined_as_it_joins_it() {
        let names = tower_http::cors::preflight_request_headers().map(|n| n.as_str().to_owned()).collect::<Vec<_>>();
        assert_eq!(CORS_VARY, names.join(", "));
    }

    #[test]
    fn the_404_page_is_express_s_byte_for_byte() {
        let res = not_found_page(&Method::GET, "/atoms/v1/organization");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let body = futures_util::FutureExt::now_or_never(axum::body::to_bytes(res.into_body(), 4096))
            .expect("ready")
            .expect("body");
        assert_eq!(
            std::str::from_utf8(&body).expect("utf-8"),
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n\
             <body>\n<pre>Cannot GET /atoms/v1/organization</pre>\n</body>\n</html>\n"
        );
    }

    #[test]
    fn paths_are_encoded_and_escaped_like_finalhandler() {
        assert_eq!(encode_url("/a b/%zz/%41/\u{e9}"), "/a%20b/%25zz/%41/%C3%A9");
        assert_eq!(escape_html(&encode_url("/x&y'<")), "/x&amp;y&#39;%3C");
    }

    #[test]
    fn trailing_slashes_are_trimmed_and_the_uri_as_sent_is_kept() {
        let req = trim_trailing_slash(Request::get("/atoms/v1/agent//?page=2").body(Body::empty()).expect("request"));
        assert_eq!(req.uri(), "/atoms/v1/agent?page=2");
        assert_eq!(
            req.extensions().get::<OriginalUri>().map(|o| o.0.to_string()),
            Some("/atoms/v1/agent//?page=2".into())
        );
        for unchanged in ["/", "/agent"] {
            let req = trim_trailing_slash(Request::get(unchanged).body(Body::empty()).expect("request"));
            assert_eq!((req.uri().path(), req.extensions().get::<OriginalUri>().is_none()), (unchanged, true));
        }
    }

    #[test]
    fn only_application_json_counts_as_json() {
        let with = |v: &str| HeaderMap::from_iter([(CONTENT_TYPE, HeaderValue::from_str(v).expect("header"))]);
        assert!(is_json(&with("application/json")));
        assert!(is_json(&with("Application/JSON; charset=utf-8")));
        assert!(!is_json(&with("text/plain")));
        assert!(!is_json(&with("application/x-www-form-urlencoded")));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn cors_origins_parse_from_the_flag() {
        assert_eq!("*".parse::<CorsOrigins>(), Ok(CorsOrigins::Any));
        assert_eq!("off".parse::<CorsOrigins>(), Ok(CorsOrigins::Off));
        assert_eq!(
            "https://a.example, http://localhost:3000".parse::<CorsOrigins>(),
            Ok(CorsOrigins::List(vec!["https://a.example".into(), "http://localhost:3000".into()]))
        );
        assert!("a.example".parse::<CorsOrigins>().is_err());
    }
}
