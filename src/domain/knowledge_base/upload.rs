//! File uploads into a knowledge base: the multipart PDF upload
//! (`POST /knowledgebase/{id}/items/upload-media`) and the presigned-URL
//! pair (`POST /knowledgebase/get-presigned-url`, a `PUT` of the bytes to
//! the URL it returns, then `POST /knowledgebase/compelete-file-upload`,
//! the platform's spelling).
//!
//! Limits. The spec says only PDFs are accepted, "validated by MIME type
//! and extension", and that no application-level size limit exists:
//! "proxy or infrastructure limits apply". The mock's infrastructure limit
//! is [`MAX_FILE_BYTES`] (answered 413 by the transport, before the
//! handler); `get-presigned-url` enforces it from the declared `fileSize`
//! ("Atoms uses this to enforce per-file limits before issuing the URL").
//! Plan entitlements ("KB storage access is not enabled for your
//! account.", "Insufficient credits for KB storage upload.") belong to the
//! account rules, which run before these.
//!
//! The presigned URL points at the mock itself (`{base}/_storage/{key}`)
//! and carries an expiry and an HMAC signature, like S3's; a `PUT` with
//! another `Content-Type` than the one signed is refused as S3 refuses it.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::super::ids::{hex, is_object_id};
use super::super::{DomainError, Millis};
pub use super::pdf::{is_pdf, pdf_text};
use super::INVALID_ID;

/// The mock's per-file infrastructure limit: 25 MiB.
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// The only accepted MIME type.
pub const PDF_MIME: &str = "application/pdf";
/// How long a presigned URL stays valid, ms (S3's usual 300 s; the avatar
/// URL documents 300 s).
pub const URL_TTL_MS: Millis = 300_000;
/// 400: not a PDF by MIME type or extension (inferred wording).
pub const ONLY_PDF: &str = "Only PDF files are allowed";
/// 400: the declared size is over the limit (inferred wording).
pub const TOO_LARGE: &str = "File size exceeds the maximum allowed size of 25 MB";
/// 400: `compelete-file-upload` with an unknown, used or expired key (inferred).
pub const UNKNOWN_KEY: &str = "Invalid or expired upload key";
/// 400: `compelete-file-upload` before the bytes were PUT (inferred).
pub const NOT_UPLOADED: &str = "File has not been uploaded yet";
/// 400: the completion names another file than the one presigned (inferred).
pub const MISMATCH: &str = "Upload details do not match the presigned upload";
/// Processing failure of a file that is not a PDF (in `metadata.error`).
pub const NOT_A_PDF: &str = "The file is not a valid PDF";

/// Checks one multipart upload: the `media` part must be present, named
/// `*.pdf` (any case) and typed `application/pdf`. Errors (400):
/// `media: Required`, [`ONLY_PDF`].
pub fn check_media(present: bool, file_name: Option<&str>, content_type: Option<&str>) -> Result<(), DomainError> {
    if !present {
        return Err(DomainError::invalid("media: Required"));
    }
    let ext_ok = file_name.is_some_and(|n| n.to_ascii_lowercase().ends_with(".pdf"));
    let mime_ok = content_type.is_some_and(|c| c.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(PDF_MIME));
    if ext_ok && mime_ok {
        Ok(())
    } else {
        Err(DomainError::invalid(ONLY_PDF))
    }
}

/// The item title of a file: its name without the `.pdf` extension.
pub fn title_of(file_name: &str) -> String {
    let lower = file_name.to_ascii_lowercase();
    match lower.strip_suffix(".pdf") {
        Some(stem) if !stem.is_empty() => file_name[..stem.len()].to_string(),
        _ => file_name.to_string(),
    }
}

/// Body of `POST /knowledgebase/get-presigned-url` (all required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresignBody {
    /// Display name, e.g. `company-handbook.pdf`.
    pub file_name: Option<String>,
    /// Declared size, bytes, ≥ 1.
    pub file_size: Option<i64>,
    /// MIME type; the PUT must send exactly this `Content-Type`.
    pub content_type: Option<String>,
    /// 24-hex knowledge-base id.
    pub knowledge_base_id: Option<String>,
}

/// Body of `POST /knowledgebase/compelete-file-upload` (all required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteBody {
    /// Same as presigned.
    pub file_name: Option<String>,
    /// Same as presigned.
    pub content_type: Option<String>,
    /// Same as presigned.
    pub knowledge_base_id: Option<String>,
    /// The `key` `get-presigned-url` returned.
    pub key: Option<String>,
    /// Same as presigned, ≥ 1.
    pub file_size: Option<i64>,
}

