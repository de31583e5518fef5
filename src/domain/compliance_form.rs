//! Compliance application forms (OAS POST /compliance/applications,
//! PATCH /compliance/applications/{id}).
//!
//! Forms arrive as multipart fields: `endUser` and `documents` are JSON
//! strings, `files` the uploads in the order of `documents`. A count
//! mismatch is the spec's exact `Expected X files, got Y`; the other
//! messages are inferred, in the `<field>: <problem>` form used across the
//! mock. Limits (the spec): PDF, JPEG or PNG, at most 5 MB each, at most
//! 10 files.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::compliance_rules::{NumberType, UserType};
use super::config_rules::type_name;
use super::DomainError;

/// Most files per application.
pub const MAX_FILES: usize = 10;
/// Largest file, bytes (5 MB).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The end user of an application (`endUser`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUser {
    /// Full or business name (required).
    pub name: String,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Country; defaults to the application's `countryIso`.
    pub country: Option<String>,
    /// The other accepted keys (`addressLine1`, `city`, ...), as strings.
    pub other: Vec<(String, String)>,
}

/// One entry of `documents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentEntry {
    /// `documentTypeId`.
    pub document_type_id: String,
    /// `dataFields`, as strings.
    pub data_fields: Vec<(String, String)>,
}

/// One uploaded file, as the multipart layer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// File name.
    pub name: String,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
    /// Size, bytes.
    pub size: usize,
}

/// The multipart fields of a submit (`POST /compliance/applications`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitForm {
    /// `countryIso`.
    pub country_iso: Option<String>,
    /// `numberType`.
    pub number_type: Option<String>,
    /// `userType`.
    pub user_type: Option<String>,
    /// `endUser`, a JSON string.
    pub end_user: Option<String>,
    /// `documents`, a JSON string.
    pub documents: Option<String>,
    /// `files`, in order.
    pub files: Vec<UploadedFile>,
}

/// A validated submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// ISO country, upper case.
    pub country_iso: String,
    /// Number type.
    pub number_type: NumberType,
    /// User type.
    pub user_type: UserType,
    /// End user.
    pub end_user: EndUser,
    /// Documents.
    pub documents: Vec<DocumentEntry>,
    /// File names, in order (`documentFileNames`).
    pub file_names: Vec<String>,
}

fn parse_json(field: &str, raw: Option<&str>) -> Result<Value, DomainError> {
    let s = raw.ok_or_else(|| DomainError::invalid(format!("{field}: Required")))?;
    serde_json::from_str(s).map_err(|_| DomainError::invalid(format!("{field}: Invalid JSON")))
}

fn strings(path: &str, m: &Map<String, Value>) -> Result<Vec<(String, String)>, DomainError> {
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            other => Err(DomainError::invalid(format!("{path}.{k}: Expected string, received {}", type_name(other)))),
        })
        .collect()
}

fn parse_end_user(raw: Option<&str>) -> Result<EndUser, DomainError> {
    let v = parse_json("endUser", raw)?;
    let m = v
        .as_object()
        .ok_or_else(|| DomainError::invalid(format!("endUser: Expected object, received {}", type_name(&v))))?;
    let name = match m.get("name") {
        None | Some(Value::Null) => return Err(DomainError::invalid("endUser.name: Required")),
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(DomainError::invalid("endUser.name: String must contain at least 1 character(s)"))
        }
        Some(Value::String(s)) => s.trim().to_string(),
        Some(other) => {
            return Err(DomainError::invalid(format!("endUser.name: Expected string, received {}", type_name(other))))
        }
    };
    let mut rest = m.clone();
    rest.remove("name");
    let mut all = strings("endUser", &rest)?;
    let mut take = |k: &str| all.iter().position(|(n, _)| n == k).map(|i| all.remove(i).1);
    let (last_name, email, country) = (take("lastName"), take("email"), take("country"));
    Ok(EndUser { name, last_name, email, country, other: all })
}

fn parse_documents(raw: Option<&str>) -> Result<Vec<DocumentEntry>, DomainError> {
    let v = parse_json("documents", raw)?;
    let items = v
        .as_array()
        .ok_or_else(|| DomainError::invalid(format!("documents: Expected array, received {}", type_name(&v))))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let m = item.as_object().ok_or_else(|| {
                DomainError::invalid(format!("documents.{i}: Expected object, received {}", type_name(item)))
            })?;
            let id = match m.get("documentTypeId") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                None | Some(Value::Null) => {
                    return Err(DomainError::invalid(format!("documents.{i}.documentTypeId: Required")))
                }
                Some(other) => {
                    return Err(DomainError::invalid(format!(
                        "documents.{i}.documentTypeId: Expected string, received {}",
                        type_name(other)
                    )))
                }
            };
            let fields = match m.get("dataFields") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Object(f)) => strings(&format!("documents.{i}.dataFields"), f)?,
                Some(other) => {
                    return Err(DomainError::invalid(format!(
                        "documents.{i}.dataFields: Expected object, received {}",
                        type_name(other)
                    )))
                }
            };
            Ok(DocumentEntry { document_type_id: id, data_fields: fields })
        })
        .collect()
}

fn accepted_type(f: &UploadedFile) -> bool {
    let ct = f.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
    let ext = f.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    ["application/pdf", "image/jpeg", "image/jpg", "image/png"].contains(&ct.as_str())
        || ["pdf", "jpg", "jpeg", "png"].contains(&ext.as_str())
}

fn check_files(documents: usize, files: &[UploadedFile]) -> Result<Vec<String>, DomainError> {
    if files.len() > MAX_FILES {
        return Err(DomainError::invalid(format!("A maximum of {MAX_FILES} files is allowed")));
    }
    if files.len() != documents {
        return Err(DomainError::invalid(format!("Expected {documents} files, got {}", files.len())));
    }
    for f in files {
        if !accepted_type(f) {
            return Err(DomainError::invalid(format!(
                "Unsupported file type: {}. Accepted formats: PDF, JPEG, PNG",
                f.name
            )));
        }
        if f.size > MAX_FILE_BYTES {
            return Err(DomainError::invalid(format!("File {} exceeds the 5 MB size limit", f.name)));
        }
    }
    Ok(files.iter().map(|f| f.name.clone()).collect())
}

/// Validates a submit form (see the module doc for the messages).
pub fn parse_submit(form: &SubmitForm) -> Result<Submission, DomainError> {
    let country_iso = super::inventory::parse_country("countryIso", form.country_iso.as_deref())?;
    let number_type = NumberType::parse(form.number_type.as_deref())?;
    let user_type = UserType::parse(form.user_type.as_deref())?;
    let mut end_user = parse_end_user(form.end_user.as_deref())?;
    end_user.country.get_or_insert_with(|| country_iso.clone());
    let documents = parse_documents(form.documents.as_deref())?;
    let file_names = check_files(documents.len(), &form.files)?;
    Ok(Submission { country_iso, number_type, user_type, end_user, documents, file_names })
}

/// Validates a resubmit (`documents` JSON and `files`, both required, the
/// counts equal). Returns the documents and the file names.
pub fn parse_resubmit(
    documents: Option<&str>,
    files: &[UploadedFile],
) -> Result<(Vec<DocumentEntry>, Vec<String>), DomainError> {
    let documents = parse_documents(documents)?;
    let names = check_files(documents.len(), files)?;
    Ok((documents, names))
}
