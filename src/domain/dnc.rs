//! An organization's Do-Not-Call list (spec tag DNC, `GET /dnc`) and the
//! rule that keeps its numbers from being dialled.
//!
//! An entry flags one phone number for the whole organization or for one
//! agent. Entries are created the two ways the spec names ("via call
//! outcome or manual upload"): a call whose scenario ends in an opt-out
//! ([`opt_out_entry`], source `call_outcome`, `detectedInCallId` set) and
//! an upload through the mock's control API ([`parse_upload`], source
//! `manual_upload`). The platform has no public write endpoint.
//!
//! Numbers are matched in E.164: `14155550123` and `+14155550123` are the
//! same number ([`normalize`]); the list stores the `+` form. One number
//! has at most one entry per scope, so adding it again changes nothing.
//!
//! Enforcement ([`DncList::blocking`]): an outbound call or a campaign dial
//! to a number with an org-wide entry, or an entry for the calling agent,
//! is not dialled. It ends `failed` with [`BLOCKED_DISCONNECT_REASON`] and
//! [`BLOCKED_FAILURE_REASON`] (inferred: the spec names no DNC reason; its
//! status enum has no `blocked`, L-E3, so the dashboard's "Blocked" pill is
//! a `failed` call whose `callFailureReason` says why).
//!
//! Invariants: at most [`MAX_ENTRIES`] entries; an upload is all or
//! nothing; every stored number passes [`super::ids::is_phone`].
//!
//! Not here: agent existence (the store checks `agentId` against its
//! agents) and id generation (callers pass ids in).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::audience::to_e164;
use super::config_rules::type_name;
use super::ids::{is_object_id, is_phone};
use super::{DomainError, Millis};

mod query;
pub use query::{parse_query, DncItem, DncPage, DncQuery, Pagination, RawDncQuery, SortField, SortOrder};

/// Most entries one organization's list holds (memory bound; inferred).
pub const MAX_ENTRIES: usize = 10_000;
/// Page size when `offset` is absent (spec default `"50"`).
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page size; `offset` is clamped to `1..=500` (spec).
pub const MAX_PAGE_SIZE: usize = 500;
/// `disconnectionReason` of a call the list blocked (R110's enum; inferred).
pub const BLOCKED_DISCONNECT_REASON: &str = "system_error";
/// `callFailureReason` of a call the list blocked (inferred wording, from
/// the spec's "Do-Not-Call" tag text).
pub const BLOCKED_FAILURE_REASON: &str = "Number is on the Do-Not-Call list";
/// 400 for a malformed `agentId` (LIVE T3's message for agent ids).
pub const INVALID_AGENT_ID: &str = "Invalid agent id";
/// 404 for an `agentId` that is not one of the caller's agents (the
/// operation's documented 404 example).
pub const UNKNOWN_AGENT: &str = "Resource not found";
/// 400 when an upload would grow the list past [`MAX_ENTRIES`].
pub const LIST_FULL: &str = "The Do-Not-Call list is full (10000 entries)";

/// How an entry was created (`source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A call ended in an opt-out (`call_outcome`).
    CallOutcome,
    /// Uploaded by hand (`manual_upload`).
    ManualUpload,
}

/// Who an opt-out protects, as a scenario states it (`optOut.scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptOutScope {
    /// Only the agent that took the call may not call again (default).
    #[default]
    Agent,
    /// No agent of the organization may call again.
    Organization,
}

/// One stored entry. `agent_id: None` is an org-wide entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DncEntry {
    /// 24-hex id (`id` on the wire, not `_id`).
    pub id: String,
    /// The agent it is scoped to; `None` for the whole organization.
    pub agent_id: Option<String>,
    /// E.164 with `+`.
    pub phone_number: String,
    /// How it was created.
    pub source: Source,
    /// The call that detected the opt-out (call outcomes only).
    pub detected_in_call_id: Option<String>,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// Last change, epoch ms.
    pub updated_at: Millis,
}

