//! The realtime agent WebSocket (BEHAVIOR §J, R189–R214): register-call
//! tokens, the per-organization session limit, the draining switch, and
//! the sessions themselves.
//!
//! - [`Realtime`] (this file): tokens minted by `POST
//!   /conversation/register-call` (30 s on the mock's clock, single use,
//!   agent/mode/variables baked in, R189–R192), open-session counting and
//!   the control-API settings.
//! - [`protocol`]: the wire messages (serde enums tagged by `type`) and the
//!   PCM16 helpers.
//! - [`conversation`]: the session's state machine over its scenario: the
//!   mock VAD, agent turns with paced audio, barge-in, chat mode.
//! - [`session`]: the socket loop that feeds it on the mock's clock.
//! - [`tools`] and [`schema`]: client tools declared with `session.update`
//!   (LIVE W1) and the JSON Schema subset of their `parameters`.
//!
//! The handshake itself (auth forms and HTTP rejections) lives in
//! `http::calls::realtime`.
//!
//! # Mock behaviour where the reference is silent
//! - **VAD.** An `input_audio_buffer.append` chunk is *speech* when the RMS
//!   of its samples is at least [`SPEECH_RMS`] (≈ −36 dBFS), else
//!   *silence*. When the scenario expects the user, the first speech chunk
//!   opens the user turn; the turn ends after [`END_SILENCE_MS`] of
//!   silence, counted either in audio time (silent chunks) or on the mock's
//!   clock since the last speech chunk, whichever comes first. The mock's
//!   "STT" hears the scenario's user text: its interims go out as
//!   cumulative `transcript.delta`s as speech audio accumulates over the
//!   turn's `durationMs`, the final `transcript` carries the full text.
//!   Speech while the agent is thinking, or when the scenario expects no
//!   user turn, is ignored.
//! - **Barge-in.** A speech chunk (same threshold) or `input_text.send`
//!   while the agent is talking sends `interruption`, `agent_stop_talking`
//!   and the final assistant `transcript` holding the words whose
//!   `transcript.delta` had gone out; no more audio of that turn follows.
//! - **Text.** `input_text.send` is the user's turn in both modes: it
//!   replaces the scenario's user text in the call log. It produces no user
//!   `transcript` frame (there is no STT). Text sent while the scenario
//!   does not expect the user is queued until it does.
//! - **Client tools** (LIVE W1, superseding R202): see [`tools`] for
//!   declaring and [`conversation`] for calling.
//! - **Over the session limit** the upgrade is refused with **429** in the
//!   error envelope; draining answers **503** (R196).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Map, Value};

use crate::call::variables::STANDARD_KEYS;
use crate::domain::Millis;

pub mod conversation;
pub mod protocol;
mod register;
pub mod schema;
pub mod session;
pub mod tools;

/// Token lifetime: 30 s of the mock's clock (R191).
pub const TOKEN_TTL_MS: Millis = 30_000;
/// Concurrent sessions per organization unless changed (the platform's
/// Standard plan).
pub const DEFAULT_SESSION_LIMIT: usize = 100;
/// Accepted `sample_rate` values, Hz (R194).
pub const SAMPLE_RATES: [u32; 4] = [8000, 16000, 24000, 48000];
/// The rate of `wct_` sessions and the default, Hz (R194).
pub const DEFAULT_SAMPLE_RATE: u32 = 24000;
/// Length of one `output_audio.delta` chunk, ms of audio.
pub const CHUNK_MS: u64 = 40;
/// RMS (PCM16 units) at or above which a client chunk counts as speech.
pub const SPEECH_RMS: f64 = 500.0;
/// Silence that ends a user turn, ms (audio time or mock clock).
pub const END_SILENCE_MS: u64 = 500;
/// Pause after the scenario's last step before `session.closed {reason:
/// ended}`, ms (the scripted timeline's hang-up delay).
pub const END_GRACE_MS: u64 = 500;

