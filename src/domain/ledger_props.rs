//! Unit tests and properties of the credit ledger: balance = sum of rows,
//! at most one charge per call (or rental, renewal, score), calls billed
//! by the platform's rule, refusals change nothing.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::domain::call::CallStatus;
use crate::domain::posting::{
    billed_amount, call_charge, prompt_score_charge, renewal_charge, rental_charge, signup_bonus, top_up, CallCharge,
};

const T0: Millis = 1_772_409_600_000;

fn call(id: &str, status: CallStatus, connected: bool, cost: f64) -> CallCharge {
    CallCharge { call_id: id.into(), agent_id: "60d0fe4f5311236168a109ca".into(), status, connected, cost }
}

fn sum(l: &Ledger) -> i64 {
    l.entries().iter().map(|e| e.amount.micros()).sum()
}

#[test]
fn a_connected_call_is_charged_its_cost_once() {
    let mut l = Ledger::new();
    l.post("a".into(), signup_bonus(Credits::whole(10)), T0).expect("bonus");
    let c = call("CALL-1772409600000-abcdef", CallStatus::Completed, true, 0.42);
    let p = call_charge(&c).expect("billable");
    assert_eq!(l.post("b".into(), p.clone(), T0 + 1), Ok(Posted::Recorded(1)));
    assert_eq!(l.post("c".into(), p, T0 + 2), Ok(Posted::Duplicate), "the second finish is not charged");
    assert_eq!(l.balance(), Credits::from_micros(9_580_000));
    let row = &l.entries()[1];
    assert_eq!((row.transaction_type, row.scope), (TransactionType::UsageDeduction, Some(Scope::VoiceAi)));
    assert_eq!(row.call_id.as_deref(), Some("CALL-1772409600000-abcdef"));
    assert_eq!(row.wire()["amount"], serde_json::json!(-0.42));
    assert_eq!(row.wire()["balanceAfter"], serde_json::json!(9.58));
}

#[test]
fn compaction_folds_in_batches_keeps_the_balance_and_forgets_folded_call_keys() {
    let mut l = Ledger::new();
    l.post("bonus".into(), signup_bonus(Credits::whole(1000)), T0).expect("bonus");
    let charge =
        |n: usize| call_charge(&call(&format!("CALL-{n}"), CallStatus::Completed, true, 0.5)).expect("billable");
    for n in 0..16 {
        l.post(format!("row{n}"), charge(n), T0 + 1 + n as i64).expect("charge");
    }
    let balance = l.balance();
    l.compact(16, "carry".into());
    assert_eq!(l.entries().len(), 14, "16 - 16/8 rows are left");
    assert_eq!(l.entries()[0].transaction_type, TransactionType::Migration);
    assert_eq!((l.balance(), Credits::from_micros(sum(&l))), (balance, balance), "the sum is unchanged");
    assert!(!l.is_charged("call:CALL-0"), "a folded call charge's key goes with its row");
    assert!(l.is_charged("call:CALL-15"), "a kept row's key stays");
    assert_eq!(l.post("again".into(), charge(15), T0 + 100), Ok(Posted::Duplicate));
    l.compact(16, "carry2".into());
    assert_eq!(l.entries().len(), 14, "nothing to fold under the bound");
}

#[test]
fn unanswered_failed_and_queued_cancelled_calls_cost_nothing() {
    for (status, connected) in [
        (CallStatus::NoAnswer, false),
        (CallStatus::Failed, false),
        (CallStatus::Cancelled, false),
        (CallStatus::InProgress, true),
    ] {
        assert_eq!(call_charge(&call("c", status, connected, 3.0)), None, "{status:?}");
    }
    let talked = call_charge(&call("c", CallStatus::Cancelled, true, 3.0)).expect("a cancelled talk is billed");
    assert_eq!(talked.amount, -Credits::whole(3));
    assert_eq!(call_charge(&call("c", CallStatus::Completed, true, f64::NAN)), None);
    assert_eq!(call_charge(&call("c", CallStatus::Completed, true, -1.0)), None);
}

