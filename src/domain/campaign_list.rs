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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
