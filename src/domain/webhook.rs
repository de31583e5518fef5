//! Webhook management rules (BEHAVIOR R134–R142), pure: request bodies are
//! parsed into typed commands here, with the platform's exact messages
//! where the reference quotes one (appendix N) and our own, naming the
//! field, where it does not. Also the opt-in retry schedule.
//!
//! Nothing here touches the store, the clock or the network.

use serde_json::{Map, Value};

use super::config_rules::type_name;
use super::{DomainError, Millis};

/// R135: a URL registered twice.
pub const DUPLICATE_URL: &str = "A webhook with this URL has already been registered";
/// R137, R139: unknown webhook id.
pub const NOT_FOUND: &str = "Webhook not found";
/// R139: malformed webhook id (also used for reads and patches).
pub const INVALID_ID: &str = "The provided Webhook ID is invalid.";
/// R139: delete while any agent is subscribed.
pub const STILL_ASSIGNED: &str =
    "Cannot delete webhook: It is currently assigned to one or more agents. Please remove all agent assignments first.";
/// R139: delete succeeded (as `data`).
pub const DELETED: &str = "Webhook deleted successfully";
/// R141: subscriptions replaced (as `data`).
pub const SUBSCRIBED: &str = "Subscriptions created successfully";
/// R142: subscriptions removed (as `data`).
pub const UNSUBSCRIBED: &str = "Subscriptions deleted successfully";

/// At most this many custom headers per webhook (R138).
pub const MAX_HEADERS: usize = 10;
/// Longest custom header value, in characters (R138).
pub const MAX_HEADER_VALUE: usize = 1024;
/// Header names a user may not set (R138), lowercase.
pub const RESERVED_HEADERS: [&str; 6] =
    ["x-signature", "host", "content-length", "content-type", "connection", "transfer-encoding"];

/// Webhooks one organization may hold: a mock bound on memory (the
/// reference gives none; each webhook may carry ten 1 KiB headers).
pub const MAX_WEBHOOKS: usize = 1_000;

/// 400 `Webhook limit reached: an organization can have at most 1000
/// webhooks` when an organization holding `existing` webhooks may not add
/// one (*inferred* wording, in the style of the audience limit).
pub fn check_webhook_count(existing: usize) -> Result<(), DomainError> {
    super::error::check_count(existing, MAX_WEBHOOKS, ("Webhook", "an organization", "webhooks"))
}

/// The three webhook events (R134); no other value is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventType {
    /// Before the agent speaks (R149).
    PreConversation,
    /// After the call ends (R150).
    PostConversation,
    /// When post-call analytics are ready (R156).
    AnalyticsCompleted,
}

impl EventType {
    /// All three, in lifecycle order.
    pub const ALL: [EventType; 3] = [Self::PreConversation, Self::PostConversation, Self::AnalyticsCompleted];

    /// The wire name (`pre-conversation`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreConversation => "pre-conversation",
            Self::PostConversation => "post-conversation",
            Self::AnalyticsCompleted => "analytics-completed",
        }
    }

    /// Parses a wire name exactly (case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// `POST /webhook` (R134), validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    /// Endpoint URL (http or https).
    pub endpoint: String,
    /// Label; `""` when omitted (L-G4).
    pub description: String,
    /// `(agentId, eventType)` pairs to subscribe, duplicates removed.
    pub events: Vec<(String, EventType)>,
}

/// `PATCH /webhook/{id}` (R137, R138), validated. `None` leaves a field
/// untouched; `headers: Some(vec![])` clears the custom headers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebhookPatch {
    /// New endpoint URL.
    pub endpoint: Option<String>,
    /// New label.
    pub description: Option<String>,
    /// Replacement custom headers, in the order given.
    pub headers: Option<Vec<(String, String)>>,
}

/// `POST /agent/{agentId}/webhook-subscriptions` (R141), validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRequest {
    /// The webhook (24-hex, checked).
    pub webhook_id: String,
    /// Event types, duplicates removed, in the order given.
    pub event_types: Vec<EventType>,
}

fn string_field(body: &Map<String, Value>, key: &str) -> Result<Option<String>, DomainError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(DomainError::invalid(format!("{key}: Expected string, received {}", type_name(v)))),
    }
}

