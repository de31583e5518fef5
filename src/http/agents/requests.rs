//! Request bodies of the agent area, one type per body. Simple bodies
//! derive `Deserialize`; the bodies the domain's rule tables check (agent
//! create and metadata, config patches) parse through the domain's own
//! parser, so a client reads its messages (`synthesizer.speed: Number must
//! be less than or equal to 2`), and document themselves from the same
//! tables (see `http::schema`).

use serde::de::{Deserialize, Deserializer, Error};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::agent::{self, MetadataPatch, NewAgent, METADATA_FIELDS};
use crate::domain::config::{self, ConfigMap};
use crate::domain::config_rules::{Rule, CONFIG_FIELDS};
use crate::domain::ids::is_object_id;
use crate::domain::DomainError;
use crate::http::json::{parsed_body, RequestBody};
use crate::http::schema;

/// An optional field that must be a 24-hex id; anything else is 400
/// `message`.
fn object_id_field<'de, D: Deserializer<'de>>(d: D, message: &str) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_object_id(&s) => Ok(Some(s)),
        Some(_) => Err(D::Error::custom(message)),
    }
}

parsed_body!(
    /// `POST /agent` (R019–R023): `name` (1–200 characters), metadata
    /// (`description`, `avatarUrl`, `telephonyProductId`, `allowInboundCall`,
    /// `visibleToEveryone`) and any config field, each within its bounds;
    /// `language` needs `switching` (R020). Holds the agent to create: the
    /// defaults merged with the body's config fields.
    CreateAgentRequest(NewAgent),
    agent::parse_new,
    {
        let fields: Vec<(&str, Rule)> = METADATA_FIELDS.iter().chain(CONFIG_FIELDS).copied().collect();
        schema::object(&fields, &["name"]).description(Some("`name` plus metadata and config fields")).into()
    }
);

parsed_body!(
    /// `PATCH /agent/{id}` (R030, R031): metadata only; any config field is
    /// 400 `Agent has versioning enabled. Config changes must be made
    /// through drafts.`
    UpdateAgentRequest(MetadataPatch),
    agent::parse_metadata_patch,
    schema::object(METADATA_FIELDS, &[]).into()
);

parsed_body!(
    /// A partial agent config (R052, R053): any subset of the config
    /// fields, each within its bounds; at least one. Unknown keys are
    /// dropped.
    ConfigPatch(ConfigMap),
    config::validate_patch,
    schema::object(CONFIG_FIELDS, &[]).into()
);

/// `PUT /agent/{id}/branches/{branchId}/draft` (R080–R083), validated.
#[derive(Debug)]
pub(crate) struct BranchDraft {
    /// The validated config fields.
    pub(crate) patch: ConfigMap,
    /// The revision the client edited, if it asks for the conflict check.
    pub(crate) expected_revision: Option<u32>,
}

/// Config fields in the `GET /agent` shape plus `expectedRevision`
/// (integer ≥ 0) for the conflict check. No config field, or a section
/// name (`llm`, `voice`, …, `playbooks`) as a key: 400 `No recognized
/// config fields in request body`.
fn branch_draft(body: &Map<String, Value>) -> Result<BranchDraft, DomainError> {
    let expected_revision =
        match body.get("expectedRevision") {
            None | Some(Value::Null) => None,
            Some(x) => Some(x.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                DomainError::invalid("expectedRevision: Expected an integer greater than or equal to 0")
            })?),
        };
    let patch = config::validate_fields(body)?;
    if patch.is_empty() || body.keys().any(|k| config::SECTIONS.contains(&k.as_str()) || k == "playbooks") {
        return Err(DomainError::invalid("No recognized config fields in request body"));
    }
    Ok(BranchDraft { patch, expected_revision })
}

parsed_body!(
    /// `PUT /agent/{id}/branches/{branchId}/draft` (R080–R083); see
    /// [`branch_draft`].
    BranchDraftRequest(BranchDraft),
    branch_draft,
    {
        let mut fields: Vec<(&str, Rule)> = CONFIG_FIELDS.to_vec();
        fields.push(("expectedRevision", Rule::Num(Some(0.0), None)));
        schema::object(&fields, &[]).into()
    }
);

/// `POST /agent/{id}/duplicate` (R037): the organization to copy into.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DuplicateAgentRequest {
    /// 24 hex characters (any case; compared lowercased).
    #[serde(deserialize_with = "target_organization")]
    #[schema(value_type = String, pattern = "^[0-9a-fA-F]{24}$")]
    pub(crate) target_organization_id: String,
}

