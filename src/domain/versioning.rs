//! v1 versioning: drafts and published versions of one agent (BEHAVIOR
//! §C, R045–R067), as a pure state machine.
//!
//! [`AgentRecord`] is the aggregate (the agent, its versions, its drafts).
//! [`apply`] takes a record, a [`Command`], `now` and the [`Rules`], and
//! returns the next record or a [`DomainError`]; it never mutates its
//! input, so a rejected command changes nothing.
//!
//! Invariants, property-tested in `versioning_props`:
//! - a published version's config and blocks never change;
//! - exactly one version is active (`agent.active_version_id`);
//! - publish never activates, even with `activate: true` (R056);
//! - activation waits for the security check (R057): it passes
//!   `Rules::security_check_ms` after publish.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::agent::{Agent, MetadataPatch};
use super::config::{self, Config, ConfigMap, SECTIONS};
use super::ids::derived_id;
use super::{DomainError, Millis};

/// The platform's per-organization `ENABLE_BRANCH_MODEL` flag (§0 Modes),
/// plus the way the live service serves both client generations at once
/// (LIVE V1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersioningMode {
    /// Per agent (LIVE V1): every agent starts on drafts and versions; its
    /// first v2 call (branches, branch draft, revisions, a diff with a
    /// branch ref) moves that agent to the branch model, after which its
    /// v1 write and list endpoints answer R075's 409.
    #[default]
    Auto,
    /// Drafts and versions (BEHAVIOR §C); the branch routes do not exist.
    V1,
    /// Branches and revisions (BEHAVIOR §D) for every agent.
    V2,
}

impl VersioningMode {
    /// `"auto"`, `"v1"` or `"v2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// Timing rules that come from configuration, not from the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// How long after publish the security check passes (default 6000 ms,
    /// `--security-check-secs`).
    pub security_check_ms: Millis,
    /// What the organization may use (R022).
    pub access: super::agent::OrgAccess,
}

/// Section name → 24-hex block id (R067).
pub type Blocks = BTreeMap<&'static str, String>;

pub(crate) fn blocks_for(owner: &str, revision: u32, sections: &[&'static str], prev: Option<&Blocks>) -> Blocks {
    SECTIONS
        .into_iter()
        .map(|s| {
            let keep = prev.and_then(|p| p.get(s)).filter(|_| !sections.contains(&s));
            let id = keep.cloned().unwrap_or_else(|| derived_id(&[owner, &revision.to_string(), s]));
            (s, id)
        })
        .collect()
}

/// A published version (status `published`). Its `config` and `blocks`
/// never change; metadata (label, description, pin, activation stamps) may.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    /// 24-hex id, used as `{versionId}`.
    pub id: String,
    /// 1, 2, ... per agent.
    pub number: u32,
    /// Label, ≤ 200 characters.
    pub label: Option<String>,
    /// Description, ≤ 2000 characters.
    pub description: Option<String>,
    /// Pinned for quick access.
    pub is_pinned: bool,
    /// Publisher user id.
    pub published_by: String,
    /// Publish time, epoch ms.
    pub published_at: Millis,
    /// Who last activated it.
    pub activated_by: Option<String>,
    /// When it was last activated, epoch ms.
    pub activated_at: Option<Millis>,
    /// The draft it was published from (`None` for version 1).
    pub draft_id: Option<String>,
    /// The version its draft was forked from.
    pub parent_version: Option<String>,
    /// When the security check passes, epoch ms (R057).
    pub security_passes_at: Millis,
    /// The immutable config.
    pub config: Config,
    /// Section block ids.
    pub blocks: Blocks,
    /// Last metadata change, epoch ms.
    pub updated_at: Millis,
    /// The config's serialized forms, computed on first render.
    pub json: config::JsonMemo,
    /// Owning branch (v2); `None` on rows published through v1 until a
    /// v2 command backfills them onto the live branch.
    pub branch: Option<String>,
    /// Per-branch commit number (R068); set only once committed.
    pub revision_number: Option<u32>,
    /// Rendered with `versionNumber` (v1 rows and version 1); v2
    /// revisions render `versionNumber: null` (R099).
    pub legacy_number: bool,
    /// Committed, or a v2 publish that is scanning, failed or cancelled.
    pub state: RevState,
    /// The draft revision it was published from.
    pub draft_revision: Option<u32>,
    /// Set on commits produced by restore (R094).
    pub restored_from: Option<Restored>,
    /// The mock's planned scan outcome: `true` fails it (L-D4).
    pub scan_fails: bool,
}

