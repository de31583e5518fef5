//! One organization's account: plan, credit ledger, invoices, numbers,
//! compliance applications and the daily call counter, with one method
//! per platform operation. The store keeps an [`Account`] per
//! organization behind one lock and calls exactly one method per request,
//! so every rule that spans these parts (a rental needs the feature, no
//! unpaid invoice, room in the plan, compliance and credits, then charges
//! and adds the number) is checked and applied in one step: a refused
//! request changes nothing.
//!
//! Time: every method first settles what fell due up to `now` ([`Account::
//! settle`]): monthly number renewals (post-paid, so a balance may go
//! negative) and compliance reviews. Rows are therefore posted in time
//! order even though no timer runs for them.
//!
//! Not here: numbers held by other organizations (numbers are unique
//! platform-wide: the store checks a server-wide set around
//! [`Account::rent`]), calls, agents, HTTP.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::billing_cycle::{cycle_at, prorate, renewals_between, Proration};
use super::compliance::{Application, ComplianceBook, Effect};
use super::compliance_form::Submission;
use super::ids::{derived_id, IdGen};
use super::inventory::RentRequest;
use super::invoice::InvoiceBook;
use super::ledger::{Credits, Ledger, LedgerEntry, Posted, TransactionType};
use super::numbers::NumberBook;
use super::phone_product::{ImportRequest, PhoneProduct};
use super::plan::{check_quota, require, DailyCalls, Feature, Plan, Quota};
use super::posting::{
    call_charge, prompt_score_charge, renewal_charge, rental_charge, signup_bonus, top_up, CallCharge,
};
use super::time::iso;
use super::{DomainError, Millis};

/// What kind of call asks to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Outbound or inbound telephony, telephony test calls, campaign dials.
    Telephony,
    /// Webcall, chat, realtime WebSocket sessions, web test calls.
    Web,
}

/// An organization's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The plan.
    pub plan: Plan,
    /// Billing anchor: cycles renew monthly from here, epoch ms.
    pub anchor: Millis,
    /// Credits.
    pub ledger: Ledger,
    /// Invoices.
    pub invoices: InvoiceBook,
    /// Phone numbers.
    pub numbers: NumberBook,
    /// Compliance applications.
    pub compliance: ComplianceBook,
    /// Calls placed today.
    pub daily_calls: DailyCalls,
}

impl Account {
    /// A new account on `plan`, anchored at `now`, with `bonus` credits as
    /// its first row (`SIGNUP_BONUS`; none when zero).
    pub fn open(plan: Plan, bonus: Credits, ids: &IdGen, now: Millis) -> Account {
        let mut ledger = Ledger::new();
        if bonus.is_positive() {
            let _ = ledger.post(ids.object_id(now), signup_bonus(bonus), now);
        }
        Account {
            plan,
            anchor: now,
            ledger,
            invoices: InvoiceBook::default(),
            numbers: NumberBook::default(),
            compliance: ComplianceBook::default(),
            daily_calls: DailyCalls::default(),
        }
    }

    /// Posts every renewal due up to `now` (each at its own time, in time
    /// order) and runs due compliance reviews.
    pub fn settle(&mut self, ids: &IdGen, now: Millis) {
        let mut due: Vec<(Millis, String, String)> = Vec::new();
        for (id, number, through) in self.numbers.rented_billing() {
            for at in renewals_between(self.anchor, through, now) {
                due.push((at, id.to_string(), number.to_string()));
            }
        }
        due.sort();
        for (at, id, number) in due {
            let rate = self.plan.number_monthly_rate;
            if rate.is_positive() {
                let _ = self.ledger.post(ids.object_id(at), renewal_charge(&id, &number, at, rate), at);
            }
            self.numbers.mark_billed(&id, at);
        }
        self.compliance.settle(now);
    }

    /// `data` of `GET /user/subscription` for organization `org_id`.
    pub fn subscription(&mut self, org_id: &str, ids: &IdGen, now: Millis) -> Value {
        self.settle(ids, now);
        json!({
            "_id": derived_id(&["subscription", org_id]), "organization": org_id, "planId": self.plan.id,
            "totalCredits": self.ledger.total_added().to_f64(), "currentCredits": self.ledger.balance().to_f64(),
            "renewalDate": iso(cycle_at(self.anchor, now).end), "subscriptionActive": true,
            "onPremEnabled": self.plan.on_prem_enabled, "limits": self.plan.limits, "features": self.plan.features,
        })
    }

    /// `data` of `GET /payment/v1/credits/balance`.
    pub fn balance(&mut self, ids: &IdGen, now: Millis) -> Value {
        self.settle(ids, now);
        json!({"creditBalance": self.ledger.balance().to_f64(), "planId": self.plan.id, "isEnterprise": self.plan.is_enterprise})
    }

    /// `GET /product/proration-amount`: 400 without the phone-numbers
    /// feature or while an invoice is unpaid (the spec).
    pub fn proration(&mut self, ids: &IdGen, now: Millis) -> Result<Proration, DomainError> {
        self.settle(ids, now);
        require(&self.plan, Feature::PhoneNumbers)?;
        self.invoices.ensure_unlocked()?;
        Ok(prorate(self.plan.number_monthly_rate, cycle_at(self.anchor, now), now))
    }