/// A validated file description, common to both requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    /// Display name.
    pub file_name: String,
    /// Declared size, bytes.
    pub file_size: u64,
    /// MIME type.
    pub content_type: String,
    /// Knowledge base.
    pub knowledge_base_id: String,
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, DomainError> {
    v.as_deref().ok_or_else(|| DomainError::invalid(format!("{field}: Required")))
}

fn file_spec(
    file_name: &Option<String>,
    file_size: Option<i64>,
    content_type: &Option<String>,
    kb: &Option<String>,
) -> Result<FileSpec, DomainError> {
    let file_name = required(file_name, "fileName")?;
    let size = file_size.ok_or_else(|| DomainError::invalid("fileSize: Required"))?;
    let content_type = required(content_type, "contentType")?;
    let kb = required(kb, "knowledgeBaseId")?;
    if size < 1 {
        return Err(DomainError::invalid("fileSize: Number must be greater than or equal to 1"));
    }
    if !is_object_id(kb) {
        return Err(DomainError::invalid(INVALID_ID));
    }
    check_media(true, Some(file_name), Some(content_type))?;
    let file_size = u64::try_from(size).unwrap_or(u64::MAX);
    if file_size > MAX_FILE_BYTES {
        return Err(DomainError::invalid(TOO_LARGE));
    }
    Ok(FileSpec {
        file_name: file_name.to_string(),
        file_size,
        content_type: content_type.to_string(),
        knowledge_base_id: kb.to_string(),
    })
}

/// Validates a presign request. Errors (400): `<field>: Required`,
/// `fileSize: Number must be greater than or equal to 1`, [`INVALID_ID`],
/// [`ONLY_PDF`], [`TOO_LARGE`]. The store then checks the knowledge base
/// belongs to the organization (400 `Knowledge base not found`).
pub fn validate_presign(b: &PresignBody) -> Result<FileSpec, DomainError> {
    file_spec(&b.file_name, b.file_size, &b.content_type, &b.knowledge_base_id)
}

/// A presigned upload waiting for its bytes and its completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    /// Storage key: `knowledgebase/<org>/<kb>/<uuid>/<file name>`.
    pub key: String,
    /// What was declared.
    pub spec: FileSpec,
    /// The URL expires at this time, epoch ms.
    pub expires_at: Millis,
    /// Set once the bytes were PUT: their length and whether they are a PDF,
    /// with the text they show.
    pub received: Option<Received>,
}

/// What a PUT to the presigned URL delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// Byte length.
    pub len: u64,
    /// Whether the bytes are a PDF ([`is_pdf`]).
    pub is_pdf: bool,
    /// [`pdf_text`] of the bytes.
    pub text: String,
}

/// A file name safe in a storage key: `[A-Za-z0-9._-]` kept, others `_`.
pub fn safe_file_name(file_name: &str) -> String {
    file_name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}

/// The storage key of a new upload. `uuid` makes it unique; the file
/// name goes through [`safe_file_name`].
pub fn storage_key(org: &str, kb: &str, uuid: &str, file_name: &str) -> String {
    format!("knowledgebase/{org}/{kb}/{uuid}/{}", safe_file_name(file_name))
}

/// The signature of a storage URL: HMAC-SHA256 over `PUT\n<key>\n<expires>`
/// with the server's secret, lowercase hex.
pub fn signature(secret: &[u8], key: &str, expires_at: Millis) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("PUT\n{key}\n{expires_at}").as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// The presigned URL on the mock itself:
/// `{base}/_storage/{key}?X-Amz-Expires=<epoch ms>&X-Amz-Signature=<hex>`.
pub fn presigned_url(base: &str, secret: &[u8], key: &str, expires_at: Millis) -> String {
    let sig = signature(secret, key, expires_at);
    format!("{}/_storage/{key}?X-Amz-Expires={expires_at}&X-Amz-Signature={sig}", base.trim_end_matches('/'))
}

/// An S3-style refusal of a storage PUT: the status, `Code` and `Message`
/// of `<Error><Code>…</Code><Message>…</Message></Error>` (application/xml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageError {
    /// HTTP status.
    pub status: u16,
    /// S3 error code.
    pub code: &'static str,
    /// S3 message.
    pub message: &'static str,
}

