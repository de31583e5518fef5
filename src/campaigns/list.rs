//! `GET /campaign` (R171) under one lock: the organization's campaign
//! book is locked once, the page cut, and copied out with each
//! campaign's audience name; the lock is released before anything else
//! (agents) is read, so no other lock is ever taken inside it.
//!
//! Cost: the default list (no `status`, no `search`, `sortField`
//! `createdAt`, either order) walks the book's creation order and costs
//! O(page) ([`CampaignListQuery::window`]), as long as campaigns were
//! stored in `createdAt` order ([`CampaignBook::created_in_order`]; a
//! clock set back between two creations turns this off for the book's
//! life). A status filter, a search or `sortField=updatedAt` scans and
//! sorts every campaign, O(n log n) ([`CampaignListQuery::select`]).
//! Both counts are exact: `totalCampaignCount` is the book's count and
//! the default list's `total` is the same.

use super::{Campaign, Campaigns};
use crate::domain::campaign_list::CampaignListQuery;
use crate::store::{CampaignBook, Tenant};

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
        page(&t.campaigns(), q)
    }
}

/// The page of `book` `q` asks for: a window of the creation order when
/// that is the list's order, else a full scan.
fn page(book: &CampaignBook, q: &CampaignListQuery) -> CampaignPage {
    let all = book.campaign_count();
    let (hits, total) = if q.in_creation_order() && book.created_in_order() {
        (q.window(book.campaigns()), all)
    } else {
        q.select(book.campaigns(), |c| (c.progress.status, c.name.as_str(), c.created_at, c.progress.updated_at))
    };
    let items = hits.into_iter().map(|c| (c.clone(), book.audience(&c.audience_id).map(|a| a.name.clone()))).collect();
    CampaignPage { items, total, all }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::new_progress;
    use crate::domain::page::Page;

    fn campaign(i: usize, created_at: i64) -> Campaign {
        Campaign {
            id: format!("{i:024x}"),
            name: format!("c{i}"),
            description: String::new(),
            agent_id: "a".into(),
            audience_id: "gone".into(),
            audience_name: "gone".into(),
            phone_number_ids: Vec::new(),
            scheduled_at: None,
            retry_delay_min: 0,
            created_at,
            progress: new_progress(0, 0, 0, false, created_at),
            contacts: Vec::new(),
            calls: Vec::new(),
            events: Vec::new(),
        }
    }

    fn ids(p: &CampaignPage) -> Vec<String> {
        p.items.iter().map(|(c, _)| c.id.clone()).collect()
    }

    fn query(ascending: bool, number: usize) -> CampaignListQuery {
        CampaignListQuery { status: None, search: None, by_updated: false, ascending, page: Page::numbered(number, 5) }
    }

    /// The book's pages in the default order equal the full scan's, ties
    /// in `createdAt` included; a campaign stored with an earlier
    /// `createdAt` than the last one sends the book to the scan, which
    /// still sorts it into place.
    #[test]
    fn the_default_order_pages_equal_the_full_scan() {
        let mut book = CampaignBook::default();
        for i in 0..23 {
            book.insert_campaign(campaign(i, 1_000 + i64::try_from(i / 3).expect("small")));
        }
        assert!(book.created_in_order());
        let scan = |book: &CampaignBook, q: &CampaignListQuery| {
            let (hits, total) = q.select(book.campaigns(), |c| (c.progress.status, c.name.as_str(), c.created_at, 0));
            (hits.into_iter().map(|c| c.id.clone()).collect::<Vec<_>>(), total)
        };
        for ascending in [false, true] {
            for number in 1..=6 {
                let q = query(ascending, number);
                let fast = page(&book, &q);
                assert_eq!((ids(&fast), fast.total), scan(&book, &q), "ascending {ascending}, page {number}");
                assert_eq!(fast.all, 23);
            }
        }
        book.insert_campaign(campaign(99, 5));
        assert!(!book.created_in_order(), "a campaign created earlier than the last one breaks the order");
        let p = page(&book, &query(true, 1));
        assert_eq!((ids(&p)[0].as_str(), p.total, p.all), (format!("{:024x}", 99).as_str(), 24, 24));
    }
}