/// A request to add an entry, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The number as given (with or without `+`).
    pub phone_number: String,
    /// Agent scope; `None` for org-wide.
    pub agent_id: Option<String>,
    /// How it is created.
    pub source: Source,
    /// The detecting call, for call outcomes.
    pub detected_in_call_id: Option<String>,
}

/// What an upload did: `{added, skipped}` (skipped = already listed in
/// that scope, or repeated within the upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct UploadSummary {
    /// New entries.
    pub added: usize,
    /// Numbers that were already on the list in the same scope.
    pub skipped: usize,
}

/// `+<digits>` for a dialable number with or without its `+`
/// ([`is_phone`] after trimming), else `None`.
pub fn normalize(raw: &str) -> Option<String> {
    let s = raw.trim();
    is_phone(s).then(|| to_e164(s))
}

/// The entry a call's opt-out creates (source `call_outcome`): the
/// customer's number (`to` of an outbound call, `from` of an inbound one),
/// scoped to the call's agent unless the scenario says `organization`.
pub fn opt_out_entry(scope: OptOutScope, customer: &str, agent_id: &str, call_id: &str) -> NewEntry {
    NewEntry {
        phone_number: customer.to_string(),
        agent_id: match scope {
            OptOutScope::Agent => Some(agent_id.to_string()),
            OptOutScope::Organization => None,
        },
        source: Source::CallOutcome,
        detected_in_call_id: Some(call_id.to_string()),
    }
}

/// Parses a control-API upload: `{"phoneNumbers": [string, ...] (1 to
/// [`MAX_ENTRIES`]), "agentId"?: 24-hex}`. Messages name the field
/// (`phoneNumbers.2: Invalid phone number`); an `agentId` that is not one
/// of the organization's agents is the store's check.
pub fn parse_upload(body: &Value) -> Result<Vec<NewEntry>, DomainError> {
    let bad = |m: String| Err(DomainError::Validation(m));
    let agent_id = match body.get("agentId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_object_id(s) => Some(s.clone()),
        Some(Value::String(_)) => return bad(INVALID_AGENT_ID.into()),
        Some(v) => return bad(format!("agentId: Expected string, received {}", type_name(v))),
    };
    let numbers = match body.get("phoneNumbers") {
        None | Some(Value::Null) => return bad("phoneNumbers: Required".into()),
        Some(Value::Array(a)) => a,
        Some(v) => return bad(format!("phoneNumbers: Expected array, received {}", type_name(v))),
    };
    if numbers.is_empty() || numbers.len() > MAX_ENTRIES {
        return bad(format!("phoneNumbers: Array must contain between 1 and {MAX_ENTRIES} element(s)"));
    }
    let mut out = Vec::with_capacity(numbers.len());
    for (i, n) in numbers.iter().enumerate() {
        let Some(s) = n.as_str() else {
            return bad(format!("phoneNumbers.{i}: Expected string, received {}", type_name(n)));
        };
        if normalize(s).is_none() {
            return bad(format!("phoneNumbers.{i}: Invalid phone number"));
        }
        let new = NewEntry {
            phone_number: s.trim().to_string(),
            agent_id: agent_id.clone(),
            source: Source::ManualUpload,
            detected_in_call_id: None,
        };
        out.push(new);
    }
    Ok(out)
}

/// One organization's list, keyed by E.164 number (each number holds one
/// entry per scope). Serializable, so a snapshot can hold it; read back,
/// `len` must count the entries, each entry must sit under its own number
/// and a number holds at most one entry per scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredDncList")]
pub struct DncList {
    by_phone: BTreeMap<String, Vec<DncEntry>>,
    len: usize,
}

/// [`DncList`] as a snapshot holds it, before its invariants are checked.
#[derive(Deserialize)]
struct StoredDncList {
    by_phone: BTreeMap<String, Vec<DncEntry>>,
    len: usize,
}

impl TryFrom<StoredDncList> for DncList {
    type Error = String;