/// Where a restored revision's config came from (R094).
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// `restoredFromRevisionId`.
    pub revision_id: String,
    /// `restoredFromLabel`.
    pub label: Option<String>,
}

/// The lifecycle of a version row. v1 rows are always `Committed`; a v2
/// publish that needs a scan starts `Scanning` (R086, R087).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevState {
    /// Published: immutable, part of its branch's chain.
    Committed,
    /// Waiting for its security scan; not yet a revision of the chain.
    Scanning,
    /// The scan failed; nothing was committed (L-D4).
    Failed,
    /// The publish was cancelled while scanning (R090).
    Cancelled,
}

impl Version {
    /// `queued` before the check passes, `passed` after (R057, R087);
    /// `failed` when a v2 scan failed.
    pub fn security_status(&self, now: Millis) -> &'static str {
        match self.state {
            RevState::Failed => "failed",
            RevState::Scanning | RevState::Cancelled => "queued",
            RevState::Committed if now >= self.security_passes_at => "passed",
            RevState::Committed => "queued",
        }
    }

    /// Committed rows are the published versions and revisions.
    pub fn is_committed(&self) -> bool {
        self.state == RevState::Committed
    }
}

/// One entry of a draft's edit history (R049).
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The draft revision this edit produced.
    pub revision: u32,
    /// Sections it changed.
    pub changed_sections: Vec<&'static str>,
    /// When, epoch ms.
    pub at: Millis,
}

/// An open (or discarded, or published) draft.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// 24-hex record id (`_id`); accepted in paths like `draftId` (R047).
    pub id: String,
    /// 24-hex draft id (`draftId`).
    pub draft_id: String,
    /// Name, 1–100 characters.
    pub name: Option<String>,
    /// Revision counter, starting at 1 and +1 per config PATCH (R052).
    pub revision: u32,
    /// `sourceVersionId` as given on create.
    pub source_version_id: Option<String>,
    /// `sourceDraftId` as given on create.
    pub source_draft_id: Option<String>,
    /// The published version the diff compares against by default (R054).
    pub base_version_id: String,
    /// Current config.
    pub config: Config,
    /// Section block ids, rotated for changed sections on every edit.
    pub blocks: Blocks,
    /// Edit history, oldest first.
    pub history: Vec<Edit>,
    /// Soft-discarded (R051).
    pub discarded: bool,
    /// Published into a version; no longer an open draft (R055).
    pub published: bool,
    /// Creator user id.
    pub created_by: String,
    /// Creation time, epoch ms.
    pub created_at: Millis,
    /// Last edit, epoch ms.
    pub updated_at: Millis,
}

impl Draft {
    /// Open drafts are neither discarded nor published.
    pub fn is_open(&self) -> bool {
        !self.discarded && !self.published
    }

    fn matches(&self, key: &str) -> bool {
        self.id == key || self.draft_id == key
    }
}

/// An agent with its versions and drafts: the unit every command acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    /// The agent document.
    pub agent: Agent,
    /// Published versions, oldest first.
    pub versions: Vec<Version>,
    /// Drafts, oldest first, including discarded and published ones.
    pub drafts: Vec<Draft>,
    /// v2 branches, oldest first; the first is the default `Main` (R069).
    pub branches: Vec<super::branches::Branch>,
    /// Id of the live branch (R068): exactly one, never archived.
    pub live_branch: String,
    /// The agent has been served a v2 call and is on the branch model
    /// (LIVE V1, the `auto` versioning mode): its v1 write and list
    /// endpoints answer R075's 409 from then on. Never goes back.
    pub on_branch_model: bool,
}

