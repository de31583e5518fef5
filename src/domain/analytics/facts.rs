//! [`CallFacts`]: what analytics know about one call. The call engine
//! copies them from its record whenever a call changes (placed, dispatched,
//! ended, cost known) and hands them to [`super::Index::record`]; nothing
//! here reads the engine's own types.

use crate::domain::call::CallStatus;
use crate::domain::Millis;

/// The analytics call type: the `callType` query values (`outbound`,
/// `inbound`, `webcall`), which the call log spells `telephony_outbound`,
/// `telephony_inbound` and `webcall` (R110; chat is logged as webcall).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallKind {
    /// Outbound phone call.
    Outbound,
    /// Inbound phone call.
    Inbound,
    /// Browser, app or chat session.
    Webcall,
}

impl CallKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Outbound, Self::Inbound, Self::Webcall];

    /// The analytics name (`callType` values and log rows).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbound => "outbound",
            Self::Inbound => "inbound",
            Self::Webcall => "webcall",
        }
    }

    /// Parses an analytics name or its call-log spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "outbound" | "telephony_outbound" => Some(Self::Outbound),
            "inbound" | "telephony_inbound" => Some(Self::Inbound),
            "webcall" => Some(Self::Webcall),
            _ => None,
        }
    }
}

/// How an ended call counts (rule A2). Live calls have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `completed`: the callee picked up and the call ran to its end.
    Answered,
    /// `no_answer`: rang out.
    NoAnswer,
    /// `failed`: could not connect, or busy.
    Failed,
    /// `cancelled`: by the API, a campaign pause or the user.
    Cancelled,
}

impl Outcome {
    /// The outcome of a call in `status`; `None` while it is live.
    pub fn of(status: CallStatus) -> Option<Self> {
        match status {
            CallStatus::Completed => Some(Self::Answered),
            CallStatus::NoAnswer => Some(Self::NoAnswer),
            CallStatus::Failed => Some(Self::Failed),
            CallStatus::Cancelled => Some(Self::Cancelled),
            CallStatus::Pending | CallStatus::InQueue | CallStatus::InProgress => None,
        }
    }
}

/// The fields of one call that analytics read. Times are epoch ms (UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct CallFacts {
    /// `CALL-<ms>-<hex6>`.
    pub call_id: String,
    /// Agent id (24 hex).
    pub agent_id: String,
    /// The campaign that placed the call, if any.
    pub campaign_id: Option<String>,
    /// Call type.
    pub kind: CallKind,
    /// Current status.
    pub status: CallStatus,
    /// Caller number (E.164); absent for web calls.
    pub from: Option<String>,
    /// Callee number (E.164); absent for web calls.
    pub to: Option<String>,
    /// `createdAt`: when the call was placed. Every range filter uses it (A5).
    pub created_at: Millis,
    /// Dispatched (took a concurrency slot and started ringing).
    pub started_at: Option<Millis>,
    /// Answered.
    pub connected_at: Option<Millis>,
    /// Ended.
    pub ended_at: Option<Millis>,
    /// `callCost`, in credits.
    pub cost: f64,
    /// `retryAttemptNumber`: 0 for the first attempt.
    pub attempt: u32,
    /// The call id of the first attempt of the retry family (its own id for
    /// a first attempt).
    pub family: String,
    /// A test call (R107); counted like any other.
    pub is_test: bool,
    /// `disconnectionReason`.
    pub disconnect_reason: Option<String>,
    /// Mean turn latency in ms (`turnLatencyMetrics.avgLatency`), 0 without
    /// turns.
    pub avg_latency_ms: f64,
}

impl CallFacts {
    /// Talk time in ms: connect to end, 0 if it never connected.
    pub fn duration_ms(&self) -> u64 {
        match (self.connected_at, self.ended_at) {
            (Some(c), Some(e)) => u64::try_from(e - c).unwrap_or(0),
            _ => 0,
        }
    }

    /// How the call counts, `None` while it is live.
    pub fn outcome(&self) -> Option<Outcome> {
        Outcome::of(self.status)
    }

    /// The organization's number on the call (rule A8).
    pub fn line(&self) -> Option<&str> {
        match self.kind {
            CallKind::Outbound => self.from.as_deref(),
            CallKind::Inbound => self.to.as_deref(),
            CallKind::Webcall => None,
        }
    }

    /// The customer's number on the call (rule A8).
    pub fn customer(&self) -> Option<&str> {
        match self.kind {
            CallKind::Outbound => self.to.as_deref(),
            CallKind::Inbound => self.from.as_deref(),
            CallKind::Webcall => None,
        }
    }

    /// `callCost` in millionths of a credit.
    pub fn cost_micros(&self) -> i64 {
        let m = (self.cost * 1_000_000.0).round();
        if m.is_finite() {
            m as i64
        } else {
            0
        }
    }
}

/// Whole seconds of `ms`, rounded half up: `GET /conversation`'s `duration`.
pub fn whole_seconds(ms: u64) -> u64 {
    (ms + 500) / 1000
}

/// Short call (rule A3): under 30 whole seconds.
pub fn is_short(ms: u64) -> bool {
    whole_seconds(ms) < 30
}

/// Long call (rule A3): 300 whole seconds or more.
pub fn is_long(ms: u64) -> bool {
    whole_seconds(ms) >= 300
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_types_accept_both_spellings() {
        assert_eq!(CallKind::parse("outbound"), Some(CallKind::Outbound));
        assert_eq!(CallKind::parse("telephony_inbound"), Some(CallKind::Inbound));
        assert_eq!(CallKind::parse("fax"), None);
        for k in CallKind::ALL {
            assert_eq!(CallKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn only_ended_calls_have_an_outcome() {
        assert_eq!(Outcome::of(CallStatus::Completed), Some(Outcome::Answered));
        assert_eq!(Outcome::of(CallStatus::InQueue), None);
        assert_eq!(Outcome::of(CallStatus::InProgress), None);
    }

    #[test]
    fn short_and_long_follow_the_call_logs_whole_seconds() {
        assert!(is_short(29_499) && !is_short(29_500));
        assert!(!is_long(299_499) && is_long(299_500));
    }
}
