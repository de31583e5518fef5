//! Fixture files: the world a fresh server starts with.
//!
//! The defaults in the repository's `fixtures/` directory are embedded in
//! the binary. `--fixtures DIR` replaces any of them with the file of the
//! same name in DIR. Files are parsed and validated once, at start; a bad
//! file is a startup error naming the file and the field.
//!
//! - `templates.json`: agent templates for `GET /agent/template` (R040).
//! - `disposition-metric-templates.json`: `GET
//!   /disposition-metric-templates` (R221).
//! - `agents.json`: `[{"apiKey": "...", "agent": <POST /agent body>,
//!   "rentNumbers"?: 0..=5}]`, created through the same validation as
//!   `POST /agent`, again on every reset. `rentNumbers` rents that many
//!   numbers for the key first (the first US `plivo` numbers
//!   `GET /product/get-available-numbers` offers under the server's seed,
//!   charged like any rental) and attaches them to the agent, so a fresh
//!   server has a believable account: a plan, a balance, rented numbers on
//!   an agent and an empty Do-Not-Call list (issue 11).
//! - `scenarios/*.json` and `scenarios/assignments.json`: call scenarios
//!   (see `crate::scenarios`).
//! - `web.json`: `[{"url", "status"?, "contentType"?, "body"}]`, what URLs
//!   "return" to knowledge-base scrapes and sitemap extraction, for every
//!   organization (behind each one's own registry, set through
//!   `/_admin/web`).

use std::path::Path;

use serde_json::{Map, Value};

use crate::domain::ids::is_object_id;
use crate::store::Store;

const TEMPLATES: &str = include_str!("../fixtures/templates.json");
const METRIC_TEMPLATES: &str = include_str!("../fixtures/disposition-metric-templates.json");
const AGENTS: &str = include_str!("../fixtures/agents.json");
const WEB: &str = include_str!("../fixtures/web.json");

pub use crate::scenarios::FixtureError;

/// A preloaded agent of one API key.
#[derive(Debug, Clone)]
pub struct FixtureAgent {
    /// The key whose organization owns the agent.
    pub api_key: String,
    /// A `POST /agent` body.
    pub body: Map<String, Value>,
    /// How many numbers to rent for the key and attach to the agent (0–5).
    pub rent_numbers: usize,
}

/// Parsed fixtures, shared read-only by the server.
#[derive(Debug, Clone, Default)]
pub struct Fixtures {
    /// Agent templates (R040).
    pub templates: Vec<Value>,
    /// Disposition-metric templates (R221).
    pub metric_templates: Vec<Value>,
    /// Preloaded agents.
    pub agents: Vec<FixtureAgent>,
    /// Call scenarios and their assignments (`scenarios/`).
    pub scenarios: std::sync::Arc<crate::scenarios::Library>,
    /// Web pages by URL (`web.json`).
    pub web: crate::knowledge::WebFixtures,
}

fn invalid(file: &str, field: impl Into<String>, message: impl Into<String>) -> FixtureError {
    FixtureError::Invalid { file: file.to_string(), field: field.into(), message: message.into() }
}

fn read(dir: Option<&Path>, name: &str, embedded: &'static str) -> Result<(String, String), FixtureError> {
    match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
        Some(p) => {
            let text = std::fs::read_to_string(&p).map_err(|source| FixtureError::Io { file: p.clone(), source })?;
            Ok((p.display().to_string(), text))
        }
        None => Ok((format!("<embedded>/{name}"), embedded.to_string())),
    }
}

fn array(file: &str, text: &str) -> Result<Vec<Value>, FixtureError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(a)) => Ok(a),
        Ok(_) => Err(invalid(file, "$", "expected a JSON array")),
        Err(e) => Err(invalid(file, "$", e.to_string())),
    }
}

fn require_str<'a>(file: &str, item: &'a Value, path: &str, key: &str) -> Result<&'a str, FixtureError> {
    item.get(key).and_then(Value::as_str).ok_or_else(|| invalid(file, format!("{path}.{key}"), "required string"))
}

/// The pages of `web.json`: each `{url (http or https), status?,
/// contentType?, body}`.
fn web_pages(file: &str, text: &str) -> Result<crate::knowledge::WebFixtures, FixtureError> {
    let mut pages = crate::knowledge::WebFixtures::new();
    for (i, p) in array(file, text)?.into_iter().enumerate() {
        let path = format!("$[{i}]");
        let url = require_str(file, &p, &path, "url")?.to_string();
        if !crate::domain::webhook::is_http_url(&url) {
            return Err(invalid(file, format!("{path}.url"), "must be an http(s) URL"));
        }
        let page = serde_json::from_value(p).map_err(|e| invalid(file, path.clone(), e.to_string()))?;
        pages.insert(url, page);
    }
    Ok(pages)
}

