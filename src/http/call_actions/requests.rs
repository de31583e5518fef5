//! Request body and query of the call-action area.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::call_action::{ActionBody, ListQuery};
use crate::http::json::domain_body;

domain_body!(
    /// `POST /call-actions` (required `agentId`, `category` (`trigger` |
    /// `post-call`), `provider`, `config {phoneNumberFieldName (trigger
    /// only, required there), conditions [{field, operator, value}],
    /// body}`; optional `action_type` (`create` | `update`), `object`) and
    /// `PUT /call-actions/{id}` (every field optional, `agentId` ignored).
    CallActionRequest(ActionBody)
);

/// Query of `GET /call-actions`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct ListCallActionsQuery {
    /// The agent (24 hex, required).
    agent_id: Option<String>,
    /// 1-based page (default 1).
    page: Option<String>,
    /// Page size, 1–100 (default 10).
    limit: Option<String>,
    /// `trigger` or `post-call`.
    category: Option<String>,
    /// Provider name (exact).
    provider: Option<String>,
}

impl ListCallActionsQuery {
    /// The domain's query.
    pub(crate) fn into_domain(self) -> ListQuery {
        ListQuery {
            agent_id: self.agent_id,
            page: self.page,
            limit: self.limit,
            category: self.category,
            provider: self.provider,
        }
    }
}
