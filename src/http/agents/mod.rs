//! The agent area: `/agent…`, `/workflow/{id}`, templates and the v1
//! (drafts, versions) and v2 (branches, revisions) versioning routes,
//! with the renderers of their wire shapes.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

mod agent;
mod branches;
mod drafts;
pub(crate) mod render;
mod render_v2;
mod requests;
mod revisions;
mod templates;
mod versions;

/// Every route of the area.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    agent::router()
        .merge(drafts::router())
        .merge(versions::router())
        .merge(branches::router())
        .merge(revisions::router())
        .merge(templates::router())
}
