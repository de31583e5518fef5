//! One organization's credit ledger (OAS tag Billing, `/payment/v1`): an
//! append-only list of signed rows, written by every billable action.
//!
//! Invariants, property-tested in `ledger_props.rs`:
//! - the balance is the sum of the rows' `amount`s, always, and each row's
//!   `balanceAfter` is the running sum up to and including it;
//! - an action is charged at most once: every usage row carries an
//!   idempotency key (`call:<callId>`, `rent:<productId>`, ...), and a
//!   second posting with a key already seen records nothing;
//! - a call is billed by the platform's rule,
//!   [`super::posting::call_charge`]: its
//!   `callCost` when it connected, nothing when it never did (no answer,
//!   busy, connection error, cancelled in the queue). This is the rule the
//!   call engine already applies to `callCost` (`calls::finish`), so the
//!   ledger and the call log always agree;
//! - a refused posting changes nothing.
//!
//! Units: one credit is one US dollar (`creditBalance` is "in USD", OAS
//! #BillingBalanceResponse; `callCost` is "cost in credits", CM). Amounts
//! are held as integer micro-credits ([`Credits`]) so that sums are exact
//! and order-independent; they render as JSON numbers in credits.
//!
//! Usage is post-paid: a finished call is charged in full even when that
//! takes the balance below zero (the spec allows a negative balance,
//! #BillingBalanceResponse). Pre-paid actions (renting a number, scoring a
//! prompt) go through [`Ledger::charge_upfront`], which refuses when the
//! balance does not cover them; starting a call needs a positive balance
//! ([`Ledger::ensure_funds`]). The refusal is **400 `Organization has no
//! credits available`**: the spec's wording for prompt scoring (OAS POST
//! /prompt-scoring/score 400), and 400 is the status every billable
//! operation documents for running out of credits (register-call 400 "no
//! remaining credits", knowledge-base upload 400 "Insufficient credits").
//!
//! What this module does not do: read the clock, generate ids or render
//! HTTP envelopes. What each action posts is in [`super::posting`];
//! queries and windows are in [`super::ledger_query`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::posting::Posting;
use super::{DomainError, Millis};

/// 400 when a billable action finds no credits (see the module doc).
pub const NO_CREDITS: &str = "Organization has no credits available";

/// Credits a fresh organization starts with, as a `SIGNUP_BONUS` row: a
/// generous mock default so tests rarely think about money.
pub const SIGNUP_BONUS: Credits = Credits::whole(1000);

/// Largest amount one posting may carry: 1e9 credits. Keeps every sum far
/// from `i64` overflow.
pub const MAX_AMOUNT: Credits = Credits(1_000_000_000 * Credits::MICROS);

/// An amount of credits (= USD), exact: integer micro-credits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Credits(i64);

impl Credits {
    /// Micro-credits per credit.
    pub const MICROS: i64 = 1_000_000;
    /// Nothing.
    pub const ZERO: Credits = Credits(0);

    /// `n` whole credits.
    pub const fn whole(n: i64) -> Self {
        Self(n * Self::MICROS)
    }

    /// From micro-credits.
    pub const fn from_micros(m: i64) -> Self {
        Self(m)
    }

    /// In micro-credits.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// From a JSON number in credits, rounded to the micro-credit. `None`
    /// for NaN, infinities and anything beyond [`MAX_AMOUNT`].
    pub fn from_f64(x: f64) -> Option<Self> {
        let m = (x * Self::MICROS as f64).round();
        (m.is_finite() && m.abs() <= MAX_AMOUNT.0 as f64).then_some(Self(m as i64))
    }

    /// As a JSON number in credits.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / Self::MICROS as f64
    }

    /// Rounded to whole cents (half away from zero), as prices are shown.
    pub fn round_cents(self) -> Self {
        const CENT: i64 = Credits::MICROS / 100;
        let r = self.0.abs() % CENT;
        let down = self.0.abs() - r;
        let abs = if r * 2 >= CENT { down + CENT } else { down };
        Self(abs * self.0.signum())
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// True above zero.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl std::ops::Neg for Credits {
    type Output = Credits;

    fn neg(self) -> Credits {
        Credits(-self.0)
    }
}

/// `transactionType` of a row (OAS #BillingLedgerEntry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionType {
    /// Credits a new organization starts with.
    SignupBonus,
    /// Credits bought (control API top-up).
    CreditPurchase,
    /// Credits bought automatically on a low balance.
    AutoReload,
    /// Spend: calls, number rental and renewal, prompt scoring.
    UsageDeduction,
    /// A manual correction, either sign.
    AdminAdjustment,
    /// Credits from a coupon.
    CouponCredit,
    /// Carried over from an older system; the mock also uses it for the
    /// carry-forward row of [`Ledger::compact`].
    Migration,
}

