//! The rubric of [`super::prompt_score`]: the 11 dimensions of the spec's
//! table (OAS POST /prompt-scoring/score) and how each is judged from the
//! prompt's text. Cues match whole words, case-insensitively.
//!
//! | dimension | tier | judged by |
//! |---|---|---|
//! | Role & Objective | 1 | a role cue and a goal cue: both Strong, role only Adequate, goal only Weak |
//! | Personality & Voice | 1 | tone cues: ≥ 3 Strong, 2 Adequate, 1 Weak |
//! | Conversation Structure | 1 | list lines (≤ 5) + headings + ordering words: ≥ 5, ≥ 3, ≥ 1 |
//! | Tool Integration | 1 | share of declared tools the prompt names; no tools: Not Applicable |
//! | Constraints & Safety | 1 | restriction cues: ≥ 4, ≥ 2, ≥ 1 |
//! | Conversational Naturalness | 2 | spoken-style cues: ≥ 3, 2, 1 |
//! | Failure-Mode Coverage | 2 | failure cues: ≥ 3, 2, 1 |
//! | Information Integrity | 3 | grounding cues: ≥ 3, 2, 1 (gate: Weak/Missing caps at 70) |
//! | Variable & Tool Hygiene | 3 | `{{variables}}` and `snake_case` tool references resolve (gate at 50) |
//! | Internal Consistency | 3 | contradictions: none Strong (Adequate under 40 words), 1 Weak, ≥ 2 Missing |
//! | Density | 3 | band: lean Strong, normal Adequate, heavy Weak, overweight Missing; under 50 tokens Weak; > 20 % repeated sentences one level lower |

use std::collections::BTreeSet;

use super::prompt_score::{band, Dimension, Level, PromptInput};

/// How a dimension is judged.
#[derive(Debug, Clone, Copy)]
pub enum Judge {
    /// Count distinct cues: ≥ `strong` Strong, ≥ `adequate` Adequate, ≥ 1 Weak.
    Cues(&'static [&'static str], usize, usize),
    /// Role and goal cues.
    Role,
    /// Lists, headings and ordering words.
    Structure,
    /// Declared tools named in the prompt.
    Tools,
    /// Placeholders and tool references resolve.
    Hygiene,
    /// No contradictions.
    Consistency,
    /// Token band and repetition.
    Density,
}

/// One row of the rubric.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The spec's dimension name (the `title` on the wire).
    pub title: &'static str,
    /// Tier 1–3.
    pub tier: u8,
    /// What it is about, for descriptions.
    pub what: &'static str,
    /// How it is judged.
    pub judge: Judge,
}

const ROLE: &[&str] = &["you are", "your role", "act as", "your name is", "you work", "you represent"];
const GOAL: &[&str] = &[
    "your goal",
    "objective",
    "your job",
    "your task",
    "purpose",
    "responsible for",
    "mission",
    "help callers",
    "help customers",
    "help users",
];
const VOICE: &[&str] = &[
    "tone",
    "friendly",
    "warm",
    "professional",
    "empathetic",
    "polite",
    "personality",
    "upbeat",
    "calm",
    "patient",
    "cheerful",
    "style",
];
const SAFETY: &[&str] = &[
    "never",
    "do not",
    "don't",
    "must not",
    "avoid",
    "only discuss",
    "refuse",
    "privacy",
    "confidential",
    "personal information",
    "medical advice",
    "legal advice",
    "not allowed",
];
const NATURAL: &[&str] = &[
    "short",
    "brief",
    "concise",
    "one question at a time",
    "natural",
    "conversational",
    "plain language",
    "spoken",
    "contractions",
    "pause",
    "don't read",
    "avoid lists",
];
const FAILURE: &[&str] = &[
    "if the user",
    "if the caller",
    "if you don't know",
    "if you do not know",
    "unclear",
    "didn't understand",
    "did not understand",
    "fails",
    "error",
    "unavailable",
    "escalate",
    "transfer",
    "repeat",
    "silent",
    "off topic",
];
const INTEGRITY: &[&str] = &[
    "make up",
    "invent",
    "fabricate",
    "hallucinate",
    "don't guess",
    "do not guess",
    "not sure",
    "only use",
    "knowledge base",
    "verify",
    "accurate",
    "source",
];
const ORDER: &[&str] = &["first", "then", "next", "finally", "after that", "step"];

