//! Invoices (OAS GET /payment/v1/invoices, GET
//! /payment/v1/invoices/{invoiceId}/pdf, GET /product/unpaid-invoices).
//!
//! The platform returns raw Stripe `Invoice` objects; the mock issues its
//! own, Stripe-shaped, for the money that moves outside the credit ledger:
//! a credit purchase through the control API issues a `paid` invoice, and
//! the control API can issue an `open` (unpaid) one. While any invoice is
//! `open`, `paymentRequired` is true and the organization is locked for
//! number rental and its preview (OAS GET /product/proration-amount: "400
//! ... if the org is currently locked (e.g. unpaid invoices)").
//!
//! Ids look like Stripe's (`in_` + 24 alphanumerics, the spec's example
//! `in_1THiCSRwh8g1U6dfOcUtTdq9`). A foreign or unknown id is 404 `Invoice
//! not found: <id>` (the spec's example), never 403.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::ledger::Credits;
use super::{DomainError, Millis};

/// `GET /payment/v1/invoices` lists at most this many, newest first.
pub const MAX_LISTED: usize = 20;

/// Invoices one organization keeps (a mock bound on memory): past it, the
/// oldest paid or void ones are forgotten in a batch, down to 15/16 of it;
/// open invoices are always kept. Numbers go on from the count issued.
pub const MAX_KEPT: usize = 1_000;

/// 400 while an invoice is unpaid (inferred message; the spec names the
/// lock, not its text).
pub const UNPAID: &str = "Your organization has unpaid invoices. Please pay the outstanding balance to continue.";

/// Stripe invoice status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// Awaiting payment: locks rental.
    Open,
    /// Paid.
    Paid,
    /// Cancelled.
    Void,
}

impl InvoiceStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Void => "void",
        }
    }
}

/// One invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    /// `in_…`.
    pub id: String,
    /// Stripe's human number, `<8 hex of the org>-<4-digit sequence>`.
    pub number: String,
    /// Status.
    pub status: InvoiceStatus,
    /// Total, in cents of USD.
    pub amount_cents: i64,
    /// What it is for.
    pub description: String,
    /// Issued, epoch ms.
    pub created: Millis,
    /// Paid, epoch ms.
    pub paid_at: Option<Millis>,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A Stripe-style id `<prefix>_` + 24 alphanumerics derived from `hex`
/// (a 24-hex object id): the same input, the same id.
pub fn stripe_id(prefix: &str, hex: &str) -> String {
    let digest = super::ids::derived_id(&[prefix, hex]) + &super::ids::derived_id(&[hex, prefix]);
    let tail: String = (0..24)
        .map(|i| u8::from_str_radix(&digest[2 * i..2 * i + 2], 16).unwrap_or(0))
        .map(|b| char::from(BASE62[usize::from(b) % 62]))
        .collect();
    format!("{prefix}_{tail}")
}

fn cents(c: Credits) -> i64 {
    c.round_cents().micros() / (Credits::MICROS / 100)
}

/// An organization's invoices, oldest first: at most [`MAX_KEPT`] besides
/// open ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceBook {
    invoices: Vec<Invoice>,
    /// How many were ever issued (numbers go on from it); absent from
    /// older state files, where it is the number kept.
    #[serde(default)]
    issued: u64,
}

impl InvoiceBook {
    /// Issues an invoice for `amount` (> 0): `paid` at once for a
    /// purchase, else `open`. `hex` is a fresh 24-hex id to derive the
    /// Stripe id from; `org_id` prefixes the number.
    pub fn issue(
        &mut self,
        org_id: &str,
        hex: &str,
        amount: Credits,
        description: String,
        paid: bool,
        now: Millis,
    ) -> Result<&Invoice, DomainError> {
        if !amount.is_positive() {
            return Err(DomainError::invalid("amount: Number must be greater than 0"));
        }
        let prefix: String = org_id.chars().take(8).collect::<String>().to_ascii_uppercase();
        self.issued = self.issued.max(self.invoices.len() as u64) + 1;
        self.forget_settled();
        self.invoices.push(Invoice {
            id: stripe_id("in", hex),
            number: format!("{prefix}-{:04}", self.issued),
            status: if paid { InvoiceStatus::Paid } else { InvoiceStatus::Open },
            amount_cents: cents(amount),
            description,
            created: now,
            paid_at: paid.then_some(now),
        });
        Ok(&self.invoices[self.invoices.len() - 1])
    }

    /// Forgets the oldest paid or void invoices past [`MAX_KEPT`].
    fn forget_settled(&mut self) {
        if self.invoices.len() < MAX_KEPT {
            return;
        }
        let settled = self.invoices.iter().filter(|i| i.status != InvoiceStatus::Open).count();
        let mut left = settled.saturating_sub(MAX_KEPT - MAX_KEPT / 16);
        self.invoices.retain(|i| {
            let go = left > 0 && i.status != InvoiceStatus::Open;
            left -= usize::from(go);
            !go
        });
    }

    /// The [`MAX_LISTED`] newest, newest first.
    pub fn recent(&self) -> impl Iterator<Item = &Invoice> {
        self.invoices.iter().rev().take(MAX_LISTED)
    }

    /// The invoice `id`; 404 `Invoice not found: <id>`.
    pub fn get(&self, id: &str) -> Result<&Invoice, DomainError> {
        self.invoices
            .iter()
            .find(|i| i.id == id)
            .ok_or_else(|| DomainError::NotFound(format!("Invoice not found: {id}")))
    }

