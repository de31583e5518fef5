//! Call actions (OAS tag Call Actions, 5 operations): the record, the
//! validation of create/update/list, and when an action fires.
//!
//! Firing (OAS POST /call-actions: "`trigger` actions fire to initiate an
//! outbound call and require `config.phoneNumberFieldName`; `post-call`
//! actions fire after a call ends"; the spec, newer than the 2026-06-22
//! changelog's "fires during the call", wins):
//! - **post-call**: when any call of the action's agent ends (every
//!   terminal status), its `conditions` are evaluated against the call's
//!   [`call_fields`]; if all hold, one [`Run`] is recorded with the body
//!   template filled from the same fields. Once per call and action.
//! - **trigger**: the mock has no CRM, so a provider record event comes in
//!   through the control API (`provider`, `object`, `action_type`, the
//!   record's fields). Every trigger action of the organization whose
//!   provider (case-insensitive), object and action type (when the action
//!   names them) match and whose conditions hold places one outbound call
//!   of its agent to the record's `phoneNumberFieldName` field, with the
//!   record's scalar fields as call variables ([`plan_trigger`]).
//!
//! Conditions (OAS #CallActionCondition): `eq`/`neq` compare as numbers
//! when both sides are numbers, else as strings; `gt gte lt lte` need
//! numbers on both sides (else false); `in`/`nin` take a comma-separated
//! list; `contains notContains startsWith endsWith` are case-sensitive
//! string tests. A missing field is false for every operator except
//! `neq`, `nin` and `notContains`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::IntoParams;

use super::ids::is_object_id;
use super::time::iso;
use super::{array_len, string_len, DomainError, Millis};

/// 404 (OAS: "Call action not found").
pub const NOT_FOUND: &str = "Call action not found";
/// 400: a path id that is not 24-hex (pattern of LIVE T3; inferred).
pub const INVALID_ID: &str = "Invalid call action id";
/// 400: `trigger` without `config.phoneNumberFieldName` (inferred wording
/// of the spec's rule).
pub const PHONE_FIELD_REQUIRED: &str = "config.phoneNumberFieldName is required for trigger actions";
/// `data.message` of a delete (OAS example).
pub const DELETED: &str = "Call action deleted successfully";
/// Most conditions per action (the mock's bound; inferred).
pub const MAX_CONDITIONS: usize = 50;
/// Longest `config.body`, characters (the mock's bound; inferred).
pub const MAX_BODY: usize = 10_000;
/// Largest `limit` of a list (inferred).
pub const MAX_LIMIT: u32 = 100;

/// `category`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    /// Places an outbound call when a provider record event matches.
    #[serde(rename = "trigger")]
    Trigger,
    /// Runs after each call of its agent ends.
    #[serde(rename = "post-call")]
    PostCall,
}

/// `action_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionType {
    /// Create a provider object.
    Create,
    /// Update a provider object.
    Update,
}

/// A condition operator (OAS #CallActionCondition.operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Operator {
    /// Equal.
    Eq,
    /// Not equal.
    Neq,
    /// Greater than (numbers).
    Gt,
    /// Greater or equal (numbers).
    Gte,
    /// Less than (numbers).
    Lt,
    /// Less or equal (numbers).
    Lte,
    /// One of a comma-separated list.
    In,
    /// None of a comma-separated list.
    Nin,
    /// Substring.
    Contains,
    /// Not a substring.
    NotContains,
    /// Prefix.
    StartsWith,
    /// Suffix.
    EndsWith,
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// Record field name.
    pub field: String,
    /// Operator.
    pub operator: Operator,
    /// Value to compare against.
    pub value: String,
}

/// `config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionConfig {
    /// Record field holding the phone number (required for `trigger`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number_field_name: Option<String>,
    /// All must hold for the action to fire.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Payload template; `{{field}}` placeholders are filled when it fires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A stored call action (OAS #CallAction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallAction {
    /// 24-hex id.
    pub id: String,
    /// 24-hex organization id.
    pub organization: String,
    /// 24-hex agent id.
    pub agent_id: String,
    /// When it fires.
    pub category: Category,
    /// Provider, e.g. `hubspot`.
    pub provider: String,
    /// Operation on the provider object.
    pub action_type: Option<ActionType>,
    /// Provider object, e.g. `contact`.
    pub object: Option<String>,
    /// Config.
    pub config: ActionConfig,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// Last update, epoch ms.
    pub updated_at: Millis,
}

