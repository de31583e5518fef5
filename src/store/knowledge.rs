//! The knowledge-base book: one organization's knowledge bases, their
//! items and scraped URLs with their processing state, the presigned
//! uploads waiting for their bytes, and the web pages the control API
//! says URLs return (`crate::domain::knowledge_base`).
//!
//! Rows are kept in id order, which is creation order (ids start with
//! their creation second and end with a counter). Processing is the pure
//! `processing::apply`: the book applies commands and hands the effects
//! (timers) back; the knowledge engine (`crate::knowledge`) schedules them
//! on the clock and delivers the wakes here.
//!
//! Memory: at most [`MAX_KNOWLEDGE_BASES`] knowledge bases, each with at
//! most `MAX_ITEMS` items and `MAX_SCRAPED_URLS` URLs; extracted text at
//! most [`MAX_ORG_TEXT_BYTES`] for the whole organization (processing that
//! would pass it fails); uploaded bytes are never kept, only their text;
//! at most [`MAX_PENDING_UPLOADS`] presigned uploads; the web registry at
//! most [`MAX_WEB_PAGES`] pages and [`MAX_WEB_BYTES`] bytes.
//!
//! Lock order: taken after the agents (deleting a knowledge base checks
//! the agents' configs first, [`Store::delete_knowledge_base`]) and after
//! the call book (a call that answers from the knowledge base reads its
//! sources as it connects); nothing is locked while it is held.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Store, Tenant};
use crate::domain::knowledge_base::matcher::{KbSource, Source};
use crate::domain::knowledge_base::processing::{self, apply, Command, Effect, Stage, Wake};
use crate::domain::knowledge_base::upload::{self, PendingUpload, Received};
use crate::domain::knowledge_base::web::{self, WebPage};
use crate::domain::knowledge_base::{
    self as kb, check_capacity, Extract, Item, KnowledgeBase, Naming, ScrapedUrl, MAX_KNOWLEDGE_BASES,
    MAX_ORG_TEXT_BYTES, MAX_PENDING_UPLOADS, NOT_FOUND, STORAGE_FULL, TOO_MANY_KNOWLEDGE_BASES, TOO_MANY_UPLOADS,
};
use crate::domain::{DomainError, Millis};

/// Most pages in an organization's web registry (the mock's bound).
pub const MAX_WEB_PAGES: usize = 1000;
/// Most bytes of page bodies in an organization's web registry (16 MiB).
pub const MAX_WEB_BYTES: usize = 16 << 20;

/// A processed row: an item or a scraped URL, by id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Row {
    /// A knowledge-base item.
    Item(String),
    /// A scraped URL.
    Url(String),
}

/// One organization's knowledge bases (see the module doc).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KnowledgeBook {
    kbs: BTreeMap<String, KnowledgeBase>,
    items: BTreeMap<String, Item>,
    urls: BTreeMap<String, ScrapedUrl>,
    /// What a file item's processing will find: its PDF text, or why it
    /// is not one (set at upload, replaced by the control API).
    staged: HashMap<String, Result<Extract, String>>,
    uploads: HashMap<String, PendingUpload>,
    web: HashMap<String, WebPage>,
    web_bytes: usize,
    text_bytes: usize,
}

fn not_found() -> DomainError {
    DomainError::NotFound(NOT_FOUND.into())
}

/// `Knowledge base not found` as a 400, where the route documents no 404.
fn missing() -> DomainError {
    DomainError::invalid(NOT_FOUND)
}

impl KnowledgeBook {
    /// Adds a knowledge base. 400 [`TOO_MANY_KNOWLEDGE_BASES`] past
    /// [`MAX_KNOWLEDGE_BASES`].
    pub fn create(&mut self, k: KnowledgeBase) -> Result<(), DomainError> {
        if self.kbs.len() >= MAX_KNOWLEDGE_BASES {
            return Err(DomainError::invalid(TOO_MANY_KNOWLEDGE_BASES));
        }
        self.kbs.insert(k.id.clone(), k);
        Ok(())
    }

