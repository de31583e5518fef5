//! How many organizations the store keeps (`--max-organizations`, rules
//! OB1–OB4 of `crate::domain::org_budget`): past the bound, a new key's
//! first request forgets the least recently used idle organizations.
//!
//! Locks: the tenant map is read to list the organizations (each tenant's
//! call and campaign books locked briefly, one after the other, to see if
//! it is busy), then each chosen key is removed; nothing is held across
//! tenants.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Store, Tenant};
use crate::domain::org_budget::{to_forget, OrgUse};

impl Store {
    /// The store keeping at most `max` organizations (at least 1;
    /// `--max-organizations`, OB1).
    pub fn with_max_organizations(mut self, max: usize) -> Self {
        self.max_organizations = max.max(1);
        self
    }

    /// Marks `api_key` as a fixture key, never forgotten (OB2).
    pub fn pin(&self, api_key: &str) {
        self.pinned.write().insert(api_key.to_string());
    }

    /// Forgets the organizations OB1–OB3 choose, never `new_key`'s; each
    /// goes as after a per-key reset (OB4): its state, and its rented
    /// numbers back to the inventory.
    pub(super) fn forget_idle(&self, new_key: &str) {
        let orgs: Vec<(String, Arc<Tenant>)> =
            self.tenants.iter().map(|e| (e.key().clone(), Arc::clone(e.value()))).collect();
        let uses: Vec<OrgUse<usize>> = {
            let pinned = self.pinned.read();
            orgs.iter()
                .enumerate()
                .map(|(i, (key, t))| OrgUse {
                    key: i,
                    last_used: t.last_used.load(Ordering::Relaxed),
                    evictable: key != new_key && !pinned.contains(key) && !t.busy(),
                })
                .collect()
        };
        for i in to_forget(&uses, self.max_organizations) {
            let (key, t) = &orgs[i];
            // Only the tenant looked at: a key reset and used again since is a new one.
            self.forget_org(key, |held| Arc::ptr_eq(held, t));
        }
    }
}

impl Tenant {
    /// A call not yet ended or a campaign neither completed nor failed
    /// (OB2).
    fn busy(&self) -> bool {
        self.calls.has_unfinished() || self.campaigns().active_campaign(|_| true).is_some()
    }
}