/// A change to an agent record. Ids are generated by the caller so that
/// [`apply`] stays pure.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `POST /agent/{id}/drafts` (R045, R046).
    CreateDraft {
        /// New `_id`.
        id: String,
        /// New `draftId`.
        draft_id: String,
        /// Fork from this published version.
        source_version_id: Option<String>,
        /// Fork from this draft (wins over the version for content).
        source_draft_id: Option<String>,
        /// Optional name, 1–100.
        name: Option<String>,
    },
    /// `PATCH …/drafts/{draftId}/config` with a validated partial (R052).
    PatchDraftConfig {
        /// `draftId` or `_id`.
        draft: String,
        /// Validated config fields.
        patch: ConfigMap,
    },
    /// `PATCH …/drafts/{draftId}` (R050).
    RenameDraft {
        /// `draftId` or `_id`.
        draft: String,
        /// New name, 1–100.
        name: String,
    },
    /// `DELETE …/drafts/{draftId}` (R051).
    DiscardDraft {
        /// `draftId` or `_id`.
        draft: String,
    },
    /// `POST …/drafts/{draftId}/publish` (R055, R056).
    PublishDraft {
        /// `draftId` or `_id`.
        draft: String,
        /// Id of the new version.
        version_id: String,
        /// Label, ≤ 200.
        label: Option<String>,
        /// Description, ≤ 2000.
        description: Option<String>,
        /// Sent by clients, never honoured (R056, L-C3).
        activate: bool,
    },
    /// `PATCH …/versions/{versionId}/activate` (R057, R058).
    Activate {
        /// The version to activate.
        version_id: String,
    },
    /// `PATCH …/versions/{versionId}` (R061).
    UpdateVersionMeta {
        /// The version.
        version_id: String,
        /// New label, if given.
        label: Option<Option<String>>,
        /// New description, if given.
        description: Option<Option<String>>,
        /// New pin state, if given.
        is_pinned: Option<bool>,
    },
    /// `PATCH /agent/{id}` metadata (R030).
    UpdateMetadata(MetadataPatch),
    /// `DELETE /agent/{id}/archive?on=` (R034, R035).
    SetArchived {
        /// `true` archives, `false` unarchives.
        on: bool,
    },
    /// A v2 branch command (BEHAVIOR §D), see [`super::branches`].
    Branch(super::branches::BranchCommand),
}

/// Who acts: recorded in `createdBy`, `publishedBy`, `activatedBy`.
pub type Actor<'a> = &'a str;

/// Creates the record of a new agent: version 1 is published, active and
/// already past its security check (R024). It is also revision 1 of the
/// live default branch `Main` (R069), whose id derives from the agent's.
pub fn new_record(agent: Agent, version_id: String, config: ConfigMap) -> AgentRecord {
    let now = agent.created_at;
    let blocks = blocks_for(&version_id, 1, &SECTIONS, None);
    let main = super::branches::Branch::main(&agent, &version_id);
    let version = Version {
        id: version_id,
        number: 1,
        label: Some("Version 1".into()),
        description: None,
        is_pinned: false,
        published_by: agent.created_by.clone(),
        published_at: now,
        activated_by: Some(agent.created_by.clone()),
        activated_at: Some(now),
        draft_id: None,
        parent_version: None,
        security_passes_at: now,
        config: Arc::new(config),
        blocks,
        updated_at: now,
        json: config::JsonMemo::default(),
        branch: Some(main.id.clone()),
        revision_number: Some(1),
        legacy_number: true,
        state: RevState::Committed,
        draft_revision: None,
        restored_from: None,
        scan_fails: false,
    };
    let live_branch = main.id.clone();
    AgentRecord {
        agent,
        versions: vec![version],
        drafts: Vec::new(),
        branches: vec![main],
        live_branch,
        on_branch_model: false,
    }
}

