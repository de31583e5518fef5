//! Unit tests and properties of concurrency: reservation bodies and
//! limits, the overview, and the slot allocator over random sequences of
//! admissions, releases, limit and reservation changes.
//!
//! Properties (fixed limit and reservations): never more live calls than
//! the limit; reserved slots never taken by others (a key with an unused
//! reservation always starts at once, and the shared pool is never
//! overdrawn); no queued call waits while a slot it may use is free; FIFO
//! within a class (calls of one reserved key; all calls competing only for
//! the shared pool). With changes mid-run: a start never exceeds the limit,
//! nothing starvation-prone is left behind, no call is lost or duplicated.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::json;

use super::*;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccc";
const AGENTS: [&str; 3] = [A, B, C];

fn key(agent: &str, channel: Channel) -> SlotKey {
    SlotKey { agent_id: agent.into(), channel }
}

fn outbound(n: u32) -> Reservation {
    Reservation { outbound: n, ..Reservation::default() }
}

fn reserve(pairs: &[(&str, Reservation)]) -> Reservations {
    pairs.iter().map(|(a, r)| ((*a).to_string(), *r)).collect()
}

/// Admits `n` outbound calls of `agent` named `<prefix><i>`.
fn admit_n(s: &mut Slots, agent: &str, prefix: &str, n: usize) -> Vec<Admission> {
    (0..n).map(|i| s.admit(&format!("{prefix}{i}"), key(agent, Channel::Outbound))).collect()
}

#[test]
fn the_guides_example_twenty_slots_twelve_and_five_reserved() {
    let mut s = Slots::new(20);
    s.set_reservations(reserve(&[(A, outbound(12)), (B, outbound(5))]));
    assert_eq!(s.shared_pool(), 3);
    let a = admit_n(&mut s, A, "a", 16);
    assert_eq!(a.iter().filter(|x| **x == Admission::Started).count(), 15, "12 reserved + 3 shared");
    assert_eq!(a[15], Admission::Queued);
    let b = admit_n(&mut s, B, "b", 6);
    assert_eq!(b.iter().filter(|x| **x == Admission::Started).count(), 5, "B's floor holds while A is busy");
    assert_eq!((s.live_count(), s.queued().collect::<Vec<_>>()), (20, vec!["a15", "b5"]));
}

#[test]
fn a_reserved_agents_call_behind_others_takes_its_own_freed_slot() {
    // Limit 3; A reserves 1 outbound, so the shared pool is 2.
    let mut s = Slots::new(3);
    s.set_reservations(reserve(&[(A, outbound(1))]));
    assert_eq!(admit_n(&mut s, B, "b", 3), [Admission::Started, Admission::Started, Admission::Queued]);
    assert_eq!(s.admit("a0", key(A, Channel::Outbound)), Admission::Started, "A's reserved slot, despite b2");
    assert_eq!(s.admit("a1", key(A, Channel::Outbound)), Admission::Queued);
    assert_eq!(s.queued().collect::<Vec<_>>(), ["b2", "a1"]);
    // A's call ends: only A may use that slot, so a1 jumps b2.
    assert_eq!(s.release("a0"), ["a1"]);
    // A shared slot frees: b2 was first among the shared-pool waiters.
    assert_eq!(s.admit("a2", key(A, Channel::Outbound)), Admission::Queued);
    assert_eq!(s.release("b0"), ["b2"]);
    assert_eq!(s.release("b1"), ["a2"], "a2 needs the shared pool: its turn comes after b2");
}

#[test]
fn reserved_slots_sit_idle_rather_than_serve_another_agent_or_channel() {
    let mut s = Slots::new(2);
    s.set_reservations(reserve(&[(A, outbound(1))]));
    assert_eq!(admit_n(&mut s, B, "b", 2), [Admission::Started, Admission::Queued]);
    assert_eq!(s.admit("aw", key(A, Channel::Webcall)), Admission::Queued, "the slot is A's outbound one");
    assert_eq!(s.admit("ao", key(A, Channel::Outbound)), Admission::Started);
}

