//! An organization's plan: `limits` and `features` (OAS GET
//! /user/subscription), the checks that enforce them, and the daily call
//! counter.
//!
//! The spec names the limits (`agents`, `campaigns`, `numbers`,
//! `dailyCalls`, `concurrentCalls`, `knowledgeBaseItemLimit`,
//! `knowledgeBaseLimits`) and says `features` is a map of booleans gating
//! "capabilities like telephony, campaigns, and webhooks"; it quotes no
//! error for a limit. Decisions (inferred):
//! - **Status.** An operation's own documented status wins; else the error
//!   reference's "403 ... usage limit reached" (ERR §403). So agents,
//!   campaigns and daily calls answer 403 (POST /agent, POST /campaign and
//!   POST /conversation/outbound document 403); numbers and knowledge
//!   bases answer 400 (rent/import and the KB routes document only 400,
//!   and the KB and proration descriptions say plan failures are 400).
//! - **Messages** name the limit: `Plan limit reached: your plan allows at
//!   most 3 agents`. The knowledge-base feature uses the spec's own
//!   `KB storage access is not enabled for your account.`.
//! - `concurrentCalls` never refuses: calls over it queue (R108). It is the
//!   organization's `orgLimit` in `GET /concurrency` and the total the
//!   concurrency allocator shares out.
//!
//! Presets: `plan_free` and `plan_pro` take the figures of the rate-limits
//! page (Free: 5 concurrent calls, 3 agents, 1 knowledge base, 1 number;
//! Pro: 50, 25, 10, 10), the rest inferred; `plan_enterprise` is
//! unlimited in practice and `isEnterprise`; the mock's default,
//! `plan_standard` (the spec's example plan id), is generous so that tests
//! only meet a limit they set up through the control API.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config_rules::type_name;
use super::ledger::Credits;
use super::{DomainError, Millis};

/// The mock's default plan id (OAS #BillingBalanceResponse example).
pub const DEFAULT_PLAN_ID: &str = "plan_standard";
/// Preset plan ids, in the order of [`Plan::preset`].
pub const PRESETS: [&str; 4] = ["plan_free", "plan_pro", "plan_enterprise", DEFAULT_PLAN_ID];
/// Monthly price of one rented number, credits (OAS GET
/// /product/proration-amount example `monthlyRate: 10`).
pub const NUMBER_MONTHLY_RATE: Credits = Credits::whole(10);
/// The spec's message when the plan lacks knowledge-base storage (OAS POST
/// /knowledgebase/{id}/items/upload-media 400).
pub const KB_DISABLED: &str = "KB storage access is not enabled for your account.";

/// Per-plan quotas (`limits`). Counts, except `concurrentCalls` (calls at
/// once) and `dailyCalls` (calls placed per UTC day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Agents that are not archived.
    pub agents: u32,
    /// Campaigns that exist (any status).
    pub campaigns: u32,
    /// Phone numbers held: rented and imported.
    pub numbers: u32,
    /// Calls placed per UTC day, every type.
    pub daily_calls: u32,
    /// Calls in progress at once (≥ 1); more queue (R108).
    pub concurrent_calls: u32,
    /// Items per knowledge base.
    pub knowledge_base_item_limit: u32,
    /// Knowledge bases.
    pub knowledge_base_limits: u32,
}

/// Feature flags (`features`, a map of booleans on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// Telephony calls: outbound, inbound, telephony test calls, SIP import.
    pub telephony: bool,
    /// Renting numbers (the proration preview's "phone-numbers feature").
    pub phone_numbers: bool,
    /// Creating and starting campaigns.
    pub campaigns: bool,
    /// Creating webhooks and subscribing agents; deliveries.
    pub webhooks: bool,
    /// Knowledge-base storage.
    pub knowledge_base: bool,
}

impl Features {
    /// Every feature on.
    pub const ALL_ON: Features =
        Features { telephony: true, phone_numbers: true, campaigns: true, webhooks: true, knowledge_base: true };
}

/// A plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// `planId`.
    pub id: String,
    /// Quotas.
    pub limits: Limits,
    /// Feature flags.
    pub features: Features,
    /// Billed offline (`isEnterprise`); no Stripe portal.
    pub is_enterprise: bool,
    /// `onPremEnabled` (also on the account's organizations).
    pub on_prem_enabled: bool,
    /// Monthly price of one rented number.
    pub number_monthly_rate: Credits,
}

