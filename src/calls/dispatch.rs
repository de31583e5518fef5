//! A scripted call's life on the clock: the Do-Not-Call check, dispatch
//! to a slot or the queue (R108, CONC), ringing, the scenario's timeline,
//! an opt-out, the end, analytics (R122), and cancelling (R118, R119).
//! Every step is a clock action holding the organization's [`CallBook`],
//! never the tenant.
//!
//! Slots: a call asks the book's allocator (`domain::concurrency::Slots`)
//! for one at dispatch; an ended call gives its slot back, and the calls
//! that the release lets start are started at once, in order
//! ([`Calls::start_all`]). A call that held no slot gives nothing back.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{json, Map};

use super::{call_start_fields, compile, publish, recording_url, track, BookRef, Call, CallType, Calls, Line};
use crate::domain::call::{transition, CallCommand, CallStatus};
use crate::domain::concurrency::Admission;
use crate::domain::dnc::{self, BLOCKED_DISCONNECT_REASON, BLOCKED_FAILURE_REASON};
use crate::domain::time::iso;
use crate::domain::{DomainError, Millis};
use crate::events::{CallHub, Milestone};
use crate::scenarios::timeline::Item;
use crate::scenarios::Outcome;
use crate::store::calls::{CallBook, CallTable};

/// How a call ends: status, `disconnectionReason`, `callFailureReason`.
pub(super) struct End<'a> {
    pub(super) status: CallStatus,
    pub(super) reason: &'a str,
    pub(super) failure: Option<&'a str>,
}

impl Calls {
    /// Stores `call` (`pending`) in `book` and schedules its dispatch at
    /// once. Returns the record as stored.
    pub(super) fn admit(self: &Arc<Self>, book: &BookRef, call: Call, retry_of: Option<&str>) -> Call {
        let now = self.clock().now();
        let call = {
            let mut table = book.lock();
            let call = table.insert(call, Arc::new(CallHub::new()), retry_of, false);
            track(book, &call);
            call
        };
        self.owners.insert(call.call_id.clone(), Arc::downgrade(book));
        self.schedule_for(book, &call.call_id, now, move |me, book, id| me.dispatch(book, id, now));
        call
    }

    /// Runs `job(engine, book, call_id)` at `at` (epoch ms) on the clock;
    /// the engine and the book are held (not locked) until then.
    pub(super) fn schedule_for(
        self: &Arc<Self>,
        book: &BookRef,
        call_id: &str,
        at: Millis,
        job: impl FnOnce(&Arc<Self>, &BookRef, &str) + Send + 'static,
    ) {
        let (me, book, id) = (Arc::clone(self), Arc::clone(book), call_id.to_string());
        self.clock().schedule(at, move || job(&me, &book, &id));
    }

    /// A `pending` call is dispatched: a number on the Do-Not-Call list
    /// ends it unanswered ([`Calls::block`]) before it asks for a slot;
    /// otherwise it starts if the allocator gives it a slot, else waits
    /// `in_queue`.
    fn dispatch(self: &Arc<Self>, book: &BookRef, call_id: &str, at: Millis) {
        let mut table = book.lock();
        if table.call(call_id).map(|c| c.status) != Some(CallStatus::Pending)
            || self.block(book, &mut table, call_id, at)
        {
            return;
        }
        match table.admit(call_id) {
            Some(Admission::Started) => self.begin(book, &mut table, call_id, at),
            Some(Admission::Queued) => {
                let Some((call, _)) = table.entry_mut(call_id) else { return };
                if let Ok(next) = transition(call.status, CallCommand::Queue, call_id) {
                    call.status = next;
                    call.updated_at = at;
                }
                track(book, call);
            }
            None => {}
        }
    }

    /// Starts `call_id`, which holds a slot: `in_progress` at `at`. A
    /// realtime session's call connects at once; a scripted one rings
    /// (telephony; web sessions connect at once) and then plays its
    /// scenario.
    pub(super) fn begin(self: &Arc<Self>, book: &BookRef, table: &mut CallTable, call_id: &str, at: Millis) {
        if table.is_live(call_id) {
            self.connect_live(book, table, call_id, at);
            return;
        }
        let Some((call, _)) = table.entry_mut(call_id) else { return };
        let Ok(next) = transition(call.status, CallCommand::Start, call_id) else { return };
        call.status = next;
        call.updated_at = at;
        call.started_at = Some(at);
        track(book, call);
        let ring =
            if call.call_type == CallType::Webcall { 0 } else { (call.scenario.ring_seconds * 1000.0).round() as i64 };
        self.schedule_for(book, call_id, at + ring, move |me, book, id| me.ring_end(book, id, at + ring));
    }