#[test]
fn lowering_the_limit_stops_nobody_and_new_calls_wait_for_room() {
    let mut s = Slots::new(3);
    admit_n(&mut s, A, "a", 3);
    assert!(s.set_limit(1).is_empty());
    assert_eq!(s.live_count(), 3, "live calls are never interrupted");
    assert_eq!(s.admit("b0", key(B, Channel::Outbound)), Admission::Queued);
    assert!(s.release("a0").is_empty() && s.release("a1").is_empty());
    assert_eq!(s.release("a2"), ["b0"]);
    assert_eq!(s.set_limit(5), Vec::<String>::new());
}

#[test]
fn release_of_a_queued_or_unknown_call_starts_nobody_and_admit_is_idempotent() {
    let mut s = Slots::new(1);
    assert_eq!(s.admit("x", key(A, Channel::Chat)), Admission::Started);
    assert_eq!(s.admit("x", key(A, Channel::Chat)), Admission::Started);
    assert_eq!(s.admit("y", key(A, Channel::Chat)), Admission::Queued);
    assert_eq!(s.admit("y", key(A, Channel::Chat)), Admission::Queued);
    assert_eq!(s.queued_count(), 1);
    assert!(s.release("y").is_empty() && s.release("nope").is_empty());
    assert_eq!((s.live_count(), s.queued_count()), (1, 0));
}

#[test]
fn reservation_bodies_are_checked_with_field_messages() {
    let ok = parse_update(
        &json!({"reservations": [{"agentId": A, "webcall": 1, "outbound": 2.0, "inbound": 0, "chat": 3}]}),
    );
    let want = Reservation { webcall: 1, outbound: 2, inbound: 0, chat: 3 };
    assert_eq!(ok, Ok(vec![ReservationUpdate { agent_id: A.into(), reservation: want }]));
    let err = |v: Value| parse_update(&v).unwrap_err().to_string();
    let full = |f: &str, v: Value| {
        let mut o = json!({"agentId": A, "webcall": 0, "outbound": 0, "inbound": 0, "chat": 0});
        o[f] = v;
        err(json!({"reservations": [o]}))
    };
    assert_eq!(err(json!({})), "reservations: Required");
    assert_eq!(err(json!({"reservations": {}})), "reservations: Expected array, received object");
    assert_eq!(err(json!({"reservations": []})), "reservations: Array must contain at least 1 element(s)");
    assert_eq!(err(json!({"reservations": [1]})), "reservations.0: Expected object, received number");
    assert_eq!(err(json!({"reservations": [{"webcall": 0}]})), "reservations.0.agentId: Required");
    assert_eq!(full("agentId", json!("x")), "Invalid agent id");
    assert_eq!(full("agentId", json!(7)), "reservations.0.agentId: Expected string, received number");
    assert_eq!(full("chat", Value::Null), "reservations.0.chat: Required");
    assert_eq!(full("inbound", json!("2")), "reservations.0.inbound: Expected number, received string");
    assert_eq!(full("outbound", json!(1.5)), "reservations.0.outbound: Expected integer, received float");
    assert_eq!(full("webcall", json!(-1)), "reservations.0.webcall: Number must be greater than or equal to 0");
}

#[test]
fn an_update_replaces_per_agent_removes_zeros_and_respects_the_limit() {
    let current = reserve(&[(A, outbound(4)), (B, outbound(2))]);
    let known = |a: &str| a == A || a == B;
    let up = |agent: &str, r: Reservation| ReservationUpdate { agent_id: agent.into(), reservation: r };
    let next = apply_update(&current, &[up(A, Reservation { chat: 1, ..Reservation::default() })], 10, known);
    assert_eq!(next, Ok(reserve(&[(A, Reservation { chat: 1, ..Reservation::default() }), (B, outbound(2))])));
    assert_eq!(apply_update(&current, &[up(B, Reservation::default())], 10, known), Ok(reserve(&[(A, outbound(4))])));
    assert_eq!(
        apply_update(&current, &[up(B, outbound(7))], 10, known),
        Err(DomainError::invalid("Total reserved concurrency (11) exceeds the organization's concurrency limit (10)"))
    );
    assert_eq!(apply_update(&current, &[up(C, outbound(1))], 10, known), Err(DomainError::invalid(UNKNOWN_AGENT)));
    assert_eq!(
        apply_update(&current, &[up(B, outbound(9)), up(B, outbound(1))], 10, known).map(|r| r[B]),
        Ok(outbound(1))
    );
    let over = reserve(&[(A, outbound(6)), (B, outbound(4))]);
    assert_eq!(apply_update(&over, &[up(A, outbound(5))], 5, known).map(|r| total_reserved(&r)), Ok(9), "giving back");
    assert!(apply_update(&over, &[up(A, outbound(7))], 5, known).is_err(), "but not taking more");
    let huge = Reservation { webcall: u32::MAX, outbound: u32::MAX, inbound: u32::MAX, chat: u32::MAX };
    assert!(apply_update(&current, &[up(A, huge)], 100_000, known).is_err(), "no overflow");
}

