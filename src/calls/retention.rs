//! The call-store budget (`--call-store-bytes`; rules CB1–CB4 of
//! `crate::domain::call_budget`): every call that ends is reported with
//! its approximate bytes, and the calls the budget gives up, oldest end
//! first, are evicted from their organization's book.
//!
//! A clock action of its own at the end time, after the finish hooks, so
//! billing and the campaign dialler have seen the call. Locks: a call book
//! is read, released, then the budget is taken and released, then each
//! victim's book is locked in turn; the budget is never held with a book.
//!
//! An evicted call's analytics row goes on to a second budget of its own
//! (`--analytics-bytes`, rule CB5): when that one is full, the rows of the
//! calls that ended first leave their organization's analytics index.
//! Taken alone too, after the call budget is released.
//!
//! A reset organization's ended calls stay in the budget's count until
//! they are popped (their book is gone, so nothing is evicted for them).
//! They ended before any later call, so they are popped before such a
//! call is evicted; only a clock set back could make them cost a newer
//! call its place.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::{BookRef, Calls};
use crate::domain::analytics::ROW_BYTES;
use crate::domain::call_budget::CallBudget;
use crate::domain::Millis;
use crate::store::CallBook;

/// The server's ended calls by end time, each with its book, call id and
/// end time (epoch ms).
pub(super) type Budget = Mutex<CallBudget<(Weak<CallBook>, String, Millis)>>;

/// The analytics rows of the server's evicted calls by end time, each
/// with its book and call id (CB5).
pub(super) type RowBudget = Mutex<CallBudget<(Weak<CallBook>, String)>>;

impl Calls {
    /// The engine with a budget of `bytes` for the ended calls of every
    /// organization together (`--call-store-bytes`; 0 keeps none).
    pub fn with_call_store_bytes(mut self, bytes: usize) -> Self {
        self.budget = Mutex::new(CallBudget::new(bytes));
        self
    }

    /// The engine with a budget of `bytes` for the analytics rows of the
    /// evicted calls of every organization together (`--analytics-bytes`,
    /// CB5; each row counts [`ROW_BYTES`]; 0 keeps none, so an evicted
    /// call leaves the figures with it).
    pub fn with_analytics_bytes(mut self, bytes: usize) -> Self {
        self.rows = Mutex::new(CallBudget::new(bytes));
        self
    }

    /// Bytes the evicted calls' analytics rows are counted at (CB5) and how
    /// many there are.
    pub fn kept_rows(&self) -> (usize, usize) {
        let b = self.rows.lock();
        (b.total(), b.len())
    }

    /// Bytes the stored ended calls hold (an estimate, CB2) and how many
    /// there are.
    pub fn stored_ended(&self) -> (usize, usize) {
        let b = self.budget.lock();
        (b.total(), b.len())
    }

    /// Reports ended call `call_id` of `book` to the budget (CB2) and
    /// evicts the calls it gives up (CB3, CB4). Nothing for a call the
    /// book no longer has or that has not ended (CB1).
    pub(super) fn retain(&self, book: &BookRef, call_id: &str) {
        let (ended_at, bytes) = {
            let t = book.lock();
            let Some(ended_at) = t.call(call_id).filter(|c| c.status.is_terminal()).and_then(|c| c.ended_at) else {
                return;
            };
            (ended_at, t.bytes(call_id))
        };
        let victims = self.budget.lock().ended((Arc::downgrade(book), call_id.to_string(), ended_at), ended_at, bytes);
        for (book, id, ended_at) in victims {
            if let Some(b) = book.upgrade() {
                b.lock().evict(&id);
            }
            self.owners.remove(&id);
            self.keep_row(book, id, ended_at);
        }
    }

    /// Hands the analytics row of evicted call `call_id` (ended at
    /// `ended_at`) to the row budget (CB5) and takes the rows it gives up
    /// out of their organization's index.
    fn keep_row(&self, book: Weak<CallBook>, call_id: String, ended_at: Millis) {
        let gone = self.rows.lock().ended((book, call_id), ended_at, ROW_BYTES);
        for (book, id) in gone {
            if let Some(book) = book.upgrade() {
                book.analytics().forget(&id);
            }
        }
    }

    /// After a restore: hands the rows `book`'s index holds for calls the
    /// book no longer stores (saved with the organization) to the row
    /// budget, so they stay bounded (CB5).
    pub(super) fn keep_restored_rows(&self, book: &BookRef) {
        let rows = book.analytics().read().ended_calls();
        let evicted: Vec<(String, Millis)> = {
            let t = book.lock();
            rows.into_iter().filter(|(id, _)| t.call(id).is_none()).collect()
        };
        for (id, ended_at) in evicted {
            self.keep_row(Arc::downgrade(book), id, ended_at);
        }
    }

    /// Schedules [`Calls::retain`] of `call_id` at `at` (epoch ms).
    pub(super) fn schedule_retain(self: &Arc<Self>, book: &BookRef, call_id: &str, at: crate::domain::Millis) {
        self.schedule_for(book, call_id, at, |me, book, id| me.retain(book, id));
    }
}
