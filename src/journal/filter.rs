//! Which entries a listing or a long-poll wants: [`Filter`] and its
//! [`StatusMatch`].

use super::Entry;

/// Which status codes match: one code, or a class (`5xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    /// Exactly this code.
    Exact(u16),
    /// Any code with this first digit.
    Class(u16),
}

impl StatusMatch {
    /// Parses `503` or `5xx` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(d) = s.strip_suffix("xx").or_else(|| s.strip_suffix("XX")) {
            return d.parse().ok().filter(|d| (1..=5).contains(d)).map(Self::Class);
        }
        s.parse().ok().filter(|c| (100..=599).contains(c)).map(Self::Exact)
    }

    fn matches(self, status: u16) -> bool {
        match self {
            Self::Exact(c) => status == c,
            Self::Class(d) => status / 100 == d,
        }
    }
}

/// Filters for listing and waiting; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The Bearer token as sent.
    pub api_key: Option<String>,
    /// Method, compared ignoring case.
    pub method: Option<String>,
    /// Start of the full path (`/atoms/v1/...`).
    pub path_prefix: Option<String>,
    /// Status code or class.
    pub status: Option<StatusMatch>,
    /// Only entries with `seq` greater than this.
    pub since: u64,
}

impl Filter {
    /// Whether `e` passes.
    pub fn matches(&self, e: &Entry) -> bool {
        e.seq > self.since
            && self.api_key.as_deref().is_none_or(|k| e.text.api_key() == Some(k))
            && self.method.as_deref().is_none_or(|m| e.method.as_str().eq_ignore_ascii_case(m))
            && self.path_prefix.as_deref().is_none_or(|p| e.text.path().starts_with(p))
            && self.status.is_none_or(|s| s.matches(e.status))
    }
}

#[cfg(test)]
mod tests {
    use super::super::entry::test_entry;
    use super::*;

    #[test]
    fn filters_combine_key_method_prefix_status_and_since() {
        let mut e = test_entry("/atoms/v1/agent/1", Some("k1"), 503);
        e.seq = 5;
        let f = |f: Filter| f.matches(&e);
        assert!(f(Filter { api_key: Some("k1".into()), method: Some("get".into()), ..Filter::default() }));
        assert!(!f(Filter { api_key: Some("k2".into()), ..Filter::default() }));
        assert!(f(Filter { path_prefix: Some("/atoms/v1/agent".into()), ..Filter::default() }));
        assert!(!f(Filter { path_prefix: Some("/atoms/v1/call".into()), ..Filter::default() }));
        assert!(f(Filter { status: StatusMatch::parse("5xx"), ..Filter::default() }));
        assert!(!f(Filter { status: StatusMatch::parse("500"), ..Filter::default() }));
        assert!(f(Filter { since: 4, ..Filter::default() }));
        assert!(!f(Filter { since: 5, ..Filter::default() }));
    }

    #[test]
    fn status_filters_parse_codes_and_classes() {
        assert_eq!(StatusMatch::parse("404"), Some(StatusMatch::Exact(404)));
        assert_eq!(StatusMatch::parse("4XX"), Some(StatusMatch::Class(4)));
        assert_eq!(StatusMatch::parse("9xx"), None);
        assert_eq!(StatusMatch::parse("42"), None);
    }
}
