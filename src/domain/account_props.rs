//! Unit tests and properties of the account: rentals, renewals, calls and
//! top-ups all land in one ledger whose balance is the sum of its rows;
//! refused requests change nothing; plan limits hold.

use proptest::prelude::*;

use super::*;
use crate::domain::call::CallStatus;
use crate::domain::compliance::{Command, REVIEW_DELAY_MS};
use crate::domain::compliance_form::{parse_submit, SubmitForm, UploadedFile};
use crate::domain::inventory::{parse_rent, search, Search};
use crate::domain::invoice::UNPAID;
use crate::domain::ledger::{Scope, NO_CREDITS};
use crate::domain::time::parse_iso;

const ORG: &str = "69561896a37fd214b9a8d33c";
const AGENT: &str = "60d0fe4f5311236168a109ca";

fn t(s: &str) -> Millis {
    parse_iso(s).expect("iso")
}

fn fresh(now: Millis) -> (Account, IdGen) {
    let ids = IdGen::new(Some(1));
    (Account::open(Plan::standard(10), Credits::whole(100), &ids, now), ids)
}

fn offer(a: &Account, country: &str) -> RentRequest {
    let q = Search { country: country.into(), provider: super::super::inventory::Provider::Plivo, area: None };
    let c = search(1, &q, |d| a.numbers.holds(&format!("+{d}"))).remove(0);
    parse_rent(1, Some(&c.phone_number), Some("plivo")).expect("on offer")
}

fn sum(a: &Account) -> i64 {
    a.ledger.entries().iter().map(|e| e.amount.micros()).sum()
}

fn call(id: &str, connected: bool, cost: f64) -> CallCharge {
    CallCharge { call_id: id.into(), agent_id: AGENT.into(), status: CallStatus::Completed, connected, cost }
}

#[test]
fn renting_charges_the_proration_and_renewals_follow_monthly_until_release() {
    let t0 = t("2026-06-01T00:00:00Z");
    let (mut a, ids) = fresh(t0);
    let now = t("2026-06-15T09:00:00Z");
    let req = offer(&a, "US");
    let id = a.rent(&req, &ids, now).expect("rented").id.clone();
    assert_eq!(a.ledger.balance(), Credits::from_micros(94_700_000), "100 - 5.30 (the spec's example proration)");
    let row = a.ledger.entries().last().expect("row");
    assert_eq!((row.scope, row.reference_id.as_deref()), (Some(Scope::Platform), Some(id.as_str())));
    a.settle(&ids, t("2026-08-20T00:00:00Z"));
    assert_eq!(a.ledger.balance(), Credits::from_micros(74_700_000), "renewed on 1 July and 1 August");
    a.release(&id, &ids, t("2026-08-21T00:00:00Z")).expect("released");
    a.settle(&ids, t("2026-12-01T00:00:00Z"));
    assert_eq!(a.ledger.balance(), Credits::from_micros(74_700_000), "no renewals after release");
    assert_eq!(a.ledger.balance().micros(), sum(&a));
}

#[test]
fn refused_rentals_change_nothing_and_name_the_reason() {
    let t0 = t("2026-06-01T00:00:00Z");
    let (mut a, ids) = fresh(t0);
    let req = offer(&a, "US");
    a.plan.features.phone_numbers = false;
    let before = a.clone();
    assert!(a.rent(&req, &ids, t0).is_err());
    assert_eq!(a, before);
    a.plan.features.phone_numbers = true;
    a.invoices.issue(ORG, "60d0fe4f5311236168a109ca", Credits::whole(5), "Usage".into(), false, t0).expect("issued");
    assert_eq!(a.rent(&req, &ids, t0).map(|_| ()), Err(DomainError::invalid(UNPAID)));
    let (mut a, ids) = fresh(t0);
    a.plan.limits.numbers = 0;
    assert!(matches!(a.rent(&req, &ids, t0), Err(DomainError::Validation(m)) if m.contains("at most 0 phone numbers")));
    let (mut a, ids) = fresh(t0);
    a.credit(ORG, TransactionType::AdminAdjustment, Credits::whole(-99), None, &ids, t0).expect("adjusted");
    let before = a.clone();
    assert_eq!(a.rent(&req, &ids, t0).map(|_| ()), Err(DomainError::invalid(NO_CREDITS)), "1 credit < 10");
    assert_eq!(a, before);
}

