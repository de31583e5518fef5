//! One page of a list: the window every paginated route cuts from its
//! matches, and the figures it reports (`totalPages`, `hasMore`).
//!
//! The platform numbers pages two ways: `page` (from 1) with a page size
//! that most routes call `offset` (R025, R039, R171, R181), or `skip` and
//! `limit` (R059, R091). Both are a [`Page`]: skip this many, then take at
//! most that many. Pure: no I/O.

/// A window over a list: skip `skip` items, then take at most `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items before the window.
    pub skip: usize,
    /// Most items in the window (at least 1).
    pub size: usize,
}

impl Page {
    /// Page `number` (from 1; 0 counts as 1) of `size` items (0 counts as 1).
    pub fn numbered(number: usize, size: usize) -> Self {
        let size = size.max(1);
        Self { skip: number.max(1).saturating_sub(1).saturating_mul(size), size }
    }

    /// `limit` items after `skip` (a `limit` of 0 counts as 1).
    pub fn window(skip: usize, limit: usize) -> Self {
        Self { skip, size: limit.max(1) }
    }

    /// The window's items.
    pub fn of<T>(&self, items: impl IntoIterator<Item = T>) -> impl Iterator<Item = T> {
        items.into_iter().skip(self.skip).take(self.size)
    }

    /// Whether items come after the window, of `total`.
    pub fn has_more(&self, total: usize) -> bool {
        self.skip.saturating_add(self.size) < total
    }

    /// Pages of this size `total` items fill (0 when there are none).
    pub fn total_pages(&self, total: usize) -> usize {
        total.div_ceil(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbered_pages_start_at_one() {
        let p = Page::numbered(2, 10);
        assert_eq!((p.skip, p.size), (10, 10));
        assert_eq!(Page::numbered(0, 0), Page { skip: 0, size: 1 });
        assert_eq!(p.of(0..25).collect::<Vec<_>>(), (10..20).collect::<Vec<_>>());
        assert_eq!((p.has_more(25), p.has_more(20), p.total_pages(25), p.total_pages(0)), (true, false, 3, 0));
    }

    proptest! {
        /// The pages of a list cover it exactly once, in order, and only
        /// the last one says nothing comes after it.
        #[test]
        fn pages_partition_the_list(total in 0usize..200, size in 1usize..30) {
            let items: Vec<usize> = (0..total).collect();
            let first = Page::numbered(1, size);
            let pages = first.total_pages(total);
            let mut seen = Vec::new();
            for n in 1..=pages {
                let p = Page::numbered(n, size);
                seen.extend(p.of(items.iter().copied()));
                prop_assert_eq!(p.has_more(total), n < pages);
            }
            prop_assert_eq!(seen, items);
            prop_assert_eq!(Page::numbered(pages + 1, size).of(0..total).count(), 0);
        }
    }
}
