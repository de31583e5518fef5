//! An organization's phone numbers (OAS tag Phone Numbers): rented
//! (`telephony`) and imported SIP (`custom`) products, their attachment to
//! agents ([`NumberBook::numbers_of`] is what caller-ID resolution reads,
//! `calls::caller_id`, LIVE K1).
//!
//! **One relation, one owner.** A product's `agentId` is the only record
//! of which agent holds it; an agent's `telephonyProductId` is read from
//! the book ([`NumberBook::numbers_of`]), in the order it was set. So the
//! two always agree. Setting an agent's list ([`NumberBook::attach`])
//! takes numbers from any other agent that held them and frees the
//! agent's numbers that are not in the list (inferred: the platform keeps
//! one `agentId` per number, so attaching moves it).
//!
//! Decisions where the spec is silent (inferred):
//! - a malformed, unknown or foreign product id is 400 `Invalid product
//!   id`, the one message the spec has for a bad product id (R104), on
//!   attach, release and `fromProductId` alike;
//! - release removes the product from the organization (the spec: "the
//!   number goes back into provider inventory"); an attached number is
//!   400 `Phone number is assigned to an agent. Detach it from the agent
//!   before releasing it.` (the spec names the case);
//! - an imported number can be released too (it is the only way to
//!   remove one); no refund either way.
//!
//! Products and their wire shapes are in [`super::phone_product`].

use serde::{Deserialize, Serialize};

use super::ids::is_object_id;
use super::inventory::RentRequest;
use super::phone_product::{ImportRequest, PhoneProduct, ProductType, SipTrunk};
use super::{DomainError, Millis};

/// 400 for a bad, unknown or foreign product id (R104).
pub const INVALID_PRODUCT: &str = "Invalid product id";
/// 400 when releasing an attached number (inferred message).
pub const STILL_ASSIGNED: &str = "Phone number is assigned to an agent. Detach it from the agent before releasing it.";
/// 400 when importing a number the organization already has (OAS POST
/// /product/import-phone-number 400, exact).
pub const ALREADY_PRESENT: &str = "Number already present";

/// An organization's numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberBook {
    products: Vec<PhoneProduct>,
    next_rank: u64,
}

impl NumberBook {
    /// Every product, oldest first.
    pub fn all(&self) -> &[PhoneProduct] {
        &self.products
    }

    /// Products of `kind`, oldest first.
    pub fn of_type(&self, kind: ProductType) -> impl Iterator<Item = &PhoneProduct> {
        self.products.iter().filter(move |p| p.product_type == kind)
    }

    /// How many numbers are held (the `numbers` quota).
    pub fn count(&self) -> u64 {
        self.products.len() as u64
    }

    /// The product `id` of this organization; 400 [`INVALID_PRODUCT`].
    pub fn get(&self, id: &str) -> Result<&PhoneProduct, DomainError> {
        self.products.iter().find(|p| p.id == id).ok_or_else(|| DomainError::invalid(INVALID_PRODUCT))
    }

    /// True when the organization holds `number` (exact string).
    pub fn holds(&self, number: &str) -> bool {
        self.products.iter().any(|p| p.phone_number == number)
    }

    /// Adds a rented number as product `id` (checks are the caller's:
    /// plan, compliance, funds, platform-wide uniqueness).
    pub fn add_rented(
        &mut self,
        id: String,
        req: &RentRequest,
        compliance: Option<String>,
        now: Millis,
    ) -> &PhoneProduct {
        self.products.push(PhoneProduct {
            provider: Some(req.provider),
            country_code: Some(req.country.to_string()),
            area_code: Some(req.area_code.to_string()),
            compliance_application_id: compliance,
            ..PhoneProduct::new(id, ProductType::Telephony, req.e164.clone(), now)
        });
        &self.products[self.products.len() - 1]
    }

    /// Imports a SIP number as product `id` with trunk ids `trunks`
    /// (outbound, inbound). 400 [`ALREADY_PRESENT`] when held. The default
    /// name is `<phoneNumber>-<userId>` (the spec: "auto-generated from the
    /// phone number and user ID").
    pub fn import(
        &mut self,
        id: String,
        req: ImportRequest,
        trunks: (String, String),
        user_id: &str,
        now: Millis,
    ) -> Result<&PhoneProduct, DomainError> {
        if self.holds(&req.phone_number) {
            return Err(DomainError::invalid(ALREADY_PRESENT));
        }
        let sip = SipTrunk {
            name: req.name.unwrap_or_else(|| format!("{}-{user_id}", req.phone_number)),
            termination_host: req.termination_host,
            username: req.username,
            outbound_trunk_id: trunks.0,
            inbound_trunk_id: trunks.1,
        };
        self.products
            .push(PhoneProduct { sip: Some(sip), ..PhoneProduct::new(id, ProductType::Custom, req.phone_number, now) });
        Ok(&self.products[self.products.len() - 1])
    }

