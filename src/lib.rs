//! atoms-mock: a fast, stateful fake of the Atoms voice-agent platform API
//! (`/atoms/v1`), for contract tests, CI fixtures and local development.
//!
//! # Layout
//! - [`config`]: CLI flags and `ATOMS_MOCK_*` variables.
//! - [`server`]: [`Server::start`] on a caller-provided listener, with
//!   connection timeouts and graceful shutdown ([`Transport`]).
//! - [`state`]: [`AppState`], the handles every handler shares.
//! - [`clock`]: real or virtual time; every timer goes through it.
//! - [`domain`]: pure platform rules (agents, config bounds, v1 drafts and
//!   versions), property-tested without HTTP.
//! - [`store`]: per-organization state behind per-tenant locks.
//! - [`fixtures`]: embedded default fixtures and `--fixtures DIR`.
//! - [`http`]: routers, extractors, the error envelope and OpenAPI.
//! - [`journal`]: the request journal (bounded in bytes) and its filters.
//! - [`faults`]: fault-injection rules, path patterns and seeded rolls.
//! - [`webhooks`]: webhook books, signed event bodies, the dispatcher and
//!   its delivery log.

pub mod call;
pub mod calls;
pub mod campaigns;
pub mod clock;
pub mod config;
pub mod domain;
pub mod events;
pub mod faults;
pub mod fixtures;
pub mod http;
pub mod journal;
pub mod realtime;
pub mod scenarios;
pub mod server;
pub mod state;
pub mod store;
pub mod webhooks;

pub use config::Config;
pub use http::app;
pub use server::{Server, Transport};
pub use state::AppState;
