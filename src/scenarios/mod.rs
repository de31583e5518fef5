//! Scripted call scenarios: the file model ([`model`]), the pure compiler
//! from a scenario to a call's timeline ([`timeline`]), and the library of
//! loaded scenarios with their assignments.
//!
//! Which scenario a call runs, first match wins:
//! 1. the request header `x-atoms-mock-scenario: <name>` (for clients that
//!    can set headers);
//! 2. an assignment by destination phone number;
//! 3. an assignment by agent id;
//! 4. the server default (`happy-path` unless the fixtures say otherwise).
//!
//! Assignments come from `scenarios/assignments.json` and can be changed at
//! run time through `/_admin/scenarios…`; a reset restores the fixtures'.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use include_dir::{include_dir, Dir};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

pub mod model;
pub mod timeline;

pub use model::{Outcome, Scenario};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/scenarios");

/// A fixture file that could not be used: a scenario, the assignments, or
/// (through `crate::fixtures`, which re-exports it) any other fixture file.
/// Defined here, the lowest layer that loads files, so scenarios do not
/// depend on the fixtures module.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read.
    #[error("fixture {file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON, a field is wrong, or an assignment names
    /// an unknown scenario.
    #[error("fixture {file}: {field}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// JSON path of the offending field (`$` for the whole file).
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// The request header that picks a scenario for one call.
pub const SCENARIO_HEADER: &str = "x-atoms-mock-scenario";

/// Scenario assignments (`scenarios/assignments.json` and the control API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Assignments {
    /// The server default.
    pub default: String,
    /// Agent id → scenario name.
    #[serde(default)]
    pub by_agent: BTreeMap<String, String>,
    /// E.164 destination number → scenario name.
    #[serde(default)]
    pub by_phone: BTreeMap<String, String>,
}

/// Agent and phone assignments the control API may hold at once (a mock
/// bound on memory; [`Library::update`]).
pub const MAX_ASSIGNMENTS: usize = 10_000;

/// Loaded scenarios (parsed once at start) and the live assignments.
#[derive(Debug, Default)]
pub struct Library {
    scenarios: HashMap<String, Arc<Scenario>>,
    fixture_assignments: Assignments,
    assignments: RwLock<Assignments>,
}

fn invalid(file: &str, field: impl Into<String>, message: impl Into<String>) -> FixtureError {
    FixtureError::Invalid { file: file.to_string(), field: field.into(), message: message.into() }
}

fn parse_scenario(file: &str, text: &str) -> Result<Scenario, FixtureError> {
    let s: Scenario = serde_json::from_str(text).map_err(|e| invalid(file, "$", e.to_string()))?;
    s.validate().map_err(|e| {
        let (field, msg) = e.split_once(": ").unwrap_or(("$", e.as_str()));
        invalid(file, field, msg)
    })?;
    Ok(s)
}

