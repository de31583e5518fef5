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
