//! `GET /campaign`'s query (R171): filters, sort and page, validated once
//! and applied to any campaign's status, name and times. Pure.

use super::campaign::CampaignStatus;
use super::page::Page;
use super::{DomainError, Millis};

/// A validated campaign list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignListQuery {
    /// Only this status.
    pub status: Option<CampaignStatus>,
    /// Case-insensitive substring of the name, lowercased.
    pub search: Option<String>,
    /// Sort by `updatedAt` instead of `createdAt`.
    pub by_updated: bool,
    /// Oldest first instead of newest first.
    pub ascending: bool,
    /// The page (`page` from 1, `offset` the size, default 5).
    pub page: Page,
}

/// The raw query parameters, as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCampaignListQuery<'a> {
    /// `status`.
    pub status: Option<&'a str>,
    /// `search`.
    pub search: Option<&'a str>,
    /// `sortField`: `createdAt` (default) or `updatedAt`.
    pub sort_field: Option<&'a str>,
    /// `sortOrder`: `asc`, anything else is descending.
    pub sort_order: Option<&'a str>,
    /// `page`, from 1.
    pub page: Option<usize>,
    /// `offset`, the page size.
    pub offset: Option<usize>,
}

impl CampaignListQuery {
    /// Validates `raw`: 400 `Invalid status: <v>` or `Invalid sortField:
    /// <v>` (inferred wording).
    pub fn parse(raw: RawCampaignListQuery<'_>) -> Result<Self, DomainError> {
        let status = match raw.status {
            None => None,
            Some(v) => {
                Some(CampaignStatus::parse(v).ok_or_else(|| DomainError::invalid(format!("Invalid status: {v}")))?)
            }
        };
        let by_updated = match raw.sort_field {
            None | Some("createdAt") => false,
            Some("updatedAt") => true,
            Some(v) => return Err(DomainError::invalid(format!("Invalid sortField: {v}"))),
        };
        Ok(Self {
            status,
            search: raw.search.map(str::to_lowercase),
            by_updated,
            ascending: raw.sort_order.is_some_and(|o| o.eq_ignore_ascii_case("asc")),
            page: Page::numbered(raw.page.unwrap_or(1), raw.offset.unwrap_or(5)),
        })
    }

    /// Whether a campaign with `status` and `name` is listed.
    pub fn matches(&self, status: CampaignStatus, name: &str) -> bool {
        self.status.is_none_or(|s| s == status)
            && self.search.as_deref().is_none_or(|n| name.to_lowercase().contains(n))
    }

    /// The sort key of a campaign created at `created` and updated at
    /// `updated`, in list order (newest first unless ascending).
    pub fn sort_key(&self, created: Millis, updated: Millis) -> Millis {
        let t = if self.by_updated { updated } else { created };
        if self.ascending {
            t
        } else {
            -t
        }
    }

    /// Whether the list is every campaign by `createdAt` (no status, no
    /// search, the default sort field): then, while the creation order is
    /// the `createdAt` order, the page is a window of it
    /// ([`CampaignListQuery::window`]).
    pub fn in_creation_order(&self) -> bool {
        self.status.is_none() && self.search.is_none() && !self.by_updated
    }