    /// Every knowledge base, oldest first.
    pub fn list(&self) -> impl Iterator<Item = &KnowledgeBase> {
        self.kbs.values()
    }

    /// Number of knowledge bases.
    pub fn len(&self) -> usize {
        self.kbs.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.kbs.is_empty()
    }

    /// One knowledge base; 404 `Knowledge base not found`.
    pub fn get(&self, id: &str) -> Result<&KnowledgeBase, DomainError> {
        self.kbs.get(id).ok_or_else(not_found)
    }

    /// Renames one (`POST /knowledgebase/{id}`); 404 when unknown.
    pub fn rename(&mut self, id: &str, naming: Naming) -> Result<(), DomainError> {
        let k = self.kbs.get_mut(id).ok_or_else(not_found)?;
        *k = k.renamed(naming);
        Ok(())
    }

    /// Removes a knowledge base with its items, URLs and pending uploads.
    fn remove(&mut self, id: &str) {
        self.kbs.remove(id);
        let items: Vec<String> =
            self.items.values().filter(|i| i.knowledge_base_id == id).map(|i| i.id.clone()).collect();
        for i in items {
            self.drop_item(&i);
        }
        let urls: Vec<String> =
            self.urls.values().filter(|u| u.knowledge_base_id == id).map(|u| u.id.clone()).collect();
        for u in urls {
            self.drop_url(&u);
        }
        self.uploads.retain(|_, p| p.spec.knowledge_base_id != id);
    }

    fn drop_item(&mut self, id: &str) -> Option<Item> {
        self.staged.remove(id);
        let item = self.items.remove(id)?;
        self.text_bytes = self.text_bytes.saturating_sub(item.work.text.len());
        Some(item)
    }

    fn drop_url(&mut self, id: &str) -> Option<ScrapedUrl> {
        let url = self.urls.remove(id)?;
        self.text_bytes = self.text_bytes.saturating_sub(url.work.text.len());
        Some(url)
    }

    /// The items of knowledge base `kb`, oldest first; 400 `Knowledge base
    /// not found` (the route documents no 404).
    pub fn items_of(&self, kb: &str) -> Result<Vec<&Item>, DomainError> {
        self.kbs.get(kb).ok_or_else(missing)?;
        Ok(self.items.values().filter(|i| i.knowledge_base_id == kb).collect())
    }

    /// The scraped URLs of `kb`, oldest first; none for an unknown one
    /// (the route documents only 200).
    pub fn urls_of(&self, kb: &str) -> Vec<&ScrapedUrl> {
        self.urls.values().filter(|u| u.knowledge_base_id == kb).collect()
    }

    fn counts(&self, kb: &str) -> (usize, usize) {
        let items = self.items.values().filter(|i| i.knowledge_base_id == kb).count();
        (items, self.urls.values().filter(|u| u.knowledge_base_id == kb).count())
    }

    /// Checks `kb` exists (400 `Knowledge base not found`) and has room
    /// for one more item.
    pub fn check_item_room(&self, kb: &str) -> Result<(), DomainError> {
        self.kbs.get(kb).ok_or_else(missing)?;
        let (items, urls) = self.counts(kb);
        check_capacity(items, urls, 1, 0)
    }

    /// Adds an item with what its processing will find: 400 as
    /// [`KnowledgeBook::check_item_room`], or [`STORAGE_FULL`] when its
    /// text would pass [`MAX_ORG_TEXT_BYTES`].
    pub fn add_item(&mut self, item: Item, staged: Option<Result<Extract, String>>) -> Result<(), DomainError> {
        self.check_item_room(&item.knowledge_base_id)?;
        if self.text_bytes + item.work.text.len() > MAX_ORG_TEXT_BYTES {
            return Err(DomainError::invalid(STORAGE_FULL));
        }
        if let Some(s) = staged {
            self.staged.insert(item.id.clone(), s);
        }
        self.text_bytes += item.work.text.len();
        self.items.insert(item.id.clone(), item);
        Ok(())
    }

