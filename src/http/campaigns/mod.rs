//! The campaign area: campaigns and the audiences they dial.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub(crate) mod audiences;
mod campaign;
mod requests;

/// Every route of the area.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    campaign::router().merge(audiences::router())
}
