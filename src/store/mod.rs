//! All platform state, sharded by organization (one per API key).
//!
//! [`Store`] maps an API key to its [`Tenant`] in a `DashMap`, so requests
//! of different keys never contend and there is no global lock on the
//! request path. A tenant is a set of **books**, one per area, each behind
//! its own lock; fields are private and reached through methods, as in
//! mini-redis's `Db`:
//!
//! | book | lock | reached through |
//! |---|---|---|
//! | agents ([`agents`]: versions, drafts, branches) | `RwLock` | `Store` methods taking the tenant |
//! | calls ([`CallBook`]) | `Mutex` inside the book | [`Tenant::calls`], an `Arc` the call engine keeps |
//! | audiences and campaigns ([`CampaignBook`]) | `Mutex` | [`Tenant::campaigns`] |
//! | webhooks and subscriptions ([`WebhookBook`]) | `Mutex` | [`Tenant::webhooks`] |
//! | analytics index ([`AnalyticsBook`]), fed by the call engine | `RwLock` | [`Tenant::analytics`], shared with the call book |
//! | Do-Not-Call list ([`dnc`]) | `Mutex`, shared with the call book | [`Tenant::dnc`], [`CallBook::dnc`] |
//! | plan, credits, invoices, numbers, compliance ([`AccountBook`]) | `Mutex` | [`Tenant::account`] |
//! | knowledge bases ([`KnowledgeBook`]) | `Mutex` | [`Tenant::knowledge`] |
//! | call actions and their runs ([`CallActionBook`]) | `Mutex` | [`Tenant::call_actions`] |
//! | widget configs and avatars ([`WidgetBook`]) | `Mutex` | [`Tenant::widgets`] |
//! | the WebEngage integration, the prompt-scoring rate window | small locks | [`Tenant::webengage`], `prompt_scores` |
//! | name, access, versioning settings | small locks | getters and setters on [`Tenant`] |
//!
//! Writes run a pure domain transition under the book's lock and store the
//! result; a rejected command leaves the book untouched. No method here
//! awaits, and a book's guard is never held across `.await` (the guards
//! are not `Send`, so an async handler that tried would not compile).
//!
//! **Lock order.** A rule that spans books takes their locks in this order,
//! and nothing takes them the other way round: campaigns, then agents, then
//! calls, then the DNC list (then a call's event hub, then the milestone
//! bus), then the account. Webhooks and the small settings locks are taken
//! alone. The analytics index is taken last of all (the call engine writes
//! it under the call book's lock) and nothing is locked under it. So
//! archiving an agent (agents)
//! while a campaign is created for it (campaigns, then agents) is one
//! serialized decision: [`Store::set_archived`]. The knowledge, call-action
//! and widget books come after the agents and the calls (a knowledge
//! base's delete checks the agents' configs; a call reads its knowledge
//! bases as it connects), the prompt-scoring rate window after the agents.
//!
//! # Adding a per-organization book
//! The account, DNC, knowledge-base, ... books follow the same five steps:
//! 1. Write the book in `store/<area>.rs`: a plain struct with private
//!    fields and methods that keep its invariants. Rules come from
//!    `crate::domain` and take `now` as an argument; the book reads no
//!    clock and takes no lock of its own.
//! 2. Add a private field to [`Tenant`] (`Mutex<Book>`, or an `Arc` handle
//!    like [`CallBook`] when clock actions must reach the book after the
//!    request ends) and initialize it in `Tenant::new`.
//! 3. Add one accessor on `Tenant` that returns the guard (or the handle).
//!    Engines take that narrow handle, never the whole tenant.
//! 4. A rule that spans books is one `Store` method that takes the locks in
//!    the order above and decides under them; never a check in a handler
//!    followed by a separate write.
//! 5. Persistence ([`snapshot`]): derive `Serialize`, `Deserialize`,
//!    `Clone` and `Default` on the book (camelCase; `#[serde(try_from =
//!    "…")]` when a book read back must check its invariants, as
//!    [`CampaignBook`] does), then add it to [`TenantSnapshot`]: one field
//!    and one line in each of the two functions that must name it:
//!    - the field, `pub account: AccountBook,` (the struct is
//!      `#[serde(default)]`, so older state files load with the book
//!      empty, and the snapshot [`VERSION`](crate::persist::VERSION)
//!      stays as it is);
//!    - in `Tenant::snapshot`, `account: account.lock().clone(),` (take it
//!      with the other locks, in the lock order, when a rule spans them);
//!    - in `Tenant::restore`, `account: Mutex::new(account),`.
//!
//!    **Forgetting this does not compile.** `Tenant::snapshot`
//!    destructures `Tenant` without `..`, so the new `Tenant` field is an
//!    error there ("pattern does not mention field `account`") until the
//!    snapshot takes it; `Tenant::restore` destructures `TenantSnapshot`
//!    the same way and builds `Tenant` without `..`, so a snapshot field
//!    that is never read back fails `clippy -D warnings` (unused variable)
//!    and a tenant field with no value fails to compile.
//!
//!    A book with work scheduled on the clock also gets a `resume` step
//!    in its engine that re-arms that work from the restored state
//!    (`Campaigns::resume` is the model), called from `persist::install`.
//!    Nothing else changes: the state file, `--state-file` and
//!    `GET/PUT /_admin/state` carry every field of the snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::{Mutex, MutexGuard, RwLock};

