//! Persistence (opt-in) and the export/import of one organization.
//!
//! - **The state file** (`--state-file PATH`): at start the mock loads it
//!   if it exists ([`open`]); while running, [`Persister`] writes a
//!   snapshot at most every `--snapshot-interval-secs` seconds when
//!   something changed, and once more on graceful shutdown. Writes are
//!   atomic ([`file`]): a reader, or a mock restarted after `kill -9`,
//!   sees the previous snapshot or the new one, never a mix.
//! - **Export/import** (`GET/PUT /_admin/state?apiKey=K`): one
//!   organization as [`OrgDocument`], so a test suite can seed a known
//!   state in one request.
//!
//! **Format.** JSON through serde_json, pretty-printed: readable and
//! diffable (a snapshot can be checked into a test suite and reviewed),
//! the same format the control API speaks, and a crate the mock already
//! depends on; the file size is in BENCHMARKS.md. Every
//! document starts with `format` and `version` ([`VERSION`]); a file of
//! another format or version, or one that does not parse, stops the start
//! with an error naming the file and the problem, and is never written
//! over (nothing is written until a load succeeded).
//!
//! **What a snapshot holds.** Every organization's books
//! ([`TenantSnapshot`]), the clock ([`ClockState`]) and the id counter
//! ([`IdState`]). Scheduled work is not written as such: each engine
//! re-arms it from the restored state ([`install`]): campaign schedules,
//! queued start and pause tasks and retry wake-ups, v2 security scans,
//! and pending call analytics. Calls still running or queued when the
//! snapshot is taken are recorded as ended (`failed`, `system_error`,
//! R110); on restore their `call_end` is published and their campaigns
//! carry on (a retry if one is left). Not kept: the request journal, the
//! webhook delivery log (pending opt-in webhook retries are dropped), fault
//! rules, scenario assignments, realtime switches and live WebSocket
//! sessions.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::ClockMode;
use crate::domain::Millis;
use crate::state::AppState;
use crate::store::TenantSnapshot;

mod file;
mod writer;

pub use file::{read_state, temp_path, write_json_atomic, StateFileError};
pub use writer::Persister;

/// `format` of a state file.
pub const STATE_FORMAT: &str = "atoms-mock-state";
/// `format` of one exported organization.
pub const ORG_FORMAT: &str = "atoms-mock-organization";
/// The snapshot version this build writes and reads. Adding a book (a new
/// `#[serde(default)]` field) keeps it; changing what a field means bumps it.
pub const VERSION: u32 = 1;

/// The clock of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClockState {
    /// `real` or `virtual` when written (informational: the running mock's
    /// `--clock` decides).
    pub mode: String,
    /// Now, epoch ms. A virtual clock resumes here.
    pub now_ms: Millis,
}

/// The id generator of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdState {
    /// The next value of the ObjectId counter (24 bits).
    pub counter: u32,
}

/// A state file: the whole mock.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateDocument {
    /// [`STATE_FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The clock.
    pub clock: ClockState,
    /// The id counter.
    pub ids: IdState,
    /// Every organization, by API key.
    pub organizations: BTreeMap<String, TenantSnapshot>,
}

/// One organization, as `GET /_admin/state` exports and `PUT` imports it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgDocument {
    /// [`ORG_FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The organization.
    pub organization: TenantSnapshot,
}

/// The first two fields of either document, read before the rest so an
/// unknown format or version is named as such.
#[derive(Debug, Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<serde_json::Value>,
}

/// Parses a document of `format` from JSON `bytes`, or says what is wrong:
/// not JSON (with line and column), another format, another version, or
/// the JSON path and problem of a field that does not fit.
pub fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], format: &str) -> Result<T, String> {
    let header: Header = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    check_header(header, format)?;
    with_path(serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes)))
}

/// [`parse`] for a document already read as JSON.
pub fn parse_value<T: serde::de::DeserializeOwned>(value: serde_json::Value, format: &str) -> Result<T, String> {
    check_header(Header::deserialize(&value).map_err(|e| e.to_string())?, format)?;
    with_path(serde_path_to_error::deserialize(value))
}

