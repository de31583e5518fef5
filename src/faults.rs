//! Fault injection (a mock extension): rules that answer matching
//! `/atoms/v1` requests with an error, or hold them for a while, before
//! they reach a handler.
//!
//! Invariants:
//! - Rules are checked in the order they were added; the first that
//!   matches (method, path pattern, key), still has uses left and wins its
//!   probability roll fires. Others are not consulted.
//! - A rule with `times` fires that many times, then stays listed with
//!   `remaining: 0` and never fires again.
//! - Probability rolls come from one ChaCha RNG seeded with `--seed` (or
//!   randomly), re-seeded on a full reset; rolls happen only for
//!   probabilities strictly between 0 and 1, so the same requests in the
//!   same order fire the same rules.
//! - With no live rule, [`Faults::decide`] is one atomic load.
//!
//! It does not render responses or sleep: the HTTP layer does both.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{HeaderMap, Method, StatusCode};
use bytes::Bytes;
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

mod rule;

pub use rule::{default_body, strip_prefix, FaultRequest, FaultSpec, Pattern, DEFAULT_RETRY_AFTER_SECS};

/// What a fired rule does to one request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The rule's id, for the journal.
    pub rule_id: Arc<str>,
    /// Answer with this status; `None`: let the request through after the delay.
    pub status: Option<StatusCode>,
    /// Extra response headers.
    pub headers: HeaderMap,
    /// The response body (JSON).
    pub body: Bytes,
    /// Hold the request this long first, in ms on the mock's clock.
    pub delay_ms: u64,
}

/// A rule and its counters.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `flt_<n>`.
    pub id: Arc<str>,
    /// What it matches and does.
    pub spec: FaultSpec,
    /// Uses left; `None`: unlimited.
    pub remaining: Option<u64>,
    /// Times it fired.
    pub hits: u64,
}

impl Rule {
    fn live(&self) -> bool {
        self.remaining != Some(0)
    }

    fn decision(&self) -> Decision {
        let s = &self.spec;
        Decision {
            rule_id: Arc::clone(&self.id),
            status: s.status,
            headers: s.headers.clone(),
            body: s.body.clone(),
            delay_ms: s.delay_ms,
        }
    }
}

/// Fires the first rule matching the request, counting the hit; returns
/// its index. `roll` draws a number in `[0, 1)` for fractional
/// probabilities only.
pub fn pick(
    rules: &mut [Rule],
    method: &Method,
    rel_path: &str,
    api_key: Option<&str>,
    mut roll: impl FnMut() -> f64,
) -> Option<usize> {
    let i = rules.iter().position(|r| {
        let s = &r.spec;
        r.live()
            && s.method.as_ref().is_none_or(|m| m == method)
            && s.api_key.as_deref().is_none_or(|k| api_key == Some(k))
            && s.pattern.matches(rel_path)
            && (s.probability >= 1.0 || (s.probability > 0.0 && roll() < s.probability))
    })?;
    let r = &mut rules[i];
    r.hits += 1;
    r.remaining = r.remaining.map(|n| n - 1);
    Some(i)
}

/// Rules one server holds at once (a mock bound on memory): past it, the
/// oldest expired rules (`remaining` 0) make room; when none has expired, a
/// new rule is 400 [`FULL`].
pub const MAX_RULES: usize = 1_000;

/// 400 when [`MAX_RULES`] rules can all still fire.
pub const FULL: &str = "Too many fault rules: at most 1000 (DELETE /_admin/faults clears them)";

#[derive(Debug)]
struct Book {
    rules: Vec<Rule>,
    next_id: u64,
    rng: ChaCha8Rng,
}

/// The rules of one server.
#[derive(Debug)]
pub struct Faults {
    seed: u64,
    /// Rules that can still fire; 0 lets requests skip the lock.
    live: AtomicUsize,
    book: Mutex<Book>,
}

