//! List orders kept up to date as records come, change and go, so a list
//! route reads one page without filtering and sorting every record
//! (`GET /conversation`, `GET /campaign`). Pure: no locks, no clock.
//!
//! Every record carries a *sequence number* given at creation, increasing
//! (creation order). The full scans these orders replace sort with ties
//! broken by creation order, newest first when descending; so does every
//! order here.
//!
//! - [`ByTime`]: records by a time that changes (a call's `updatedAt`),
//!   then by sequence; a page costs O(log n + skip + size).
//! - [`FirstSeen`]: groups of records sharing one value (a call's
//!   disposition metric definitions), in the order of each group's oldest
//!   record: what a scan in creation order meets first.
//! - [`Chronology`]: whether records appended so far came in `createdAt`
//!   order, so the insertion order is the `createdAt` order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;

use super::page::Page;
use super::Millis;

/// Records keyed `K` ordered by `(time, sequence)`. The caller files a
/// record under its time when it is created and moves it with
/// [`ByTime::retime`] whenever that time changes.
#[derive(Debug, Clone)]
pub struct ByTime<K> {
    entries: BTreeMap<(Millis, u64), K>,
}

impl<K> Default for ByTime<K> {
    fn default() -> Self {
        Self { entries: BTreeMap::new() }
    }
}

impl<K> ByTime<K> {
    /// Files `key` (record `seq`) under time `at` (epoch ms).
    pub fn insert(&mut self, at: Millis, seq: u64, key: K) {
        self.entries.insert((at, seq), key);
    }

    /// The key filed under `(at, seq)`.
    pub fn get(&self, at: Millis, seq: u64) -> Option<&K> {
        self.entries.get(&(at, seq))
    }

    /// Moves record `seq` filed under `from` to time `to`; `false` when
    /// nothing is filed under `(from, seq)`.
    pub fn retime(&mut self, from: Millis, seq: u64, to: Millis) -> bool {
        if from == to {
            return self.entries.contains_key(&(from, seq));
        }
        match self.entries.remove(&(from, seq)) {
            Some(key) => {
                self.entries.insert((to, seq), key);
                true
            }
            None => false,
        }
    }

    /// Removes record `seq` filed under `at`, returning its key.
    pub fn remove(&mut self, at: Millis, seq: u64) -> Option<K> {
        self.entries.remove(&(at, seq))
    }

    /// How many records are filed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys of `page`, by time then creation, latest first unless
    /// `ascending`.
    pub fn page(&self, ascending: bool, page: Page) -> Box<dyn Iterator<Item = &K> + '_> {
        if ascending {
            Box::new(page.of(self.entries.values()))
        } else {
            Box::new(page.of(self.entries.values().rev()))
        }
    }
}

/// Records grouped by a value `V` (identified by `G`): the groups in the
/// order of their oldest record. A scan of every record in creation
/// order that keeps what it meets first meets the groups in this order.
#[derive(Debug, Clone)]
pub struct FirstSeen<G, V> {
    groups: HashMap<G, (V, BTreeSet<u64>)>,
}

impl<G, V> Default for FirstSeen<G, V> {
    fn default() -> Self {
        Self { groups: HashMap::new() }
    }
}

impl<G: Hash + Eq, V> FirstSeen<G, V> {
    /// Adds record `seq` to group `group`, whose value `value` gives when
    /// the group is new.
    pub fn insert(&mut self, group: G, seq: u64, value: impl FnOnce() -> V) {
        self.groups.entry(group).or_insert_with(|| (value(), BTreeSet::new())).1.insert(seq);
    }

    /// Removes record `seq` from `group`; a group without records goes.
    pub fn remove(&mut self, group: &G, seq: u64) {
        if let Some((_, seqs)) = self.groups.get_mut(group) {
            seqs.remove(&seq);
            if seqs.is_empty() {
                self.groups.remove(group);
            }
        }
    }

    /// Every group's value, oldest record first. O(g log g) for g groups.
    pub fn ordered(&self) -> Vec<&V> {
        let mut firsts: Vec<(u64, &V)> =
            self.groups.values().filter_map(|(v, seqs)| seqs.first().map(|s| (*s, v))).collect();
        firsts.sort_unstable_by_key(|(s, _)| *s);
        firsts.into_iter().map(|(_, v)| v).collect()
    }
}

/// Whether the times appended so far never went backwards: then the
/// insertion order is the time order, ties in insertion order. Removing
/// records keeps an order sorted, so only appends are reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chronology {
    last: Option<Millis>,
    broken: bool,
}

