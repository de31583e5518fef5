//! The account book: one organization's plan, credit ledger, invoices,
//! phone numbers and compliance applications ([`AccountBook`], a thin
//! holder of `crate::domain::account::Account`), and the server-wide
//! register of rented numbers (numbers are unique platform-wide).
//!
//! **Charging from other areas.** Anything billable outside calls and
//! numbers (prompt scoring, ...) charges through
//! [`AccountBook::charge`] (or [`Store::charge`], which reads the clock
//! and the id generator itself): a pre-paid `USAGE_DEDUCTION` row on the
//! `platform` scope, once per request id, refused with 400 `Organization
//! has no credits available` when the balance does not cover it (and then
//! nothing changes). Check first with [`Store::ensure_funds`] when the
//! action itself must not run without the credits.
//!
//! Every method settles what fell due up to `now` (monthly renewals,
//! compliance reviews) before it answers, so no timer is needed: the
//! ledger and the applications follow the clock exactly.
//!
//! Lock order: the account is taken **after** the campaigns, agents and
//! call books and never held while taking one of them.

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::agents::AgentBook;
use super::{CallBook, Store, Tenant};
use crate::call::{Call, CallType};
use crate::domain::account::{Account, CallKind};
use crate::domain::compliance::{Application, Command};
use crate::domain::compliance_form::Submission;
use crate::domain::compliance_rules::{NumberType, UserType};
use crate::domain::ids::IdGen;
use crate::domain::inventory::{self, RentRequest, Search};
use crate::domain::invoice::Invoice;
use crate::domain::ledger::{Credits, LedgerEntry, Posted, TransactionType};
use crate::domain::ledger_query::{parse_query, RawLedgerQuery, USAGE_START};
use crate::domain::numbers::NumberBook;
use crate::domain::phone_product::{ImportRequest, PhoneProduct};
use crate::domain::plan::{check_quota, require, Feature, Plan, Quota};
use crate::domain::posting::{platform_charge, CallCharge, ChargeKind};
use crate::domain::{DomainError, Millis};

/// Most ledger rows kept per organization; older ones fold into one
/// carry-forward row (`Ledger::compact`), so the sum is unchanged.
pub const MAX_LEDGER_ROWS: usize = 100_000;

/// One organization's account (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBook {
    org_id: String,
    user_id: String,
    account: Account,
}

impl AccountBook {
    /// A new account on `plan` with the signup bonus, anchored at `now`.
    pub fn open(org_id: &str, user_id: &str, plan: Plan, ids: &IdGen, now: Millis) -> Self {
        let account = Account::open(plan, crate::domain::ledger::SIGNUP_BONUS, ids, now);
        Self { org_id: org_id.to_string(), user_id: user_id.to_string(), account }
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.account.plan
    }

    /// Replaces the plan (control API). Existing resources stay; limits
    /// apply to what is created from now on.
    pub fn set_plan(&mut self, plan: Plan) {
        self.account.plan = plan;
    }

    /// Sets the plan's `concurrentCalls` (at least 1; values past
    /// `u32::MAX` saturate), as the control API's concurrency limit does.
    pub fn set_concurrent_calls(&mut self, limit: usize) {
        self.account.plan.limits.concurrent_calls = u32::try_from(limit).unwrap_or(u32::MAX).max(1);
    }

    /// `limits` check: `used + adding` must fit (see `domain::plan`).
    pub fn check_quota(&self, q: Quota, used: usize, adding: usize) -> Result<(), DomainError> {
        check_quota(&self.account.plan, q, used as u64, adding as u64)
    }

    /// `features` check (see `domain::plan`).
    pub fn require(&self, f: Feature) -> Result<(), DomainError> {
        require(&self.account.plan, f)
    }

    /// `data` of `GET /user/subscription`.
    pub fn subscription(&mut self, ids: &IdGen, now: Millis) -> Value {
        self.account.subscription(&self.org_id, ids, now)
    }

    /// `data` of `GET /payment/v1/credits/balance`.
    pub fn balance(&mut self, ids: &IdGen, now: Millis) -> Value {
        self.account.balance(ids, now)
    }

    /// The balance, after settling.
    pub fn credits(&mut self, ids: &IdGen, now: Millis) -> Credits {
        self.account.settle(ids, now);
        self.account.ledger.balance()
    }

