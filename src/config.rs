//! Command-line and environment configuration. Every flag also reads an
//! `ATOMS_MOCK_*` environment variable (flag wins).
//!
//! A near-leaf of the crate: it names the clock mode, the versioning mode
//! (`crate::domain::versioning`) and the journal's defaults, and nothing
//! that reads the configuration; each area turns its part into its own
//! settings (`webhooks::Settings::from_config`, the server's
//! [`Transport`], the HTTP layer's [`CorsOrigins`]).

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::Parser;

use crate::clock::ClockMode;
pub use crate::domain::versioning::VersioningMode;

mod cors;
pub mod persistence;
pub mod transport;

pub use cors::CorsOrigins;
pub use persistence::{Persistence, DEFAULT_STATE_IMPORT_BYTES};
pub use transport::Transport;

/// Default concurrent calls per organization (`--concurrency-limit`, R108).
pub const DEFAULT_CONCURRENCY: usize = 10;

/// Server configuration, parsed with clap.
#[derive(Debug, Clone, Parser)]
#[command(name = "atoms-mock", version, about = "A fast, stateful fake of the Atoms voice-agent platform API")]
pub struct Config {
    /// Address to bind.
    #[arg(long, env = "ATOMS_MOCK_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to bind; 0 picks a free port.
    #[arg(long, env = "ATOMS_MOCK_PORT", default_value_t = 4010)]
    pub port: u16,

    /// Directory of fixture files overriding the embedded defaults
    /// (`templates.json`, `agents.json`).
    #[arg(long, env = "ATOMS_MOCK_FIXTURES")]
    pub fixtures: Option<PathBuf>,

    /// `real` follows the system clock; `virtual` starts at
    /// 2026-01-01T00:00:00Z and moves only via `POST /_admin/clock/advance`.
    #[arg(long, env = "ATOMS_MOCK_CLOCK", value_enum, default_value = "real")]
    pub clock: ClockMode,

    /// Seconds after publish until a version's security check passes.
    #[arg(long, env = "ATOMS_MOCK_SECURITY_CHECK_SECS", default_value_t = 6.0)]
    pub security_check_secs: f64,

    /// Seed for deterministic ids (and, with `--clock virtual`, timestamps).
    #[arg(long, env = "ATOMS_MOCK_SEED")]
    pub seed: Option<u64>,

    /// Concurrent calls per organization before new calls queue (R108).
    #[arg(long, env = "ATOMS_MOCK_CONCURRENCY_LIMIT", default_value_t = DEFAULT_CONCURRENCY)]
    pub concurrency_limit: usize,

    /// Accept only these API keys (repeatable; comma-separated in the
    /// environment). By default any non-empty Bearer token authenticates.
    #[arg(long = "require-key", env = "ATOMS_MOCK_REQUIRE_KEY", value_delimiter = ',')]
    pub require_keys: Vec<String>,

    /// Mock extension: retry a failed webhook delivery up to N times, with
    /// exponential backoff (1 s, 2 s, 4 s, ... capped at 5 min) on the
    /// mock's clock. The platform never retries (R146), hence default 0.
    #[arg(long, env = "ATOMS_MOCK_WEBHOOK_RETRIES", default_value_t = 0)]
    pub webhook_retries: u32,

    /// Webhook delivery timeout in milliseconds, wall-clock (the
    /// platform's is 30 s, R146). Hidden: lets tests shorten it.
    #[arg(long, env = "ATOMS_MOCK_WEBHOOK_TIMEOUT_MS", default_value_t = 30_000, hide = true)]
    pub webhook_timeout_ms: u64,

    /// Versioning mode of organizations until `PUT /_admin/versioning`
    /// switches one: `auto` (each agent serves v1 until its first v2 call,
    /// LIVE V1), `v1` (drafts and versions, §C) or `v2` (branches and
    /// revisions, §D; the v1 write and list endpoints answer 409).
    #[arg(long, env = "ATOMS_MOCK_VERSIONING", value_enum, default_value = "auto")]
    pub versioning: VersioningMode,

    /// Browser origins allowed by CORS: `*` (any, the default), `off`, or
    /// a comma-separated list such as `https://app.example.com,http://localhost:3000`.
    #[arg(long, env = "ATOMS_MOCK_CORS", default_value = "*")]
    pub cors: CorsOrigins,

    /// Most webhook deliveries queued or in flight per webhook; beyond it a
    /// delivery is logged `FAILED` (`queue full`) without being sent.
    #[arg(long, env = "ATOMS_MOCK_WEBHOOK_QUEUE", default_value_t = 256)]
    pub webhook_queue: usize,

    /// Mock extension: requests the request journal keeps (the last N to
    /// `/atoms/v1`, `GET /_admin/journal`); 0 turns it off.
    #[arg(long, env = "ATOMS_MOCK_JOURNAL_CAPACITY", default_value_t = crate::journal::DEFAULT_CAPACITY)]
    pub journal_capacity: usize,

    /// Mock extension: bytes the request journal may hold (bodies, headers
    /// and bookkeeping); the oldest entries go first. 0 turns it off.
    #[arg(long, env = "ATOMS_MOCK_JOURNAL_BYTES", default_value_t = crate::journal::DEFAULT_BUDGET)]
    pub journal_bytes: usize,