#[test]
fn upfront_charges_need_the_funds_and_refusals_change_nothing() {
    let mut l = Ledger::new();
    assert_eq!(l.ensure_funds(Credits::ZERO), Err(DomainError::invalid(NO_CREDITS)), "zero balance");
    l.post("a".into(), signup_bonus(Credits::whole(1)), T0).expect("bonus");
    let before = l.clone();
    let rent = rental_charge("6867ca76d0f8f2e0f4201281", "+13412184691", Credits::from_micros(5_300_000));
    assert_eq!(l.charge_upfront("b".into(), rent, T0), Err(DomainError::invalid(NO_CREDITS)));
    assert_eq!(l, before);
    assert!(l.charge_upfront("c".into(), prompt_score_charge("req-1", "agent"), T0).is_ok());
    assert_eq!(l.balance(), Credits::ZERO);
    assert_eq!(l.ensure_funds(Credits::ZERO), Err(DomainError::invalid(NO_CREDITS)));
}

#[test]
fn usage_past_the_balance_goes_negative() {
    let mut l = Ledger::new();
    l.post("a".into(), signup_bonus(Credits::whole(1)), T0).expect("bonus");
    l.post("b".into(), call_charge(&call("c", CallStatus::Completed, true, 2.5)).expect("billable"), T0).expect("post");
    assert_eq!(l.balance(), Credits::from_micros(-1_500_000));
}

#[test]
fn top_ups_check_sign_by_type() {
    assert!(top_up(TransactionType::CreditPurchase, Credits::whole(5), None).is_ok());
    assert_eq!(
        top_up(TransactionType::CreditPurchase, Credits::whole(-5), None),
        Err(DomainError::invalid("amount: Number must be greater than 0"))
    );
    assert!(top_up(TransactionType::AdminAdjustment, Credits::whole(-5), None).is_ok());
    assert!(top_up(TransactionType::AdminAdjustment, Credits::ZERO, None).is_err());
    assert!(top_up(TransactionType::UsageDeduction, Credits::whole(1), None).is_err());
}

#[test]
fn credits_round_and_convert() {
    assert_eq!(Credits::from_f64(0.42), Some(Credits::from_micros(420_000)));
    assert_eq!(Credits::from_f64(f64::INFINITY), None);
    assert_eq!(Credits::from_micros(5_305_000).round_cents(), Credits::from_micros(5_310_000));
    assert_eq!(Credits::from_micros(-5_304_999).round_cents(), Credits::from_micros(-5_300_000));
}

#[derive(Debug, Clone)]
enum Op {
    Call { id: u8, status: CallStatus, connected: bool, cents: u32 },
    Rent { product: u8, cents: u32 },
    Renew { product: u8, cycle: u8, cents: u32 },
    Score { req: u8 },
    TopUp { kind: TransactionType, cents: i64 },
    Compact(usize),
}

