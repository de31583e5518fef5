//! Typed ids: newtypes that parse once at the edge, from a path segment
//! ([`ApiPath`](super::extract::ApiPath)) or a body field
//! ([`ApiJson`](super::extract::ApiJson)), and give the platform's message
//! for a malformed id (BEHAVIOR R012, R027): `Invalid agent id`, `Invalid
//! version id`, ... A well-formed id that names nothing is the store's
//! business (404 or 400, per route).
//!
//! Each derefs to `str`, so domain calls take `&id`. In the OpenAPI
//! document each is a string with the id's pattern.

use std::borrow::Cow;

use serde::de::{Deserialize, Deserializer, Error};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

use super::error::ApiError;
use crate::domain::ids::{is_call_id, is_object_id};

/// A string schema with `pattern` and `description`.
fn string_schema(pattern: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(pattern))
        .description(Some(description))
        .into()
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $valid:path, $pattern:literal, $invalid:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The message for a malformed id (400).
            pub const INVALID: &'static str = $invalid;

            /// Parses `s`; a malformed id is 400 with [`Self::INVALID`].
            pub fn parse(s: &str) -> Result<Self, ApiError> {
                if $valid(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(ApiError::BadRequest($invalid.into()))
                }
            }

            /// The id as sent.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if $valid(&s) {
                    Ok(Self(s))
                } else {
                    Err(D::Error::custom($invalid))
                }
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_schema($pattern, concat!(stringify!($name), "; malformed: 400 `", $invalid, "`"))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

typed_id!(
    /// An agent's 24-hex id (R012, R027).
    AgentId, is_object_id, "^[0-9a-f]{24}$", "Invalid agent id"
);
typed_id!(
    /// A published version's 24-hex id (v1, R060).
    VersionId, is_object_id, "^[0-9a-f]{24}$", "Invalid version id"
);
typed_id!(
    /// A branch's 24-hex id (v2, R074).
    BranchId, is_object_id, "^[0-9a-f]{24}$", "Invalid branch id"
);
typed_id!(
    /// A revision's 24-hex id (v2, R092; the same row as a v1 version).
    RevisionId, is_object_id, "^[0-9a-f]{24}$", "Invalid revision id"
);
typed_id!(
    /// A campaign's 24-hex id (§H; the message is inferred).
    CampaignId, is_object_id, "^[0-9a-f]{24}$", "Invalid campaign id"
);
typed_id!(
    /// An audience's 24-hex id (§I; the message is inferred).
    AudienceId, is_object_id, "^[0-9a-f]{24}$", "Invalid audience id"
);
typed_id!(
    /// A webhook's 24-hex id (R139's message).
    WebhookId, is_object_id, "^[0-9a-f]{24}$", "The provided Webhook ID is invalid."
);
typed_id!(
    /// A telephony product's 24-hex id (`fromProductId`, R102).
    ProductId, is_object_id, "^[0-9a-f]{24}$", "Invalid product id"
);
typed_id!(
    /// A call id `CALL-<13-digit epoch ms>-<6 hex>` (R013), never the
    /// record's `_id` (R116's message).
    CallId, is_call_id, "^CALL-[0-9]{13}-[0-9a-f]{6}$", "Invalid call ID format"
);

typed_id!(
    /// A knowledge base's 24-hex id (the message is inferred, LIVE T3's
    /// pattern).
    KnowledgeBaseId, is_object_id, "^[0-9a-f]{24}$", "Invalid knowledge base id"
);
typed_id!(
    /// A knowledge-base item's 24-hex id (the message is inferred).
    KnowledgeBaseItemId, is_object_id, "^[0-9a-f]{24}$", "Invalid knowledge base item id"
);
typed_id!(
    /// A scraped URL row's 24-hex id (the message is inferred).
    ScrapedUrlId, is_object_id, "^[0-9a-f]{24}$", "Invalid scraped URL id"
);
typed_id!(
    /// A call action's 24-hex id (the message is inferred).
    CallActionId, is_object_id, "^[0-9a-f]{24}$", "Invalid call action id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_once_with_the_platform_message() {
        assert_eq!(AgentId::parse("0123456789abcdef01234567").map(|a| a.len()).ok(), Some(24));
        assert_eq!(AgentId::parse("xyz").map_err(|e| e.to_string()).err().as_deref(), Some("Invalid agent id"));
        let e = serde_json::from_str::<VersionId>("\"ABC\"").expect_err("malformed");
        assert!(e.to_string().starts_with("Invalid version id"), "{e}");
        assert!(serde_json::from_str::<CallId>("\"CALL-1767225600000-0a1b2c\"").is_ok());
        assert!(CallId::parse("0123456789abcdef01234567").is_err(), "a record _id is not a call id");
    }
}