fn enum_error(path: &str, got: &Value) -> DomainError {
    let shown = got.as_str().map_or_else(|| got.to_string(), str::to_string);
    DomainError::invalid_enum(path, &["pre-conversation", "post-conversation", "analytics-completed"], &shown)
}

fn event_type(path: &str, v: &Value) -> Result<EventType, DomainError> {
    v.as_str().and_then(EventType::parse).ok_or_else(|| enum_error(path, v))
}

/// True for an absolute `http`/`https` URL with a host and no whitespace
/// or control characters. Shared by every rule that takes a URL.
pub fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_ok = !host.is_empty() && !host.starts_with(':') && !host.contains(char::is_whitespace);
    let clean = !url.contains(char::is_whitespace) && !url.chars().any(char::is_control);
    ["http", "https"].contains(&scheme.to_ascii_lowercase().as_str()) && host_ok && clean
}

/// Checks an endpoint URL: absolute `http`/`https` with a host.
/// Error: 400 `endpoint: Invalid url`.
pub fn validate_endpoint(url: &str) -> Result<(), DomainError> {
    if is_http_url(url) {
        Ok(())
    } else {
        Err(DomainError::invalid("endpoint: Invalid url"))
    }
}

/// Parses a `POST /webhook` body (R134): `endpoint` required and a valid
/// URL, `description` optional (L-G4), `events` a required array of
/// `{agentId (24-hex), eventType}`.
pub fn parse_create(body: &Map<String, Value>) -> Result<NewWebhook, DomainError> {
    let endpoint = string_field(body, "endpoint")?.ok_or_else(|| DomainError::invalid("endpoint: Required"))?;
    validate_endpoint(&endpoint)?;
    let description = string_field(body, "description")?.unwrap_or_default();
    let items = match body.get("events") {
        None | Some(Value::Null) => return Err(DomainError::invalid("events: Required")),
        Some(Value::Array(a)) => a,
        Some(v) => return Err(DomainError::invalid(format!("events: Expected array, received {}", type_name(v)))),
    };
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let obj = item.as_object().ok_or_else(|| DomainError::invalid(format!("events.{i}: Expected object")))?;
        let agent = string_field(obj, "agentId")?
            .ok_or_else(|| DomainError::invalid(format!("events.{i}.agentId: Required")))?;
        if !super::ids::is_object_id(&agent) {
            return Err(DomainError::invalid("Invalid agent id"));
        }
        let ty = obj.get("eventType").ok_or_else(|| DomainError::invalid(format!("events.{i}.eventType: Required")))?;
        let pair = (agent, event_type(&format!("events.{i}.eventType"), ty)?);
        if !events.contains(&pair) {
            events.push(pair);
        }
    }
    Ok(NewWebhook { endpoint, description, events })
}

/// True when `name` is an RFC 7230 `token`: one or more of
/// `!#$%&'*+-.^_`|~`, digits and ASCII letters.
pub fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Validates custom headers (R138): at most [`MAX_HEADERS`], names RFC
/// 7230 tokens, not reserved and unique ignoring case; values strings of
/// at most [`MAX_HEADER_VALUE`] characters, without control characters
/// (they would break the HTTP request). Returns them in the order given.
pub fn validate_headers(headers: &Map<String, Value>) -> Result<Vec<(String, String)>, DomainError> {
    if headers.len() > MAX_HEADERS {
        return Err(DomainError::invalid(format!(
            "headers: at most {MAX_HEADERS} custom headers are allowed, got {}",
            headers.len()
        )));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        if !is_token(name) {
            return Err(DomainError::invalid(format!("headers: '{name}' is not a valid header name (RFC 7230 token)")));
        }
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(DomainError::invalid(format!("headers: '{name}' is a reserved header name and cannot be set")));
        }
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(DomainError::invalid(format!("headers: duplicate header name '{name}'")));
        }
        let v = value.as_str().ok_or_else(|| {
            DomainError::invalid(format!("headers.{name}: Expected string, received {}", type_name(value)))
        })?;
        if v.chars().count() > MAX_HEADER_VALUE {
            return Err(DomainError::invalid(format!("headers.{name}: value exceeds {MAX_HEADER_VALUE} characters")));
        }
        if v.chars().any(|c| c.is_control() && c != '\t') {
            return Err(DomainError::invalid(format!("headers.{name}: value contains control characters")));
        }
        out.push((name.clone(), v.to_string()));
    }
    Ok(out)
}

