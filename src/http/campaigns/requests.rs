//! Request bodies of the campaign area, one type per body (see
//! `http::json` for how their errors read).

use serde::de::{Deserialize, Deserializer, Error};
use serde::Deserialize as DeriveDeserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::campaigns::engine::NewCampaign;
use crate::domain::ids::is_object_id;
use crate::domain::time::parse_iso;
use crate::domain::{DomainError, Millis};
use crate::http::json::{fields, RequestBody};

/// A required string that must not be blank (R009: `<field>: Required`).
fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, DomainError> {
    v.as_deref().filter(|v| !v.trim().is_empty()).ok_or_else(|| DomainError::invalid(format!("{field}: Required")))
}

/// `POST /campaign` (R159, R160). Messages for missing fields follow
/// R009; the others are inferred.
#[derive(Debug, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateCampaignRequest {
    /// Campaign name; not blank.
    #[schema(value_type = String)]
    name: Option<String>,
    /// The audience to dial (24 hex).
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    audience_id: Option<String>,
    /// The agent that calls (24 hex).
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    agent_id: Option<String>,
    /// Free text.
    description: Option<String>,
    /// Caller-ID telephony products (24 hex each).
    #[serde(default, deserialize_with = "phone_number_ids")]
    #[schema(value_type = Option<Vec<String>>)]
    phone_number_ids: Vec<String>,
    /// ISO-8601 start time in the future; the campaign starts itself then.
    #[schema(format = DateTime)]
    scheduled_at: Option<String>,
    /// Retries per member, 0–10 (default 3).
    #[serde(default, deserialize_with = "fields::int_between::<_, 0, 10>")]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 10)]
    max_retries: Option<u32>,
    /// Minutes between retries, 1–1440 (default 15).
    #[serde(default, deserialize_with = "fields::int_between::<_, 1, 1440>")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1440)]
    retry_delay: Option<u32>,
}

fn phone_number_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let bad = || D::Error::custom("phoneNumberIds must be an array of phone number ids");
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => {
            a.iter().map(|v| v.as_str().filter(|s| is_object_id(s)).map(str::to_string).ok_or_else(bad)).collect()
        }
        Some(_) => Err(bad()),
    }
}

impl RequestBody for CreateCampaignRequest {
    /// `<field>: Required` (also blank), `Invalid agent id`, `Invalid
    /// audience id`, `scheduledAt must be a valid ISO-8601 date-time`.
    fn validate(&self) -> Result<(), DomainError> {
        required(&self.name, "name")?;
        let audience = required(&self.audience_id, "audienceId")?;
        let agent = required(&self.agent_id, "agentId")?;
        if !is_object_id(agent) {
            return Err(DomainError::invalid("Invalid agent id"));
        }
        if !is_object_id(audience) {
            return Err(DomainError::invalid("Invalid audience id"));
        }
        if self.scheduled_at.as_deref().is_some_and(|s| parse_iso(s).is_none()) {
            return Err(DomainError::invalid("scheduledAt must be a valid ISO-8601 date-time"));
        }
        Ok(())
    }
}

impl CreateCampaignRequest {
    /// The campaign to create, as of `now`: 400 `scheduledAt must be in
    /// the future` for a start time not after `now`.
    pub(crate) fn into_new(self, now: Millis) -> Result<NewCampaign, DomainError> {
        let scheduled_at = self.scheduled_at.as_deref().and_then(parse_iso);
        if scheduled_at.is_some_and(|at| at <= now) {
            return Err(DomainError::invalid("scheduledAt must be in the future"));
        }
        Ok(NewCampaign {
            name: self.name.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            agent_id: self.agent_id.unwrap_or_default(),
            audience_id: self.audience_id.unwrap_or_default(),
            phone_number_ids: self.phone_number_ids,
            scheduled_at,
            max_retries: self.max_retries.unwrap_or(3),
            retry_delay_min: self.retry_delay.unwrap_or(15),
        })
    }
}

/// `POST /audience/{id}/members` (R182, R183): members keyed by column.
#[derive(Debug, DeriveDeserialize, ToSchema)]
pub(crate) struct AddMembersRequest {
    /// One object per member, `{<column>: value}`; the audience's phone
    /// column is required in each.
    #[serde(deserialize_with = "members")]
    #[schema(value_type = Vec<Object>)]
    pub(crate) members: Vec<Map<String, Value>>,
}

fn members<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Map<String, Value>>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Err(D::Error::custom("members: Required")),
        Value::Array(a) if a.iter().all(Value::is_object) => {
            Ok(a.into_iter().filter_map(|m| if let Value::Object(o) = m { Some(o) } else { None }).collect())
        }
        _ => Err(D::Error::custom("members: Expected an array of objects")),
    }
}

impl RequestBody for AddMembersRequest {}

/// `DELETE /audience/{id}/members` (R184).
#[derive(Debug, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteMembersRequest {
    /// Member `_id`s; unknown ones are skipped.
    #[serde(deserialize_with = "member_ids")]
    #[schema(value_type = Vec<String>)]
    pub(crate) member_ids: Vec<String>,
}

fn member_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Err(D::Error::custom("memberIds: Required")),
        Value::Array(a) if a.iter().all(Value::is_string) => {
            Ok(a.into_iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        }
        _ => Err(D::Error::custom("memberIds: Expected an array of strings")),
    }
}

impl RequestBody for DeleteMembersRequest {}
