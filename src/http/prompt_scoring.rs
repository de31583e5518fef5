//! `POST /prompt-scoring/score` (OAS tag Prompt Scoring): scores the
//! `single_prompt` prompt of a published version (or v2 revision) or an
//! open draft, deterministically (`crate::domain::prompt_score`), and
//! caches the score on the agent record.

use crate::http::routes::{router, OpenApiRouter};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::domain::prompt_score::{rate_limited_body, validate, ScoreBody};
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, OrgState};
use crate::http::json::domain_body;
use crate::http::render;
use crate::state::AppState;
use crate::store::prompt_scores::ScoreError;

domain_body!(
    /// `{versionId}` (24 hex) or `{draftId}`: exactly one of them.
    ScorePromptRequest(ScoreBody)
);

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![score_prompt]
}

/// Score a prompt: 200 `{overall_score (0–100), overall_grade, band,
/// estimated_ttft_overhead_ms, dimensions[11]}`; the same prompt always
/// scores the same. 400 `Provide exactly one of versionId or draftId`,
/// `Invalid version id`, `Prompt scoring is only supported for
/// single_prompt agents`, `No prompt found on the version or draft`,
/// `Prompt has not changed since last scoring — retrieve the existing
/// score via GET agent` (the spec's text); 404 `Version not found` /
/// `Draft not found`; 429 `{message, rateLimit}` past 10 scores a minute.
#[utoipa::path(post, path = "/prompt-scoring/score", tag = "Prompt Scoring", request_body = ScorePromptRequest,
    responses((status = 200, description = "The score"), (status = 400, description = "Validation error"),
        (status = 404, description = "Version or draft not found"), (status = 429, description = "Rate limited")))]
async fn score_prompt(OrgState(s, t): OrgState, ApiJson(body): ApiJson<ScorePromptRequest>) -> Reply {
    let target = validate(&body.0)?;
    match s.store.score_prompt(&t, &target) {
        Ok(score) => Ok(render::ok(json!(score))),
        Err(ScoreError::Refused(e)) => Err(ApiError::from(e)),
        Err(ScoreError::RateLimited(secs)) => {
            Ok((StatusCode::TOO_MANY_REQUESTS, [("retry-after", secs.to_string())], Json(rate_limited_body(secs)))
                .into_response())
        }
    }
}