/// Removes the reserved keys from register-call and query variables
/// (R192, L-J3): the 11 standard variables every call resolves itself
/// ([`STANDARD_KEYS`], R154).
pub fn strip_reserved(mut vars: Map<String, Value>) -> Map<String, Value> {
    vars.retain(|k, _| !STANDARD_KEYS.contains(&k.as_str()));
    vars
}

/// Session mode (R195, R210).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Voice: audio in and out, plus text in.
    Webcall,
    /// Text only: `input_text.send` in, `transcript` out.
    Chat,
}

impl Mode {
    /// Parses `webcall` or `chat`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webcall" => Some(Self::Webcall),
            "chat" => Some(Self::Chat),
            _ => None,
        }
    }
}

/// What a `wct_` token grants (R189, R191).
#[derive(Debug, Clone)]
pub struct Grant {
    /// The organization's API key that minted it.
    pub api_key: Arc<str>,
    /// The agent.
    pub agent_id: String,
    /// The mode.
    pub mode: Mode,
    /// Per-call variables, reserved keys already stripped.
    pub variables: Map<String, Value>,
    /// Scenario named by `x-atoms-mock-scenario` at minting (mock extension).
    pub scenario: Option<String>,
    /// Expiry, epoch ms.
    pub expires_at: Millis,
}

/// Realtime state: tokens, open sessions, limits, draining.
#[derive(Debug)]
pub struct Realtime {
    tokens: Mutex<HashMap<String, Grant>>,
    draining: AtomicBool,
    default_limit: AtomicUsize,
    setup_ms: AtomicI64,
    orgs: Mutex<HashMap<Arc<str>, OrgSessions>>,
}

#[derive(Debug, Default)]
struct OrgSessions {
    open: usize,
    limit: Option<usize>,
}

impl Default for Realtime {
    fn default() -> Self {
        Self {
            tokens: Mutex::new(HashMap::new()),
            draining: AtomicBool::new(false),
            default_limit: AtomicUsize::new(DEFAULT_SESSION_LIMIT),
            setup_ms: AtomicI64::new(0),
            orgs: Mutex::new(HashMap::new()),
        }
    }
}

/// One admitted session; dropping it frees the organization's slot.
#[derive(Debug)]
pub struct SessionSlot {
    realtime: Arc<Realtime>,
    api_key: Arc<str>,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        if let Some(o) = self.realtime.orgs.lock().get_mut(&self.api_key) {
            o.open = o.open.saturating_sub(1);
        }
    }
}

impl Realtime {
    /// Stores `grant` under `token` (`wct_<uuid>`), dropping expired tokens.
    pub fn mint(&self, token: String, grant: Grant, now: Millis) {
        let mut tokens = self.tokens.lock();
        tokens.retain(|_, g| g.expires_at > now);
        tokens.insert(token, grant);
    }

    /// The grant of a live token, without using it up; `None` when unknown,
    /// expired or already used (all 401, R191).
    pub fn peek(&self, token: &str, now: Millis) -> Option<Grant> {
        self.tokens.lock().get(token).filter(|g| g.expires_at > now).cloned()
    }

    /// Uses a token up: `Some` once, while it is live.
    pub fn redeem(&self, token: &str, now: Millis) -> Option<Grant> {
        self.tokens.lock().remove(token).filter(|g| g.expires_at > now)
    }

    /// Whether new sessions are refused with 503.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Turns draining on or off; open sessions are not touched.
    pub fn set_draining(&self, on: bool) {
        self.draining.store(on, Ordering::Release);
    }

    /// Back to the start-up switches (used by a full `POST /_admin/reset`):
    /// draining off, the default session limit (100), no per-organization
    /// limits, no setup delay, no unused tokens. Open sessions keep running.
    pub fn reset_settings(&self) {
        self.draining.store(false, Ordering::Release);
        self.default_limit.store(DEFAULT_SESSION_LIMIT, Ordering::Release);
        self.setup_ms.store(0, Ordering::Release);
        self.tokens.lock().clear();
        for org in self.orgs.lock().values_mut() {
            org.limit = None;
        }
    }

