//! Knowledge bases (OAS tag Knowledge Base, 14 operations): the knowledge
//! base document, its items (uploaded PDFs, text) and its scraped URLs,
//! with the validation of every request field and the rule that refuses
//! to delete a knowledge base an agent still uses.
//!
//! Submodules:
//! - [`processing`]: the `pending → processing → completed | failed`
//!   lifecycle every item and scraped URL goes through on the clock;
//! - [`upload`]: the multipart PDF upload and the presigned-URL pair;
//!   [`pdf`] reads the text of an uploaded PDF;
//! - [`web`]: scrape and sitemap requests, sitemap XML and page text,
//!   all without network (the content a URL "returns" is supplied);
//! - [`matcher`]: which processed passage an agent turn quotes.
//!
//! Shapes: `GET /knowledgebase` items have exactly `__v, _id, createdBy,
//! description, name, organization` (LIVE list shapes). The same document
//! answers `GET /knowledgebase/{id}`: the list proves the stored document
//! has no `processingStatus` or timestamps, so a by-id read of it has none
//! either (the spec's `KnowledgeBase` schema lists them as optional).
//!
//! Not here: storage, timers, plan limits and credits (the store and the
//! account rules do that), and any network access.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::ids::is_object_id;
use super::time::iso;
use super::versioning::AgentRecord;
use super::{string_len, DomainError, Millis};

pub mod matcher;
pub mod pdf;
pub mod processing;
pub mod upload;
pub mod web;

#[cfg(test)]
mod props;

pub use processing::{Extract, Stage, Work};

/// 400 (OAS DELETE /knowledgebase/{id}): the knowledge base is referenced
/// by an agent's config.
pub const CONNECTED_TO_AGENT: &str =
    "This knowledge base is connected to an agent. Please detach it from the agent before deleting.";
/// 404 on the routes that document one (OAS: "Knowledge base not found");
/// 400 with the same message where the spec documents no 404 (items,
/// uploads).
pub const NOT_FOUND: &str = "Knowledge base not found";
/// 400: a path or body id that is not 24-hex (pattern of LIVE T3; inferred).
pub const INVALID_ID: &str = "Invalid knowledge base id";
/// 400: unknown item on `DELETE …/items/{itemId}` (no 404 documented; inferred).
pub const ITEM_NOT_FOUND: &str = "Knowledge base item not found";
/// 400: unknown row on `DELETE …/scraped-urls/{id}` (inferred).
pub const SCRAPED_URL_NOT_FOUND: &str = "Scraped URL not found";
/// Longest name, characters, after trimming (OAS `maxLength: 40`).
pub const MAX_NAME: usize = 40;
/// Longest description, characters (the mock's memory bound; inferred).
pub const MAX_DESCRIPTION: usize = 2000;
/// Most items per knowledge base (the mock's memory bound; inferred).
pub const MAX_ITEMS: usize = 500;
/// Most scraped URLs per knowledge base (the mock's memory bound; inferred).
pub const MAX_SCRAPED_URLS: usize = 1000;

/// Most knowledge bases per organization (the mock's memory bound, under
/// the plan's `knowledgeBaseLimits`; inferred).
pub const MAX_KNOWLEDGE_BASES: usize = 100;
/// Most extracted text one organization holds across its items and URLs,
/// bytes (the mock's memory bound; inferred). Processing that would pass
/// it fails with [`STORAGE_FULL`].
pub const MAX_ORG_TEXT_BYTES: usize = 32 << 20;
/// `metadata.error` / failure of a row whose text would pass
/// [`MAX_ORG_TEXT_BYTES`] (inferred).
pub const STORAGE_FULL: &str = "Knowledge base storage is full";
/// Most presigned uploads waiting for completion per organization (the
/// mock's memory bound; inferred). Expired ones do not count.
pub const MAX_PENDING_UPLOADS: usize = 100;
/// 400 when [`MAX_PENDING_UPLOADS`] are waiting (inferred).
pub const TOO_MANY_UPLOADS: &str = "Too many uploads in progress; complete one or wait for it to expire";
/// 400 when [`MAX_KNOWLEDGE_BASES`] exist (inferred).
pub const TOO_MANY_KNOWLEDGE_BASES: &str = "Knowledge base limit reached for this organization";