const BIG: u32 = 1_000_000;

impl Plan {
    /// The mock's default plan with `concurrent_calls` (the server's
    /// `--concurrency-limit`, ≥ 1) as its concurrency.
    pub fn standard(concurrent_calls: u32) -> Plan {
        Plan {
            id: DEFAULT_PLAN_ID.into(),
            limits: Limits {
                agents: 10_000,
                campaigns: 10_000,
                numbers: 1_000,
                daily_calls: BIG,
                concurrent_calls: concurrent_calls.max(1),
                knowledge_base_item_limit: 10_000,
                knowledge_base_limits: 1_000,
            },
            features: Features::ALL_ON,
            is_enterprise: false,
            on_prem_enabled: false,
            number_monthly_rate: NUMBER_MONTHLY_RATE,
        }
    }

    /// The preset named `id` (see [`PRESETS`]); `plan_standard` uses
    /// `concurrent_calls`.
    pub fn preset(id: &str, concurrent_calls: u32) -> Option<Plan> {
        let limits = |agents, campaigns, numbers, daily_calls, concurrent_calls, kb_items, kbs| Limits {
            agents,
            campaigns,
            numbers,
            daily_calls,
            concurrent_calls,
            knowledge_base_item_limit: kb_items,
            knowledge_base_limits: kbs,
        };
        let base = Plan::standard(concurrent_calls);
        match id {
            "plan_free" => Some(Plan { id: id.into(), limits: limits(3, 1, 1, 100, 5, 10, 1), ..base }),
            "plan_pro" => Some(Plan { id: id.into(), limits: limits(25, 50, 10, 10_000, 50, 500, 10), ..base }),
            "plan_enterprise" => Some(Plan {
                id: id.into(),
                limits: limits(BIG, BIG, BIG, BIG, 500, BIG, BIG),
                is_enterprise: true,
                ..base
            }),
            DEFAULT_PLAN_ID => Some(base),
            _ => None,
        }
    }
}

/// Something a plan counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// `limits.agents` (POST /agent, duplicate, unarchive): 403.
    Agents,
    /// `limits.campaigns` (POST /campaign): 403.
    Campaigns,
    /// `limits.numbers` (rent, import): 400.
    Numbers,
    /// `limits.dailyCalls` (every call placed): 403.
    DailyCalls,
    /// `limits.knowledgeBaseLimits` (POST /knowledgebase): 400.
    KnowledgeBases,
    /// `limits.knowledgeBaseItemLimit` (items of one KB): 400.
    KnowledgeBaseItems,
}

impl Quota {
    fn limit(self, l: &Limits) -> u32 {
        match self {
            Self::Agents => l.agents,
            Self::Campaigns => l.campaigns,
            Self::Numbers => l.numbers,
            Self::DailyCalls => l.daily_calls,
            Self::KnowledgeBases => l.knowledge_base_limits,
            Self::KnowledgeBaseItems => l.knowledge_base_item_limit,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Agents => "agents",
            Self::Campaigns => "campaigns",
            Self::Numbers => "phone numbers",
            Self::DailyCalls => "calls per day",
            Self::KnowledgeBases => "knowledge bases",
            Self::KnowledgeBaseItems => "items per knowledge base",
        }
    }
}

/// Admits `adding` more of `q` when `used` are held: `used + adding` must
/// not exceed the limit. Errors: see [`Quota`] for the status; message
/// `Plan limit reached: your plan allows at most <n> <noun>`.
pub fn check_quota(plan: &Plan, q: Quota, used: u64, adding: u64) -> Result<(), DomainError> {
    let limit = q.limit(&plan.limits);
    if used.saturating_add(adding) <= u64::from(limit) {
        return Ok(());
    }
    let msg = format!("Plan limit reached: your plan allows at most {limit} {}", q.noun());
    Err(match q {
        Quota::Agents | Quota::Campaigns | Quota::DailyCalls => DomainError::Forbidden(msg),
        Quota::Numbers | Quota::KnowledgeBases | Quota::KnowledgeBaseItems => DomainError::Validation(msg),
    })
}

