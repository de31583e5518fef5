//! The OpenAPI document's frame: info, servers, tags and the Bearer
//! scheme. Paths come from the handlers' `#[utoipa::path]` annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's frame.
#[derive(OpenApi)]
#[openapi(
    info(title = "atoms-mock", description = "A stateful fake of the Atoms platform API (`/atoms/v1`) plus its control API (`/_admin`)."),
    servers((url = "http://127.0.0.1:4010", description = "Default local address")),
    modifiers(&BearerAuth),
    components(schemas(
        crate::http::ids::AgentId, crate::http::ids::VersionId, crate::http::ids::BranchId, crate::http::ids::RevisionId,
        crate::http::ids::CampaignId, crate::http::ids::AudienceId, crate::http::ids::WebhookId, crate::http::ids::ProductId,
        crate::http::ids::CallId,
        crate::http::ids::KnowledgeBaseId, crate::http::ids::KnowledgeBaseItemId, crate::http::ids::ScrapedUrlId,
        crate::http::ids::CallActionId
    )),
    security(("BearerAuth" = [])),
    tags(
        (name = "Agents"), (name = "Agent Templates"),
        (name = "Agent Versioning - Drafts"), (name = "Agent Versioning - Versions"),
        (name = "Agent Versioning - Branches"), (name = "Agent Versioning - Revisions"),
        (name = "Post-Call Analytics"), (name = "Conversations"), (name = "Logs"), (name = "Live Transcripts"),
        (name = "User"), (name = "Account"), (name = "Billing"), (name = "Phone Numbers"), (name = "Compliance"),
        (name = "Knowledge Base"), (name = "Call Actions"), (name = "Prompt Scoring"), (name = "Widget"), (name = "Integrations"),
        (name = "Analytics"), (name = "DNC"), (name = "Concurrency"),
        (name = "Control API", description = "Mock extension: reset, clock, scenarios, webhook deliveries, the request journal, fault injection, versioning mode")
    )
)]
pub(crate) struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "BearerAuth",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