/// Checks a knowledge-base id (path or body). Error: 400 [`INVALID_ID`].
pub fn check_id(id: &str) -> Result<(), DomainError> {
    if is_object_id(id) {
        Ok(())
    } else {
        Err(DomainError::invalid(INVALID_ID))
    }
}

/// Body of `POST /knowledgebase` and `POST /knowledgebase/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct KnowledgeBaseBody {
    /// Required; 1–40 characters after trimming.
    pub name: Option<String>,
    /// Optional free text.
    pub description: Option<String>,
}

/// A validated name and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// Trimmed name, 1–40 characters.
    pub name: String,
    /// Description; `None` leaves it as it is on update, `""` on create.
    pub description: Option<String>,
}

/// Validates a create or update body (OAS: `name` required, 1–40
/// characters, trimmed server-side). Errors (400, zod style like R009):
/// `name: Required`, `name: String must contain at least 1 character(s)`,
/// `name: String must contain at most 40 character(s)`,
/// `description: String must contain at most 2000 character(s)`.
pub fn validate(body: &KnowledgeBaseBody) -> Result<Naming, DomainError> {
    let name = body.name.as_deref().ok_or_else(|| DomainError::invalid("name: Required"))?.trim();
    string_len("name", name, 1, MAX_NAME).map_err(DomainError::invalid)?;
    if let Some(d) = &body.description {
        string_len("description", d, 0, MAX_DESCRIPTION).map_err(DomainError::invalid)?;
    }
    Ok(Naming { name: name.to_string(), description: body.description.clone() })
}

/// A knowledge base, exactly the stored document of LIVE's list shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeBase {
    /// 24-hex id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Name, 1–40 characters.
    pub name: String,
    /// Description (`""` when none was given, so the key is always there).
    pub description: String,
    /// 24-hex organization id.
    pub organization: String,
    /// 24-hex id of the user whose key created it.
    #[serde(rename = "createdBy")]
    pub created_by: String,
    /// Mongoose version key; metadata updates leave it at 0.
    #[serde(rename = "__v")]
    pub version: u32,
}

impl KnowledgeBase {
    /// A new knowledge base from a validated body.
    pub fn new(id: String, organization: String, created_by: String, naming: Naming) -> Self {
        Self {
            id,
            name: naming.name,
            description: naming.description.unwrap_or_default(),
            organization,
            created_by,
            version: 0,
        }
    }

    /// The knowledge base after `POST /knowledgebase/{id}`: the name is
    /// replaced, the description only when given.
    pub fn renamed(&self, naming: Naming) -> Self {
        Self {
            name: naming.name,
            description: naming.description.unwrap_or_else(|| self.description.clone()),
            ..self.clone()
        }
    }

    /// The wire object: exactly `__v, _id, createdBy, description, name,
    /// organization` (LIVE list shapes).
    pub fn to_json(&self) -> Value {
        json!({
            "_id": self.id, "name": self.name, "description": self.description,
            "organization": self.organization, "createdBy": self.created_by, "__v": self.version,
        })
    }
}

/// The row limits of one knowledge base: 400 `Knowledge base cannot hold
/// more than 500 items` / `… 1000 URLs` (inferred) when `adding` more
/// rows would pass [`MAX_ITEMS`] / [`MAX_SCRAPED_URLS`].
pub fn check_capacity(items: usize, urls: usize, adding_items: usize, adding_urls: usize) -> Result<(), DomainError> {
    if items + adding_items > MAX_ITEMS {
        return Err(DomainError::invalid(format!("Knowledge base cannot hold more than {MAX_ITEMS} items")));
    }
    if urls + adding_urls > MAX_SCRAPED_URLS {
        return Err(DomainError::invalid(format!("Knowledge base cannot hold more than {MAX_SCRAPED_URLS} URLs")));
    }
    Ok(())
}

