//! v2 versioning: branches, their single open draft and their chains of
//! revisions (BEHAVIOR §D, R068–R101), as a pure state machine over the
//! same [`AgentRecord`] v1 uses.
//!
//! Revisions are the v1 [`Version`] rows with a `branch`, so a v1
//! `versionId` is a revision id and by-id lookups work in both modes
//! (R076, R101). Rows a v1 publish created (`branch: None`) are backfilled
//! onto the live branch by [`migrated`] before any v2 command runs.
//!
//! Invariants, property-tested in `branches_props`:
//! - committed revisions never change (config, blocks, number, state);
//! - exactly one branch is live, it is never archived, and the agent's
//!   active version is its head (R079, R089);
//! - a rejected command returns an error and the caller keeps its record.
//!
//! What it does not do: decide *when* a scan finishes. `Publish` arms a
//! scan (`RevState::Scanning`) and the store schedules `ScanComplete` on
//! the clock at the row's `security_passes_at`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::agent::Agent;
use super::config::{Config, ConfigMap};
use super::ids::{derived_short_id, ShortStr};
use super::versioning::{check_len, Actor, AgentRecord, Blocks, Edit, Rules};
use super::versioning::{RevState, Version};
use super::{DomainError, Millis};

mod conflict;
mod steps;

pub use conflict::check_expected;
use steps::{create, make_live, publish, put_draft, restore, scan_complete, touch};

/// The default branch's name (R069, L-D1).
pub const MAIN: &str = "Main";

/// An `AgentBranch` (R071).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branch {
    /// 24-hex id.
    pub id: ShortStr,
    /// 1–100 characters, unique among the agent's active branches.
    pub name: ShortStr,
    /// The seeded `Main` branch: cannot be renamed or archived.
    pub is_default: bool,
    /// The branch it was forked from (`None` for `Main`).
    pub source_branch_id: Option<String>,
    /// The source's head at fork time (R072).
    pub source_revision_id: Option<String>,
    /// Latest committed revision; `None` until the first commit.
    pub head_revision_id: Option<ShortStr>,
    /// Archived branches leave the list and refuse edits (R078).
    pub archived: bool,
    /// The single open draft (R068), boxed: most branches have none, and
    /// every new agent carries one branch.
    pub draft: Option<Box<BranchDraft>>,
    /// The row whose scan is in flight (R088 `publish_in_progress`).
    pub publishing: Option<String>,
    /// Creator user id.
    pub created_by: ShortStr,
    /// Last editor user id.
    pub updated_by: ShortStr,
    /// Creation time, epoch ms.
    pub created_at: Millis,
    /// Last change, epoch ms.
    pub updated_at: Millis,
}

/// A branch's open draft (R080–R085).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchDraft {
    /// 24-hex id, rendered as `_id` and `draftId`.
    pub id: String,
    /// `draftRevision`: 0 when opened, +1 per PUT.
    pub revision: u32,
    /// Current config.
    pub config: Config,
    /// Section block ids, rotated for changed sections on every edit.
    pub blocks: Blocks,
    /// The config after each draft revision (index = revision -
    /// `first_snapshot`), for the leaf-level conflict check of
    /// `expectedRevision` (R082): the last
    /// [`MAX_EDITS`](crate::domain::history_budget::MAX_EDITS) (AH3).
    pub snapshots: Vec<Config>,
    /// The draft revision of `snapshots[0]` (AH3).
    #[serde(default, skip_serializing_if = "crate::domain::versioning::is_zero")]
    pub first_snapshot: u32,
    /// Edits, oldest first: the last `MAX_EDITS` (AH3).
    pub history: Vec<Edit>,
    /// Edits dropped from the front of `history` (AH3).
    #[serde(default, skip_serializing_if = "crate::domain::versioning::is_zero")]
    pub dropped_edits: u32,
    /// The revision it was opened from.
    pub base_revision_id: Option<String>,
    /// The draft revision whose scan failed: publishing it again is 409
    /// until it is edited (L-D4).
    pub failed_at: Option<u32>,
    /// Committed as the branch head and not edited since: the branch keeps
    /// the document (`GET …/draft` still reads it, LIVE V2) but has no open
    /// draft. The next `PUT …/draft` reopens it, so `expectedRevision` =
    /// its `draftRevision` goes on from there.
    pub published: bool,
    /// Creator user id.
    pub created_by: String,
    /// Opening time, epoch ms.
    pub created_at: Millis,
    /// Last edit, epoch ms.
    pub updated_at: Millis,
}

impl BranchDraft {
    /// `editCount` (R084): every edit, kept or dropped (AH3).
    pub fn edit_count(&self) -> u64 {
        u64::from(self.dropped_edits) + self.history.len() as u64
    }
}