    /// Deletes an item; 400 `Knowledge base not found` / `Knowledge base
    /// item not found` (no 404 documented).
    pub fn delete_item(&mut self, kb: &str, item: &str) -> Result<(), DomainError> {
        self.kbs.get(kb).ok_or_else(missing)?;
        if self.items.get(item).is_none_or(|i| i.knowledge_base_id != kb) {
            return Err(DomainError::invalid(kb::ITEM_NOT_FOUND));
        }
        self.drop_item(item);
        Ok(())
    }

    /// Control API: the text a file item's processing finds (a PDF the
    /// mock cannot read, say). An item that already finished becomes
    /// `completed` with it at `now`; a text item's content is replaced.
    /// 404 `Knowledge base item not found` when unknown.
    pub fn set_item_text(&mut self, item: &str, text: String, now: Millis) -> Result<&Item, DomainError> {
        let it = self.items.get(item).ok_or_else(|| DomainError::NotFound(kb::ITEM_NOT_FOUND.into()))?;
        if !it.work.stage.is_terminal() {
            self.staged.insert(item.to_string(), Ok(Extract { title: None, text }));
            return self.items.get(item).ok_or_else(|| DomainError::NotFound(kb::ITEM_NOT_FOUND.into()));
        }
        let title = it.work.title.clone();
        let old = it.work.text.len();
        let work = processing::done_with(Extract { title, text }, now.max(it.work.updated_at));
        self.text_bytes = self.text_bytes.saturating_sub(old) + work.text.len();
        let it = self.items.get_mut(item).ok_or_else(|| DomainError::NotFound(kb::ITEM_NOT_FOUND.into()))?;
        it.work = work;
        Ok(it)
    }

    /// Adds scraped-URL rows for validated `urls` of `kb` (repeats of rows
    /// not `failed` skipped, `web::new_urls`); `make` builds each row.
    /// Returns the new rows' ids and the number skipped. 404 `Knowledge
    /// base not found`; 400 past the URL limit.
    pub fn add_urls(
        &mut self,
        kb: &str,
        urls: Vec<String>,
        mut make: impl FnMut(String) -> ScrapedUrl,
    ) -> Result<(Vec<String>, usize), DomainError> {
        self.kbs.get(kb).ok_or_else(not_found)?;
        let existing: Vec<(&str, Stage)> =
            self.urls_of(kb).into_iter().map(|u| (u.url.as_str(), u.work.stage)).collect();
        let (add, skipped) = web::new_urls(urls, &existing);
        let (items, count) = self.counts(kb);
        check_capacity(items, count, 0, add.len())?;
        let ids = add
            .into_iter()
            .map(|u| {
                let row = make(u);
                let id = row.id.clone();
                self.urls.insert(id.clone(), row);
                id
            })
            .collect();
        Ok((ids, skipped))
    }

    /// Deletes a scraped URL; 400 `Scraped URL not found` (also for
    /// another knowledge base's row).
    pub fn delete_url(&mut self, kb: &str, id: &str) -> Result<(), DomainError> {
        if self.urls.get(id).is_none_or(|u| u.knowledge_base_id != kb) {
            return Err(DomainError::invalid(kb::SCRAPED_URL_NOT_FOUND));
        }
        self.drop_url(id);
        Ok(())
    }

    /// Registers a presigned upload (its knowledge base must exist: 400
    /// `Knowledge base not found`). Expired uploads without bytes are
    /// forgotten first; 400 [`TOO_MANY_UPLOADS`] past
    /// [`MAX_PENDING_UPLOADS`].
    pub fn presign(&mut self, p: PendingUpload, now: Millis) -> Result<(), DomainError> {
        self.kbs.get(&p.spec.knowledge_base_id).ok_or_else(missing)?;
        self.uploads.retain(|_, u| u.received.is_some() || now <= u.expires_at);
        if self.uploads.len() >= MAX_PENDING_UPLOADS {
            return Err(DomainError::invalid(TOO_MANY_UPLOADS));
        }
        self.uploads.insert(p.key.clone(), p);
        Ok(())
    }

