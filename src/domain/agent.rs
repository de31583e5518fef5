//! The agent document and its metadata rules (BEHAVIOR §B).
//!
//! An agent's runtime config is not stored here: it lives in versions and
//! drafts (`super::versioning`). The agent holds metadata, the archive
//! flag and `activeVersionId`. `PATCH /agent/{id}` may touch only the
//! metadata listed in [`METADATA_FIELDS`] (R030, R031).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::{self, ConfigMap};
use super::config_rules::{check, rule_for, Rule, GATED_MODELS};
use super::ids::ShortStr;
use super::role::Role;
use super::{DomainError, Millis};

/// The agent document (R029). Config-level fields are rendered from the
/// active version, not stored here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// 24-hex id.
    pub id: ShortStr,
    /// 24-hex organization id of the owning API key.
    pub organization: ShortStr,
    /// Display name; required on create.
    pub name: String,
    /// Free-text description, `""` by default.
    pub description: String,
    /// Avatar URL, if set.
    pub avatar_url: Option<String>,
    /// 24-hex id of the legacy workflow document.
    pub workflow_id: ShortStr,
    /// `single_prompt` (default, L-B3) or `workflow_graph`.
    pub workflow_type: ShortStr,
    /// 24-hex id of the creating user.
    pub created_by: ShortStr,
    /// Creation time, epoch ms.
    pub created_at: Millis,
    /// Last metadata or activation change, epoch ms.
    pub updated_at: Millis,
    /// Calls placed with this agent.
    pub total_calls: u64,
    /// Soft-archived (R034).
    pub archived: bool,
    /// When it was archived, epoch ms.
    pub archived_at: Option<Millis>,
    /// The active published version; also rendered as `versionId`.
    pub active_version_id: ShortStr,
    /// Accepts inbound calls (default true).
    pub allow_inbound_call: bool,
    /// Visible to every org member (default false).
    pub visible_to_everyone: bool,
    /// Attached telephony product ids, in the order set: a copy of the
    /// account book's record (`crate::store::account`), which decides.
    pub telephony_product_id: Vec<String>,
    /// The attached numbers (E.164, R029's `phoneNumber`), in the same
    /// order: also a copy of the account book's record.
    #[serde(default)]
    pub phone_number: Vec<String>,
}

/// What an organization may use (R022) and the role of its key
/// ([`Role`]). The mock grants conversational (workflow_graph) agents,
/// withholds the gated models and makes the key the owner by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgAccess {
    /// May use `gpt-5.2`, `electron-kogta` and `electron-kogta-v2`.
    pub gated_models: bool,
    /// May create or edit `workflow_graph` agents.
    pub conversational_agents: bool,
    /// The key's role: `owner` (default), `admin` or `member`.
    #[serde(default)]
    pub role: Role,
}

impl Default for OrgAccess {
    fn default() -> Self {
        Self { gated_models: false, conversational_agents: true, role: Role::Owner }
    }
}

/// A validated `POST /agent` body.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAgent {
    /// Agent name.
    pub name: String,
    /// Description (`""` when absent).
    pub description: String,
    /// Telephony product ids.
    pub telephony_product_id: Vec<String>,
    /// `allowInboundCall` (default true).
    pub allow_inbound_call: bool,
    /// The config of version 1: the body's fields laid over the shared
    /// defaults ([`config::Config::overlay`]). A body without config
    /// fields gets the defaults themselves ([`config::defaults`], the same
    /// allocation); one with a few holds just those fields and merges them
    /// on first read, so no create copies the defaults (copy-on-write).
    pub config: config::Config,
}

/// Metadata keys `PATCH /agent/{id}` accepts on a versioned agent (R030).
pub const METADATA_FIELDS: &[(&str, Rule)] = &[
    ("name", Rule::Str(Some(200))),
    ("description", Rule::Str(None)),
    ("avatarUrl", Rule::Str(None)),
    ("telephonyProductId", Rule::Arr(&Rule::Str(None))),
    ("allowInboundCall", Rule::Bool),
    ("visibleToEveryone", Rule::Bool),
];

/// R032's 400 for `north_indic` without the `pulse` transcriber (the
/// spec names the rule, not its message: inferred, in the field-path style
/// of the other validation errors).
pub const NORTH_INDIC_NEEDS_PULSE: &str = "transcriberType: the north_indic language requires transcriberType: pulse";

