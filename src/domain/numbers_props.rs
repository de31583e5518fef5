//! Unit tests and properties of the number book: an agent's
//! `telephonyProductId` and each number's `agentId` always agree, failed
//! commands change nothing, caller ID follows LIVE K1.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::domain::inventory::Provider;
use crate::domain::inventory::{parse_rent, search, Search};
use crate::domain::phone_product::{normalize_sip_host, parse_import, PHONE_REQUIRED};
use serde_json::Value;

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
const T0: Millis = 1_767_225_600_000;
const A1: &str = "60d0fe4f5311236168a109ca";
const A2: &str = "60d0fe4f5311236168a109cb";

fn rented(book: &mut NumberBook, n: usize) -> Vec<String> {
    let q = Search { country: "US".into(), provider: Provider::Plivo, area: None };
    let offered = search(1, &q, |d| book.holds(&format!("+{d}")));
    offered
        .iter()
        .take(n)
        .map(|c| {
            let req = parse_rent(1, Some(&c.phone_number), Some("plivo")).expect("on offer");
            let id = format!("{:024x}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
            book.add_rented(id, &req, None, T0).id.clone()
        })
        .collect()
}

#[test]
fn list_items_have_exactly_the_live_keys() {
    let mut b = NumberBook::default();
    let id = rented(&mut b, 1).remove(0);
    let v = b.get(&id).expect("held").wire();
    let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["__v", "_id", "agentId", "attributes", "createdAt", "isActive", "productType", "updatedAt"]);
    assert_eq!(v["productType"], "telephony");
    assert_eq!(v["attributes"]["provider"], "plivo");
    assert!(v["attributes"]["phoneNumber"].as_str().is_some_and(|p| p.starts_with("+1")));
}

#[test]
fn attaching_moves_a_number_and_both_sides_agree() {
    let mut b = NumberBook::default();
    let ids = rented(&mut b, 3);
    assert_eq!(b.attach(A1, &[ids[1].clone(), ids[0].clone()], T0), Ok(vec![]));
    assert_eq!(b.numbers_of(A1), [ids[1].as_str(), ids[0].as_str()], "the order set");
    let moved = b.attach(A2, &[ids[0].clone()], T0 + 1).expect("ok");
    assert_eq!(moved, vec![(A1.to_string(), ids[0].clone())]);
    assert_eq!(b.numbers_of(A1), [ids[1].as_str()]);
    assert_eq!(b.get(&ids[0]).expect("held").agent_id.as_deref(), Some(A2));
    let before = b.clone();
    assert_eq!(b.attach(A1, &["60d0fe4f5311236168a10000".into()], T0 + 2), Err(DomainError::invalid(INVALID_PRODUCT)));
    assert_eq!(b, before, "a refused attach changes nothing");
    assert_eq!(b.attach(A1, &[ids[1].clone()], T0 + 3), Ok(vec![]));
    assert_eq!(b, before, "setting the same list again changes nothing");
}

#[test]
fn release_refuses_attached_and_unknown_numbers() {
    let mut b = NumberBook::default();
    let ids = rented(&mut b, 2);
    b.attach(A1, &[ids[0].clone()], T0).expect("ok");
    assert_eq!(b.release(&ids[0]), Err(DomainError::invalid(STILL_ASSIGNED)));
    assert_eq!(b.release("nope"), Err(DomainError::invalid(INVALID_PRODUCT)));
    assert_eq!(b.release(&ids[1]).map(|p| p.id), Ok(ids[1].clone()));
    assert_eq!(b.count(), 1);
}

