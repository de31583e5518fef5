//! How many archived agents one organization keeps
//! (`--max-archived-agents`), a mock extension. The platform has no hard
//! delete for agents: a suite that creates an agent per test and archives
//! it afterwards (the only clean-up the API offers) would otherwise grow a
//! long-lived server's memory without end, since the plan's
//! `limits.agents` counts active agents only (design d11a §2.4). The mock
//! forgets the oldest archived agents instead of refusing to archive.
//!
//! Rules (the reference is silent; all inferred):
//! - **AR1** When archiving takes an organization's archived agents over
//!   `max`, archived agents are forgotten until at most `max - max / 16`
//!   remain: a batch, so the choice is made once per `max / 16` archives.
//! - **AR2** The agents created first go first (`createdAt`, then id, the
//!   order `GET /agent?archived=true&sort=asc` lists). Never forgotten: the
//!   agent being archived, an agent holding a concurrency reservation (its
//!   slots would stay reserved with no agent to release them through
//!   `PUT /concurrency/reservations`), or an active agent (the plan's limit
//!   bounds those).
//! - **AR3** A forgotten agent is gone as an id never created: every agent
//!   route answers what it answers for an unknown id (`GET /agent/{id}`:
//!   `No agent found`; unarchiving: 404 `Agent not found`). Its
//!   webhook subscriptions and widget config go with it; its calls,
//!   campaigns, analytics figures, journal entries and Do-Not-Call entries
//!   keep its id, as they keep a call's after the call store evicts it.

/// The default: 1,000 archived agents per organization.
pub const DEFAULT_MAX_ARCHIVED_AGENTS: usize = 1_000;

/// The archived agents to forget (AR1, AR2): from `archived`, oldest
/// created first, as many as bring the count to `max - max / 16`, skipping
/// those `kept` names (the agent being archived, agents with a
/// reservation). None while the count is within `max`. `max` below 1
/// counts as 1.
pub fn to_forget<'a, K: ?Sized>(archived: &[&'a K], kept: impl Fn(&K) -> bool, max: usize) -> Vec<&'a K> {
    let max = max.max(1);
    if archived.len() <= max {
        return Vec::new();
    }
    let excess = archived.len() - (max - max / 16);
    archived.iter().copied().filter(|k| !kept(k)).take(excess).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_oldest_go_in_a_batch_but_never_the_one_being_archived() {
        let ids: Vec<String> = (0..18).map(|i| format!("a{i:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let only = |keep: &'static str| move |k: &str| k == keep;
        assert!(to_forget(&refs[..17], only("a16"), 17).is_empty(), "AR1: within the bound");
        assert_eq!(to_forget(&refs, only("a17"), 17), ["a00", "a01"], "AR1: down to 17 - 1; AR2: oldest first");
        assert_eq!(to_forget(&refs, only("a00"), 17), ["a01", "a02"], "AR2: the agent being archived stays");
        assert_eq!(to_forget(&refs, |k: &str| k < "a02", 17), ["a02", "a03"], "AR2: reserved agents stay");
        assert_eq!(to_forget(&refs[..2], only("a01"), 0), ["a00"], "a bound below 1 counts as 1");
    }

    proptest! {
        /// AR1–AR2 over random counts, bounds and kept agents: nothing
        /// goes within the bound; past it the oldest others go, in order,
        /// down to the target when enough may go, and never a kept one.
        #[test]
        fn forgets_the_oldest_others_down_to_the_target(
            n in 0usize..200,
            max in 0usize..120,
            kept in prop::collection::hash_set(0usize..200, 0..20),
        ) {
            let ids: Vec<usize> = (0..n).collect();
            let refs: Vec<&usize> = ids.iter().collect();
            let out = to_forget(&refs, |k| kept.contains(k), max);
            let max = max.max(1);
            if n <= max {
                prop_assert!(out.is_empty());
            } else {
                let excess = n - (max - max / 16);
                let expected: Vec<&usize> = refs.iter().copied().filter(|k| !kept.contains(k)).take(excess).collect();
                prop_assert!(out.iter().all(|k| !kept.contains(k)));
                prop_assert_eq!(out, expected, "AR2: the oldest others, in order, at most the excess");
            }
        }
    }
}