/// The ids of the knowledge bases one agent config uses: its
/// `globalKnowledgeBaseId` (BYA "attach it to the agent as
/// `globalKnowledgeBaseId`") and the `knowledgeBaseId` of every
/// `knowledge_base_search` tool in `singlePromptConfig.tools` (OAS #Tool).
pub fn references(config: &Map<String, Value>) -> Vec<&str> {
    let global = config.get("globalKnowledgeBaseId").and_then(Value::as_str);
    let tools = config
        .get("singlePromptConfig")
        .and_then(|s| s.get("tools"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("knowledge_base_search"))
        .filter_map(|t| t.get("knowledgeBaseId").and_then(Value::as_str));
    let mut out: Vec<&str> = global.into_iter().chain(tools).filter(|s| !s.is_empty()).collect();
    out.dedup();
    out
}

/// The configs of `rec` that count as using a knowledge base (see
/// [`check_delete`]): the active version, the live branch's head, every
/// open v1 draft and every branch's open draft. Older published versions
/// do not count.
pub fn live_configs(rec: &AgentRecord) -> impl Iterator<Item = &Map<String, Value>> {
    let live = rec.branch(&rec.live_branch).and_then(|b| rec.head(b));
    let drafts = rec.drafts.iter().filter(|d| d.is_open()).map(|d| &*d.config);
    let branch_drafts = rec.branches.iter().filter_map(|b| b.open_draft()).map(|d| &*d.config);
    rec.active().into_iter().chain(live).map(|v| &*v.config).chain(drafts).chain(branch_drafts)
}

/// The delete rule (OAS DELETE /knowledgebase/{id}): refused with 400
/// [`CONNECTED_TO_AGENT`] while any of `configs` references `kb_id`.
/// `configs` are the configs that count as "attached": every agent's live
/// config (active version or live branch head, archived agents included,
/// since they can be unarchived) and every open draft. Older published
/// versions do not count, or a knowledge base once used could never go.
pub fn check_delete<'a>(
    kb_id: &str,
    mut configs: impl Iterator<Item = &'a Map<String, Value>>,
) -> Result<(), DomainError> {
    if configs.any(|c| references(c).contains(&kb_id)) {
        Err(DomainError::invalid(CONNECTED_TO_AGENT))
    } else {
        Ok(())
    }
}

/// `itemType` (OAS #KnowledgeBaseItem).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemType {
    /// An uploaded file (PDF).
    File,
    /// A text snippet (control API or fixture; the REST API has no route
    /// that creates one).
    Text,
}

/// One knowledge-base item: an uploaded PDF or a text snippet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// 24-hex id.
    pub id: String,
    /// The knowledge base.
    pub knowledge_base_id: String,
    /// File or text.
    pub item_type: ItemType,
    /// Display name of a file (`fileName`).
    pub file_name: Option<String>,
    /// MIME type (`contentType`), e.g. `application/pdf`.
    pub content_type: Option<String>,
    /// Size in bytes (`size`).
    pub size: Option<u64>,
    /// Storage key (`key`): `knowledgebase/<org>/<kb>/<uuid>/<file>`.
    pub key: Option<String>,
    /// Title (`title`): the file name without extension, or the snippet's.
    pub title: Option<String>,
    /// How it got here (`metadata.source`): `upload`, `presigned`, `control`.
    pub source: String,
    /// Its processing, with the extracted text once `completed`.
    pub work: Work,
    /// Creation time, epoch ms.
    pub created_at: Millis,
}

impl Item {
    /// The wire object (OAS #KnowledgeBaseItem, required keys `_id,
    /// itemType, knowledgeBaseId, processingStatus, createdAt, updatedAt`).
    /// `content` is shown for text items only (OAS: "for text type items");
    /// `metadata` carries `source` and, when failed, `error`.
    pub fn to_json(&self) -> Value {
        let mut metadata = Map::from_iter([("source".to_string(), json!(self.source))]);
        if let Some(e) = &self.work.error {
            metadata.insert("error".into(), json!(e));
        }
        let mut o = Map::new();
        o.insert("_id".into(), json!(self.id));
        o.insert("itemType".into(), json!(self.item_type));
        o.insert("metadata".into(), Value::Object(metadata));
        o.insert("knowledgeBaseId".into(), json!(self.knowledge_base_id));
        o.insert("processingStatus".into(), json!(self.work.stage.item_status()));
        for (k, v) in [("fileName", &self.file_name), ("contentType", &self.content_type), ("key", &self.key)] {
            if let Some(v) = v {
                o.insert(k.into(), json!(v));
            }
        }
        if let Some(size) = self.size {
            o.insert("size".into(), json!(size));
        }
        if let Some(t) = &self.title {
            o.insert("title".into(), json!(t));
        }
        if self.item_type == ItemType::Text {
            o.insert("content".into(), json!(self.work.text));
        }
        o.insert("createdAt".into(), json!(iso(self.created_at)));
        o.insert("updatedAt".into(), json!(iso(self.work.updated_at)));
        o.insert("__v".into(), json!(0));
        Value::Object(o)
    }
}

