//! A fault rule as posted to `POST /_admin/faults`, validated into a
//! [`FaultSpec`] with its response pre-rendered, and its path pattern.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::domain::{API_PREFIX, UNAUTHORIZED};

/// `Retry-After` of a 429 rule without `retryAfter`, in seconds (R010's example).
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 60;
/// Longest accepted `delayMs`: one day.
const MAX_DELAY_MS: u64 = 86_400_000;

/// The body of `POST /_admin/faults`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRequest {
    /// Only this method (any case); default: any.
    pub method: Option<String>,
    /// Path under `/atoms/v1` (the prefix may be included): exact, with
    /// `*` for one segment, or ending in `/**` for any rest.
    pub path_pattern: String,
    /// Only requests with this Bearer token; default: any, even none.
    pub api_key: Option<String>,
    /// Answer with this status (200–599); without it the rule only delays.
    pub status: Option<u16>,
    /// JSON body of the answer; default: the platform's error envelope.
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
    /// Extra response headers (string values; others are rendered as JSON).
    #[schema(value_type = Option<Object>)]
    pub headers: Option<Map<String, Value>>,
    /// Hold the request this long first, in ms on the mock's clock.
    pub delay_ms: Option<u64>,
    /// Fire on the next N matching requests only (N ≥ 1); default: always.
    pub times: Option<u64>,
    /// Chance to fire per matching request, 0–1; default 1.
    pub probability: Option<f64>,
    /// 429 only: `Retry-After` and `retry_after`, in seconds; default 60.
    pub retry_after: Option<u64>,
}