/// Parses a `PATCH /webhook/{id}` body (R137, R138). An empty body, or
/// one with none of `endpoint`, `description`, `headers`, is 400 (the
/// spec's `minProperties: 1`).
pub fn parse_patch(body: &Map<String, Value>) -> Result<WebhookPatch, DomainError> {
    let endpoint = string_field(body, "endpoint")?;
    if let Some(e) = &endpoint {
        validate_endpoint(e)?;
    }
    let description = string_field(body, "description")?;
    let headers = match body.get("headers") {
        None => None,
        Some(Value::Object(h)) => Some(validate_headers(h)?),
        Some(v) => return Err(DomainError::invalid(format!("headers: Expected object, received {}", type_name(v)))),
    };
    if endpoint.is_none() && description.is_none() && headers.is_none() {
        return Err(DomainError::invalid("At least one of endpoint, description or headers is required"));
    }
    Ok(WebhookPatch { endpoint, description, headers })
}

/// Parses `POST /agent/{agentId}/webhook-subscriptions` (R141):
/// `eventTypes` (array of the three values) and `webhookId` (24-hex,
/// else 400 [`INVALID_ID`]), both required.
pub fn parse_subscriptions(body: &Map<String, Value>) -> Result<SubscriptionRequest, DomainError> {
    let types = match body.get("eventTypes") {
        None | Some(Value::Null) => return Err(DomainError::invalid("eventTypes: Required")),
        Some(Value::Array(a)) => a,
        Some(v) => return Err(DomainError::invalid(format!("eventTypes: Expected array, received {}", type_name(v)))),
    };
    let webhook_id = string_field(body, "webhookId")?.ok_or_else(|| DomainError::invalid("webhookId: Required"))?;
    let mut event_types = Vec::with_capacity(types.len());
    for (i, v) in types.iter().enumerate() {
        let ty = event_type(&format!("eventTypes.{i}"), v)?;
        if !event_types.contains(&ty) {
            event_types.push(ty);
        }
    }
    if !super::ids::is_object_id(&webhook_id) {
        return Err(DomainError::invalid(INVALID_ID));
    }
    Ok(SubscriptionRequest { webhook_id, event_types })
}

/// Checks a webhook id from a path or query: 400 [`INVALID_ID`] unless
/// 24 lowercase hex characters.
pub fn check_id(id: &str) -> Result<(), DomainError> {
    if super::ids::is_object_id(id) {
        Ok(())
    } else {
        Err(DomainError::invalid(INVALID_ID))
    }
}

/// Longest wait between two retries: 5 minutes.
pub const MAX_RETRY_DELAY_MS: Millis = 300_000;