impl StorageError {
    /// The XML body.
    pub fn xml(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>",
            self.code, self.message
        )
    }
}

const DENIED: StorageError = StorageError {
    status: 403,
    code: "SignatureDoesNotMatch",
    message: "The request signature we calculated does not match the signature you provided.",
};
const EXPIRED: StorageError = StorageError { status: 403, code: "AccessDenied", message: "Request has expired" };
const TOO_BIG: StorageError = StorageError {
    status: 400,
    code: "EntityTooLarge",
    message: "Your proposed upload exceeds the maximum allowed size",
};

/// What a storage URL was signed for: any presigned object (a
/// knowledge-base file, an agent avatar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// Storage key.
    pub key: &'a str,
    /// Expiry, epoch ms.
    pub expires_at: Millis,
    /// The `Content-Type` the PUT must send.
    pub content_type: &'a str,
    /// Largest accepted body, bytes.
    pub max_bytes: u64,
}

impl PendingUpload {
    /// What its URL was signed for.
    pub fn signed(&self) -> Signed<'_> {
        Signed {
            key: &self.key,
            expires_at: self.expires_at,
            content_type: &self.spec.content_type,
            max_bytes: MAX_FILE_BYTES,
        }
    }
}

/// Checks a PUT to a storage URL: the signature and expiry from its query,
/// its `Content-Type` (must equal the signed one, as S3 signs it) and its
/// length (at most `max_bytes`). An unknown key or a bad signature is 403
/// `SignatureDoesNotMatch`; past the expiry 403 `AccessDenied`; too long
/// 400 `EntityTooLarge`. A second PUT before completion replaces the first.
pub fn check_put(
    signed: Option<Signed<'_>>,
    secret: &[u8],
    query_sig: &str,
    query_expires: Millis,
    content_type: &str,
    len: u64,
    now: Millis,
) -> Result<(), StorageError> {
    let p = signed.ok_or(DENIED)?;
    if query_expires != p.expires_at || signature(secret, p.key, p.expires_at) != query_sig {
        return Err(DENIED);
    }
    if now > p.expires_at {
        return Err(EXPIRED);
    }
    if content_type != p.content_type {
        return Err(DENIED);
    }
    if len > p.max_bytes {
        return Err(TOO_BIG);
    }
    Ok(())
}

