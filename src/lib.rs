//! atoms-mock: a fast, stateful fake of the Atoms voice-agent platform API
//! (`/atoms/v1`), for contract tests, CI fixtures and local development.
//!
//! # Layout
//! Lower layers never name higher ones (`tests/api/architecture.rs` checks
//! it), so each module can be read knowing only the ones below it. From the
//! bottom up:
//!
//! - [`domain`]: the platform's rules as pure functions and state machines
//!   (agents, versions, branches, campaigns, webhooks, account, DNC, ...):
//!   no I/O, no clock reads, property-tested. Each module's doc cites the
//!   BEHAVIOR rules it implements.
//! - [`clock`]: real or virtual time; every timer of the crate goes through
//!   it, and tests drive it (`advance`, `run_until_idle`).
//! - [`journal`]: the request journal (bounded in bytes) and its filters.
//! - [`memory`]: the hook that gives freed memory back to the OS after a
//!   reset (the binary installs jemalloc's purge).
//! - [`faults`]: fault-injection rules, path patterns and seeded rolls.
//! - [`config`]: CLI flags and `ATOMS_MOCK_*` variables ([`Config`]).
//! - [`scenarios`]: scripted call scenarios, their compiled timelines and
//!   which call runs which.
//! - [`call`]: the call record every consumer reads (call log, SSE,
//!   webhooks, exports).
//! - [`events`]: per-call event hubs and the milestone bus.
//! - [`store`]: per-organization state: the [`store::Tenant`] and its
//!   books (agents, calls, campaigns, webhooks), each behind its own lock;
//!   its doc says how to add a book and in which order locks are taken.
//! - [`storage`]: the mock's object storage behind its presigned URLs and
//!   CDN (knowledge-base files, widget avatars).
//! - [`knowledge`]: the knowledge-base engine: uploads, scrapes and
//!   sitemaps without network, processing on the clock.
//! - [`calls`]: the call engine: `Calls::place` (the one placement path),
//!   dispatch, queueing and timelines on the clock, live calls.
//! - [`call_actions`]: post-call actions after each call, trigger actions
//!   placing calls.
//! - [`campaigns`]: the campaign dialler over the call engine.
//! - [`webhooks`]: signed event bodies, the dispatcher and its delivery log.
//! - [`realtime`]: realtime agent sessions over the WebSocket.
//! - [`fixtures`]: embedded default fixtures and `--fixtures DIR`.
//! - [`state`]: [`AppState`], the handles every handler shares.
//! - [`persist`]: the state file (`--state-file`) and the export/import
//!   of one organization: snapshots of every book, written atomically,
//!   loaded at start, with each engine's scheduled work re-armed.
//! - [`http`]: routers, extractors, the error envelope and OpenAPI; the
//!   only layer that speaks HTTP (its own `# Layout` lists the areas).
//! - [`server`]: [`Server::start`] on a caller-provided listener, with
//!   connection timeouts and graceful shutdown ([`Transport`]); the
//!   composition root, the one module above `http`.

#![forbid(unsafe_code)]

pub mod call;
pub mod call_actions;
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
pub mod knowledge;
pub mod memory;
pub mod persist;
pub mod realtime;
pub mod scenarios;
pub mod server;
pub mod state;
pub mod storage;
pub mod store;
pub mod webhooks;

pub use config::Config;
pub use http::app;
pub use server::{Server, Transport};
pub use state::AppState;
