//! JSON request bodies: one serde type per body ([`RequestBody`]), parsed
//! with the platform's messages (BEHAVIOR R009, Zod's wording).
//!
//! serde's errors are rewritten on the way out, so typing a body never
//! changes what a client reads:
//!
//! | serde says | the client reads |
//! |---|---|
//! | a syntax error | `Malformed JSON in request body: …` (a lone UTF-16 surrogate named as such) |
//! | an array, string, … where the body's object should be | `Invalid input: Expected object, received array` |
//! | missing field `name` | `name: Required` (nested: `events.0.agentId: Required`) |
//! | invalid type: integer, expected a string | `name: Expected string, received number` |
//! | unknown variant `x`, expected one of `a`, `b` | `mode: Invalid enum value. Expected 'a' \| 'b', received 'x'` |
//! | unknown field `x` (bodies that refuse unknown keys) | `Unrecognized key(s) in object: 'x'` |
//! | a message of the field's own type | that message, `{path}` replaced by the field's path |
//!
//! Field types whose platform message differs from these (typed ids:
//! `Invalid agent id`; bounded integers: `retryDelay must be an integer
//! between 1 and 1440`) raise their own message with `de::Error::custom`;
//! see [`crate::http::ids`] and [`fields`]. Checks that need more than one
//! field go in [`RequestBody::validate`], which the extractor runs right
//! after parsing.

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use super::error::ApiError;
use crate::domain::DomainError;

/// A JSON request body type: deserialized with the messages above, then
/// checked by [`validate`](RequestBody::validate) before the handler runs.
/// Implement it with an empty block when serde's checks are all there is.
pub(crate) trait RequestBody: DeserializeOwned {
    /// Checks serde's types cannot express (blank strings, one of two
    /// fields, cross-field rules), with the platform's message.
    fn validate(&self) -> Result<(), DomainError> {
        Ok(())
    }
}

/// The placeholder a field type's own message may use for the field's
/// path (`retryDelay`, `events.0.agentId`).
pub(crate) const PATH: &str = "{path}";

/// Parses `bytes` as JSON into `T` with the platform's messages (see the
/// module doc); an empty or blank body counts as `{}`.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let blank = bytes.iter().all(u8::is_ascii_whitespace);
    let src: &[u8] = if blank { b"{}" } else { bytes };
    // Without path tracking first (it copies every key it passes); a body
    // that fails is read again with it, for the error's path.
    if let Ok(parsed) = serde_json::from_slice(src) {
        return Ok(parsed);
    }
    let mut de = serde_json::Deserializer::from_slice(src);
    let parsed = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = dotted(e.path());
        rejection(e.inner(), &path, src)
    })?;
    de.end().map_err(|e| rejection(&e, "", src))?;
    Ok(parsed)
}

/// Parses and validates a [`RequestBody`]. Every body is a JSON object:
/// anything else is `Invalid input: Expected object, received <type>`
/// (serde would read an array into a struct field by field).
pub(crate) fn parse_body<T: RequestBody>(bytes: &[u8]) -> Result<T, ApiError> {
    match json_type(bytes) {
        Some(kind) if kind != "object" => {
            let _: serde_json::Value = parse_json(bytes)?;
            return Err(ApiError::BadRequest(format!("Invalid input: Expected object, received {kind}")));
        }
        _ => {}
    }
    let body: T = parse_json(bytes)?;
    body.validate()?;
    Ok(body)
}

/// `events.0.agentId`: Zod's path notation.
fn dotted(path: &serde_path_to_error::Path) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } => key.clone(),
            Segment::Enum { variant } => variant.clone(),
            Segment::Unknown => "?".into(),
        })
        .collect();
    parts.join(".")
}

fn rejection(e: &serde_json::Error, path: &str, src: &[u8]) -> ApiError {
    use serde_json::error::Category;
    let message = e.to_string();
    let bad = ApiError::BadRequest;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io if is_surrogate_error(&message) => bad(format!(
            "Malformed JSON in request body: a \\u escape holds a lone UTF-16 surrogate (\\ud800-\\udfff must come as \
             a high-low pair) at line {} column {}",
            e.line(),
            e.column()
        )),
        Category::Syntax | Category::Eof | Category::Io => bad(format!("Malformed JSON in request body: {message}")),
        Category::Data => {
            let message = without_position(&message, e);
            match json_type(src) {
                Some(kind) if path.is_empty() && kind != "object" && expects_object(message) => {
                    bad(format!("Invalid input: Expected object, received {kind}"))
                }
                _ => bad(zod_message(path, message)),
            }
        }
    }
}