/// Validates a completion against the pending upload of its key. Errors
/// (400): the body's own field errors as for presign, [`UNKNOWN_KEY`] (no
/// such key, already completed, or expired before the bytes arrived),
/// [`MISMATCH`] (other knowledge base, file name or type), [`NOT_UPLOADED`].
pub fn validate_complete(
    b: &CompleteBody,
    pending: Option<&PendingUpload>,
    now: Millis,
) -> Result<FileSpec, DomainError> {
    let key = required(&b.key, "key")?;
    let spec = file_spec(&b.file_name, b.file_size, &b.content_type, &b.knowledge_base_id)?;
    let p = pending.filter(|p| p.key == key).ok_or_else(|| DomainError::invalid(UNKNOWN_KEY))?;
    if p.received.is_none() && now > p.expires_at {
        return Err(DomainError::invalid(UNKNOWN_KEY));
    }
    let same = p.spec.knowledge_base_id == spec.knowledge_base_id
        && p.spec.file_name == spec.file_name
        && p.spec.content_type == spec.content_type;
    if !same {
        return Err(DomainError::invalid(MISMATCH));
    }
    if p.received.is_none() {
        return Err(DomainError::invalid(NOT_UPLOADED));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: &str = "6867ca76d0f8f2e0f4201281";

    fn presign() -> PresignBody {
        PresignBody {
            file_name: Some("handbook.pdf".into()),
            file_size: Some(2_457_600),
            content_type: Some(PDF_MIME.into()),
            knowledge_base_id: Some(KB.into()),
        }
    }

    #[test]
    fn only_pdfs_by_type_and_extension() {
        assert_eq!(check_media(false, None, None), Err(DomainError::invalid("media: Required")));
        assert_eq!(check_media(true, Some("a.PDF"), Some("application/pdf")), Ok(()));
        assert_eq!(check_media(true, Some("a.txt"), Some("application/pdf")), Err(DomainError::invalid(ONLY_PDF)));
        assert_eq!(check_media(true, Some("a.pdf"), Some("text/plain")), Err(DomainError::invalid(ONLY_PDF)));
        assert_eq!(title_of("Price List.PDF"), "Price List");
    }

    #[test]
    fn presign_checks_every_field_and_the_declared_size() {
        assert!(validate_presign(&presign()).is_ok());
        let mut b = presign();
        b.file_size = Some(0);
        assert_eq!(
            validate_presign(&b),
            Err(DomainError::invalid("fileSize: Number must be greater than or equal to 1"))
        );
        b.file_size = Some(i64::try_from(MAX_FILE_BYTES).unwrap() + 1);
        assert_eq!(validate_presign(&b), Err(DomainError::invalid(TOO_LARGE)));
        let mut b = presign();
        b.knowledge_base_id = None;
        assert_eq!(validate_presign(&b), Err(DomainError::invalid("knowledgeBaseId: Required")));
        b.knowledge_base_id = Some("x".into());
        assert_eq!(validate_presign(&b), Err(DomainError::invalid(INVALID_ID)));
    }

    #[test]
    fn the_put_must_match_signature_expiry_and_content_type() {
        let spec = validate_presign(&presign()).unwrap();
        let key = storage_key("o", KB, "u", "My File.pdf");
        assert!(key.ends_with("/u/My_File.pdf"));
        let p = PendingUpload { key: key.clone(), spec, expires_at: 1_000, received: None };
        let sig = signature(b"s", &key, 1_000);
        let url = presigned_url("http://127.0.0.1:9/", b"s", &key, 1_000);
        assert!(url.starts_with("http://127.0.0.1:9/_storage/knowledgebase/") && url.ends_with(&sig));
        assert_eq!(check_put(Some(p.signed()), b"s", &sig, 1_000, PDF_MIME, 10, 500), Ok(()));
        assert_eq!(check_put(Some(p.signed()), b"s", "00", 1_000, PDF_MIME, 10, 500), Err(DENIED));
        assert_eq!(check_put(Some(p.signed()), b"s", &sig, 1_000, "text/plain", 10, 500), Err(DENIED));
        assert_eq!(check_put(Some(p.signed()), b"s", &sig, 1_000, PDF_MIME, 10, 1_001), Err(EXPIRED));
        assert_eq!(check_put(None, b"s", &sig, 1_000, PDF_MIME, 10, 500), Err(DENIED));
        assert!(EXPIRED.xml().contains("<Code>AccessDenied</Code>"));
        let avatar = Signed { key: &key, expires_at: 1_000, content_type: "image/png", max_bytes: 5 };
        assert_eq!(check_put(Some(avatar), b"s", &sig, 1_000, "image/png", 6, 500), Err(TOO_BIG));
    }

    #[test]
    fn completion_needs_the_bytes_and_the_same_file() {
        let spec = validate_presign(&presign()).unwrap();
        let mut p = PendingUpload { key: "k".into(), spec, expires_at: 1_000, received: None };
        let body = CompleteBody {
            file_name: Some("handbook.pdf".into()),
            content_type: Some(PDF_MIME.into()),
            knowledge_base_id: Some(KB.into()),
            key: Some("k".into()),
            file_size: Some(2_457_600),
        };
        assert_eq!(validate_complete(&body, Some(&p), 10), Err(DomainError::invalid(NOT_UPLOADED)));
        assert_eq!(validate_complete(&body, None, 10), Err(DomainError::invalid(UNKNOWN_KEY)));
        p.received = Some(Received { len: 5, is_pdf: true, text: String::new() });
        assert!(validate_complete(&body, Some(&p), 5_000).is_ok(), "received bytes outlive the URL");
        let other = CompleteBody { file_name: Some("other.pdf".into()), ..body };
        assert_eq!(validate_complete(&other, Some(&p), 10), Err(DomainError::invalid(MISMATCH)));
    }

    #[test]
    fn text_comes_out_of_uncompressed_content_streams() {
        let pdf = b"%PDF-1.4\n1 0 obj<<>>stream\nBT /F1 12 Tf (Opening hours:) Tj ( 9 to 5\\051) ' ET\nBT [(Re) -20 (funds) ] TJ ET\nendstream";
        assert!(is_pdf(pdf) && !is_pdf(b"hello"));
        assert_eq!(pdf_text(pdf), "Opening hours: 9 to 5)\nRefunds");
        assert_eq!(pdf_text(b"BT (unterminated \\"), "unterminated");
    }
}