impl CallAction {
    /// The wire object (OAS #CallAction): `_id, organization, agentId,
    /// category, provider, action_type?, object?, config, createdAt, updatedAt`.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("_id".into(), json!(self.id));
        o.insert("organization".into(), json!(self.organization));
        o.insert("agentId".into(), json!(self.agent_id));
        o.insert("category".into(), json!(self.category));
        o.insert("provider".into(), json!(self.provider));
        if let Some(t) = self.action_type {
            o.insert("action_type".into(), json!(t));
        }
        if let Some(obj) = &self.object {
            o.insert("object".into(), json!(obj));
        }
        o.insert("config".into(), json!(self.config));
        o.insert("createdAt".into(), json!(iso(self.created_at)));
        o.insert("updatedAt".into(), json!(iso(self.updated_at)));
        Value::Object(o)
    }
}

/// A raw condition as sent (each field checked by [`validate_config`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ConditionBody {
    /// Required.
    pub field: Option<String>,
    /// Required, one of the operators.
    pub operator: Option<String>,
    /// Required.
    pub value: Option<String>,
}

/// A raw `config` as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigBody {
    /// Phone field.
    pub phone_number_field_name: Option<String>,
    /// Conditions.
    pub conditions: Option<Vec<ConditionBody>>,
    /// Payload template.
    pub body: Option<String>,
}

/// Body of `POST /call-actions` (required: agentId, category, provider,
/// config) and `PUT /call-actions/{id}` (all optional; `agentId` ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionBody {
    /// Agent (create only).
    pub agent_id: Option<String>,
    /// `trigger` or `post-call`.
    pub category: Option<String>,
    /// Provider name.
    pub provider: Option<String>,
    /// `create` or `update`.
    #[serde(rename = "action_type")]
    pub action_type: Option<String>,
    /// Provider object.
    pub object: Option<String>,
    /// Config.
    pub config: Option<ConfigBody>,
}

/// Parses `category` (`trigger`, `post-call`).
pub fn parse_category(s: &str) -> Result<Category, DomainError> {
    serde_json::from_value(json!(s)).map_err(|_| DomainError::invalid_enum("category", &["trigger", "post-call"], s))
}

fn parse_action_type(s: &str) -> Result<ActionType, DomainError> {
    serde_json::from_value(json!(s)).map_err(|_| DomainError::invalid_enum("action_type", &["create", "update"], s))
}

const OPERATORS: [&str; 12] =
    ["eq", "neq", "gt", "gte", "lt", "lte", "in", "nin", "contains", "notContains", "startsWith", "endsWith"];

/// Validates a `config`: conditions complete and at most
/// [`MAX_CONDITIONS`], operators known, body at most [`MAX_BODY`].
/// Errors (400): `config.conditions.<i>.<field>: Required`, the enum
/// message for an operator, the zod length messages.
pub fn validate_config(c: &ConfigBody) -> Result<ActionConfig, DomainError> {
    let raw = c.conditions.as_deref().unwrap_or_default();
    array_len("config.conditions", raw.len(), 0, MAX_CONDITIONS).map_err(DomainError::invalid)?;
    let mut conditions = Vec::with_capacity(raw.len());
    for (i, cond) in raw.iter().enumerate() {
        let req = |v: &Option<String>, f: &str| {
            v.clone().ok_or_else(|| DomainError::invalid(format!("config.conditions.{i}.{f}: Required")))
        };
        let (field, op, value) =
            (req(&cond.field, "field")?, req(&cond.operator, "operator")?, req(&cond.value, "value")?);
        let operator = serde_json::from_value(json!(op))
            .map_err(|_| DomainError::invalid_enum(&format!("config.conditions.{i}.operator"), &OPERATORS, &op))?;
        conditions.push(Condition { field, operator, value });
    }
    if let Some(b) = &c.body {
        string_len("config.body", b, 0, MAX_BODY).map_err(DomainError::invalid)?;
    }
    let phone = c.phone_number_field_name.clone().filter(|p| !p.trim().is_empty());
    Ok(ActionConfig { phone_number_field_name: phone, conditions, body: c.body.clone() })
}

fn check_trigger(category: Category, config: &ActionConfig) -> Result<(), DomainError> {
    if category == Category::Trigger && config.phone_number_field_name.is_none() {
        return Err(DomainError::invalid(PHONE_FIELD_REQUIRED));
    }
    Ok(())
}

