//! Persistence settings: the state file and how often it is written.
//! Flattened into [`crate::Config`], so each is a flag and an
//! `ATOMS_MOCK_*` variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// Default `--snapshot-interval-secs`.
pub const DEFAULT_SNAPSHOT_INTERVAL_SECS: f64 = 5.0;

/// Default `--state-import-bytes`: 64 MiB.
pub const DEFAULT_STATE_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// Where the mock keeps its state across restarts (off by default).
#[derive(Debug, Clone, PartialEq, Args)]
pub struct Persistence {
    /// Keep the state in this JSON file: loaded at start if it exists
    /// (a corrupt file or one of an unknown version stops the start and is
    /// left untouched), written atomically while running and on graceful
    /// shutdown. Unset: state lives in memory only.
    #[arg(long, env = "ATOMS_MOCK_STATE_FILE")]
    pub state_file: Option<PathBuf>,

    /// With `--state-file`: seconds between snapshot writes at most
    /// (wall-clock time); a write happens only when something changed.
    #[arg(long, env = "ATOMS_MOCK_SNAPSHOT_INTERVAL_SECS", default_value_t = DEFAULT_SNAPSHOT_INTERVAL_SECS)]
    pub snapshot_interval_secs: f64,

    /// Mock extension: the largest body `PUT /_admin/state` imports, in
    /// bytes (default 64 MiB). A larger document gets 413 naming the
    /// limit, before its body is read when its `Content-Length` declares
    /// it; `0` refuses every import. Raise it to move an organization whose
    /// export is larger (the export itself has no limit).
    #[arg(long, env = "ATOMS_MOCK_STATE_IMPORT_BYTES", default_value_t = DEFAULT_STATE_IMPORT_BYTES)]
    pub state_import_bytes: usize,
}

impl Default for Persistence {
    fn default() -> Self {
        Self {
            state_file: None,
            snapshot_interval_secs: DEFAULT_SNAPSHOT_INTERVAL_SECS,
            state_import_bytes: DEFAULT_STATE_IMPORT_BYTES,
        }
    }
}

impl Persistence {
    /// The interval between writes: at least 10 ms (a zero, negative or
    /// NaN value counts as 10 ms), at most a day.
    pub fn interval(&self) -> Duration {
        let secs = if self.snapshot_interval_secs.is_nan() { 0.0 } else { self.snapshot_interval_secs };
        Duration::from_secs_f64(secs.clamp(0.01, 86_400.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_bounded() {
        let p = |s: f64| Persistence { snapshot_interval_secs: s, ..Persistence::default() }.interval();
        assert_eq!(p(0.0), Duration::from_millis(10));
        assert_eq!(p(f64::NAN), Duration::from_millis(10));
        assert_eq!(p(2.5), Duration::from_millis(2500));
        assert_eq!(p(1e12), Duration::from_secs(86_400));
    }
}