impl Branch {
    /// The open draft (R068): the draft document unless it was published
    /// unchanged (LIVE V2).
    pub fn open_draft(&self) -> Option<&BranchDraft> {
        self.draft.as_deref().filter(|d| !d.published)
    }

    /// The live default branch of a new agent, headed by version 1 (R069).
    pub fn main(agent: &Agent, head: &str) -> Self {
        Self {
            id: derived_short_id(&["branch", &agent.id, MAIN]),
            name: MAIN.into(),
            is_default: true,
            source_branch_id: None,
            source_revision_id: None,
            head_revision_id: Some(head.into()),
            archived: false,
            draft: None,
            publishing: None,
            created_by: agent.created_by.clone(),
            updated_by: agent.created_by.clone(),
            created_at: agent.created_at,
            updated_at: agent.created_at,
        }
    }
}

/// 423's message while a config freeze is active (R017; the spec gives
/// the body's shape, not its words: inferred from its description).
pub const CONFIG_FROZEN: &str =
    "A configuration freeze is active on this agent (maintenance window). Retry after the freeze window ends.";

impl BranchCommand {
    /// Whether a config freeze refuses this command with 423 (R017, the
    /// spec's `LockedErrorResponse` on branch create, rename, archive,
    /// live, `PUT` draft, publish and restore). Discarding a draft,
    /// cancelling a publish and a scan finishing still go through; so do
    /// reads and test calls, which are no commands.
    pub fn frozen_out(&self) -> bool {
        match self {
            Self::Create { .. }
            | Self::Rename { .. }
            | Self::Archive { .. }
            | Self::MakeLive { .. }
            | Self::PutDraft { .. }
            | Self::Publish { .. }
            | Self::Restore { .. } => true,
            Self::DiscardDraft { .. } | Self::ScanComplete { .. } | Self::CancelPublish { .. } => false,
        }
    }
}

/// A v2 command. Ids are generated by the caller so [`apply`] stays pure.
#[derive(Debug, Clone, PartialEq)]
pub enum BranchCommand {
    /// `POST /agent/{id}/branches` (R072, R073).
    Create {
        /// New branch id.
        id: String,
        /// Fork from this branch's head.
        source_branch_id: String,
        /// 1–100 characters.
        name: String,
    },
    /// `PATCH …/branches/{branchId}` (R077).
    Rename {
        /// Branch id.
        branch: String,
        /// 1–100 characters.
        name: String,
    },
    /// `POST …/archive` (R078).
    Archive {
        /// Branch id.
        branch: String,
    },
    /// `POST …/live` (R079).
    MakeLive {
        /// Branch id.
        branch: String,
    },
    /// `PUT …/draft` with a validated partial (R080–R083).
    PutDraft {
        /// Branch id.
        branch: String,
        /// Id of the draft if this PUT opens one.
        draft_id: String,
        /// Validated config fields.
        patch: ConfigMap,
        /// `expectedRevision`, if sent.
        expected_revision: Option<u32>,
    },
    /// `DELETE …/draft` (R085).
    DiscardDraft {
        /// Branch id.
        branch: String,
    },
    /// `POST …/draft/publish` (R086–R088).
    Publish {
        /// Branch id.
        branch: String,
        /// Id of the new row.
        revision_id: String,
        /// ≤ 200 characters.
        label: Option<String>,
        /// The organization's scan switch: the scan will fail.
        scan_fails: bool,
    },
    /// The scan of `revision_id` finished (scheduled on the clock).
    ScanComplete {
        /// The scanning row.
        revision_id: String,
    },
    /// `POST …/draft/publish/cancel` (R090): idempotent.
    CancelPublish {
        /// Branch id.
        branch: String,
    },
    /// `POST …/revisions/{revisionId}/restore` (R094, R095).
    Restore {
        /// Branch id.
        branch: String,
        /// The revision to copy.
        revision_id: String,
        /// Id of the new revision.
        new_id: String,
    },
}

fn not_found() -> DomainError {
    DomainError::NotFound("Resource not found".into())
}

fn in_progress() -> DomainError {
    DomainError::typed("publish_in_progress", "A publish or restore is already in progress on this branch")
}

impl AgentRecord {
    /// A branch by id, archived or not.
    pub fn branch(&self, id: &str) -> Option<&Branch> {
        self.branches.iter().find(|b| b.id == id)
    }

    /// A branch's head revision.
    pub fn head(&self, b: &Branch) -> Option<&Version> {
        b.head_revision_id.as_deref().and_then(|h| self.version(h))
    }

