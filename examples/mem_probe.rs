//! Heap bytes per agent, by component: what BENCHMARKS.md's breakdown of
//! the memory per agent comes from.
//!
//! ```text
//! cargo run --example mem_probe [N]     # N agents, default 10000
//! ```
//!
//! Runs on jemalloc (as the server does) behind a counting allocator that
//! adds up usable sizes, so allocator rounding is included.
//! Agents are created with `{"name":"m"}` in one organization through
//! [`Store::create_agent_from_body`] (the store path of `POST /agent`,
//! without HTTP and the request journal); each component is then measured
//! by cloning it N times, which allocates what the stored one holds.

use std::hint::black_box;

use atoms_mock::clock::{Clock, ClockMode};
use atoms_mock::domain::agent::Agent;
use atoms_mock::domain::branches::Branch;
use atoms_mock::domain::versioning::{AgentRecord, Version};
use atoms_mock::store::Store;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use tikv_jemallocator::{usable_size, Jemalloc};

/// jemalloc, counting the usable size of every live allocation.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to jemalloc unchanged; the counter only
// reads the usable size of pointers jemalloc returned.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = Jemalloc.alloc(l);
        if !p.is_null() {
            LIVE.fetch_add(usable_size(p), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(usable_size(p), Ordering::Relaxed);
        Jemalloc.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let before = usable_size(p);
        let q = Jemalloc.realloc(p, l, n);
        if !q.is_null() {
            LIVE.fetch_sub(before, Ordering::Relaxed);
            LIVE.fetch_add(usable_size(q), Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated now.
fn allocated() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes per item that `make` allocates, over `n` items kept alive
/// together (the `Vec` holding them is not counted).
fn per_item<T>(n: usize, mut make: impl FnMut(usize) -> T) -> f64 {
    let mut keep: Vec<T> = Vec::with_capacity(n);
    let before = allocated();
    for i in 0..n {
        keep.push(make(i));
    }
    let after = allocated();
    black_box(&keep);
    (after - before) as f64 / n as f64
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let store = Store::new(Clock::new(ClockMode::Virtual), Some(1), 6000);
    let t = store.tenant("sk_probe");
    let body = serde_json::json!({"name": "m"});
    let body = body.as_object().expect("object");
    let mut ids = Vec::with_capacity(n);
    let before = allocated();
    for _ in 0..n {
        ids.push(store.create_agent_from_body(&t, body).expect("created"));
    }
    // The returned ids are the caller's, not the store's.
    let total = (allocated() - before) as f64 / n as f64 - per_item(n, |i| ids[i].clone());
    let rec = store.read_agent(&t, &ids[0], AgentRecord::clone).expect("stored");

    let record = per_item(n, |_| Box::new(rec.clone()));
    let agent = per_item(n, |_| rec.agent.clone());
    let versions = per_item(n, |_| rec.versions.clone());
    let branches = per_item(n, |_| rec.branches.clone());
    let live = per_item(n, |_| rec.live_branch.clone());
    let mut rows = vec![
        (format!("AgentRecord box ({} B struct)", std::mem::size_of::<AgentRecord>()), 0.0),
        (format!("  Agent's strings and vectors ({} B inline)", std::mem::size_of::<Agent>()), agent),
        (format!("  versions: Vec of 1 Version ({} B) + its strings", std::mem::size_of::<Version>()), versions),
        (format!("  branches: Vec of 1 Branch ({} B) + its strings", std::mem::size_of::<Branch>()), branches),
        ("  live_branch id".to_string(), live),
    ];
    rows[0].1 = record - agent - versions - branches - live;
    rows.push(("organization's map and list index (total - record)".to_string(), total - record));
    println!("{n} agents created with {{\"name\":\"m\"}}; heap bytes per agent (jemalloc size classes)\n");
    println!("| component | bytes/agent |\n|---|---:|");
    for (what, bytes) in rows {
        println!("| {what} | {bytes:.0} |");
    }
    println!("| **total** | **{total:.0}** |");
}
