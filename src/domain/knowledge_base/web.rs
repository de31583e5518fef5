//! Web sources of a knowledge base, without network access:
//! `POST /knowledgebase/get-sitemap-urls` and
//! `POST /knowledgebase/{id}/scrape-urls`.
//!
//! The mock never fetches anything. What a URL "returns" is a [`WebPage`]
//! supplied by the control API or a fixture; the store looks it up and
//! hands it to these functions. A URL nobody supplied behaves like a page
//! that could not be fetched: the sitemap answers 422, the scrape fails.

use serde::{Deserialize, Serialize};

use super::super::webhook::is_http_url;
use super::super::{array_len, DomainError};
use super::processing::{Extract, Stage};

/// Most URLs per scrape request (the mock's bound; inferred).
pub const MAX_SCRAPE_URLS: usize = 100;
/// Most URLs a sitemap answer lists (the sitemap protocol's own limit).
pub const MAX_SITEMAP_URLS: usize = 50_000;
/// 422 (OAS: "Could not fetch sitemap, or the sitemap XML is malformed"):
/// no page supplied, or an HTTP error status.
pub const SITEMAP_UNREACHABLE: &str = "Could not fetch sitemap";
/// 422: the page is not a well-formed sitemap.
pub const SITEMAP_MALFORMED: &str = "The sitemap XML is malformed";
/// A scrape's failure (`failed`) when the URL returns nothing.
pub const FETCH_FAILED: &str = "Failed to fetch URL";

/// What a URL returns, as supplied by the control API or a fixture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebPage {
    /// HTTP status the "server" answers (default 200).
    #[serde(default = "ok_status")]
    pub status: u16,
    /// `Content-Type` (default `text/html`).
    #[serde(default = "html")]
    pub content_type: String,
    /// The body.
    pub body: String,
}

fn ok_status() -> u16 {
    200
}

fn html() -> String {
    "text/html".into()
}

/// Body of `POST /knowledgebase/get-sitemap-urls` (both required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SitemapBody {
    /// The sitemap's URL, or a homepage.
    pub site_url: Option<String>,
    /// 24-hex knowledge base (ownership check only).
    pub knowledge_base_id: Option<String>,
}

/// Validates a sitemap request. Errors (400): `siteUrl: Required`,
/// `knowledgeBaseId: Required`, `siteUrl: Invalid url`, [`INVALID_ID`](super::INVALID_ID).
pub fn validate_sitemap(b: &SitemapBody) -> Result<(String, String), DomainError> {
    let site = b.site_url.as_deref().ok_or_else(|| DomainError::invalid("siteUrl: Required"))?;
    let kb = b.knowledge_base_id.as_deref().ok_or_else(|| DomainError::invalid("knowledgeBaseId: Required"))?;
    if !is_http_url(site) {
        return Err(DomainError::invalid("siteUrl: Invalid url"));
    }
    super::check_id(kb)?;
    Ok((site.to_string(), kb.to_string()))
}

/// Where the sitemap of `site_url` may be, in the order they are tried:
/// the URL itself, then `<origin>/sitemap.xml` and
/// `<origin>/sitemap_index.xml` ("or a homepage that links to one").
pub fn sitemap_candidates(site_url: &str) -> Vec<String> {
    let mut out = vec![site_url.to_string()];
    if let Some((scheme, rest)) = site_url.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        for file in ["sitemap.xml", "sitemap_index.xml"] {
            let u = format!("{scheme}://{host}/{file}");
            if !out.contains(&u) {
                out.push(u);
            }
        }
    }
    out
}

/// A parsed sitemap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sitemap {
    /// `<urlset>`: page URLs.
    Urls(Vec<String>),
    /// `<sitemapindex>`: URLs of further sitemaps (followed one level).
    Index(Vec<String>),
}

