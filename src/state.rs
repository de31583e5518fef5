//! `AppState`: the cheap, cloneable bag of handles every handler gets.

use std::sync::Arc;

use crate::calls::Calls;
use crate::config::Config;
use crate::events::LifecycleBus;
use crate::fixtures::Fixtures;
use crate::store::Store;

/// Shared handles behind one `Arc`: every middleware and handler clones
/// the state per request, so a clone is a single reference-count bump.
/// Fields are reached through `Deref` (`state.store`, `state.calls`, ...).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Handles>);

impl std::ops::Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Handles {
    /// All platform state, sharded per organization; owns the clock and
    /// the id generator.
    pub store: Arc<Store>,
    /// The parsed configuration (auth keys, windows).
    pub config: Arc<Config>,
    /// Fixtures parsed at start (templates, preloaded agents, scenarios).
    pub fixtures: Arc<Fixtures>,
    /// The call engine: places calls and runs their scenarios.
    pub calls: Arc<Calls>,
    /// The webhook dispatcher (follows the calls' lifecycle bus once
    /// `Server::start` starts it) and its delivery log.
    pub webhooks: Arc<crate::webhooks::Dispatcher>,
    /// The campaign engine (registers a finish hook on `calls`).
    pub campaigns: Arc<crate::campaigns::Campaigns>,
    /// Realtime WebSocket state (tokens, sessions, draining).
    pub realtime: Arc<crate::realtime::Realtime>,
    /// The request journal: recent `/atoms/v1` requests, bounded in bytes.
    pub journal: Arc<crate::journal::Journal>,
    /// Fault-injection rules, checked before a request reaches auth.
    pub faults: Arc<crate::faults::Faults>,
    /// The mock's object storage (presigned uploads, the CDN).
    pub storage: Arc<crate::storage::Storage>,
    /// The knowledge-base engine (processing on the clock).
    pub knowledge: Arc<crate::knowledge::Knowledge>,
    /// The call-action engine (registers a finish hook on `calls`).
    pub call_actions: Arc<crate::call_actions::CallActions>,
    /// The memory limit (`--max-memory-bytes`) writes are checked against.
    pub memory: crate::memory::MemoryLimit,
    /// Flips to `true` on shutdown; long-lived streams end when it does
    /// (axum does not end open streams by itself).
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// Runs `work` to completion, or until the server starts shutting down
    /// (`None`): long-polls end early on shutdown.
    pub async fn unless_shutdown<F: std::future::Future>(&self, work: F) -> Option<F::Output> {
        let mut stop = self.shutdown.subscribe();
        tokio::select! {
            out = work => Some(out),
            _ = stop.wait_for(|stop| *stop) => None,
        }
    }

    /// Forgets all state (or only `api_key`'s organization) and re-seeds
    /// the fixture agents (`POST /_admin/reset`). A full reset also
    /// restores the fixtures' scenario assignments and the realtime
    /// switches and clears the request journal and the webhook delivery
    /// log; a per-key reset drops only that key's journal entries. Fault
    /// rules go too (all of them, or the key's). The clock is not moved.
    pub fn reset(&self, api_key: Option<&str>) {
        self.store.reset(api_key);
        self.fixtures.seed(&self.store, api_key);
        match api_key {
            Some(k) => self.journal.clear_key(k),
            None => {
                self.fixtures.scenarios.reset();
                self.journal.clear();
                self.webhooks.log().clear();
                self.realtime.reset_settings();
            }
        }
        self.faults.clear(api_key);
    }

    /// Builds the state from a configuration and loaded fixtures, and
    /// seeds the fixture agents.
    pub fn new(config: Config, fixtures: Fixtures) -> Self {
        let clock = crate::clock::Clock::new(config.clock);
        let store = Arc::new(
            Store::new(clock, config.seed, config.security_check_ms())
                .with_versioning(config.versioning)
                .with_concurrency_limit(config.concurrency_limit)
                .with_max_organizations(config.max_organizations)
                .with_max_archived_agents(config.max_archived_agents),
        );
        fixtures.seed(&store, None);
        let bus = Arc::new(LifecycleBus::default());
        let calls = Arc::new(
            Calls::new(Arc::clone(&store), Arc::clone(&fixtures.scenarios), bus)
                .with_call_store_bytes(config.call_store_bytes)
                .with_analytics_bytes(config.analytics_bytes),
        );
        let campaigns = crate::campaigns::Campaigns::new(Arc::clone(&store), &calls);
        let shutdown = Arc::new(tokio::sync::watch::channel(false).0);
        let webhooks = Arc::new(crate::webhooks::Dispatcher::new(
            Arc::clone(&store),
            Arc::clone(&calls),
            crate::webhooks::Settings::from_config(&config),
            shutdown.subscribe(),
        ));
        let realtime = Arc::new(crate::realtime::Realtime::default());
        let journal = Arc::new(crate::journal::Journal::new(config.journal_capacity, config.journal_bytes));
        let faults = Arc::new(crate::faults::Faults::new(config.seed));
        let storage = Arc::new(crate::storage::Storage::new(config.seed));
        let knowledge =
            crate::knowledge::Knowledge::new(Arc::clone(&store), Arc::clone(&storage), fixtures.web.clone());
        let call_actions = crate::call_actions::CallActions::new(Arc::clone(&store), &calls);
        let memory = crate::memory::MemoryLimit::new(config.max_memory_bytes);
        Self(Arc::new(Handles {
            memory,
            store,
            config: Arc::new(config),
            fixtures: Arc::new(fixtures),
            calls,
            webhooks,
            campaigns,
            realtime,
            journal,
            faults,
            storage,
            knowledge,
            call_actions,
            shutdown,
        }))
    }
}
