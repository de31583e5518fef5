//! The v1 aggregate: an agent with its published versions (which are also
//! the v2 revisions) and its drafts ([`AgentRecord`]), and the small rules
//! every command shares: block ids per section (R067), version numbers
//! (R055), string lengths.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::agent::Agent;
use crate::domain::config::{Config, SECTIONS};
use crate::domain::ids::{hex, DerivedPrefix, ShortStr};
use crate::domain::prompt_score::CachedScore;
use crate::domain::{string_len, DomainError, Millis};

/// Section → 24-hex block id (R067), one 12-byte [`DerivedPrefix`] per
/// section in [`SECTIONS`] order: section `s`'s id is
/// `derived_id(owner, revision, s)` for the `(owner, revision)` that last
/// rotated it, and is only hashed out when rendered ([`Blocks::get`]). So a
/// new version computes one hash instead of thirteen 24-character strings.
///
/// When every section shares one prefix (every version 1, and any version
/// whose sections all rotated together) it is stored once, inline (16
/// bytes); otherwise the 13 prefixes are boxed. The form is canonical
/// (`Blocks::from_prefixes`), so equality compares ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocks(BlockPrefixes);

#[derive(Debug, Clone, PartialEq, Eq)]
enum BlockPrefixes {
    /// Every section's prefix.
    Same(DerivedPrefix),
    /// One prefix per section, in [`SECTIONS`] order (at least two differ).
    Each(Box<[DerivedPrefix; SECTIONS.len()]>),
}

/// A snapshot stores the 13 prefix states, in [`SECTIONS`] order, as 24
/// hex digits each (the ids themselves cannot be turned back into them).
impl Serialize for Blocks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..SECTIONS.len()).map(|i| self.prefix(i).to_hex()))
    }
}

impl<'de> Deserialize<'de> for Blocks {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let states = Vec::<String>::deserialize(d)?;
        if states.len() != SECTIONS.len() {
            return Err(D::Error::custom(format!(
                "blocks: expected {} states, found {}",
                SECTIONS.len(),
                states.len()
            )));
        }
        let mut out = [DerivedPrefix::new(&[]); SECTIONS.len()];
        for (slot, h) in out.iter_mut().zip(&states) {
            *slot = DerivedPrefix::from_hex(h)
                .ok_or_else(|| D::Error::custom(format!("blocks: '{h}' is not 24 hex digits")))?;
        }
        Ok(Self::from_prefixes(out))
    }
}

impl Blocks {
    /// The blocks with these per-section prefixes, stored once when they
    /// are all the same.
    fn from_prefixes(p: [DerivedPrefix; SECTIONS.len()]) -> Self {
        if p.iter().all(|x| *x == p[0]) {
            Self(BlockPrefixes::Same(p[0]))
        } else {
            Self(BlockPrefixes::Each(Box::new(p)))
        }
    }

    /// The prefix of the section at index `i` of [`SECTIONS`].
    fn prefix(&self, i: usize) -> DerivedPrefix {
        match &self.0 {
            BlockPrefixes::Same(p) => *p,
            BlockPrefixes::Each(each) => each[i],
        }
    }

    /// The block id of `section` (24 hex digits); `None` for a name that
    /// is not one of [`SECTIONS`].
    pub fn get(&self, section: &str) -> Option<String> {
        let i = SECTIONS.iter().position(|s| *s == section)?;
        Some(hex(&self.prefix(i).finish(&[SECTIONS[i]])))
    }
}

/// The blocks of `owner`'s `revision`: sections in `sections` get ids
/// derived from `(owner, revision)`, the others keep `prev`'s (all are
/// derived when there is no `prev`).
pub(crate) fn blocks_for(owner: &str, revision: u32, sections: &[&'static str], prev: Option<&Blocks>) -> Blocks {
    // The revision's digits, written on the stack (no allocation).
    let mut digits = [0u8; 10];
    let mut free = &mut digits[..];
    let _ = std::io::Write::write_fmt(&mut free, format_args!("{revision}"));
    let len = 10 - free.len();
    let fresh = DerivedPrefix::new(&[owner, std::str::from_utf8(&digits[..len]).unwrap_or_default()]);
    let mut out = [fresh; SECTIONS.len()];
    if let Some(p) = prev {
        for (i, s) in SECTIONS.iter().enumerate() {
            if !sections.contains(s) {
                out[i] = p.prefix(i);
            }
        }
    }
    Blocks::from_prefixes(out)
}

/// A published version (status `published`). Its `config` and `blocks`
/// never change; metadata (label, description, pin, activation stamps) may.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// 24-hex id, used as `{versionId}`.
    pub id: ShortStr,
    /// 1, 2, ... per agent.
    pub number: u32,
    /// Label, ≤ 200 characters.
    pub label: Option<ShortStr>,
    /// Description, ≤ 2000 characters.
    pub description: Option<String>,
    /// Pinned for quick access.
    pub is_pinned: bool,
    /// Publisher user id.
    pub published_by: ShortStr,
    /// Publish time, epoch ms.
    pub published_at: Millis,
    /// Who last activated it.
    pub activated_by: Option<ShortStr>,
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
    /// Owning branch (v2); `None` on rows published through v1 until a
    /// v2 command backfills them onto the live branch.
    pub branch: Option<ShortStr>,
    /// Per-branch commit number (R068); set only once committed.
    pub revision_number: Option<u32>,
    /// Rendered with `versionNumber` (v1 rows and version 1); v2
    /// revisions render `versionNumber: null` (R099).
    pub legacy_number: bool,
    /// Committed, or a v2 publish that is scanning, failed or cancelled.
    pub state: RevState,
    /// The draft revision it was published from.
    pub draft_revision: Option<u32>,
    /// Set on commits produced by restore (R094); boxed, as most rows
    /// have none.
    pub restored_from: Option<Box<Restored>>,
    /// The mock's planned scan outcome: `true` fails it (L-D4).
    pub scan_fails: bool,
}

