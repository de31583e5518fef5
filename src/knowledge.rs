//! The knowledge-base engine: what needs more than one book or the clock.
//! It creates items and scraped URLs and runs their processing on the
//! clock (`pending → processing → completed | failed`, items; `pending →
//! scraping → indexed | failed`, URLs; `domain::knowledge_base::processing`),
//! issues and completes presigned uploads (with [`Storage`]), and extracts
//! sitemaps, all without network access: what a URL returns comes from
//! the organization's web registry (control API) or the server's web
//! fixtures (`fixtures/web.json`).
//!
//! Timers hold the organization weakly: a reset organization's pending
//! work just stops.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use serde_json::{json, Value};

use crate::domain::knowledge_base::processing::{self, Effect, Extract, Wake};
use crate::domain::knowledge_base::upload::{self, CompleteBody, PendingUpload, PresignBody};
use crate::domain::knowledge_base::web::{self, ScrapeBody, SitemapBody, WebPage};
use crate::domain::knowledge_base::{Item, ItemType, ScrapedUrl};
use crate::domain::time::iso;
use crate::domain::{DomainError, Millis};
use crate::storage::Storage;
use crate::store::knowledge::Row;
use crate::store::{Store, Tenant};

/// Web pages every organization sees behind its own registry, by URL.
pub type WebFixtures = HashMap<String, WebPage>;

/// A file of a multipart upload (`media`).
#[derive(Debug, Clone)]
pub struct Media {
    /// The part's file name.
    pub file_name: Option<String>,
    /// The part's `Content-Type`.
    pub content_type: Option<String>,
    /// The bytes.
    pub bytes: bytes::Bytes,
}

/// The engine (see the module doc).
#[derive(Debug)]
pub struct Knowledge {
    store: Arc<Store>,
    storage: Arc<Storage>,
    fixtures: Arc<WebFixtures>,
}

impl Knowledge {
    /// The engine over `store`, presigning with `storage`, with the
    /// server's web fixtures.
    pub fn new(store: Arc<Store>, storage: Arc<Storage>, fixtures: WebFixtures) -> Arc<Self> {
        Arc::new(Self { store, storage, fixtures: Arc::new(fixtures) })
    }

    fn now(&self) -> Millis {
        self.store.clock().now()
    }

    /// Schedules `effects` of `row` of `t` on the clock.
    fn schedule(self: &Arc<Self>, t: &Weak<Tenant>, row: &Row, effects: Vec<Effect>) {
        for Effect::WakeAt(at, wake) in effects {
            let (me, t, row) = (Arc::clone(self), t.clone(), row.clone());
            self.store.clock().schedule(at, move || me.wake(&t, &row, wake, at));
        }
    }

    /// Re-arms the timers of `t`'s items and scraped URLs still being
    /// processed (a restored snapshot); a timer already past fires at the
    /// clock's next tick.
    pub fn resume(self: &Arc<Self>, t: &Arc<Tenant>) {
        let weak = Arc::downgrade(t);
        for (row, at, wake) in t.knowledge().pending() {
            self.schedule(&weak, &row, vec![Effect::WakeAt(at, wake)]);
        }
    }

    fn wake(self: &Arc<Self>, t: &Weak<Tenant>, row: &Row, wake: Wake, at: Millis) {
        let Some(tenant) = t.upgrade() else { return };
        let effects = tenant.knowledge().wake(row, wake, &self.fixtures, at);
        self.schedule(t, row, effects);
    }

    /// A new file item of knowledge base `kb`, queued at `now`, whose
    /// processing will find `staged`.
    fn add_file(
        self: &Arc<Self>,
        t: &Arc<Tenant>,
        kb: &str,
        spec: &upload::FileSpec,
        key: String,
        source: &str,
        staged: Result<Extract, String>,
    ) -> Result<Item, DomainError> {
        let now = self.now();
        let start = processing::start(spec.file_size, now);
        let item = Item {
            id: self.store.ids().object_id(now),
            knowledge_base_id: kb.to_string(),
            item_type: ItemType::File,
            file_name: Some(spec.file_name.clone()),
            content_type: Some(spec.content_type.clone()),
            size: Some(spec.file_size),
            key: Some(key),
            title: Some(upload::title_of(&spec.file_name)),
            source: source.to_string(),
            work: start.next,
            created_at: now,
        };
        t.knowledge().add_item(item.clone(), Some(staged))?;
        self.schedule(&Arc::downgrade(t), &Row::Item(item.id.clone()), start.effects);
        Ok(item)
    }

