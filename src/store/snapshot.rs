//! Snapshots of one organization: [`TenantSnapshot`] holds a copy of every
//! book of a [`Tenant`], taken together under the books' locks (in the
//! store's lock order), so it is one consistent state; the same struct
//! read back rebuilds the tenant. The state file and `GET/PUT
//! /_admin/state` (`crate::persist`) are made of these.
//!
//! Each book is a field with `#[serde(default)]`: a snapshot written
//! before a book existed still loads (the book starts empty), and
//! `deny_unknown_fields` refuses a field this build does not know rather
//! than dropping its data. A book read back checks its own invariants
//! (`#[serde(try_from = …)]` or its `restore`), so a hand-edited or
//! foreign snapshot is refused with the reason instead of breaking a rule
//! later. What is scheduled on the clock is not in the snapshot: each
//! engine re-arms it from the restored state (`Store::resume_scans`,
//! `Calls::resume`, `Campaigns::resume`).

use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::{
    AccountBook, AnalyticsBook, CallActionBook, CallBook, CampaignBook, KnowledgeBook, Store, Tenant,
    VersioningSettings, WebhookBook, WidgetBook, DEFAULT_ORG_NAME,
};
use crate::domain::agent::OrgAccess;
use crate::domain::analytics::AnalyticsRow;
use crate::domain::dnc::DncList;
use crate::domain::ids::{derived_id, is_object_id};
use crate::domain::integration::WebEngage;
use crate::domain::versioning::{AgentRecord, VersioningMode};
use crate::store::calls::CallsSnapshot;

/// One organization's state. See the module doc and "Adding a
/// per-organization book" in `crate::store` for how a book joins it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct TenantSnapshot {
    /// 24-hex organization id; derived from the key when absent.
    pub org_id: Option<String>,
    /// 24-hex id of the key's user; derived from the key when absent.
    pub user_id: Option<String>,
    /// Name, access and versioning settings.
    pub settings: OrgSettings,
    /// Agents with their versions, drafts, branches and revisions.
    pub agents: AgentRecords,
    /// Calls with their event logs.
    pub calls: CallsSnapshot,
    /// The analytics rows of ended calls the call store evicted, which the
    /// figures still count (`domain::call_budget` CB4, CB5); a call of
    /// `calls` has none here.
    pub analytics: Vec<AnalyticsRow>,
    /// Audiences and campaigns.
    pub campaigns: CampaignBook,
    /// Webhooks and subscriptions.
    pub webhooks: WebhookBook,
    /// The Do-Not-Call list.
    pub dnc: DncList,
    /// Plan, credit ledger, invoices, phone numbers and compliance
    /// applications; a fresh account on the server's default plan (with
    /// its signup bonus) when absent.
    pub account: Option<AccountBook>,
    /// Knowledge bases, their items and scraped URLs (with their
    /// processing state), pending uploads and the web registry.
    pub knowledge: KnowledgeBook,
    /// Call actions and their runs.
    pub call_actions: CallActionBook,
    /// Widget configs and avatars.
    pub widgets: WidgetBook,
    /// The WebEngage integration, if set.
    pub webengage: Option<WebEngage>,
}

/// An organization's small settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct OrgSettings {
    /// Name (`GET /user`).
    pub name: String,
    /// Model and workflow access (R022).
    pub access: OrgAccess,
    /// Versioning mode; the server's `--versioning` when absent.
    pub versioning: Option<VersioningMode>,
    /// Every v2 scan started fails (L-D4).
    pub scan_fails: bool,
    /// A config freeze is active (R017).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub config_freeze: bool,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            name: DEFAULT_ORG_NAME.into(),
            access: OrgAccess::default(),
            versioning: None,
            scan_fails: false,
            config_freeze: false,
        }
    }
}

/// The agent book in a snapshot: every agent record, oldest first. Read
/// back, ids must be unique, each agent's active version must exist, and
/// its live branch must exist and not be archived (R068, R079).
#[derive(Debug, Default, Deserialize)]
#[serde(try_from = "Vec<AgentRecord>")]
pub struct AgentRecords(Vec<AgentRecord>);

impl Serialize for AgentRecords {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl TryFrom<Vec<AgentRecord>> for AgentRecords {
    type Error = String;

