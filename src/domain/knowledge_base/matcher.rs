//! Which passage of a knowledge base an agent turn quotes: a pure,
//! deterministic lexical matcher standing in for the platform's retrieval
//! (the `knowledgebase` SSE event carries the user's transcript and the
//! response, OAS GET /events).
//!
//! Each processed source (a `completed` item or an `indexed` URL) is cut
//! into passages (its lines, long lines split after sentences at about
//! [`PASSAGE_CHARS`]). The utterance and every passage become sets of
//! terms: lowercase alphanumeric words, stop words removed, a plural `s`
//! stripped. A passage scores the sum of the inverse passage frequency
//! `ln(1 + N / df)` of the utterance terms it contains. The best passage
//! wins; ties go to the shorter passage, then the smaller source id, then
//! the earlier passage, so the answer never depends on the order the
//! sources are given in. No shared term: no match.

use std::collections::{BTreeSet, HashMap};

/// Target passage length, characters; a longer line is split after the
/// sentence that crosses it.
pub const PASSAGE_CHARS: usize = 400;

/// One processed source of a knowledge base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<'a> {
    /// Item or scraped-URL id (24-hex).
    pub id: &'a str,
    /// Its extracted text.
    pub text: &'a str,
}

/// The passage an agent turn quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Id of the source it comes from.
    pub source_id: String,
    /// The passage, verbatim.
    pub passage: String,
    /// Its score (> 0).
    pub score: f64,
}

const STOP: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "did", "do", "does", "for",
    "from", "had", "has", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our",
    "please", "so", "that", "the", "their", "there", "this", "to", "us", "was", "we", "what", "when", "where", "which",
    "who", "why", "will", "with", "would", "you", "your",
];

/// The terms of `text` (see the module doc).
pub fn terms(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.chars().count() >= 3 && !stem.ends_with('s') => stem.to_string(),
            _ => w,
        })
        .collect()
}

/// Cuts `text` into passages: non-empty lines, each split after the
/// sentence (`. ! ?` then a space) that makes it reach [`PASSAGE_CHARS`].
pub fn passages(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut start = 0;
        let bytes = line.as_bytes();
        for (i, c) in line.char_indices() {
            let ends_sentence = matches!(c, '.' | '!' | '?') && bytes.get(i + 1) == Some(&b' ');
            if ends_sentence && i + 1 - start >= PASSAGE_CHARS {
                out.push(line[start..=i].trim());
                start = i + 1;
            }
        }
        let rest = line[start..].trim();
        if !rest.is_empty() {
            out.push(rest);
        }
    }
    out
}

/// The passage of `sources` that best answers `utterance`, or `None` when
/// no passage shares a term with it.
pub fn best_match(utterance: &str, sources: &[Source<'_>]) -> Option<Match> {
    let query = terms(utterance);
    if query.is_empty() {
        return None;
    }
    let all: Vec<(&str, usize, &str, BTreeSet<String>)> = sources
        .iter()
        .flat_map(|s| passages(s.text).into_iter().enumerate().map(move |(i, p)| (s.id, i, p)))
        .map(|(id, i, p)| (id, i, p, terms(p)))
        .collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for (_, _, _, t) in &all {
        for q in query.iter().filter(|q| t.contains(*q)) {
            *df.entry(q.as_str()).or_default() += 1;
        }
    }
    let n = all.len() as f64;
    let idf = |q: &str| df.get(q).map_or(0.0, |d| (1.0 + n / *d as f64).ln());
    all.iter()
        .map(|(id, i, p, t)| {
            let score: f64 = query.iter().filter(|q| t.contains(*q)).map(|q| idf(q)).sum();
            (score, *id, *i, *p)
        })
        .filter(|(score, ..)| *score > 0.0)
        .min_by(|a, b| b.0.total_cmp(&a.0).then(a.3.len().cmp(&b.3.len())).then(a.1.cmp(b.1)).then(a.2.cmp(&b.2)))
        .map(|(score, id, _, p)| Match { source_id: id.to_string(), passage: p.to_string(), score })
}

/// A processed source together with the knowledge base it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KbSource<'a> {
    /// 24-hex knowledge-base id.
    pub knowledge_base_id: &'a str,
    /// The source.
    pub source: Source<'a>,
}

/// [`best_match`] over sources of several knowledge bases: the knowledge
/// base the winning passage belongs to, and the match.
pub fn answer<'a>(utterance: &str, sources: &[KbSource<'a>]) -> Option<(&'a str, Match)> {
    let plain: Vec<Source<'_>> = sources.iter().map(|s| s.source).collect();
    let m = best_match(utterance, &plain)?;
    let kb = sources.iter().find(|s| s.source.id == m.source_id)?.knowledge_base_id;
    Some((kb, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn the_passage_sharing_the_rarest_terms_wins() {
        let faq = "We are open 9 to 5 on weekdays.\nRefunds are issued within 14 days of purchase.\nShipping is free over $50.";
        let web = "Our refund policy: contact support to start a refund.";
        let s = [Source { id: A, text: faq }, Source { id: B, text: web }];
        let m = best_match("How many days do refunds take after purchase?", &s).unwrap();
        assert_eq!((m.source_id.as_str(), m.passage.as_str()), (A, "Refunds are issued within 14 days of purchase."));
        let m = best_match("When are you open?", &s).unwrap();
        assert_eq!(m.passage, "We are open 9 to 5 on weekdays.");
        assert_eq!(best_match("Hello there", &s), None, "stop words and unknown words match nothing");
        assert_eq!(best_match("refunds", &[]), None);
        let kb =
            [KbSource { knowledge_base_id: "k1", source: s[0] }, KbSource { knowledge_base_id: "k2", source: s[1] }];
        let (id, m) = answer("refund policy support", &kb).unwrap();
        assert_eq!((id, m.source_id.as_str()), ("k2", B));
    }

    #[test]
    fn long_lines_are_split_after_sentences() {
        let long = format!("{}. Second sentence here.", "word ".repeat(90).trim());
        let p = passages(&long);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1], "Second sentence here.");
    }

    #[test]
    fn plurals_and_case_fold_together() {
        assert_eq!(terms("Refunds REFUND the glass"), BTreeSet::from(["refund".to_string(), "glass".to_string()]));
    }
}
