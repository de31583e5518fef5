//! Caller ID of outbound calls (LIVE K1, R105): the number a call is
//! placed *from*. It is `fromProductId`'s number, else the agent's
//! attached phone number (its first `telephonyProductId`), else the
//! platform's managed default outbound number ("a Smallest-managed Plivo
//! trunk with a default outbound number"), one per server. It is never
//! the callee's own number: a source that would be skips to the next.
//!
//! The call's `from`, `variables.agent_number` (outbound), the webhooks'
//! `fromPhone` / `callData.fromNumber` and the call log all read the one
//! value chosen here.
//!
//! [`resolve`] looks numbers up in the organization's account book first:
//! a `fromProductId` the organization rents or imported, else a number
//! attached to the agent there. Product ids the book does not hold (an
//! agent's `telephonyProductId` set before numbers were rented) fall back
//! to [`product_number`], a stable number derived from the id.

use crate::domain::ids::derived_id;
use crate::store::Tenant;

/// The managed default outbound number (E.164), the same for every
/// organization of a server.
pub const MANAGED_DEFAULT_NUMBER: &str = "+14155550100";

/// The managed trunk's second number, used only when the callee is
/// [`MANAGED_DEFAULT_NUMBER`] itself.
pub const MANAGED_SPARE_NUMBER: &str = "+14155550101";

/// The E.164 number of phone-number product `product_id`: `+1555` and
/// seven digits derived from the id, stable across runs.
pub fn product_number(product_id: &str) -> String {
    let digits: String =
        derived_id(&["product", product_id]).bytes().map(|b| char::from(b'0' + b % 10)).take(7).collect();
    format!("+1555{digits}")
}

/// The caller ID of an outbound call to `callee` (see the module doc):
/// the first of `sources` (the number of `fromProductId`, then the
/// agent's number) that is not `callee`, else the managed default, else
/// its spare.
pub fn caller_id(sources: impl IntoIterator<Item = String>, callee: &str) -> String {
    sources
        .into_iter()
        .chain([MANAGED_DEFAULT_NUMBER.to_string(), MANAGED_SPARE_NUMBER.to_string()])
        .find(|n| n != callee)
        .unwrap_or_else(|| MANAGED_DEFAULT_NUMBER.to_string())
}

/// The caller ID of an outbound call of `t` by `agent_id` to `callee`
/// (see the module doc), by [`caller_id`] over two sources:
/// `from_product`, then the agent's first number in the account book
/// (else the first of its stored products `linked`). A product the book
/// holds calls from its own number; any other from [`product_number`].
pub fn resolve(t: &Tenant, from_product: Option<&str>, agent_id: &str, linked: &[String], callee: &str) -> String {
    let account = t.account();
    let numbers = account.numbers();
    let agent_product = numbers.numbers_of(agent_id).first().copied().or(linked.first().map(String::as_str));
    let number_of = |id: &str| numbers.get(id).map_or_else(|_| product_number(id), |p| p.phone_number.clone());
    caller_id(from_product.into_iter().chain(agent_product).map(number_of), callee)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_product_wins_then_the_agent_number_then_the_managed_default() {
        let from = product_number("60d0fe4f5311236168a109ca");
        let agent = product_number("60d0fe4f5311236168a109cb");
        assert_eq!(caller_id([from.clone(), agent.clone()], "+14155550123"), from);
        assert_eq!(caller_id([agent.clone()], "+14155550123"), agent);
        assert_eq!(caller_id([from.clone(), agent.clone()], &from), agent, "never the callee");
        assert_eq!(caller_id([], "+14155550123"), MANAGED_DEFAULT_NUMBER);
        assert_eq!(caller_id([], MANAGED_DEFAULT_NUMBER), MANAGED_SPARE_NUMBER);
    }

    proptest! {
        /// LIVE K1: whatever the sources, the caller ID is never the callee
        /// and is always an E.164 number.
        #[test]
        fn the_caller_id_is_never_the_callee(
            product in proptest::option::of("[0-9a-f]{24}"),
            agent in proptest::collection::vec("[0-9a-f]{24}", 0..3),
            pick in 0usize..4,
        ) {
            let candidates = [
                product.as_deref().map(product_number),
                agent.first().map(|p| product_number(p)),
                Some(MANAGED_DEFAULT_NUMBER.to_string()),
                Some("+14155550123".to_string()),
            ];
            let callee = candidates[pick].clone().unwrap_or_else(|| "+14155550123".into());
            let sources = product.iter().chain(agent.first()).map(|p| product_number(p));
            let from = caller_id(sources, &callee);
            prop_assert_ne!(&from, &callee);
            prop_assert!(crate::domain::ids::is_e164(&from));
        }
    }
}
