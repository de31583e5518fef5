//! The one clock of the crate. Every timer reads and sleeps through it
//! (security-check windows today; call scripts, campaign schedules,
//! retries and token expiry as they arrive).
//!
//! - **Real** mode follows the system clock.
//! - **Virtual** mode starts at `2026-01-01T00:00:00Z` and moves only when
//!   [`Clock::advance`] is called (`POST /_admin/clock/advance`). Sleepers
//!   registered with [`Clock::sleep_until`] wake in deadline order, each
//!   seeing `now` equal to its own deadline, so everything due fires in
//!   order.

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

#[derive(Debug)]
struct Inner {
    mode: ClockMode,
    now: AtomicI64,
    seq: AtomicU64,
    sleepers: Mutex<BTreeMap<(Millis, u64), oneshot::Sender<()>>>,
}

/// A cheap, cloneable handle to the clock.
#[derive(Debug, Clone)]
pub struct Clock(Arc<Inner>);

fn system_ms() -> Millis {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Clock {
    /// A clock in `mode`; a virtual one starts at [`VIRTUAL_EPOCH_MS`].
    pub fn new(mode: ClockMode) -> Self {
        Self(Arc::new(Inner {
            mode,
            now: AtomicI64::new(VIRTUAL_EPOCH_MS),
            seq: AtomicU64::new(0),
            sleepers: Mutex::new(BTreeMap::new()),
        }))
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
                    sleepers.insert((deadline, seq), tx);
                    rx
                };
                let _ = rx.await;
            }
        }
    }

    /// Advances a virtual clock by `ms`, waking sleepers in deadline order.
    /// Returns the new time. A real clock is not moved; it returns now.
    pub async fn advance(&self, ms: Millis) -> Millis {
        if self.0.mode == ClockMode::Real {
            return self.now();
        }
        let target = self.now().saturating_add(ms.max(0));
        loop {
            let due = {
                let mut sleepers = self.0.sleepers.lock();
                match sleepers.first_key_value() {
                    Some((&(at, _), _)) if at <= target => {
                        self.0.now.fetch_max(at, Ordering::AcqRel);
                        sleepers.pop_first().map(|(_, tx)| tx)
                    }
                    _ => None,
                }
            };
            let Some(tx) = due else { break };
            let _ = tx.send(());
            // Let the woken task run (and schedule follow-ups) before time
            // moves on, so later deadlines observe its effects.
            for _ in 0..8 {
                tokio::task::yield_now().await;
            }
        }
        self.0.now.fetch_max(target, Ordering::AcqRel);
        target
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
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
        clock.advance(5000).await;
        for t in tasks {
            t.await.unwrap_or_default();
        }
        assert_eq!(
            *order.lock(),
            vec![(1000, 1000), (2000, 2000), (3000, 3000)]
        );
    }
}
