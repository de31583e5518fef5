//! The agent book: each organization's agents with their v1 versions and
//! drafts and v2 branches and revisions ([`AgentRecord`], BEHAVIOR §B–§D).
//!
//! Every write runs the pure `crate::domain::versioning::apply` under the
//! tenant's agent lock and stores its result, so a rejected command changes
//! nothing. [`Store::set_archived`] is the one rule that also reads another
//! book (campaigns): it takes both locks in the store's order.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::{Store, Tenant};
use crate::domain::agent::{self, Agent, MetadataPatch, NewAgent};
use crate::domain::archive_budget;
use crate::domain::branches::BranchCommand;
use crate::domain::ids::ShortStr;
use crate::domain::versioning::{self, AgentRecord, Command, RevState, Rules};
use crate::domain::{DomainError, Millis};

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

/// One organization's agents by id. Records are boxed so the map's entries
/// stay small: growing the table moves pointers, not 400-byte records,
/// which keeps the write lock's hold at a resize short (the POST p99).
/// Ids are [`ShortStr`]s, inline in the map's slots and the index's
/// entries, so neither allocates for a 24-hex id. The map hashes with
/// foldhash instead of SipHash: the ids are the server's own, so there is
/// no flooding to resist, and hashing was a visible share of `POST /agent`.
///
/// `by_created` orders the ids by `(createdAt, id)`, one set per archived
/// flag, so `GET /agent` in its default order reads one page in
/// O(page + log n) instead of sorting every agent (R025). Records change
/// their archived flag only through [`AgentBook::replace`], which keeps the
/// sets in step; `createdAt` never changes.
#[derive(Debug, Default)]
pub(crate) struct AgentBook {
    map: HashMap<ShortStr, Box<AgentRecord>, foldhash::fast::RandomState>,
    by_created: [BTreeSet<(Millis, ShortStr)>; 2],
}

impl AgentBook {
    /// Agent `id`'s record.
    pub(crate) fn get(&self, id: &str) -> Option<&AgentRecord> {
        self.map.get(id).map(|r| &**r)
    }

    /// For changes that leave `archived` and `created_at` alone.
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut AgentRecord> {
        self.map.get_mut(id).map(|r| &mut **r)
    }

    /// Stores a new record; returns its id.
    fn insert(&mut self, rec: AgentRecord) -> ShortStr {
        let id = rec.agent.id.clone();
        self.by_created[usize::from(rec.agent.archived)].insert((rec.agent.created_at, id.clone()));
        self.map.insert(id.clone(), Box::new(rec));
        id
    }

    /// Stores `next` as agent `id`'s record, moving it between the
    /// archived and active orders when the flag changed.
    fn replace(&mut self, id: &str, next: AgentRecord) -> Option<&AgentRecord> {
        let rec = self.map.get_mut(id)?;
        let (was, is) = (rec.agent.archived, next.agent.archived);
        **rec = next;
        if was != is {
            let entry = (rec.agent.created_at, ShortStr::from(id));
            self.by_created[usize::from(was)].remove(&entry);
            self.by_created[usize::from(is)].insert(entry);
        }
        Some(&**rec)
    }

    /// Every record, in no particular order.
    pub(crate) fn records(&self) -> impl Iterator<Item = &AgentRecord> {
        self.map.values().map(|r| &**r)
    }

    /// How many agents are not archived (the plan's agent limit counts
    /// these).
    pub(crate) fn active_count(&self) -> usize {
        self.by_created[0].len()
    }

    /// Forgets the archived agents AR1–AR2 choose under `max`
    /// (`domain::archive_budget`), never those `kept` names; returns their
    /// ids.
    fn forget_archived(&mut self, kept: impl Fn(&str) -> bool, max: usize) -> Vec<ShortStr> {
        if self.by_created[1].len() <= max {
            return Vec::new();
        }
        let archived: Vec<&str> = self.by_created[1].iter().map(|(_, id)| id.as_str()).collect();
        let gone: Vec<ShortStr> =
            archive_budget::to_forget(&archived, kept, max).into_iter().map(ShortStr::from).collect();
        for id in &gone {
            if let Some(rec) = self.map.remove(id) {
                self.by_created[1].remove(&(rec.agent.created_at, id.clone()));
            }
        }
        gone
    }