    /// Every row, oldest first (control API and tests).
    pub fn ledger_rows(&mut self, ids: &IdGen, now: Millis) -> &[LedgerEntry] {
        self.account.settle(ids, now);
        self.account.ledger.entries()
    }

    /// `data` of `GET /payment/v1/credits/ledger` (400s of `parse_query`).
    /// `clock_start` is when the server's clock started: the usage cutoff
    /// is the platform's or that, whichever is earlier.
    pub fn ledger_page(
        &mut self,
        raw: &RawLedgerQuery,
        clock_start: Millis,
        ids: &IdGen,
        now: Millis,
    ) -> Result<Value, DomainError> {
        self.account.settle(ids, now);
        let q = parse_query(raw, now, USAGE_START.min(clock_start))?;
        Ok(self.account.ledger.page(&q).wire())
    }

    /// `data` of `GET /payment/v1/credits/usage/breakdown`.
    pub fn usage_breakdown(&mut self, clock_start: Millis, ids: &IdGen, now: Millis) -> Value {
        self.account.settle(ids, now);
        let [p, ai, models] = self.account.ledger.usage_breakdown(USAGE_START.min(clock_start), now);
        serde_json::json!({"platform": p.1.to_f64(), "voiceAi": ai.1.to_f64(), "voiceModels": models.1.to_f64()})
    }

    /// Credits spent on anything but calls in `[from, to)` after settling
    /// renewals due by `now` (see [`Ledger::non_call_usage`](crate::domain::ledger::Ledger::non_call_usage)): what
    /// `GET /analytics/usage/timeseries` adds to the calls' costs.
    pub fn non_call_usage(&mut self, from: Millis, to: Millis, ids: &IdGen, now: Millis) -> Vec<(Millis, i64)> {
        self.account.settle(ids, now);
        self.account.ledger.non_call_usage(from, to)
    }

    /// `data` of `GET /payment/v1/invoices`: up to 20 Stripe-shaped
    /// invoices, newest first; `base` is the server's URL.
    pub fn invoices(&self, base: &str) -> Vec<Value> {
        self.account.invoices.recent().map(|i| i.stripe(&self.org_id, base)).collect()
    }

    /// The invoice `id`; 404 `Invoice not found: <id>`.
    pub fn invoice(&self, id: &str) -> Result<&Invoice, DomainError> {
        self.account.invoices.get(id)
    }

    /// `paymentRequired` of `GET /product/unpaid-invoices`.
    pub fn payment_required(&self) -> bool {
        self.account.invoices.payment_required()
    }

    /// Charges a billable platform action (see the module doc): `amount`
    /// credits (> 0) for `kind`, once per `request_id`. Returns the row
    /// written, or `None` when this request was already charged. 400
    /// `Organization has no credits available` (nothing changes) when the
    /// balance does not cover it.
    pub fn charge(
        &mut self,
        kind: &ChargeKind,
        request_id: &str,
        amount: Credits,
        ids: &IdGen,
        now: Millis,
    ) -> Result<Option<LedgerEntry>, DomainError> {
        self.account.settle(ids, now);
        let posted =
            self.account.ledger.charge_upfront(ids.object_id(now), platform_charge(kind, request_id, amount), now)?;
        Ok(self.recorded(posted, ids, now))
    }

    /// 400 `Organization has no credits available` unless the balance is
    /// positive and covers `amount`.
    pub fn ensure_funds(&mut self, amount: Credits, ids: &IdGen, now: Millis) -> Result<(), DomainError> {
        self.account.settle(ids, now);
        self.account.ledger.ensure_funds(amount)
    }

    /// The row `posted` wrote (cloned), compacting the ledger past
    /// [`MAX_LEDGER_ROWS`].
    fn recorded(&mut self, posted: Posted, ids: &IdGen, now: Millis) -> Option<LedgerEntry> {
        let Posted::Recorded(i) = posted else { return None };
        let row = self.account.ledger.entries().get(i).cloned();
        if self.account.ledger.entries().len() > MAX_LEDGER_ROWS {
            self.account.ledger.compact(MAX_LEDGER_ROWS, ids.object_id(now));
        }
        row
    }

    /// Admits a call of `kind` (telephony feature 403, credits 400, daily
    /// calls 403); counts it toward `dailyCalls`.
    pub fn admit_call(&mut self, kind: CallKind, ids: &IdGen, now: Millis) -> Result<(), DomainError> {
        self.account.admit_call(kind, ids, now)
    }