    /// `POST /knowledgebase/{id}/items/upload-media`: a PDF (by type and
    /// extension, 400 `media: Required` / `Only PDF files are allowed`)
    /// becomes a `file` item of `kb` (400 `Knowledge base not found`),
    /// processed on the clock; bytes that are not a PDF fail processing.
    pub fn upload_media(self: &Arc<Self>, t: &Arc<Tenant>, kb: &str, media: Option<Media>) -> Result<(), DomainError> {
        let m = media.as_ref();
        upload::check_media(
            m.is_some(),
            m.and_then(|m| m.file_name.as_deref()),
            m.and_then(|m| m.content_type.as_deref()),
        )?;
        let m = media.ok_or_else(|| DomainError::invalid("media: Required"))?;
        t.knowledge().check_item_room(kb)?;
        let file_name = m.file_name.unwrap_or_default();
        let spec = upload::FileSpec {
            file_name: file_name.clone(),
            file_size: u64::try_from(m.bytes.len()).unwrap_or(u64::MAX),
            content_type: m.content_type.unwrap_or_default(),
            knowledge_base_id: kb.to_string(),
        };
        let key = upload::storage_key(t.org_id(), kb, &self.store.ids().uuid(), &file_name);
        let staged = if upload::is_pdf(&m.bytes) {
            Ok(Extract { title: None, text: upload::pdf_text(&m.bytes) })
        } else {
            Err(upload::NOT_A_PDF.to_string())
        };
        self.add_file(t, kb, &spec, key, "upload", staged).map(|_| ())
    }

    /// `POST /knowledgebase/get-presigned-url`: `{url, key}`, the URL on
    /// the mock itself (`base`), valid for `upload::URL_TTL_MS`. 400s of
    /// `upload::validate_presign`, `Knowledge base not found`, too many
    /// pending uploads.
    pub fn presign(&self, t: &Arc<Tenant>, body: &PresignBody, base: &str) -> Result<Value, DomainError> {
        let spec = upload::validate_presign(body)?;
        let now = self.now();
        let key = upload::storage_key(t.org_id(), &spec.knowledge_base_id, &self.store.ids().uuid(), &spec.file_name);
        let expires_at = now + upload::URL_TTL_MS;
        t.knowledge().presign(PendingUpload { key: key.clone(), spec, expires_at, received: None }, now)?;
        self.storage.register(&key, t);
        Ok(json!({"url": self.storage.presigned_url(base, &key, expires_at), "key": key}))
    }

    /// `POST /knowledgebase/compelete-file-upload`: the uploaded file
    /// becomes a `file` item (`metadata.source: presigned`), processed on
    /// the clock; returns the item. 400s of `upload::validate_complete`.
    pub fn complete(self: &Arc<Self>, t: &Arc<Tenant>, body: &CompleteBody) -> Result<Value, DomainError> {
        let (spec, key, received) = t.knowledge().complete(body, self.now())?;
        let staged = if received.is_pdf {
            Ok(Extract { title: None, text: received.text })
        } else {
            Err(upload::NOT_A_PDF.to_string())
        };
        let kb = spec.knowledge_base_id.clone();
        Ok(self.add_file(t, &kb, &spec, key, "presigned", staged)?.to_json())
    }

    /// `POST /knowledgebase/{id}/scrape-urls`: each new URL becomes a row
    /// scraped on the clock; returns `web::scrape_ack`. 400s of
    /// `web::validate_scrape` and the URL limit; 404 `Knowledge base not
    /// found`.
    pub fn scrape(self: &Arc<Self>, t: &Arc<Tenant>, kb: &str, body: &ScrapeBody) -> Result<Value, DomainError> {
        let urls = web::validate_scrape(body)?;
        let now = self.now();
        let mut timers = Vec::new();
        let (ids, skipped) = t.knowledge().add_urls(kb, urls, |url| {
            let start = processing::start(0, now);
            let id = self.store.ids().object_id(now);
            timers.push((id.clone(), start.effects));
            ScrapedUrl { id, knowledge_base_id: kb.to_string(), url, work: start.next, created_at: now }
        })?;
        for (id, effects) in timers {
            self.schedule(&Arc::downgrade(t), &Row::Url(id), effects);
        }
        Ok(web::scrape_ack(ids.len(), skipped))
    }

    /// Control API: a `text` item of `kb` (`metadata.source: control`),
    /// `completed` at once with `content`. 400 `Knowledge base not found`
    /// or past the item limit. Returns the item.
    pub fn add_text(&self, t: &Tenant, kb: &str, title: Option<String>, content: String) -> Result<Value, DomainError> {
        let now = self.now();
        let item = Item {
            id: self.store.ids().object_id(now),
            knowledge_base_id: kb.to_string(),
            item_type: ItemType::Text,
            file_name: None,
            content_type: Some("text/plain".into()),
            size: Some(u64::try_from(content.len()).unwrap_or(u64::MAX)),
            key: None,
            title: title.clone(),
            source: "control".into(),
            work: processing::done_with(Extract { title, text: content }, now),
            created_at: now,
        };
        let out = item.to_json();
        t.knowledge().add_item(item, None)?;
        Ok(out)
    }

    /// `POST /knowledgebase/get-sitemap-urls`: `{urls, extractedAt}`.
    /// 400s of `web::validate_sitemap`; 404 `Knowledge base not found`;
    /// the inner `Err` is the 422's message (`web::extract_sitemap`).
    /// Writes nothing.
    pub fn sitemap(&self, t: &Tenant, body: &SitemapBody) -> Result<Result<Value, &'static str>, DomainError> {
        let (site, kb) = web::validate_sitemap(body)?;
        let book = t.knowledge();
        book.get(&kb)?;
        let urls = web::extract_sitemap(&site, |u| book.page(u, &self.fixtures));
        Ok(urls.map(|urls| json!({"urls": urls, "extractedAt": iso(self.now())})))
    }
}