use crate::clock::Clock;
use crate::domain::agent::OrgAccess;
use crate::domain::dnc::DncList;
use crate::domain::ids::{derived_id, IdGen};
use crate::domain::plan::Plan;
use crate::domain::versioning::VersioningMode;
use crate::domain::Millis;

pub mod account;
mod agent_ai;
pub mod agents;
pub mod analytics;
pub mod call_actions;
pub mod calls;
pub mod campaigns;
pub mod dnc;
mod integrations;
pub mod knowledge;
mod organizations;
pub mod prompt_scores;
pub mod snapshot;
mod webhook_urls;
pub mod webhooks;
pub mod widgets;

pub use account::AccountBook;
pub use agents::AgentQuery;
pub use analytics::AnalyticsBook;
pub use call_actions::CallActionBook;
pub use calls::CallBook;
pub use campaigns::CampaignBook;
pub use knowledge::KnowledgeBook;
pub use snapshot::TenantSnapshot;
pub use webhooks::WebhookBook;
pub use widgets::WidgetBook;

/// One organization: what one API key can see.
#[derive(Debug)]
pub struct Tenant {
    org_id: String,
    user_id: String,
    api_key: Arc<str>,
    org_name: Mutex<String>,
    /// Model and workflow access (R022).
    access: RwLock<OrgAccess>,
    versioning: Mutex<VersioningSettings>,
    agents: RwLock<agents::AgentBook>,
    calls: Arc<CallBook>,
    campaigns: Mutex<CampaignBook>,
    webhooks: Mutex<WebhookBook>,
    analytics: Arc<AnalyticsBook>,
    /// Shared with the call book, which checks calls against it.
    dnc: Arc<Mutex<DncList>>,
    account: Mutex<AccountBook>,
    knowledge: Mutex<KnowledgeBook>,
    call_actions: Mutex<CallActionBook>,
    widgets: Mutex<WidgetBook>,
    webengage: Mutex<Option<crate::domain::integration::WebEngage>>,
    score_times: Mutex<std::collections::VecDeque<crate::domain::Millis>>,
    /// When the organization was last used: the store's change counter at
    /// its last request (`domain::org_budget` OB2). Not state.
    last_used: AtomicU64,
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
    /// A config freeze (`AGENT_CONFIG_FROZEN`, R017) is active: the v2
    /// write commands answer 423 until it is lifted.
    pub config_freeze: bool,
}

impl Tenant {
    fn new(api_key: &str, mode: VersioningMode, plan: Plan, ids: &IdGen, now: Millis) -> Self {
        let api_key: Arc<str> = Arc::from(api_key);
        let (org_id, user_id) = (derived_id(&["org", &api_key]), derived_id(&["user", &api_key]));
        let analytics = Arc::new(AnalyticsBook::default());
        let dnc = Arc::new(Mutex::new(DncList::default()));
        let concurrency_limit = plan.limits.concurrent_calls;
        Self {
            account: Mutex::new(AccountBook::open(&org_id, &user_id, plan, ids, now)),
            org_id,
            user_id,
            org_name: Mutex::new(DEFAULT_ORG_NAME.to_string()),
            access: RwLock::new(OrgAccess::default()),
            versioning: Mutex::new(VersioningSettings { mode, scan_fails: false, config_freeze: false }),
            agents: RwLock::new(agents::AgentBook::default()),
            calls: Arc::new(CallBook::new(
                Arc::clone(&api_key),
                concurrency_limit,
                Arc::clone(&dnc),
                Arc::clone(&analytics),
            )),
            campaigns: Mutex::new(CampaignBook::default()),
            webhooks: Mutex::new(WebhookBook::default()),
            analytics,
            dnc,
            knowledge: Mutex::new(KnowledgeBook::default()),
            call_actions: Mutex::new(CallActionBook::default()),
            widgets: Mutex::new(WidgetBook::default()),
            webengage: Mutex::new(None),
            score_times: Mutex::new(std::collections::VecDeque::new()),
            last_used: AtomicU64::new(0),
            api_key,
        }
    }

