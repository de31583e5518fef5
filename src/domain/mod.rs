//! Pure platform rules: no I/O, no axum, no tokio and no clock reads.
//!
//! Everything here takes "now" (epoch milliseconds) as an argument, so the
//! rules can be property-tested without a server. The store calls these
//! functions under its per-tenant lock and writes back what they return.
//!
//! # Layout
//! - [`ids`]: 24-hex object ids, call ids and UUIDs, optionally seeded.
//! - [`time`]: ISO-8601 rendering and parsing of epoch milliseconds.
//! - [`template`]: `{{name}}` placeholder filling.
//! - [`event_stream`]: who may still subscribe to a call's SSE stream (R124).
//! - [`page`]: the window a paginated list cuts, and its `hasMore`/`totalPages`;
//!   [`list_order`]: list orders kept up to date, read one page at a time.
//! - [`query`]: query-string values (trimmed values, comma lists, ids, whole
//!   numbers) with zod's messages.
//! - [`error`]: [`DomainError`], the rule violations with their HTTP meaning, and
//!   zod's enum and size messages.
//! - [`static_names`]: serde for `&'static str` fields holding one of a fixed set of names.
//! - [`config`]: agent config defaults, merge, sections and diffs.
//! - [`config_diff`]: defaults filled in before diffing, and the v1 diff
//!   in both shapes (LIVE C1, V4).
//! - [`config_rules`], [`config_analytics`]: every config field's bounds.
//! - [`agent`]: the agent record and its metadata rules (BEHAVIOR §B).
//! - [`agent_ai`]: `POST /agent/with-ai` rules and its deterministic generator.
//! - [`versioning`]: v1 drafts and versions, `apply` over commands (§C).
//! - [`branches`]: v2 branches, drafts and revisions over the same record (§D).
//! - [`webhook`]: webhook management bodies, header limits, retry delay (§G).
//! - [`campaign`]: campaign lifecycle and member progress (§H); [`campaign_list`]:
//!   the list query.
//! - [`audience`]: audience CSV parsing and limits (§I).
//! - [`account`]: one organization's plan, credits, invoices, numbers and
//!   compliance, one method per operation (User, Billing, Phone Numbers,
//!   Compliance tags).
//! - [`plan`]: plan limits and features, and their checks (User tag).
//! - [`ledger`], [`posting`], [`ledger_query`]: the credit ledger, what each
//!   billable action writes to it, and its reads (Billing).
//! - [`billing_cycle`]: renewal dates and the rental proration.
//! - [`invoice`]: Stripe-shaped invoices and the unpaid lock.
//! - [`compliance`], [`compliance_rules`], [`compliance_form`]: compliance
//!   applications on the clock, requirements, forms, and the rental gate.
//! - [`inventory`], [`numbers`], [`phone_product`]: the seeded number
//!   inventory, rented and imported numbers, and agent attachment (which
//!   `calls::caller_id` reads for the caller ID, LIVE K1).
//! - [`dnc`]: the Do-Not-Call list, its query and the dialling rule.
//! - [`concurrency`]: the limit, per-agent reservations and the slot allocator (R108).
//! - [`role`]: a key's role (owner, admin, member) for gated writes.
//! - [`call_action`]: call actions, their conditions and when they fire.
//! - [`client_tool`]: the client-tool name rule (realtime sessions, scenarios).
//! - [`knowledge_base`]: knowledge bases, items, scraped URLs, processing, matching.
//! - [`widget`]: widget config patch and avatar upload; [`integration`]: WebEngage.
//! - [`prompt_score`], [`prompt_rubric`]: prompt scoring and its 11-dimension rubric.
//! - [`analytics`]: the `/analytics/*` figures and their per-organization index.
//! - [`call_budget`]: the byte budgets of ended calls and of evicted calls'
//!   analytics rows (CB1–CB5); [`org_budget`]: how many organizations a
//!   server keeps (OB1–OB4); [`archive_budget`]: how many archived agents
//!   an organization keeps (AR1–AR3); [`history_budget`]: how much history
//!   an agent keeps (AH1–AH6). Mock extensions that bound memory.

pub mod account;
pub mod agent;
pub mod agent_ai;
pub mod analytics;
pub mod archive_budget;
pub mod audience;
pub mod billing_cycle;
pub mod branches;
#[cfg(test)]
mod branches_props;
pub mod call;
pub mod call_action;
pub mod call_budget;
pub mod campaign;
pub mod campaign_list;
pub mod client_tool;
pub mod compliance;
pub mod compliance_form;
pub mod compliance_rules;
pub mod concurrency;
pub mod config;
pub mod config_analytics;
pub mod config_diff;
pub mod config_rules;
pub mod dnc;
pub mod error;
pub mod event_stream;
pub mod history_budget;
pub mod ids;
pub mod integration;
pub mod inventory;
pub mod invoice;
pub mod knowledge_base;
pub mod ledger;
pub mod ledger_query;
pub mod list_order;
pub mod numbers;
pub mod org_budget;
pub mod page;
pub mod phone_product;
pub mod plan;
pub mod posting;
pub mod prompt_rubric;
pub mod prompt_score;
pub mod query;
pub mod role;
pub mod static_names;
pub mod template;
pub mod time;
pub mod versioning;
#[cfg(test)]
pub(crate) mod versioning_props;
pub mod webhook;
pub mod widget;

pub use error::{array_len, enum_message, string_len, DomainError, UNAUTHORIZED};

/// The base path of every REST route and of the realtime WebSocket (R001).
pub const API_PREFIX: &str = "/atoms/v1";

/// Epoch milliseconds (UTC). Every timestamp in the domain uses this unit.
pub type Millis = i64;