fn target_organization<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(x) if x.len() == 24 && x.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(x.to_lowercase()),
        _ => Err(D::Error::custom("targetOrganizationId: Invalid ObjectId (24 hex characters)")),
    }
}

impl RequestBody for DuplicateAgentRequest {}

/// `POST /agent/{id}/drafts` (R045–R047): fork from a published version
/// or another draft; one of the two is required.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateDraftRequest {
    /// Published version to fork (24 hex).
    #[serde(default, deserialize_with = "source_version")]
    #[schema(value_type = Option<String>, pattern = "^[0-9a-f]{24}$")]
    pub(crate) source_version_id: Option<String>,
    /// Draft to fork (`draftId` or `_id`).
    pub(crate) source_draft_id: Option<String>,
    /// Name of the new draft.
    pub(crate) draft_name: Option<String>,
}

fn source_version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    object_id_field(d, "sourceVersionId: Invalid ObjectId (expected 24 hex characters)")
}

impl RequestBody for CreateDraftRequest {}

/// `PATCH /agent/{id}/drafts/{draftId}` (R050).
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RenameDraftRequest {
    /// The new name, 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub(crate) draft_name: String,
}

impl RequestBody for RenameDraftRequest {}

/// `POST /agent/{id}/drafts/{draftId}/publish` (R055, R056); optional.
#[derive(Debug, serde::Deserialize, ToSchema)]
pub(crate) struct PublishDraftRequest {
    /// Version label, at most 200 characters.
    pub(crate) label: Option<String>,
    /// Version description, at most 2000 characters.
    pub(crate) description: Option<String>,
    /// Accepted and ignored: publishing never activates (R056).
    pub(crate) activate: Option<bool>,
}

impl RequestBody for PublishDraftRequest {}

/// `PATCH /agent/{id}/versions/{versionId}` (R061): at least one field;
/// `null` clears a label or description.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateVersionRequest {
    /// At most 200 characters, or `null`.
    #[serde(default, deserialize_with = "crate::http::json::fields::nullable_string")]
    #[schema(value_type = Option<String>, nullable)]
    pub(crate) label: Option<Option<String>>,
    /// At most 2000 characters, or `null`.
    #[serde(default, deserialize_with = "crate::http::json::fields::nullable_string")]
    #[schema(value_type = Option<String>, nullable)]
    pub(crate) description: Option<Option<String>>,
    /// Pin or unpin.
    pub(crate) is_pinned: Option<bool>,
}

impl RequestBody for UpdateVersionRequest {}

/// `POST /agent/{id}/branches` (R072).
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateBranchRequest {
    /// The branch to fork from (24 hex).
    #[serde(deserialize_with = "source_branch")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub(crate) source_branch_id: String,
    /// 1–100 characters, unique among active branches; not `Main`.
    #[schema(min_length = 1, max_length = 100)]
    pub(crate) name: String,
}

fn source_branch<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = String::deserialize(d)?;
    if is_object_id(&id) {
        Ok(id)
    } else {
        Err(D::Error::custom("sourceBranchId: Invalid ObjectId"))
    }
}

impl RequestBody for CreateBranchRequest {}

/// `PATCH /agent/{id}/branches/{branchId}` (R077).
#[derive(Debug, serde::Deserialize, ToSchema)]
pub(crate) struct RenameBranchRequest {
    /// 1–100 characters, unique among active branches; not `Main`.
    #[schema(min_length = 1, max_length = 100)]
    pub(crate) name: String,
}

impl RequestBody for RenameBranchRequest {}

/// `POST /agent/{id}/branches/{branchId}/draft/publish` (R086); optional.
#[derive(Debug, serde::Deserialize, ToSchema)]
pub(crate) struct PublishBranchDraftRequest {
    /// Revision label, at most 200 characters.
    pub(crate) label: Option<String>,
}

impl RequestBody for PublishBranchDraftRequest {}

/// `POST /agent/from-template` (R040).
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateFromTemplateRequest {
    /// The new agent's name.
    pub(crate) agent_name: String,
    /// The template's slug `id` or its `_id`.
    pub(crate) template_id: String,
    /// Description; default: the template's.
    pub(crate) agent_description: Option<String>,
}

impl RequestBody for CreateFromTemplateRequest {}