impl TransactionType {
    /// Every type, in the spec's order.
    pub const ALL: [Self; 7] = [
        Self::SignupBonus,
        Self::CreditPurchase,
        Self::AutoReload,
        Self::UsageDeduction,
        Self::AdminAdjustment,
        Self::CouponCredit,
        Self::Migration,
    ];

    /// The wire name (`USAGE_DEDUCTION`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignupBonus => "SIGNUP_BONUS",
            Self::CreditPurchase => "CREDIT_PURCHASE",
            Self::AutoReload => "AUTO_RELOAD",
            Self::UsageDeduction => "USAGE_DEDUCTION",
            Self::AdminAdjustment => "ADMIN_ADJUSTMENT",
            Self::CouponCredit => "COUPON_CREDIT",
            Self::Migration => "MIGRATION",
        }
    }

    /// The type named `s` (wire name), if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Spend category of a usage row (`scope` filter, OAS GET
/// /payment/v1/credits/ledger; #BillingUsageBreakdownResponse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Atoms platform features: phone rental, prompt scoring.
    Platform,
    /// Voice-agent runtime: every call's `callCost`.
    VoiceAi,
    /// Standalone Waves model calls (the mock makes none).
    VoiceModels,
}

impl Scope {
    /// All three, in the spec's order.
    pub const ALL: [Self; 3] = [Self::Platform, Self::VoiceAi, Self::VoiceModels];

    /// The wire name (`platform`, `voice_ai`, `voice_models`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Platform => "platform",
            Self::VoiceAi => "voice_ai",
            Self::VoiceModels => "voice_models",
        }
    }

    /// The scope named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One row (OAS #BillingLedgerEntry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    /// Row id (24-hex).
    pub id: String,
    /// Type.
    pub transaction_type: TransactionType,
    /// Signed delta: positive adds credits, negative spends them.
    pub amount: Credits,
    /// Balance after this row.
    pub balance_after: Credits,
    /// Spend category; usage rows only.
    pub scope: Option<Scope>,
    /// Feature that caused a usage row (`atoms.call`, ...).
    pub feature_id: Option<String>,
    /// What the row refers to: a product id, an invoice id, ...
    pub reference_id: Option<String>,
    /// Human-readable note.
    pub description: Option<String>,
    /// When, epoch ms.
    pub created_at: Millis,
    /// The call that caused the row.
    pub call_id: Option<String>,
    /// The agent of that call or action.
    pub agent_id: Option<String>,
    /// The API request that caused the row (prompt scoring).
    pub request_id: Option<String>,
}

impl LedgerEntry {
    /// The wire item: exactly the keys of OAS #BillingLedgerEntry, amounts
    /// in credits, `createdAt` ISO-8601 (`scope` is not a documented key,
    /// so it is not rendered).
    pub fn wire(&self) -> Value {
        json!({
            "id": self.id, "transactionType": self.transaction_type.as_str(),
            "amount": self.amount.to_f64(), "balanceAfter": self.balance_after.to_f64(),
            "featureId": self.feature_id, "referenceId": self.reference_id, "description": self.description,
            "createdAt": super::time::iso(self.created_at),
            "callId": self.call_id, "agentId": self.agent_id, "requestId": self.request_id,
        })
    }
}

/// What [`Ledger::post`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// A row was appended at this index.
    Recorded(usize),
    /// The key was already charged; nothing changed.
    Duplicate,
}

/// One organization's ledger. Rows are in the order posted, which is time
/// order: `post` stamps `created_at` no earlier than the previous row.
/// Serializable, so a snapshot can hold it; read back, every row's
/// `balanceAfter` must be the running sum, `balance` the sum of all rows,
/// `added` at least the credits its rows add, and rows in time order
/// (a hand-edited amount is refused, not believed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredLedger")]
pub struct Ledger {
    entries: Vec<LedgerEntry>,
    balance: Credits,
    added: Credits,
    keys: HashSet<String>,
}

/// [`Ledger`] as a snapshot holds it, before its invariants are checked.
#[derive(Deserialize)]
struct StoredLedger {
    entries: Vec<LedgerEntry>,
    balance: Credits,
    added: Credits,
    keys: HashSet<String>,
}

impl TryFrom<StoredLedger> for Ledger {
    type Error = String;

    fn try_from(s: StoredLedger) -> Result<Self, String> {
        let (mut running, mut adds, mut last) = (Credits::ZERO, Credits::ZERO, Millis::MIN);
        for e in &s.entries {
            running = running.checked_add(e.amount).ok_or_else(|| format!("ledger: row {} overflows the sum", e.id))?;
            adds = adds.checked_add(e.amount.max(Credits::ZERO)).unwrap_or(Credits(i64::MAX));
            if e.balance_after != running {
                return Err(format!(
                    "ledger: row {} has balanceAfter {}, but the rows up to it sum to {}",
                    e.id,
                    e.balance_after.to_f64(),
                    running.to_f64()
                ));
            }
            if e.created_at < last {
                return Err(format!("ledger: row {} is older than the row before it", e.id));
            }
            last = e.created_at;
        }
        if s.balance != running {
            return Err(format!("ledger: balance is {}, but its rows sum to {}", s.balance.to_f64(), running.to_f64()));
        }
        if s.added < adds {
            return Err(format!("ledger: added is {}, but its rows add {}", s.added.to_f64(), adds.to_f64()));
        }
        Ok(Self { entries: s.entries, balance: s.balance, added: s.added, keys: s.keys })
    }
}

