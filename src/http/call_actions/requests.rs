//! Request body of the call-action area (its list query is the domain's
//! [`ListQuery`](crate::domain::call_action::ListQuery)).

use crate::domain::call_action::ActionBody;
use crate::http::json::domain_body;

domain_body!(
    /// `POST /call-actions` (required `agentId`, `category` (`trigger` |
    /// `post-call`), `provider`, `config {phoneNumberFieldName (trigger
    /// only, required there), conditions [{field, operator, value}],
    /// body}`; optional `action_type` (`create` | `update`), `object`) and
    /// `PUT /call-actions/{id}` (every field optional, `agentId` ignored).
    CallActionRequest(ActionBody)
);
