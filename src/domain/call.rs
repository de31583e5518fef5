//! A call's status machine (BEHAVIOR R108, R109, R118, R119): the
//! platform's lowercase status enum and the legal moves between statuses.
//!
//! ```text
//! pending ──dispatch──▶ in_progress ──connect/finish──▶ completed | no_answer | failed | cancelled
//!    └────dispatch (no slot)──▶ in_queue ──slot frees──▶ in_progress
//! pending | in_queue ──block (number on the DNC list)──▶ failed
//! cancel (body form): pending | in_queue | in_progress ─▶ cancelled
//! cancel (path form): pending | in_queue ─▶ cancelled
//! ```
//! Terminal statuses absorb every command.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// Call status (R109). `processing` and `active` exist in the enum but the
/// mock never uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// Created, not yet dispatched.
    Pending,
    /// Waiting for a concurrency slot (R108).
    InQueue,
    /// Ringing or talking.
    InProgress,
    /// Ended normally.
    Completed,
    /// Could not connect (or busy).
    Failed,
    /// Rang out.
    NoAnswer,
    /// Cancelled by the API or the user.
    Cancelled,
}

impl CallStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InQueue => "in_queue",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::NoAnswer => "no_answer",
            Self::Cancelled => "cancelled",
        }
    }

    /// `completed`, `failed`, `no_answer` or `cancelled`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::NoAnswer | Self::Cancelled)
    }
}

/// `disconnectionReason` of a call the mock's stop interrupted: the
/// spec's `system_error` (R110). A state snapshot records every call not
/// yet ended this way (`failed`), since no call survives a restart.
pub const INTERRUPTED_REASON: &str = "system_error";

/// `callFailureReason` of an interrupted call (inferred wording; the
/// platform documents only the disconnect reason).
pub const INTERRUPTED_FAILURE: &str = "Call interrupted by a system error";

/// A request to move a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallCommand {
    /// The dispatcher found a free slot.
    Start,
    /// The dispatcher found none.
    Queue,
    /// The script ended the call with this terminal status.
    Finish(CallStatus),
    /// `POST /conversation/cancel` (R118).
    Cancel,
    /// `POST /conversation/{callId}/cancel` (R119): queued calls only.
    CancelQueued,
    /// The dispatcher found the number on the Do-Not-Call list
    /// (`crate::domain::dnc`): the call ends `failed` without dialling.
    Block,
}

/// The status after `cmd`, or why it is refused. Messages are the
/// platform's (R118, R119); `call_id` fills them in.
pub fn transition(status: CallStatus, cmd: CallCommand, call_id: &str) -> Result<CallStatus, DomainError> {
    use CallStatus as S;
    let not_in_queue =
        || DomainError::Validation(format!("Conversation with ID {call_id} is not in queue and cannot be cancelled"));
    match (status, cmd) {
        (S::Pending | S::InQueue, CallCommand::Start) => Ok(S::InProgress),
        (S::Pending, CallCommand::Queue) => Ok(S::InQueue),
        (S::InProgress, CallCommand::Finish(t)) if t.is_terminal() => Ok(t),
        (S::Pending | S::InQueue | S::InProgress, CallCommand::Cancel) => Ok(S::Cancelled),
        (S::Pending | S::InQueue, CallCommand::CancelQueued) => Ok(S::Cancelled),
        (S::Pending | S::InQueue, CallCommand::Block) => Ok(S::Failed),
        (S::InProgress | S::Completed | S::Failed | S::NoAnswer | S::Cancelled, CallCommand::CancelQueued) => {
            Err(not_in_queue())
        }
        (S::Completed | S::Failed | S::NoAnswer | S::Cancelled, CallCommand::Cancel) => Err(DomainError::Validation(
            format!("Conversation with ID {call_id} has already ended and cannot be cancelled"),
        )),
        (S::InQueue | S::InProgress | S::Completed | S::Failed | S::NoAnswer | S::Cancelled, CallCommand::Queue)
        | (
            S::InProgress | S::Completed | S::Failed | S::NoAnswer | S::Cancelled,
            CallCommand::Start | CallCommand::Block,
        )
        | (_, CallCommand::Finish(_)) => {
            Err(DomainError::Conflict(format!("Call {call_id} cannot move from {} by {cmd:?}", status.as_str())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_status() -> impl Strategy<Value = CallStatus> {
        prop_oneof![
            Just(CallStatus::Pending),
            Just(CallStatus::InQueue),
            Just(CallStatus::InProgress),
            Just(CallStatus::Completed),
            Just(CallStatus::Failed),
            Just(CallStatus::NoAnswer),
            Just(CallStatus::Cancelled),
        ]
    }

    fn any_command() -> impl Strategy<Value = CallCommand> {
        prop_oneof![
            Just(CallCommand::Start),
            Just(CallCommand::Queue),
            Just(CallCommand::Cancel),
            Just(CallCommand::CancelQueued),
            Just(CallCommand::Block),
            any_status().prop_map(CallCommand::Finish),
        ]
    }

    proptest! {
        #[test]
        fn terminal_statuses_absorb_every_later_command(cmds in proptest::collection::vec(any_command(), 1..30)) {
            let mut s = CallStatus::Pending;
            let mut ended = None;
            for c in cmds {
                if let Ok(next) = transition(s, c, "CALL-1-abcdef") {
                    prop_assert!(ended.is_none(), "a terminal status moved: {s:?} by {c:?}");
                    s = next;
                }
                if s.is_terminal() && ended.is_none() {
                    ended = Some(s);
                }
            }
            if let Some(e) = ended {
                prop_assert_eq!(s, e);
            }
        }

        #[test]
        fn path_cancel_only_touches_queued_calls(s in any_status()) {
            let r = transition(s, CallCommand::CancelQueued, "CALL-1-abcdef");
            prop_assert_eq!(r.is_ok(), matches!(s, CallStatus::Pending | CallStatus::InQueue));
        }
    }

    #[test]
    fn only_an_undialled_call_can_be_blocked() {
        assert_eq!(transition(CallStatus::Pending, CallCommand::Block, "c"), Ok(CallStatus::Failed));
        assert_eq!(transition(CallStatus::InQueue, CallCommand::Block, "c"), Ok(CallStatus::Failed));
        assert!(transition(CallStatus::InProgress, CallCommand::Block, "c").is_err());
        assert!(transition(CallStatus::Failed, CallCommand::Block, "c").is_err());
    }

    #[test]
    fn cancel_messages_are_the_platforms() {
        let e = transition(CallStatus::InProgress, CallCommand::CancelQueued, "CALL-1-abcdef").unwrap_err();
        assert_eq!(e.to_string(), "Conversation with ID CALL-1-abcdef is not in queue and cannot be cancelled");
        assert!(transition(CallStatus::Completed, CallCommand::Cancel, "c").is_err());
        assert_eq!(transition(CallStatus::InProgress, CallCommand::Cancel, "c"), Ok(CallStatus::Cancelled));
    }
}