    /// Bills a finished call by the platform's rule, once per call id.
    pub fn charge_call(&mut self, c: &CallCharge, ids: &IdGen, now: Millis) -> Option<LedgerEntry> {
        let row = self.account.charge_call(c, ids, now).cloned();
        if self.account.ledger.entries().len() > MAX_LEDGER_ROWS {
            self.account.ledger.compact(MAX_LEDGER_ROWS, ids.object_id(now));
        }
        row
    }

    /// Control API: adds (or, for an adjustment, removes) credits; a
    /// purchase also issues a paid invoice. Returns the row.
    pub fn credit(
        &mut self,
        kind: TransactionType,
        amount: Credits,
        description: Option<String>,
        ids: &IdGen,
        now: Millis,
    ) -> Result<LedgerEntry, DomainError> {
        self.account.credit(&self.org_id, kind, amount, description, ids, now).cloned()
    }

    /// Control API: issues an invoice (`open` unless `paid`).
    pub fn issue_invoice(
        &mut self,
        amount: Credits,
        description: String,
        paid: bool,
        ids: &IdGen,
        now: Millis,
    ) -> Result<Invoice, DomainError> {
        let hex = ids.object_id(now);
        self.account.invoices.issue(&self.org_id, &hex, amount, description, paid, now).cloned()
    }

    /// Control API: pays or voids an open invoice.
    pub fn settle_invoice(&mut self, id: &str, pay: bool, now: Millis) -> Result<Invoice, DomainError> {
        self.account.invoices.settle(id, pay, now).cloned()
    }

    /// The organization's numbers.
    pub fn numbers(&self) -> &NumberBook {
        &self.account.numbers
    }

    /// `data` of `GET /product/proration-amount`.
    pub fn proration(&mut self, ids: &IdGen, now: Millis) -> Result<Value, DomainError> {
        Ok(self.account.proration(ids, now)?.wire())
    }

    /// Path of the Stripe portal stand-in, `None` on an enterprise plan.
    pub fn portal_path(&self) -> Option<String> {
        crate::domain::account::portal_path(&self.account.plan, &self.org_id)
    }

    /// Imports a SIP number (`POST /product/import-phone-number`).
    pub fn import_sip(&mut self, req: ImportRequest, ids: &IdGen, now: Millis) -> Result<PhoneProduct, DomainError> {
        self.account.import_sip(req, &self.user_id, ids, now).cloned()
    }

    /// Makes `products` exactly `agent_id`'s numbers (400 `Invalid product
    /// id` for any unknown id, nothing changed). Returns the agents that
    /// lost a number to it.
    pub fn attach(&mut self, agent_id: &str, products: &[String], now: Millis) -> Result<Vec<String>, DomainError> {
        let moved = self.account.numbers.attach(agent_id, products, now)?;
        Ok(moved.into_iter().map(|(agent, _)| agent).collect())
    }

    /// The agent's product ids and E.164 numbers, in the order set.
    pub fn agent_numbers(&self, agent_id: &str) -> (Vec<String>, Vec<String>) {
        let n = &self.account.numbers;
        let mine = n.numbers_of(agent_id).into_iter().filter_map(|id| n.get(id).ok());
        mine.map(|p| (p.id.clone(), p.phone_number.clone())).unzip()
    }

    /// Every attached number by agent: product ids and E.164 numbers, in
    /// the order set (what `AgentDTO` renders).
    pub fn links(&self) -> AgentLinks {
        let n = &self.account.numbers;
        let mut by_agent: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for agent in n.all().iter().filter_map(|p| p.agent_id.as_deref()) {
            by_agent.entry(agent.to_string()).or_insert_with(|| {
                let mine = n.numbers_of(agent).into_iter().filter_map(|id| n.get(id).ok());
                mine.map(|p| (p.id.clone(), p.phone_number.clone())).collect()
            });
        }
        AgentLinks(by_agent)
    }

    /// `data` of `GET /compliance/status`.
    pub fn compliance_status(
        &mut self,
        country: &str,
        nt: NumberType,
        ut: UserType,
        ids: &IdGen,
        now: Millis,
    ) -> Value {
        self.account.settle(ids, now);
        self.account.compliance.status(country, nt, ut).wire()
    }

    /// Files a compliance application (`POST /compliance/applications`).
    pub fn submit_compliance(&mut self, sub: Submission, ids: &IdGen, now: Millis) -> Result<Value, DomainError> {
        let (org, user) = (self.org_id.clone(), self.user_id.clone());
        Ok(self.account.submit_compliance(sub, &org, &user, ids, now)?.0.wire())
    }