/// serde_json's message without its ` at line L column C` suffix.
fn without_position<'a>(message: &'a str, e: &serde_json::Error) -> &'a str {
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    message.strip_suffix(suffix.as_str()).unwrap_or(message)
}

/// Rewrites one of serde's data errors at `path` in Zod's words.
pub(crate) fn zod_message(path: &str, message: &str) -> String {
    let at = |field: &str| if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
    let named = |text: &str| if path.is_empty() { text.to_string() } else { format!("{path}: {text}") };
    if let Some(field) = message.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
        return format!("{}: Required", at(field));
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((got, want)) = rest.split_once(", expected ") {
            return named(&format!("Expected {}, received {}", zod_type(want), zod_type(got)));
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((got, want)) = rest.split_once("`, expected ") {
            // serde writes `a`, `a` or `b`, or one of `a`, `b`, `c`.
            let options: Vec<String> = want
                .trim_start_matches("one of ")
                .split(", ")
                .flat_map(|o| o.split(" or "))
                .map(|o| format!("'{}'", o.trim_matches('`')))
                .collect();
            return named(&format!("Invalid enum value. Expected {}, received '{got}'", options.join(" | ")));
        }
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let text = rest.split_once(", expected ").map_or(rest, |(got, _)| got);
        return named(&format!("Invalid input: {text}"));
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return named(&format!("Unrecognized key(s) in object: '{field}'"));
    }
    if let Some(field) = message.strip_prefix("duplicate field `").and_then(|r| r.strip_suffix('`')) {
        return format!("{}: Duplicate key", at(field));
    }
    if message.contains(PATH) {
        let shown = if path.is_empty() { "body" } else { path };
        return message.replace(PATH, shown);
    }
    message.to_string()
}

/// Zod's name for what serde calls a type (`a string`, `u32`, `struct X`,
/// `integer \`4\``).
fn zod_type(serde: &str) -> &'static str {
    let s = serde.trim_start_matches("a ").trim_start_matches("an ");
    match s.split([' ', '`']).next().unwrap_or_default() {
        "string" | "char" | "borrowed" | "variant" | "enum" => "string",
        "boolean" => "boolean",
        "null" | "unit" | "option" => "null",
        "sequence" | "tuple" | "array" => "array",
        "map" | "struct" | "object" | "JSON" => "object",
        "integer" | "floating" | "number" | "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64"
        | "isize" | "f32" | "f64" => "number",
        _ => "valid input",
    }
}

/// serde_json's errors for a surrogate escape without its pair.
fn is_surrogate_error(message: &str) -> bool {
    message.starts_with("unexpected end of hex escape") || message.starts_with("lone leading surrogate")
}

