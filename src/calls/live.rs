//! Live calls: calls driven by a realtime session (BEHAVIOR §J) instead of
//! the scripted timeline.
//!
//! A live call is `in_progress` from the moment it exists: a realtime
//! session has already been admitted by its own limit, so it never queues
//! (R108 queues REST-placed web sessions only). It still takes one of the
//! organization's concurrency slots while it runs, so queued calls wait
//! for it. The session publishes events and transcript lines as they
//! happen and ends the call through the same `finish` path as every other
//! call, so the call log, the SSE replay, analytics and the lifecycle
//! milestones (webhooks) are identical whatever closed it.
//!
//! Every operation checks the call is still `in_progress`: a cancel
//! (`POST /conversation/cancel`) or a reset may end it under the session,
//! which then learns it from [`CallEnded`] or the hub's close message.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{call_start_fields, publish, track, BookRef, Call, Calls, Line, NewCall};
use crate::domain::call::{transition, CallCommand, CallStatus};
use crate::domain::Millis;
use crate::events::{CallHub, Milestone};
use crate::scenarios::timeline::Transition;
use crate::store::Tenant;

/// The call is no longer in progress (ended by the session, cancelled, or
/// forgotten by a reset); the session should stop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("call {0} is no longer in progress")]
pub struct CallEnded(pub String);

/// A handle on one live call, held by its session.
#[derive(Clone)]
pub struct LiveCall {
    calls: Arc<Calls>,
    book: BookRef,
    call_id: String,
    hub: Arc<CallHub>,
}

impl std::fmt::Debug for LiveCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCall").field("call_id", &self.call_id).finish_non_exhaustive()
    }
}

impl Calls {
    /// Creates the call that `new` describes (see [`Calls::prepare`]),
    /// already connected at the clock's now: `in_progress`, `call_start`
    /// published, the pre-conversation milestone sent. It takes one of the
    /// organization's slots but never queues. Counts toward the agent's
    /// `totalCalls` like every placed call. Returns the handle and the
    /// record as created (its variables resolved, R154).
    pub fn start_live(self: &Arc<Self>, t: &Tenant, new: NewCall) -> (LiveCall, Call) {
        let mut call = self.new_record(t, new);
        let now = call.created_at;
        let call_id = call.call_id.clone();
        call.status = transition(call.status, CallCommand::Start, &call_id).unwrap_or(CallStatus::InProgress);
        call.started_at = Some(now);
        call.connected_at = Some(now);
        let hub = Arc::new(CallHub::new());
        publish(&hub, &call_id, now, "call_start", call_start_fields(&call));
        let book = Arc::clone(t.calls());
        {
            let mut table = book.lock();
            table.insert(call.clone(), Arc::clone(&hub), None);
            table.take_slot(&call_id);
            track(&book, &call);
        }
        self.owners.insert(call_id.clone(), Arc::downgrade(&book));
        self.bus.publish(Milestone::PreConversation, Arc::clone(book.api_key()), Arc::new(call.clone()));
        let live = LiveCall { calls: Arc::clone(self), book, call_id, hub };
        (live, call)
    }
}

impl LiveCall {
    /// The `CALL-…` id.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The call's event hub (to learn when something else ends the call).
    pub fn hub(&self) -> &Arc<CallHub> {
        &self.hub
    }

    /// Runs `f` on the record if the call is still in progress.
    fn with_running<R>(&self, at: Millis, f: impl FnOnce(&mut Call, &CallHub) -> R) -> Result<R, CallEnded> {
        let mut table = self.book.lock();
        match table.entry_mut(&self.call_id) {
            Some((call, hub)) if call.status == CallStatus::InProgress => {
                call.updated_at = at;
                Ok(f(call, hub))
            }
            _ => Err(CallEnded(self.call_id.clone())),
        }
    }

    /// Publishes an SSE event of type `kind` at `at` (epoch ms) with the
    /// common fields added (R128).
    pub fn event(&self, at: Millis, kind: &str, fields: Map<String, Value>) -> Result<(), CallEnded> {
        self.with_running(at, |c, hub| publish(hub, &c.call_id, at, kind, fields))
    }

    /// Appends a transcript line (`role` is `agent` or `user`) ending at
    /// `at`.
    pub fn line(&self, at: Millis, role: &'static str, content: String) -> Result<(), CallEnded> {
        self.with_running(at, |c, _| c.transcript.push(Line { role, content, at }))
    }

    /// Records a user-to-agent transition (epoch ms in, offsets from
    /// connect stored) for the latency statistics; returns its 1-based
    /// turn index.
    pub fn transition(&self, user_end: Millis, bot_start: Millis) -> Result<u64, CallEnded> {
        self.with_running(bot_start, |c, _| {
            let from = c.connected_at.unwrap_or(user_end);
            let off = |at: Millis| u64::try_from(at - from).unwrap_or(0);
            let turn = c.transitions.len() as u64 + 1;
            c.transitions.push(Transition { turn, user_end: off(user_end), bot_start: off(bot_start) });
            turn
        })
    }

    /// Ends the call at `at` with a terminal `status`, `disconnectionReason`
    /// `reason` and an optional failure reason, through the same path as
    /// scripted calls (call_end, recording, slot, milestone, analytics).
    /// `false` when the call had already ended.
    pub fn end(&self, at: Millis, status: CallStatus, reason: &str, failure: Option<&str>) -> bool {
        self.calls.end_live(&self.book, &self.call_id, status, reason, failure, at)
    }
}
