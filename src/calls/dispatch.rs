//! A scripted call's life on the clock: dispatch to a slot or the queue
//! (R108), ringing, the scenario's timeline, the end, analytics (R122),
//! and cancelling (R118, R119). Every step is a clock action holding the
//! organization's [`CallBook`], never the tenant.

use std::sync::Arc;

use serde_json::{json, Map};

use super::{call_start_fields, compile, publish, recording_url, BookRef, Call, Calls, Line};
use crate::domain::call::{transition, CallCommand, CallStatus};
use crate::domain::time::iso;
use crate::domain::{DomainError, Millis};
use crate::events::{CallHub, Milestone};
use crate::scenarios::timeline::Item;
use crate::scenarios::Outcome;
use crate::store::calls::{CallBook, CallTable};

/// How a call ends: status, `disconnectionReason`, `callFailureReason`.
struct End<'a> {
    status: CallStatus,
    reason: &'a str,
    failure: Option<&'a str>,
}

impl Calls {
    /// Stores `call` (`pending`) in `book` and schedules its dispatch at
    /// once. Returns the record as stored.
    pub(super) fn admit(self: &Arc<Self>, book: &BookRef, call: Call, retry_of: Option<&str>) -> Call {
        let now = self.clock().now();
        let call = book.lock().insert(call, Arc::new(CallHub::new()), retry_of);
        self.owners.insert(call.call_id.clone(), Arc::downgrade(book));
        self.schedule_dispatch(book, call.call_id.clone(), now);
        call
    }

    pub(super) fn schedule_dispatch(self: &Arc<Self>, book: &BookRef, call_id: String, at: Millis) {
        let (me, book) = (Arc::clone(self), Arc::clone(book));
        self.clock().schedule(at, move || me.dispatch(&book, &call_id, at));
    }

    fn dispatch(self: &Arc<Self>, book: &BookRef, call_id: &str, at: Millis) {
        let limit = self.limit(book);
        let mut table = book.lock();
        let cmd = if table.may_start(call_id, limit) { CallCommand::Start } else { CallCommand::Queue };
        let Some((call, _)) = table.entry_mut(call_id) else { return };
        let Ok(next) = transition(call.status, cmd, call_id) else { return };
        call.status = next;
        call.updated_at = at;
        if next == CallStatus::InQueue {
            table.enqueue(call_id);
            return;
        }
        call.started_at = Some(at);
        let ring = if call.call_type == super::CallType::Webcall {
            0
        } else {
            (call.scenario.ring_seconds * 1000.0).round() as i64
        };
        table.take_slot(call_id);
        drop(table);
        let (me, book2, id) = (Arc::clone(self), Arc::clone(book), call_id.to_string());
        self.clock().schedule(at + ring, move || me.ring_end(&book2, &id, at + ring));
    }

    fn ring_end(self: &Arc<Self>, book: &BookRef, call_id: &str, at: Millis) {
        let mut table = book.lock();
        let Some((call, hub)) = table.entry_mut(call_id) else { return };
        if call.status != CallStatus::InProgress {
            return;
        }
        let outcome = call.scenario.outcome;
        let end = match outcome {
            Outcome::NoAnswer => {
                Some(End { status: CallStatus::NoAnswer, reason: "dial_no_answer", failure: Some("No answer") })
            }
            Outcome::Busy => {
                Some(End { status: CallStatus::Failed, reason: "connection_error", failure: Some("busy") })
            }
            Outcome::Failed => {
                Some(End { status: CallStatus::Failed, reason: "connection_error", failure: Some("Failed to connect") })
            }
            Outcome::Completed | Outcome::Cancelled => None,
        };
        if let Some(end) = end {
            self.finish(book, &mut table, call_id, &end, at);
            return;
        }
        call.connected_at = Some(at);
        call.updated_at = at;
        publish(hub, &call.call_id, at, "call_start", call_start_fields(call));
        let snapshot = Arc::new(call.clone());
        let tl = compile(&self.store, book, call);
        call.transitions.clone_from(&tl.transitions);
        drop(table);
        self.bus.publish(Milestone::PreConversation, Arc::clone(book.api_key()), snapshot);
        let mut groups: Vec<(u64, Vec<Item>)> = Vec::new();
        for (off, item) in tl.items {
            match groups.last_mut() {
                Some((o, v)) if *o == off => v.push(item),
                _ => groups.push((off, vec![item])),
            }
        }
        for (off, items) in groups {
            let (me, book2, id) = (Arc::clone(self), Arc::clone(book), call_id.to_string());
            let when = at + i64::try_from(off).unwrap_or(0);
            self.clock().schedule(when, move || me.run_items(&book2, &id, when, items));
        }
        let (me, book2, id) = (Arc::clone(self), Arc::clone(book), call_id.to_string());
        let when = at + i64::try_from(tl.end_ms).unwrap_or(0);
        self.clock().schedule(when, move || {
            let mut table = book2.lock();
            let status = match outcome {
                Outcome::Cancelled => CallStatus::Cancelled,
                _ => CallStatus::Completed,
            };
            let reason = table
                .call(&id)
                .and_then(|c| c.scenario.disconnect_reason.clone())
                .unwrap_or_else(|| "user_hangup".into());
            me.finish(&book2, &mut table, &id, &End { status, reason: &reason, failure: None }, when);
        });
    }