#[test]
fn imports_normalize_the_sip_host_and_refuse_duplicates() {
    assert_eq!(normalize_sip_host("sip:user@trunk.example.com:5060;transport=tcp"), "trunk.example.com:5060");
    assert_eq!(normalize_sip_host("SIPS:trunk.example.com"), "trunk.example.com");
    assert_eq!(normalize_sip_host("10.0.0.1:5080"), "10.0.0.1:5080");
    let body = |v: Value| v.as_object().cloned().unwrap_or_default();
    assert_eq!(parse_import(&body(json!({"sipTerminationUrl": "x"}))), Err(DomainError::invalid(PHONE_REQUIRED)));
    assert!(parse_import(&body(json!({"phoneNumber": "+1", "sipTerminationUrl": "sip:"}))).is_err());
    let req = parse_import(&body(json!({"phoneNumber": "+14155551234", "sipTerminationUrl": "sip:t.example.com"})))
        .expect("ok");
    let mut b = NumberBook::default();
    let p = b.import("0".repeat(24), req.clone(), ("ST_a".into(), "ST_b".into()), "u1", T0).expect("ok");
    assert_eq!(p.import_wire()["productType"], "custom");
    assert_eq!(p.wire()["productType"], "custom-telephony");
    assert_eq!(p.wire()["attributes"]["name"], "+14155551234-u1");
    assert_eq!(
        b.import("1".repeat(24), req, ("c".into(), "d".into()), "u1", T0).map(|_| ()),
        Err(DomainError::invalid(ALREADY_PRESENT))
    );
}

#[derive(Debug, Clone)]
enum Op {
    Rent,
    Release(usize),
    Attach(usize, Vec<usize>),
    Detach(usize),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Rent),
        (0usize..8).prop_map(Op::Release),
        (0usize..3, proptest::collection::vec(0usize..10, 0..4)).prop_map(|(a, ids)| Op::Attach(a, ids)),
        (0usize..3).prop_map(Op::Detach),
    ]
}

const AGENTS: [&str; 3] = [A1, A2, "60d0fe4f5311236168a109cc"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn agents_and_numbers_always_agree(ops in proptest::collection::vec((any_op(), 0i64..10_000), 0..40)) {
        let mut b = NumberBook::default();
        let mut now = T0;
        let mut ever: Vec<String> = Vec::new();
        for (op, dt) in ops {
            now += dt;
            let before = b.clone();
            let id_at = |i: usize| ever.get(i).cloned().unwrap_or_else(|| format!("{:024x}", 999_000 + i));
            let ok = match &op {
                Op::Rent => { ever.extend(rented(&mut b, 1)); true }
                Op::Release(i) => b.release(&id_at(*i)).is_ok(),
                Op::Attach(a, ids) => {
                    let ids: Vec<String> = ids.iter().map(|i| id_at(*i)).collect();
                    let others: Vec<Vec<String>> = AGENTS.iter().map(|x| b.numbers_of(x).into_iter().map(String::from).collect()).collect();
                    match b.attach(AGENTS[*a], &ids, now) {
                        Ok(moved) => {
                            let mut want: Vec<&str> = Vec::new();
                            for id in &ids { if !want.contains(&id.as_str()) { want.push(id); } }
                            prop_assert_eq!(b.numbers_of(AGENTS[*a]), want.clone(), "the agent has exactly the list");
                            for (j, x) in AGENTS.iter().enumerate().filter(|(j, _)| *j != *a) {
                                let kept: Vec<&str> = others[j].iter().map(String::as_str).filter(|id| !want.contains(id)).collect();
                                prop_assert_eq!(b.numbers_of(x), kept, "others lose only the moved numbers");
                                for id in others[j].iter().filter(|id| want.contains(&id.as_str())) {
                                    prop_assert!(moved.contains(&(x.to_string(), id.clone())));
                                }
                            }
                            true
                        }
                        Err(_) => false,
                    }
                }
                Op::Detach(a) => { b.detach_all(AGENTS[*a], now); true }
            };
            if !ok {
                prop_assert_eq!(&b, &before, "a refused command changes nothing");
            }
            let mut listed = 0;
            for a in AGENTS {
                for id in b.numbers_of(a) {
                    listed += 1;
                    prop_assert_eq!(b.get(id).map(|p| p.agent_id.clone()), Ok(Some(a.to_string())));
                }
            }
            prop_assert_eq!(listed, b.all().iter().filter(|p| p.agent_id.is_some()).count(), "every held number is on its agent's list");
            for p in b.all() {
                prop_assert!(p.updated_at >= p.created_at);
                if let Some(old) = before.all().iter().find(|o| o.id == p.id) {
                    prop_assert!(p.updated_at >= old.updated_at && p.version >= old.version);
                }
            }
        }
        let back: NumberBook = serde_json::from_str(&serde_json::to_string(&b).expect("json")).expect("parse");
        prop_assert_eq!(back, b, "JSON round trip");
    }
}