/// 403's message for a `workflow_graph` agent in an organization without
/// conversational-agents access.
pub const NO_GRAPH_ACCESS: &str = "Your organization does not have access to conversational agents";

/// 403 [`NO_GRAPH_ACCESS`] for a `workflow_graph` agent when `access` lacks
/// conversational agents: creating or editing one (R022), and, once access
/// is withdrawn, the v1 version routes, a draft's discard and every call
/// the agent would place (R065, R097, R104; the spec's
/// `WorkflowGraphAgentAccessForbiddenError`).
pub fn check_graph_access(workflow_type: &str, access: OrgAccess) -> Result<(), DomainError> {
    if workflow_type == "workflow_graph" && !access.conversational_agents {
        return Err(DomainError::Forbidden(NO_GRAPH_ACCESS.into()));
    }
    Ok(())
}

/// Whether a `language` object names `north_indic` as its default or
/// among its supported languages.
fn names_north_indic(language: &Value) -> bool {
    let is = |v: &Value| v.as_str() == Some("north_indic");
    language.get("default").is_some_and(is)
        || language.get("supported").and_then(Value::as_array).is_some_and(|a| a.iter().any(is))
}

/// R031's message for config fields sent to `PATCH /agent/{id}`.
pub const VERSIONING_ENABLED: &str = "Agent has versioning enabled. Config changes must be made through drafts.";