/// Parses sitemap XML (sitemaps.org protocol, namespace-agnostic): the
/// `<loc>` of each `<url>` or `<sitemap>`, trimmed, http(s) only, in
/// order, at most [`MAX_SITEMAP_URLS`]. Error: [`SITEMAP_MALFORMED`] for
/// XML that is not well-formed or whose root is neither element.
pub fn parse_sitemap(xml: &str) -> Result<Sitemap, &'static str> {
    let doc = roxmltree::Document::parse(xml).map_err(|_| SITEMAP_MALFORMED)?;
    let root = doc.root_element();
    let entry = match root.tag_name().name() {
        "urlset" => "url",
        "sitemapindex" => "sitemap",
        _ => return Err(SITEMAP_MALFORMED),
    };
    let locs: Vec<String> = root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == entry)
        .filter_map(|n| n.children().find(|c| c.is_element() && c.tag_name().name() == "loc"))
        .filter_map(|loc| loc.text().map(str::trim))
        .filter(|u| is_http_url(u))
        .take(MAX_SITEMAP_URLS)
        .map(str::to_string)
        .collect();
    Ok(if entry == "url" { Sitemap::Urls(locs) } else { Sitemap::Index(locs) })
}

/// The URLs a sitemap request returns: the first candidate of
/// [`sitemap_candidates`] that `lookup` answers with a 2xx page is parsed;
/// a `<sitemapindex>` is followed one level (children looked up the same
/// way, unreachable or malformed children skipped). Deduplicated, in
/// order, at most [`MAX_SITEMAP_URLS`]. Errors (422):
/// [`SITEMAP_UNREACHABLE`], [`SITEMAP_MALFORMED`].
pub fn extract_sitemap<'a>(
    site_url: &str,
    lookup: impl Fn(&str) -> Option<&'a WebPage>,
) -> Result<Vec<String>, &'static str> {
    let ok = |u: &str| lookup(u).filter(|p| (200..300).contains(&p.status));
    let page = sitemap_candidates(site_url).iter().find_map(|u| ok(u)).ok_or(SITEMAP_UNREACHABLE)?;
    let urls = match parse_sitemap(&page.body)? {
        Sitemap::Urls(u) => u,
        Sitemap::Index(children) => children
            .iter()
            .filter_map(|c| ok(c))
            .filter_map(|p| match parse_sitemap(&p.body) {
                Ok(Sitemap::Urls(u)) => Some(u),
                Ok(Sitemap::Index(_)) | Err(_) => None,
            })
            .flatten()
            .collect(),
    };
    let mut seen = std::collections::HashSet::new();
    Ok(urls.into_iter().filter(|u| seen.insert(u.clone())).take(MAX_SITEMAP_URLS).collect())
}

/// Body of `POST /knowledgebase/{id}/scrape-urls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ScrapeBody {
    /// Required, 1–[`MAX_SCRAPE_URLS`] http(s) URLs.
    pub urls: Option<Vec<String>>,
}

/// Validates a scrape request and removes repeats (first one kept).
/// Errors (400): `urls: Required`, `urls: Array must contain at least 1
/// element(s)`, `urls: Array must contain at most 100 element(s)`,
/// `urls.<i>: Invalid url`.
pub fn validate_scrape(b: &ScrapeBody) -> Result<Vec<String>, DomainError> {
    let urls = b.urls.as_ref().ok_or_else(|| DomainError::invalid("urls: Required"))?;
    array_len("urls", urls.len(), 1, MAX_SCRAPE_URLS).map_err(DomainError::invalid)?;
    let mut out: Vec<String> = Vec::with_capacity(urls.len());
    for (i, u) in urls.iter().enumerate() {
        if !is_http_url(u) {
            return Err(DomainError::invalid(format!("urls.{i}: Invalid url")));
        }
        if !out.contains(u) {
            out.push(u.clone());
        }
    }
    Ok(out)
}

/// Splits validated `urls` into those to add and the number skipped:
/// a URL the knowledge base already holds in any stage but `failed` is
/// skipped (a failed one is scraped again as a new row).
pub fn new_urls(urls: Vec<String>, existing: &[(&str, Stage)]) -> (Vec<String>, usize) {
    let before = urls.len();
    let add: Vec<String> =
        urls.into_iter().filter(|u| !existing.iter().any(|(e, st)| e == u && *st != Stage::Failed)).collect();
    let skipped = before - add.len();
    (add, skipped)
}