    fn try_from(s: StoredDncList) -> Result<Self, String> {
        let mut count = 0;
        for (phone, entries) in &s.by_phone {
            if entries.is_empty() {
                return Err(format!("dnc: {phone} holds no entry"));
            }
            for (i, e) in entries.iter().enumerate() {
                if &e.phone_number != phone {
                    return Err(format!("dnc: entry {} ({}) is filed under {phone}", e.id, e.phone_number));
                }
                if entries[..i].iter().any(|o| o.agent_id == e.agent_id) {
                    return Err(format!("dnc: {phone} is listed twice for the same scope"));
                }
            }
            count += entries.len();
        }
        if count != s.len {
            return Err(format!("dnc: len is {}, but the list holds {count} entries", s.len));
        }
        Ok(Self { by_phone: s.by_phone, len: s.len })
    }
}

impl DncList {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list has no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every entry, by number then scope.
    pub fn entries(&self) -> impl Iterator<Item = &DncEntry> {
        self.by_phone.values().flatten()
    }

    /// The entry that forbids `agent_id` to dial `phone`: an org-wide one
    /// first, else one for that agent. `None` for an unlisted or
    /// undialable number. This is the enforcement rule.
    pub fn blocking(&self, phone: &str, agent_id: &str) -> Option<&DncEntry> {
        let listed = self.by_phone.get(&normalize(phone)?)?;
        listed
            .iter()
            .find(|e| e.agent_id.is_none())
            .or_else(|| listed.iter().find(|e| e.agent_id.as_deref() == Some(agent_id)))
    }

    fn contains(&self, phone: &str, agent_id: Option<&str>) -> bool {
        self.by_phone.get(phone).is_some_and(|v| v.iter().any(|e| e.agent_id.as_deref() == agent_id))
    }

    /// Adds one entry at `now`, taking its id from `id` only when it is
    /// new. `Ok(true)` when added, `Ok(false)` when the number was already
    /// listed in that scope (nothing changes). Errors (400): an undialable
    /// number ("Invalid phone number", R104), a full list ([`LIST_FULL`]).
    pub fn add(&mut self, new: NewEntry, id: impl FnOnce() -> String, now: Millis) -> Result<bool, DomainError> {
        let phone = normalize(&new.phone_number).ok_or_else(|| DomainError::invalid("Invalid phone number"))?;
        if self.contains(&phone, new.agent_id.as_deref()) {
            return Ok(false);
        }
        if self.len >= MAX_ENTRIES {
            return Err(DomainError::invalid(LIST_FULL));
        }
        let entry = DncEntry {
            id: id(),
            agent_id: new.agent_id,
            phone_number: phone.clone(),
            source: new.source,
            detected_in_call_id: new.detected_in_call_id,
            created_at: now,
            updated_at: now,
        };
        self.by_phone.entry(phone).or_default().push(entry);
        self.len += 1;
        Ok(true)
    }

    /// Adds an upload, all or nothing: every number is checked and the
    /// capacity counted before anything is written.
    pub fn add_all(
        &mut self,
        news: Vec<NewEntry>,
        mut id: impl FnMut() -> String,
        now: Millis,
    ) -> Result<UploadSummary, DomainError> {
        let mut fresh = std::collections::BTreeSet::new();
        for n in &news {
            let phone = normalize(&n.phone_number).ok_or_else(|| DomainError::invalid("Invalid phone number"))?;
            if !self.contains(&phone, n.agent_id.as_deref()) {
                fresh.insert((phone, n.agent_id.clone()));
            }
        }
        if self.len + fresh.len() > MAX_ENTRIES {
            return Err(DomainError::invalid(LIST_FULL));
        }
        let mut summary = UploadSummary::default();
        for n in news {
            if self.add(n, &mut id, now)? {
                summary.added += 1;
            } else {
                summary.skipped += 1;
            }
        }
        Ok(summary)
    }

    /// Forgets every entry (control API).
    pub fn clear(&mut self) {
        self.by_phone.clear();
        self.len = 0;
    }
}

#[cfg(test)]
#[path = "dnc_props.rs"]
mod props;
