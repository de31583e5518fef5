//! The widget book: one organization's agent widget configs (what `PATCH
//! /agent/{id}/widget-config` stored, agent-level, `crate::domain::widget`)
//! and their avatar images (presigned uploads and the stored objects the
//! mock's CDN serves).
//!
//! A widget config reads as the agent's active config's `widgetConfig`
//! (the platform's defaults for a new agent) overlaid with the fields
//! patched through these routes. Memory: avatar objects at most
//! [`MAX_AVATAR_BYTES`] in total (oldest dropped first), at most
//! [`MAX_PENDING_AVATARS`] presigned uploads waiting.
//!
//! Lock order: taken after the agents (every route checks the agent
//! first, in one `Store` method); nothing is locked while it is held.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Store, Tenant};
use crate::domain::versioning::AgentRecord;
use crate::domain::widget;
use crate::domain::{DomainError, Millis};

/// Most avatar bytes an organization stores (8 MiB; the mock's bound).
pub const MAX_AVATAR_BYTES: usize = 8 << 20;
/// Most avatar uploads waiting for their bytes per organization.
pub const MAX_PENDING_AVATARS: usize = 20;

/// A presigned avatar upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAvatar {
    /// The agent.
    pub agent_id: String,
    /// The `Content-Type` the PUT must send.
    pub content_type: String,
    /// Expiry, epoch ms.
    pub expires_at: Millis,
}

/// A stored avatar image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Avatar {
    /// Its `Content-Type`.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Stored at, epoch ms.
    pub stored_at: Millis,
}

/// One organization's widget configs and avatars.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WidgetBook {
    configs: HashMap<String, Map<String, Value>>,
    pending: HashMap<String, PendingAvatar>,
    objects: BTreeMap<String, Avatar>,
    bytes: usize,
}

impl WidgetBook {
    /// Drops agent `agent_id`'s widget config (a forgotten agent, AR3).
    pub fn forget_agent(&mut self, agent_id: &str) {
        self.configs.remove(agent_id);
    }

    /// The presigned upload of storage `key`.
    pub fn pending(&self, key: &str) -> Option<&PendingAvatar> {
        self.pending.get(key)
    }

    /// Stores the bytes a checked PUT delivered for `key`, replacing an
    /// earlier PUT; the oldest objects go when the total would pass
    /// [`MAX_AVATAR_BYTES`].
    pub fn store_object(&mut self, key: &str, content_type: &str, bytes: Vec<u8>, now: Millis) {
        self.drop_object(key);
        while self.bytes + bytes.len() > MAX_AVATAR_BYTES {
            let Some(oldest) = self.objects.iter().min_by_key(|(_, a)| a.stored_at).map(|(k, _)| k.clone()) else {
                break;
            };
            self.drop_object(&oldest);
        }
        self.bytes += bytes.len();
        self.objects.insert(key.to_string(), Avatar { content_type: content_type.to_string(), bytes, stored_at: now });
    }

    fn drop_object(&mut self, key: &str) {
        if let Some(a) = self.objects.remove(key) {
            self.bytes -= a.bytes.len();
        }
    }

    /// A stored object (the CDN's `GET`).
    pub fn object(&self, key: &str) -> Option<&Avatar> {
        self.objects.get(key)
    }
}

impl Tenant {
    /// The organization's widget configs and avatars, locked (after the
    /// agents in the lock order).
    pub fn widgets(&self) -> parking_lot::MutexGuard<'_, WidgetBook> {
        self.widgets.lock()
    }
}

/// The agent's widget config: the active config's `widgetConfig`
/// overlaid with `stored`.
fn effective(rec: &AgentRecord, stored: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut out =
        rec.active().and_then(|v| v.config.get("widgetConfig")).and_then(Value::as_object).cloned().unwrap_or_default();
    out.extend(stored.into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())));
    out
}

impl Store {
    /// `GET /agent/{id}/widget-config`'s `data` (`widget::render`): 404
    /// `Agent not found`.
    pub fn widget_config(&self, t: &Tenant, agent_id: &str) -> Result<Value, DomainError> {
        let agents = t.agents.read();
        let rec = agents.get(agent_id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        let config = effective(rec, t.widgets().configs.get(agent_id));
        Ok(widget::render(agent_id, &config))
    }

    /// Applies a validated widget patch (`widget::merge`) to agent
    /// `agent_id` and returns the config after it. An avatar it replaces
    /// is deleted from the mock's CDN, as the platform deletes it from S3.
    /// 404 `Agent not found`.
    pub fn patch_widget(
        &self,
        t: &Tenant,
        agent_id: &str,
        patch: &Map<String, Value>,
    ) -> Result<Map<String, Value>, DomainError> {
        let agents = t.agents.read();
        let rec = agents.get(agent_id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        let mut book = t.widgets();
        let current = book.configs.get(agent_id).cloned().unwrap_or_default();
        let (next, replaced) = widget::merge(&current, patch);
        if let Some(key) = replaced.as_deref().and_then(|u| u.split_once("/_cdn/")).map(|(_, k)| k.to_string()) {
            book.drop_object(&key);
        }
        let out = effective(rec, Some(&next));
        book.configs.insert(agent_id.to_string(), next);
        Ok(out)
    }

    /// Registers a presigned avatar upload of storage `key` for agent
    /// `agent_id`: 404 `Agent not found`; expired uploads are forgotten
    /// first, and 400 when [`MAX_PENDING_AVATARS`] still wait.
    pub fn presign_avatar(&self, t: &Tenant, key: &str, p: PendingAvatar) -> Result<(), DomainError> {
        let now = self.clock.now();
        let agents = t.agents.read();
        agents.get(&p.agent_id).ok_or_else(|| DomainError::NotFound("Agent not found".into()))?;
        let mut book = t.widgets();
        book.pending.retain(|_, a| now <= a.expires_at);
        if book.pending.len() >= MAX_PENDING_AVATARS {
            return Err(DomainError::invalid("Too many avatar uploads in progress; wait for one to expire"));
        }
        book.pending.insert(key.to_string(), p);
        Ok(())
    }
}