    /// A branch's committed and scanning rows, newest first (R091).
    pub fn branch_revisions<'a>(&'a self, branch: &'a str) -> impl Iterator<Item = &'a Version> + 'a {
        self.versions
            .iter()
            .rev()
            .filter(move |v| v.branch.as_deref() == Some(branch))
            .filter(|v| matches!(v.state, RevState::Committed | RevState::Scanning))
    }

    fn branch_index(&self, id: &str) -> Result<usize, DomainError> {
        self.branches.iter().position(|b| b.id == id).ok_or_else(not_found)
    }

    fn name_taken(&self, name: &str, except: Option<&str>) -> bool {
        name.eq_ignore_ascii_case(MAIN)
            || self.branches.iter().any(|b| !b.archived && b.name == name && Some(b.id.as_str()) != except)
    }
}

/// `rec` with rows of v1 publishes (`branch: None`) moved onto the live
/// branch, numbered after its commits, and the live head set to the
/// active version, so a switch from v1 to v2 keeps serving the same
/// config. Borrowed when there is nothing to backfill.
pub fn migrated(rec: &AgentRecord) -> Cow<'_, AgentRecord> {
    if rec.versions.iter().all(|v| v.branch.is_some()) {
        return Cow::Borrowed(rec);
    }
    let mut next = rec.clone();
    let live = next.live_branch.clone();
    let mut n = next.versions.iter().filter(|v| v.branch.as_deref() == Some(&live)).count();
    for v in next.versions.iter_mut().filter(|v| v.branch.is_none()) {
        n += 1;
        v.branch = Some(live.clone());
        v.revision_number = u32::try_from(n).ok();
    }
    let active = next.agent.active_version_id.clone();
    if let Some(b) = next.branches.iter_mut().find(|b| b.id == live) {
        b.head_revision_id = Some(active);
    }
    Cow::Owned(next)
}

/// Applies a v2 command to `rec` (after [`migrated`]) at `now` by `actor`.
/// Returns the next record; `rec` is untouched, so an error changes nothing.
pub fn apply(
    rec: &AgentRecord,
    cmd: &BranchCommand,
    now: Millis,
    actor: Actor<'_>,
    rules: Rules,
) -> Result<AgentRecord, DomainError> {
    if rules.config_freeze && cmd.frozen_out() {
        return Err(DomainError::Locked(CONFIG_FROZEN.into()));
    }
    let mut next = migrated(rec).into_owned();
    match cmd {
        BranchCommand::Create { id, source_branch_id, name } => {
            create(&mut next, id, source_branch_id, name, now, actor)?
        }
        BranchCommand::Rename { branch, name } => {
            let i = next.branch_index(branch)?;
            let b = &next.branches[i];
            if b.is_default {
                return Err(DomainError::Forbidden("The default branch cannot be renamed".into()));
            }
            if b.archived {
                return Err(DomainError::Forbidden("Archived branches cannot be renamed".into()));
            }
            check_len("name", Some(name), 1, 100)?;
            if next.name_taken(name, Some(branch)) {
                return Err(DomainError::typed(
                    "branch_name_exists",
                    format!("A branch named \"{name}\" already exists"),
                ));
            }
            touch(&mut next.branches[i], now, actor).name = name.as_str().into();
        }
        BranchCommand::Archive { branch } => {
            let i = next.branch_index(branch)?;
            if next.branches[i].is_default {
                return Err(DomainError::Forbidden("The default branch cannot be archived".into()));
            }
            if next.live_branch == *branch {
                return Err(DomainError::Forbidden("The live branch cannot be archived".into()));
            }
            if !next.branches[i].archived {
                touch(&mut next.branches[i], now, actor).archived = true;
            }
        }
        BranchCommand::MakeLive { branch } => make_live(&mut next, branch, now, actor)?,
        BranchCommand::PutDraft { branch, draft_id, patch, expected_revision } => {
            put_draft(&mut next, branch, draft_id, patch, *expected_revision, now, actor, rules)?;
        }
        BranchCommand::DiscardDraft { branch } => {
            let i = next.branch_index(branch)?;
            if next.branches[i].open_draft().is_none() {
                return Err(DomainError::NotFound("Draft not found".into()));
            }
            touch(&mut next.branches[i], now, actor).draft = None;
        }
        BranchCommand::Publish { branch, revision_id, label, scan_fails } => {
            publish(&mut next, branch, revision_id, label.as_ref(), *scan_fails, now, actor, rules)?;
        }
        BranchCommand::ScanComplete { revision_id } => scan_complete(&mut next, revision_id, now, actor),
        BranchCommand::CancelPublish { branch } => {
            let i = next.branch_index(branch)?;
            if let Some(r) = next.branches[i].publishing.take() {
                if let Some(v) = next.versions.iter_mut().find(|v| v.id == r) {
                    v.state = RevState::Cancelled;
                    v.updated_at = now.max(v.updated_at);
                }
            }
        }
        BranchCommand::Restore { branch, revision_id, new_id } => {
            restore(&mut next, branch, revision_id, new_id, now, actor)?;
        }
    }
    Ok(next)
}