    /// Mock extension: seconds after a call ends during which `GET
    /// /events` still replays it (the older events guide's "recently
    /// completed" call). 0, the default, is the spec's: an ended call is
    /// 400 `Call is already completed` at once (R124, L-F4).
    #[arg(long, env = "ATOMS_MOCK_SSE_REPLAY_SECS", default_value_t = 0)]
    pub sse_replay_secs: u64,

    /// Mock extension: bytes of memory the process may hold (its resident
    /// set, read on Linux) before `POST`, `PUT` and `PATCH` requests outside
    /// the control API get 507 (`memory::MemoryLimit`); reads, deletes and
    /// the control API still run. 0 turns it off.
    #[arg(long, env = "ATOMS_MOCK_MAX_MEMORY_BYTES", default_value_t = crate::memory::DEFAULT_MAX_MEMORY_BYTES)]
    pub max_memory_bytes: usize,

    /// Mock extension: bytes (approximate) the stored ended calls of all
    /// organizations may hold, event logs and transcripts included; the
    /// calls that ended first are evicted first and then answer 404 like
    /// unknown calls, while analytics keep counting them within
    /// `--analytics-bytes` (`domain::call_budget` CB1–CB5). Calls not yet
    /// ended are never evicted. 0 keeps no ended call.
    #[arg(long, env = "ATOMS_MOCK_CALL_STORE_BYTES", default_value_t = crate::domain::call_budget::DEFAULT_BUDGET)]
    pub call_store_bytes: usize,

    /// Mock extension: bytes (approximate) the analytics rows of evicted
    /// calls may hold, all organizations together; beyond it the rows of
    /// the calls that ended first leave the analytics figures
    /// (`domain::call_budget` CB5). Stored calls always count. 0 keeps no
    /// evicted call's row.
    #[arg(long, env = "ATOMS_MOCK_ANALYTICS_BYTES", default_value_t = crate::domain::call_budget::DEFAULT_ANALYTICS_BUDGET)]
    pub analytics_bytes: usize,

    /// Mock extension: organizations (API keys) kept at most; past it, a
    /// new key's first request forgets the least recently used idle ones
    /// (no call live, no campaign running; never a fixture key), as a
    /// per-key reset would (`domain::org_budget` OB1–OB4).
    #[arg(long, env = "ATOMS_MOCK_MAX_ORGANIZATIONS", default_value_t = crate::domain::org_budget::DEFAULT_MAX_ORGANIZATIONS)]
    pub max_organizations: usize,

    /// Mock extension: archived agents one organization keeps at most; past
    /// it, archiving forgets the archived agents created first (never the
    /// one being archived, nor one holding a concurrency reservation), which
    /// then answer as unknown ids
    /// (`domain::archive_budget` AR1–AR3).
    #[arg(long, env = "ATOMS_MOCK_MAX_ARCHIVED_AGENTS", default_value_t = crate::domain::archive_budget::DEFAULT_MAX_ARCHIVED_AGENTS)]
    pub max_archived_agents: usize,

    /// Connection timeouts and the shutdown grace period.
    #[command(flatten)]
    pub transport: Transport,

    /// The state file and its snapshot interval.
    #[command(flatten)]
    pub persistence: Persistence,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 4010,
            fixtures: None,
            clock: ClockMode::Real,
            security_check_secs: 6.0,
            seed: None,
            concurrency_limit: DEFAULT_CONCURRENCY,
            require_keys: Vec::new(),
            webhook_retries: 0,
            webhook_timeout_ms: 30_000,
            webhook_queue: 256,
            journal_capacity: crate::journal::DEFAULT_CAPACITY,
            journal_bytes: crate::journal::DEFAULT_BUDGET,
            max_memory_bytes: crate::memory::DEFAULT_MAX_MEMORY_BYTES,
            sse_replay_secs: 0,
            call_store_bytes: crate::domain::call_budget::DEFAULT_BUDGET,
            analytics_bytes: crate::domain::call_budget::DEFAULT_ANALYTICS_BUDGET,
            max_organizations: crate::domain::org_budget::DEFAULT_MAX_ORGANIZATIONS,
            max_archived_agents: crate::domain::archive_budget::DEFAULT_MAX_ARCHIVED_AGENTS,
            transport: Transport::default(),
            persistence: Persistence::default(),
            versioning: VersioningMode::Auto,
            cors: CorsOrigins::Any,
        }
    }
}

/// `--versioning auto|v1|v2` (the mode itself is a platform rule and
/// lives in `domain::versioning`).
impl clap::ValueEnum for VersioningMode {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Auto, Self::V1, Self::V2]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl Config {
    /// A configuration for tests: virtual clock, seed 1, port 0, and a
    /// 60 s SSE replay window (`--sse-replay-secs 60`), so a test can read
    /// the event stream of a call it ran to its end.
    pub fn for_tests() -> Self {
        Self { port: 0, clock: ClockMode::Virtual, seed: Some(1), sse_replay_secs: 60, ..Self::default() }
    }

    /// The SSE replay window (`--sse-replay-secs`) in milliseconds.
    pub fn sse_replay_ms(&self) -> i64 {
        i64::try_from(self.sse_replay_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// The security-check window in milliseconds (negative values count as 0).
    pub fn security_check_ms(&self) -> i64 {
        // Saturating float-to-int cast; NaN becomes 0.
        (self.security_check_secs.max(0.0) * 1000.0).round() as i64
    }
}
