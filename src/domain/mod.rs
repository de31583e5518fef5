//! Pure platform rules: no I/O, no axum, no tokio and no clock reads.
//!
//! Everything here takes "now" (epoch milliseconds) as an argument, so the
//! rules can be property-tested without a server. The store calls these
//! functions under its per-tenant lock and writes back what they return.
//!
//! # Layout
//! - [`ids`]: 24-hex object ids, call ids and UUIDs, optionally seeded.
//! - [`time`]: ISO-8601 rendering and parsing of epoch milliseconds.
//! - [`error`]: [`DomainError`], the rule violations with their HTTP meaning.
//! - [`config`]: agent config defaults, merge, sections and diffs.
//! - [`config_rules`], [`config_analytics`]: every config field's bounds.
//! - [`agent`]: the agent record and its metadata rules (BEHAVIOR §B).
//! - [`versioning`]: v1 drafts and versions, `apply` over commands (§C).
//! - [`branches`]: v2 branches, drafts and revisions over the same record (§D).
//! - [`webhook`]: webhook management bodies, header limits, retry delay (§G).
//! - [`campaign`]: campaign lifecycle and member progress (§H).
//! - [`audience`]: audience CSV parsing and limits (§I).
//! - [`analytics`]: the `/analytics/*` figures and their per-organization index.

pub mod agent;
pub mod analytics;
pub mod audience;
pub mod branches;
#[cfg(test)]
mod branches_props;
pub mod call;
pub mod campaign;
pub mod config;
pub mod config_analytics;
pub mod config_rules;
pub mod error;
pub mod ids;
pub mod time;
pub mod versioning;
#[cfg(test)]
mod versioning_props;
pub mod webhook;

pub use error::DomainError;

/// Epoch milliseconds (UTC). Every timestamp in the domain uses this unit.
pub type Millis = i64;