    fn try_from(records: Vec<AgentRecord>) -> Result<Self, String> {
        let mut seen = std::collections::HashSet::new();
        for r in &records {
            let id = &r.agent.id;
            if !seen.insert(id.as_str()) {
                return Err(format!("agent {id} appears twice"));
            }
            if r.active().is_none() {
                return Err(format!(
                    "agent {id}: activeVersionId {} is not among its versions",
                    r.agent.active_version_id
                ));
            }
            if !r.branches.iter().any(|b| b.id == r.live_branch && !b.archived) {
                return Err(format!("agent {id}: liveBranch {} is not an active branch of it", r.live_branch));
            }
        }
        Ok(Self(records))
    }
}

impl Tenant {
    /// A copy of every book, taken under the campaign, agent and call
    /// locks at once (in the store's lock order), so the copy is one
    /// consistent state at `now` (epoch ms); calls not yet ended are
    /// recorded as interrupted at `now`. The webhook and settings locks
    /// are taken alone, after.
    ///
    /// `self` is destructured exhaustively (no `..`): a field added to
    /// [`Tenant`] does not compile until it is named here, so no book can
    /// be left out of the snapshot by mistake. A field that is not state
    /// (the key, which is the snapshot's map key) is named as `_`.
    fn snapshot(&self, now: crate::domain::Millis) -> TenantSnapshot {
        // `analytics` holds what `calls` no longer does: the rows of evicted
        // calls. The rest is derived state, refilled from the calls.
        let Tenant {
            org_id,
            user_id,
            api_key: _,
            org_name,
            access,
            versioning,
            agents,
            calls,
            campaigns,
            webhooks,
            analytics,
            dnc,
            account,
            knowledge,
            call_actions,
            widgets,
            webengage,
            // The prompt-scoring rate window is a minute of request times,
            // not state: a restored organization starts with it empty.
            score_times: _,
            // When it was last used: the store's bookkeeping, not state.
            last_used: _,
        } = self;
        let campaigns = campaigns.lock();
        let agents = agents.read();
        let calls = calls.snapshot(now);
        let stored: HashSet<&str> = calls.calls.iter().map(|c| c.record.call_id.as_str()).collect();
        let evicted = analytics.read().ended_rows(|id| !stored.contains(id));
        drop(stored);
        let mut records: Vec<AgentRecord> = agents.records().cloned().collect();
        let campaigns = campaigns.clone();
        drop(agents);
        records.sort_by(|a, b| (a.agent.created_at, &a.agent.id).cmp(&(b.agent.created_at, &b.agent.id)));
        let versioning = *versioning.lock();
        TenantSnapshot {
            org_id: Some(org_id.clone()),
            user_id: Some(user_id.clone()),
            settings: OrgSettings {
                name: org_name.lock().clone(),
                access: *access.read(),
                versioning: Some(versioning.mode),
                scan_fails: versioning.scan_fails,
                config_freeze: versioning.config_freeze,
            },
            agents: AgentRecords(records),
            calls,
            analytics: evicted,
            campaigns,
            webhooks: webhooks.lock().clone(),
            dnc: dnc.lock().clone(),
            account: Some(account.lock().clone()),
            knowledge: knowledge.lock().clone(),
            call_actions: call_actions.lock().clone(),
            widgets: widgets.lock().clone(),
            webengage: webengage.lock().clone(),
        }
    }

