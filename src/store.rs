//! All platform state, sharded by organization (one per API key).
//!
//! `Store` maps an API key to its [`Tenant`] in a `DashMap`; each tenant
//! guards its agents with its own `RwLock`, so requests of different keys
//! never contend and there is no global lock on the request path. Writes
//! run a pure domain transition under the tenant's write lock and store
//! the result; a rejected command leaves the stored record untouched.
//! Never hold a tenant guard across `.await` (all methods here are sync).

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::RwLock;
use serde_json::Value;

use crate::clock::Clock;
use crate::config::VersioningMode;
use crate::domain::agent::{self, Agent, NewAgent, OrgAccess};
use crate::domain::branches::BranchCommand;
use crate::domain::ids::{derived_id, IdGen};
use crate::domain::versioning::{self, AgentRecord, Command, RevState, Rules};
use crate::domain::{DomainError, Millis};

mod webhook_urls;

/// One organization: what one API key can see.
#[derive(Debug)]
pub struct Tenant {
    /// 24-hex organization id, derived from the key (stable across resets).
    pub org_id: String,
    /// 24-hex id of the key's user (`createdBy`, `publishedBy`, ...).
    pub user_id: String,
    /// The organization's name (`PUT /account/update-org-name`).
    pub org_name: parking_lot::Mutex<String>,
    /// Model and workflow access (R022).
    access: RwLock<OrgAccess>,
    /// The API key (shared with call milestones).
    pub api_key: Arc<str>,
    /// The organization's calls (see `crate::calls`).
    pub calls: parking_lot::Mutex<crate::calls::CallBook>,
    /// The organization's webhooks and subscriptions.
    pub webhooks: parking_lot::Mutex<crate::webhooks::WebhookBook>,
    /// The organization's audiences and campaigns.
    pub campaigns: parking_lot::Mutex<crate::campaigns::CampaignBook>,
    /// Versioning mode and the v2 scan switch (`/_admin/versioning`).
    pub versioning: parking_lot::Mutex<VersioningSettings>,
    agents: RwLock<HashMap<String, AgentRecord>>,
}

/// The name of a new organization (the mock's choice; renamed through
/// `PUT /account/update-org-name`).
pub const DEFAULT_ORG_NAME: &str = "My Organization";

/// An organization's versioning settings (a mock control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersioningSettings {
    /// v1 or v2 (§0 Modes).
    pub mode: VersioningMode,
    /// Every v2 security scan started from now on fails (L-D4).
    pub scan_fails: bool,
}

impl Tenant {
    /// The organization's versioning mode.
    pub fn versioning_mode(&self) -> VersioningMode {
        self.versioning.lock().mode
    }
}

impl Tenant {
    /// What the organization may use (R022).
    pub fn access(&self) -> OrgAccess {
        *self.access.read()
    }

    /// Changes what the organization may use (control API); applies to
    /// later creates and draft edits.
    pub fn set_access(&self, access: OrgAccess) {
        *self.access.write() = access;
    }
}

/// Query for `GET /agent` (R025).
#[derive(Debug, Clone, Default)]
pub struct AgentQuery {
    /// 1-based page.
    pub page: usize,
    /// Page size (the platform calls it `offset`).
    pub offset: usize,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// `single_prompt` or `workflow_graph`.
    pub workflow_type: Option<String>,
    /// `createdAt` (default), `updatedAt`, `totalCalls`, `name`, `workflowType`.
    pub sort_field: String,
    /// Ascending instead of the default descending order.
    pub ascending: bool,
    /// `true` lists only archived agents, `false` only active ones.
    pub archived: bool,
}

/// The state of every organization, plus the shared id generator.
#[derive(Debug)]
pub struct Store {
    tenants: DashMap<String, Arc<Tenant>>,
    ids: IdGen,
    clock: Clock,
    security_check_ms: Millis,
    default_versioning: VersioningMode,
    webhook_urls: webhook_urls::WebhookUrls,
}

impl Store {
    /// An empty store.
    pub fn new(clock: Clock, seed: Option<u64>, security_check_ms: Millis) -> Self {
        Self {
            tenants: DashMap::new(),
            ids: IdGen::new(seed),
            clock,
            security_check_ms,
            default_versioning: VersioningMode::Auto,
            webhook_urls: webhook_urls::WebhookUrls::default(),
        }
    }

    /// The store with `mode` as new organizations' versioning mode.
    pub fn with_versioning(mut self, mode: VersioningMode) -> Self {
        self.default_versioning = mode;
        self
    }

    /// The server-wide default versioning mode (`--versioning`).
    pub fn default_versioning(&self) -> VersioningMode {
        self.default_versioning
    }

