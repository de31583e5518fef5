//! Webhooks (BEHAVIOR §G): each organization's webhooks and subscriptions
//! ([`WebhookBook`], kept in `crate::store::webhooks` with the other
//! per-organization books), the event bodies ([`payload`]), the dispatcher that
//! follows the lifecycle bus and POSTs them ([`Dispatcher`]) and the
//! delivery log ([`log`], a mock extension).
//!
//! Scope: webhook URLs are unique **platform-wide**, as R135 says: each
//! book checks its own URLs and `Store::create_webhook` the other
//! organizations', under one lock (`store::webhook_urls`). Everything else is per organization.
//!
//! Not done here: the stale `X-Atoms-Signature`, dot-style event names and
//! automatic retries of the old guides (L-G1); auto-pause; TLS (the mock
//! is built without a TLS stack, so `https://` endpoints fail with a
//! connection error recorded in the log).

pub mod dispatcher;
pub mod log;
pub mod payload;

pub use crate::store::webhooks::{Subscription, Target, Webhook, WebhookBook};
pub use dispatcher::{Dispatcher, Settings};

/// A fresh signing secret: 64 lowercase hex characters (SHA-256 of a
/// UUID from the id generator, so `--seed` makes it reproducible).
pub fn new_secret(ids: &crate::domain::ids::IdGen) -> String {
    use sha2::Digest;
    crate::domain::ids::hex(&sha2::Sha256::digest(ids.uuid().as_bytes()))
}