    /// Releases product `id` (`productId`, 24-hex): removes and returns it.
    /// 400 [`INVALID_PRODUCT`], 400 [`STILL_ASSIGNED`].
    pub fn release(&mut self, id: &str) -> Result<PhoneProduct, DomainError> {
        if !is_object_id(id) {
            return Err(DomainError::invalid(INVALID_PRODUCT));
        }
        let i = self.products.iter().position(|p| p.id == id).ok_or_else(|| DomainError::invalid(INVALID_PRODUCT))?;
        if self.products[i].agent_id.is_some() {
            return Err(DomainError::invalid(STILL_ASSIGNED));
        }
        Ok(self.products.remove(i))
    }

    /// The agent's numbers (`telephonyProductId`), in the order set.
    pub fn numbers_of(&self, agent_id: &str) -> Vec<&str> {
        let mut mine: Vec<&PhoneProduct> =
            self.products.iter().filter(|p| p.agent_id.as_deref() == Some(agent_id)).collect();
        mine.sort_by_key(|p| p.attach_rank);
        mine.into_iter().map(|p| p.id.as_str()).collect()
    }

    /// Makes `ids` exactly the agent's numbers, in that order (duplicates
    /// ignored). Every id must be one of this organization's products, or
    /// 400 [`INVALID_PRODUCT`] and nothing changes. Returns the agents
    /// that lost a number to this one, with the number.
    pub fn attach(
        &mut self,
        agent_id: &str,
        ids: &[String],
        now: Millis,
    ) -> Result<Vec<(String, String)>, DomainError> {
        if ids.iter().any(|id| !self.products.iter().any(|p| &p.id == id)) {
            return Err(DomainError::invalid(INVALID_PRODUCT));
        }
        let mut wanted: Vec<&str> = Vec::with_capacity(ids.len());
        for id in ids {
            if !wanted.contains(&id.as_str()) {
                wanted.push(id);
            }
        }
        if self.numbers_of(agent_id) == wanted {
            return Ok(Vec::new());
        }
        let mut moved = Vec::new();
        for p in &mut self.products {
            let mine = p.agent_id.as_deref() == Some(agent_id);
            match wanted.iter().position(|id| *id == p.id) {
                Some(pos) => {
                    if let Some(other) = p.agent_id.as_deref().filter(|a| *a != agent_id) {
                        moved.push((other.to_string(), p.id.clone()));
                    }
                    p.agent_id = Some(agent_id.to_string());
                    p.attach_rank = self.next_rank + pos as u64;
                    touch(p, now);
                }
                None if mine => {
                    p.agent_id = None;
                    touch(p, now);
                }
                None => {}
            }
        }
        self.next_rank += wanted.len() as u64;
        Ok(moved)
    }

    /// Frees every number of `agent_id` (e.g. when the agent goes away).
    pub fn detach_all(&mut self, agent_id: &str, now: Millis) {
        for p in self.products.iter_mut().filter(|p| p.agent_id.as_deref() == Some(agent_id)) {
            p.agent_id = None;
            touch(p, now);
        }
    }

    /// Rented numbers whose monthly charge is due: `(product, number,
    /// billed_through)`, for [`super::billing_cycle::renewals_between`].
    pub fn rented_billing(&self) -> impl Iterator<Item = (&str, &str, Millis)> {
        self.of_type(ProductType::Telephony).map(|p| (p.id.as_str(), p.phone_number.as_str(), p.billed_through))
    }

    /// Records that `product_id` is billed through `at` (epoch ms).
    pub fn mark_billed(&mut self, product_id: &str, at: Millis) {
        if let Some(p) = self.products.iter_mut().find(|p| p.id == product_id) {
            p.billed_through = p.billed_through.max(at);
        }
    }
}

fn touch(p: &mut PhoneProduct, now: Millis) {
    p.updated_at = p.updated_at.max(now);
    p.version += 1;
}

#[cfg(test)]
#[path = "numbers_props.rs"]
mod props;
