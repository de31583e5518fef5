//! Webhook registration as one operation (R134, R135, R137): a webhook
//! URL is unique across every organization, so checking the other
//! organizations and writing the new URL must not interleave with another
//! registration. [`Store`] serializes every registration and URL change
//! behind one lock ([`WebhookUrls`]); each organization's book is locked
//! only briefly inside it, one at a time, and never the other way round.
//! Registrations are rare, so one lock costs nothing on the request hot
//! path (reads never take it).

use std::sync::Arc;

use super::{Store, Tenant};
use crate::domain::webhook::{NewWebhook, WebhookPatch, DUPLICATE_URL};
use crate::domain::{DomainError, Millis};

/// The lock that serializes webhook URL registrations platform-wide.
#[derive(Debug, Default)]
pub(super) struct WebhookUrls(parking_lot::Mutex<()>);

impl WebhookUrls {
    /// Takes the lock (also held while a restored organization's URLs are
    /// checked, `Store::restore_tenant`).
    pub(super) fn lock(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.0.lock()
    }
}

impl Store {
    /// Whether an organization other than `except` has a webhook at `url`
    /// (R135). Each book is locked briefly, one at a time.
    fn webhook_url_taken_elsewhere(&self, url: &str, except: &Tenant) -> bool {
        let others: Vec<Arc<Tenant>> = self
            .tenants
            .iter()
            .filter(|t| !std::ptr::eq(t.value().as_ref(), except))
            .map(|t| Arc::clone(t.value()))
            .collect();
        others.iter().any(|t| t.webhooks().has_url(url))
    }

    /// Registers `new` in `t` (R134, R135). Every agent in `events` must
    /// exist in `t`: 400 `Agent not found` (an invalid body; the spec
    /// documents no 404 here). A URL registered in any organization: 400
    /// `A webhook with this URL has already been registered`. Of many
    /// registrations of one URL at once, exactly one wins. `secret` is the
    /// new webhook's signing secret. A plan without `features.webhooks`:
    /// 400 `Your plan does not include webhooks`. Returns the id.
    pub fn create_webhook(
        &self,
        t: &Tenant,
        new: NewWebhook,
        secret: String,
        now: Millis,
    ) -> Result<String, DomainError> {
        t.account().require(crate::domain::plan::Feature::Webhooks)?;
        for (agent, _) in &new.events {
            self.read_agent(t, agent, |_| ()).map_err(|_| DomainError::invalid("Agent not found"))?;
        }
        let _registering = self.webhook_urls.0.lock();
        if self.webhook_url_taken_elsewhere(&new.endpoint, t) {
            return Err(DomainError::invalid(DUPLICATE_URL));
        }
        t.webhooks().create(new, secret, t.user_id(), &self.ids, now)
    }

    /// Applies `patch` to webhook `id` of `t` (R137, R138); a new URL is
    /// checked against every organization as [`Store::create_webhook`]
    /// does, under the same lock.
    pub fn patch_webhook(&self, t: &Tenant, id: &str, patch: WebhookPatch, now: Millis) -> Result<(), DomainError> {
        let _registering = patch.endpoint.is_some().then(|| self.webhook_urls.0.lock());
        if patch.endpoint.as_deref().is_some_and(|url| self.webhook_url_taken_elsewhere(url, t)) {
            return Err(DomainError::invalid(DUPLICATE_URL));
        }
        t.webhooks().patch(id, patch, now)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use crate::clock::{Clock, ClockMode};
    use crate::domain::webhook::{NewWebhook, WebhookPatch, DUPLICATE_URL};
    use crate::store::Store;

    /// R135 as one locked operation: threads released together register
    /// (half create, half move an existing webhook to) the same URL from
    /// different organizations; exactly one wins each round, the others
    /// get the duplicate-URL error.
    #[test]
    fn racing_registrations_of_one_url_have_exactly_one_winner() {
        let store = Arc::new(Store::new(Clock::new(ClockMode::Virtual), Some(7), 0));
        // Bystanders make the check across organizations take a while.
        for k in 0..200 {
            store.tenant(&format!("sk_bystander_{k}"));
        }
        let keys: Vec<String> = (0..8).map(|k| format!("sk_racer_{k}")).collect();
        let owned: Vec<String> = keys
            .iter()
            .map(|k| {
                let own = NewWebhook {
                    endpoint: format!("http://127.0.0.1:9/own/{k}"),
                    description: String::new(),
                    events: vec![],
                };
                store.create_webhook(&store.tenant(k), own, String::new(), 0).expect("own webhook")
            })
            .collect();
        for round in 0..200 {
            let url = format!("http://127.0.0.1:9/race/{round}");
            let barrier = Arc::new(Barrier::new(keys.len()));
            let racers: Vec<_> = keys
                .iter()
                .zip(&owned)
                .enumerate()
                .map(|(i, (key, id))| {
                    let (store, barrier, url, key, id) =
                        (Arc::clone(&store), Arc::clone(&barrier), url.clone(), key.clone(), id.clone());
                    std::thread::spawn(move || {
                        let t = store.tenant(&key);
                        barrier.wait();
                        if i % 2 == 0 {
                            let new = NewWebhook { endpoint: url, description: String::new(), events: vec![] };
                            store.create_webhook(&t, new, String::new(), 0).map(|_| ())
                        } else {
                            let patch = WebhookPatch { endpoint: Some(url), ..WebhookPatch::default() };
                            store.patch_webhook(&t, &id, patch, 0)
                        }
                    })
                })
                .collect();
            let outcomes: Vec<_> = racers.into_iter().map(|r| r.join().expect("racer")).collect();
            let winners = outcomes.iter().filter(|o| o.is_ok()).count();
            assert_eq!(winners, 1, "round {round}: {outcomes:?}");
            assert!(
                outcomes.iter().filter_map(|o| o.as_ref().err()).all(|e| e.to_string() == DUPLICATE_URL),
                "{outcomes:?}"
            );
        }
    }
}
