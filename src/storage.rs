//! The mock's own object storage: what its presigned URLs point at
//! (`PUT {base}/_storage/{key}`) and what its CDN serves (`GET
//! {base}/_cdn/{key}`), standing in for the platform's S3 bucket and CDN.
//!
//! Two kinds of object use it, told apart by the key's first segment:
//! - `knowledgebase/<org>/<kb>/<uuid>/<file>`: a knowledge-base file
//!   (`POST /knowledgebase/get-presigned-url`); the PUT's bytes are read
//!   for their PDF text and dropped, the upload then waits for
//!   `compelete-file-upload`;
//! - `agent-avatars/<agentId>/<uuid>-<file>`: a widget avatar (`POST
//!   /agent/{id}/avatar/presigned-url`); the bytes are kept and served by
//!   the CDN route.
//!
//! The URLs carry no API key, so a server-wide index maps each presigned
//! key to its organization (weakly: a reset organization is not kept
//! alive). Each PUT is checked like S3 checks a presigned URL
//! (`domain::knowledge_base::upload::check_put`): signature over the key
//! and expiry with the server's secret, expiry, the signed `Content-Type`,
//! the size.

use std::sync::{Arc, Weak};

use dashmap::DashMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::knowledge_base::upload::{self, check_put, is_pdf, pdf_text, Received, Signed, StorageError};
use crate::domain::widget;
use crate::domain::Millis;
use crate::store::Tenant;

/// Key prefix of knowledge-base files.
pub const KNOWLEDGE_PREFIX: &str = "knowledgebase/";
/// Key prefix of widget avatars.
pub const AVATAR_PREFIX: &str = "agent-avatars/";
/// Index entries above which dead ones (reset organizations, finished
/// uploads) are swept on the next registration.
const SWEEP_AT: usize = 4096;

/// What a storage `PUT` carried.
#[derive(Debug)]
pub struct Put<'a> {
    /// `X-Amz-Signature` of the URL.
    pub signature: &'a str,
    /// `X-Amz-Expires` of the URL (epoch ms).
    pub expires_at: Millis,
    /// The request's `Content-Type`.
    pub content_type: &'a str,
    /// The body.
    pub bytes: bytes::Bytes,
}

/// The storage: the signing secret and the key → organization index.
#[derive(Debug)]
pub struct Storage {
    secret: [u8; 32],
    owners: DashMap<String, Weak<Tenant>>,
}

const UNKNOWN: StorageError = StorageError {
    status: 403,
    code: "SignatureDoesNotMatch",
    message: "The request signature we calculated does not match the signature you provided.",
};

impl Storage {
    /// A storage whose secret derives from `seed` (stable URLs under
    /// `--seed`), else is random.
    pub fn new(seed: Option<u64>) -> Self {
        let secret = match seed {
            Some(s) => Sha256::digest(format!("atoms-mock storage {s}").as_bytes()).into(),
            None => {
                let mut b = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut b);
                b
            }
        };
        Self { secret, owners: DashMap::new() }
    }

    /// The presigned `PUT` URL of `key`, valid until `expires_at`.
    pub fn presigned_url(&self, base: &str, key: &str, expires_at: Millis) -> String {
        upload::presigned_url(base, &self.secret, key, expires_at)
    }

    /// Remembers that `key` belongs to `t` (a presigned object).
    pub fn register(&self, key: &str, t: &Arc<Tenant>) {
        if self.owners.len() >= SWEEP_AT {
            self.owners.retain(|k, w| w.upgrade().is_some_and(|t| holds(&t, k)));
        }
        self.owners.insert(key.to_string(), Arc::downgrade(t));
    }

    fn owner(&self, key: &str) -> Option<Arc<Tenant>> {
        self.owners.get(key).and_then(|w| w.upgrade())
    }

    /// A presigned `PUT` of `key` at `now` (see the module doc): the
    /// S3-style refusal, or the bytes are taken.
    pub fn put(&self, key: &str, put: &Put<'_>, now: Millis) -> Result<(), StorageError> {
        let t = self.owner(key).ok_or(UNKNOWN)?;
        let len = u64::try_from(put.bytes.len()).unwrap_or(u64::MAX);
        let check = |signed: Option<Signed<'_>>| {
            check_put(signed, &self.secret, put.signature, put.expires_at, put.content_type, len, now)
        };
        if key.starts_with(KNOWLEDGE_PREFIX) {
            check(t.knowledge().upload(key).map(upload::PendingUpload::signed))?;
            // Read outside the lock: the text of up to 25 MiB.
            let received = Received { len, is_pdf: is_pdf(&put.bytes), text: pdf_text(&put.bytes) };
            t.knowledge().receive(key, received);
            return Ok(());
        }
        let mut book = t.widgets();
        let pending = book.pending(key).cloned();
        check(pending.as_ref().map(|p| Signed {
            key,
            expires_at: p.expires_at,
            content_type: &p.content_type,
            max_bytes: widget::MAX_AVATAR_BYTES as u64,
        }))?;
        book.store_object(key, put.content_type, put.bytes.to_vec(), now);
        Ok(())
    }

    /// A stored avatar: its `Content-Type` and bytes (the CDN's `GET`).
    pub fn cdn(&self, key: &str) -> Option<(String, Vec<u8>)> {
        let t = self.owner(key)?;
        let book = t.widgets();
        book.object(key).map(|a| (a.content_type.clone(), a.bytes.clone()))
    }
}

/// Whether `t` still has a use for `key`: a pending upload or an object.
fn holds(t: &Tenant, key: &str) -> bool {
    if key.starts_with(KNOWLEDGE_PREFIX) {
        return t.knowledge().upload(key).is_some();
    }
    let book = t.widgets();
    book.pending(key).is_some() || book.object(key).is_some()
}

impl Storage {
    /// `POST /agent/{id}/avatar/presigned-url`: registers a presigned
    /// avatar upload for agent `agent_id` of `t` (404 `Agent not found`;
    /// 400 when too many wait) and returns `{presignedUrl, cdnUrl, key}`,
    /// the URL valid for `widget::AVATAR_URL_TTL_MS` on the mock itself
    /// (`base`).
    pub fn presign_avatar(
        &self,
        store: &crate::store::Store,
        t: &Arc<Tenant>,
        agent_id: &str,
        up: &widget::AvatarUpload,
        base: &str,
    ) -> Result<serde_json::Value, crate::domain::DomainError> {
        let now = store.clock().now();
        let key = widget::avatar_key(agent_id, &store.ids().uuid(), &up.file_name);
        let expires_at = now + widget::AVATAR_URL_TTL_MS;
        let pending = crate::store::widgets::PendingAvatar {
            agent_id: agent_id.to_string(),
            content_type: up.content_type.clone(),
            expires_at,
        };
        store.presign_avatar(t, &key, pending)?;
        self.register(&key, t);
        let base = base.trim_end_matches('/');
        Ok(serde_json::json!({
            "presignedUrl": self.presigned_url(base, &key, expires_at),
            "cdnUrl": format!("{base}/_cdn/{key}"),
            "key": key,
        }))
    }
}