impl Fixtures {
    /// Loads the fixtures, taking each file from `dir` when it has one.
    pub fn load(dir: Option<&Path>) -> Result<Self, FixtureError> {
        let (file, text) = read(dir, "templates.json", TEMPLATES)?;
        let templates = array(&file, &text)?;
        for (i, t) in templates.iter().enumerate() {
            let path = format!("$[{i}]");
            let oid = require_str(&file, t, &path, "_id")?;
            if !is_object_id(oid) {
                return Err(invalid(&file, format!("{path}._id"), "must be 24 lowercase hex characters"));
            }
            require_str(&file, t, &path, "id")?;
            require_str(&file, t, &path, "name")?;
            let region = require_str(&file, t, &path, "region")?;
            if !["India", "US"].contains(&region) {
                return Err(invalid(&file, format!("{path}.region"), "must be \"India\" or \"US\""));
            }
        }
        let (mfile, mtext) = read(dir, "disposition-metric-templates.json", METRIC_TEMPLATES)?;
        let metric_templates = array(&mfile, &mtext)?;
        for (i, m) in metric_templates.iter().enumerate() {
            let path = format!("$[{i}]");
            crate::domain::config_analytics::check(&serde_json::json!({"dispositionMetrics": [m]}), &path)
                .map_err(|e| invalid(&mfile, path.clone(), e))?;
        }
        let (afile, atext) = read(dir, "agents.json", AGENTS)?;
        let mut agents = Vec::new();
        for (i, a) in array(&afile, &atext)?.into_iter().enumerate() {
            let path = format!("$[{i}]");
            let api_key = require_str(&afile, &a, &path, "apiKey")?.to_string();
            let body = a
                .get("agent")
                .and_then(Value::as_object)
                .cloned()
                .ok_or_else(|| invalid(&afile, format!("{path}.agent"), "required object"))?;
            crate::domain::agent::parse_create(&body, Default::default())
                .map_err(|e| invalid(&afile, format!("{path}.agent"), e.to_string()))?;
            let rent_numbers = match a.get("rentNumbers") {
                None => 0,
                Some(n) => n
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|n| *n <= crate::domain::inventory::MAX_RESULTS)
                    .ok_or_else(|| invalid(&afile, format!("{path}.rentNumbers"), "an integer from 0 to 5"))?,
            };
            agents.push(FixtureAgent { api_key, body, rent_numbers });
        }
        let scenarios = std::sync::Arc::new(crate::scenarios::Library::load(dir)?);
        let (wfile, wtext) = read(dir, "web.json", WEB)?;
        let web = web_pages(&wfile, &wtext)?;
        Ok(Self { templates, metric_templates, agents, scenarios, web })
    }

    /// Creates the preloaded agents of every key (or only `api_key`'s),
    /// each with the numbers it rents.
    pub fn seed(&self, store: &Store, api_key: Option<&str>) {
        for a in self.agents.iter().filter(|a| api_key.is_none_or(|k| k == a.api_key)) {
            store.pin(&a.api_key);
            let t = store.tenant(&a.api_key);
            // Validated in `load`; a failure here would be a bug in the rules
            // (or a key whose plan cannot pay for the rentals).
            if let Err(e) = seed_agent(store, &t, a) {
                tracing::error!(error = %e, key = %a.api_key, "fixture agent rejected");
            }
        }
    }
}

/// Rents `a.rent_numbers` numbers for `t`, then creates the agent with
/// them attached (`telephonyProductId`, as `POST /agent` takes it).
fn seed_agent(
    store: &Store,
    t: &crate::store::Tenant,
    a: &FixtureAgent,
) -> Result<String, crate::domain::error::DomainError> {
    if a.rent_numbers == 0 {
        return store.create_agent_from_body(t, &a.body);
    }
    let us = crate::domain::inventory::parse_search(Some("US"), Some("plivo"), None)?;
    let mut products = Vec::new();
    for offer in store.search_numbers(&us).into_iter().take(a.rent_numbers) {
        products.push(Value::String(store.rent_number(t, Some(&offer.phone_number), Some("plivo"))?.id));
    }
    let mut body = a.body.clone();
    body.insert("telephonyProductId".into(), Value::Array(products));
    store.add_agent(t, crate::domain::agent::parse_create(&body, t.access())?)
}
