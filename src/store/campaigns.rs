//! One organization's audiences and campaigns (BEHAVIOR §H, §I): the
//! records and the [`CampaignBook`] that holds them.
//!
//! Invariants: ids are unique per kind; listing orders are insertion
//! orders (audiences are listed newest first); a campaign's agent and
//! contacts are fixed at creation (R173). The book is plain data behind
//! the tenant's lock: no clock reads (callers pass `now`), no locks inside.
//! Dialling, pausing and retries run in `crate::campaigns` (the engine).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::campaign::{Progress, Trigger};
use crate::domain::list_order::Chronology;
use crate::domain::Millis;

pub mod audiences;

/// One audience member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// 24-hex member id.
    pub id: String,
    /// The CSV columns, as strings.
    pub data: Map<String, Value>,
}

/// An uploaded contact list (R177).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Audience {
    /// 24-hex id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description (`""` when not given).
    pub description: String,
    /// The column holding phone numbers.
    pub phone_col: String,
    /// The column identifying a member, if given.
    pub id_col: Option<String>,
    /// Column names of the uploaded CSV.
    pub columns: Vec<String>,
    /// Members, in upload order.
    pub members: Vec<Member>,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// Last change, epoch ms.
    pub updated_at: Millis,
}

impl Audience {
    /// The phone number of `m` as stored (a `+` is optional, L-I4).
    pub fn phone_of<'a>(&self, m: &'a Member) -> &'a str {
        m.data.get(&self.phone_col).and_then(Value::as_str).unwrap_or("")
    }
}

/// A campaign's copy of one member, taken at creation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// Audience member id.
    pub member_id: String,
    /// Phone as stored in the audience.
    pub phone: String,
    /// The member's CSV columns.
    pub data: Map<String, Value>,
    /// The call now placed for this member, if any.
    pub current_call: Option<String>,
    /// The last attempt that rang (the parent of the next retry, R121).
    pub last_attempt: Option<String>,
}

/// A call the campaign placed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignCall {
    /// `CALL-…` id.
    pub call_id: String,
    /// Index into the campaign's contacts.
    pub member: usize,
    /// 0 for the first attempt.
    pub attempt: u32,
    /// Cancelled while queued by a pause (not an attempt, R166).
    pub cancelled_by_pause: bool,
}

/// One entry of `events[]` (R170).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignEvent {
    /// 24-hex id.
    pub id: String,
    /// `eventAction`, e.g. `campaign_started`.
    #[serde(deserialize_with = "event_action")]
    pub action: crate::domain::static_names::Name,
    /// `triggerSource`.
    pub trigger: Trigger,
    /// When, epoch ms.
    pub at: Millis,
}

/// A campaign (R159–R161).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    /// 24-hex id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description (`""` when not given).
    pub description: String,
    /// The agent; fixed at creation (R173).
    pub agent_id: String,
    /// The audience.
    pub audience_id: String,
    /// The audience's name at creation (shown if it is deleted later).
    pub audience_name: String,
    /// Caller-id product ids to rotate through; empty uses the agent's.
    pub phone_number_ids: Vec<String>,
    /// `scheduledAt`, epoch ms.
    pub scheduled_at: Option<Millis>,
    /// `retryDelay`, minutes.
    pub retry_delay_min: u32,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// Status and member progress (pure rules).
    pub progress: Progress,
    /// The audience members at creation (`participantsCount`).
    pub contacts: Vec<Contact>,
    /// Every call placed, in order.
    pub calls: Vec<CampaignCall>,
    /// `events[]`.
    pub events: Vec<CampaignEvent>,
}

/// One organization's audiences and campaigns. A snapshot holds it as
/// [`CampaignBookFile`] (both lists in listing order); reading one back
/// checks the invariants.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "CampaignBookFile")]
pub struct CampaignBook {
    audiences: HashMap<String, Audience>,
    audience_order: Vec<String>,
    campaigns: HashMap<String, Campaign>,
    campaign_order: Vec<String>,
    /// Whether `campaign_order` is also `createdAt` order (always, unless
    /// a campaign was stored with an earlier `createdAt` than one before
    /// it: a real clock set back, or a snapshot written so).
    created: Chronology,
}

