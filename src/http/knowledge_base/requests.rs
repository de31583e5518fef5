//! Request bodies of the knowledge-base area. Each wraps the domain's
//! body type (`crate::domain::knowledge_base`), whose validators give the
//! platform's messages; serde's own type errors read as usual (see
//! `http::json`).

use crate::domain::knowledge_base::upload::{CompleteBody, PresignBody};
use crate::domain::knowledge_base::web::{ScrapeBody, SitemapBody};
use crate::domain::knowledge_base::KnowledgeBaseBody;
use crate::http::json::domain_body;

domain_body!(
    /// `POST /knowledgebase` and `POST /knowledgebase/{id}`: `{name
    /// (1–40 characters, trimmed), description? (≤ 2000)}`.
    KnowledgeBaseRequest(KnowledgeBaseBody)
);
domain_body!(
    /// `POST /knowledgebase/get-presigned-url`: `{fileName, fileSize (≥ 1
    /// bytes, ≤ 25 MiB), contentType (application/pdf), knowledgeBaseId}`.
    PresignRequest(PresignBody)
);
domain_body!(
    /// `POST /knowledgebase/compelete-file-upload`: the presigned fields
    /// again and the `key` the presign returned.
    CompleteUploadRequest(CompleteBody)
);
domain_body!(
    /// `POST /knowledgebase/get-sitemap-urls`: `{siteUrl, knowledgeBaseId}`.
    SitemapRequest(SitemapBody)
);
domain_body!(
    /// `POST /knowledgebase/{id}/scrape-urls`: `{urls: [1..100 http(s) URLs]}`.
    ScrapeRequest(ScrapeBody)
);