    /// Applies `cmd` to application `id` (resubmit, refresh, control-API
    /// decisions); 404 `Compliance application not found`.
    pub fn compliance_command(
        &mut self,
        id: &str,
        cmd: &Command,
        ids: &IdGen,
        now: Millis,
    ) -> Result<Value, DomainError> {
        self.account.settle(ids, now);
        Ok(self.account.compliance.command(id, cmd, now)?.0.wire())
    }

    /// The applications, oldest first.
    pub fn applications(&self) -> &[Application] {
        self.account.compliance.all()
    }

    fn rent(&mut self, req: &RentRequest, ids: &IdGen, now: Millis) -> Result<PhoneProduct, DomainError> {
        self.account.rent(req, ids, now).cloned()
    }

    fn release(&mut self, product_id: &str, ids: &IdGen, now: Millis) -> Result<PhoneProduct, DomainError> {
        self.account.release(product_id, ids, now)
    }

    /// Adds a fixture number (no offer check, no charge, no compliance).
    fn add_fixture_number(&mut self, req: &RentRequest, ids: &IdGen, now: Millis) -> PhoneProduct {
        self.account.numbers.add_rented(ids.object_id(now), req, None, now).clone()
    }
}

/// Attached numbers by agent id: `(productId, E.164)` in the order set.
#[derive(Debug, Clone, Default)]
pub struct AgentLinks(HashMap<String, Vec<(String, String)>>);

impl AgentLinks {
    /// The agent's product ids (`telephonyProductId`).
    pub fn product_ids(&self, agent_id: &str) -> Vec<&str> {
        self.0.get(agent_id).map(|l| l.iter().map(|(id, _)| id.as_str()).collect()).unwrap_or_default()
    }

    /// The agent's numbers (`phoneNumber`, R029).
    pub fn numbers(&self, agent_id: &str) -> Vec<&str> {
        self.0.get(agent_id).map(|l| l.iter().map(|(_, n)| n.as_str()).collect()).unwrap_or_default()
    }
}

/// Rented numbers platform-wide: digits without `+` → the organization
/// holding it. Inventory searches skip them; a rent reserves the number
/// here before the organization's account decides, so two organizations
/// never rent one number.
#[derive(Debug, Default)]
pub(super) struct HeldNumbers(DashMap<String, String>);

impl HeldNumbers {
    fn digits(e164: &str) -> &str {
        e164.strip_prefix('+').unwrap_or(e164)
    }

    /// Forgets every number, or only `org_id`'s.
    pub(super) fn clear(&self, org_id: Option<&str>) {
        match org_id {
            Some(org) => self.0.retain(|_, o| o != org),
            None => self.0.clear(),
        }
    }
}

impl Store {
    /// Runs `f` on `t`'s account at the clock's now, under the account
    /// lock: the one call of a handler in the account areas.
    pub fn with_account<R>(&self, t: &Tenant, f: impl FnOnce(&mut AccountBook, &IdGen, Millis) -> R) -> R {
        f(&mut t.account(), &self.ids, self.clock.now())
    }

    /// When the server's clock started: the ledger's usage cutoff is the
    /// platform's (2026-03-02) or this, whichever is earlier, so a server
    /// always reads its own rows.
    pub fn started_at(&self) -> Millis {
        self.started_at
    }

    /// The seed of the number inventory (`--seed`, else drawn at start).
    pub fn inventory_seed(&self) -> u64 {
        self.inventory_seed
    }

    /// Charges `kind` on `t`'s account at the clock's now (see
    /// [`AccountBook::charge`]); the row counts in
    /// `GET /analytics/usage/timeseries` (see [`AccountBook::non_call_usage`]).
    pub fn charge(
        &self,
        t: &Tenant,
        kind: &ChargeKind,
        request_id: &str,
        amount: Credits,
    ) -> Result<Option<LedgerEntry>, DomainError> {
        let now = self.clock.now();
        t.account().charge(kind, request_id, amount, &self.ids, now)
    }

    /// 400 `Organization has no credits available` unless `t` can pay
    /// `amount` now.
    pub fn ensure_funds(&self, t: &Tenant, amount: Credits) -> Result<(), DomainError> {
        t.account().ensure_funds(amount, &self.ids, self.clock.now())
    }

