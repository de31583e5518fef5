//! The organization's integrations: WebEngage (`crate::domain::integration`),
//! one per organization, replaced whole by each write. Taken alone.

use super::Tenant;
use crate::domain::integration::WebEngage;

impl Tenant {
    /// The organization's WebEngage integration, locked (`None` until the
    /// first write).
    pub fn webengage(&self) -> parking_lot::MutexGuard<'_, Option<WebEngage>> {
        self.webengage.lock()
    }
}

impl super::Store {
    /// Creates or replaces the organization's WebEngage integration with
    /// validated `sets` (`integration::write`) and returns the answer
    /// `{message, data}`: `Integration created successfully` the first
    /// time, `Integration updated successfully` after.
    pub fn write_webengage(
        &self,
        t: &Tenant,
        sets: Vec<crate::domain::integration::IntegrationSet>,
    ) -> serde_json::Value {
        use crate::domain::integration::{answer, render, write};
        let now = self.clock.now();
        let mut slot = t.webengage();
        let (w, message) = write(slot.as_ref(), sets, self.ids.object_id(now), t.org_id(), now);
        let out = answer(message, render(Some(&w)));
        *slot = Some(w);
        out
    }
}
