//! The one clock of the crate. Every timer reads and sleeps through it
//! (security-check windows today; call scripts, campaign schedules,
//! retries and token expiry as they arrive).
//!
//! - **Real** mode follows the system clock.
//! - **Virtual** mode starts at `2026-01-01T00:00:00Z` and moves only when
//!   [`Clock::advance`] is called (`POST /_admin/clock/advance`).
//!
//! Two kinds of timers share one deadline-ordered queue:
//! - **actions** ([`Clock::schedule`]): synchronous closures. In virtual
//!   mode `advance` runs every due action itself, in deadline order, with
//!   `now` set to the action's deadline, before it returns; so when the
//!   control API answers, everything due has happened. Actions may
//!   schedule further actions. In real mode a driver task
//!   ([`Clock::spawn_driver`]) runs them when they fall due.
//! - **sleepers** ([`Clock::sleep_until`]): async tasks waiting for a
//!   deadline, woken in the same order.
//!
//! [`Clock::run_until_idle`] is the one way to let clock-driven work
//! finish without moving time: it runs what is due and gives the tasks
//! the clock woke the runtime until they wait again. `advance` uses it
//! after every woken sleeper and before it returns; tests use it instead
//! of spinning on `yield_now`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::domain::Millis;

/// `2026-01-01T00:00:00Z` in epoch ms: where a virtual clock starts.
pub const VIRTUAL_EPOCH_MS: Millis = 1_767_225_600_000;

/// Real or virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockMode {
    /// System time.
    Real,
    /// Time moves only through the control API.
    Virtual,
}

impl ClockMode {
    /// `"real"` or `"virtual"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Real => "real",
            Self::Virtual => "virtual",
        }
    }
}

/// Rounds of `yield_now` [`Clock::run_until_idle`] gives woken tasks
/// before it looks again: enough for a task to run to its next await
/// through a few hops of channels and locks.
pub const IDLE_YIELDS: usize = 8;

/// Most looks [`Clock::run_until_idle`] takes: a task that keeps scheduling
/// work at the current instant cannot hold it forever.
pub const IDLE_ROUNDS: usize = 1_000;

/// A scheduled action: runs once, synchronously, when its deadline is due.
pub type Action = Box<dyn FnOnce() + Send + 'static>;

enum Timer {
    Sleeper(oneshot::Sender<()>),
    Action(Action),
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sleeper(_) => "Sleeper",
            Self::Action(_) => "Action",
        })
    }
}

#[derive(Debug)]
struct Inner {
    mode: ClockMode,
    now: AtomicI64,
    seq: AtomicU64,
    /// Timers fired so far.
    fired: AtomicU64,
    sleepers: Mutex<BTreeMap<(Millis, u64), Timer>>,
    /// Wakes the real-mode driver when an earlier deadline arrives.
    changed: tokio::sync::Notify,
}

/// A cheap, cloneable handle to the clock.
#[derive(Debug, Clone)]
pub struct Clock(Arc<Inner>);