    /// Admits a call of `call_type` for `t` at the clock's now (BEHAVIOR
    /// R102 onward; design d11a §2.2): telephony needs the plan's
    /// `telephony` feature (403), every call a positive balance (400
    /// `Organization has no credits available`) and room in `dailyCalls`
    /// (403). Counted toward `dailyCalls` when admitted.
    pub fn admit_call(&self, t: &Tenant, call_type: CallType) -> Result<(), DomainError> {
        let kind = match call_type {
            CallType::TelephonyOutbound | CallType::TelephonyInbound => CallKind::Telephony,
            CallType::Webcall => CallKind::Web,
        };
        t.account().admit_call(kind, &self.ids, self.clock.now())
    }

    /// Plan gate of a new agent (create, template, duplicate, unarchive):
    /// at most `limits.agents` agents that are not archived; 403 `Plan
    /// limit reached: your plan allows at most N agents`.
    ///
    /// `agents` is `t`'s agent book, which the caller holds write-locked
    /// until the agent is stored (lock order: agents, then the account), so
    /// the count and the insert are one decision: two creates at the limit
    /// cannot both pass.
    pub(crate) fn admit_agent(&self, t: &Tenant, agents: &AgentBook) -> Result<(), DomainError> {
        t.account().check_quota(Quota::Agents, agents.active_count(), 1)
    }

    /// Plan gate of a new campaign when the organization has `existing`
    /// ones: `features.campaigns` (403 `Your plan does not include
    /// campaigns`) and `limits.campaigns` (403 `Plan limit reached: …`).
    /// The caller holds the campaign book (lock order: campaigns, then
    /// the account).
    pub fn admit_campaign(&self, t: &Tenant, existing: usize) -> Result<(), DomainError> {
        let account = t.account();
        account.require(Feature::Campaigns)?;
        account.check_quota(Quota::Campaigns, existing, 1)
    }

    /// Bills a finished call on the account of the organization that owns
    /// `book` (the call engine's finish hook): `-callCost` as a
    /// `USAGE_DEDUCTION` row when it connected, nothing otherwise, once
    /// per `callId`. A book of an organization reset since is ignored.
    pub fn charge_call(&self, book: &Arc<CallBook>, call: &Call) -> Option<LedgerEntry> {
        let t = self.find_tenant(book.api_key()).filter(|t| Arc::ptr_eq(t.calls(), book))?;
        let charge = CallCharge {
            call_id: call.call_id.clone(),
            agent_id: call.agent_id.clone(),
            status: call.status,
            connected: call.connected_at.is_some(),
            cost: call.cost,
        };
        let at = call.ended_at.unwrap_or_else(|| self.clock.now());
        let row = t.account().charge_call(&charge, &self.ids, at);
        row
    }

    /// 400 `Invalid product id` (BEHAVIOR R104's message) unless every id
    /// is one of `t`'s numbers: `telephonyProductId` of `POST /agent` and
    /// `phoneNumberIds` of `POST /campaign` (R159).
    pub fn check_products(&self, t: &Tenant, ids: &[String]) -> Result<(), DomainError> {
        let account = t.account();
        ids.iter().try_for_each(|id| account.numbers().get(id).map(drop))
    }

    /// `GET /product/get-available-numbers`: up to 5 numbers on offer,
    /// none held by anyone.
    pub fn search_numbers(&self, q: &Search) -> Vec<inventory::Candidate> {
        inventory::search(self.inventory_seed, q, |d| self.held.0.contains_key(d))
    }

    /// `POST /product/rent-number`: validates the number against the
    /// inventory, reserves it platform-wide (400 `Phone number <n> is not
    /// available` when someone holds it), then lets `t`'s account decide;
    /// a refusal gives the number back.
    pub fn rent_number(
        &self,
        t: &Tenant,
        phone: Option<&str>,
        provider: Option<&str>,
    ) -> Result<PhoneProduct, DomainError> {
        let req = inventory::parse_rent(self.inventory_seed, phone, provider)?;
        let digits = HeldNumbers::digits(&req.e164).to_string();
        match self.held.0.entry(digits.clone()) {
            dashmap::Entry::Occupied(_) => return Err(inventory::not_available(phone.unwrap_or_default().trim())),
            dashmap::Entry::Vacant(v) => {
                v.insert(t.org_id.clone());
            }
        }
        let out = t.account().rent(&req, &self.ids, self.clock.now());
        if out.is_err() {
            self.held.0.remove(&digits);
        }
        out
    }

