//! The agent area: `/agent…`, `/workflow/{id}`, templates and the v1
//! (drafts, versions) and v2 (branches, revisions) versioning routes,
//! with the renderers of their wire shapes.

use crate::http::routes::OpenApiRouter;
use axum::middleware::from_fn;

use crate::state::AppState;

mod agent;
mod branches;
mod drafts;
mod gate;
pub(crate) mod render;
mod render_v2;
mod requests;
mod revisions;
mod templates;
mod versions;

/// Every route of the area, the versioning routes behind their [`gate`]
/// layers: v1 writes and lists, v1 reads and test calls, the branch
/// routes, and the cross-branch diff.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    let graph = || from_fn(gate::graph_access);
    let v1_writes =
        drafts::writes().merge(versions::writes().route_layer(graph())).route_layer(from_fn(gate::v1_write));
    let v1_reads = drafts::reads().merge(versions::reads().route_layer(graph())).route_layer(from_fn(gate::v1_kept));
    let v2 = branches::router().merge(revisions::router()).route_layer(from_fn(gate::branch_model));
    let v2_diff = revisions::diff_router().route_layer(from_fn(gate::branch_diff));
    agent::router().merge(templates::router()).merge(v1_writes).merge(v1_reads).merge(v2).merge(v2_diff)
}