    /// 24-hex organization id, derived from the key (stable across resets).
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    /// 24-hex id of the key's user (`createdBy`, `publishedBy`, ...).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The API key (shared with call milestones).
    pub fn api_key(&self) -> &Arc<str> {
        &self.api_key
    }

    /// The organization's name (`GET /user`).
    pub fn org_name(&self) -> String {
        self.org_name.lock().clone()
    }

    /// Renames the organization (`PUT /account/update-org-name`).
    pub fn set_org_name(&self, name: &str) {
        name.clone_into(&mut self.org_name.lock());
    }

    /// What the organization may use (R022).
    pub fn access(&self) -> OrgAccess {
        *self.access.read()
    }

    /// Changes what the organization may use (control API); applies to
    /// later creates and draft edits.
    pub fn set_access(&self, access: OrgAccess) {
        *self.access.write() = access;
    }

    /// The organization's versioning settings (`/_admin/versioning`).
    pub fn versioning(&self) -> VersioningSettings {
        *self.versioning.lock()
    }

    /// The organization's versioning mode.
    pub fn versioning_mode(&self) -> VersioningMode {
        self.versioning.lock().mode
    }

    /// Changes the versioning settings in one step (concurrent control-API
    /// calls never lose an update); returns the result.
    pub fn update_versioning(&self, change: impl FnOnce(&mut VersioningSettings)) -> VersioningSettings {
        let mut v = self.versioning.lock();
        change(&mut v);
        *v
    }

    /// The organization's calls: the handle the call engine keeps for the
    /// clock actions of each call.
    pub fn calls(&self) -> &Arc<CallBook> {
        &self.calls
    }

    /// The organization's audiences and campaigns, locked (first in the
    /// lock order).
    pub fn campaigns(&self) -> MutexGuard<'_, CampaignBook> {
        self.campaigns.lock()
    }

    /// The organization's webhooks and subscriptions, locked.
    pub fn webhooks(&self) -> MutexGuard<'_, WebhookBook> {
        self.webhooks.lock()
    }

    /// The organization's analytics index (`/analytics/*`), fed by the
    /// call engine.
    pub fn analytics(&self) -> &AnalyticsBook {
        &self.analytics
    }

    /// The organization's Do-Not-Call list, locked (after the call table
    /// when both are held).
    pub fn dnc(&self) -> MutexGuard<'_, DncList> {
        self.dnc.lock()
    }

    /// The organization's plan, credits, invoices, numbers and compliance
    /// applications, locked (last in the lock order).
    pub fn account(&self) -> MutexGuard<'_, AccountBook> {
        self.account.lock()
    }
}

/// The state of every organization, plus the shared id generator.
#[derive(Debug)]
pub struct Store {
    tenants: DashMap<String, Arc<Tenant>>,
    ids: IdGen,
    clock: Clock,
    security_check_ms: Millis,
    default_versioning: VersioningMode,
    concurrency_limit: u32,
    webhook_urls: webhook_urls::WebhookUrls,
    /// Bumped whenever a request reaches an organization (or one is reset
    /// or restored): with the clock's fired timers, what tells the state
    /// writer that something may have changed.
    touched: AtomicU64,
    inventory_seed: u64,
    held: account::HeldNumbers,
    started_at: Millis,
    /// Organizations kept at most (`--max-organizations`, OB1).
    max_organizations: usize,
    /// Archived agents one organization keeps at most
    /// (`--max-archived-agents`, AR1).
    max_archived_agents: usize,
    /// The fixture keys, never forgotten (OB2).
    pinned: RwLock<std::collections::HashSet<String>>,
}

impl Store {
    /// An empty store.
    pub fn new(clock: Clock, seed: Option<u64>, security_check_ms: Millis) -> Self {
        let started_at = clock.now();
        Self {
            tenants: DashMap::new(),
            ids: IdGen::new(seed),
            clock,
            security_check_ms,
            default_versioning: VersioningMode::Auto,
            concurrency_limit: u32::try_from(crate::config::DEFAULT_CONCURRENCY).unwrap_or(u32::MAX),
            webhook_urls: webhook_urls::WebhookUrls::default(),
            touched: AtomicU64::new(0),
            inventory_seed: seed.unwrap_or_else(rand::random),
            held: account::HeldNumbers::default(),
            started_at,
            max_organizations: crate::domain::org_budget::DEFAULT_MAX_ORGANIZATIONS,
            max_archived_agents: crate::domain::archive_budget::DEFAULT_MAX_ARCHIVED_AGENTS,
            pinned: RwLock::new(std::collections::HashSet::new()),
        }
    }