fn check_header(header: Header, format: &str) -> Result<(), String> {
    match header.format.as_deref() {
        Some(f) if f == format => {}
        Some(other) => return Err(format!("format is \"{other}\", expected \"{format}\"")),
        None => return Err(format!("no \"format\" field: not an {format} document")),
    }
    match header.version {
        Some(v) if v == VERSION => {}
        Some(v) => return Err(format!("version {v} is not supported (this build reads version {VERSION})")),
        None => return Err(format!("no \"version\" field (this build reads version {VERSION})")),
    }
    Ok(())
}

/// A shape error as `<json path>: <problem>`.
fn with_path<T>(r: Result<T, serde_path_to_error::Error<serde_json::Error>>) -> Result<T, String> {
    r.map_err(|e| match e.path().to_string() {
        p if p == "." => e.into_inner().to_string(),
        p => format!("{p}: {}", e.into_inner()),
    })
}

/// The whole mock as a state document: each organization a consistent
/// copy of its books, the clock and the id counter read after them (so
/// they are at least as far on as anything in the copies).
pub fn snapshot(state: &AppState) -> StateDocument {
    let organizations =
        state.store.organizations().into_iter().map(|(k, t)| (k, state.store.snapshot_tenant(&t))).collect();
    let clock = state.store.clock();
    StateDocument {
        format: STATE_FORMAT.into(),
        version: VERSION,
        clock: ClockState { mode: clock.mode().as_str().into(), now_ms: clock.now() },
        ids: IdState { counter: state.store.ids().counter() },
        organizations,
    }
}

/// `api_key`'s organization as an export document (created empty if the
/// key has none yet, as every control route does).
pub fn export(state: &AppState, api_key: &str) -> OrgDocument {
    let t = state.store.tenant(api_key);
    OrgDocument { format: ORG_FORMAT.into(), version: VERSION, organization: state.store.snapshot_tenant(&t) }
}

/// Replaces `api_key`'s organization with `snap` and re-arms its scheduled
/// work: v2 scans (`Store::resume_scans`), the end of interrupted calls and
/// pending analytics (`Calls::resume`), campaigns (`Campaigns::resume`)
/// and knowledge-base processing (`Knowledge::resume`). Err, and nothing changes, when the snapshot
/// breaks an invariant. A book with scheduled work adds its `resume` here.
pub fn install(state: &AppState, api_key: &str, snap: TenantSnapshot) -> Result<(), String> {
    let t = state.store.restore_tenant(api_key, snap)?;
    state.store.resume_scans(&t);
    state.calls.resume(t.calls());
    state.campaigns.resume(&t);
    state.knowledge.resume(&t);
    Ok(())
}

/// Imports an [`OrgDocument`] (read as JSON) into `api_key`'s
/// organization and lets what falls due settle. Err (nothing changed)
/// says what is wrong with the document.
pub async fn import(state: &AppState, api_key: &str, doc: serde_json::Value) -> Result<(), String> {
    let doc: OrgDocument = parse_value(doc, ORG_FORMAT)?;
    install(state, api_key, doc.organization)?;
    state.store.clock().run_until_idle().await;
    Ok(())
}

/// Puts a whole state document in place of `state`'s organizations: the
/// clock resumes at its time (virtual clocks), the id counter continues,
/// every organization is installed. Err names the organization that
/// could not be; the caller stops.
pub async fn restore(state: &AppState, doc: StateDocument) -> Result<(), String> {
    if state.store.clock().mode() == ClockMode::Virtual {
        state.store.clock().resume_at(doc.clock.now_ms);
    }
    state.store.ids().resume(doc.ids.counter);
    state.store.reset(None);
    for (key, snap) in doc.organizations {
        install(state, &key, snap).map_err(|e| format!("organizations.{key}: {e}"))?;
    }
    state.store.clock().run_until_idle().await;
    Ok(())
}

/// Opens the state file of `--state-file`, if one is configured: loads it
/// into `state` when it exists and returns the writer that keeps it up to
/// date ([`Persister::spawn`], [`Persister::close`]). A file that cannot
/// be used is an error naming it; it is left as it is.
pub async fn open(state: &AppState) -> Result<Option<Arc<Persister>>, StateFileError> {
    let Some(path) = state.config.persistence.state_file.clone() else { return Ok(None) };
    let interval = state.config.persistence.interval();
    if let Some(doc) = read_state(&path)? {
        restore(state, doc).await.map_err(|problem| StateFileError { path: path.clone(), problem })?;
    }
    Ok(Some(Arc::new(Persister::new(state.clone(), path, interval))))
}