#[test]
fn only_admins_and_owners_change_reservations() {
    assert_eq!(authorize(Role::Member), Err(DomainError::Forbidden(ADMIN_REQUIRED.into())));
    assert!(authorize(Role::Admin).is_ok() && authorize(Role::Owner).is_ok());
}

#[test]
fn the_overview_has_the_spec_keys() {
    let r = reserve(&[(A, Reservation { webcall: 1, outbound: 2, inbound: 3, chat: 4 })]);
    let label = |id: &str| AgentLabel { name: format!("agent {}", &id[..1]), avatar_url: None };
    let v = serde_json::to_value(overview(8, &r, label)).unwrap();
    assert_eq!(
        v,
        json!({"orgLimit": 8, "totalReserved": 10, "unreservedPool": 0, "agents": [{"agentId": A, "agentName": "agent a",
               "avatarUrl": null, "webcall": 1, "outbound": 2, "inbound": 3, "chat": 4}]})
    );
    assert_eq!(overview(12, &r, label).unreserved_pool, 2);
}

/// One step of a run.
#[derive(Debug, Clone)]
enum Op {
    /// A new call of agent `AGENTS[a]` on `channel`.
    Admit(usize, Channel),
    /// Release the live or queued call picked by this index (mod count).
    Release(usize),
    /// A new limit.
    Limit(u32),
    /// New reservations (may exceed the limit: a plan change can do that).
    Reserve(Vec<(usize, Reservation)>),
}

fn any_channel() -> impl Strategy<Value = Channel> {
    prop_oneof![Just(Channel::Outbound), Just(Channel::Webcall), Just(Channel::Chat)]
}

fn any_reservation() -> impl Strategy<Value = Reservation> {
    (0u32..3, 0u32..3).prop_map(|(outbound, webcall)| Reservation { outbound, webcall, ..Reservation::default() })
}

fn any_reservations() -> impl Strategy<Value = Vec<(usize, Reservation)>> {
    proptest::collection::vec((0usize..3, any_reservation()), 0..3)
}

fn admit_or_release() -> impl Strategy<Value = Op> {
    prop_oneof![3 => (0usize..3, any_channel()).prop_map(|(a, c)| Op::Admit(a, c)), 2 => any::<usize>().prop_map(Op::Release)]
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![8 => admit_or_release(), 1 => (1u32..7).prop_map(Op::Limit), 1 => any_reservations().prop_map(Op::Reserve)]
}

fn to_reservations(r: &[(usize, Reservation)]) -> Reservations {
    r.iter().map(|(a, res)| (AGENTS[*a].to_string(), *res)).filter(|(_, res)| res.total() > 0).collect()
}

/// The run's bookkeeping beside the allocator: arrival order and keys of
/// every call still known, and which of them wait.
#[derive(Default)]
struct Model {
    keys: BTreeMap<String, (u64, SlotKey)>,
    waiting: BTreeSet<String>,
    next: u64,
}

impl Model {
    /// FIFO within a class: no call that arrived earlier and competes in
    /// the same class as `started` is still waiting.
    fn check_fifo(&self, s: &Slots, started: &str) -> Result<(), TestCaseError> {
        let (seq, k) = &self.keys[started];
        let class = |k: &SlotKey| if s.reserved_for(k) > 0 { Some(k.clone()) } else { None };
        for w in &self.waiting {
            let (wseq, wk) = &self.keys[w];
            prop_assert!(!(wseq < seq && class(wk) == class(k)), "{} started before earlier {}", started, w);
        }
        Ok(())
    }