/// The 11 dimensions, in the spec's order.
pub const DIMENSIONS: [Spec; 11] = [
    Spec { title: "Role & Objective", tier: 1, what: "the agent's role and objective", judge: Judge::Role },
    Spec {
        title: "Personality & Voice",
        tier: 1,
        what: "the agent's tone and personality",
        judge: Judge::Cues(VOICE, 3, 2),
    },
    Spec { title: "Conversation Structure", tier: 1, what: "the flow of the conversation", judge: Judge::Structure },
    Spec { title: "Tool Integration", tier: 1, what: "when to use the declared tools", judge: Judge::Tools },
    Spec {
        title: "Constraints & Safety",
        tier: 1,
        what: "what the agent must not do",
        judge: Judge::Cues(SAFETY, 4, 2),
    },
    Spec {
        title: "Conversational Naturalness",
        tier: 2,
        what: "how to sound natural on a call",
        judge: Judge::Cues(NATURAL, 3, 2),
    },
    Spec {
        title: "Failure-Mode Coverage",
        tier: 2,
        what: "errors, unclear input and escalation",
        judge: Judge::Cues(FAILURE, 3, 2),
    },
    Spec {
        title: "Information Integrity",
        tier: 3,
        what: "grounding answers and not inventing facts",
        judge: Judge::Cues(INTEGRITY, 3, 2),
    },
    Spec { title: "Variable & Tool Hygiene", tier: 3, what: "variables and tools that resolve", judge: Judge::Hygiene },
    Spec {
        title: "Internal Consistency",
        tier: 3,
        what: "instructions that agree with each other",
        judge: Judge::Consistency,
    },
    Spec { title: "Density", tier: 3, what: "a prompt length that keeps latency low", judge: Judge::Density },
];

/// Lowercase words joined by single spaces and padded, so `" cue "`
/// matches whole words (apostrophes kept).
fn norm(s: &str) -> String {
    let words: Vec<String> = s
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    format!(" {} ", words.join(" "))
}

fn has(normed: &str, cue: &str) -> bool {
    normed.contains(&norm(cue))
}