    /// The tenant of `api_key` holding `snap`; `mode` is the versioning
    /// mode when the snapshot names none; `open` opens the account of a
    /// snapshot without one. The concurrency limit is the snapshot's, else
    /// the account plan's `concurrentCalls`. Err says what is wrong.
    ///
    /// `snap` is destructured exhaustively and the tenant built without
    /// `..`: a snapshot field that is never read back is an unused
    /// variable (a `clippy -D warnings` failure), and a tenant field
    /// without a value does not compile.
    fn restore(
        api_key: &str,
        snap: TenantSnapshot,
        mode: VersioningMode,
        open: impl FnOnce(&str, &str) -> AccountBook,
    ) -> Result<Self, String> {
        let TenantSnapshot {
            org_id,
            user_id,
            settings,
            agents,
            calls,
            analytics: evicted,
            campaigns,
            webhooks,
            dnc,
            account,
            knowledge,
            call_actions,
            widgets,
            webengage,
        } = snap;
        let id = |given: Option<String>, field: &str, kind: &str| match given {
            Some(id) if is_object_id(&id) => Ok(id),
            Some(id) => Err(format!("{field}: '{id}' is not a 24-character lowercase hex id")),
            None => Ok(derived_id(&[kind, api_key])),
        };
        let (org_id, user_id) = (id(org_id, "orgId", "org")?, id(user_id, "userId", "user")?);
        let api_key: Arc<str> = Arc::from(api_key);
        let account = account.unwrap_or_else(|| open(&org_id, &user_id));
        let limit = account.plan().limits.concurrent_calls;
        let (dnc, analytics) = (Arc::new(Mutex::new(dnc)), Arc::new(AnalyticsBook::default()));
        let calls = CallBook::restore(Arc::clone(&api_key), calls, limit, Arc::clone(&dnc), Arc::clone(&analytics))
            .map_err(|e| format!("calls: {e}"))?;
        analytics
            .restore_evicted(&evicted, |id| calls.lock().call(id).is_some())
            .map_err(|e| format!("analytics: {e}"))?;
        let agents = super::agents::AgentBook::from_records(agents.0);
        let OrgSettings { name, access, versioning, scan_fails, config_freeze } = settings;
        Ok(Self {
            org_id,
            user_id,
            org_name: Mutex::new(name),
            access: RwLock::new(access),
            versioning: Mutex::new(VersioningSettings { mode: versioning.unwrap_or(mode), scan_fails, config_freeze }),
            agents: RwLock::new(agents),
            calls: Arc::new(calls),
            campaigns: Mutex::new(campaigns),
            webhooks: Mutex::new(webhooks),
            analytics,
            dnc,
            account: Mutex::new(account),
            knowledge: Mutex::new(knowledge),
            call_actions: Mutex::new(call_actions),
            widgets: Mutex::new(widgets),
            webengage: Mutex::new(webengage),
            score_times: Mutex::new(std::collections::VecDeque::new()),
            last_used: std::sync::atomic::AtomicU64::new(0),
            api_key,
        })
    }
}

impl Store {
    /// A consistent copy of `t`'s state at the clock's now.
    pub fn snapshot_tenant(&self, t: &Tenant) -> TenantSnapshot {
        t.snapshot(self.clock.now())
    }

    /// Every organization with state, by API key.
    pub fn organizations(&self) -> Vec<(String, Arc<Tenant>)> {
        let mut all: Vec<(String, Arc<Tenant>)> =
            self.tenants.iter().map(|e| (e.key().clone(), Arc::clone(e.value()))).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Replaces `api_key`'s organization with `snap` (or creates it) and
    /// returns the new tenant; nothing is scheduled yet (the engines'
    /// `resume` steps do that). Err, and nothing changes, when the
    /// snapshot is inconsistent, one of its webhook URLs belongs to
    /// another organization (R135) or one of its phone numbers is held by
    /// another organization.
    pub fn restore_tenant(&self, api_key: &str, snap: TenantSnapshot) -> Result<Arc<Tenant>, String> {
        let (plan, now) = (self.default_plan(), self.clock.now());
        let open = |org: &str, user: &str| AccountBook::open(org, user, plan, &self.ids, now);
        let t = Arc::new(Tenant::restore(api_key, snap, self.default_versioning, open)?);
        let _registering = self.webhook_urls.lock();
        let others: Vec<Arc<Tenant>> =
            self.tenants.iter().filter(|o| o.key() != api_key).map(|o| Arc::clone(o.value())).collect();
        let urls: Vec<String> = t.webhooks().list().iter().map(|w| w.url.clone()).collect();
        let taken = urls.into_iter().find(|url| others.iter().any(|o| o.webhooks().has_url(url)));
        if let Some(url) = taken {
            return Err(format!("webhooks: {url} is registered by another organization"));
        }
        self.hold_numbers(&t)?;
        self.tenants.insert(api_key.to_string(), Arc::clone(&t));
        let stamp = self.touched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        t.last_used.store(stamp, std::sync::atomic::Ordering::Relaxed);
        Ok(t)
    }
}