impl Library {
    /// Loads the embedded scenarios, then `dir/scenarios/*.json` (same
    /// name replaces), and the assignments. Every file is validated; every
    /// assigned name must exist.
    pub fn load(dir: Option<&Path>) -> Result<Self, FixtureError> {
        let mut files: BTreeMap<String, (String, String)> = BTreeMap::new();
        for f in EMBEDDED.files() {
            let name = f.path().display().to_string();
            let text = f.contents_utf8().unwrap_or_default().to_string();
            files.insert(name.clone(), (format!("<embedded>/scenarios/{name}"), text));
        }
        if let Some(sdir) = dir.map(|d| d.join("scenarios")).filter(|d| d.is_dir()) {
            let entries = std::fs::read_dir(&sdir).map_err(|source| FixtureError::Io { file: sdir.clone(), source })?;
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "json") {
                    let text =
                        std::fs::read_to_string(&p).map_err(|source| FixtureError::Io { file: p.clone(), source })?;
                    let name = e.file_name().to_string_lossy().to_string();
                    files.insert(name, (p.display().to_string(), text));
                }
            }
        }
        let mut scenarios = HashMap::new();
        let mut assignments = None;
        for (name, (file, text)) in &files {
            if name == "assignments.json" {
                let a: Assignments = serde_json::from_str(text).map_err(|e| invalid(file, "$", e.to_string()))?;
                assignments = Some((file.clone(), a));
                continue;
            }
            let s = parse_scenario(file, text)?;
            scenarios.insert(s.name.clone(), Arc::new(s));
        }
        let (afile, a) = assignments.unwrap_or_else(|| {
            ("<default>".into(), Assignments { default: "happy-path".into(), ..Default::default() })
        });
        let known = |n: &str| scenarios.contains_key(n);
        if !known(&a.default) {
            return Err(invalid(&afile, "default", format!("unknown scenario '{}'", a.default)));
        }
        for (k, n) in a.by_agent.iter().chain(a.by_phone.iter()) {
            if !known(n) {
                return Err(invalid(&afile, k.as_str(), format!("unknown scenario '{n}'")));
            }
        }
        Ok(Self { scenarios, fixture_assignments: a.clone(), assignments: RwLock::new(a) })
    }

    /// A scenario by name.
    pub fn get(&self, name: &str) -> Option<Arc<Scenario>> {
        self.scenarios.get(name).cloned()
    }

    /// All scenario names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.scenarios.keys().cloned().collect();
        v.sort();
        v
    }

    /// The current assignments.
    pub fn assignments(&self) -> Assignments {
        self.assignments.read().clone()
    }

    /// Replaces the assignments after checking them as
    /// [`Library::update`] does; the error is its message.
    pub fn set_assignments(&self, a: Assignments) -> Result<(), String> {
        self.update(|live| *live = a).map(drop)
    }

    /// Applies `change` to the assignments atomically (one write lock, so
    /// concurrent control-API calls never lose an update) and returns the
    /// result. Nothing changes, and the error says why, when a name in the
    /// result is unknown (`Unknown scenario '<name>'`) or the result holds
    /// more than [`MAX_ASSIGNMENTS`] agent and phone entries (a mock bound
    /// on memory: `Too many scenario assignments: at most 10000 agent and
    /// phone entries`).
    pub fn update(&self, change: impl FnOnce(&mut Assignments)) -> Result<Assignments, String> {
        let mut live = self.assignments.write();
        let mut next = live.clone();
        change(&mut next);
        let bad = std::iter::once(&next.default)
            .chain(next.by_agent.values())
            .chain(next.by_phone.values())
            .find(|n| !self.scenarios.contains_key(*n));
        if let Some(n) = bad {
            return Err(format!("Unknown scenario '{n}'"));
        }
        if next.by_agent.len() + next.by_phone.len() > MAX_ASSIGNMENTS {
            return Err(format!("Too many scenario assignments: at most {MAX_ASSIGNMENTS} agent and phone entries"));
        }
        *live = next.clone();
        Ok(next)
    }

    /// Restores the fixtures' assignments.
    pub fn reset(&self) {
        *self.assignments.write() = self.fixture_assignments.clone();
    }

    /// Picks the scenario for a call (see the module docs for the order).
    /// An unknown header name is an error naming it.
    pub fn choose(&self, header: Option<&str>, phone: Option<&str>, agent_id: &str) -> Result<Arc<Scenario>, String> {
        if let Some(h) = header {
            return self.get(h).ok_or_else(|| format!("Unknown scenario '{h}' in {SCENARIO_HEADER}"));
        }
        let a = self.assignments.read();
        let name = phone.and_then(|p| a.by_phone.get(p)).or_else(|| a.by_agent.get(agent_id)).unwrap_or(&a.default);
        self.get(name).ok_or_else(|| format!("Unknown scenario '{name}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_scenarios_load_and_validate() {
        let lib = Library::load(None).expect("embedded scenarios are valid");
        for name in [
            "happy-path",
            "workflow-hops",
            "no-answer",
            "busy",
            "failed",
            "voicemail",
            "user-interrupts",
            "agent-logs-errors",
            "client-tools",
            "opt-out",
            "kb-answer",
        ] {
            assert!(lib.get(name).is_some(), "{name} missing");
        }
        assert_eq!(lib.assignments().default, "happy-path");
    }

    #[test]
    fn assignments_refuse_unknown_names_and_more_than_the_bound() {
        let lib = Library::load(None).expect("embedded scenarios are valid");
        let r = lib.update(|a| {
            a.by_agent.insert("a".into(), "nope".into());
        });
        assert_eq!(r.map(drop), Err("Unknown scenario 'nope'".to_string()));
        let fixtures = lib.assignments();
        let room = MAX_ASSIGNMENTS - fixtures.by_agent.len() - fixtures.by_phone.len();
        lib.update(|a| a.by_agent.extend((0..room).map(|i| (format!("{i:024x}"), "busy".to_string()))))
            .expect("at the bound");
        let r = lib.update(|a| {
            a.by_phone.insert("+14155550100".into(), "busy".into());
        });
        assert_eq!(
            r.map(drop),
            Err("Too many scenario assignments: at most 10000 agent and phone entries".to_string())
        );
        assert_eq!(lib.assignments().by_phone.len(), fixtures.by_phone.len(), "a refused change changes nothing");
    }

    /// `optOut` belongs to calls that connected; its scope defaults to
    /// the agent.
    #[test]
    fn opt_out_is_only_for_connected_outcomes() {
        let ok = parse_scenario("a.json", r#"{"name": "a", "outcome": "cancelled", "optOut": {}}"#).expect("valid");
        assert_eq!(ok.opt_out.map(|o| o.scope), Some(crate::domain::dnc::OptOutScope::default()));
        let err = parse_scenario("b.json", r#"{"name": "b", "outcome": "busy", "optOut": {"scope": "organization"}}"#)
            .expect_err("busy calls never connect")
            .to_string();
        assert!(err.contains("optOut") && err.contains("only completed or cancelled"), "{err}");
        let err = parse_scenario("c.json", r#"{"name": "c", "outcome": "completed", "optOut": {"scope": "everyone"}}"#)
            .expect_err("unknown scope");
        assert!(err.to_string().contains("everyone"), "{err}");
    }

    #[test]
    fn header_beats_phone_beats_agent_beats_default() {
        let lib = Library::load(None).expect("load");
        let mut a = lib.assignments();
        a.by_agent.insert("agent1".into(), "busy".into());
        lib.set_assignments(a).expect("valid");
        assert_eq!(
            lib.choose(Some("failed"), Some("+15005550001"), "agent1").map(|s| s.name.clone()),
            Ok("failed".into())
        );
        assert_eq!(lib.choose(None, Some("+15005550001"), "agent1").map(|s| s.name.clone()), Ok("no-answer".into()));
        assert_eq!(lib.choose(None, Some("+19999999999"), "agent1").map(|s| s.name.clone()), Ok("busy".into()));
        assert_eq!(lib.choose(None, None, "other").map(|s| s.name.clone()), Ok("happy-path".into()));
        assert!(lib.choose(Some("nope"), None, "x").is_err());
    }

    #[test]
    fn a_bad_scenario_file_names_the_file_and_field() {
        let dir = std::env::temp_dir().join(format!("atoms-mock-bad-scenario-{}", std::process::id()));
        let sdir = dir.join("scenarios");
        std::fs::create_dir_all(&sdir).expect("mkdir");
        std::fs::write(sdir.join("oops.json"), r#"{"name": "oops", "outcome": "completed", "ringSecs": 2}"#)
            .expect("write");
        let err = Library::load(Some(&dir)).expect_err("unknown field").to_string();
        assert!(err.contains("oops.json") && err.contains("ringSecs"), "{err}");
        std::fs::write(
            sdir.join("oops.json"),
            r#"{"name": "oops", "outcome": "no_answer", "turns": [{"pause": {"ms": 1}}]}"#,
        )
        .expect("write");
        let err = Library::load(Some(&dir)).expect_err("turns on no_answer").to_string();
        assert!(err.contains("oops.json") && err.contains("turns"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