/// The prompt's sentences (split at `. ! ?` and line ends), trimmed.
fn sentences(prompt: &str) -> Vec<&str> {
    prompt.split(['.', '!', '?', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect()
}

/// The first sentence containing `cue`, at most 160 characters.
fn evidence(prompt: &str, cue: &str) -> String {
    sentences(prompt)
        .into_iter()
        .find(|s| has(&norm(s), cue))
        .map(|s| s.chars().take(160).collect())
        .unwrap_or_default()
}

fn by_count(n: usize, strong: usize, adequate: usize) -> Level {
    match n {
        0 => Level::Missing,
        n if n >= strong => Level::Strong,
        n if n >= adequate => Level::Adequate,
        _ => Level::Weak,
    }
}

fn describe(level: Level, what: &str, detail: &str) -> String {
    let base = match level {
        Level::Strong => format!("Clearly covers {what}."),
        Level::Adequate => format!("Covers {what}, but only in part."),
        Level::Weak => format!("Barely covers {what}."),
        Level::Missing => format!("Does not cover {what}."),
        Level::NotApplicable => format!("Not applicable: nothing in the prompt concerns {what}."),
    };
    if detail.is_empty() {
        base
    } else {
        format!("{base} {detail}")
    }
}

/// Judges one dimension of `input` (with `tokens` estimated tokens).
pub fn assess(spec: &Spec, input: &PromptInput<'_>, tokens: u64) -> Dimension {
    let p = input.prompt;
    let n = norm(p);
    let (level, evidence_span, detail) = match spec.judge {
        Judge::Cues(cues, strong, adequate) => {
            let found: Vec<&str> = cues.iter().copied().filter(|c| has(&n, c)).collect();
            let ev = found.first().map(|c| evidence(p, c)).unwrap_or_default();
            (by_count(found.len(), strong, adequate), ev, String::new())
        }
        Judge::Role => role(p, &n),
        Judge::Structure => structure(p, &n),
        Judge::Tools => tools(p, &n, input.tools),
        Judge::Hygiene => hygiene(p, input),
        Judge::Consistency => consistency(p, &n),
        Judge::Density => density(p, tokens),
    };
    Dimension {
        tier: spec.tier,
        level,
        evidence_span,
        title: spec.title.into(),
        description: describe(level, spec.what, &detail),
    }
}

type Judged = (Level, String, String);

fn role(p: &str, n: &str) -> Judged {
    let r = ROLE.iter().find(|c| has(n, c));
    let g = GOAL.iter().find(|c| has(n, c));
    let level = match (r, g) {
        (Some(_), Some(_)) => Level::Strong,
        (Some(_), None) => Level::Adequate,
        (None, Some(_)) => Level::Weak,
        (None, None) => Level::Missing,
    };
    (level, r.or(g).map(|c| evidence(p, c)).unwrap_or_default(), String::new())
}

fn structure(p: &str, n: &str) -> Judged {
    let is_item = |l: &str| {
        l.starts_with(['-', '*', '•'])
            || l.split_once(['.', ')'])
                .is_some_and(|(d, _)| !d.is_empty() && d.len() <= 2 && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let lines: Vec<&str> = p.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let items = lines.iter().filter(|l| is_item(l)).count();
    let headings = lines.iter().filter(|l| l.starts_with('#') || (l.ends_with(':') && l.chars().count() <= 40)).count();
    let order = ORDER.iter().filter(|c| has(n, c)).count();
    let ev = lines
        .iter()
        .find(|l| is_item(l) || l.starts_with('#'))
        .map(|l| l.chars().take(160).collect())
        .unwrap_or_default();
    (by_count(items.min(5) + headings + order, 5, 3), ev, String::new())
}

fn tools(p: &str, n: &str, declared: &[String]) -> Judged {
    if declared.is_empty() {
        return (Level::NotApplicable, String::new(), String::new());
    }
    let named: Vec<&String> = declared.iter().filter(|t| has(n, t)).collect();
    let level = match named.len() {
        0 => Level::Missing,
        k if k == declared.len() => Level::Strong,
        k if 2 * k >= declared.len() => Level::Adequate,
        _ => Level::Weak,
    };
    let detail = format!("{} of {} declared tools are named.", named.len(), declared.len());
    (level, named.first().map(|t| evidence(p, t)).unwrap_or_default(), detail)
}

/// `{{name}}` placeholders (`None` for an unclosed `{{`) and `snake_case`
/// identifiers followed by "tool" or "function" or `(`, or equal to a
/// declared tool.
fn references<'a>(p: &'a str, declared: &[String]) -> (Vec<Option<&'a str>>, BTreeSet<&'a str>) {
    let mut vars = Vec::new();
    let mut rest = p;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        match after.find("}}") {
            Some(j) => {
                vars.push(Some(after[..j].trim()));
                rest = &after[j + 2..];
            }
            None => {
                vars.push(None);
                break;
            }
        }
    }
    let toks: Vec<&str> =
        p.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '(')).filter(|t| !t.is_empty()).collect();
    let mut tools = BTreeSet::new();
    for (i, t) in toks.iter().enumerate() {
        let name = t.trim_end_matches('(').trim_matches('_');
        let snake =
            name.contains('_') && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        let next = toks.get(i + 1).map(|w| w.to_lowercase());
        let called = t.ends_with('(') || matches!(next.as_deref(), Some("tool" | "function" | "tools" | "functions"));
        if snake && (called || declared.iter().any(|d| d == name)) {
            tools.insert(name);
        }
    }
    (vars, tools)
}