/// serde's error for a map or struct target given something else.
fn expects_object(message: &str) -> bool {
    message.starts_with("invalid type:")
        && (message.contains("expected a map") || message.contains("expected struct") || message.contains("a JSON"))
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

/// Reads a JSON object and hands it to `parse`, a domain parser whose
/// error message is passed on as is (see [`parsed_body`]).
pub(crate) fn parse_object<'de, D: serde::Deserializer<'de>, T>(
    d: D,
    parse: impl FnOnce(&serde_json::Map<String, serde_json::Value>) -> Result<T, DomainError>,
) -> Result<T, D::Error> {
    use serde::de::Error;
    let body = <serde_json::Map<String, serde_json::Value> as serde::Deserialize>::deserialize(d)?;
    parse(&body).map_err(|e| D::Error::custom(e.to_string()))
}

/// A request body parsed by a domain parser: `$name($domain)` gets
/// `Deserialize` (through `$parse`, so the client reads the domain's
/// messages, checked in the domain's order), [`RequestBody`], and the
/// OpenAPI schema `$schema` builds. Used where a pure parser already owns
/// the body's rules (agent config tables, webhooks).
macro_rules! parsed_body {
    ($(#[$doc:meta])* $name:ident($domain:ty), $parse:expr, $schema:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub(crate) struct $name(pub(crate) $domain);

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::http::json::parse_object(d, $parse).map(Self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $crate::http::json::RequestBody for $name {}
    };
}
pub(crate) use parsed_body;

/// A request body that is a domain body type as is (`$name.0`): serde
/// reads the domain type (its own type errors read as usual), the domain's
/// validator runs in the store or engine call; the OpenAPI schema is an
/// object, described by the doc comment.
macro_rules! domain_body {
    ($(#[$doc:meta])* $name:ident($domain:ty)) => {
        $(#[$doc])*
        #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = Object)]
        pub(crate) struct $name(pub(crate) $domain);

        impl $crate::http::json::RequestBody for $name {}
    };
}
pub(crate) use domain_body;

pub(crate) mod fields {
    //! Field types and `deserialize_with` helpers for the bodies whose
    //! platform messages are not Zod's defaults.

    use serde::de::{Deserialize, Deserializer, Error};
    use serde_json::Value;

    use super::PATH;

    /// An optional whole number in `LO..=HI`; anything else (another type,
    /// a fraction, out of range) is `<path> must be an integer between LO
    /// and HI` (R160's wording).
    pub(crate) fn int_between<'de, D: Deserializer<'de>, const LO: u32, const HI: u32>(
        d: D,
    ) -> Result<Option<u32>, D::Error> {
        let v = Option::<Value>::deserialize(d)?;
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (LO..=HI).contains(n))
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("{PATH} must be an integer between {LO} and {HI}"))),
        }
    }

    /// An optional whole number ≥ 0; anything else is `<path>: must be an
    /// integer ≥ 0`.
    pub(crate) fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| D::Error::custom(format!("{PATH}: must be an integer ≥ 0"))),
        }
    }

    /// A field that may be absent (`None`), `null` (`Some(None)`) or a
    /// string; anything else is `<path>: Expected string or null`. Use with
    /// `#[serde(default)]`.
    pub(crate) fn nullable_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Some(None)),
            Value::String(s) => Ok(Some(Some(s))),
            _ => Err(D::Error::custom(format!("{PATH}: Expected string or null"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::{Map, Value};

    fn message(body: &[u8]) -> String {
        parse_json::<Map<String, Value>>(body).expect_err("rejected").to_string()
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        events: Option<Vec<Event>>,
        #[serde(default, deserialize_with = "fields::int_between::<_, 1, 1440>")]
        retry_delay: Option<u32>,
    }

    impl RequestBody for Sample {}

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Event {
        agent_id: String,
        event_type: Kind,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Kind {
        PreConversation,
        PostConversation,
    }

    fn sample(v: &Value) -> String {
        parse_json::<Sample>(v.to_string().as_bytes()).expect_err("rejected").to_string()
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
        let array = parse_body::<Sample>(b"[1]").expect_err("an array").to_string();
        assert_eq!(array, "Invalid input: Expected object, received array");
    }

    #[test]
    fn serde_errors_read_like_zod_with_the_field_path() {
        assert_eq!(sample(&serde_json::json!({})), "name: Required");
        assert_eq!(sample(&serde_json::json!({"name": 4})), "name: Expected string, received number");
        assert_eq!(sample(&serde_json::json!({"name": "a", "events": "x"})), "events: Expected array, received string");
        assert_eq!(sample(&serde_json::json!({"name": "a", "events": [{}]})), "events.0.agentId: Required");
        assert_eq!(
            sample(&serde_json::json!({"name": "a", "events": [{"agentId": "x", "eventType": "nope"}]})),
            "events.0.eventType: Invalid enum value. Expected 'pre-conversation' | 'post-conversation', received 'nope'"
        );
        assert_eq!(
            sample(&serde_json::json!({"name": "a", "retryDelay": "15"})),
            "retryDelay must be an integer between 1 and 1440"
        );
        assert!(parse_json::<Sample>(br#"{"name": "a"} x"#).expect_err("trailing").to_string().contains("JSON"));
    }
}