/// One URL added through `POST /knowledgebase/{id}/scrape-urls`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScrapedUrl {
    /// 24-hex id.
    pub id: String,
    /// The knowledge base.
    pub knowledge_base_id: String,
    /// The URL as given.
    pub url: String,
    /// Its scrape, with the page text once `indexed`.
    pub work: Work,
    /// Creation time, epoch ms.
    pub created_at: Millis,
}

impl ScrapedUrl {
    /// The wire object: exactly `_id, url, status, createdAt, updatedAt`
    /// (OAS GET /knowledgebase/{id}/scraped-urls), `status` one of
    /// `pending, scraping, indexed, failed`.
    pub fn to_json(&self) -> Value {
        json!({
            "_id": self.id, "url": self.url, "status": self.work.stage.url_status(),
            "createdAt": iso(self.created_at), "updatedAt": iso(self.work.updated_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(name: Option<&str>, description: Option<&str>) -> KnowledgeBaseBody {
        KnowledgeBaseBody { name: name.map(str::to_string), description: description.map(str::to_string) }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate(&body(Some("  FAQ  "), None)).map(|n| n.name), Ok("FAQ".to_string()));
        assert_eq!(validate(&body(None, None)), Err(DomainError::invalid("name: Required")));
        assert_eq!(
            validate(&body(Some("   "), None)),
            Err(DomainError::invalid("name: String must contain at least 1 character(s)"))
        );
        let long = "x".repeat(41);
        assert_eq!(
            validate(&body(Some(&long), None)),
            Err(DomainError::invalid("name: String must contain at most 40 character(s)"))
        );
        assert!(validate(&body(Some(&"é".repeat(40)), None)).is_ok(), "characters, not bytes");
    }

    #[test]
    fn the_document_has_exactly_the_live_keys() {
        let kb = KnowledgeBase::new(
            "a".repeat(24),
            "b".repeat(24),
            "c".repeat(24),
            validate(&body(Some("FAQ"), None)).unwrap(),
        );
        let v = kb.to_json();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["__v", "_id", "createdBy", "description", "name", "organization"]);
        assert_eq!(v["description"], "");
        let back: KnowledgeBase = serde_json::from_value(v).unwrap();
        assert_eq!(back, kb);
    }

    #[test]
    fn update_keeps_the_description_unless_given() {
        let kb =
            KnowledgeBase::new("a".repeat(24), "o".into(), "u".into(), validate(&body(Some("A"), Some("d"))).unwrap());
        assert_eq!(kb.renamed(validate(&body(Some("B"), None)).unwrap()).description, "d");
        assert_eq!(kb.renamed(validate(&body(Some("B"), Some(""))).unwrap()).description, "");
    }

    #[test]
    fn delete_is_refused_while_a_config_references_the_knowledge_base() {
        let kb = "6867ca76d0f8f2e0f4201281";
        let global = json!({"globalKnowledgeBaseId": kb});
        let tool = json!({"singlePromptConfig": {"tools": [{"type": "knowledge_base_search", "knowledgeBaseId": kb}]}});
        let other = json!({"globalKnowledgeBaseId": "0".repeat(24), "singlePromptConfig": {"tools": []}});
        for cfg in [&global, &tool] {
            let configs = [other.as_object().unwrap(), cfg.as_object().unwrap()];
            assert_eq!(check_delete(kb, configs.into_iter()), Err(DomainError::invalid(CONNECTED_TO_AGENT)));
        }
        assert_eq!(check_delete(kb, [other.as_object().unwrap()].into_iter()), Ok(()));
    }

    #[test]
    fn rows_are_bounded_per_knowledge_base() {
        assert_eq!(check_capacity(MAX_ITEMS, 0, 0, 1), Ok(()));
        assert_eq!(
            check_capacity(MAX_ITEMS, 0, 1, 0),
            Err(DomainError::invalid("Knowledge base cannot hold more than 500 items"))
        );
        assert_eq!(
            check_capacity(0, 999, 0, 2),
            Err(DomainError::invalid("Knowledge base cannot hold more than 1000 URLs"))
        );
    }

    #[test]
    fn ids_must_be_object_ids() {
        assert_eq!(check_id("abc"), Err(DomainError::invalid(INVALID_ID)));
        assert_eq!(check_id("6867ca76d0f8f2e0f4201281"), Ok(()));
    }
}
