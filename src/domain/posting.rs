//! What billable actions write to the ledger ([`super::ledger`]): one
//! [`Posting`] builder per action, each with its idempotency key, scope
//! and feature id.
//!
//! | action | type | scope | `featureId` | key |
//! |---|---|---|---|---|
//! | a finished call ([`call_charge`]) | `USAGE_DEDUCTION` | `voice_ai` | `atoms.call` | `call:<callId>` |
//! | renting a number ([`rental_charge`]) | `USAGE_DEDUCTION` | `platform` | `atoms.phone_number.rental` | `rent:<productId>` |
//! | a monthly renewal ([`renewal_charge`]) | `USAGE_DEDUCTION` | `platform` | `atoms.phone_number.renewal` | `renew:<productId>:<cycle start>` |
//! | a prompt score ([`prompt_score_charge`]) | `USAGE_DEDUCTION` | `platform` | `atoms.prompt_scoring` | `score:<requestId>` |
//! | a new organization ([`signup_bonus`]) | `SIGNUP_BONUS` | | | |
//! | the control API ([`top_up`]) | purchase, coupon, adjustment, ... | | | |
//!
//! The call rule ([`billed_amount`]) is the one the call engine already
//! applies to `callCost` (`calls::finish`: the scenario's cost when the
//! call connected, else 0), so the ledger and the call log always agree.

use super::call::CallStatus;
use super::ledger::{Credits, Scope, TransactionType};
use super::{DomainError, Millis};

/// A row to record, before the ledger stamps its id, balance and time.
/// Built by [`call_charge`], [`rental_charge`], [`renewal_charge`],
/// [`prompt_score_charge`], [`top_up`] and [`signup_bonus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// Type.
    pub transaction_type: TransactionType,
    /// Signed delta.
    pub amount: Credits,
    /// Spend category (usage rows).
    pub scope: Option<Scope>,
    /// `featureId`.
    pub feature_id: Option<&'static str>,
    /// `referenceId`.
    pub reference_id: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `callId`.
    pub call_id: Option<String>,
    /// `agentId`.
    pub agent_id: Option<String>,
    /// `requestId`.
    pub request_id: Option<String>,
    /// Idempotency key: a second posting with the same key records nothing.
    pub key: Option<String>,
}

impl Posting {
    fn new(transaction_type: TransactionType, amount: Credits) -> Self {
        Self {
            transaction_type,
            amount,
            scope: None,
            feature_id: None,
            reference_id: None,
            description: None,
            call_id: None,
            agent_id: None,
            request_id: None,
            key: None,
        }
    }

    fn usage(amount: Credits, scope: Scope, feature: &'static str, key: String) -> Self {
        Self {
            scope: Some(scope),
            feature_id: Some(feature),
            key: Some(key),
            ..Self::new(TransactionType::UsageDeduction, -amount)
        }
    }
}

/// How a finished call stands, as billing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallCharge {
    /// `callId`.
    pub call_id: String,
    /// Its agent.
    pub agent_id: String,
    /// Final status.
    pub status: CallStatus,
    /// It connected (was answered) before it ended.
    pub connected: bool,
    /// The scenario's `callCost`, credits (may be anything a fixture says).
    pub cost: f64,
}

/// What a call is billed (credits): its cost when it connected and ended,
/// else nothing; a negative, NaN or infinite cost bills nothing. The rule
/// the call engine uses for `callCost` (`calls::finish`: "connected ?
/// scenario cost : 0"), so an unanswered, busy or failed-to-connect call
/// and one cancelled in the queue cost 0, and a call cancelled while
/// talking costs its full cost.
pub fn billed_amount(c: &CallCharge) -> Credits {
    if !c.status.is_terminal() || !c.connected {
        return Credits::ZERO;
    }
    Credits::from_f64(c.cost).filter(|x| x.is_positive()).unwrap_or(Credits::ZERO)
}

/// The usage row for a finished call, or `None` when it costs nothing.
/// Key `call:<callId>`, scope `voice_ai`, feature `atoms.call`.
pub fn call_charge(c: &CallCharge) -> Option<Posting> {
    let amount = billed_amount(c);
    amount.is_positive().then(|| Posting {
        call_id: Some(c.call_id.clone()),
        agent_id: Some(c.agent_id.clone()),
        description: Some(format!("Call {} ({})", c.call_id, c.status.as_str())),
        ..Posting::usage(amount, Scope::VoiceAi, "atoms.call", format!("call:{}", c.call_id))
    })
}

