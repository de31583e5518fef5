//! How many organizations one server keeps (`--max-organizations`), a
//! mock extension. Each API key is an organization, created by its first
//! request, so a suite that uses a fresh key per test (as the SDK contract
//! does) or a client sending random keys would otherwise grow a long-lived
//! server's memory without end. The platform has no such limit; the mock
//! forgets idle organizations instead of refusing new keys.
//!
//! Rules (the reference is silent; all inferred):
//! - **OB1** When a new key's first request takes the count over `max`,
//!   organizations are forgotten until at most `max - max / 16` remain: a
//!   batch, so the choice is made once per `max / 16` new keys.
//! - **OB2** The least recently used go first (by their last request).
//!   Never forgotten: the new key itself, a fixture key (`agents.json`), or
//!   a busy organization (a call not yet ended, or a campaign neither
//!   completed nor failed).
//! - **OB3** When too few can go, the rest stay: the count may then exceed
//!   `max` until they are idle.
//! - **OB4** A forgotten organization is gone as after `POST
//!   /_admin/reset?apiKey=K`: its state is dropped and its rented numbers
//!   go back to the inventory; a later request with the key starts a new,
//!   empty organization.

/// The default: 10,000 organizations.
pub const DEFAULT_MAX_ORGANIZATIONS: usize = 10_000;

/// One organization as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUse<K> {
    /// Its key.
    pub key: K,
    /// When it was last used (a counter that only grows).
    pub last_used: u64,
    /// May be forgotten (OB2: not new, not a fixture key, not busy).
    pub evictable: bool,
}

/// The keys to forget among `orgs` under `max` (OB1–OB3), least recently
/// used first; none while the count is within `max`.
pub fn to_forget<K: Clone>(orgs: &[OrgUse<K>], max: usize) -> Vec<K> {
    if orgs.len() <= max {
        return Vec::new();
    }
    let target = max - max / 16;
    let mut idle: Vec<&OrgUse<K>> = orgs.iter().filter(|o| o.evictable).collect();
    idle.sort_by_key(|o| o.last_used);
    idle.into_iter().take(orgs.len() - target).map(|o| o.key.clone()).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn org(key: u32, last_used: u64, evictable: bool) -> OrgUse<u32> {
        OrgUse { key, last_used, evictable }
    }

    #[test]
    fn the_least_recently_used_idle_ones_go_in_a_batch() {
        let orgs: Vec<OrgUse<u32>> = (0..17).map(|k| org(k, u64::from(100 - k), k != 16)).collect();
        assert_eq!(to_forget(&orgs, 17), Vec::<u32>::new(), "OB1: within the bound");
        assert_eq!(to_forget(&orgs, 16), vec![15, 14], "OB1: down to 16 - 1; OB2: oldest first");
        let busy: Vec<OrgUse<u32>> = (0..17).map(|k| org(k, u64::from(k), k == 0)).collect();
        assert_eq!(to_forget(&busy, 16), vec![0], "OB3: only the idle one can go");
    }

    proptest! {
        /// OB1–OB3 over random organizations: only evictable ones go, the
        /// oldest first, never more than needed to reach the target, and
        /// the target is reached whenever enough are evictable.
        #[test]
        fn forgets_only_idle_ones_oldest_first_down_to_the_target(
            orgs in prop::collection::vec((0u64..1000, any::<bool>()), 0..80),
            max in 1usize..64,
        ) {
            let orgs: Vec<OrgUse<usize>> =
                orgs.into_iter().enumerate().map(|(key, (last_used, evictable))| OrgUse { key, last_used, evictable }).collect();
            let out = to_forget(&orgs, max);
            let target = max - max / 16;
            prop_assert!(out.iter().all(|&k| orgs[k].evictable), "OB2: never a busy, new or fixture one");
            if orgs.len() <= max {
                prop_assert!(out.is_empty(), "OB1: nothing within the bound");
            } else {
                let idle = orgs.iter().filter(|o| o.evictable).count();
                prop_assert_eq!(out.len(), (orgs.len() - target).min(idle), "OB1, OB3: down to the target if possible");
                let newest_out = out.iter().map(|&k| orgs[k].last_used).max();
                let oldest_kept = orgs.iter().filter(|o| o.evictable && !out.contains(&o.key)).map(|o| o.last_used).min();
                if let (Some(a), Some(b)) = (newest_out, oldest_kept) {
                    prop_assert!(a <= b, "OB2: least recently used first");
                }
            }
        }
    }
}
