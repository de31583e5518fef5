//! Concurrency: the organization's limit on simultaneous calls, per-agent
//! reservations per channel, and the slot allocator every call is admitted
//! through (BEHAVIOR R108; the platform's Concurrency guide, "CONC"; spec
//! tag Concurrency: `GET /concurrency`, `PUT /concurrency/reservations`).
//!
//! The limit is the plan's `limits.concurrentCalls`: one pool shared by
//! every call type. An agent may **reserve** slots per channel (webcall,
//! outbound, inbound, chat). Reserved slots are a floor, not a cap: the
//! agent uses its own reserved slots first, then the shared pool (limit
//! minus all reservations); nobody else ever uses them, even while they
//! sit idle (CONC §"Reserved vs. Shared", "Who Can Use What"). Total
//! reservations never exceed the limit ([`apply_update`]); only an admin
//! may change them ([`authorize`]).
//!
//! [`Slots`] is the allocator: pure bookkeeping of live and queued calls
//! with `admit`, `release` and `next_to_start`, so the call engine keeps
//! one limit and one FIFO queue (R108) and asks it who may start. Its
//! order rule is in the `slots` module doc.
//!
//! Not here: agent names (the caller passes a lookup), the role of a key
//! (the store keeps it), timers (the inbound ring window is the engine's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config_rules::type_name;
use super::ids::is_object_id;
use super::role::Role;
use super::{DomainError, Millis};

mod slots;
pub use slots::{Admission, SlotKey, Slots};

/// 403 of `PUT /concurrency/reservations` for a non-admin key (the spec's
/// own description of that response).
pub const ADMIN_REQUIRED: &str = "Admin role required";
/// 400 for an agent that is not one of the organization's (the operation
/// documents no 404; wording as R104's).
pub const UNKNOWN_AGENT: &str = "Agent not found";
/// 400 for a malformed `agentId` (LIVE T3).
pub const INVALID_AGENT_ID: &str = "Invalid agent id";
/// Most items one `PUT /concurrency/reservations` takes (memory bound;
/// inferred, the spec gives only `minItems: 1`).
pub const MAX_UPDATES: usize = 1_000;
/// How long an inbound call rings waiting for a slot before it is
/// disconnected (CONC: "rings for ~30 seconds"), ms. Inbound calls do not
/// queue beyond this.
pub const INBOUND_RING_MS: Millis = 30_000;

/// A call channel, each with its own reservation (CONC FAQ "per call
/// type"). The call engine maps `telephony_outbound` to `Outbound`,
/// `telephony_inbound` to `Inbound`, web sessions to `Webcall` and chat
/// sessions to `Chat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Browser or app voice session.
    Webcall,
    /// Outbound phone call (also campaign dials).
    Outbound,
    /// Inbound phone call: never queues, rings [`INBOUND_RING_MS`] at most.
    Inbound,
    /// Text chat session.
    Chat,
}

impl Channel {
    /// Every channel, in the spec's key order.
    pub const ALL: [Self; 4] = [Self::Webcall, Self::Outbound, Self::Inbound, Self::Chat];

    /// The key in reservation bodies: `webcall`, `outbound`, `inbound`, `chat`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webcall => "webcall",
            Self::Outbound => "outbound",
            Self::Inbound => "inbound",
            Self::Chat => "chat",
        }
    }
}

/// One agent's reserved slots per channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Reserved webcall slots.
    pub webcall: u32,
    /// Reserved outbound slots.
    pub outbound: u32,
    /// Reserved inbound slots.
    pub inbound: u32,
    /// Reserved chat slots.
    pub chat: u32,
}

impl Reservation {
    /// The slots reserved for `channel`.
    pub fn get(&self, channel: Channel) -> u32 {
        match channel {
            Channel::Webcall => self.webcall,
            Channel::Outbound => self.outbound,
            Channel::Inbound => self.inbound,
            Channel::Chat => self.chat,
        }
    }

    /// Sum over the four channels (CONC: "the sum of all four").
    pub fn total(&self) -> u64 {
        Channel::ALL.iter().map(|&c| u64::from(self.get(c))).sum()
    }
}

/// Reservations by agent id; agents without one are absent (a reservation
/// of all zeros removes the agent, as "Remove agent" does).
pub type Reservations = BTreeMap<String, Reservation>;

/// Sum of every agent's reservations (`totalReserved`).
pub fn total_reserved(r: &Reservations) -> u64 {
    r.values().map(Reservation::total).sum()
}

/// `Ok` for an admin or the owner; 403 [`ADMIN_REQUIRED`] for a member.
pub fn authorize(role: Role) -> Result<(), DomainError> {
    role.require(Role::Admin, ADMIN_REQUIRED)
}

/// One item of `PUT /concurrency/reservations`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationUpdate {
    /// The agent (24 hex).
    pub agent_id: String,
    /// Its new reservation, replacing the old one.
    pub reservation: Reservation,
}

fn bad<T>(msg: String) -> Result<T, DomainError> {
    Err(DomainError::Validation(msg))
}

/// A slot count: a non-negative integer (an integral float is fine, as
/// in JSON Schema). Values past `u32::MAX` saturate; the limit check
/// rejects them anyway.
fn count(path: &str, v: Option<&Value>) -> Result<u32, DomainError> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return bad(format!("{path}: Required")) };
    let Some(n) = v.as_f64() else { return bad(format!("{path}: Expected number, received {}", type_name(v))) };
    if n.fract() != 0.0 {
        return bad(format!("{path}: Expected integer, received float"));
    }
    if n < 0.0 {
        return bad(format!("{path}: Number must be greater than or equal to 0"));
    }
    // `as` saturates: an integral float beyond u64 becomes u64::MAX.
    let whole = v.as_u64().unwrap_or(n as u64);
    Ok(u32::try_from(whole).unwrap_or(u32::MAX))
}