    /// A book holding `records` (a restored snapshot, whose ids the
    /// snapshot has checked are unique).
    pub(crate) fn from_records(records: impl IntoIterator<Item = AgentRecord>) -> Self {
        let mut book = Self::default();
        for r in records {
            book.insert(r);
        }
        book
    }

    /// The agents with flag `archived` in `(createdAt, id)` order,
    /// newest first unless `ascending`, and how many there are.
    fn by_created(&self, archived: bool, ascending: bool) -> (Box<dyn Iterator<Item = &AgentRecord> + '_>, usize) {
        let set = &self.by_created[usize::from(archived)];
        let ids: Box<dyn Iterator<Item = &(Millis, ShortStr)>> =
            if ascending { Box::new(set.iter()) } else { Box::new(set.iter().rev()) };
        (Box::new(ids.filter_map(|(_, id)| self.get(id))), set.len())
    }
}

impl Store {
    fn rules(&self, t: &Tenant) -> Rules {
        Rules {
            security_check_ms: self.security_check_ms,
            access: t.access(),
            config_freeze: t.versioning().config_freeze,
        }
    }

    /// Creates an agent with an active, published version 1 (R019, R024),
    /// without the plan's checks (see [`Store::add_agent`]). Returns the
    /// agent id.
    pub fn create_agent(&self, t: &Tenant, new: NewAgent) -> String {
        let rec = self.agent_record(t, new);
        let id = t.agents.write().insert(rec);
        id.into()
    }

    /// [`Store::agent_record`] of `new`, stored in `agents`: `t`'s book,
    /// which the caller holds write-locked (so a caller that checked the
    /// plan against it first made one decision, and a refused create takes
    /// no id). Returns the agent id.
    fn insert_agent(&self, t: &Tenant, agents: &mut AgentBook, new: NewAgent) -> String {
        agents.insert(self.agent_record(t, new)).into()
    }

    /// The record of a new agent `new` in `t`, with fresh ids stamped with
    /// the clock: version 1 published and active.
    fn agent_record(&self, t: &Tenant, new: NewAgent) -> AgentRecord {
        let now = self.clock.now();
        let id = self.ids.short_object_id(now);
        let wf = new.config.field("workflowType").and_then(Value::as_str).unwrap_or("single_prompt").into();
        let version_id = self.ids.short_object_id(now);
        let agent = Agent {
            id,
            organization: t.org_id.as_str().into(),
            name: new.name,
            description: new.description,
            avatar_url: None,
            workflow_id: self.ids.short_object_id(now),
            workflow_type: wf,
            created_by: t.user_id.as_str().into(),
            created_at: now,
            updated_at: now,
            total_calls: 0,
            archived: false,
            archived_at: None,
            active_version_id: version_id.clone(),
            allow_inbound_call: new.allow_inbound_call,
            visible_to_everyone: false,
            telephony_product_id: Vec::new(),
            phone_number: Vec::new(),
        };
        versioning::new_record(agent, version_id, new.config)
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
        self.execute_in(t, &mut t.agents.write(), id, cmd, f)
    }

    /// [`Store::execute`] on `agents`, `t`'s book, which the caller holds
    /// write-locked.
    fn execute_in<R>(
        &self,
        t: &Tenant,
        agents: &mut AgentBook,
        id: &str,
        cmd: &Command,
        f: impl FnOnce(&AgentRecord) -> R,
    ) -> Result<R, DomainError> {
        let now = self.clock.now();
        let rules = self.rules(t);
        let rec = agents.get(id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        let next = versioning::apply(rec, cmd, now, &t.user_id, rules)?;
        let rec = agents.replace(id, next).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
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
            self.schedule_scan(t, id, revision_id.to_string(), at);
        }
        Ok(out)
    }

    /// Finishes the scan of `revision_id` of agent `id` when the clock
    /// reaches `at` (R086, L-D4).
    fn schedule_scan(self: &Arc<Self>, t: &Arc<Tenant>, id: &str, revision_id: String, at: crate::domain::Millis) {
        let (store, tenant, agent) = (Arc::downgrade(self), Arc::downgrade(t), id.to_string());
        self.clock.schedule(at, move || {
            if let (Some(s), Some(t)) = (store.upgrade(), tenant.upgrade()) {
                let cmd = Command::Branch(BranchCommand::ScanComplete { revision_id });
                // The agent may be gone after a reset: nothing to finish then.
                let _ = s.execute(&t, &agent, &cmd, |_| ());
            }
        });
    }

