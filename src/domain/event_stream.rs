//! Who may still subscribe to a call's event stream (`GET /events`,
//! BEHAVIOR R124, L-F4). The spec gives 400 for a completed call, while
//! the events guide lets clients subscribe to a "recently completed" one:
//! the mock reconciles both with a grace period after the call's end.
//! Pure: `now` is passed in.

use super::Millis;

/// How long after its end a call can still be subscribed to, ms.
pub const GRACE_MS: Millis = 60_000;

/// Whether a call that ended at `ended_at` (`None`: still running) can be
/// subscribed to at `now`: 400 `Call is already completed` otherwise.
pub fn subscribable(ended_at: Option<Millis>, now: Millis) -> bool {
    ended_at.is_none_or(|end| now - end <= GRACE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_stays_subscribable_for_the_grace_period_after_it_ends() {
        assert!(subscribable(None, 1_000_000));
        assert!(subscribable(Some(0), GRACE_MS));
        assert!(!subscribable(Some(0), GRACE_MS + 1));
    }
}