fn any_status() -> impl Strategy<Value = CallStatus> {
    prop_oneof![
        Just(CallStatus::Completed),
        Just(CallStatus::NoAnswer),
        Just(CallStatus::Failed),
        Just(CallStatus::Cancelled),
        Just(CallStatus::InProgress),
    ]
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, any_status(), any::<bool>(), 0u32..500).prop_map(|(id, status, connected, cents)| Op::Call { id, status, connected, cents }),
        1 => (0u8..3, 0u32..1500).prop_map(|(product, cents)| Op::Rent { product, cents }),
        1 => (0u8..3, 0u8..3, 0u32..1500).prop_map(|(product, cycle, cents)| Op::Renew { product, cycle, cents }),
        1 => (0u8..4).prop_map(|req| Op::Score { req }),
        1 => (prop::sample::select(TransactionType::ALL.to_vec()), -2000i64..5000).prop_map(|(kind, cents)| Op::TopUp { kind, cents }),
        1 => (0usize..6).prop_map(Op::Compact),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn balance_is_the_sum_and_no_action_is_charged_twice(ops in proptest::collection::vec((any_op(), 0i64..100_000), 0..80)) {
        let mut l = Ledger::new();
        let mut now = T0;
        // What each call was charged by its first finish (the rule's amount).
        let mut first_charge: HashMap<u8, i64> = HashMap::new();
        let mut compacted = false;
        for (n, (op, dt)) in ops.into_iter().enumerate() {
            now += dt;
            let id = format!("{n:024x}");
            let before = l.clone();
            let last_time = l.entries().last().map(|e| e.created_at);
            let result = match &op {
                Op::Call { id: c, status, connected, cents } => {
                    let charge = call(&format!("CALL-{c}"), *status, *connected, f64::from(*cents) / 100.0);
                    let billed = billed_amount(&charge).micros();
                    prop_assert!(billed >= 0);
                    if !(status.is_terminal() && *connected) {
                        prop_assert_eq!(billed, 0, "a call that never connected costs nothing");
                    }
                    let posted = match call_charge(&charge) {
                        Some(p) => l.post(id, p, now),
                        None => Ok(Posted::Duplicate),
                    };
                    if billed > 0 {
                        first_charge.entry(*c).or_insert(billed);
                    }
                    posted
                }
                Op::Rent { product, cents } => l.charge_upfront(id, rental_charge(&format!("p{product}"), "+1", Credits::from_micros(i64::from(*cents) * 10_000)), now),
                Op::Renew { product, cycle, cents } => l.post(id, renewal_charge(&format!("p{product}"), "+1", Millis::from(*cycle), Credits::from_micros(i64::from(*cents) * 10_000)), now),
                Op::Score { req } => l.charge_upfront(id, prompt_score_charge(&format!("r{req}"), "a"), now),
                Op::TopUp { kind, cents } => top_up(*kind, Credits::from_micros(cents * 10_000), None).and_then(|p| l.post(id, p, now)),
                Op::Compact(max) => {
                    l.compact(*max, id);
                    prop_assert!(l.entries().len() <= (*max).max(2), "at most max rows after a compaction");
                    compacted |= l.entries().iter().any(|e| e.transaction_type == TransactionType::Migration);
                    Ok(Posted::Duplicate)
                }
            };
            match result {
                Err(_) | Ok(Posted::Duplicate) if !matches!(op, Op::Compact(_)) => prop_assert_eq!(&l, &before, "a refusal or a duplicate changes nothing"),
                Err(_) | Ok(Posted::Duplicate) | Ok(Posted::Recorded(_)) => {}
            }
            prop_assert_eq!(l.balance().micros(), sum(&l), "balance = sum of rows");
            let mut running = 0i64;
            for e in l.entries() {
                running += e.amount.micros();
                prop_assert_eq!(e.balance_after.micros(), running, "balanceAfter is the running sum");
            }
            prop_assert!(l.entries().windows(2).all(|w| w[0].created_at <= w[1].created_at), "rows in time order");
            if let (Some(t), Some(e)) = (last_time, l.entries().last()) {
                prop_assert!(e.created_at >= t);
            }
            if !compacted {
                for (c, amount) in &first_charge {
                    let rows: Vec<_> = l.entries().iter().filter(|e| e.call_id.as_deref() == Some(&format!("CALL-{c}"))).collect();
                    prop_assert_eq!(rows.len(), 1, "exactly one row for call {}", c);
                    prop_assert_eq!(rows[0].amount.micros(), -amount);
                }
                let keys: Vec<_> = l.entries().iter().filter(|e| e.transaction_type == TransactionType::UsageDeduction).map(|e| (e.feature_id.clone(), e.reference_id.clone(), e.call_id.clone(), e.request_id.clone(), e.description.clone())).collect();
                let mut dedup = keys.clone();
                dedup.sort();
                dedup.dedup();
                prop_assert_eq!(dedup.len(), keys.len(), "no usage row twice");
            }
        }
        let json = serde_json::to_string(&l).expect("serialize");
        let back: Ledger = serde_json::from_str(&json).expect("deserialize");
        prop_assert_eq!(back, l, "JSON round trip");
    }
}

/// A snapshot's ledger is read back only when its sums hold: a row edited
/// by hand, or a balance that is not the sum of the rows, is refused with
/// the reason.
#[test]
fn a_ledger_whose_sums_do_not_hold_is_refused_on_read_back() {
    let mut l = Ledger::new();
    let top = top_up(TransactionType::CreditPurchase, Credits::whole(10), None).expect("a purchase");
    l.post("a".repeat(24), top, T0).expect("posted");
    l.charge_upfront("b".repeat(24), prompt_score_charge("r", "a"), T0 + 1).expect("charged");
    let good = serde_json::to_value(&l).expect("serialize");
    assert_eq!(serde_json::from_value::<Ledger>(good.clone()).ok(), Some(l));
    let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        serde_json::from_value::<Ledger>(v).expect_err("refused").to_string()
    };
    assert!(refused(&|v| v["entries"][0]["amount"] = 20_000_000.into())
        .contains("has balanceAfter 10, but the rows up to it sum to 20"));
    assert!(refused(&|v| v["balance"] = 0.into()).contains("ledger: balance is 0, but its rows sum to 9"));
    assert!(refused(&|v| v["added"] = 0.into()).contains("ledger: added is 0, but its rows add 10"));
    assert!(refused(&|v| v["entries"][1]["createdAt"] = 0.into()).contains("is older than the row before it"));
}
