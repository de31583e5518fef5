//! Transport settings: connection timeouts and the shutdown grace period.
//! Flattened into [`crate::Config`], so each is a flag and an
//! `ATOMS_MOCK_*` variable. Durations are seconds (fractions allowed);
//! 0 turns a timeout off.

use std::time::Duration;

use clap::Args;

/// Default `--header-timeout-secs`.
pub const DEFAULT_HEADER_TIMEOUT_SECS: f64 = 10.0;
/// Default `--body-timeout-secs`.
pub const DEFAULT_BODY_TIMEOUT_SECS: f64 = 10.0;
/// Default `--idle-timeout-secs`.
pub const DEFAULT_IDLE_TIMEOUT_SECS: f64 = 60.0;
/// Default `--shutdown-grace-secs`.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: f64 = 5.0;

/// Connection timeouts and the shutdown grace period (wall-clock time,
/// never the mock's virtual clock).
#[derive(Debug, Clone, Copy, PartialEq, Args)]
pub struct Transport {
    /// Seconds a client may take to send a whole request head (request
    /// line and headers), counted from its first byte; the connection is
    /// then closed without an answer. 0: no limit.
    #[arg(long, env = "ATOMS_MOCK_HEADER_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_TIMEOUT_SECS)]
    pub header_timeout_secs: f64,

    /// Seconds a request body may stall (no bytes arriving) while it is
    /// read; the request then gets 408 in the error envelope. 0: no limit.
    #[arg(long, env = "ATOMS_MOCK_BODY_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_TIMEOUT_SECS)]
    pub body_timeout_secs: f64,

    /// Seconds a kept-alive connection may sit with no request before it
    /// is closed (also a new connection that sends nothing). Streams (SSE,
    /// WebSocket) and long-polls in progress are not idle. 0: no limit.
    #[arg(long, env = "ATOMS_MOCK_IDLE_TIMEOUT_SECS", default_value_t = DEFAULT_IDLE_TIMEOUT_SECS)]
    pub idle_timeout_secs: f64,

    /// On SIGTERM or Ctrl-C: seconds in-flight requests get to finish
    /// after the listener closes (streams and long-polls end at once);
    /// connections still open then are dropped.
    #[arg(long, env = "ATOMS_MOCK_SHUTDOWN_GRACE_SECS", default_value_t = DEFAULT_SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace_secs: f64,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
        }
    }
}

/// Longest duration honoured (about 31 years), so deadlines never overflow.
const MAX_SECS: f64 = 1e9;

/// `secs` as a duration, at most [`MAX_SECS`]; `None` for 0, negative or
/// NaN (no limit).
fn limit(secs: f64) -> Option<Duration> {
    (secs > 0.0).then(|| Duration::from_secs_f64(secs.min(MAX_SECS)))
}

impl Transport {
    /// The header-read timeout, if any.
    pub fn header_timeout(&self) -> Option<Duration> {
        limit(self.header_timeout_secs)
    }

    /// The body-stall timeout, if any.
    pub fn body_timeout(&self) -> Option<Duration> {
        limit(self.body_timeout_secs)
    }

    /// The keep-alive idle timeout, if any.
    pub fn idle_timeout(&self) -> Option<Duration> {
        limit(self.idle_timeout_secs)
    }

    /// The shutdown grace period (0 for a negative or NaN value).
    pub fn shutdown_grace(&self) -> Duration {
        limit(self.shutdown_grace_secs).unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_negative_and_nan_turn_a_timeout_off() {
        let t = Transport {
            header_timeout_secs: 0.0,
            body_timeout_secs: -1.0,
            idle_timeout_secs: f64::NAN,
            ..Transport::default()
        };
        assert_eq!((t.header_timeout(), t.body_timeout(), t.idle_timeout()), (None, None, None));
        assert_eq!(Transport { shutdown_grace_secs: -3.0, ..t }.shutdown_grace(), Duration::ZERO);
    }

    #[test]
    fn fractions_of_seconds_are_kept_and_huge_values_saturate() {
        let t = Transport { body_timeout_secs: 0.25, idle_timeout_secs: 1e300, ..Transport::default() };
        assert_eq!(t.body_timeout(), Some(Duration::from_millis(250)));
        assert_eq!(t.idle_timeout(), Some(Duration::from_secs(1_000_000_000)));
    }
}