    /// The plan a new organization starts on (`plan_standard`).
    pub fn default_plan(&self) -> Plan {
        Plan::standard(self.concurrency_limit)
    }

    /// The store with `mode` as new organizations' versioning mode.
    pub fn with_versioning(mut self, mode: VersioningMode) -> Self {
        self.default_versioning = mode;
        self
    }

    /// The store with `limit` (at least 1) as new organizations'
    /// concurrency limit (`--concurrency-limit`, R108): the default plan's
    /// `concurrentCalls`. Each organization's limit lives in its call book
    /// from then on: `Calls::set_limit` is the one setter (control API,
    /// plan changes).
    pub fn with_concurrency_limit(mut self, limit: usize) -> Self {
        self.concurrency_limit = u32::try_from(limit).unwrap_or(u32::MAX).max(1);
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

    /// The tenant of `api_key`, created on first use; a creation past
    /// `--max-organizations` forgets idle organizations
    /// (`Store::forget_idle`, OB1).
    pub fn tenant(&self, api_key: &str) -> Arc<Tenant> {
        let stamp = self.touched.fetch_add(1, Ordering::Relaxed);
        if let Some(t) = self.tenants.get(api_key) {
            // Written only when it moved on by a few hundred requests: a
            // coarse age is enough to pick the least recently used (OB2),
            // and the tenant's cache line stays shared between workers.
            if stamp.wrapping_sub(t.last_used.load(Ordering::Relaxed)) > 256 {
                t.last_used.store(stamp, Ordering::Relaxed);
            }
            return Arc::clone(&t);
        }
        let mut created = false;
        let t = Arc::clone(&self.tenants.entry(api_key.to_string()).or_insert_with(|| {
            created = true;
            let (plan, now) = (self.default_plan(), self.clock.now());
            Arc::new(Tenant::new(api_key, self.default_versioning, plan, &self.ids, now))
        }));
        t.last_used.store(stamp, Ordering::Relaxed);
        if created && self.tenants.len() > self.max_organizations {
            self.forget_idle(api_key);
        }
        t
    }

    /// Whether an organization other than `t` holds what `holds` looks for:
    /// the routes where the platform answers another organization's id
    /// with 403 rather than 404 (R117 retries, R181 audience members) ask
    /// it after `t` did not find the id. The organizations are collected
    /// first and asked one at a time, each under its own locks, so no map
    /// shard stays locked meanwhile.
    pub fn held_elsewhere(&self, t: &Tenant, holds: impl Fn(&Tenant) -> bool) -> bool {
        let others: Vec<Arc<Tenant>> =
            self.tenants.iter().filter(|e| e.value().org_id() != t.org_id()).map(|e| Arc::clone(e.value())).collect();
        others.iter().any(|o| holds(o))
    }

    /// The tenant of `api_key` if it exists (never creates one).
    pub fn find_tenant(&self, api_key: &str) -> Option<Arc<Tenant>> {
        self.tenants.get(api_key).map(|t| Arc::clone(&t))
    }

    /// Forgets every organization, or only `api_key`'s, with the numbers
    /// they rented.
    pub fn reset(&self, api_key: Option<&str>) {
        self.touched.fetch_add(1, Ordering::Relaxed);
        match api_key {
            Some(k) => self.forget_org(k, |_| true),
            None => {
                self.tenants.clear();
                self.held.clear(None);
            }
        }
    }

    /// Forgets `api_key`'s organization if `this` accepts the tenant held
    /// for it, and releases its rented numbers (a per-key reset, OB4).
    fn forget_org(&self, api_key: &str, this: impl Fn(&Arc<Tenant>) -> bool) {
        if let Some((_, t)) = self.tenants.remove_if(api_key, |_, held| this(held)) {
            self.held.clear(Some(&t.org_id));
        }
    }

    /// A number that grows whenever the state may have changed: a request
    /// reached an organization, one was reset or restored, or the clock
    /// fired a timer. Equal readings mean nothing changed in between.
    pub fn changes(&self) -> u64 {
        self.touched.load(Ordering::Relaxed).wrapping_add(self.clock.fired())
    }

    /// Number of organizations with state (for the control API).
    pub fn tenant_count(&self) -> usize {
        self.tenants.len()
    }
}