fn hygiene(p: &str, input: &PromptInput<'_>) -> Judged {
    let (vars, tools) = references(p, input.tools);
    let mut bad: Vec<String> = Vec::new();
    let mut good = 0;
    for v in &vars {
        match v {
            Some(name) if input.variables.iter().any(|k| k == name) => good += 1,
            Some(name) => bad.push(format!("{{{{{name}}}}}")),
            None => bad.push("an unclosed {{".into()),
        }
    }
    for t in &tools {
        if input.tools.iter().any(|d| d == t) {
            good += 1;
        } else {
            bad.push((*t).to_string());
        }
    }
    let level = match (good, bad.len()) {
        (0, 0) => Level::NotApplicable,
        (_, 0) => Level::Strong,
        (0, _) => Level::Missing,
        _ => Level::Weak,
    };
    let first_ref = vars.iter().flatten().chain(tools.iter()).next().map(|r| (*r).to_string());
    let first = bad.first().map(|b| b.trim_matches(['{', '}']).to_string()).or(first_ref);
    let ev = first.map(|r| evidence(p, &r)).unwrap_or_default();
    let detail = if bad.is_empty() { String::new() } else { format!("Unresolved: {}.", bad.join(", ")) };
    (level, ev, detail)
}

fn consistency(p: &str, n: &str) -> Judged {
    let words: Vec<&str> = n.split_whitespace().collect();
    let after = |w: &str| -> BTreeSet<&str> { words.windows(2).filter(|x| x[0] == w).map(|x| x[1]).collect() };
    let clash: Vec<&str> = after("always").intersection(&after("never")).copied().collect();
    let mut count = clash.len();
    let short = ["answers short", "responses short", "replies short", "answers brief", "responses brief"];
    let long = [
        "detailed answers",
        "detailed responses",
        "long answers",
        "long responses",
        "lengthy answers",
        "lengthy responses",
    ];
    if short.iter().any(|c| has(n, c)) && long.iter().any(|c| has(n, c)) {
        count += 1;
    }
    let names: BTreeSet<&str> = words.windows(4).filter(|x| x[..3] == ["your", "name", "is"]).map(|x| x[3]).collect();
    count += names.len().saturating_sub(1);
    let level = match count {
        0 if words.len() >= 40 => Level::Strong,
        0 => Level::Adequate,
        1 => Level::Weak,
        _ => Level::Missing,
    };
    let ev = clash.first().map(|w| evidence(p, &format!("never {w}"))).unwrap_or_default();
    let detail = if count > 0 { format!("{count} contradiction(s) found.") } else { String::new() };
    (level, ev, detail)
}

fn density(p: &str, tokens: u64) -> Judged {
    let mut level = match (tokens, band(tokens)) {
        (0..50, _) => Level::Weak,
        (_, "lean") => Level::Strong,
        (_, "normal") => Level::Adequate,
        (_, "heavy") => Level::Weak,
        _ => Level::Missing,
    };
    let long: Vec<String> = sentences(p).into_iter().filter(|s| s.len() >= 20).map(norm).collect();
    let distinct: BTreeSet<&String> = long.iter().collect();
    let repeated = long.len() - distinct.len();
    if repeated * 5 > long.len() {
        level = match level {
            Level::Strong => Level::Adequate,
            Level::Adequate => Level::Weak,
            Level::Weak | Level::Missing | Level::NotApplicable => Level::Missing,
        };
    }
    (level, String::new(), format!("About {tokens} tokens ({}).", band(tokens)))
}