/// Validates a create. Errors (400): `<field>: Required` for agentId,
/// category, provider, config; `Invalid agent id`; the enum messages;
/// `provider: String must contain at least 1 character(s)`;
/// [`PHONE_FIELD_REQUIRED`]. The store then checks the agent exists in the
/// organization (400 `Agent not found`, R104's wording).
pub fn validate_create(b: &ActionBody, id: String, org: String, now: Millis) -> Result<CallAction, DomainError> {
    let agent = b.agent_id.as_deref().ok_or_else(|| DomainError::invalid("agentId: Required"))?;
    let category = parse_category(b.category.as_deref().ok_or_else(|| DomainError::invalid("category: Required"))?)?;
    let provider = b.provider.as_deref().ok_or_else(|| DomainError::invalid("provider: Required"))?;
    let config = validate_config(b.config.as_ref().ok_or_else(|| DomainError::invalid("config: Required"))?)?;
    if !is_object_id(agent) {
        return Err(DomainError::invalid("Invalid agent id"));
    }
    if provider.trim().is_empty() {
        return Err(DomainError::invalid("provider: String must contain at least 1 character(s)"));
    }
    check_trigger(category, &config)?;
    Ok(CallAction {
        id,
        organization: org,
        agent_id: agent.to_string(),
        category,
        provider: provider.trim().to_string(),
        action_type: b.action_type.as_deref().map(parse_action_type).transpose()?,
        object: b.object.clone(),
        config,
        created_at: now,
        updated_at: now,
    })
}

/// Applies a `PUT` (OAS: all fields optional, only provided ones change;
/// a provided `config` replaces each of its given keys, and `conditions`
/// replaces the whole array). The result must still satisfy the trigger
/// rule ([`PHONE_FIELD_REQUIRED`]); `agentId` cannot be changed.
pub fn apply_update(a: &CallAction, b: &ActionBody, now: Millis) -> Result<CallAction, DomainError> {
    let mut n = a.clone();
    if let Some(c) = &b.category {
        n.category = parse_category(c)?;
    }
    if let Some(p) = &b.provider {
        if p.trim().is_empty() {
            return Err(DomainError::invalid("provider: String must contain at least 1 character(s)"));
        }
        n.provider = p.trim().to_string();
    }
    if let Some(t) = &b.action_type {
        n.action_type = Some(parse_action_type(t)?);
    }
    if let Some(o) = &b.object {
        n.object = Some(o.clone());
    }
    if let Some(c) = &b.config {
        let given = validate_config(c)?;
        if c.phone_number_field_name.is_some() {
            n.config.phone_number_field_name = given.phone_number_field_name;
        }
        if c.conditions.is_some() {
            n.config.conditions = given.conditions;
        }
        if c.body.is_some() {
            n.config.body = given.body;
        }
    }
    check_trigger(n.category, &n.config)?;
    if n != *a {
        n.updated_at = a.updated_at.max(now);
    }
    Ok(n)
}

/// `GET /call-actions` query, as received: the route extracts it as is and
/// [`validate_list`] checks it (the page size is clamped to [`MAX_LIMIT`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The agent (24 hex, required).
    pub agent_id: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<String>,
    /// Page size, 1–100 (default 10).
    pub limit: Option<String>,
    /// `trigger` or `post-call`.
    pub category: Option<String>,
    /// Provider name (exact).
    pub provider: Option<String>,
}

/// A validated list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    /// Agent.
    pub agent_id: String,
    /// 1-based page.
    pub page: u32,
    /// Page size.
    pub limit: u32,
    /// Category filter.
    pub category: Option<Category>,
    /// Provider filter.
    pub provider: Option<String>,
}

fn positive(v: Option<&str>, name: &str, default: u32, max: u32) -> Result<u32, DomainError> {
    let Some(s) = v else { return Ok(default) };
    match s.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n.min(max)),
        _ => Err(DomainError::invalid(format!("{name}: Number must be greater than or equal to 1"))),
    }
}

/// Validates a list query. Errors (400): `agentId: Required`,
/// `Invalid agent id`, `page|limit: Number must be greater than or equal
/// to 1`, the category enum message.
pub fn validate_list(q: &ListQuery) -> Result<ListFilter, DomainError> {
    let agent = q.agent_id.as_deref().ok_or_else(|| DomainError::invalid("agentId: Required"))?;
    if !is_object_id(agent) {
        return Err(DomainError::invalid("Invalid agent id"));
    }
    Ok(ListFilter {
        agent_id: agent.to_string(),
        page: positive(q.page.as_deref(), "page", 1, u32::MAX)?,
        limit: positive(q.limit.as_deref(), "limit", 10, MAX_LIMIT)?,
        category: q.category.as_deref().map(parse_category).transpose()?,
        provider: q.provider.clone(),
    })
}

impl ListFilter {
    /// Whether `a` is listed (agent, category, provider).
    pub fn keeps(&self, a: &CallAction) -> bool {
        a.agent_id == self.agent_id
            && self.category.is_none_or(|c| c == a.category)
            && self.provider.as_ref().is_none_or(|p| *p == a.provider)
    }
}

mod firing;

pub use firing::{
    call_fields, conditions_hold, fill_body, holds, plan_trigger, post_call_runs, scalar, trigger_failed, trigger_run,
    EndedCall, Fields, ProviderEvent, Run, TriggerDial,
};

#[cfg(test)]
#[path = "call_action_props.rs"]
mod props;