    /// `paymentRequired`: some invoice is `open`.
    pub fn payment_required(&self) -> bool {
        self.invoices.iter().any(|i| i.status == InvoiceStatus::Open)
    }

    /// 400 [`UNPAID`] while [`InvoiceBook::payment_required`].
    pub fn ensure_unlocked(&self) -> Result<(), DomainError> {
        if self.payment_required() {
            Err(DomainError::invalid(UNPAID))
        } else {
            Ok(())
        }
    }

    /// Control API: settles (`paid`) or voids an open invoice. Anything
    /// else is 400 `Invoice <id> is <status>`; an unknown id 404.
    pub fn settle(&mut self, id: &str, pay: bool, now: Millis) -> Result<&Invoice, DomainError> {
        let inv = self
            .invoices
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| DomainError::NotFound(format!("Invoice not found: {id}")))?;
        if inv.status != InvoiceStatus::Open {
            return Err(DomainError::invalid(format!("Invoice {id} is {}", inv.status.as_str())));
        }
        inv.status = if pay { InvoiceStatus::Paid } else { InvoiceStatus::Void };
        inv.paid_at = pay.then_some(now);
        Ok(inv)
    }
}

/// Path of an invoice's PDF on the mock (served by the HTTP layer, so a
/// client can download it without the internet).
pub fn pdf_path(id: &str) -> String {
    format!("/_files/invoices/{id}.pdf")
}

impl Invoice {
    /// The raw Stripe `Invoice` object (the keys the spec says callers
    /// use: `id, status, amount_paid, amount_due, currency, created,
    /// hosted_invoice_url, invoice_pdf, number`, plus `object`, `paid`,
    /// `amount_remaining`, `customer`, `description`). `base` is the
    /// mock's own URL; `created` is Unix seconds, as Stripe sends it.
    pub fn stripe(&self, org_id: &str, base: &str) -> Value {
        let paid = self.status == InvoiceStatus::Paid;
        let remaining = if self.status == InvoiceStatus::Open { self.amount_cents } else { 0 };
        json!({
            "id": self.id, "object": "invoice", "number": self.number, "status": self.status.as_str(),
            "paid": paid, "amount_due": self.amount_cents, "amount_paid": if paid { self.amount_cents } else { 0 },
            "amount_remaining": remaining, "currency": "usd", "created": self.created / 1000,
            "customer": stripe_id("cus", org_id), "description": self.description,
            "hosted_invoice_url": format!("{base}/_files/invoices/{}", self.id),
            "invoice_pdf": format!("{base}{}", pdf_path(&self.id)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "69561896a37fd214b9a8d33c";

    #[test]
    fn ids_look_like_stripes_and_repeat() {
        let id = stripe_id("in", "60d0fe4f5311236168a109ca");
        assert_eq!(id.len(), "in_1THiCSRwh8g1U6dfOcUtTdq9".len());
        assert!(id[3..].bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        assert_eq!(id, stripe_id("in", "60d0fe4f5311236168a109ca"));
        assert_ne!(id, stripe_id("in", "60d0fe4f5311236168a109cb"));
    }

    #[test]
    fn an_open_invoice_locks_until_paid() {
        let mut b = InvoiceBook::default();
        let id = b
            .issue(ORG, "60d0fe4f5311236168a109ca", Credits::whole(25), "Usage".into(), false, 0)
            .expect("ok")
            .id
            .clone();
        assert!(b.payment_required());
        assert_eq!(b.ensure_unlocked(), Err(DomainError::invalid(UNPAID)));
        b.settle(&id, true, 5).expect("paid");
        assert!(b.ensure_unlocked().is_ok());
        assert!(b.settle(&id, true, 6).is_err(), "already paid");
        assert_eq!(b.get("in_nope"), Err(DomainError::NotFound("Invoice not found: in_nope".into())));
    }

    #[test]
    fn the_list_holds_the_twenty_newest_in_stripe_shape() {
        let mut b = InvoiceBook::default();
        for i in 0..25 {
            b.issue(ORG, &format!("{i:024x}"), Credits::whole(10), "Credits".into(), true, i * 1000).expect("ok");
        }
        let listed: Vec<_> = b.recent().collect();
        assert_eq!((listed.len(), listed[0].created), (20, 24_000));
        let s = listed[0].stripe(ORG, "http://127.0.0.1:1");
        assert_eq!(
            (s["amount_paid"].as_i64(), s["status"].as_str(), s["created"].as_i64()),
            (Some(1000), Some("paid"), Some(24))
        );
        assert_eq!(s["number"], "69561896-0025");
        assert!(s["invoice_pdf"].as_str().is_some_and(|u| u.ends_with(".pdf")));
    }

    #[test]
    fn past_the_bound_the_oldest_settled_invoices_go_and_numbers_go_on() {
        let mut b = InvoiceBook::default();
        let open =
            b.issue(ORG, &format!("{:024x}", 0), Credits::whole(5), "Usage".into(), false, 0).expect("ok").id.clone();
        let n = MAX_KEPT * 2;
        for i in 1..n as i64 {
            b.issue(ORG, &format!("{i:024x}"), Credits::whole(10), "Credits".into(), true, i).expect("ok");
        }
        assert!(b.invoices.len() <= MAX_KEPT, "{}", b.invoices.len());
        assert!(b.get(&open).is_ok() && b.payment_required(), "the open invoice stays");
        assert!(b.get(&stripe_id("in", &format!("{:024x}", 1))).is_err(), "the oldest paid one went");
        let newest = b.recent().next().expect("one");
        assert_eq!(newest.number, format!("69561896-{n:04}"), "numbering goes on");
    }
}
