//! Live calls: calls driven by a realtime session (BEHAVIOR §J) instead of
//! the scripted timeline.
//!
//! A live call asks for a concurrency slot like every call (its agent and
//! channel, webcall or chat): with one it is `in_progress` from the moment
//! it exists; without, it waits `in_queue` behind the calls already
//! waiting (CONC: webcall and chat requests queue, they are not dropped)
//! and connects when the allocator gives it a slot: `call_start` on its
//! hub tells the session, which holds back `session.created` until then.
//! A session whose client leaves while it waits ends the call `cancelled`
//! ([`LiveCall::abandon`]), giving up its place. So a realtime session
//! never holds a slot beyond the limit. The session publishes events and
//! transcript lines as they happen and ends the call through the same
//! `finish` path as every other call, so the call log, the SSE replay,
//! analytics and the lifecycle milestones (webhooks) are identical
//! whatever closed it.
//!
//! Every operation checks the call is still `in_progress`: a cancel
//! (`POST /conversation/cancel`) or a reset may end it under the session,
//! which then learns it from [`CallEnded`] or the hub's close message.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::dispatch::End;
use super::{call_start_fields, publish, track, BookRef, Call, Calls, Line, NewCall};
use crate::domain::call::{transition, CallCommand, CallStatus};
use crate::domain::concurrency::Admission;
use crate::domain::Millis;
use crate::events::{CallHub, Milestone};
use crate::scenarios::timeline::Transition;
use crate::store::calls::CallTable;
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
    /// Creates the call that `new` describes (see [`Calls::prepare`]) at
    /// the clock's now and asks for a slot: with one it is connected at
    /// once (`in_progress`, `call_start` published, the pre-conversation
    /// milestone sent); without, it waits `in_queue` and connects the same
    /// way when a slot frees. Counts toward the agent's `totalCalls` like
    /// every placed call. Returns the handle and the record as created
    /// (its variables resolved, R154; `status` says whether it waits).
    pub fn start_live(self: &Arc<Self>, t: &Tenant, new: NewCall) -> (LiveCall, Call) {
        let call = self.new_record(t, new);
        let now = call.created_at;
        let call_id = call.call_id.clone();
        let hub = Arc::new(CallHub::new());
        let book = Arc::clone(t.calls());
        let call = {
            let mut table = book.lock();
            let call = table.insert(call, Arc::clone(&hub), None, true);
            track(&book, &call);
            match table.admit(&call_id) {
                Some(Admission::Started) => self.connect_live(&book, &mut table, &call_id, now),
                Some(Admission::Queued) | None => {
                    if let Some((c, _)) = table.entry_mut(&call_id) {
                        c.status = transition(c.status, CallCommand::Queue, &call_id).unwrap_or(c.status);
                        track(&book, c);
                    }
                }
            }
            table.call(&call_id).cloned().unwrap_or(call)
        };
        self.owners.insert(call_id.clone(), Arc::downgrade(&book));
        let live = LiveCall { calls: Arc::clone(self), book, call_id, hub };
        (live, call)
    }

    /// Connects live call `call_id`, which holds a slot, at `at`:
    /// `in_progress`, `call_start` on its hub (the session waits for it),
    /// the pre-conversation milestone.
    pub(super) fn connect_live(&self, book: &BookRef, table: &mut CallTable, call_id: &str, at: Millis) {
        let Some((call, hub)) = table.entry_mut(call_id) else { return };
        let Ok(next) = transition(call.status, CallCommand::Start, call_id) else { return };
        call.status = next;
        call.started_at = Some(at);
        call.connected_at = Some(at);
        call.updated_at = at;
        track(book, call);
        publish(hub, call_id, at, "call_start", call_start_fields(call));
        let snapshot = Arc::new(call.clone());
        self.bus.publish(Milestone::PreConversation, Arc::clone(book.api_key()), snapshot);
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

    /// True while the call waits for a concurrency slot (`in_queue`).
    pub fn is_queued(&self) -> bool {
        self.book.lock().call(&self.call_id).is_some_and(|c| c.status == CallStatus::InQueue)
    }

    /// The session left (or the server shuts down) while the call still
    /// waited for a slot: it ends `cancelled` (`user_hangup`, failure
    /// reason `failure`) and gives up its place in the queue. `false` when
    /// it was no longer waiting.
    pub fn abandon(&self, at: Millis, failure: &str) -> bool {
        let mut table = self.book.lock();
        let waiting = table.call(&self.call_id).map(|c| c.status) == Some(CallStatus::InQueue);
        if waiting {
            let end = End { status: CallStatus::Cancelled, reason: "user_hangup", failure: Some(failure) };
            self.calls.finish(&self.book, &mut table, &self.call_id, &end, at);
        }
        waiting
    }
}