/// `data` of a scrape request (inferred; the spec says "async job
/// acknowledgement"): `{message: "Scraping started", queued, skipped}`.
pub fn scrape_ack(queued: usize, skipped: usize) -> serde_json::Value {
    serde_json::json!({"message": "Scraping started", "queued": queued, "skipped": skipped})
}

/// The result of scraping a URL whose supplied page is `page`: the page's
/// text, or why it failed ([`FETCH_FAILED`] when nothing was supplied,
/// `HTTP <status>` for an error status).
pub fn scrape(page: Option<&WebPage>) -> Result<Extract, String> {
    let p = page.ok_or_else(|| FETCH_FAILED.to_string())?;
    if !(200..300).contains(&p.status) {
        return Err(format!("HTTP {}", p.status));
    }
    Ok(page_text(&p.body, &p.content_type))
}

/// The text of a page: for HTML, the `<title>` and the visible text
/// (tags removed, `script`/`style`/`head` dropped, a few entities
/// decoded, block ends as line breaks); anything else is taken as plain
/// text. Whitespace is collapsed within lines. Never panics.
pub fn page_text(body: &str, content_type: &str) -> Extract {
    if !content_type.to_ascii_lowercase().contains("html") {
        return Extract { title: None, text: collapse(body) };
    }
    let lower = body.to_ascii_lowercase();
    let title = between(body, &lower, "<title", "</title>").map(|t| decode(&collapse(t))).filter(|t| !t.is_empty());
    let mut text = String::with_capacity(body.len() / 2);
    let mut i = 0;
    while let Some(off) = body[i..].find('<') {
        text.push_str(&body[i..i + off]);
        let tag_start = i + off;
        let tag_end = body[tag_start..].find('>').map_or(body.len(), |e| tag_start + e + 1);
        let name: String = lower[tag_start + 1..tag_end.min(lower.len())]
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        i = tag_end;
        if matches!(name.as_str(), "script" | "style" | "head") && !lower[tag_start..].starts_with("</") {
            let close = format!("</{name}");
            i = lower[i..].find(&close).map_or(body.len(), |c| i + c);
        } else if matches!(name.as_str(), "p" | "br" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "section") {
            text.push('\n');
        }
    }
    text.push_str(&body[i.min(body.len())..]);
    Extract { title, text: decode(&collapse(&text)) }
}

fn between<'a>(body: &'a str, lower: &str, open: &str, close: &str) -> Option<&'a str> {
    let start = lower.find(open)?;
    let content = start + lower[start..].find('>')? + 1;
    let end = content + lower[content..].find(close)?;
    body.get(content..end)
}

