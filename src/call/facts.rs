//! What the analytics operations (`/analytics/*`) know about a call:
//! [`Call::facts`] copies the record into the pure
//! [`CallFacts`](crate::domain::analytics::CallFacts) that the
//! organization's analytics index keeps (rules A1–A8 of
//! `crate::domain::analytics`).

use super::{Call, CallType};
use crate::domain::analytics::{CallFacts, CallKind};

impl CallType {
    /// The analytics call type (`outbound`, `inbound`, `webcall`).
    pub fn kind(self) -> CallKind {
        match self {
            Self::TelephonyOutbound => CallKind::Outbound,
            Self::TelephonyInbound => CallKind::Inbound,
            Self::Webcall => CallKind::Webcall,
        }
    }
}

impl Call {
    /// The call as analytics see it now: status, times (epoch ms), both
    /// numbers, campaign, retry family (the first attempt's call id, R121)
    /// and attempt, `callCost` and the mean turn latency.
    pub fn facts(&self) -> CallFacts {
        CallFacts {
            call_id: self.call_id.clone(),
            agent_id: self.agent_id.clone(),
            campaign_id: self.campaign_id.clone(),
            kind: self.call_type.kind(),
            status: self.status,
            from: self.from.clone(),
            to: self.to.clone(),
            created_at: self.created_at,
            started_at: self.started_at,
            connected_at: self.connected_at,
            ended_at: self.ended_at,
            cost: self.cost,
            attempt: self.retry_attempt_number,
            family: self.root_call_id.clone().unwrap_or_else(|| self.call_id.clone()),
            is_test: self.is_test,
            disconnect_reason: self.disconnect_reason.clone(),
            avg_latency_ms: self.avg_latency_ms(),
        }
    }
}
