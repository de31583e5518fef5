//! The dimensions judged by more than counting cues (see the parent
//! module's table): role and goal, structure, tool integration, variable
//! and tool hygiene, internal consistency and density.

use super::*;

pub(super) type Judged = (Level, String, String);

pub(super) fn role(p: &str, n: &str) -> Judged {
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

pub(super) fn structure(p: &str, n: &str) -> Judged {
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

pub(super) fn tools(p: &str, n: &str, declared: &[String]) -> Judged {
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
pub(super) fn references<'a>(p: &'a str, declared: &[String]) -> (Vec<Option<&'a str>>, BTreeSet<&'a str>) {
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

pub(super) fn hygiene(p: &str, input: &PromptInput<'_>) -> Judged {
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

pub(super) fn consistency(p: &str, n: &str) -> Judged {
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

pub(super) fn density(p: &str, tokens: u64) -> Judged {
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
