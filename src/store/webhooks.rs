//! One organization's webhooks and subscriptions (BEHAVIOR R134–R143).
//!
//! Invariants: URLs are unique within the organization (R135; the
//! platform-wide check is `Store::create_webhook`, under one lock); every
//! subscription points at an existing webhook (a webhook with
//! subscriptions cannot be deleted, R139); `(webhook, agent, eventType)`
//! appears at most once. All methods are synchronous; callers hold the
//! tenant's `Mutex` only for the call.

use serde::{Deserialize, Serialize};

use crate::domain::ids::IdGen;
use crate::domain::webhook::{EventType, NewWebhook, WebhookPatch, DUPLICATE_URL, NOT_FOUND, STILL_ASSIGNED};
use crate::domain::{DomainError, Millis};

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// 24-hex id.
    pub id: String,
    /// Endpoint URL.
    pub url: String,
    /// Label, echoed in every event body (R147).
    pub description: String,
    /// The HMAC-SHA256 signing secret (`decryptedSecretKey`, R136, R145).
    pub secret: String,
    /// Custom headers sent with every delivery (R138), in stored order.
    pub headers: Vec<(String, String)>,
    /// 24-hex user id of the creator.
    pub created_by: String,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// Last change, epoch ms.
    pub updated_at: Millis,
}

/// One `(webhook, agent, eventType)` subscription (R140).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// 24-hex id.
    pub id: String,
    /// The webhook.
    pub webhook_id: String,
    /// The agent.
    pub agent_id: String,
    /// The event.
    pub event_type: EventType,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// Last change, epoch ms.
    pub updated_at: Millis,
}

/// Where one event of one agent goes: a snapshot of the webhook taken
/// when the event is routed.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Webhook id.
    pub webhook_id: String,
    /// Endpoint URL.
    pub url: String,
    /// Label.
    pub description: String,
    /// Signing secret.
    pub secret: String,
    /// Custom headers.
    pub headers: Vec<(String, String)>,
}

/// One organization's webhooks and subscriptions, in creation order.
/// Serializable as it is (the snapshot's `webhooks` book); reading one
/// back checks the invariants.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, try_from = "WebhookBookFile")]
pub struct WebhookBook {
    webhooks: Vec<Webhook>,
    #[serde(rename = "subscriptions")]
    subs: Vec<Subscription>,
}

/// [`WebhookBook`] as read from a snapshot, before its invariants are checked.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookBookFile {
    webhooks: Vec<Webhook>,
    subscriptions: Vec<Subscription>,
}

impl TryFrom<WebhookBookFile> for WebhookBook {
    type Error = String;

    /// Refuses repeated webhook ids or URLs (R135) and subscriptions of a
    /// webhook the book does not have (R139).
    fn try_from(f: WebhookBookFile) -> Result<Self, String> {
        let mut ids = std::collections::HashSet::new();
        for w in &f.webhooks {
            if !ids.insert(w.id.as_str()) || f.webhooks.iter().filter(|x| x.url == w.url).count() > 1 {
                return Err(format!("webhook {} ({}) appears twice", w.id, w.url));
            }
        }
        if let Some(s) = f.subscriptions.iter().find(|s| !ids.contains(s.webhook_id.as_str())) {
            return Err(format!("subscription {} names webhook {}, which is not in the book", s.id, s.webhook_id));
        }
        Ok(Self { webhooks: f.webhooks, subs: f.subscriptions })
    }
}

impl WebhookBook {
    /// Registers `new` (R134) with `secret`; creates its subscriptions.
    /// Returns the id. 400 [`DUPLICATE_URL`] if the URL is registered, or
    /// the limit message past [`MAX_WEBHOOKS`](crate::domain::webhook::MAX_WEBHOOKS).
    pub fn create(
        &mut self,
        new: NewWebhook,
        secret: String,
        created_by: &str,
        ids: &IdGen,
        now: Millis,
    ) -> Result<String, DomainError> {
        if self.webhooks.iter().any(|w| w.url == new.endpoint) {
            return Err(DomainError::invalid(DUPLICATE_URL));
        }
        crate::domain::webhook::check_webhook_count(self.webhooks.len())?;
        let id = ids.object_id(now);
        for (agent, ty) in new.events {
            self.subs.push(subscription(ids, &id, agent, ty, now));
        }
        self.webhooks.push(Webhook {
            id: id.clone(),
            url: new.endpoint,
            description: new.description,
            secret,
            headers: Vec::new(),
            created_by: created_by.to_string(),
            created_at: now,
            updated_at: now,
        });
        Ok(id)
    }