/// Model and workflow-type access rules (R022) and the cross-field rules
/// (R032) on an effective config: 403 for gated models or workflow graphs
/// without access; 400 for realtime models on a workflow graph, and 400
/// [`NORTH_INDIC_NEEDS_PULSE`] for `north_indic` (default or supported)
/// with another `transcriberType` (the spec's own example of a
/// cross-field violation).
pub fn check_access(config: &impl config::Fields, access: OrgAccess) -> Result<(), DomainError> {
    let transcriber = config.field("transcriberType").and_then(Value::as_str).unwrap_or("pulse");
    if transcriber != "pulse" && config.field("language").is_some_and(names_north_indic) {
        return Err(DomainError::invalid(NORTH_INDIC_NEEDS_PULSE));
    }
    let model = config.field("slmModel").and_then(Value::as_str).unwrap_or("electron");
    let wf = config.field("workflowType").and_then(Value::as_str).unwrap_or("single_prompt");
    if GATED_MODELS.contains(&model) && !access.gated_models {
        return Err(DomainError::Forbidden(format!("Your organization does not have access to the {model} model")));
    }
    check_graph_access(wf, access)?;
    if wf == "single_prompt" {
        return Ok(());
    }
    // `synthesizer.voiceConfig.model`, read only when the workflow type
    // makes it matter (a JSON pointer would rebuild each key).
    let tts = config
        .field("synthesizer")
        .and_then(|s| s.get("voiceConfig"))
        .and_then(|v| v.get("model"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if model.starts_with("gpt-realtime") || tts.starts_with("gpt-realtime") {
        return Err(DomainError::invalid("slmModel: gpt-realtime models require workflowType: single_prompt"));
    }
    Ok(())
}

/// Validates a `POST /agent` body (R019–R023) and what the organization
/// may use ([`check_access`]). `language` without `switching` is 400
/// `Invalid Input: Required` (R020).
pub fn parse_create(body: &Map<String, Value>, access: OrgAccess) -> Result<NewAgent, DomainError> {
    let new = parse_new(body)?;
    check_access(&new.config, access)?;
    Ok(new)
}

/// [`parse_create`] without the access check: the body's shape and
/// bounds, for the request parser; access is checked where the agent is
/// created, against the caller's organization.
pub fn parse_new(body: &Map<String, Value>) -> Result<NewAgent, DomainError> {
    let name = match body.get("name") {
        None | Some(Value::Null) => return Err(DomainError::invalid("name: Required")),
        Some(v) => {
            check(&Rule::Str(Some(200)), v, "name").map_err(DomainError::Validation)?;
            v.as_str().unwrap_or_default().to_string()
        }
    };
    if name.trim().is_empty() {
        return Err(DomainError::invalid("name: String must contain at least 1 character(s)"));
    }
    if let Some(lang) = body.get("language") {
        if lang.is_object() && lang.get("switching").is_none() {
            return Err(DomainError::invalid("Invalid Input: Required"));
        }
    }
    // The metadata is checked in place and read from `body` itself: no copy.
    check_metadata(body)?;
    let mut fields = config::validate_fields(body)?;
    // R024: the server default overrides `backgroundSound` on create.
    fields.remove("backgroundSound");
    let cfg = config::Config::overlay(config::defaults(), fields);
    Ok(NewAgent {
        name,
        description: str_field(body, "description").unwrap_or_default(),
        telephony_product_id: strings(body, "telephonyProductId"),
        allow_inbound_call: body.get("allowInboundCall").and_then(Value::as_bool).unwrap_or(true),
        config: cfg,
    })
}

/// Checks the [`METADATA_FIELDS`] present in `body`, in that order.
fn check_metadata(body: &Map<String, Value>) -> Result<(), DomainError> {
    for (k, rule) in METADATA_FIELDS {
        if let Some(v) = body.get(*k) {
            check(rule, v, k).map_err(DomainError::Validation)?;
        }
    }
    Ok(())
}

/// The [`METADATA_FIELDS`] present in `body`, checked, in that order.
fn validate_metadata(body: &Map<String, Value>) -> Result<Map<String, Value>, DomainError> {
    check_metadata(body)?;
    Ok(METADATA_FIELDS.iter().filter_map(|(k, _)| body.get(*k).map(|v| ((*k).to_string(), v.clone()))).collect())
}

fn str_field(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_string)
}

fn strings(m: &Map<String, Value>, k: &str) -> Vec<String> {
    m.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// A validated `PATCH /agent/{id}` body: only metadata keys (R030).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetadataPatch(pub Map<String, Value>);

impl MetadataPatch {
    /// The `telephonyProductId` list when the patch sets it: the agent's
    /// numbers are then exactly these (the account book attaches them).
    pub fn telephony_product_ids(&self) -> Option<Vec<String>> {
        self.0.contains_key("telephonyProductId").then(|| strings(&self.0, "telephonyProductId"))
    }
}

/// Validates `PATCH /agent/{id}`. Any config-level key gives 400 with
/// [`VERSIONING_ENABLED`] (R031); other unknown keys are ignored.
pub fn parse_metadata_patch(body: &Map<String, Value>) -> Result<MetadataPatch, DomainError> {
    let config_level = body.keys().any(|k| rule_for(k).is_some());
    if config_level {
        return Err(DomainError::invalid(VERSIONING_ENABLED));
    }
    let meta = validate_metadata(body)?;
    if let Some(Value::String(n)) = meta.get("name") {
        if n.trim().is_empty() {
            return Err(DomainError::invalid("name: String must contain at least 1 character(s)"));
        }
    }
    Ok(MetadataPatch(meta))
}

impl Agent {
    /// The agent with `patch` applied and `updated_at = now`.
    /// `telephonyProductId` is left to the account book
    /// ([`MetadataPatch::telephony_product_ids`]).
    pub fn with_metadata(&self, patch: &MetadataPatch, now: Millis) -> Agent {
        let mut next = self.clone();
        let m = &patch.0;
        if let Some(n) = str_field(m, "name") {
            next.name = n;
        }
        if let Some(d) = str_field(m, "description") {
            next.description = d;
        }
        if let Some(a) = str_field(m, "avatarUrl") {
            next.avatar_url = Some(a);
        }
        if let Some(b) = m.get("allowInboundCall").and_then(Value::as_bool) {
            next.allow_inbound_call = b;
        }
        if let Some(b) = m.get("visibleToEveryone").and_then(Value::as_bool) {
            next.visible_to_everyone = b;
        }
        next.updated_at = now.max(self.updated_at);
        next
    }
}

/// 403's message when duplicating into another organization (R038).
pub const NOT_A_MEMBER: &str = "You are not a member of the target organization";

/// 404's message when duplicating into an organization that does not
/// exist (R038).
pub const NO_TARGET: &str = "Target organization not found";

/// The agent `POST /agent/{id}/duplicate` creates from `agent` and its
/// active config `active` in organization `target` (R037, R038), checked
/// in this order:
/// - `target` is not the agent's organization: 404 [`NO_TARGET`] unless
///   `target_exists` (some key's organization has that id), else 403
///   [`NOT_A_MEMBER`] (one key is one organization, so the caller belongs
///   to no other);
/// - archived: 400 `Cannot duplicate an archived agent`;
/// - not `single_prompt`: 400 `Only SINGLE_PROMPT agents can be duplicated`;
/// - no active version: 400 `This agent has no active version and cannot
///   be duplicated`.
///
/// The copy keeps name, description and inbound setting, links no phone
/// number, drops knowledge-base tools and blanks default variable values.
pub fn duplicate(
    agent: &Agent,
    active: Option<&ConfigMap>,
    target: &str,
    target_exists: bool,
) -> Result<NewAgent, DomainError> {
    if target != agent.organization {
        return Err(if target_exists {
            DomainError::Forbidden(NOT_A_MEMBER.into())
        } else {
            DomainError::NotFound(NO_TARGET.into())
        });
    }
    if agent.archived {
        return Err(DomainError::invalid("Cannot duplicate an archived agent"));
    }
    if agent.workflow_type != "single_prompt" {
        return Err(DomainError::invalid("Only SINGLE_PROMPT agents can be duplicated"));
    }
    let cfg =
        active.ok_or_else(|| DomainError::invalid("This agent has no active version and cannot be duplicated"))?;
    Ok(NewAgent {
        name: agent.name.clone(),
        description: agent.description.clone(),
        telephony_product_id: Vec::new(),
        allow_inbound_call: agent.allow_inbound_call,
        config: config::Config::new(stripped_for_duplicate(cfg)),
    })
}

/// R037: knowledge-base tools are dropped and default variable values
/// blanked in a duplicate.
fn stripped_for_duplicate(cfg: &ConfigMap) -> ConfigMap {
    let mut out = cfg.clone();
    if let Some(Value::Array(tools)) = out.get_mut("singlePromptConfig").and_then(|s| s.get_mut("tools")) {
        tools.retain(|t| t.get("type").and_then(Value::as_str) != Some("knowledge_base_search"));
    }
    if let Some(Value::Object(vars)) = out.get_mut("defaultVariables") {
        vars.values_mut().for_each(|v| *v = Value::String(String::new()));
    }
    out
}

#[cfg(test)]
mod duplicate_tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn agent(archived: bool, workflow_type: &str) -> Agent {
        Agent {
            id: "a".repeat(24).into(),
            organization: "o".repeat(24).into(),
            name: "N".into(),
            description: "D".into(),
            avatar_url: None,
            workflow_id: "w".repeat(24).into(),
            workflow_type: workflow_type.into(),
            created_by: "u".repeat(24).into(),
            created_at: 0,
            updated_at: 0,
            total_calls: 0,
            archived,
            archived_at: None,
            active_version_id: "v".repeat(24).into(),
            allow_inbound_call: false,
            visible_to_everyone: false,
            telephony_product_id: vec!["p".repeat(24)],
            phone_number: vec!["+14155550101".into()],
        }
    }

    fn config() -> ConfigMap {
        let v = json!({
            "singlePromptConfig": {"prompt": "p", "tools": [{"type": "knowledge_base_search"}, {"type": "end_call"}]},
            "defaultVariables": {"name": "Ada", "n": 3},
        });
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_duplicate_drops_knowledge_base_tools_blanks_variables_and_links_no_number() {
        let new = duplicate(&agent(false, "single_prompt"), Some(&config()), &"o".repeat(24), true).expect("allowed");
        assert_eq!(new.config["singlePromptConfig"]["tools"], json!([{"type": "end_call"}]));
        assert_eq!(new.config["defaultVariables"], json!({"name": "", "n": ""}));
        assert!(new.telephony_product_id.is_empty());
        assert!(!new.allow_inbound_call);
    }

    proptest! {
        /// The four rules in their order: membership (or existence), archive, type, active version.
        #[test]
        fn the_first_broken_rule_answers(
            member in any::<bool>(), exists in any::<bool>(), archived in any::<bool>(), graph in any::<bool>(), active in any::<bool>(),
        ) {
            let a = agent(archived, if graph { "workflow_graph" } else { "single_prompt" });
            let target = if member { "o".repeat(24) } else { "f".repeat(24) };
            let cfg = config();
            let out = duplicate(&a, active.then_some(&cfg), &target, exists).map(|_| ()).map_err(|e| e.to_string());
            let expected = if !member && !exists {
                Err(NO_TARGET.to_string())
            } else if !member {
                Err(NOT_A_MEMBER.to_string())
            } else if archived {
                Err("Cannot duplicate an archived agent".to_string())
            } else if graph {
                Err("Only SINGLE_PROMPT agents can be duplicated".to_string())
            } else if !active {
                Err("This agent has no active version and cannot be duplicated".to_string())
            } else {
                Ok(())
            };
            prop_assert_eq!(out, expected);
        }
    }
}