/// Collapses runs of spaces within lines and drops empty lines.
fn collapse(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::super::INVALID_ID;
    use super::*;

    #[test]
    fn sitemaps_list_locations_in_order() {
        let xml = r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc> https://example.com/pricing </loc></url><url><loc>https://example.com/faq</loc></url>
            <url><loc>ftp://nope</loc></url></urlset>"#;
        assert_eq!(
            parse_sitemap(xml),
            Ok(Sitemap::Urls(vec!["https://example.com/pricing".into(), "https://example.com/faq".into()]))
        );
        let idx = "<sitemapindex><sitemap><loc>https://example.com/s1.xml</loc></sitemap></sitemapindex>";
        assert_eq!(parse_sitemap(idx), Ok(Sitemap::Index(vec!["https://example.com/s1.xml".into()])));
        assert_eq!(parse_sitemap("<urlset><url>"), Err(SITEMAP_MALFORMED));
        assert_eq!(parse_sitemap("<html></html>"), Err(SITEMAP_MALFORMED));
    }

    #[test]
    fn an_index_is_followed_one_level_and_repeats_removed() {
        let page = |body: &str| WebPage { status: 200, content_type: "application/xml".into(), body: body.into() };
        let idx = page("<sitemapindex><sitemap><loc>https://a.com/s1.xml</loc></sitemap><sitemap><loc>https://a.com/s2.xml</loc></sitemap></sitemapindex>");
        let s1 = page("<urlset><url><loc>https://a.com/x</loc></url><url><loc>https://a.com/y</loc></url></urlset>");
        let s2 = page("<urlset><url><loc>https://a.com/y</loc></url></urlset>");
        let lookup = |u: &str| match u {
            "https://a.com/sitemap.xml" => Some(&idx),
            "https://a.com/s1.xml" => Some(&s1),
            "https://a.com/s2.xml" => Some(&s2),
            _ => None,
        };
        assert_eq!(
            extract_sitemap("https://a.com/", lookup),
            Ok(vec!["https://a.com/x".to_string(), "https://a.com/y".to_string()])
        );
        assert_eq!(extract_sitemap("https://b.com/", lookup), Err(SITEMAP_UNREACHABLE));
        let broken = page("<urlset>");
        assert_eq!(extract_sitemap("https://c.com/", |_| Some(&broken)), Err(SITEMAP_MALFORMED));
    }

    #[test]
    fn known_urls_are_skipped_unless_they_failed() {
        let existing = [("https://a.com/x", Stage::Done), ("https://a.com/f", Stage::Failed)];
        let urls = vec!["https://a.com/x".to_string(), "https://a.com/f".to_string(), "https://a.com/n".to_string()];
        let (add, skipped) = new_urls(urls, &existing);
        assert_eq!((add, skipped), (vec!["https://a.com/f".to_string(), "https://a.com/n".to_string()], 1));
        assert_eq!(scrape_ack(2, 1)["queued"], 2);
    }

    #[test]
    fn candidates_fall_back_to_the_origin() {
        assert_eq!(
            sitemap_candidates("https://example.com/about?x=1"),
            [
                "https://example.com/about?x=1",
                "https://example.com/sitemap.xml",
                "https://example.com/sitemap_index.xml"
            ]
        );
    }

    #[test]
    fn scrape_requests_are_validated_and_deduplicated() {
        let ok = ScrapeBody { urls: Some(vec!["https://a.com/x".into(), "https://a.com/x".into()]) };
        assert_eq!(validate_scrape(&ok), Ok(vec!["https://a.com/x".to_string()]));
        assert_eq!(
            validate_scrape(&ScrapeBody { urls: Some(vec![]) }),
            Err(DomainError::invalid("urls: Array must contain at least 1 element(s)"))
        );
        let badurl = ScrapeBody { urls: Some(vec!["https://a.com".into(), "nope".into()]) };
        assert_eq!(validate_scrape(&badurl), Err(DomainError::invalid("urls.1: Invalid url")));
        let b = SitemapBody { site_url: Some("https://a.com".into()), knowledge_base_id: Some("x".into()) };
        assert_eq!(validate_sitemap(&b), Err(DomainError::invalid(INVALID_ID)));
    }

    #[test]
    fn html_pages_become_title_and_visible_text() {
        let page = "<html><head><title>Pricing &amp; Plans</title><style>p{}</style></head><body>\
            <h1>Plans</h1><p>Pro costs   $20 a month.</p><script>var x = '<p>';</script><p>Cancel anytime.</p></body></html>";
        let x = page_text(page, "text/html; charset=utf-8");
        assert_eq!(x.title.as_deref(), Some("Pricing & Plans"));
        assert_eq!(x.text, "Plans\nPro costs $20 a month.\nCancel anytime.");
        assert_eq!(page_text("a  b\n\n c", "text/plain").text, "a b\nc");
        assert_eq!(scrape(None), Err(FETCH_FAILED.into()));
        let missing = WebPage { status: 404, content_type: "text/html".into(), body: String::new() };
        assert_eq!(scrape(Some(&missing)), Err("HTTP 404".into()));
    }
}