impl Faults {
    /// No rules; probabilities roll from `seed` (a random one without).
    pub fn new(seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(rand::random);
        let book = Book { rules: Vec::new(), next_id: 1, rng: ChaCha8Rng::seed_from_u64(seed) };
        Self { seed, live: AtomicUsize::new(0), book: Mutex::new(book) }
    }

    fn recount(&self, book: &Book) {
        self.live.store(book.rules.iter().filter(|r| r.live()).count(), Ordering::Release);
    }

    /// Adds a rule after the others; returns its id. At [`MAX_RULES`], the
    /// oldest expired rule goes first, or the rule is refused with [`FULL`].
    pub fn add(&self, spec: FaultSpec) -> Result<Arc<str>, &'static str> {
        let mut book = self.book.lock();
        if book.rules.len() >= MAX_RULES {
            let expired = book.rules.iter().position(|r| !r.live()).ok_or(FULL)?;
            book.rules.remove(expired);
        }
        let id: Arc<str> = format!("flt_{}", book.next_id).into();
        book.next_id += 1;
        book.rules.push(Rule { id: Arc::clone(&id), remaining: spec.times, spec, hits: 0 });
        self.recount(&book);
        Ok(id)
    }

    /// Every rule, in checking order.
    pub fn list(&self) -> Vec<Rule> {
        self.book.lock().rules.clone()
    }

    /// Removes one rule; false if there is none with `id`.
    pub fn remove(&self, id: &str) -> bool {
        let mut book = self.book.lock();
        let before = book.rules.len();
        book.rules.retain(|r| &*r.id != id);
        self.recount(&book);
        book.rules.len() < before
    }

    /// Removes every rule (or those scoped to `api_key`); a full clear also
    /// re-seeds the RNG, so a reset run replays the same rolls.
    pub fn clear(&self, api_key: Option<&str>) {
        let mut book = self.book.lock();
        match api_key {
            Some(k) => book.rules.retain(|r| r.spec.api_key.as_deref() != Some(k)),
            None => {
                book.rules.clear();
                book.rng = ChaCha8Rng::seed_from_u64(self.seed);
            }
        }
        self.recount(&book);
    }

    /// The fault for a request to `rel_path` (under `/atoms/v1`) sent with
    /// Bearer `api_key`, if a rule fires.
    pub fn decide(&self, method: &Method, rel_path: &str, api_key: Option<&str>) -> Option<Decision> {
        if self.live.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut book = self.book.lock();
        let Book { rules, rng, .. } = &mut *book;
        let i = pick(rules, method, rel_path, api_key, || rng.gen::<f64>())?;
        let decision = rules[i].decision();
        if !rules[i].live() {
            self.recount(&book);
        }
        Some(decision)
    }
}