/// A path pattern relative to `/atoms/v1`, matched by `matchit` (the
/// router axum uses): `*` becomes a one-segment parameter, a trailing `**`
/// a catch-all that also matches nothing. Empty segments (`//`, a trailing
/// `/`) are ignored on both sides.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    router: matchit::Router<()>,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// `/` and the path's segments joined, empty ones dropped.
fn normalized(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for seg in segments(path) {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

impl Pattern {
    /// Parses `/agent/*/drafts`, `/atoms/v1/agent` or `/campaign/**`.
    pub fn parse(src: &str) -> Result<Self, String> {
        let rel = strip_prefix(src).ok_or_else(|| format!("pathPattern: must start with '/', received '{src}'"))?;
        let segs: Vec<&str> = segments(rel).collect();
        if segs.iter().rev().skip(1).any(|s| *s == "**") {
            return Err("pathPattern: '**' may only be the last segment".into());
        }
        let rest = segs.last() == Some(&"**");
        let mut route = String::new();
        for (i, seg) in segs.iter().take(segs.len() - usize::from(rest)).enumerate() {
            route.push('/');
            match *seg {
                "*" => route.push_str(&format!("{{s{i}}}")),
                lit => route.push_str(&lit.replace('{', "{{").replace('}', "}}")),
            }
        }
        let mut routes = vec![if route.is_empty() { "/".to_string() } else { route.clone() }];
        if rest {
            routes.push(format!("{route}/{{*rest}}"));
        }
        let mut router = matchit::Router::new();
        for r in routes {
            router.insert(r, ()).map_err(|e| format!("pathPattern: {e}"))?;
        }
        Ok(Self { source: src.to_owned(), router })
    }

    /// The pattern as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `rel_path` (under `/atoms/v1`, e.g. `/agent/abc`) matches;
    /// empty segments (`//`, a trailing `/`) are ignored.
    pub fn matches(&self, rel_path: &str) -> bool {
        self.router.at(&normalized(rel_path)).is_ok()
    }
}

/// `path` relative to `/atoms/v1` (unchanged when it lacks the prefix);
/// `None` unless it starts with `/`.
pub fn strip_prefix(path: &str) -> Option<&str> {
    if !path.starts_with('/') {
        return None;
    }
    Some(match path.strip_prefix(API_PREFIX) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    })
}

/// The platform's error body for `status` (R005): `{"status": false,
/// "errors": ["<message>"]}`; 429 adds `code` and `retry_after` (R010, L-A1).
pub fn default_body(status: StatusCode, retry_after: u64) -> Value {
    let message = match status.as_u16() {
        400 => "Invalid input",
        401 => UNAUTHORIZED,
        404 => "Resource not found",
        429 => {
            return json!({"status": false, "errors": ["Rate limit exceeded"], "code": "RATE_LIMIT_EXCEEDED",
                          "retry_after": retry_after})
        }
        500 => "Internal server error",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    json!({"status": false, "errors": [message]})
}

/// A validated rule, its answer rendered once.
#[derive(Debug, Clone)]
pub struct FaultSpec {
    /// Only this method.
    pub method: Option<Method>,
    /// Where it applies.
    pub pattern: Pattern,
    /// Only this Bearer token.
    pub api_key: Option<String>,
    /// The answer's status; `None`: delay only.
    pub status: Option<StatusCode>,
    /// The answer's JSON body (empty for delay-only rules).
    pub body: Bytes,
    /// Extra answer headers (`Retry-After` for 429).
    pub headers: HeaderMap,
    /// Delay in ms on the mock's clock.
    pub delay_ms: u64,
    /// Uses, as given.
    pub times: Option<u64>,
    /// Chance to fire, 0–1.
    pub probability: f64,
}

impl FaultSpec {
    /// Validates `r`; errors name the field (`status: …`).
    pub fn parse(r: &FaultRequest) -> Result<Self, String> {
        let status = r
            .status
            .map(|c| StatusCode::from_u16(c).ok().filter(|_| (200..=599).contains(&c)))
            .map(|s| s.ok_or_else(|| format!("status: must be between 200 and 599, received {:?}", r.status)))
            .transpose()?;
        let delay_ms = r.delay_ms.unwrap_or(0);
        if status.is_none() && delay_ms == 0 {
            return Err("status: Required unless delayMs is set".into());
        }
        if status.is_none() && r.body.is_some() {
            return Err("body: needs a status".into());
        }
        if delay_ms > MAX_DELAY_MS {
            return Err(format!("delayMs: at most {MAX_DELAY_MS}"));
        }
        if r.times == Some(0) {
            return Err("times: must be at least 1".into());
        }
        let probability = r.probability.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&probability) {
            return Err("probability: must be between 0 and 1".into());
        }
        let method = r
            .method
            .as_deref()
            .map(|m| {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes()).map_err(|_| format!("method: invalid '{m}'"))
            })
            .transpose()?;
        let retry_after = r.retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS);
        let body = match (status, &r.body) {
            (None, _) => Bytes::new(),
            (Some(_), Some(b)) => Bytes::from(b.to_string()),
            (Some(s), None) => Bytes::from(default_body(s, retry_after).to_string()),
        };
        let mut headers = HeaderMap::new();
        if status == Some(StatusCode::TOO_MANY_REQUESTS) {
            headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        for (k, v) in r.headers.iter().flatten() {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("headers: invalid name '{k}'"))?;
            let value = HeaderValue::from_str(&text).map_err(|_| format!("headers.{k}: invalid value"))?;
            headers.insert(name, value);
        }
        let pattern = Pattern::parse(&r.path_pattern)?;
        Ok(Self {
            method,
            pattern,
            api_key: r.api_key.clone(),
            status,
            body,
            headers,
            delay_ms,
            times: r.times,
            probability,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<FaultSpec, String> {
        FaultSpec::parse(&serde_json::from_value(v).expect("request"))
    }

    #[test]
    fn patterns_match_exact_paths_star_segments_and_a_trailing_rest() {
        let p = |s: &str| Pattern::parse(s).expect("pattern");
        assert!(p("/agent").matches("/agent"));
        assert!(p("/atoms/v1/agent").matches("/agent/"));
        assert!(!p("/agent").matches("/agent/1"));
        assert!(p("/agent/*/drafts").matches("/agent/abc/drafts"));
        assert!(!p("/agent/*/drafts").matches("/agent/drafts"));
        assert!(p("/campaign/**").matches("/campaign"));
        assert!(p("/campaign/**").matches("/campaign/1/logs"));
        assert!(p("/**").matches("/anything/at/all"));
        assert!(Pattern::parse("/a/**/b").is_err());
        assert!(Pattern::parse("agent").is_err());
    }

    #[test]
    fn the_prefix_is_stripped_only_at_a_segment_boundary() {
        assert_eq!(strip_prefix("/atoms/v1/agent"), Some("/agent"));
        assert_eq!(strip_prefix("/atoms/v1"), Some(""));
        assert_eq!(strip_prefix("/atoms/v10"), Some("/atoms/v10"));
    }

    #[test]
    fn default_bodies_follow_the_platform_envelope() {
        assert_eq!(
            default_body(StatusCode::INTERNAL_SERVER_ERROR, 60),
            json!({"status": false, "errors": ["Internal server error"]})
        );
        assert_eq!(
            default_body(StatusCode::SERVICE_UNAVAILABLE, 60),
            json!({"status": false, "errors": ["Service Unavailable"]})
        );
        assert_eq!(default_body(StatusCode::TOO_MANY_REQUESTS, 7)["retry_after"], 7);
    }

    #[test]
    fn a_429_rule_gets_retry_after_in_header_and_body() {
        let s = parse(json!({"pathPattern": "/agent", "status": 429, "retryAfter": 5})).expect("spec");
        assert_eq!(s.headers["retry-after"], "5");
        let body: Value = serde_json::from_slice(&s.body).expect("json");
        assert_eq!(body["code"], "RATE_LIMIT_EXCEEDED");
        assert_eq!(body["retry_after"], 5);
    }

    #[test]
    fn invalid_rules_name_the_field() {
        let err = |v: Value| parse(v).expect_err("invalid");
        assert!(err(json!({"pathPattern": "/a"})).starts_with("status:"));
        assert!(err(json!({"pathPattern": "/a", "status": 99})).starts_with("status:"));
        assert!(err(json!({"pathPattern": "/a", "status": 500, "times": 0})).starts_with("times:"));
        assert!(err(json!({"pathPattern": "/a", "status": 500, "probability": 1.5})).starts_with("probability:"));
        assert!(err(json!({"pathPattern": "/a", "delayMs": 5, "body": {}})).starts_with("body:"));
        assert!(err(json!({"pathPattern": "/a", "status": 500, "headers": {"bad name": "x"}})).starts_with("headers:"));
        assert!(parse(json!({"pathPattern": "/a", "delayMs": 5})).is_ok());
    }
}