    /// The page of `items` (every campaign, in creation order, already in
    /// `createdAt` order) for a query [`in_creation_order`]: walked from
    /// the newest unless ascending. O(skip + size).
    ///
    /// [`in_creation_order`]: CampaignListQuery::in_creation_order
    pub fn window<'a, T>(&self, items: impl DoubleEndedIterator<Item = &'a T>) -> Vec<&'a T> {
        if self.ascending {
            self.page.of(items).collect()
        } else {
            self.page.of(items.rev()).collect()
        }
    }

    /// The page of `items` (every campaign, in creation order) and how
    /// many match, by a full scan: filter, then a stable sort by
    /// [`CampaignListQuery::sort_key`] (equal keys in creation order,
    /// reversed when descending). O(n log n); `view` gives a campaign's
    /// status, name, `createdAt` and `updatedAt`.
    pub fn select<'a, T>(
        &self,
        items: impl Iterator<Item = &'a T>,
        view: impl Fn(&T) -> (CampaignStatus, &str, Millis, Millis),
    ) -> (Vec<&'a T>, usize) {
        let mut hits: Vec<(Millis, &T)> = items
            .filter_map(|c| {
                let (status, name, created, updated) = view(c);
                self.matches(status, name).then(|| (self.sort_key(created, updated), c))
            })
            .collect();
        if !self.ascending {
            hits.reverse();
        }
        hits.sort_by_key(|(k, _)| *k);
        (self.page.of(&hits).map(|(_, c)| *c).collect(), hits.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_and_refusals() {
        let q = CampaignListQuery::parse(RawCampaignListQuery::default()).expect("defaults");
        assert_eq!((q.status, q.by_updated, q.ascending, q.page), (None, false, false, Page::numbered(1, 5)));
        let bad = |raw| CampaignListQuery::parse(raw).map_err(|e| e.to_string()).err();
        assert_eq!(
            bad(RawCampaignListQuery { status: Some("active"), ..Default::default() }).as_deref(),
            Some("Invalid status: active")
        );
        assert_eq!(
            bad(RawCampaignListQuery { sort_field: Some("name"), ..Default::default() }).as_deref(),
            Some("Invalid sortField: name")
        );
        let q = CampaignListQuery::parse(RawCampaignListQuery {
            search: Some("SaLe"),
            sort_order: Some("ASC"),
            ..Default::default()
        })
        .expect("valid");
        assert!(q.matches(CampaignStatus::Draft, "Spring sale") && !q.matches(CampaignStatus::Draft, "Other"));
        assert!(q.sort_key(1, 9) < q.sort_key(2, 0), "ascending by createdAt");
    }

    /// A campaign as the proptest sees it: status, name, times.
    type Row = (CampaignStatus, String, Millis, Millis);

    fn rows() -> impl Strategy<Value = Vec<Row>> {
        let status = prop::sample::select(vec![CampaignStatus::Draft, CampaignStatus::Running, CampaignStatus::Paused]);
        // createdAt never goes back here (steps of 0 make ties).
        prop::collection::vec((status, "[ab]{1,3}", 0i64..3, 0i64..40), 0..40).prop_map(|v| {
            let mut t = 0;
            v.into_iter()
                .map(|(s, n, step, u)| {
                    t += step;
                    (s, n, t, u)
                })
                .collect()
        })
    }

    proptest! {
        /// While creation order is `createdAt` order (R171's default
        /// sort), the window of the creation order equals the full scan's
        /// page, ties included, in both directions.
        #[test]
        fn the_creation_order_window_equals_the_full_scan(
            rows in rows(),
            ascending: bool,
            number in 1usize..6,
            size in 1usize..6,
        ) {
            let q = CampaignListQuery { status: None, search: None, by_updated: false, ascending,
                page: Page::numbered(number, size) };
            prop_assert!(q.in_creation_order());
            let mut order = crate::domain::list_order::Chronology::default();
            rows.iter().for_each(|r| order.append(r.2));
            prop_assert!(order.in_order());
            let (full, total) = q.select(rows.iter(), |r| (r.0, r.1.as_str(), r.2, r.3));
            prop_assert_eq!(total, rows.len());
            let window: Vec<*const Row> = q.window(rows.iter()).into_iter().map(std::ptr::from_ref).collect();
            prop_assert_eq!(window, full.into_iter().map(std::ptr::from_ref).collect::<Vec<_>>());
        }

        /// Filters, search and `updatedAt` never take the window.
        #[test]
        fn any_filter_or_other_sort_needs_the_scan(status: bool, search: bool, by_updated: bool) {
            let q = CampaignListQuery {
                status: status.then_some(CampaignStatus::Draft),
                search: search.then(|| "a".to_string()),
                by_updated,
                ascending: false,
                page: Page::numbered(1, 5),
            };
            prop_assert_eq!(q.in_creation_order(), !(status || search || by_updated));
        }
    }
}
