//! The agent widget (OAS tag Widget, deprecated but served): the
//! agent-level widget config and the avatar's presigned upload. Answers
//! use `{success: true, data}`; errors the standard envelope. Rules live
//! in `crate::domain::widget`; the avatar bytes in `crate::storage`.

use crate::http::routes::{router, OpenApiRouter};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::domain::ids::is_object_id;
use crate::domain::widget::{validate_avatar, validate_patch, AvatarUpload};
use crate::domain::DomainError;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, OrgPath};
use crate::http::ids::AgentId;
use crate::http::json::parsed_body;
use crate::http::render::succeeded;
use crate::state::AppState;

fn object_schema(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new().description(Some(description)).into()
}

parsed_body!(
    /// `PATCH /agent/{id}/widget-config`: `{widgetConfig: {…}}`, the
    /// fields to set (`null` clears a nullable one).
    PatchWidgetRequest(Map<String, Value>),
    |m: &Map<String, Value>| -> Result<_, DomainError> { Ok(m.clone()) },
    object_schema("`{widgetConfig: {…}}`")
);

parsed_body!(
    /// `POST /agent/{id}/avatar/presigned-url`: `{fileName, contentType
    /// (image/*), fileSize (1–2097152 bytes)}`.
    AvatarRequest(AvatarUpload),
    validate_avatar,
    object_schema("`{fileName, contentType, fileSize}`")
);

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(get_widget_config, patch_widget_config), presign_avatar]
}

/// The agent's widget config: `assistantId` plus the configured fields.
/// A malformed or unknown id is 404 `Agent not found` (the only error the
/// spec documents).
#[utoipa::path(get, path = "/agent/{id}/widget-config", tag = "Widget",
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, description = "The widget config"), (status = 404, description = "Agent not found")))]
async fn get_widget_config(OrgPath(s, t, id): OrgPath<String>) -> Reply {
    if !is_object_id(&id) {
        return Err(ApiError::Rule(DomainError::NotFound("Agent not found".into())));
    }
    Ok(succeeded(StatusCode::OK, s.store.widget_config(&t, &id)?))
}

/// Patch the widget config (given fields replace, others stay; an
/// `avatarUrl` must be on the mock's CDN): 200 with the config after it.
/// 400 `Invalid agent id`, `widgetConfig: Required`, the field rules;
/// 404 `Agent not found`.
#[utoipa::path(patch, path = "/agent/{id}/widget-config", tag = "Widget", request_body = PatchWidgetRequest,
    params(("id" = AgentId, Path, description = "Agent id")),
    responses((status = 200, description = "The widget config"), (status = 400, description = "Validation error"),
        (status = 404, description = "Agent not found")))]
async fn patch_widget_config(OrgPath(s, t, id): OrgPath<AgentId>, ApiJson(body): ApiJson<PatchWidgetRequest>) -> Reply {
    let patch = validate_patch(&body.0, &format!("{}/_cdn/", s.calls.public_url().trim_end_matches('/')))?;
    Ok(succeeded(StatusCode::OK, Value::Object(s.store.patch_widget(&t, &id, &patch)?)))
}

/// A presigned URL on the mock for the avatar image (`PUT` with the same
/// `Content-Type`, ≤ 2 MiB, 300 s), and the CDN URL it will be served at:
/// `{presignedUrl, cdnUrl, key}`. 400 field errors, `contentType must be
/// an image type`, the size message; 404 `Agent not found`.
#[utoipa::path(post, path = "/agent/{id}/avatar/presigned-url", tag = "Widget", request_body = AvatarRequest,
    params(("id" = AgentId, Path, description = "Agent id")),
    responses((status = 200, description = "The URLs"), (status = 400, description = "Validation error"),
        (status = 404, description = "Agent not found")))]
async fn presign_avatar(OrgPath(s, t, id): OrgPath<AgentId>, ApiJson(body): ApiJson<AvatarRequest>) -> Reply {
    Ok(succeeded(StatusCode::OK, s.storage.presign_avatar(&s.store, &t, &id, &body.0, &s.calls.public_url())?))
}