impl Ledger {
    /// An empty ledger (balance 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// The balance: the sum of every row.
    pub fn balance(&self) -> Credits {
        self.balance
    }

    /// The rows, oldest first.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// True when `key` was already charged.
    pub fn is_charged(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// Appends `p` as row `id` at `now` (never before the previous row).
    /// A posting whose key was seen records nothing ([`Posted::Duplicate`]).
    /// Error (400, nothing changed): the sum would overflow.
    pub fn post(&mut self, id: String, p: Posting, now: Millis) -> Result<Posted, DomainError> {
        if p.key.as_deref().is_some_and(|k| self.keys.contains(k)) {
            return Ok(Posted::Duplicate);
        }
        let balance_after =
            self.balance.checked_add(p.amount).ok_or_else(|| DomainError::invalid("amount: out of range"))?;
        let created_at = self.entries.last().map_or(now, |e| e.created_at.max(now));
        let added_now = p.amount.0.max(0);
        if let Some(k) = p.key {
            self.keys.insert(k);
        }
        self.entries.push(LedgerEntry {
            id,
            transaction_type: p.transaction_type,
            amount: p.amount,
            balance_after,
            scope: p.scope,
            feature_id: p.feature_id.map(str::to_string),
            reference_id: p.reference_id,
            description: p.description,
            created_at,
            call_id: p.call_id,
            agent_id: p.agent_id,
            request_id: p.request_id,
        });
        self.balance = balance_after;
        self.added = Credits(self.added.0.saturating_add(added_now));
        Ok(Posted::Recorded(self.entries.len() - 1))
    }

    /// 400 [`NO_CREDITS`] unless the balance is positive and covers
    /// `needed` (≥ 0).
    pub fn ensure_funds(&self, needed: Credits) -> Result<(), DomainError> {
        if self.balance.is_positive() && self.balance >= needed {
            Ok(())
        } else {
            Err(DomainError::invalid(NO_CREDITS))
        }
    }

    /// A pre-paid action: [`Ledger::ensure_funds`] for the posting's cost,
    /// then [`Ledger::post`]. A refusal changes nothing.
    pub fn charge_upfront(&mut self, id: String, p: Posting, now: Millis) -> Result<Posted, DomainError> {
        if p.key.as_deref().is_some_and(|k| self.keys.contains(k)) {
            return Ok(Posted::Duplicate);
        }
        self.ensure_funds((-p.amount).max(Credits::ZERO))?;
        self.post(id, p, now)
    }

    /// Bounds memory: when there are more than `max_rows` rows, the oldest
    /// are folded into one `MIGRATION` carry-forward row (id `id`, at the
    /// time of the last folded row) so that the sum, and so the balance,
    /// is unchanged, leaving `max_rows - max_rows / 8` rows: the rows move
    /// once per `max_rows / 8` postings, not at every one. The idempotency
    /// keys of folded call charges (`call:<callId>`) go with their rows: a
    /// call is billed once, when it ends, and a folded row's call ended
    /// long before. The other keys (rentals, renewals) are kept.
    /// `max_rows` < 2 is treated as 2.
    pub fn compact(&mut self, max_rows: usize, id: String) {
        let max_rows = max_rows.max(2);
        if self.entries.len() <= max_rows {
            return;
        }
        let keep = max_rows - max_rows / 8;
        let fold = self.entries.len() - keep + 1;
        let folded: Vec<LedgerEntry> = self.entries.drain(..fold).collect();
        for e in folded.iter().filter(|e| e.transaction_type == TransactionType::UsageDeduction) {
            if let Some(call) = &e.call_id {
                self.keys.remove(&format!("call:{call}"));
            }
        }
        let sum = folded.iter().fold(Credits::ZERO, |s, e| Credits(s.0 + e.amount.0));
        let last = folded.last().map_or(0, |e| e.created_at);
        let carry = LedgerEntry {
            id,
            transaction_type: TransactionType::Migration,
            amount: sum,
            balance_after: sum,
            scope: None,
            feature_id: None,
            reference_id: None,
            description: Some(format!("Carried forward from {} older rows", folded.len())),
            created_at: last,
            call_id: None,
            agent_id: None,
            request_id: None,
        };
        self.entries.insert(0, carry);
    }

    /// Sum of positive rows ever posted, compaction included: every
    /// credit ever added (`totalCredits` of `GET /user/subscription`).
    pub fn total_added(&self) -> Credits {
        self.added
    }
}

#[cfg(test)]
#[path = "ledger_props.rs"]
mod props;