#[test]
fn regulated_countries_need_an_accepted_application_before_renting() {
    let t0 = t("2026-06-01T00:00:00Z");
    let (mut a, ids) = fresh(t0);
    let req = offer(&a, "GB");
    assert!(
        matches!(a.rent(&req, &ids, t0), Err(DomainError::Validation(m)) if m.starts_with("Compliance approval is required"))
    );
    let form = SubmitForm {
        country_iso: Some("GB".into()),
        number_type: Some("local".into()),
        user_type: Some("individual".into()),
        end_user: Some(r#"{"name":"Ada"}"#.into()),
        documents: Some(r#"[{"documentTypeId":"dt_government_id"}]"#.into()),
        files: vec![UploadedFile { name: "id.png".into(), content_type: None, size: 10 }],
    };
    let id = a.submit_compliance(parse_submit(&form).expect("valid"), ORG, "u1", &ids, t0).expect("filed").0.id.clone();
    a.settle(&ids, t0 + REVIEW_DELAY_MS);
    assert_eq!(a.compliance.get(&id).map(|x| x.status.as_str()), Ok("rejected"), "documents incomplete");
    a.compliance.command(&id, &Command::Approve, t0 + REVIEW_DELAY_MS + 1).expect("forced");
    let p = a.rent(&req, &ids, t0 + REVIEW_DELAY_MS + 2).expect("rented");
    assert_eq!(p.compliance_application_id.as_deref(), Some(id.as_str()));
}

#[test]
fn calls_are_admitted_by_feature_credits_and_the_daily_limit_and_charged_once() {
    let t0 = t("2026-06-01T00:00:00Z");
    let (mut a, ids) = fresh(t0);
    a.plan.limits.daily_calls = 1;
    assert_eq!(a.admit_call(CallKind::Telephony, &ids, t0), Ok(()));
    assert!(matches!(a.admit_call(CallKind::Web, &ids, t0), Err(DomainError::Forbidden(_))), "one call a day");
    assert!(a.charge_call(&call("CALL-1", true, 2.5), &ids, t0).is_some());
    assert!(a.charge_call(&call("CALL-1", true, 2.5), &ids, t0).is_none(), "never twice");
    assert!(a.charge_call(&call("CALL-2", false, 2.5), &ids, t0).is_none(), "unanswered: free");
    assert_eq!(a.ledger.balance(), Credits::from_micros(97_500_000));
    let (mut a, ids) = fresh(t0);
    a.credit(ORG, TransactionType::AdminAdjustment, Credits::whole(-100), None, &ids, t0).expect("drained");
    assert_eq!(a.admit_call(CallKind::Web, &ids, t0), Err(DomainError::invalid(NO_CREDITS)));
    a.plan.features.telephony = false;
    assert!(matches!(a.admit_call(CallKind::Telephony, &ids, t0), Err(DomainError::Forbidden(_))));
}

#[test]
fn purchases_issue_paid_invoices_and_the_subscription_reports_the_plan() {
    let t0 = t("2026-06-01T00:00:00Z");
    let (mut a, ids) = fresh(t0);
    let row =
        a.credit(ORG, TransactionType::CreditPurchase, Credits::whole(50), None, &ids, t0).expect("bought").clone();
    let inv = a.invoices.recent().next().expect("invoice").clone();
    assert_eq!(row.reference_id.as_deref(), Some(inv.id.as_str()));
    assert!(!a.invoices.payment_required());
    let s = a.subscription(ORG, &ids, t("2026-06-10T00:00:00Z"));
    assert_eq!(
        (s["planId"].as_str(), s["currentCredits"].as_f64(), s["totalCredits"].as_f64()),
        (Some("plan_standard"), Some(150.0), Some(150.0))
    );
    assert_eq!(s["renewalDate"], "2026-07-01T00:00:00.000Z");
    assert_eq!(s["limits"]["concurrentCalls"], 10);
    assert_eq!(a.balance(&ids, t0)["creditBalance"], 150.0);
    assert!(portal_path(&a.plan, ORG).is_some());
}

#[derive(Debug, Clone)]
enum Op {
    Rent,
    Release(usize),
    Call { id: u8, connected: bool, cents: u32 },
    Admit(bool),
    Credit(i64),
    Score(u8),
    Limit(u32),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Rent),
        1 => (0usize..4).prop_map(Op::Release),
        3 => (0u8..8, any::<bool>(), 0u32..3000).prop_map(|(id, connected, cents)| Op::Call { id, connected, cents }),
        1 => any::<bool>().prop_map(Op::Admit),
        1 => (-20_000i64..20_000).prop_map(Op::Credit),
        1 => (0u8..3).prop_map(Op::Score),
        1 => (0u32..4).prop_map(Op::Limit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_billable_action_lands_once_in_one_ledger(steps in proptest::collection::vec((any_op(), 0i64..20 * 86_400_000), 0..50)) {
        let t0 = t("2026-01-31T12:00:00Z");
        let (mut a, ids) = fresh(t0);
        let mut now = t0;
        let mut rented: Vec<String> = Vec::new();
        for (op, dt) in steps {
            now += dt;
            a.settle(&ids, now);
            let before = a.clone();
            let ok = match &op {
                Op::Rent => {
                    let req = offer(&a, "US");
                    a.rent(&req, &ids, now).map(|p| rented.push(p.id.clone())).is_ok()
                }
                Op::Release(i) => rented.get(*i).is_some_and(|id| a.release(id, &ids, now).is_ok()),
                Op::Call { id, connected, cents } => {
                    a.charge_call(&call(&format!("CALL-{id}"), *connected, f64::from(*cents) / 100.0), &ids, now);
                    true
                }
                Op::Admit(web) => a.admit_call(if *web { CallKind::Web } else { CallKind::Telephony }, &ids, now).is_ok(),
                Op::Credit(cents) => a.credit(ORG, TransactionType::AdminAdjustment, Credits::from_micros(cents * 10_000), None, &ids, now).is_ok(),
                Op::Score(r) => a.charge_prompt_score(&format!("req-{r}"), AGENT, &ids, now).is_ok(),
                Op::Limit(n) => { a.plan.limits.numbers = *n; true }
            };
            if !ok {
                prop_assert_eq!(&a, &before, "a refused request changes nothing ({:?})", op);
            }
            prop_assert_eq!(a.ledger.balance().micros(), sum(&a), "balance = sum of rows");
            let mut seen = std::collections::HashSet::new();
            for e in a.ledger.entries() {
                if let Some(c) = &e.call_id {
                    prop_assert!(seen.insert(c.clone()), "call {} charged twice", c);
                }
            }
            for p in a.numbers.all() {
                let rentals = a.ledger.entries().iter().filter(|e| e.feature_id.as_deref() == Some("atoms.phone_number.rental") && e.reference_id.as_deref() == Some(p.id.as_str())).count();
                prop_assert_eq!(rentals, 1, "one rental charge per number");
                let renewals = a.ledger.entries().iter().filter(|e| e.feature_id.as_deref() == Some("atoms.phone_number.renewal") && e.reference_id.as_deref() == Some(p.id.as_str())).count();
                prop_assert_eq!(renewals, renewals_between(a.anchor, p.created_at, now).len(), "one renewal per cycle held");
            }
        }
        let back: Account = serde_json::from_str(&serde_json::to_string(&a).expect("json")).expect("parse");
        prop_assert_eq!(back, a, "JSON round trip");
    }
}
