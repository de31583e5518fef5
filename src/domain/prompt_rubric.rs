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

mod judges;

use judges::{consistency, density, hygiene, role, structure, tools};

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
