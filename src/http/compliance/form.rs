//! The multipart forms of `POST /compliance/applications` and `PATCH
//! /compliance/applications/{id}`: text fields by name, and `files`
//! parts counted, not kept. A file's bytes are streamed and only their
//! number is recorded (`UploadedFile`), so memory stays flat whatever the
//! upload; the domain then checks the count, types and the 5 MB limit.
//!
//! A body that is not `multipart/form-data` counts as an empty form, so
//! the route's own `<field>: Required` answers.

use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::Multipart;

use crate::domain::compliance_form::{SubmitForm, UploadedFile, MAX_FILES, MAX_FILE_BYTES};
use crate::http::error::{multipart_error, ApiError, ApiResult};

/// Largest request body on the compliance routes: ten 5 MB files plus
/// room for the text fields.
pub(crate) const UPLOAD_LIMIT: usize = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024;

/// Longest text field kept (`endUser`, `documents`, ...), bytes.
const TEXT_LIMIT: usize = 64 * 1024;

fn bad(e: &MultipartError) -> ApiError {
    multipart_error(e, &format!("Request body too large: the limit is {UPLOAD_LIMIT} bytes"))
}

/// The size of a file part, read to its end without keeping it.
async fn count(mut field: Field<'_>) -> ApiResult<usize> {
    let mut size = 0usize;
    while let Some(chunk) = field.chunk().await.map_err(|e| bad(&e))? {
        size = size.saturating_add(chunk.len());
    }
    Ok(size)
}

/// A text part, at most [`TEXT_LIMIT`] bytes (400 `<name>: …` beyond).
async fn text(name: &str, mut field: Field<'_>) -> ApiResult<String> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| bad(&e))? {
        if buf.len() + chunk.len() > TEXT_LIMIT {
            return Err(ApiError::BadRequest(format!("{name}: String must contain at most {TEXT_LIMIT} character(s)")));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| ApiError::BadRequest(format!("{name}: Invalid UTF-8")))
}

/// Reads a compliance form; a body that is not multipart is an empty form.
pub(crate) async fn read(mp: Result<Multipart, MultipartRejection>) -> ApiResult<SubmitForm> {
    let mut form = SubmitForm::default();
    let Ok(mut mp) = mp else { return Ok(form) };
    while let Some(field) = mp.next_field().await.map_err(|e| bad(&e))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "files" || name == "files[]" {
            let file_name = field.file_name().unwrap_or("file").to_string();
            let content_type = field.content_type().map(str::to_string);
            let size = count(field).await?;
            if form.files.len() <= MAX_FILES {
                form.files.push(UploadedFile { name: file_name, content_type, size });
            }
            continue;
        }
        let slot = match name.as_str() {
            "countryIso" => &mut form.country_iso,
            "numberType" => &mut form.number_type,
            "userType" => &mut form.user_type,
            "endUser" => &mut form.end_user,
            "documents" => &mut form.documents,
            _ => {
                count(field).await?;
                continue;
            }
        };
        *slot = Some(text(&name, field).await?);
    }
    Ok(form)
}
