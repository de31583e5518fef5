//! `GET /campaign` (R171) under one lock: the organization's campaign
//! book is locked once, filtered, sorted and paged, and the page copied
//! out with each campaign's audience name; the lock is released before
//! anything else (agents) is read, so no other lock is ever taken inside
//! it.

use super::{Campaign, Campaigns};
use crate::domain::campaign_list::CampaignListQuery;
use crate::store::Tenant;

/// One page of campaigns.
#[derive(Debug, Clone)]
pub struct CampaignPage {
    /// The page, in list order, each with its audience's current name
    /// (`None` once the audience is deleted).
    pub items: Vec<(Campaign, Option<String>)>,
    /// Campaigns matching the filters.
    pub total: usize,
    /// Every campaign of the organization (`totalCampaignCount`).
    pub all: usize,
}

impl Campaigns {
    /// The page of `t`'s campaigns `q` asks for.
    pub fn list(&self, t: &Tenant, q: &CampaignListQuery) -> CampaignPage {
        let book = t.campaigns();
        let mut hits: Vec<&Campaign> = book.campaigns().filter(|c| q.matches(c.progress.status, &c.name)).collect();
        // Stable: equal keys keep creation order (reversed when descending, as before).
        if !q.ascending {
            hits.reverse();
        }
        hits.sort_by_key(|c| q.sort_key(c.created_at, c.progress.updated_at));
        let items = q
            .page
            .of(hits.iter())
            .map(|c| ((*c).clone(), book.audience(&c.audience_id).map(|a| a.name.clone())))
            .collect();
        CampaignPage { items, total: hits.len(), all: book.campaigns().count() }
    }
}

impl Campaigns {
    /// A copy of campaign `id` of `t` and its audience's current name
    /// (`None` once the audience is deleted), taken under one lock.
    pub fn snapshot(&self, t: &Tenant, id: &str) -> Option<(Campaign, Option<String>)> {
        let book = t.campaigns();
        let c = book.campaign(id)?.clone();
        let name = book.audience(&c.audience_id).map(|a| a.name.clone());
        Some((c, name))
    }
}