/// A feature a plan can switch off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `features.telephony`: 403 (outbound documents 403).
    Telephony,
    /// `features.phoneNumbers`: 400 (the proration preview's 400).
    PhoneNumbers,
    /// `features.campaigns`: 403 (POST /campaign documents 403).
    Campaigns,
    /// `features.webhooks`: 400 (POST /webhook documents only 400).
    Webhooks,
    /// `features.knowledgeBase`: 400 [`KB_DISABLED`].
    KnowledgeBase,
}

/// Ok when `plan` includes `f`; else the error [`Feature`] names, with
/// message `Your plan does not include <feature>` (inferred) or the
/// spec's own for knowledge bases.
pub fn require(plan: &Plan, f: Feature) -> Result<(), DomainError> {
    let p = &plan.features;
    let (on, err) = match f {
        Feature::Telephony => (p.telephony, DomainError::Forbidden("Your plan does not include telephony".into())),
        Feature::PhoneNumbers => (
            p.phone_numbers,
            DomainError::invalid("Phone numbers are not enabled for this organization. Please contact support."),
        ),
        Feature::Campaigns => (p.campaigns, DomainError::Forbidden("Your plan does not include campaigns".into())),
        Feature::Webhooks => (p.webhooks, DomainError::invalid("Your plan does not include webhooks")),
        Feature::KnowledgeBase => (p.knowledge_base, DomainError::invalid(KB_DISABLED)),
    };
    if on {
        Ok(())
    } else {
        Err(err)
    }
}

const DAY_MS: Millis = 86_400_000;

/// Calls placed on one UTC day (`dailyCalls`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCalls {
    /// The UTC day, as days since the epoch.
    pub day: i64,
    /// Calls placed that day.
    pub count: u32,
}

impl DailyCalls {
    /// The counter after admitting one more call at `now`, or the
    /// [`Quota::DailyCalls`] error. A new UTC day starts from zero.
    pub fn admit(self, plan: &Plan, now: Millis) -> Result<DailyCalls, DomainError> {
        let day = now.div_euclid(DAY_MS);
        let used = if day == self.day { self.count } else { 0 };
        check_quota(plan, Quota::DailyCalls, u64::from(used), 1)?;
        Ok(DailyCalls { day, count: used.saturating_add(1) })
    }
}

/// A control-API change to a plan (mock extension, `PUT /_admin/plan`):
/// `{planId?, limits?: {<limit>: int}, features?: {<feature>: bool},
/// isEnterprise?, onPremEnabled?, numberMonthlyRate?}`. A preset `planId`
/// starts from the preset; any other id renames the current plan. The
/// other fields then override.
pub fn apply_patch(current: &Plan, body: &Map<String, Value>, concurrent_calls: u32) -> Result<Plan, DomainError> {
    let mut next = current.clone();
    if let Some(v) = body.get("planId") {
        let id = v.as_str().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            DomainError::invalid(format!("planId: Expected non-empty string, received {}", type_name(v)))
        })?;
        next = Plan::preset(id, concurrent_calls).unwrap_or(Plan { id: id.to_string(), ..next });
    }
    if let Some(v) = body.get("limits") {
        let m = v.as_object().ok_or_else(|| bad_type("limits", "object", v))?;
        let mut limits = serde_json::to_value(next.limits).unwrap_or_default();
        for (k, v) in m {
            let n = v.as_u64().and_then(|n| u32::try_from(n).ok());
            let slot = limits.get_mut(k).ok_or_else(|| DomainError::invalid(format!("limits.{k}: Unknown limit")))?;
            let n = n.ok_or_else(|| bad_type(&format!("limits.{k}"), "non-negative integer", v))?;
            if k == "concurrentCalls" && n == 0 {
                return Err(DomainError::invalid("limits.concurrentCalls: Number must be greater than or equal to 1"));
            }
            *slot = Value::from(n);
        }
        next.limits = serde_json::from_value(limits).map_err(|e| DomainError::invalid(e.to_string()))?;
    }
    if let Some(v) = body.get("features") {
        let m = v.as_object().ok_or_else(|| bad_type("features", "object", v))?;
        let mut features = serde_json::to_value(next.features).unwrap_or_default();
        for (k, v) in m {
            let slot =
                features.get_mut(k).ok_or_else(|| DomainError::invalid(format!("features.{k}: Unknown feature")))?;
            *slot = Value::Bool(v.as_bool().ok_or_else(|| bad_type(&format!("features.{k}"), "boolean", v))?);
        }
        next.features = serde_json::from_value(features).map_err(|e| DomainError::invalid(e.to_string()))?;
    }
    for (key, slot) in [("isEnterprise", &mut next.is_enterprise), ("onPremEnabled", &mut next.on_prem_enabled)] {
        if let Some(v) = body.get(key) {
            *slot = v.as_bool().ok_or_else(|| bad_type(key, "boolean", v))?;
        }
    }
    if let Some(v) = body.get("numberMonthlyRate") {
        next.number_monthly_rate = v
            .as_f64()
            .and_then(Credits::from_f64)
            .filter(|c| c.micros() >= 0)
            .ok_or_else(|| bad_type("numberMonthlyRate", "non-negative number", v))?;
    }
    Ok(next)
}