/// A rule as the control API lists it: the spec as given plus `remaining`
/// (`null`: unlimited) and `hits`.
pub fn render(r: &Rule) -> Value {
    let s = &r.spec;
    json!({
        "id": &*r.id,
        "method": s.method.as_ref().map(Method::as_str),
        "pathPattern": s.pattern.source(),
        "apiKey": s.api_key,
        "status": s.status.map(|c| c.as_u16()),
        "body": s.status.map(|_| serde_json::from_slice::<Value>(&s.body).unwrap_or(Value::Null)),
        "headers": crate::journal::render_headers(&s.headers),
        "delayMs": s.delay_ms,
        "times": s.times,
        "probability": s.probability,
        "remaining": r.remaining,
        "hits": r.hits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: Value) -> FaultSpec {
        FaultSpec::parse(&serde_json::from_value(json).expect("request")).expect("spec")
    }

    fn rule(json: Value) -> Rule {
        let spec = spec(json);
        Rule { id: "flt_1".into(), remaining: spec.times, spec, hits: 0 }
    }

    #[test]
    fn a_rule_with_times_fires_that_often_then_expires() {
        let mut rules = [rule(json!({"pathPattern": "/agent", "status": 503, "times": 2}))];
        let fired: Vec<bool> =
            (0..3).map(|_| pick(&mut rules, &Method::GET, "/agent", None, || 0.0).is_some()).collect();
        assert_eq!(fired, [true, true, false]);
        assert_eq!((rules[0].hits, rules[0].remaining), (2, Some(0)));
    }

    #[test]
    fn method_and_key_scope_a_rule() {
        let mut rules = [rule(json!({"pathPattern": "/agent", "status": 500, "method": "post", "apiKey": "k1"}))];
        assert!(pick(&mut rules, &Method::GET, "/agent", Some("k1"), || 0.0).is_none());
        assert!(pick(&mut rules, &Method::POST, "/agent", Some("k2"), || 0.0).is_none());
        assert!(pick(&mut rules, &Method::POST, "/agent", None, || 0.0).is_none());
        assert!(pick(&mut rules, &Method::POST, "/agent", Some("k1"), || 0.0).is_some());
    }

    #[test]
    fn the_first_matching_rule_wins_and_a_lost_roll_falls_through() {
        let mut rules = [
            rule(json!({"pathPattern": "/agent", "status": 500, "probability": 0.5})),
            rule(json!({"pathPattern": "/*", "status": 503})),
        ];
        assert_eq!(pick(&mut rules, &Method::GET, "/agent", None, || 0.1), Some(0));
        assert_eq!(pick(&mut rules, &Method::GET, "/agent", None, || 0.9), Some(1));
    }

    #[test]
    fn probabilities_zero_and_one_never_roll() {
        let mut rules = [
            rule(json!({"pathPattern": "/a", "status": 500, "probability": 0})),
            rule(json!({"pathPattern": "/a", "status": 503, "probability": 1})),
        ];
        let roll = || -> f64 { panic!("rolled") };
        assert_eq!(pick(&mut rules, &Method::GET, "/a", None, roll), Some(1));
    }

    #[test]
    fn the_same_seed_fires_the_same_requests() {
        let run = || {
            let f = Faults::new(Some(7));
            f.add(spec(json!({"pathPattern": "/agent", "status": 500, "probability": 0.5}))).expect("room");
            (0..64).map(|_| f.decide(&Method::GET, "/agent", None).is_some()).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.contains(&true) && first.contains(&false));
    }

    #[test]
    fn clearing_one_key_keeps_the_other_rules_and_recounts() {
        let f = Faults::new(Some(1));
        f.add(spec(json!({"pathPattern": "/agent", "status": 500, "apiKey": "k1"}))).expect("room");
        let keep = f.add(spec(json!({"pathPattern": "/agent", "status": 503, "times": 1}))).expect("room");
        f.clear(Some("k1"));
        assert_eq!(f.list().iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [keep]);
        assert!(f.decide(&Method::GET, "/agent", None).is_some());
        assert_eq!(f.live.load(Ordering::Acquire), 0);
        assert!(f.decide(&Method::GET, "/agent", None).is_none());
    }

    #[test]
    fn at_the_bound_an_expired_rule_makes_room_else_the_rule_is_refused() {
        let f = Faults::new(Some(1));
        let first = f.add(spec(json!({"pathPattern": "/once", "status": 500, "times": 1}))).expect("room");
        for _ in 1..MAX_RULES {
            f.add(spec(json!({"pathPattern": "/agent", "status": 500}))).expect("room");
        }
        assert_eq!(f.add(spec(json!({"pathPattern": "/x", "status": 500}))), Err(FULL), "every rule can still fire");
        assert!(f.decide(&Method::GET, "/once", None).is_some(), "the first rule fires its one time");
        let next = f.add(spec(json!({"pathPattern": "/x", "status": 500}))).expect("the expired rule made room");
        let ids: Vec<Arc<str>> = f.list().into_iter().map(|r| r.id).collect();
        assert_eq!((ids.len(), ids.contains(&first), ids.last()), (MAX_RULES, false, Some(&next)));
    }
}
