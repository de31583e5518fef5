//! The call-action area (OAS tag Call Actions, 5 operations): CRUD of
//! `trigger` and `post-call` actions. Answers use the `{success: true,
//! data}` envelope (the spec); errors the standard one. Rules live in
//! `crate::domain::call_action`, firing in `crate::call_actions`.

use crate::http::routes::OpenApiRouter;

use crate::state::AppState;

mod actions;
mod requests;

/// Every route of the area.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    actions::router()
}