    /// Carries on with a restored organization's agents: every v2 publish
    /// still scanning finishes at its `security_passes_at` (v1 security
    /// windows need nothing: they are read against the clock).
    pub fn resume_scans(self: &Arc<Self>, t: &Arc<Tenant>) {
        let scanning: Vec<(String, String, crate::domain::Millis)> = t
            .agents
            .read()
            .records()
            .flat_map(|r| {
                let scans = r.versions.iter().filter(|v| v.state == RevState::Scanning);
                scans.map(|v| (r.agent.id.to_string(), v.id.to_string(), v.security_passes_at))
            })
            .collect();
        for (agent, revision, at) in scanning {
            self.schedule_scan(t, &agent, revision, at);
        }
    }

    /// Lists agents (R025), rendering each with `f`. Returns the page and
    /// the total number of matches.
    ///
    /// Cost: the default order (`sortField=createdAt`, either direction)
    /// without `search` or `workflowType` reads only the page, whatever the
    /// number of agents; other sorts and the filters scan and sort the
    /// organization's agents.
    pub fn list_agents<R>(&self, t: &Tenant, q: &AgentQuery, f: impl Fn(&AgentRecord) -> R) -> (Vec<R>, usize) {
        let agents = t.agents.read();
        let start = q.page.saturating_sub(1).saturating_mul(q.offset);
        if q.search.is_none() && q.workflow_type.is_none() && q.sort_field == "createdAt" {
            let (rows, total) = agents.by_created(q.archived, q.ascending);
            return (rows.skip(start).take(q.offset).map(f).collect(), total);
        }
        let needle = q.search.as_deref().map(str::to_lowercase);
        let mut hits: Vec<&AgentRecord> = agents
            .records()
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

    /// Archives (`on`) or unarchives agent `id` (R034, R035, R174). Archiving
    /// is refused with 409 `Agent is associated with the <status> campaign
    /// "<name>". …` while a non-terminal campaign uses the agent.
    ///
    /// The campaign check and the write are one decision: the tenant's
    /// campaign book stays locked while the agent is archived, and campaign
    /// creation checks the agent under that same lock
    /// (`crate::campaigns::Campaigns::create`), so no campaign can be
    /// created for an agent between the check and the archive, nor can an
    /// archive slip in between a campaign's agent check and its insert.
    ///
    /// Unarchiving needs room in the plan's `limits.agents` (403 `Plan
    /// limit reached: …`, design d11a §2.4), checked only for an archived
    /// agent so that R035's 409 still answers an active one; the check and
    /// the unarchive are one decision under the agent book's write lock
    /// (lock order: campaigns, agents, the account).
    pub fn set_archived(&self, t: &Tenant, id: &str, on: bool) -> Result<(), DomainError> {
        // AR2: agents holding a concurrency reservation are never forgotten;
        // read before any other lock (the call book is not ordered after them).
        let reserved: Vec<String> =
            if on { t.calls().lock().reservations().keys().cloned().collect() } else { Vec::new() };
        let campaigns = t.campaigns();
        if on {
            if let Some(c) = campaigns.active_campaign(|c| c.agent_id == id) {
                return Err(DomainError::Conflict(format!(
                    "Agent is associated with the {} campaign \"{}\". Complete or remove the campaign before archiving.",
                    c.progress.status.as_str(),
                    c.name
                )));
            }
        }
        let mut agents = t.agents.write();
        if !on && agents.get(id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?.agent.archived {
            self.admit_agent(t, &agents)?;
        }
        self.execute_in(t, &mut agents, id, &Command::SetArchived { on }, |_| ())?;
        let kept = |a: &str| a == id || reserved.iter().any(|r| r == a);
        let forgotten = if on { agents.forget_archived(kept, self.max_archived_agents) } else { Vec::new() };
        drop(agents);
        drop(campaigns);
        self.forget_agent_records(t, &forgotten);
        Ok(())
    }

    /// The store keeping at most `max` archived agents per organization
    /// (at least 1; `--max-archived-agents`, AR1).
    pub fn with_max_archived_agents(mut self, max: usize) -> Self {
        self.max_archived_agents = max.max(1);
        self
    }

    /// What goes with forgotten agents (AR3): their webhook subscriptions
    /// and widget configs. Taken after the agent book's lock is released,
    /// one book at a time.
    fn forget_agent_records(&self, t: &Tenant, ids: &[ShortStr]) {
        if ids.is_empty() {
            return;
        }
        let mut webhooks = t.webhooks();
        for id in ids {
            webhooks.delete_agent_subscriptions(id);
        }
        drop(webhooks);
        let mut widgets = t.widgets();
        for id in ids {
            widgets.forget_agent(id);
        }
    }
}

/// Agent creation as the HTTP routes ask for it: checked against what the
/// organization may use.
impl Store {
    /// Creates `new` in `t` after checking the organization may use its
    /// model and workflow type (R022): 403 or 400 otherwise, and that the
    /// plan has room (`limits.agents`, 403). Returns the agent id.
    ///
    /// `telephonyProductId` attaches those numbers through the account
    /// book (design d11a §2.4): 400 `Invalid product id` when one is not
    /// this organization's, and then no agent is created.
    ///
    /// The plan check and the insert are one decision under the agent
    /// book's write lock, so parallel creates never exceed the limit, and a
    /// refused create takes no id.
    pub fn add_agent(&self, t: &Tenant, new: NewAgent) -> Result<String, DomainError> {
        agent::check_access(&new.config, t.access())?;
        let products = new.telephony_product_id.clone();
        let mut agents = t.agents.write();
        self.admit_agent(t, &agents)?;
        if !products.is_empty() {
            self.check_products(t, &products)?;
        }
        let id = self.insert_agent(t, &mut agents, new);
        if !products.is_empty() {
            self.link_numbers(t, &mut agents, &id, &products)?;
        }
        Ok(id)
    }

    /// `PATCH /agent/{id}` (R030): applies `patch`; a `telephonyProductId`
    /// in it makes those exactly the agent's numbers in the account book
    /// (400 `Invalid product id` when one is not this organization's, and
    /// nothing changes). Numbers taken from another agent leave its
    /// `telephonyProductId` too. 404 `Agent not found`.
    pub fn update_agent(&self, t: &Tenant, id: &str, patch: MetadataPatch) -> Result<(), DomainError> {
        let now = self.clock.now();
        let rules = self.rules(t);
        let products = patch.telephony_product_ids();
        let mut agents = t.agents.write();
        let rec = agents.get(id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        let next = versioning::apply(rec, &Command::UpdateMetadata(patch), now, &t.user_id, rules)?;
        if let Some(products) = products {
            self.link_numbers(t, &mut agents, id, &products)?;
        }
        let keep = agents.get(id).map(|r| (r.agent.telephony_product_id.clone(), r.agent.phone_number.clone()));
        let mut next = next;
        if let Some((products, numbers)) = keep {
            (next.agent.telephony_product_id, next.agent.phone_number) = (products, numbers);
        }
        agents.replace(id, next);
        Ok(())
    }

    /// Attaches `products` to agent `id` in the account book and copies the
    /// book's record onto every agent it touched (lock order: agents, then
    /// the account).
    fn link_numbers(
        &self,
        t: &Tenant,
        agents: &mut AgentBook,
        id: &str,
        products: &[String],
    ) -> Result<(), DomainError> {
        let mut account = t.account();
        let moved = account.attach(id, products, self.clock.now())?;
        for agent_id in moved.iter().map(String::as_str).chain([id]) {
            if let Some(r) = agents.get_mut(agent_id) {
                (r.agent.telephony_product_id, r.agent.phone_number) = account.agent_numbers(agent_id);
            }
        }
        Ok(())
    }

    /// Duplicates agent `id` into organization `target` (R037, R038; the
    /// rules are [`agent::duplicate`]). Unknown agent: 404 `Agent not
    /// found`. Returns the copy's id.
    pub fn duplicate_agent(&self, t: &Tenant, id: &str, target: &str) -> Result<String, DomainError> {
        // Read before the agents' lock: it only picks 403 or 404.
        let exists = target == t.org_id() || self.tenants.iter().any(|e| e.value().org_id() == target);
        let mut agents = t.agents.write();
        let rec = agents.get(id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        let new = agent::duplicate(&rec.agent, rec.active().map(|v| &*v.config), target, exists)?;
        self.admit_agent(t, &agents)?;
        Ok(self.insert_agent(t, &mut agents, new))
    }
}

/// The per-agent versioning model (LIVE V1): a tenant-level read and
/// switch, so the HTTP layer's versioning gate needs only the caller's
/// organization.
impl Tenant {
    /// 403 when agent `id` is a `workflow_graph` agent and this
    /// organization lacks conversational-agents access
    /// ([`agent::check_graph_access`]); an unknown id passes (its route
    /// answers for it).
    pub fn check_graph_access(&self, id: &str) -> Result<(), DomainError> {
        let workflow_type = self.agents.read().get(id).map(|r| r.agent.workflow_type.clone());
        workflow_type.map_or(Ok(()), |w| agent::check_graph_access(&w, self.access()))
    }

    /// Whether agent `id` is on the branch model; `None` when the id is
    /// unknown in this organization.
    pub fn on_branch_model(&self, id: &str) -> Option<bool> {
        self.agents.read().get(id).map(|r| r.on_branch_model)
    }

    /// Moves agent `id` to the branch model (`auto` mode): its first v2
    /// call. Idempotent; an unknown id changes nothing.
    pub fn enter_branch_model(&self, id: &str) {
        if self.on_branch_model(id) == Some(false) {
            if let Some(r) = self.agents.write().get_mut(id) {
                r.on_branch_model = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    use crate::clock::{Clock, ClockMode};
    use crate::domain::agent::NewAgent;
    use crate::domain::config;
    use crate::domain::versioning::AgentRecord;
    use crate::domain::versioning_props::{fold, steps, Replay};
    use crate::store::{AgentQuery, Store};

    /// An agent created from a body without config fields shares the
    /// process-wide default config (the same `Arc`, no copy) and its
    /// serialized forms; its first edit copies (issue 13's memory target).
    #[test]
    fn an_agent_created_with_defaults_shares_the_default_config() {
        let store = Store::new(Clock::new(ClockMode::Virtual), Some(1), 6000);
        let t = store.tenant("sk_shared");
        let body = serde_json::json!({"name": "Shared"});
        let id = store.create_agent_from_body(&t, body.as_object().expect("object")).expect("created");
        let defaults = config::defaults();
        let (shared, memo) = store
            .read_agent(&t, &id, |r| {
                let v = r.active().expect("version 1 is active");
                (config::Config::ptr_eq(&v.config, &defaults), v.config.json())
            })
            .expect("stored");
        assert!(shared, "version 1 must hold the shared defaults, not a copy");
        let other = store.create_agent_from_body(&t, body.as_object().expect("object")).expect("created");
        let memo2 = store.read_agent(&t, &other, |r| r.active().map(|v| v.config.json())).expect("stored");
        assert!(std::sync::Arc::ptr_eq(&memo, &memo2.expect("active")), "one serialized form for all default agents");

        let custom = serde_json::json!({"name": "Own", "firstMessage": "Hi"});
        let id3 = store.create_agent_from_body(&t, custom.as_object().expect("object")).expect("created");
        let (own, over_defaults, first, voice) = store
            .read_agent(&t, &id3, |r| {
                let c = &r.active().expect("version 1 is active").config;
                let over_defaults = c.base().is_some_and(|b| config::Config::ptr_eq(b, &defaults));
                (
                    config::Config::ptr_eq(c, &defaults),
                    over_defaults,
                    c["firstMessage"].clone(),
                    c["synthesizer"].clone(),
                )
            })
            .expect("stored");
        assert!(!own, "a body with config fields gets a config of its own");
        assert!(over_defaults, "laid over the shared defaults, not a copy of them");
        assert_eq!((first, &voice), (serde_json::json!("Hi"), &defaults["synthesizer"]), "merged on read");
        assert_eq!(defaults.get("firstMessage"), Some(&serde_json::json!("")), "defaults unchanged");
    }

    /// An organization read back from its snapshot (a state file, `PUT
    /// /_admin/state`) shares the defaults as the live one did: a
    /// default agent's version 1 is the shared defaults with the
    /// process-wide serialized forms, one created with `firstMessage` lies
    /// over them, and both serialize as before the round trip.
    #[test]
    fn agents_read_back_from_a_snapshot_share_the_default_config() {
        let store = Store::new(Clock::new(ClockMode::Virtual), Some(1), 6000);
        let t = store.tenant("sk_saved");
        let plain = serde_json::json!({"name": "Plain"});
        let custom = serde_json::json!({"name": "Own", "firstMessage": "Hi"});
        let ids: Vec<String> = [plain, custom]
            .iter()
            .map(|b| store.create_agent_from_body(&t, b.as_object().expect("object")).expect("created"))
            .collect();
        let render = |t: &crate::store::Tenant, id: &str| {
            store.read_agent(t, id, |r| r.active().map(|v| (*v.config.json()).clone())).expect("stored")
        };
        let before: Vec<_> = ids.iter().map(|id| render(&t, id)).collect();
        let text = serde_json::to_string(&store.snapshot_tenant(&t)).expect("serializes");
        let snap = serde_json::from_str(&text).expect("reads back");
        let back = store.restore_tenant("sk_read_back", snap).expect("restores");
        let defaults = config::defaults();
        let (config_shared, memo) = store
            .read_agent(&back, &ids[0], |r| {
                let v = r.active().expect("active");
                (config::Config::ptr_eq(&v.config, &defaults), v.config.json())
            })
            .expect("restored");
        assert!(config_shared, "a default agent read back holds the shared defaults");
        let fresh =
            store.create_agent_from_body(&t, serde_json::json!({"name": "N"}).as_object().expect("o")).expect("ok");
        let fresh_memo = store.read_agent(&t, &fresh, |r| r.active().map(|v| v.config.json())).expect("stored");
        assert!(std::sync::Arc::ptr_eq(&memo, &fresh_memo.expect("active")), "and the process-wide serialized forms");
        let over = store.read_agent(&back, &ids[1], |r| {
            r.active().expect("active").config.base().is_some_and(|b| config::Config::ptr_eq(b, &defaults))
        });
        assert_eq!(over, Ok(true), "an agent with a config field read back lies over the defaults");
        let after: Vec<_> = ids.iter().map(|id| render(&back, id)).collect();
        assert_eq!(after, before, "both serialize as before the round trip");
    }

    /// R025: the page the ordered index gives for the default sort is the
    /// page a full scan and sort gives (an empty `search` takes the scan),
    /// for both orders, both archived flags, across pages and after
    /// archiving and unarchiving moved agents between the orders.
    #[test]
    fn the_default_agent_list_reads_the_index_in_scan_order() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let store = Store::new(Clock::new(ClockMode::Virtual), Some(7), 6000);
        let t = store.tenant("sk_list");
        let mut ids = Vec::new();
        for i in 0..40 {
            let body = serde_json::json!({"name": format!("agent {i}")});
            ids.push(store.create_agent_from_body(&t, body.as_object().expect("object")).expect("created"));
            if i % 3 == 0 {
                rt.block_on(store.clock().advance(1000));
            }
        }
        for (i, id) in ids.iter().enumerate().filter(|(i, _)| i % 4 == 1) {
            store.set_archived(&t, id, true).expect("archived");
            if i % 8 == 1 {
                store.set_archived(&t, id, false).expect("unarchived");
            }
        }
        for archived in [false, true] {
            for ascending in [false, true] {
                for (page, offset) in [(1, 10), (2, 10), (3, 7), (9, 5), (1, 100)] {
                    let q = AgentQuery {
                        page,
                        offset,
                        sort_field: "createdAt".into(),
                        ascending,
                        archived,
                        ..AgentQuery::default()
                    };
                    let scan = AgentQuery { search: Some(String::new()), ..q.clone() };
                    let id_of = |r: &AgentRecord| r.agent.id.clone();
                    assert_eq!(store.list_agents(&t, &q, id_of), store.list_agents(&t, &scan, id_of), "{q:?}");
                }
            }
        }
    }

    /// The plan's `limits.agents` holds under parallel creates,
    /// duplicates and unarchives: the check and the insert are one
    /// decision, so exactly the room left is granted, every other attempt
    /// gets the plan's 403, and the organization never holds more active
    /// agents than the limit.
    #[test]
    fn parallel_creates_at_the_limit_never_exceed_it() {
        const LIMIT: usize = 6;
        const THREADS: usize = 6;
        let store = Store::new(Clock::new(ClockMode::Virtual), Some(5), 6000);
        for round in 0..40 {
            let t = store.tenant(&format!("sk_race_{round}"));
            let body = serde_json::json!({"name": "racer"});
            let body = body.as_object().expect("object");
            // Two archived agents to unarchive, one active to duplicate:
            // LIMIT - 1 of room is left.
            let archived: Vec<String> = (0..2)
                .map(|_| {
                    let id = store.create_agent_from_body(&t, body).expect("created");
                    store.set_archived(&t, &id, true).expect("archived");
                    id
                })
                .collect();
            let source = store.create_agent_from_body(&t, body).expect("created");
            {
                let mut account = t.account();
                let mut plan = account.plan().clone();
                plan.limits.agents = u32::try_from(LIMIT).expect("small");
                account.set_plan(plan);
            }
            let start = std::sync::Barrier::new(THREADS);
            let outcomes: Vec<Result<(), String>> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..THREADS)
                    .map(|i| {
                        let (store, t, start, archived, source) = (&store, &t, &start, &archived, &source);
                        scope.spawn(move || {
                            start.wait();
                            (0..3)
                                .map(|n| {
                                    let new = crate::domain::agent::parse_new(body).expect("valid");
                                    let org = t.org_id.clone();
                                    match (i + n) % 4 {
                                        0 => store.duplicate_agent(t, source, &org).map(drop),
                                        1 => store.set_archived(t, &archived[i % 2], false),
                                        _ => store.add_agent(t, new).map(drop),
                                    }
                                    .map_err(|e| e.to_string())
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers.into_iter().flat_map(|w| w.join().expect("no panic")).collect()
            });
            let granted = outcomes.iter().filter(|o| o.is_ok()).count();
            let active = t.agents.read().active_count();
            assert!(active <= LIMIT, "round {round}: {active} active agents, limit {LIMIT}");
            assert_eq!(active, 1 + granted, "round {round}: every granted create or unarchive is one more agent");
            assert_eq!(active, LIMIT, "round {round}: the room left is used up");
            for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
                let expected = format!("Plan limit reached: your plan allows at most {LIMIT} agents");
                assert!(refused == &expected || refused == "Agent is already active", "round {round}: {refused}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// STYLE §3: the store, driven by the same commands and clock ticks,
        /// returns and keeps exactly what the pure fold computes.
        #[test]
        fn the_store_agrees_with_the_pure_fold(steps in steps()) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let store = Store::new(Clock::new(ClockMode::Virtual), Some(1), 6000);
            let t = store.tenant("sk_prop");
            let id = store.create_agent(
                &t,
                NewAgent {
                    name: "Prop agent".into(),
                    description: String::new(),
                    telephony_product_id: Vec::new(),
                    allow_inbound_call: true,
                    config: config::defaults(),
                },
            );
            let start = store
                .read_agent(&t, &id, AgentRecord::clone)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let trace = fold(&start, store.clock().now(), &steps, &[t.user_id()]);
            for r in &trace.replay {
                match *r {
                    Replay::Tick(ms) => {
                        rt.block_on(store.clock().advance(ms));
                    }
                    Replay::Apply(i) => {
                        let a = &trace.applied[i];
                        prop_assert_eq!(store.clock().now(), a.now);
                        let got = store.execute(&t, &id, &a.cmd, AgentRecord::clone);
                        prop_assert_eq!(&got, &a.result, "{:?}", a.cmd);
                        let stored = store.read_agent(&t, &id, AgentRecord::clone);
                        let expected = a.result.as_ref().unwrap_or(&a.before);
                        prop_assert_eq!(stored.as_ref().ok(), Some(expected));
                    }
                }
            }
            let stored = store.read_agent(&t, &id, AgentRecord::clone);
            prop_assert_eq!(stored.as_ref().ok(), Some(trace.last()));
        }
    }
}