    /// `POST /product/release-number`: removes the product from `t` and
    /// frees its number platform-wide.
    pub fn release_number(&self, t: &Tenant, product_id: &str) -> Result<PhoneProduct, DomainError> {
        let p = t.account().release(product_id, &self.ids, self.clock.now())?;
        self.held.0.remove_if(HeldNumbers::digits(&p.phone_number), |_, org| *org == t.org_id);
        Ok(p)
    }

    /// Makes `t`'s numbers its own on the server (a restored snapshot):
    /// every number it held before and no longer has is freed. Err, and
    /// nothing changes, when another organization holds one of them.
    pub(super) fn hold_numbers(&self, t: &Tenant) -> Result<(), String> {
        let numbers: Vec<String> =
            t.account().numbers().all().iter().map(|p| HeldNumbers::digits(&p.phone_number).to_string()).collect();
        let taken = numbers.iter().find(|d| self.held.0.get(*d).is_some_and(|org| *org != t.org_id));
        if let Some(d) = taken {
            return Err(format!("account: +{d} is held by another organization"));
        }
        self.held.clear(Some(&t.org_id));
        for d in numbers {
            self.held.0.insert(d, t.org_id.clone());
        }
        Ok(())
    }

    /// Gives `t` the number `e164` from `provider` as a rented number
    /// without the offer check or a charge (fixtures). `None` when the
    /// number is not in a stocked area or someone holds it.
    pub fn add_fixture_number(&self, t: &Tenant, e164: &str, provider: inventory::Provider) -> Option<PhoneProduct> {
        let digits = HeldNumbers::digits(e164);
        let (country, area_code) = inventory::locate(digits)?;
        let req = RentRequest { e164: format!("+{digits}"), provider, country, area_code };
        match self.held.0.entry(digits.to_string()) {
            dashmap::Entry::Occupied(_) => None,
            dashmap::Entry::Vacant(v) => {
                v.insert(t.org_id.clone());
                Some(t.account().add_fixture_number(&req, &self.ids, self.clock.now()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ClockMode};
    use crate::domain::ledger::NO_CREDITS;

    fn store() -> Store {
        Store::new(Clock::new(ClockMode::Virtual), Some(1), 6000)
    }

    #[test]
    fn a_platform_charge_is_taken_once_per_request_and_refused_without_credits() {
        let s = store();
        let t = s.tenant("sk_charge");
        let kind = ChargeKind::PromptScore { agent_id: "60d0fe4f5311236168a109ca".into() };
        let row = s.charge(&t, &kind, "req_1", Credits::whole(1)).expect("funded").expect("a row");
        assert_eq!((row.amount, row.feature_id.as_deref()), (-Credits::whole(1), Some("atoms.prompt_scoring")));
        assert_eq!(s.charge(&t, &kind, "req_1", Credits::whole(1)), Ok(None), "the same request is charged once");
        let now = s.clock().now();
        let before = t.account().credits(s.ids(), now);
        let err = s.charge(&t, &kind, "req_2", before.checked_add(Credits::whole(1)).expect("small"));
        assert_eq!(err, Err(DomainError::invalid(NO_CREDITS)));
        assert_eq!(t.account().credits(s.ids(), now), before, "a refusal changes nothing");
        let sum: i64 = t.account().ledger_rows(s.ids(), now).iter().map(|e| e.amount.micros()).sum();
        assert_eq!(sum, before.micros());
    }

    #[test]
    fn numbers_are_unique_platform_wide_and_free_again_after_a_reset() {
        let s = store();
        let (a, b) = (s.tenant("sk_a"), s.tenant("sk_b"));
        let q = inventory::parse_search(Some("US"), Some("plivo"), None).expect("valid");
        let offered = s.search_numbers(&q)[0].phone_number.clone();
        s.rent_number(&a, Some(&offered), Some("plivo")).expect("rented");
        assert!(!s.search_numbers(&q).iter().any(|c| c.phone_number == offered), "held numbers are not offered");
        let err = s.rent_number(&b, Some(&offered), Some("plivo")).expect_err("held by a");
        assert_eq!(err.to_string(), format!("Phone number {offered} is not available"));
        assert_eq!(b.account().numbers().count(), 0);
        s.reset(Some("sk_a"));
        s.rent_number(&s.tenant("sk_b"), Some(&offered), Some("plivo")).expect("free after a's reset");
    }
}