/// Mock extension (`--webhook-retries`): the wait before retry number
/// `attempt` (1 = the first retry), in ms on the mock's clock. Doubles
/// from 1 s (1 s, 2 s, 4 s, ...), capped at [`MAX_RETRY_DELAY_MS`]. The
/// platform itself never retries (R146).
pub fn retry_delay(attempt: u32) -> Millis {
    let exp = attempt.saturating_sub(1).min(20);
    (1000_i64 << exp).min(MAX_RETRY_DELAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn err(r: Result<impl std::fmt::Debug, DomainError>) -> String {
        match r {
            Err(DomainError::Validation(m)) => m,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    const AGENT: &str = "60d0fe4f5311236168a109ca";

    #[test]
    fn create_accepts_a_missing_description_and_dedupes_events() {
        let body = obj(json!({"endpoint": "http://127.0.0.1:9/h", "events": [
            {"agentId": AGENT, "eventType": "pre-conversation"},
            {"agentId": AGENT, "eventType": "pre-conversation"}]}));
        let w = parse_create(&body).expect("valid");
        assert_eq!(w.description, "");
        assert_eq!(w.events, vec![(AGENT.to_string(), EventType::PreConversation)]);
    }

    #[test]
    fn create_rejects_bad_urls_event_types_and_missing_fields() {
        assert_eq!(err(parse_create(&obj(json!({"events": []})))), "endpoint: Required");
        assert_eq!(err(parse_create(&obj(json!({"endpoint": "ftp://x", "events": []})))), "endpoint: Invalid url");
        assert_eq!(err(parse_create(&obj(json!({"endpoint": "http://", "events": []})))), "endpoint: Invalid url");
        assert_eq!(err(parse_create(&obj(json!({"endpoint": "http://a b", "events": []})))), "endpoint: Invalid url");
        assert_eq!(err(parse_create(&obj(json!({"endpoint": "http://a"})))), "events: Required");
        let m = err(parse_create(&obj(
            json!({"endpoint": "http://a", "events": [{"agentId": AGENT, "eventType": "call.end"}]}),
        )));
        assert!(m.starts_with("events.0.eventType: Invalid enum value"), "{m}");
        assert!(m.ends_with("received 'call.end'"), "{m}");
    }

    #[test]
    fn headers_follow_r138_limits() {
        let many: Map<String, Value> = (0..11).map(|i| (format!("x-h{i}"), json!("v"))).collect();
        assert!(err(validate_headers(&many)).contains("at most 10"));
        let ten: Map<String, Value> = (0..10).map(|i| (format!("x-h{i}"), json!("v"))).collect();
        assert_eq!(validate_headers(&ten).expect("ten is fine").len(), 10);
        for reserved in ["X-Signature", "host", "Content-Length", "content-type", "Connection", "transfer-encoding"] {
            assert!(err(validate_headers(&obj(json!({reserved: "v"})))).contains("reserved"), "{reserved}");
        }
        assert!(err(validate_headers(&obj(json!({"bad name": "v"})))).contains("RFC 7230"));
        assert!(err(validate_headers(&obj(json!({"x-a:": "v"})))).contains("RFC 7230"));
        let long = "a".repeat(1025);
        assert!(err(validate_headers(&obj(json!({"x-a": long})))).contains("1024"));
        assert!(validate_headers(&obj(json!({"x-a": "a".repeat(1024)}))).is_ok());
        assert!(err(validate_headers(&obj(json!({"x-a": 1})))).contains("Expected string"));
        assert!(err(validate_headers(&obj(json!({"x-a": "a\r\nb"})))).contains("control"));
        assert!(err(validate_headers(&obj(json!({"X-A": "1", "x-a": "2"})))).contains("duplicate"));
    }

    #[test]
    fn patch_needs_one_field_and_distinguishes_clear_from_omit() {
        assert!(err(parse_patch(&Map::new())).contains("At least one"));
        assert_eq!(parse_patch(&obj(json!({"headers": {}}))).expect("clear").headers, Some(vec![]));
        assert_eq!(parse_patch(&obj(json!({"description": "d"}))).expect("omit").headers, None);
        assert_eq!(err(parse_patch(&obj(json!({"endpoint": "nope"})))), "endpoint: Invalid url");
        assert!(err(parse_patch(&obj(json!({"headers": []})))).contains("Expected object"));
    }

    #[test]
    fn subscriptions_take_exactly_the_three_event_types() {
        let ok = parse_subscriptions(&obj(json!({"webhookId": AGENT, "eventTypes": ["analytics-completed"]})));
        assert_eq!(ok.expect("valid").event_types, vec![EventType::AnalyticsCompleted]);
        let m = err(parse_subscriptions(&obj(json!({"webhookId": AGENT, "eventTypes": ["PRE-CONVERSATION"]}))));
        assert!(m.starts_with("eventTypes.0: Invalid enum value"), "{m}");
        assert_eq!(err(parse_subscriptions(&obj(json!({"webhookId": "x", "eventTypes": []})))), INVALID_ID);
        assert_eq!(err(parse_subscriptions(&obj(json!({"webhookId": AGENT})))), "eventTypes: Required");
    }

    #[test]
    fn retry_delay_doubles_from_one_second_and_is_capped() {
        assert_eq!([1, 2, 3, 4].map(retry_delay), [1000, 2000, 4000, 8000]);
        assert_eq!(retry_delay(0), 1000);
        assert_eq!(retry_delay(50), MAX_RETRY_DELAY_MS);
    }
}
