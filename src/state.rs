//! `AppState`: the cheap, cloneable bag of handles every handler gets.

use std::sync::Arc;

use crate::config::Config;
use crate::fixtures::Fixtures;
use crate::store::Store;

/// Shared handles. Cloning copies three `Arc`s.
#[derive(Debug, Clone)]
pub struct AppState {
    /// All platform state, sharded per organization; owns the clock and
    /// the id generator.
    pub store: Arc<Store>,
    /// The parsed configuration (auth keys, windows).
    pub config: Arc<Config>,
    /// Fixtures parsed at start (templates, preloaded agents).
    pub fixtures: Arc<Fixtures>,
}

impl AppState {
    /// Builds the state from a configuration and loaded fixtures, and
    /// seeds the fixture agents.
    pub fn new(config: Config, fixtures: Fixtures) -> Self {
        let clock = crate::clock::Clock::new(config.clock);
        let store = Arc::new(Store::new(clock, config.seed, config.security_check_ms()));
        fixtures.seed(&store, None);
        Self { store, config: Arc::new(config), fixtures: Arc::new(fixtures) }
    }
}