    /// Every webhook, in creation order.
    pub fn list(&self) -> &[Webhook] {
        &self.webhooks
    }

    /// One webhook; 404 [`NOT_FOUND`].
    pub fn get(&self, id: &str) -> Result<&Webhook, DomainError> {
        self.webhooks.iter().find(|w| w.id == id).ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))
    }

    /// Subscriptions of one webhook, in creation order.
    pub fn subscriptions_of_webhook(&self, id: &str) -> Vec<&Subscription> {
        self.subs.iter().filter(|s| s.webhook_id == id).collect()
    }

    /// Whether a webhook of this book is registered at `url`.
    pub fn has_url(&self, url: &str) -> bool {
        self.webhooks.iter().any(|w| w.url == url)
    }

    /// Subscriptions of one agent, in creation order (R140).
    pub fn subscriptions_of_agent(&self, agent_id: &str) -> Vec<&Subscription> {
        self.subs.iter().filter(|s| s.agent_id == agent_id).collect()
    }

    /// Applies a patch (R137, R138). 404 [`NOT_FOUND`]; 400
    /// [`DUPLICATE_URL`] when the new URL belongs to another webhook.
    pub fn patch(&mut self, id: &str, p: WebhookPatch, now: Millis) -> Result<(), DomainError> {
        if let Some(url) = &p.endpoint {
            if self.webhooks.iter().any(|w| &w.url == url && w.id != id) {
                self.get(id)?;
                return Err(DomainError::invalid(DUPLICATE_URL));
            }
        }
        let w = self.webhooks.iter_mut().find(|w| w.id == id).ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))?;
        if let Some(url) = p.endpoint {
            w.url = url;
        }
        if let Some(d) = p.description {
            w.description = d;
        }
        if let Some(h) = p.headers {
            w.headers = h;
        }
        w.updated_at = now;
        Ok(())
    }

    /// Deletes a webhook (R139): 404 [`NOT_FOUND`], or 400
    /// [`STILL_ASSIGNED`] while any subscription points at it.
    pub fn delete(&mut self, id: &str) -> Result<(), DomainError> {
        self.get(id)?;
        if self.subs.iter().any(|s| s.webhook_id == id) {
            return Err(DomainError::invalid(STILL_ASSIGNED));
        }
        self.webhooks.retain(|w| w.id != id);
        Ok(())
    }

    /// Replaces **all** of the agent's subscriptions, whichever webhook
    /// they belonged to, with `types` on `webhook_id` (R141). 404
    /// [`NOT_FOUND`] for an unknown webhook (nothing changes).
    pub fn replace_agent_subscriptions(
        &mut self,
        agent_id: &str,
        webhook_id: &str,
        types: &[EventType],
        ids: &IdGen,
        now: Millis,
    ) -> Result<(), DomainError> {
        self.get(webhook_id)?;
        self.subs.retain(|s| s.agent_id != agent_id);
        for ty in types {
            self.subs.push(subscription(ids, webhook_id, agent_id.to_string(), *ty, now));
        }
        Ok(())
    }

    /// Removes every subscription of the agent (R142); returns how many.
    pub fn delete_agent_subscriptions(&mut self, agent_id: &str) -> usize {
        let before = self.subs.len();
        self.subs.retain(|s| s.agent_id != agent_id);
        before - self.subs.len()
    }

    /// The webhooks subscribed to `event` of `agent_id`, each once, in
    /// webhook creation order.
    pub fn targets(&self, agent_id: &str, event: EventType) -> Vec<Target> {
        self.webhooks
            .iter()
            .filter(|w| {
                self.subs.iter().any(|s| s.webhook_id == w.id && s.agent_id == agent_id && s.event_type == event)
            })
            .map(|w| Target {
                webhook_id: w.id.clone(),
                url: w.url.clone(),
                description: w.description.clone(),
                secret: w.secret.clone(),
                headers: w.headers.clone(),
            })
            .collect()
    }
}