fn bad_type(path: &str, want: &str, v: &Value) -> DomainError {
    DomainError::invalid(format!("{path}: Expected {want}, received {}", type_name(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: &Value) -> &Map<String, Value> {
        v.as_object().expect("a JSON object")
    }

    #[test]
    fn the_default_plan_is_generous_and_keeps_the_server_concurrency() {
        let p = Plan::standard(10);
        assert_eq!((p.id.as_str(), p.limits.concurrent_calls), ("plan_standard", 10));
        assert!(check_quota(&p, Quota::Agents, 9_999, 1).is_ok());
        assert_eq!(serde_json::to_value(p.features).expect("json")["phoneNumbers"], json!(true));
        assert_eq!(
            serde_json::to_value(p.limits).expect("json").as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
            Some(
                [
                    "agents",
                    "campaigns",
                    "numbers",
                    "dailyCalls",
                    "concurrentCalls",
                    "knowledgeBaseItemLimit",
                    "knowledgeBaseLimits"
                ]
                .map(String::from)
                .to_vec()
            )
        );
    }

    #[test]
    fn limits_answer_with_the_operations_status() {
        let free = Plan::preset("plan_free", 10).expect("preset");
        assert_eq!(
            check_quota(&free, Quota::Agents, 3, 1),
            Err(DomainError::Forbidden("Plan limit reached: your plan allows at most 3 agents".into()))
        );
        assert!(matches!(check_quota(&free, Quota::Numbers, 1, 1), Err(DomainError::Validation(_))));
        assert!(check_quota(&free, Quota::Numbers, 0, 1).is_ok());
    }

    #[test]
    fn features_gate_with_their_messages() {
        let mut p = Plan::standard(10);
        p.features.knowledge_base = false;
        p.features.campaigns = false;
        assert_eq!(require(&p, Feature::KnowledgeBase), Err(DomainError::invalid(KB_DISABLED)));
        assert!(matches!(require(&p, Feature::Campaigns), Err(DomainError::Forbidden(_))));
        assert!(require(&p, Feature::Telephony).is_ok());
    }

    #[test]
    fn the_daily_counter_resets_at_utc_midnight() {
        let mut p = Plan::standard(10);
        p.limits.daily_calls = 2;
        let t = 1_767_225_600_000;
        let c = DailyCalls::default().admit(&p, t).and_then(|c| c.admit(&p, t + 1)).expect("two fit");
        assert!(matches!(c.admit(&p, t + 2), Err(DomainError::Forbidden(_))));
        assert_eq!(c.admit(&p, t + DAY_MS).expect("next day").count, 1);
    }

    #[test]
    fn patches_switch_presets_and_override_fields() {
        let p = Plan::standard(10);
        let free = apply_patch(&p, body(&json!({"planId": "plan_free", "limits": {"agents": 7}})), 10).expect("ok");
        assert_eq!((free.id.as_str(), free.limits.agents, free.limits.numbers), ("plan_free", 7, 1));
        let custom =
            apply_patch(&p, body(&json!({"planId": "acme", "features": {"webhooks": false}})), 10).expect("ok");
        assert_eq!((custom.id.as_str(), custom.features.webhooks, custom.limits.agents), ("acme", false, 10_000));
        for bad in [
            json!({"limits": {"agents": -1}}),
            json!({"limits": {"seats": 1}}),
            json!({"limits": {"concurrentCalls": 0}}),
            json!({"features": {"telephony": "yes"}}),
            json!({"planId": ""}),
        ] {
            assert!(apply_patch(&p, body(&bad), 10).is_err(), "{bad}");
        }
    }
}