impl AgentRecord {
    /// A published version by id.
    pub fn version(&self, id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    /// The active version (always present).
    pub fn active(&self) -> Option<&Version> {
        self.version(&self.agent.active_version_id)
    }

    /// An open draft by `draftId` or `_id`.
    pub fn open_draft(&self, key: &str) -> Option<&Draft> {
        self.drafts.iter().find(|d| d.matches(key) && d.is_open())
    }

    /// Any non-discarded draft by `draftId` or `_id` (reads, R076).
    pub fn draft(&self, key: &str) -> Option<&Draft> {
        self.drafts.iter().find(|d| d.matches(key) && !d.discarded)
    }

    fn version_or_404(&self, id: &str) -> Result<&Version, DomainError> {
        self.version(id).ok_or_else(|| DomainError::NotFound("Version not found".into()))
    }

    fn draft_index(&self, key: &str) -> Result<usize, DomainError> {
        self.drafts
            .iter()
            .position(|d| d.matches(key) && d.is_open())
            .ok_or_else(|| DomainError::NotFound("Draft not found".into()))
    }
}

/// The next agent-wide `number` of a version row.
pub(crate) fn next_number(rec: &AgentRecord) -> u32 {
    rec.versions.iter().map(|v| v.number).max().unwrap_or(0) + 1
}

pub(crate) fn check_len(field: &str, v: Option<&String>, min: usize, max: usize) -> Result<(), DomainError> {
    match v.map(|s| s.chars().count()) {
        Some(n) if n < min => {
            Err(DomainError::Validation(format!("{field}: String must contain at least {min} character(s)")))
        }
        Some(n) if n > max => {
            Err(DomainError::Validation(format!("{field}: String must contain at most {max} character(s)")))
        }
        _ => Ok(()),
    }
}

/// Applies `cmd` to `rec` at `now` by `actor`. Returns the next record;
/// `rec` is untouched, so an error changes nothing.
pub fn apply(
    rec: &AgentRecord,
    cmd: &Command,
    now: Millis,
    actor: Actor<'_>,
    rules: Rules,
) -> Result<AgentRecord, DomainError> {
    let mut next = rec.clone();
    match cmd {
        Command::CreateDraft { id, draft_id, source_version_id, source_draft_id, name } => {
            check_len("draftName", name.as_ref(), 1, 100)?;
            let (config, base) = match (source_version_id, source_draft_id) {
                (None, None) => {
                    return Err(DomainError::invalid("Either sourceVersionId or sourceDraftId is required"))
                }
                (sv, Some(sd)) => {
                    if let Some(v) = sv {
                        rec.version_or_404(v)?;
                    }
                    let src = rec.draft(sd).ok_or_else(|| DomainError::NotFound("Source draft not found".into()))?;
                    (Arc::clone(&src.config), src.base_version_id.clone())
                }
                (Some(v), None) => (Arc::clone(&rec.version_or_404(v)?.config), v.clone()),
            };
            next.drafts.push(Draft {
                id: id.clone(),
                draft_id: draft_id.clone(),
                name: name.clone(),
                revision: 1,
                source_version_id: source_version_id.clone(),
                source_draft_id: source_draft_id.clone(),
                base_version_id: base,
                config,
                blocks: blocks_for(id, 1, &SECTIONS, None),
                history: Vec::new(),
                discarded: false,
                published: false,
                created_by: actor.to_string(),
                created_at: now,
                updated_at: now,
            });
        }
        Command::PatchDraftConfig { draft, patch } => {
            let i = rec.draft_index(draft)?;
            let d = &mut next.drafts[i];
            let mut merged = (*d.config).clone();
            config::merge(&mut merged, patch);
            super::agent::check_access(&merged, rules.access)?;
            let changes = config::leaf_changes(&d.config, &merged);
            let sections = config::changed_sections(&changes);
            d.revision += 1;
            d.blocks = blocks_for(&d.id, d.revision, &sections, Some(&d.blocks));
            d.history.push(Edit { revision: d.revision, changed_sections: sections, at: now });
            d.config = Arc::new(merged);
            d.updated_at = now.max(d.updated_at);
        }
        Command::RenameDraft { draft, name } => {
            check_len("draftName", Some(name), 1, 100)?;
            let i = rec.draft_index(draft)?;
            next.drafts[i].name = Some(name.clone());
            next.drafts[i].updated_at = now.max(next.drafts[i].updated_at);
        }
        Command::DiscardDraft { draft } => {
            let i = rec.draft_index(draft)?;
            if next.drafts[i].created_by != actor {
                return Err(DomainError::Forbidden("Only the draft creator or an admin can discard this draft".into()));
            }
            next.drafts[i].discarded = true;
        }
        Command::PublishDraft { draft, version_id, label, description, activate: _ } => {
            check_len("label", label.as_ref(), 0, 200)?;
            check_len("description", description.as_ref(), 0, 2000)?;
            let i = rec.draft_index(draft)?;
            let d = &mut next.drafts[i];
            d.published = true;
            let number = next_number(rec);
            next.versions.push(Version {
                id: version_id.clone(),
                number,
                label: label.clone(),
                description: description.clone(),
                is_pinned: false,
                published_by: actor.to_string(),
                published_at: now,
                activated_by: None,
                activated_at: None,
                draft_id: Some(d.draft_id.clone()),
                parent_version: Some(d.base_version_id.clone()),
                security_passes_at: now.saturating_add(rules.security_check_ms),
                config: Arc::clone(&d.config),
                blocks: d.blocks.clone(),
                updated_at: now,
                json: config::JsonMemo::default(),
                branch: None,
                revision_number: None,
                legacy_number: true,
                state: RevState::Committed,
                draft_revision: Some(d.revision),
                restored_from: None,
                scan_fails: false,
            });
        }
        Command::Activate { version_id } => {
            let v = rec.version_or_404(version_id)?;
            if rec.agent.active_version_id == *version_id {
                return Ok(next);
            }
            if v.security_status(now) != "passed" {
                return Err(DomainError::Conflict(
                    "Cannot activate version: security check pending. Retry once securityCheck.status is \"passed\"."
                        .into(),
                ));
            }
            let at = now.max(rec.agent.updated_at);
            let nv = next
                .versions
                .iter_mut()
                .find(|x| x.id == *version_id)
                .ok_or_else(|| DomainError::NotFound("Version not found".into()))?;
            nv.activated_at = Some(at);
            nv.activated_by = Some(actor.to_string());
            nv.updated_at = at.max(nv.updated_at);
            next.agent.active_version_id = version_id.clone();
            next.agent.updated_at = at;
        }
        Command::UpdateVersionMeta { version_id, label, description, is_pinned } => {
            rec.version_or_404(version_id)?;
            if label.is_none() && description.is_none() && is_pinned.is_none() {
                return Err(DomainError::invalid("At least one of label, description or isPinned is required"));
            }
            check_len("label", label.as_ref().and_then(Option::as_ref), 0, 200)?;
            check_len("description", description.as_ref().and_then(Option::as_ref), 0, 2000)?;
            if let Some(v) = next.versions.iter_mut().find(|x| x.id == *version_id) {
                if let Some(l) = label {
                    v.label = l.clone();
                }
                if let Some(d) = description {
                    v.description = d.clone();
                }
                if let Some(p) = is_pinned {
                    v.is_pinned = *p;
                }
                v.updated_at = now.max(v.updated_at);
            }
        }
        Command::UpdateMetadata(patch) => {
            next.agent = rec.agent.with_metadata(patch, now);
        }
        Command::SetArchived { on } => match (rec.agent.archived, on) {
            (true, true) => return Err(DomainError::Conflict("Agent is already archived".into())),
            (false, false) => return Err(DomainError::Conflict("Agent is already active".into())),
            (false, true) => {
                next.agent.archived = true;
                next.agent.archived_at = Some(now);
                next.agent.updated_at = now.max(rec.agent.updated_at);
            }
            (true, false) => {
                next.agent.archived = false;
                next.agent.archived_at = None;
                next.agent.updated_at = now.max(rec.agent.updated_at);
            }
        },
        Command::Branch(c) => return super::branches::apply(rec, c, now, actor, rules),
    }
    Ok(next)
}
