//! The campaign area: campaigns and the audiences they dial (BEHAVIOR
//! §H, §I). `campaign` and `audiences` hold the handlers, `requests` the
//! JSON bodies; rules live in `crate::domain::campaign` and the campaign
//! engine (`crate::campaigns`).

use crate::http::routes::OpenApiRouter;

use crate::state::AppState;

pub(crate) mod audiences;
mod campaign;
mod requests;

/// Every route of the area.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    campaign::router().merge(audiences::router())
}