    fn run_items(&self, book: &CallBook, call_id: &str, at: Millis, items: Vec<Item>) {
        let mut table = book.lock();
        let Some((call, hub)) = table.entry_mut(call_id) else { return };
        if call.status != CallStatus::InProgress {
            return;
        }
        for item in items {
            match item {
                Item::Event(kind, fields) => publish(hub, &call.call_id, at, kind, fields),
                Item::Transcript(role, content, start) => {
                    let began = call.connected_at.map_or(at, |c| c + i64::try_from(start).unwrap_or(0));
                    call.transcript.push(Line { role, content, at: began });
                }
            }
        }
        call.updated_at = at;
    }

    /// Ends a call: terminal status, `call_end` (and `call_cancelled`,
    /// `call_recording`), frees the slot, dispatches the next queued
    /// call, publishes post-conversation and schedules analytics.
    fn finish(self: &Arc<Self>, book: &BookRef, table: &mut CallTable, call_id: &str, end: &End<'_>, at: Millis) {
        let Some((call, hub)) = table.entry_mut(call_id) else { return };
        // The script's own end still fires after a cancel; it must not
        // end the call twice.
        if call.status.is_terminal() {
            return;
        }
        let was_running = call.status == CallStatus::InProgress;
        call.status = end.status;
        call.ended_at = Some(at);
        call.updated_at = at;
        call.disconnect_reason = Some(end.reason.to_string());
        call.failure_reason = end.failure.map(str::to_string);
        let connected = call.connected_at.is_some();
        call.cost = if connected { call.scenario.cost } else { 0.0 };
        if end.status == CallStatus::Cancelled {
            let fields = Map::from_iter([("metadata".into(), json!({"reason": end.reason}))]);
            publish(hub, call_id, at, "call_cancelled", fields);
        }
        let meta = json!({
            "call_status": end.status.as_str(), "disconnect_reason": end.reason,
            "duration_seconds": call.duration_ms() as f64 / 1000.0, "call_failure_reason": end.failure,
        });
        publish(hub, call_id, at, "call_end", Map::from_iter([("metadata".into(), meta)]));
        if call.recording_ms().is_some_and(|ms| ms > 0) {
            let url = recording_url(&self.public_url(), call_id);
            let fields = Map::from_iter([("recording_url".into(), json!(url)), ("status".into(), json!("available"))]);
            publish(hub, call_id, at, "call_recording", fields);
        }
        hub.close(at);
        let snapshot = Arc::new(call.clone());
        let delay = (call.scenario.analytics.delay_seconds * 1000.0).round() as i64;
        let next = table.release(call_id, was_running);
        self.bus.publish(Milestone::PostConversation, Arc::clone(book.api_key()), Arc::clone(&snapshot));
        for hook in self.finish_hooks.read().iter() {
            let (hook, book2, call) = (Arc::clone(hook), Arc::clone(book), Arc::clone(&snapshot));
            self.clock().schedule(at, move || hook(&book2, &call));
        }
        if let Some(n) = next {
            self.schedule_dispatch(book, n, at);
        }
        if connected {
            let (me, book2, id) = (Arc::clone(self), Arc::clone(book), call_id.to_string());
            self.clock().schedule(at + delay, move || me.run_analytics(&book2, &id, at + delay));
        }
    }

    fn run_analytics(&self, book: &CallBook, call_id: &str, at: Millis) {
        let mut table = book.lock();
        let Some((call, _)) = table.entry_mut(call_id) else { return };
        let ended = iso(call.ended_at.unwrap_or(at));
        call.analytics = crate::call::analytics::evaluate(&call.config, &call.scenario, &ended);
        call.analytics_at = Some(at);
        let snapshot = Arc::new(call.clone());
        drop(table);
        self.bus.publish(Milestone::AnalyticsCompleted, Arc::clone(book.api_key()), snapshot);
    }

    /// Cancels a call (R118 body form, or R119 path form when
    /// `queued_only`). Returns the previous status and the record.
    /// Errors: 404 `No conversation found`; 400 when the call has ended
    /// (or, with `queued_only`, is not queued).
    pub fn cancel(
        self: &Arc<Self>,
        book: &BookRef,
        call_id: &str,
        queued_only: bool,
    ) -> Result<(CallStatus, Call), DomainError> {
        let now = self.clock().now();
        let not_found = || DomainError::NotFound("No conversation found".into());
        let mut table = book.lock();
        let prev = table.call(call_id).ok_or_else(not_found)?.status;
        let cmd = if queued_only { CallCommand::CancelQueued } else { CallCommand::Cancel };
        transition(prev, cmd, call_id)?;
        let end = End { status: CallStatus::Cancelled, reason: "user_hangup", failure: Some("Cancelled by API") };
        self.finish(book, &mut table, call_id, &end, now);
        let call = table.call(call_id).cloned().ok_or_else(not_found)?;
        Ok((prev, call))
    }

    /// Ends a live call through the same path as scripted calls, if
    /// `status` is a legal end from where it is. `false` when it had
    /// already ended.
    pub(super) fn end_live(
        self: &Arc<Self>,
        book: &BookRef,
        call_id: &str,
        status: CallStatus,
        reason: &str,
        failure: Option<&str>,
        at: Millis,
    ) -> bool {
        let mut table = book.lock();
        let current = table.call(call_id).map(|c| c.status);
        let Some(Ok(status)) = current.map(|s| transition(s, CallCommand::Finish(status), call_id)) else {
            return false;
        };
        self.finish(book, &mut table, call_id, &End { status, reason, failure }, at);
        true
    }
}
