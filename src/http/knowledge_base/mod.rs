//! The knowledge-base area (OAS tag Knowledge Base, 14 operations):
//! `bases` holds the knowledge bases themselves, `items` their files,
//! uploads and scraped URLs; `requests` the JSON bodies. Rules live in
//! `crate::domain::knowledge_base`, processing on the clock in
//! `crate::knowledge`.

use crate::http::routes::OpenApiRouter;

use crate::state::AppState;

mod bases;
pub(crate) mod items;
pub(crate) mod requests;

/// Every route of the area.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    bases::router().merge(items::router())
}