    /// Starts the calls a release (or a new limit or reservations) gave a
    /// slot, in order. Each is checked against the Do-Not-Call list again
    /// (a number listed while the call waited is still never dialled): a
    /// blocked one gives its slot straight back, and whoever that lets
    /// start is started in turn. A loop, not recursion, however long the
    /// queue.
    pub(super) fn start_all(self: &Arc<Self>, book: &BookRef, table: &mut CallTable, started: Vec<String>, at: Millis) {
        let mut ready: VecDeque<String> = started.into();
        while let Some(id) = ready.pop_front() {
            if self.block(book, table, &id, at) {
                ready.extend(table.release(&id));
            } else {
                self.begin(book, table, &id, at);
            }
        }
    }

    /// Ends `call_id` without dialling when it is an outbound phone call to
    /// a number on the organization's Do-Not-Call list, org-wide or for its
    /// agent (`DncList::blocking`): `failed` with
    /// [`BLOCKED_DISCONNECT_REASON`] and [`BLOCKED_FAILURE_REASON`], no
    /// ringing, no `call_start`, cost 0; `blockedBy` holds the entry id.
    /// `true` when it did. Only a call not yet dialled (`pending` or
    /// `in_queue`) can be blocked.
    fn block(self: &Arc<Self>, book: &BookRef, table: &mut CallTable, call_id: &str, at: Millis) -> bool {
        let Some(call) = table.call(call_id) else { return false };
        let Some(to) = call.to.as_deref().filter(|_| call.call_type == CallType::TelephonyOutbound) else {
            return false;
        };
        let Some(entry) = book.dnc().blocking(to, &call.agent_id).map(|e| e.id.clone()) else { return false };
        let Ok(status) = transition(call.status, CallCommand::Block, call_id) else { return false };
        if let Some((call, _)) = table.entry_mut(call_id) {
            call.blocked_by = Some(entry);
        }
        let end = End { status, reason: BLOCKED_DISCONNECT_REASON, failure: Some(BLOCKED_FAILURE_REASON) };
        self.close_record(book, table, call_id, &end, at);
        true
    }