    /// Admits a call of `kind` at `now` (before it is created): telephony
    /// needs the feature (403), every call a positive balance (400
    /// `Organization has no credits available`) and room in `dailyCalls`
    /// (403). Counts it on success only.
    pub fn admit_call(&mut self, kind: CallKind, ids: &IdGen, now: Millis) -> Result<(), DomainError> {
        self.settle(ids, now);
        if kind == CallKind::Telephony {
            require(&self.plan, Feature::Telephony)?;
        }
        self.ledger.ensure_funds(Credits::ZERO)?;
        self.daily_calls = self.daily_calls.admit(&self.plan, now)?;
        Ok(())
    }

    /// `POST /product/rent-number` for a validated request the caller has
    /// reserved platform-wide: feature, unpaid lock, `numbers` quota,
    /// compliance gate, then the prorated charge up front and the new
    /// product. Returns the product.
    pub fn rent(&mut self, req: &RentRequest, ids: &IdGen, now: Millis) -> Result<&PhoneProduct, DomainError> {
        let proration = self.proration(ids, now)?;
        check_quota(&self.plan, Quota::Numbers, self.numbers.count(), 1)?;
        let compliance = self.compliance.rent_gate(req.country)?;
        let product_id = ids.object_id(now);
        if proration.immediate_charge.is_positive() {
            let charge = rental_charge(&product_id, &req.e164, proration.immediate_charge);
            self.ledger.charge_upfront(ids.object_id(now), charge, now)?;
        }
        Ok(self.numbers.add_rented(product_id, req, compliance, now))
    }

    /// `POST /product/import-phone-number`: telephony feature, `numbers`
    /// quota, then the import (400 `Number already present`).
    pub fn import_sip(
        &mut self,
        req: ImportRequest,
        user_id: &str,
        ids: &IdGen,
        now: Millis,
    ) -> Result<&PhoneProduct, DomainError> {
        self.settle(ids, now);
        require(&self.plan, Feature::Telephony)?;
        check_quota(&self.plan, Quota::Numbers, self.numbers.count(), 1)?;
        let trunk = |kind: &str| {
            let h = derived_id(&["trunk", kind, &req.phone_number, user_id]).to_ascii_uppercase();
            format!("ST_{}", &h[..12])
        };
        let trunks = (trunk("outbound"), trunk("inbound"));
        self.numbers.import(ids.object_id(now), req, trunks, user_id, now)
    }

    /// `POST /product/release-number`: settles the number's renewals up
    /// to now, then removes it.
    pub fn release(&mut self, product_id: &str, ids: &IdGen, now: Millis) -> Result<PhoneProduct, DomainError> {
        self.settle(ids, now);
        self.numbers.release(product_id)
    }

    /// Bills a finished call by the platform's rule (once per `callId`).
    /// Returns the row written, if any.
    pub fn charge_call(&mut self, c: &CallCharge, ids: &IdGen, now: Millis) -> Option<&LedgerEntry> {
        self.settle(ids, now);
        let posting = call_charge(c)?;
        match self.ledger.post(ids.object_id(now), posting, now) {
            Ok(Posted::Recorded(i)) => self.ledger.entries().get(i),
            Ok(Posted::Duplicate) | Err(_) => None,
        }
    }

    /// One credit for a successful prompt score, charged up front (400
    /// `Organization has no credits available`).
    pub fn charge_prompt_score(
        &mut self,
        request_id: &str,
        agent_id: &str,
        ids: &IdGen,
        now: Millis,
    ) -> Result<(), DomainError> {
        self.settle(ids, now);
        self.ledger.charge_upfront(ids.object_id(now), prompt_score_charge(request_id, agent_id), now).map(|_| ())
    }

    /// Control API: a credit change (see [`top_up`]); a purchase also
    /// issues a paid invoice for it. Returns the row.
    pub fn credit(
        &mut self,
        org_id: &str,
        kind: TransactionType,
        amount: Credits,
        description: Option<String>,
        ids: &IdGen,
        now: Millis,
    ) -> Result<&LedgerEntry, DomainError> {
        self.settle(ids, now);
        let mut posting = top_up(kind, amount, description)?;
        let invoice_hex = (kind == TransactionType::CreditPurchase).then(|| ids.object_id(now));
        posting.reference_id = invoice_hex.as_deref().map(|hex| super::invoice::stripe_id("in", hex));
        let Posted::Recorded(row) = self.ledger.post(ids.object_id(now), posting, now)? else {
            return Err(DomainError::invalid("amount: out of range"));
        };
        if let Some(hex) = invoice_hex {
            self.invoices.issue(org_id, &hex, amount, "Credit purchase".into(), true, now)?;
        }
        self.ledger.entries().get(row).ok_or_else(|| DomainError::invalid("amount: out of range"))
    }

    /// `POST /compliance/applications`: files `sub` as a new application.
    /// Returns it and when its review is due.
    pub fn submit_compliance(
        &mut self,
        sub: Submission,
        org_id: &str,
        user_id: &str,
        ids: &IdGen,
        now: Millis,
    ) -> Result<(&Application, Effect), DomainError> {
        self.settle(ids, now);
        let app = Application::submit(ids.object_id(now), org_id, user_id, ids.uuid(), sub, now);
        self.compliance.submit(app)
    }
}

/// Path of the mock's stand-in for the Stripe customer portal, or `None`
/// on an enterprise plan (billed offline: the spec's "empty object if the
/// organization isn't on a Stripe-backed plan").
pub fn portal_path(plan: &Plan, org_id: &str) -> Option<String> {
    (!plan.is_enterprise).then(|| format!("/_billing/portal/{}", super::invoice::stripe_id("bps", org_id)))
}

#[cfg(test)]
#[path = "account_props.rs"]
mod props;