impl Chronology {
    /// A record created at `at` is appended.
    pub fn append(&mut self, at: Millis) {
        self.broken |= self.last.is_some_and(|l| at < l);
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
    }

    /// Whether the insertion order is still the time order (it stays
    /// broken once a record came earlier than one before it).
    pub fn in_order(&self) -> bool {
        !self.broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the indexes replace: every record sorted by `(time, seq)`,
    /// reversed when descending, then sliced.
    fn naive(records: &BTreeMap<u64, Millis>, ascending: bool, page: Page) -> Vec<u64> {
        let mut all: Vec<(Millis, u64)> = records.iter().map(|(s, t)| (*t, *s)).collect();
        all.sort_unstable();
        if !ascending {
            all.reverse();
        }
        page.of(all).map(|(_, s)| s).collect()
    }

    #[derive(Debug, Clone)]
    enum Op {
        Create(Millis),
        Touch(usize, Millis),
        Remove(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0i64..50).prop_map(Op::Create),
            4 => (any::<usize>(), 0i64..60).prop_map(|(i, t)| Op::Touch(i, t)),
            1 => any::<usize>().prop_map(Op::Remove),
        ]
    }

    proptest! {
        /// Over random creations, time changes and removals, every page of
        /// the index equals the page of a full sort, both directions, ties
        /// by creation order.
        #[test]
        fn by_time_pages_equal_a_full_sort(
            ops in prop::collection::vec(op(), 0..120),
            ascending: bool,
            number in 1usize..8,
            size in 1usize..7,
        ) {
            let (mut index, mut truth, mut next) = (ByTime::default(), BTreeMap::new(), 0u64);
            for o in ops {
                match o {
                    Op::Create(t) => {
                        index.insert(t, next, next);
                        truth.insert(next, t);
                        next += 1;
                    }
                    Op::Touch(..) | Op::Remove(_) if truth.is_empty() => {}
                    Op::Touch(i, t) => {
                        let (seq, old) = truth.iter().nth(i % truth.len()).map(|(s, o)| (*s, *o)).expect("some");
                        prop_assert!(index.retime(old, seq, t));
                        truth.insert(seq, t);
                    }
                    Op::Remove(i) => {
                        let (seq, old) = truth.iter().nth(i % truth.len()).map(|(s, o)| (*s, *o)).expect("some");
                        prop_assert_eq!(index.remove(old, seq), Some(seq));
                        truth.remove(&seq);
                    }
                }
            }
            let page = Page::numbered(number, size);
            prop_assert_eq!(index.len(), truth.len());
            prop_assert_eq!(index.page(ascending, page).copied().collect::<Vec<_>>(), naive(&truth, ascending, page));
        }

        /// The groups in first-seen order equal a creation-order scan that
        /// keeps each value the first time it meets it, after random
        /// creations and removals.
        #[test]
        fn first_seen_equals_a_creation_order_scan(
            ops in prop::collection::vec((0u8..6, any::<bool>(), any::<usize>()), 0..80),
        ) {
            let (mut index, mut truth): (FirstSeen<u8, u8>, BTreeMap<u64, u8>) = Default::default();
            for (next, (group, create, pick)) in (0u64..).zip(ops) {
                if create || truth.is_empty() {
                    index.insert(group, next, || group);
                    truth.insert(next, group);
                } else {
                    let (seq, g) = truth.iter().nth(pick % truth.len()).map(|(s, g)| (*s, *g)).expect("some");
                    index.remove(&g, seq);
                    truth.remove(&seq);
                }
            }
            let mut scan: Vec<u8> = Vec::new();
            for g in truth.values() {
                if !scan.contains(g) {
                    scan.push(*g);
                }
            }
            prop_assert_eq!(index.ordered().into_iter().copied().collect::<Vec<_>>(), scan);
        }

        /// `in_order` holds exactly while the appended times are sorted.
        #[test]
        fn chronology_knows_a_sorted_sequence(times in prop::collection::vec(0i64..20, 0..12)) {
            let mut c = Chronology::default();
            times.iter().for_each(|t| c.append(*t));
            prop_assert_eq!(c.in_order(), times.windows(2).all(|w| w[0] <= w[1]));
        }
    }

    #[test]
    fn retime_of_an_unknown_record_changes_nothing() {
        let mut index = ByTime::default();
        index.insert(5, 0, "a");
        assert!(!index.retime(4, 0, 9) && !index.retime(5, 1, 9));
        assert!(index.retime(5, 0, 5), "same time: still filed");
        assert_eq!(index.page(false, Page::numbered(1, 5)).collect::<Vec<_>>(), vec![&"a"]);
    }
}