/// Where a restored revision's config came from (R094).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    /// `restoredFromRevisionId`.
    pub revision_id: String,
    /// `restoredFromLabel`.
    pub label: Option<String>,
}

/// The lifecycle of a version row. v1 rows are always `Committed`; a v2
/// publish that needs a scan starts `Scanning` (R086, R087).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Edit {
    /// The draft revision this edit produced.
    pub revision: u32,
    /// Sections it changed.
    #[serde(deserialize_with = "crate::domain::static_names::section_list")]
    pub changed_sections: Vec<&'static str>,
    /// When, epoch ms.
    pub at: Millis,
}

/// An open (or discarded, or published) draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// Edit history, oldest first: the last
    /// [`MAX_EDITS`](crate::domain::history_budget::MAX_EDITS) edits (AH3).
    pub history: Vec<Edit>,
    /// Edits dropped from the front of `history` (AH3): `editCount` is
    /// this plus `history.len()`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_edits: u32,
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

/// Serde's skip test of a zero counter.
pub(crate) fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Draft {
    /// `editCount` (R049): every edit, kept or dropped (AH3).
    pub fn edit_count(&self) -> u64 {
        u64::from(self.dropped_edits) + self.history.len() as u64
    }

    /// Open drafts are neither discarded nor published.
    pub fn is_open(&self) -> bool {
        !self.discarded && !self.published
    }

    fn matches(&self, key: &str) -> bool {
        self.id == key || self.draft_id == key
    }
}

/// An agent with its versions and drafts: the unit every command acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRecord {
    /// The agent document.
    pub agent: Agent,
    /// Published versions, oldest first.
    pub versions: Vec<Version>,
    /// Drafts, oldest first, including discarded and published ones.
    pub drafts: Vec<Draft>,
    /// v2 branches, oldest first; the first is the default `Main` (R069).
    pub branches: Vec<crate::domain::branches::Branch>,
    /// Id of the live branch (R068): exactly one, never archived.
    pub live_branch: ShortStr,
    /// The agent has been served a v2 call and is on the branch model
    /// (LIVE V1, the `auto` versioning mode): its v1 write and list
    /// endpoints answer R075's 409 from then on. Never goes back.
    pub on_branch_model: bool,
    /// Cached prompt scores (`POST /prompt-scoring/score`) by the id of
    /// what was scored: a version or revision id, a v1 draft's `_id`, a
    /// branch draft's id. Metadata: scoring changes no config.
    pub prompt_scores: BTreeMap<String, CachedScore>,
}

/// Creates the record of a new agent: version 1 is published, active and
/// already past its security check (R024). It is also revision 1 of the
/// live default branch `Main` (R069), whose id derives from the agent's.
pub fn new_record(agent: Agent, version_id: ShortStr, config: Config) -> AgentRecord {
    let now = agent.created_at;
    let blocks = blocks_for(&version_id, 1, &SECTIONS, None);
    let main = crate::domain::branches::Branch::main(&agent, &version_id);
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
        config,
        blocks,
        updated_at: now,
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
        prompt_scores: BTreeMap::new(),
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

    pub(crate) fn version_or_404(&self, id: &str) -> Result<&Version, DomainError> {
        self.version(id).ok_or_else(|| DomainError::NotFound("Version not found".into()))
    }

    pub(crate) fn draft_index(&self, key: &str) -> Result<usize, DomainError> {
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
    v.map_or(Ok(()), |s| string_len(field, s, min, max)).map_err(DomainError::Validation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::derived_id;

    /// R067: version 1's blocks (one shared prefix, stored once) and a
    /// later revision's (some sections kept, boxed) give the same ids as
    /// `derived_id`, survive a snapshot round trip in the 13-state form,
    /// and compare equal whatever form they were built in.
    #[test]
    fn blocks_stored_once_or_per_section_give_the_same_ids() {
        let v1 = blocks_for("aa", 1, &SECTIONS, None);
        assert!(matches!(v1.0, BlockPrefixes::Same(_)));
        let v2 = blocks_for("bb", 2, &[SECTIONS[0]], Some(&v1));
        assert!(matches!(v2.0, BlockPrefixes::Each(_)));
        for (i, s) in SECTIONS.iter().enumerate() {
            assert_eq!(v1.get(s), Some(derived_id(&["aa", "1", s])));
            let owner = if i == 0 { ["bb", "2"] } else { ["aa", "1"] };
            assert_eq!(v2.get(s), Some(derived_id(&[owner[0], owner[1], s])));
        }
        assert_eq!(v1.get("nope"), None);
        for b in [&v1, &v2] {
            let json = serde_json::to_value(b).expect("serialized");
            assert_eq!(json.as_array().map(Vec::len), Some(SECTIONS.len()));
            assert_eq!(&serde_json::from_value::<Blocks>(json).expect("restored"), b);
        }
        let all_rotated = blocks_for("cc", 3, &SECTIONS, Some(&v2));
        assert_eq!(all_rotated, blocks_for("cc", 3, &SECTIONS, None));
    }
}