/// The campaign book in a snapshot: audiences and campaigns, oldest first.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignBookFile<A = Audience, C = Campaign> {
    /// Audiences, oldest first.
    pub audiences: Vec<A>,
    /// Campaigns, oldest first.
    pub campaigns: Vec<C>,
}

impl Serialize for CampaignBook {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let audiences = self.audience_order.iter().filter_map(|id| self.audiences.get(id)).collect();
        let campaigns = self.campaigns().collect();
        CampaignBookFile::<&Audience, &Campaign> { audiences, campaigns }.serialize(s)
    }
}

impl TryFrom<CampaignBookFile> for CampaignBook {
    type Error = String;

    /// Rebuilds the book; refuses repeated ids, a campaign whose progress
    /// does not cover its contacts one to one, or a call of a member it
    /// does not have (the dialler indexes contacts by member).
    fn try_from(file: CampaignBookFile) -> Result<Self, String> {
        let mut book = Self::default();
        for a in file.audiences {
            if book.audiences.contains_key(&a.id) {
                return Err(format!("audience {} appears twice", a.id));
            }
            book.insert_audience(a).map_err(|e| e.to_string())?;
        }
        for c in file.campaigns {
            if book.campaigns.contains_key(&c.id) {
                return Err(format!("campaign {} appears twice", c.id));
            }
            if c.progress.members.len() != c.contacts.len() {
                return Err(format!("campaign {}: progress.members must have one entry per contact", c.id));
            }
            if let Some(call) = c.calls.iter().find(|x| x.member >= c.contacts.len()) {
                return Err(format!(
                    "campaign {}: call {} names member {} of {}",
                    c.id,
                    call.call_id,
                    call.member,
                    c.contacts.len()
                ));
            }
            book.insert_campaign(c);
        }
        Ok(book)
    }
}

fn event_action<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    crate::domain::static_names::one_of(d, &crate::domain::campaign::EVENT_ACTIONS)
}

impl CampaignBook {
    /// A campaign by id.
    pub fn campaign(&self, id: &str) -> Option<&Campaign> {
        self.campaigns.get(id)
    }

    /// Every campaign, oldest first (in the order they were stored).
    pub fn campaigns(&self) -> impl DoubleEndedIterator<Item = &Campaign> {
        self.campaign_order.iter().filter_map(|id| self.campaigns.get(id))
    }

    /// How many campaigns there are (`totalCampaignCount`), O(1).
    pub fn campaign_count(&self) -> usize {
        self.campaigns.len()
    }

    /// Whether [`CampaignBook::campaigns`] comes in `createdAt` order,
    /// ties in storing order: `GET /campaign`'s default sort can then
    /// walk it instead of sorting (R171).
    pub fn created_in_order(&self) -> bool {
        self.created.in_order()
    }

    /// The first non-terminal campaign passing `f` (an "active" one for
    /// the archive and delete guards, R035, R185).
    pub fn active_campaign(&self, f: impl Fn(&Campaign) -> bool) -> Option<&Campaign> {
        self.campaigns().find(|c| !c.progress.status.is_terminal() && f(c))
    }

    /// A campaign by id, to change it.
    pub fn campaign_mut(&mut self, id: &str) -> Option<&mut Campaign> {
        self.campaigns.get_mut(id)
    }

    /// Stores a new campaign (last in the listing order).
    pub fn insert_campaign(&mut self, c: Campaign) {
        self.created.append(c.created_at);
        self.campaign_order.push(c.id.clone());
        self.campaigns.insert(c.id.clone(), c);
    }

    /// Removes a campaign and returns it (R172).
    pub fn remove_campaign(&mut self, id: &str) -> Option<Campaign> {
        let c = self.campaigns.remove(id)?;
        self.campaign_order.retain(|x| x != id);
        Some(c)
    }
}
