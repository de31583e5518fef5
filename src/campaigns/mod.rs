//! Campaigns and audiences (BEHAVIOR §H, §I): the [`Campaigns`] engine that
//! dials members through the call engine on the mock's clock. The records
//! and the per-organization [`CampaignBook`] live with the other books in
//! `crate::store` (re-exported here).
//!
//! - [`audiences`]: audience and member operations on the book (§I).
//! - [`engine`]: creating, starting, pausing and dialling campaigns; the
//!   finish hook that feeds call ends back into the pure rules of
//!   `crate::domain::campaign`.
//! - [`list`]: `GET /campaign`'s page, taken under one lock.
//! - [`render`]: wire shapes of campaigns and the two exports.
//!
//! Locks: a tenant's `campaigns` mutex is taken first, then (inside it)
//! the agents and the call book; nothing takes them the other way round.
//! The call engine never calls back synchronously: call ends reach the
//! engine through a finish hook that runs as its own clock action.
//!
//! The mock's scenario column: an audience CSV may carry a column named
//! [`SCENARIO_COLUMN`] (`scenario`) naming the scenario each member's call
//! runs; `a|b|c` names one per attempt (the last repeats). An empty cell
//! uses the usual assignments (by phone, by agent, default). The column is
//! not passed to the call's variables; every other column is (R188).

pub mod engine;
pub mod list;
pub mod render;

pub use crate::store::campaigns::audiences;
pub use crate::store::campaigns::{Audience, Campaign, CampaignBook, CampaignCall, CampaignEvent, Contact, Member};
pub use engine::Campaigns;

/// The CSV column that names a member's scenario (a mock extension).
pub const SCENARIO_COLUMN: &str = "scenario";