    /// Mock clock delay between the upgrade and `session.created`, ms;
    /// client messages during it get `no_session` (R198). Default 0.
    pub fn setup_ms(&self) -> Millis {
        self.setup_ms.load(Ordering::Acquire)
    }

    /// Sets [`Realtime::setup_ms`] (negative counts as 0).
    pub fn set_setup_ms(&self, ms: Millis) {
        self.setup_ms.store(ms.max(0), Ordering::Release);
    }

    /// The session limit of the organization of `api_key`, or the default
    /// with `None`.
    pub fn limit(&self, api_key: Option<&str>) -> usize {
        let default = self.default_limit.load(Ordering::Acquire);
        api_key.and_then(|k| self.orgs.lock().get(k).and_then(|o| o.limit)).unwrap_or(default)
    }

    /// Sets the limit of one organization, or the default with `None`.
    pub fn set_limit(&self, api_key: Option<&str>, limit: usize) {
        match api_key {
            Some(k) => self.orgs.lock().entry(Arc::from(k)).or_default().limit = Some(limit),
            None => self.default_limit.store(limit, Ordering::Release),
        }
    }

    /// Open sessions of one organization, or of all with `None`.
    pub fn open_sessions(&self, api_key: Option<&str>) -> usize {
        let orgs = self.orgs.lock();
        match api_key {
            Some(k) => orgs.get(k).map_or(0, |o| o.open),
            None => orgs.values().map(|o| o.open).sum(),
        }
    }

    /// Takes a session slot for the organization of `api_key`; `Err(limit)`
    /// when it already has `limit` open sessions.
    pub fn admit(self: &Arc<Self>, api_key: &Arc<str>) -> Result<SessionSlot, usize> {
        let default = self.default_limit.load(Ordering::Acquire);
        let mut orgs = self.orgs.lock();
        let o = orgs.entry(Arc::clone(api_key)).or_default();
        let limit = o.limit.unwrap_or(default);
        if o.open >= limit {
            return Err(limit);
        }
        o.open += 1;
        Ok(SessionSlot { realtime: Arc::clone(self), api_key: Arc::clone(api_key) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires_at: Millis) -> Grant {
        Grant {
            api_key: Arc::from("k"),
            agent_id: "a".into(),
            mode: Mode::Chat,
            variables: Map::new(),
            scenario: None,
            expires_at,
        }
    }

    #[test]
    fn a_token_is_used_once_and_only_before_it_expires() {
        let rt = Realtime::default();
        rt.mint("wct_1".into(), grant(1000), 0);
        assert!(rt.peek("wct_1", 999).is_some());
        assert!(rt.peek("wct_1", 1000).is_none());
        assert!(rt.redeem("wct_1", 10).is_some());
        assert!(rt.redeem("wct_1", 10).is_none());
    }

    #[test]
    fn slots_are_counted_per_organization_and_freed_on_drop() {
        let rt = Arc::new(Realtime::default());
        let key: Arc<str> = Arc::from("k");
        rt.set_limit(Some("k"), 1);
        let slot = rt.admit(&key).expect("first fits");
        assert_eq!(rt.admit(&key).map(|_| ()), Err(1));
        assert!(rt.admit(&Arc::from("other")).is_ok());
        drop(slot);
        assert_eq!(rt.open_sessions(Some("k")), 0);
        assert!(rt.admit(&key).is_ok());
    }

    #[test]
    fn reserved_keys_are_stripped() {
        let vars: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"call_id": "x", "timezone": "y", "name": "Ada"}))
                .unwrap_or_default();
        assert_eq!(strip_reserved(vars).keys().collect::<Vec<_>>(), ["name"]);
    }
}