fn subscription(ids: &IdGen, webhook_id: &str, agent_id: String, ty: EventType, now: Millis) -> Subscription {
    Subscription {
        id: ids.object_id(now),
        webhook_id: webhook_id.to_string(),
        agent_id,
        event_type: ty,
        created_at: now,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType::{AnalyticsCompleted, PostConversation, PreConversation};

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";

    fn new(url: &str, events: Vec<(String, EventType)>) -> NewWebhook {
        NewWebhook { endpoint: url.into(), description: String::new(), events }
    }

    #[test]
    fn replace_removes_the_agents_subscriptions_on_every_webhook() {
        let (mut book, ids) = (WebhookBook::default(), IdGen::new(Some(1)));
        let w1 = book.create(new("http://a/1", vec![(A.into(), PreConversation)]), "s".into(), "u", &ids, 0);
        let w1 = w1.expect("w1");
        let w2 = book.create(new("http://a/2", vec![(B.into(), PreConversation)]), "s".into(), "u", &ids, 0);
        let w2 = w2.expect("w2");
        book.replace_agent_subscriptions(A, &w2, &[PostConversation, AnalyticsCompleted], &ids, 1).expect("replace");
        assert!(book.subscriptions_of_webhook(&w1).is_empty());
        assert_eq!(book.subscriptions_of_agent(A).len(), 2);
        assert_eq!(book.subscriptions_of_agent(B).len(), 1, "other agents keep theirs");
        assert_eq!(book.targets(A, PreConversation), vec![]);
        assert_eq!(book.targets(A, PostConversation)[0].webhook_id, w2);
    }

    #[test]
    fn an_organization_holds_at_most_max_webhooks() {
        let (mut book, ids) = (WebhookBook::default(), IdGen::new(Some(1)));
        for i in 0..crate::domain::webhook::MAX_WEBHOOKS {
            book.create(new(&format!("http://a/{i}"), vec![]), "s".into(), "u", &ids, 0).expect("within the bound");
        }
        let err = book.create(new("http://a/over", vec![]), "s".into(), "u", &ids, 0).expect_err("past the bound");
        assert_eq!(err.to_string(), "Webhook limit reached: an organization can have at most 1000 webhooks");
        assert_eq!(book.list().len(), 1000, "the refused webhook is not stored");
        assert!(book
            .create(new("http://a/0", vec![]), "s".into(), "u", &ids, 0)
            .is_err_and(|e| e.to_string() == DUPLICATE_URL));
    }

    #[test]
    fn delete_is_guarded_until_every_agent_is_unassigned() {
        let (mut book, ids) = (WebhookBook::default(), IdGen::new(Some(1)));
        let w = book.create(new("http://a/1", vec![(A.into(), PreConversation)]), "s".into(), "u", &ids, 0);
        let w = w.expect("created");
        assert_eq!(book.delete(&w), Err(DomainError::invalid(STILL_ASSIGNED)));
        assert_eq!(book.delete_agent_subscriptions(A), 1);
        assert_eq!(book.delete(&w), Ok(()));
        assert_eq!(book.delete(&w), Err(DomainError::NotFound(NOT_FOUND.into())));
    }

    #[test]
    fn urls_are_unique_on_create_and_patch() {
        let (mut book, ids) = (WebhookBook::default(), IdGen::new(Some(1)));
        let w = book.create(new("http://a/1", vec![]), "s".into(), "u", &ids, 0).expect("first");
        let dup = book.create(new("http://a/1", vec![]), "s".into(), "u", &ids, 0);
        assert_eq!(dup, Err(DomainError::invalid(DUPLICATE_URL)));
        let other = book.create(new("http://a/2", vec![]), "s".into(), "u", &ids, 0).expect("second");
        let p = WebhookPatch { endpoint: Some("http://a/1".into()), ..WebhookPatch::default() };
        assert_eq!(book.patch(&other, p.clone(), 1), Err(DomainError::invalid(DUPLICATE_URL)));
        assert_eq!(book.patch(&w, p, 1), Ok(()), "re-setting its own URL is fine");
    }
}
