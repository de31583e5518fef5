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
//! A reset organization's ended calls stay in the budget's count until
//! they are popped (their book is gone, so nothing is evicted for them).
//! They ended before any later call, so they are popped before such a
//! call is evicted; only a clock set back could make them cost a newer
//! call its place.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::{BookRef, Calls};
use crate::domain::call_budget::CallBudget;
use crate::store::CallBook;

/// The server's ended calls by end time, each with its book and call id.
pub(super) type Budget = Mutex<CallBudget<(Weak<CallBook>, String)>>;

impl Calls {
    /// The engine with a budget of `bytes` for the ended calls of every
    /// organization together (`--call-store-bytes`; 0 keeps none).
    pub fn with_call_store_bytes(mut self, bytes: usize) -> Self {
        self.budget = Mutex::new(CallBudget::new(bytes));
        self
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
        let victims = self.budget.lock().ended((Arc::downgrade(book), call_id.to_string()), ended_at, bytes);
        for (book, id) in victims {
            if let Some(book) = book.upgrade() {
                book.lock().evict(&id);
            }
            self.owners.remove(&id);
        }
    }

    /// Schedules [`Calls::retain`] of `call_id` at `at` (epoch ms).
    pub(super) fn schedule_retain(self: &Arc<Self>, book: &BookRef, call_id: &str, at: crate::domain::Millis) {
        self.schedule_for(book, call_id, at, |me, book, id| me.retain(book, id));
    }
}