fn system_ms() -> Millis {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Clock {
    /// A clock in `mode`; a virtual one starts at [`VIRTUAL_EPOCH_MS`].
    pub fn new(mode: ClockMode) -> Self {
        Self(Arc::new(Inner {
            mode,
            now: AtomicI64::new(VIRTUAL_EPOCH_MS),
            seq: AtomicU64::new(0),
            fired: AtomicU64::new(0),
            sleepers: Mutex::new(BTreeMap::new()),
            changed: tokio::sync::Notify::new(),
        }))
    }

    /// Runs `action` once the clock reaches `at` (epoch ms). An action that
    /// is already due runs at the next `advance` (virtual) or driver tick
    /// (real), never inline, so callers may hold their own locks.
    pub fn schedule(&self, at: Millis, action: impl FnOnce() + Send + 'static) {
        let seq = self.0.seq.fetch_add(1, Ordering::Relaxed);
        self.0.sleepers.lock().insert((at, seq), Timer::Action(Box::new(action)));
        self.0.changed.notify_one();
    }

    /// Number of pending actions and sleepers.
    pub fn pending(&self) -> usize {
        self.0.sleepers.lock().len()
    }

    /// Pops the earliest timer due at or before `limit`, moving a virtual
    /// clock to its deadline.
    fn pop_due(&self, limit: Millis) -> Option<Timer> {
        let mut timers = self.0.sleepers.lock();
        let (&(at, _), _) = timers.first_key_value()?;
        if at > limit {
            return None;
        }
        if self.0.mode == ClockMode::Virtual {
            self.0.now.fetch_max(at, Ordering::AcqRel);
        }
        self.0.fired.fetch_add(1, Ordering::Relaxed);
        timers.pop_first().map(|(_, t)| t)
    }

    /// In real mode, spawns the task that runs due actions and wakes
    /// sleepers; a no-op in virtual mode. The task ends when the clock is
    /// dropped by everyone else.
    pub fn spawn_driver(&self) {
        if self.0.mode != ClockMode::Real {
            return;
        }
        let clock = self.clone();
        tokio::spawn(async move {
            // Ends once nobody but this task holds the clock.
            while Arc::strong_count(&clock.0) > 1 {
                while let Some(t) = clock.pop_due(system_ms()) {
                    fire(t);
                }
                let next = clock.0.sleepers.lock().first_key_value().map(|(&(at, _), _)| at);
                let wait = next.map_or(Duration::from_millis(250), |at| {
                    Duration::from_millis(u64::try_from(at - system_ms()).unwrap_or(0).min(250))
                });
                tokio::select! {
                    () = clock.0.changed.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
        });
    }

    /// Timers (actions and sleepers) fired so far: a change counter for
    /// the state writer, since clock-driven work changes state.
    pub fn fired(&self) -> u64 {
        self.0.fired.load(Ordering::Relaxed)
    }

    /// Moves a virtual clock forward to `at` (epoch ms) without firing
    /// anything: where a restored state's clock stood. Never moves it
    /// back; a real clock is unchanged.
    pub fn resume_at(&self, at: Millis) {
        if self.0.mode == ClockMode::Virtual {
            self.0.now.fetch_max(at, Ordering::AcqRel);
        }
    }

    /// The mode.
    pub fn mode(&self) -> ClockMode {
        self.0.mode
    }

    /// Now, in epoch milliseconds.
    pub fn now(&self) -> Millis {
        match self.0.mode {
            ClockMode::Real => system_ms(),
            ClockMode::Virtual => self.0.now.load(Ordering::Acquire),
        }
    }

    /// Resolves once the clock reaches `deadline` (epoch ms).
    pub async fn sleep_until(&self, deadline: Millis) {
        match self.0.mode {
            ClockMode::Real => {
                let wait = u64::try_from(deadline - system_ms()).unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            ClockMode::Virtual => {
                let rx = {
                    let mut sleepers = self.0.sleepers.lock();
                    if deadline <= self.now() {
                        return;
                    }
                    let (tx, rx) = oneshot::channel();
                    let seq = self.0.seq.fetch_add(1, Ordering::Relaxed);
                    sleepers.insert((deadline, seq), Timer::Sleeper(tx));
                    rx
                };
                let _ = rx.await;
            }
        }
    }

    /// An owned future that resolves once the clock reaches `deadline`
    /// (for storing across loop iterations).
    pub fn sleep(&self, deadline: Millis) -> impl std::future::Future<Output = ()> + Send + 'static {
        let clock = self.clone();
        async move { clock.sleep_until(deadline).await }
    }

    /// Advances a virtual clock by `ms`: runs due actions and wakes
    /// sleepers in deadline order, then settles at the target. Returns the
    /// new time. A real clock is not moved; it returns now.
    pub async fn advance(&self, ms: Millis) -> Millis {
        if self.0.mode == ClockMode::Real {
            return self.now();
        }
        let target = self.now().saturating_add(ms.max(0));
        while let Some(t) = self.pop_due(target) {
            let woke_task = matches!(t, Timer::Sleeper(_));
            fire(t);
            if woke_task {
                // Let the woken task run (and schedule follow-ups) before
                // time moves on, so later deadlines observe its effects.
                self.run_until_idle().await;
            }
        }
        self.0.now.fetch_max(target, Ordering::AcqRel);
        self.run_until_idle().await;
        target
    }

    /// Lets clock-driven work settle without moving time: runs every action
    /// already due, wakes every sleeper already due, and yields to the
    /// runtime until a whole round of [`IDLE_YIELDS`] yields neither finds
    /// a timer due nor sees one scheduled (a woken task that sleeps again
    /// or schedules a follow-up registers a timer, so it is waited for).
    /// Work that waits on something other than the clock (a socket, a
    /// channel) gets those yields and no more. Gives up after
    /// [`IDLE_ROUNDS`] rounds. Works in both modes; in real mode the driver
    /// task would run the same actions a moment later.
    pub async fn run_until_idle(&self) {
        for _ in 0..IDLE_ROUNDS {
            let before = self.0.seq.load(Ordering::Acquire);
            let mut fired = false;
            while let Some(t) = self.pop_due(self.now()) {
                fire(t);
                fired = true;
            }
            for _ in 0..IDLE_YIELDS {
                tokio::task::yield_now().await;
            }
            if !fired && self.0.seq.load(Ordering::Acquire) == before {
                return;
            }
        }
    }
}

fn fire(t: Timer) {
    match t {
        Timer::Sleeper(tx) => {
            let _ = tx.send(());
        }
        Timer::Action(action) => action(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn virtual_clock_moves_only_when_advanced() {
        let clock = Clock::new(ClockMode::Virtual);
        assert_eq!(clock.now(), VIRTUAL_EPOCH_MS);
        assert_eq!(clock.advance(1500).await, VIRTUAL_EPOCH_MS + 1500);
        assert_eq!(clock.now(), VIRTUAL_EPOCH_MS + 1500);
    }

    #[tokio::test]
    async fn sleepers_wake_in_deadline_order() {
        let clock = Clock::new(ClockMode::Virtual);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for d in [3000, 1000, 2000] {
            let (c, o) = (clock.clone(), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                c.sleep_until(VIRTUAL_EPOCH_MS + d).await;
                o.lock().push((d, c.now() - VIRTUAL_EPOCH_MS));
            }));
        }
        // The three tasks register their sleepers before time moves.
        clock.run_until_idle().await;
        assert_eq!(clock.pending(), 3);
        clock.advance(5000).await;
        for t in tasks {
            t.await.unwrap_or_default();
        }
        assert_eq!(*order.lock(), vec![(1000, 1000), (2000, 2000), (3000, 3000)]);
    }

    #[tokio::test]
    async fn actions_run_in_order_before_advance_returns_and_may_chain() {
        let clock = Clock::new(ClockMode::Virtual);
        let seen = Arc::new(Mutex::new(Vec::new()));
        for d in [300, 100, 200] {
            let (c, s) = (clock.clone(), Arc::clone(&seen));
            clock.schedule(VIRTUAL_EPOCH_MS + d, move || {
                s.lock().push(c.now() - VIRTUAL_EPOCH_MS);
                if d == 100 {
                    let (c2, s2) = (c.clone(), Arc::clone(&s));
                    c.schedule(c.now() + 50, move || s2.lock().push(c2.now() - VIRTUAL_EPOCH_MS));
                }
            });
        }
        clock.advance(250).await;
        assert_eq!(*seen.lock(), vec![100, 150, 200]);
        assert_eq!(clock.pending(), 1);
        clock.advance(1000).await;
        assert_eq!(*seen.lock(), vec![100, 150, 200, 300]);
    }

    #[tokio::test]
    async fn run_until_idle_runs_due_actions_and_waits_for_woken_tasks_to_wait_again() {
        let clock = Clock::new(ClockMode::Virtual);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        clock.schedule(clock.now(), move || s.lock().push("due action"));
        let (c, s) = (clock.clone(), Arc::clone(&seen));
        let task = tokio::spawn(async move {
            // Several hops before the task reaches the clock.
            for _ in 0..5 {
                tokio::task::yield_now().await;
            }
            c.sleep_until(c.now() + 100).await;
            s.lock().push("woken");
        });
        clock.run_until_idle().await;
        assert_eq!(*seen.lock(), vec!["due action"]);
        assert_eq!(clock.pending(), 1, "the task's sleeper is registered");
        clock.advance(100).await;
        assert_eq!(*seen.lock(), vec!["due action", "woken"], "advance settles the woken task before returning");
        task.await.expect("task");
    }

    #[tokio::test]
    async fn real_driver_runs_due_actions() {
        let clock = Clock::new(ClockMode::Real);
        clock.spawn_driver();
        let (tx, rx) = oneshot::channel();
        clock.schedule(clock.now() + 20, move || {
            let _ = tx.send(());
        });
        tokio::time::timeout(Duration::from_secs(5), rx).await.expect("action ran").expect("sent");
    }
}