    /// The pending upload of storage `key`.
    pub fn upload(&self, key: &str) -> Option<&PendingUpload> {
        self.uploads.get(key)
    }

    /// Records the bytes a PUT delivered for `key` (checked already).
    pub fn receive(&mut self, key: &str, r: Received) {
        if let Some(p) = self.uploads.get_mut(key) {
            p.received = Some(r);
        }
    }

    /// Completes a presigned upload (`upload::validate_complete`; its
    /// knowledge base must still exist and have room): the pending upload
    /// is consumed and the received bytes returned with the checked spec.
    pub fn complete(
        &mut self,
        body: &upload::CompleteBody,
        now: Millis,
    ) -> Result<(upload::FileSpec, String, Received), DomainError> {
        let key = body.key.clone().unwrap_or_default();
        let spec = upload::validate_complete(body, self.uploads.get(&key), now)?;
        self.check_item_room(&spec.knowledge_base_id)?;
        let p = self.uploads.remove(&key).ok_or_else(|| DomainError::invalid(upload::UNKNOWN_KEY))?;
        let received = p.received.ok_or_else(|| DomainError::invalid(upload::NOT_UPLOADED))?;
        Ok((spec, key, received))
    }

    /// Every item and scraped URL still waiting for a timer, with when
    /// and what it waits for ([`processing::pending_wake`]): what a
    /// restored snapshot re-arms.
    pub fn pending(&self) -> Vec<(Row, Millis, Wake)> {
        let items = self.items.iter().map(|(id, i)| (Row::Item(id.clone()), &i.work));
        let urls = self.urls.iter().map(|(id, u)| (Row::Url(id.clone()), &u.work));
        items.chain(urls).filter_map(|(row, w)| processing::pending_wake(w).map(|(at, wake)| (row, at, wake))).collect()
    }

    /// Applies a processing wake to `row` at `now` and returns the timers
    /// to schedule. A `Finish` resolves the content: a file item's staged
    /// text, a URL's page (the registry first, then `fixtures`). A deleted
    /// row, or a wake its stage does not expect, changes nothing.
    pub fn wake(&mut self, row: &Row, wake: Wake, fixtures: &HashMap<String, WebPage>, now: Millis) -> Vec<Effect> {
        let cmd = match wake {
            Wake::Begin => Command::Begin,
            Wake::Finish => Command::Finish(self.content(row, fixtures)),
        };
        let Some(work) = self.work(row).cloned() else { return Vec::new() };
        let Ok(mut out) = apply(&work, &cmd, now) else { return Vec::new() };
        let grew = out.next.text.len().saturating_sub(work.text.len());
        if grew > 0 && self.text_bytes + grew > MAX_ORG_TEXT_BYTES {
            out = apply(&work, &Command::Finish(Err(STORAGE_FULL.into())), now).unwrap_or(out);
        }
        self.text_bytes += out.next.text.len().saturating_sub(work.text.len());
        if out.next.stage.is_terminal() {
            if let Row::Item(id) = row {
                self.staged.remove(id);
            }
        }
        match row {
            Row::Item(id) => self.items.get_mut(id).map(|i| i.work = out.next),
            Row::Url(id) => self.urls.get_mut(id).map(|u| u.work = out.next),
        };
        out.effects
    }

    fn work(&self, row: &Row) -> Option<&processing::Work> {
        match row {
            Row::Item(id) => self.items.get(id).map(|i| &i.work),
            Row::Url(id) => self.urls.get(id).map(|u| &u.work),
        }
    }