fn item(i: usize, v: &Value) -> Result<ReservationUpdate, DomainError> {
    let Some(o) = v.as_object() else {
        return bad(format!("reservations.{i}: Expected object, received {}", type_name(v)));
    };
    let agent_id = match o.get("agentId") {
        None | Some(Value::Null) => return bad(format!("reservations.{i}.agentId: Required")),
        Some(Value::String(s)) if is_object_id(s) => s.clone(),
        Some(Value::String(_)) => return bad(INVALID_AGENT_ID.into()),
        Some(v) => return bad(format!("reservations.{i}.agentId: Expected string, received {}", type_name(v))),
    };
    let c = |ch: Channel| count(&format!("reservations.{i}.{}", ch.as_str()), o.get(ch.as_str()));
    let reservation = Reservation {
        webcall: c(Channel::Webcall)?,
        outbound: c(Channel::Outbound)?,
        inbound: c(Channel::Inbound)?,
        chat: c(Channel::Chat)?,
    };
    Ok(ReservationUpdate { agent_id, reservation })
}

/// Parses the body of `PUT /concurrency/reservations`: `{reservations:
/// [{agentId, webcall, outbound, inbound, chat}]}`, every field required,
/// counts integers ≥ 0, 1 to [`MAX_UPDATES`] items. Errors are 400 and
/// name the field (`reservations.0.chat: Required`, `reservations: Array
/// must contain at least 1 element(s)`); a malformed id is
/// [`INVALID_AGENT_ID`].
pub fn parse_update(body: &Value) -> Result<Vec<ReservationUpdate>, DomainError> {
    let items = match body.get("reservations") {
        None | Some(Value::Null) => return bad("reservations: Required".into()),
        Some(Value::Array(a)) => a,
        Some(v) => return bad(format!("reservations: Expected array, received {}", type_name(v))),
    };
    if items.is_empty() {
        return bad("reservations: Array must contain at least 1 element(s)".into());
    }
    if items.len() > MAX_UPDATES {
        return bad(format!("reservations: Array must contain at most {MAX_UPDATES} element(s)"));
    }
    items.iter().enumerate().map(|(i, v)| item(i, v)).collect()
}

/// The reservations after `updates`, applied in order (a later item for
/// the same agent wins; each replaces that agent's four values; all zeros
/// removes the agent). Errors (400, nothing changes): an agent for which
/// `is_agent` is false ([`UNKNOWN_AGENT`]); a total above `limit`
/// (inferred wording: `Total reserved concurrency (T) exceeds the
/// organization's concurrency limit (L)`), unless the update lowers the
/// total: a plan change may leave reservations above the limit, and
/// giving slots back must stay possible. `updated` in the answer is
/// `updates.len()`.
pub fn apply_update(
    current: &Reservations,
    updates: &[ReservationUpdate],
    limit: u32,
    is_agent: impl Fn(&str) -> bool,
) -> Result<Reservations, DomainError> {
    let mut next = current.clone();
    for u in updates {
        if !is_agent(&u.agent_id) {
            return bad(UNKNOWN_AGENT.into());
        }
        if u.reservation == Reservation::default() {
            next.remove(&u.agent_id);
        } else {
            next.insert(u.agent_id.clone(), u.reservation);
        }
    }
    let total = total_reserved(&next);
    if total > u64::from(limit) && total > total_reserved(current) {
        return bad(format!(
            "Total reserved concurrency ({total}) exceeds the organization's concurrency limit ({limit})"
        ));
    }
    Ok(next)
}

/// An agent's display fields for `GET /concurrency`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentLabel {
    /// `agentName`.
    pub name: String,
    /// `avatarUrl`, or `null`.
    pub avatar_url: Option<String>,
}

/// One item of `data.agents`: exactly `agentId, agentName, avatarUrl,
/// webcall, outbound, inbound, chat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentReservation {
    /// Agent id.
    pub agent_id: String,
    /// Agent name.
    pub agent_name: String,
    /// Avatar URL or `null`.
    pub avatar_url: Option<String>,
    /// The reserved slots, written in place: `webcall, outbound, inbound,
    /// chat`.
    #[serde(flatten)]
    pub slots: Reservation,
}

/// `data` of `GET /concurrency` (its envelope is `{success, data}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// The organization's limit (the plan's `concurrentCalls`).
    pub org_limit: u32,
    /// Sum of every reservation.
    pub total_reserved: u64,
    /// `orgLimit − totalReserved`, at least 0 (a plan change may lower
    /// the limit below the reservations; the pool is then empty).
    pub unreserved_pool: u64,
    /// Agents with a reservation, by agent id.
    pub agents: Vec<AgentReservation>,
}

/// The overview of `limit` and `reservations`, naming agents through
/// `label` (an agent since deleted still shows its id).
pub fn overview(limit: u32, reservations: &Reservations, label: impl Fn(&str) -> AgentLabel) -> Overview {
    let agents = reservations
        .iter()
        .map(|(id, r)| {
            let l = label(id);
            AgentReservation { agent_id: id.clone(), agent_name: l.name, avatar_url: l.avatar_url, slots: *r }
        })
        .collect();
    let total = total_reserved(reservations);
    Overview {
        org_limit: limit,
        total_reserved: total,
        unreserved_pool: u64::from(limit).saturating_sub(total),
        agents,
    }
}

#[cfg(test)]
#[path = "concurrency_props.rs"]
mod props;