    /// Applies `op` to `s` and checks what every step must keep.
    fn step(&mut self, s: &mut Slots, op: &Op, fixed: bool) -> Result<(), TestCaseError> {
        let shared_before = s.shared_in_use();
        let started: Vec<String> = match op {
            Op::Admit(a, c) => {
                let id = format!("call{}", self.next);
                let k = key(AGENTS[*a], *c);
                let reserved_free = s.in_use(&k) < s.reserved_for(&k);
                self.keys.insert(id.clone(), (self.next, k));
                self.next += 1;
                let r = s.admit(&id, self.keys[&id].1.clone());
                if fixed && reserved_free {
                    prop_assert_eq!(r, Admission::Started, "a free reserved slot is always available");
                }
                if r == Admission::Queued {
                    self.waiting.insert(id.clone());
                    vec![]
                } else {
                    vec![id]
                }
            }
            Op::Release(i) => {
                let Some(id) = self.keys.keys().nth(i % self.keys.len().max(1)).cloned() else { return Ok(()) };
                let was_waiting = self.waiting.remove(&id);
                self.keys.remove(&id);
                let started = s.release(&id);
                if was_waiting {
                    prop_assert!(started.is_empty(), "leaving the queue frees no slot");
                }
                started
            }
            Op::Limit(l) => s.set_limit(*l),
            Op::Reserve(r) => s.set_reservations(to_reservations(r)),
        };
        for id in &started {
            if self.waiting.contains(id) || matches!(op, Op::Admit(..)) {
                self.waiting.remove(id);
                if fixed {
                    self.check_fifo(s, id)?;
                }
            } else {
                prop_assert!(false, "{} started but was not waiting", id);
            }
        }
        if !started.is_empty() {
            prop_assert!(s.live_count() <= s.limit() as usize, "a start never exceeds the limit");
        }
        if matches!(op, Op::Admit(..) | Op::Release(_)) {
            prop_assert!(s.shared_in_use() <= s.shared_pool().max(shared_before), "the shared pool is never overdrawn");
        }
        prop_assert_eq!(s.next_to_start(), None, "nobody waits while a slot it may use is free");
        let queued: BTreeSet<String> = s.queued().map(str::to_string).collect();
        prop_assert_eq!(&queued, &self.waiting, "no call lost or duplicated");
        prop_assert_eq!(s.live_count() + s.queued_count(), self.keys.len());
        Ok(())
    }
}

fn fixed_config() -> impl Strategy<Value = (u32, Reservations)> {
    (1u32..7, any_reservations())
        .prop_map(|(limit, r)| (limit, to_reservations(&r)))
        .prop_filter("reservations fit the limit", |(limit, r)| total_reserved(r) <= u64::from(*limit))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Fixed limit and reservations, random calls coming and going.
    #[test]
    fn slots_hold_under_a_fixed_configuration(
        (limit, res) in fixed_config(),
        ops in proptest::collection::vec(admit_or_release(), 0..80),
    ) {
        let mut s = Slots::new(limit);
        prop_assert!(s.set_reservations(res).is_empty());
        let mut m = Model::default();
        for op in &ops {
            m.step(&mut s, op, true)?;
            prop_assert!(s.live_count() <= limit as usize, "never more live calls than the limit");
            prop_assert!(s.shared_in_use() <= s.shared_pool(), "reserved slots never taken by others");
            for agent in AGENTS {
                for c in Channel::ALL {
                    let k = key(agent, c);
                    if s.in_use(&k) < s.reserved_for(&k) {
                        prop_assert!(s.can_start(&k), "{:?} has an unused reserved slot it cannot use", k);
                    }
                }
            }
        }
    }

    /// Limits and reservations change mid-run, as plan changes and
    /// `PUT /concurrency/reservations` do.
    #[test]
    fn slots_hold_while_the_configuration_changes(
        limit in 1u32..7,
        ops in proptest::collection::vec(any_op(), 0..80),
    ) {
        let mut s = Slots::new(limit);
        let mut m = Model::default();
        for op in &ops {
            m.step(&mut s, op, false)?;
        }
        let back: Slots = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        prop_assert_eq!(back, s, "JSON round trip");
    }
}