/// The prorated first charge for renting `number` as product `product_id`
/// (OAS POST /product/rent-number). Key `rent:<productId>`.
pub fn rental_charge(product_id: &str, number: &str, amount: Credits) -> Posting {
    Posting {
        reference_id: Some(product_id.to_string()),
        description: Some(format!("Phone number rental {number} (prorated)")),
        ..Posting::usage(amount, Scope::Platform, "atoms.phone_number.rental", format!("rent:{product_id}"))
    }
}

/// A rented number's monthly charge for the cycle starting at
/// `cycle_start` (epoch ms). Key `renew:<productId>:<cycle_start>`.
pub fn renewal_charge(product_id: &str, number: &str, cycle_start: Millis, rate: Credits) -> Posting {
    Posting {
        reference_id: Some(product_id.to_string()),
        description: Some(format!(
            "Phone number renewal {number} for the cycle from {}",
            super::time::iso(cycle_start)
        )),
        ..Posting::usage(
            rate,
            Scope::Platform,
            "atoms.phone_number.renewal",
            format!("renew:{product_id}:{cycle_start}"),
        )
    }
}

/// One credit per successful prompt score (OAS POST /prompt-scoring/score:
/// "1 credit is deducted per successful call"). Key `score:<requestId>`.
pub fn prompt_score_charge(request_id: &str, agent_id: &str) -> Posting {
    Posting {
        agent_id: Some(agent_id.to_string()),
        request_id: Some(request_id.to_string()),
        description: Some("Prompt scoring".into()),
        ..Posting::usage(Credits::whole(1), Scope::Platform, "atoms.prompt_scoring", format!("score:{request_id}"))
    }
}

/// The `SIGNUP_BONUS` row of a new organization.
pub fn signup_bonus(amount: Credits) -> Posting {
    Posting { description: Some("Signup bonus".into()), ..Posting::new(TransactionType::SignupBonus, amount) }
}

/// A control-API credit change (mock extension). `CREDIT_PURCHASE`,
/// `AUTO_RELOAD`, `COUPON_CREDIT` and `SIGNUP_BONUS` add credits (the
/// amount must be positive); `ADMIN_ADJUSTMENT` and `MIGRATION` take
/// either sign but not zero; `USAGE_DEDUCTION` is refused, usage comes
/// from actions only.
pub fn top_up(kind: TransactionType, amount: Credits, description: Option<String>) -> Result<Posting, DomainError> {
    match kind {
        TransactionType::CreditPurchase
        | TransactionType::AutoReload
        | TransactionType::CouponCredit
        | TransactionType::SignupBonus
            if !amount.is_positive() =>
        {
            Err(DomainError::invalid("amount: Number must be greater than 0"))
        }
        TransactionType::AdminAdjustment | TransactionType::Migration if amount == Credits::ZERO => {
            Err(DomainError::invalid("amount: Number must not be 0"))
        }
        TransactionType::UsageDeduction => {
            Err(DomainError::invalid("type: USAGE_DEDUCTION rows are written by billable actions only"))
        }
        TransactionType::CreditPurchase
        | TransactionType::AutoReload
        | TransactionType::CouponCredit
        | TransactionType::SignupBonus
        | TransactionType::AdminAdjustment
        | TransactionType::Migration => Ok(Posting { description, ..Posting::new(kind, amount) }),
    }
}

/// A billable platform action that another area charges through the
/// account book (`store::AccountBook::charge`), pre-paid, on the
/// `platform` scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeKind {
    /// `POST /prompt-scoring/score`: the scored agent. 1 credit per
    /// successful score (the spec), feature `atoms.prompt_scoring`.
    PromptScore {
        /// The agent whose prompt was scored.
        agent_id: String,
    },
    /// Any other platform feature, named by its `featureId`
    /// (`atoms.<area>.<action>`), with the agent it concerns, if any.
    Platform {
        /// `featureId` of the row.
        feature_id: &'static str,
        /// The agent concerned.
        agent_id: Option<String>,
        /// `description` of the row.
        description: String,
    },
}

/// The usage row for `kind` costing `amount` (> 0 credits), charged once
/// per `request_id` (the API request that caused it, `x-request-id`): key
/// `<featureId>:<request_id>`. A prompt score's key is `score:<requestId>`,
/// as [`prompt_score_charge`] builds it, so both paths are idempotent
/// together.
pub fn platform_charge(kind: &ChargeKind, request_id: &str, amount: Credits) -> Posting {
    match kind {
        ChargeKind::PromptScore { agent_id } => {
            Posting { amount: -amount, ..prompt_score_charge(request_id, agent_id) }
        }
        ChargeKind::Platform { feature_id, agent_id, description } => Posting {
            agent_id: agent_id.clone(),
            request_id: Some(request_id.to_string()),
            description: Some(description.clone()),
            ..Posting::usage(amount, Scope::Platform, feature_id, format!("{feature_id}:{request_id}"))
        },
    }
}