    fn content(&self, row: &Row, fixtures: &HashMap<String, WebPage>) -> Result<Extract, String> {
        match row {
            Row::Item(id) => self.staged.get(id).cloned().unwrap_or(Err(upload::NOT_A_PDF.into())),
            Row::Url(id) => {
                let url = self.urls.get(id).map(|u| u.url.as_str()).unwrap_or_default();
                web::scrape(self.page(url, fixtures))
            }
        }
    }

    /// What `url` returns: the organization's registry, then `fixtures`.
    pub fn page<'a>(&'a self, url: &str, fixtures: &'a HashMap<String, WebPage>) -> Option<&'a WebPage> {
        self.web.get(url).or_else(|| fixtures.get(url))
    }

    /// Control API: sets what `url` returns. 400 past [`MAX_WEB_PAGES`]
    /// or [`MAX_WEB_BYTES`].
    pub fn put_page(&mut self, url: String, page: WebPage) -> Result<(), DomainError> {
        let old = self.web.get(&url).map_or(0, |p| p.body.len());
        if old == 0 && !self.web.contains_key(&url) && self.web.len() >= MAX_WEB_PAGES {
            return Err(DomainError::invalid(format!("The web registry holds at most {MAX_WEB_PAGES} pages")));
        }
        let bytes = self.web_bytes - old + page.body.len();
        if bytes > MAX_WEB_BYTES {
            return Err(DomainError::invalid(format!("The web registry holds at most {MAX_WEB_BYTES} bytes of pages")));
        }
        self.web_bytes = bytes;
        self.web.insert(url, page);
        Ok(())
    }

    /// Control API: forgets what `url` returns; whether it was set.
    pub fn delete_page(&mut self, url: &str) -> bool {
        let gone = self.web.remove(url);
        self.web_bytes -= gone.as_ref().map_or(0, |p| p.body.len());
        gone.is_some()
    }

    /// Control API: the registry, by URL.
    pub fn pages(&self) -> BTreeMap<&str, &WebPage> {
        self.web.iter().map(|(u, p)| (u.as_str(), p)).collect()
    }

    /// The searchable sources of the knowledge bases `config` attaches
    /// (`kb::references`): `completed` items and `indexed` URLs, oldest
    /// first. Unknown ids contribute nothing.
    pub fn sources<'a>(&'a self, config: &'a Map<String, Value>) -> Vec<KbSource<'a>> {
        let refs = kb::references(config);
        let done = |kb_id: &str, stage: Stage| stage == Stage::Done && refs.contains(&kb_id);
        let items = self.items.values().filter(|i| done(&i.knowledge_base_id, i.work.stage)).map(|i| KbSource {
            knowledge_base_id: &i.knowledge_base_id,
            source: Source { id: &i.id, text: &i.work.text },
        });
        let urls = self.urls.values().filter(|u| done(&u.knowledge_base_id, u.work.stage)).map(|u| KbSource {
            knowledge_base_id: &u.knowledge_base_id,
            source: Source { id: &u.id, text: &u.work.text },
        });
        items.chain(urls).collect()
    }
}

impl Tenant {
    /// The organization's knowledge bases, locked (after agents and calls
    /// in the lock order).
    pub fn knowledge(&self) -> parking_lot::MutexGuard<'_, KnowledgeBook> {
        self.knowledge.lock()
    }
}

impl Store {
    /// Deletes knowledge base `id` (OAS DELETE /knowledgebase/{id}): 404
    /// `Knowledge base not found`; 400 `This knowledge base is connected
    /// to an agent. …` while any agent's live config or open draft uses it
    /// (`kb::check_delete`). The agents stay read-locked until the delete
    /// is done, so no draft can attach it in between.
    pub fn delete_knowledge_base(&self, t: &Tenant, id: &str) -> Result<(), DomainError> {
        let agents = t.agents.read();
        let mut book = t.knowledge();
        book.get(id)?;
        kb::check_delete(id, agents.records().flat_map(kb::live_configs))?;
        book.remove(id);
        drop(book);
        drop(agents);
        Ok(())
    }
}