    /// A call whose scenario ends in an opt-out (`optOut`) puts the
    /// customer's number (`to` of an outbound call, `from` of an inbound
    /// one) on the Do-Not-Call list, for its agent or the organization
    /// (source `call_outcome`, `detectedInCallId` the call). Runs under the
    /// call book's lock before the call gives its slot back, so a waiting
    /// call to the same number that starts on that release is blocked.
    fn record_opt_out(&self, book: &CallBook, table: &CallTable, call_id: &str, at: Millis) {
        let Some(call) = table.call(call_id).filter(|c| c.status == CallStatus::InProgress) else { return };
        let Some(scope) = call.scenario.opt_out.map(|o| o.scope) else { return };
        let customer = match call.call_type {
            CallType::TelephonyOutbound => call.to.as_deref(),
            CallType::TelephonyInbound => call.from.as_deref(),
            CallType::Webcall => None,
        };
        let Some(customer) = customer else { return };
        let entry = dnc::opt_out_entry(scope, customer, &call.agent_id, call_id);
        if let Err(e) = book.dnc().add(entry, || self.store.ids().object_id(at), at) {
            tracing::warn!(call_id, "opt-out not recorded: {e}");
        }
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
            let when = at + i64::try_from(off).unwrap_or(0);
            self.schedule_for(book, call_id, when, move |me, book, id| me.run_items(book, id, when, items));
        }
        let when = at + i64::try_from(tl.end_ms).unwrap_or(0);
        self.schedule_for(book, call_id, when, move |me, book, id| {
            let mut table = book.lock();
            let status = match outcome {
                Outcome::Cancelled => CallStatus::Cancelled,
                _ => CallStatus::Completed,
            };
            let reason = table
                .call(id)
                .and_then(|c| c.scenario.disconnect_reason.clone())
                .unwrap_or_else(|| "user_hangup".into());
            me.record_opt_out(book, &table, id, when);
            me.finish(book, &mut table, id, &End { status, reason: &reason, failure: None }, when);
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

    /// Ends a call ([`Calls::close_record`]), gives back its slot or its
    /// place in the queue, and starts the calls that lets start.
    pub(super) fn finish(
        self: &Arc<Self>,
        book: &BookRef,
        table: &mut CallTable,
        call_id: &str,
        end: &End<'_>,
        at: Millis,
    ) {
        if self.close_record(book, table, call_id, end, at) {
            let started = table.release(call_id);
            self.start_all(book, table, started, at);
        }
    }

    /// Ends a call's record (terminal status, reasons, cost) and publishes
    /// what follows ([`Calls::publish_end`]). The slot is the caller's to
    /// release. `false` when the call had already ended.
    fn close_record(
        self: &Arc<Self>,
        book: &BookRef,
        table: &mut CallTable,
        call_id: &str,
        end: &End<'_>,
        at: Millis,
    ) -> bool {
        let Some((call, _)) = table.entry_mut(call_id) else { return false };
        // The script's own end still fires after a cancel; it must not
        // end the call twice.
        if call.status.is_terminal() {
            return false;
        }
        call.status = end.status;
        call.ended_at = Some(at);
        call.updated_at = at;
        call.disconnect_reason = Some(end.reason.to_string());
        call.failure_reason = end.failure.map(str::to_string);
        call.cost = if call.connected_at.is_some() { call.scenario.cost } else { 0.0 };
        track(book, call);
        self.publish_end(book, table, call_id, at);
        true
    }

    /// What follows a call's end, read from its ended record: `call_end`
    /// (and `call_cancelled`, `call_recording`), the closed stream,
    /// post-conversation, the finish hooks, analytics and the call-store
    /// budget (`retention`). The slot is not touched. Also publishes the end of a call a snapshot interrupted,
    /// once restored ([`Calls::resume`]).
    fn publish_end(self: &Arc<Self>, book: &BookRef, table: &mut CallTable, call_id: &str, at: Millis) {
        let Some((call, hub)) = table.entry_mut(call_id) else { return };
        let (status, reason) = (call.status, call.disconnect_reason.clone().unwrap_or_default());
        let connected = call.connected_at.is_some();
        if status == CallStatus::Cancelled {
            let fields = Map::from_iter([("metadata".into(), json!({"reason": reason}))]);
            publish(hub, call_id, at, "call_cancelled", fields);
        }
        let meta = json!({
            "call_status": status.as_str(), "disconnect_reason": reason,
            "duration_seconds": call.duration_ms() as f64 / 1000.0, "call_failure_reason": call.failure_reason,
        });
        publish(hub, call_id, at, "call_end", Map::from_iter([("metadata".into(), meta)]));
        if call.recording_ms().is_some_and(|ms| ms > 0) {
            let url = recording_url(&self.public_url(), call_id);
            let fields = Map::from_iter([("recording_url".into(), json!(url)), ("status".into(), json!("available"))]);
            publish(hub, call_id, at, "call_recording", fields);
        }
        hub.close(at);
        let snapshot = Arc::new(call.clone());
        self.bus.publish(Milestone::PostConversation, Arc::clone(book.api_key()), Arc::clone(&snapshot));
        for hook in self.finish_hooks.read().iter() {
            let (hook, book2, call) = (Arc::clone(hook), Arc::clone(book), Arc::clone(&snapshot));
            self.clock().schedule(at, move || hook(&book2, &call));
        }
        self.schedule_retain(book, call_id, at);
        if connected {
            self.schedule_analytics(book, &snapshot);
        }
    }

    /// Runs the analytics of ended call `call` its scenario's delay after
    /// the end (R122).
    fn schedule_analytics(self: &Arc<Self>, book: &BookRef, call: &Call) {
        let delay = (call.scenario.analytics.delay_seconds * 1000.0).round() as i64;
        let at = call.ended_at.unwrap_or(call.updated_at) + delay;
        self.schedule_for(book, &call.call_id, at, move |me, book, id| me.run_analytics(book, id, at));
    }

    /// Carries on with a restored call book (`crate::store::CallBook::restore`):
    /// registers its calls, feeds them to the analytics index, publishes
    /// the end of the calls the snapshot interrupted, schedules the
    /// analytics of ended calls still waiting for them (R122), and reports
    /// the ended calls to the call-store budget (`retention`).
    pub fn resume(self: &Arc<Self>, book: &BookRef) {
        let calls = book.list(|_| true);
        for c in &calls {
            self.owners.insert(c.call_id.clone(), Arc::downgrade(book));
            track(book, c);
        }
        let unclosed = book.unclosed();
        let mut table = book.lock();
        for c in &unclosed {
            self.publish_end(book, &mut table, &c.call_id, c.ended_at.unwrap_or(c.updated_at));
        }
        drop(table);
        let waiting = calls.iter().filter(|c| c.connected_at.is_some() && c.analytics_at.is_none());
        for c in waiting.filter(|c| !unclosed.iter().any(|u| u.call_id == c.call_id)) {
            self.schedule_analytics(book, c);
        }
        for c in calls.iter().filter(|c| !unclosed.iter().any(|u| u.call_id == c.call_id)) {
            self.retain(book, &c.call_id);
        }
        self.keep_restored_rows(book);
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