    /// The id generator.
    pub fn ids(&self) -> &IdGen {
        &self.ids
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The tenant of `api_key`, created on first use.
    pub fn tenant(&self, api_key: &str) -> Arc<Tenant> {
        if let Some(t) = self.tenants.get(api_key) {
            return Arc::clone(&t);
        }
        let t = self.tenants.entry(api_key.to_string()).or_insert_with(|| {
            Arc::new(Tenant {
                org_id: derived_id(&["org", api_key]),
                user_id: derived_id(&["user", api_key]),
                org_name: parking_lot::Mutex::new(DEFAULT_ORG_NAME.to_string()),
                access: RwLock::new(OrgAccess::default()),
                api_key: Arc::from(api_key),
                calls: parking_lot::Mutex::new(crate::calls::CallBook::default()),
                webhooks: parking_lot::Mutex::new(crate::webhooks::WebhookBook::default()),
                campaigns: parking_lot::Mutex::new(crate::campaigns::CampaignBook::default()),
                versioning: parking_lot::Mutex::new(VersioningSettings {
                    mode: self.default_versioning,
                    scan_fails: false,
                }),
                agents: RwLock::new(HashMap::new()),
            })
        });
        Arc::clone(&t)
    }

    /// The tenant of `api_key` if it exists (never creates one).
    pub fn find_tenant(&self, api_key: &str) -> Option<Arc<Tenant>> {
        self.tenants.get(api_key).map(|t| Arc::clone(&t))
    }

    /// Forgets every organization, or only `api_key`'s.
    pub fn reset(&self, api_key: Option<&str>) {
        match api_key {
            Some(k) => {
                self.tenants.remove(k);
            }
            None => self.tenants.clear(),
        }
    }

    fn rules(&self, t: &Tenant) -> Rules {
        Rules { security_check_ms: self.security_check_ms, access: t.access() }
    }

    /// Creates an agent with an active, published version 1 (R019, R024).
    /// Returns the agent id.
    pub fn create_agent(&self, t: &Tenant, new: NewAgent) -> String {
        let now = self.clock.now();
        let id = self.ids.object_id(now);
        let wf = new.config.get("workflowType").and_then(Value::as_str).unwrap_or("single_prompt").to_string();
        let version_id = self.ids.object_id(now);
        let agent = Agent {
            id: id.clone(),
            organization: t.org_id.clone(),
            name: new.name,
            description: new.description,
            avatar_url: None,
            workflow_id: self.ids.object_id(now),
            workflow_type: wf,
            created_by: t.user_id.clone(),
            created_at: now,
            updated_at: now,
            total_calls: 0,
            archived: false,
            archived_at: None,
            active_version_id: version_id.clone(),
            allow_inbound_call: new.allow_inbound_call,
            visible_to_everyone: false,
            telephony_product_id: new.telephony_product_id,
        };
        let rec = versioning::new_record(agent, version_id, new.config);
        t.agents.write().insert(id.clone(), rec);
        id
    }

    /// Reads one agent record through `f`. 404 `Agent not found` when the
    /// id is unknown in this organization (callers remap where the
    /// platform differs, e.g. R027).
    pub fn read_agent<R>(&self, t: &Tenant, id: &str, f: impl FnOnce(&AgentRecord) -> R) -> Result<R, DomainError> {
        let agents = t.agents.read();
        let rec = agents.get(id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        Ok(f(rec))
    }

    /// Applies `cmd` to one agent and renders the result with `f`, all
    /// under the tenant's write lock.
    pub fn execute<R>(
        &self,
        t: &Tenant,
        id: &str,
        cmd: &Command,
        f: impl FnOnce(&AgentRecord) -> R,
    ) -> Result<R, DomainError> {
        let now = self.clock.now();
        let rules = self.rules(t);
        let mut agents = t.agents.write();
        let rec = agents.get_mut(id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        let next = versioning::apply(rec, cmd, now, &t.user_id, rules)?;
        *rec = next;
        Ok(f(rec))
    }

    /// Runs a v2 command (BEHAVIOR §D) like [`Store::execute`]. When it
    /// leaves row `scan` scanning, schedules the scan's completion on the
    /// clock at the row's `security_passes_at` (R086, L-D4).
    pub fn execute_branch<R>(
        self: &Arc<Self>,
        t: &Arc<Tenant>,
        id: &str,
        cmd: BranchCommand,
        scan: Option<&str>,
        f: impl FnOnce(&AgentRecord) -> R,
    ) -> Result<R, DomainError> {
        let mut due = None;
        let out = self.execute(t, id, &Command::Branch(cmd), |r| {
            let row = scan.and_then(|s| r.version(s)).filter(|v| v.state == RevState::Scanning);
            due = row.map(|v| (v.id.clone(), v.security_passes_at));
            f(r)
        })?;
        if let Some((revision_id, at)) = due {
            let (store, tenant, agent) = (Arc::downgrade(self), Arc::downgrade(t), id.to_string());
            self.clock.schedule(at, move || {
                if let (Some(s), Some(t)) = (store.upgrade(), tenant.upgrade()) {
                    let cmd = Command::Branch(BranchCommand::ScanComplete { revision_id });
                    // The agent may be gone after a reset: nothing to finish then.
                    let _ = s.execute(&t, &agent, &cmd, |_| ());
                }
            });
        }
        Ok(out)
    }

    /// Whether agent `id` is on the branch model (LIVE V1); `None` when the
    /// id is unknown in this organization.
    pub fn on_branch_model(&self, t: &Tenant, id: &str) -> Option<bool> {
        t.agents.read().get(id).map(|r| r.on_branch_model)
    }

    /// Moves agent `id` to the branch model (LIVE V1, `auto` mode): its
    /// first v2 call. Idempotent; an unknown id changes nothing.
    pub fn enter_branch_model(&self, t: &Tenant, id: &str) {
        if self.on_branch_model(t, id) == Some(false) {
            if let Some(r) = t.agents.write().get_mut(id) {
                r.on_branch_model = true;
            }
        }
    }

    /// Lists agents (R025), rendering each with `f`. Returns the page and
    /// the total number of matches.
    pub fn list_agents<R>(&self, t: &Tenant, q: &AgentQuery, f: impl Fn(&AgentRecord) -> R) -> (Vec<R>, usize) {
        let agents = t.agents.read();
        let needle = q.search.as_deref().map(str::to_lowercase);
        let mut hits: Vec<&AgentRecord> = agents
            .values()
            .filter(|r| r.agent.archived == q.archived)
            .filter(|r| q.workflow_type.as_deref().is_none_or(|w| r.agent.workflow_type == w))
            .filter(|r| needle.as_deref().is_none_or(|n| r.agent.name.to_lowercase().contains(n)))
            .collect();
        hits.sort_by(|a, b| {
            let (a, b) = (&a.agent, &b.agent);
            let ord = match q.sort_field.as_str() {
                "updatedAt" => a.updated_at.cmp(&b.updated_at),
                "totalCalls" => a.total_calls.cmp(&b.total_calls),
                "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                "workflowType" => a.workflow_type.cmp(&b.workflow_type),
                _ => a.created_at.cmp(&b.created_at),
            }
            .then_with(|| a.id.cmp(&b.id));
            if q.ascending {
                ord
            } else {
                ord.reverse()
            }
        });
        let total = hits.len();
        let start = q.page.saturating_sub(1).saturating_mul(q.offset);
        let page = hits.into_iter().skip(start).take(q.offset).map(f).collect();
        (page, total)
    }

    /// Validates and creates an agent from a `POST /agent`-shaped body.
    pub fn create_agent_from_body(
        &self,
        t: &Tenant,
        body: &serde_json::Map<String, Value>,
    ) -> Result<String, DomainError> {
        let new = agent::parse_create(body, t.access())?;
        Ok(self.create_agent(t, new))
    }

    /// Counts one more call for the agent (`totalCalls`).
    pub fn count_call(&self, t: &Tenant, agent_id: &str) {
        if let Some(r) = t.agents.write().get_mut(agent_id) {
            r.agent.total_calls += 1;
        }
    }

    /// Number of organizations with state (for the control API).
    pub fn tenant_count(&self) -> usize {
        self.tenants.len()
    }
}

/// Agent creation as the HTTP routes ask for it: checked against what the
/// organization may use.
impl Store {
    /// Creates `new` in `t` after checking the organization may use its
    /// model and workflow type (R022): 403 or 400 otherwise. Returns the
    /// agent id.
    pub fn add_agent(&self, t: &Tenant, new: NewAgent) -> Result<String, DomainError> {
        agent::check_access(&new.config, t.access())?;
        Ok(self.create_agent(t, new))
    }

    /// Duplicates agent `id` into organization `target` (R037, R038; the
    /// rules are [`agent::duplicate`]). Unknown agent: 404 `Agent not
    /// found`. Returns the copy's id.
    pub fn duplicate_agent(&self, t: &Tenant, id: &str, target: &str) -> Result<String, DomainError> {
        let new = self.read_agent(t, id, |r| agent::duplicate(&r.agent, r.active().map(|v| &*v.config), target))??;
        Ok(self.create_agent(t, new))
    }
}
