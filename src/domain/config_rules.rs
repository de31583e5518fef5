//! Bounds of every agent config field (BEHAVIOR R021–R023, R217 and
//! changelog 2026-05-05-agent-config-fields), checked before anything is
//! written.
//!
//! Messages follow the platform's validation style, `<path>: <problem>`
//! (R009), for example `firstMessage: String must contain at most 500
//! character(s)`. Fields that are not listed here are not config fields.

use serde_json::{Map, Value};

use super::string_len;

/// How one JSON value is checked.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// A string, optionally with a maximum length in characters.
    Str(Option<usize>),
    /// A number within inclusive bounds.
    Num(Option<f64>, Option<f64>),
    /// A number from a fixed set (e.g. sample rates in Hz).
    NumOneOf(&'static [f64]),
    /// A string from a fixed set.
    Enum(&'static [&'static str]),
    /// A boolean.
    Bool,
    /// An object with known keys (others pass) and required keys.
    Obj(&'static [(&'static str, Rule)], &'static [&'static str]),
    /// An array whose items follow the rule.
    Arr(&'static Rule),
    /// Any object.
    AnyObj,
    /// A rule written as code, for cross-field checks.
    Custom(fn(&Value, &str) -> Result<(), String>),
}

const LANG_CODES: &[&str] = &["en", "hi", "mr", "gu", "ta", "es", "north_indic", "bn", "or"];
/// LLM models accepted in `slmModel` (R022).
pub const SLM_MODELS: &[&str] = &[
    "electron",
    "electron-kogta",
    "electron-kogta-v2",
    "gpt-4o",
    "gpt-4.1",
    "gpt-5.2",
    "gpt-realtime",
    "gpt-realtime-mini",
];
/// Models that need org-level access; without it they return 403 (R022).
pub const GATED_MODELS: &[&str] = &["gpt-5.2", "electron-kogta", "electron-kogta-v2"];
const TTS_MODELS: &[&str] = &["waves_lightning_v3_1", "gpt-realtime", "gpt-realtime-mini"];
const SAMPLE_RATES: &[f64] = &[8000.0, 16000.0, 24000.0, 44100.0];
const SECS_0_10: Rule = Rule::Num(Some(0.0), Some(10.0));
const UNIT: Rule = Rule::Num(Some(0.0), Some(1.0));
const IDLE: Rule = Rule::Num(Some(1.0), Some(300.0));
const ANY_OBJ: Rule = Rule::AnyObj;
const PRONUNCIATION: Rule =
    Rule::Obj(&[("word", Rule::Str(None)), ("pronunciation", Rule::Str(None))], &["word", "pronunciation"]);
const RESPONSE_VAR: Rule =
    Rule::Obj(&[("variableName", Rule::Str(None)), ("jsonPath", Rule::Str(None))], &["variableName", "jsonPath"]);

/// Every config field accepted by draft writes and `POST /agent`, with its
/// rule. `singlePromptConfig.prompt` is a string; tools are objects.
pub const CONFIG_FIELDS: &[(&str, Rule)] = &[
    ("singlePromptConfig", Rule::Obj(&[("prompt", Rule::Str(None)), ("tools", Rule::Arr(&ANY_OBJ))], &[])),
    ("workflowGraph", Rule::AnyObj),
    ("postCallAnalyticsConfig", Rule::Custom(super::config_analytics::check)),
    ("language", Rule::Custom(check_language)),
    (
        "synthesizer",
        Rule::Obj(
            &[
                (
                    "voiceConfig",
                    Rule::Obj(
                        &[
                            ("model", Rule::Enum(TTS_MODELS)),
                            ("voiceId", Rule::Str(None)),
                            ("gender", Rule::Enum(&["male", "female"])),
                        ],
                        &[],
                    ),
                ),
                ("speed", Rule::Num(Some(0.0), Some(2.0))),
                ("consistency", UNIT),
                ("similarity", UNIT),
                ("enhancement", Rule::NumOneOf(&[0.0, 1.0, 2.0])),
                ("sampleRate", Rule::NumOneOf(SAMPLE_RATES)),
            ],
            &[],
        ),
    ),
    ("slmModel", Rule::Enum(SLM_MODELS)),
    ("transcriberType", Rule::Str(None)),
    ("customLLMWebSocketUrl", Rule::Str(None)),
    ("widgetConfig", Rule::AnyObj),
    ("defaultVariables", Rule::AnyObj),
    (
        "preCallAPI",
        Rule::Obj(
            &[
                ("isEnabled", Rule::Bool),
                ("url", Rule::Str(None)),
                ("method", Rule::Enum(&["GET", "POST", "PUT", "DELETE", "PATCH"])),
                ("headers", Rule::AnyObj),
                ("body", Rule::AnyObj),
                ("timeout", Rule::Num(Some(1.0), Some(30.0))),
                ("queryParams", Rule::AnyObj),
                ("responseVariables", Rule::Arr(&RESPONSE_VAR)),
            ],
            &["url", "method"],
        ),
    ),
    ("globalPrompt", Rule::Str(Some(4000))),
    ("globalKnowledgeBaseId", Rule::Str(None)),
    ("firstMessage", Rule::Str(Some(500))),
    ("allowInterruptions", Rule::Bool),
    ("waitForUserToSpeakFirst", Rule::Bool),
    ("muteUserUntilFirstBotResponse", Rule::Bool),
    ("interruptionBackoffTimer", SECS_0_10),
    ("backgroundSound", Rule::Enum(&["", "office", "cafe", "call_center", "static"])),
    ("smartTurnConfig", Rule::Obj(&[("isEnabled", Rule::Bool), ("waitTimeInSecs", SECS_0_10)], &[])),
    (
        "voiceDetectionConfig",
        Rule::Obj(
            &[
                ("confidence", UNIT),
                ("minVolume", UNIT),
                ("triggerTimeInSecs", SECS_0_10),
                ("releaseTimeInSecs", SECS_0_10),
            ],
            &[],
        ),
    ),
    ("voiceMailDetectionConfig", Rule::Obj(&[("enabled", Rule::Bool), ("endText", Rule::Str(Some(200)))], &[])),
    ("denoisingConfig", Rule::Obj(&[("isEnabled", Rule::Bool)], &[])),
    ("redactionConfig", Rule::Obj(&[("isEnabled", Rule::Bool)], &[])),
    ("pronunciationDicts", Rule::Arr(&PRONUNCIATION)),
    (
        "llmIdleTimeoutConfig",
        Rule::Obj(
            &[
                ("chatTimeoutTimeInSecs", IDLE),
                ("webcallTimeoutTimeInSecs", IDLE),
                ("telephonyTimeoutTimeInSecs", IDLE),
                // "System-defined min/max" in the spec; the mock uses 0–10.
                ("maxRetries", Rule::Num(Some(0.0), Some(10.0))),
            ],
            &[],
        ),
    ),
    // The spec gives only the maximum (3600 s); the mock also requires ≥ 1.
    ("sessionTimeoutConfig", Rule::Obj(&[("timeoutTimeInSecs", Rule::Num(Some(1.0), Some(3600.0)))], &[])),
    ("workflowType", Rule::Enum(&["single_prompt", "workflow_graph"])),
    // `offset` is minutes from UTC; real zones lie in −720..=840.
    ("timezone", Rule::Obj(&[("label", Rule::Str(None)), ("offset", Rule::Num(Some(-720.0), Some(840.0)))], &[])),
    ("callDispositionConfig", Rule::Str(None)),
    ("enableStyleGuide", Rule::Bool),
    ("speechFormatting", Rule::Bool),
];

/// The rule for a top-level config field, or `None` if it is not one.
pub fn rule_for(field: &str) -> Option<&'static Rule> {
    CONFIG_FIELDS.iter().find(|(k, _)| *k == field).map(|(_, r)| r)
}

/// zod-style name of a JSON value's type, used in messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn expected(path: &str, want: &str, v: &Value) -> String {
    format!("{path}: Expected {want}, received {}", type_name(v))
}

/// Checks `v` at `path` against `rule`. Errors name the path.
pub fn check(rule: &Rule, v: &Value, path: &str) -> Result<(), String> {
    match rule {
        Rule::Str(max) => {
            let s = v.as_str().ok_or_else(|| expected(path, "string", v))?;
            max.map_or(Ok(()), |m| string_len(path, s, 0, m))
        }
        Rule::Num(lo, hi) => {
            let n = v.as_f64().ok_or_else(|| expected(path, "number", v))?;
            if let Some(lo) = lo.filter(|lo| n < *lo) {
                return Err(format!("{path}: Number must be greater than or equal to {lo}"));
            }
            if let Some(hi) = hi.filter(|hi| n > *hi) {
                return Err(format!("{path}: Number must be less than or equal to {hi}"));
            }
            Ok(())
        }
        Rule::NumOneOf(set) => {
            let n = v.as_f64().ok_or_else(|| expected(path, "number", v))?;
            if set.iter().any(|x| (x - n).abs() < f64::EPSILON) {
                Ok(())
            } else {
                let list: Vec<String> = set.iter().map(|x| x.to_string()).collect();
                Err(format!("{path}: Invalid value. Expected {}, received {n}", list.join(" | ")))
            }
        }
        Rule::Enum(set) => {
            let s = v.as_str().ok_or_else(|| expected(path, "string", v))?;
            if set.contains(&s) {
                Ok(())
            } else {
                Err(super::enum_message(path, set, s))
            }
        }
        Rule::Bool => v.is_boolean().then_some(()).ok_or_else(|| expected(path, "boolean", v)),
        Rule::AnyObj => v.is_object().then_some(()).ok_or_else(|| expected(path, "object", v)),
        Rule::Arr(item) => {
            let arr = v.as_array().ok_or_else(|| expected(path, "array", v))?;
            arr.iter().enumerate().try_for_each(|(i, x)| check(item, x, &format!("{path}.{i}")))
        }
        Rule::Obj(fields, required) => {
            let obj = v.as_object().ok_or_else(|| expected(path, "object", v))?;
            check_object(obj, fields, required, path)
        }
        Rule::Custom(f) => f(v, path),
    }
}

fn check_object(
    obj: &Map<String, Value>,
    fields: &[(&str, Rule)],
    required: &[&str],
    path: &str,
) -> Result<(), String> {
    if let Some(missing) = required.iter().find(|k| !obj.contains_key(**k)) {
        return Err(format!("{path}.{missing}: Required"));
    }
    for (k, rule) in fields {
        if let Some(x) = obj.get(*k) {
            check(rule, x, &format!("{path}.{k}"))?;
        }
    }
    Ok(())
}

/// `language` rules (R021): known codes, `default` among `supported`,
/// `ta` alone, and the switching tunables' bounds.
fn check_language(v: &Value, path: &str) -> Result<(), String> {
    const SWITCHING: Rule = Rule::Obj(
        &[
            ("isEnabled", Rule::Bool),
            ("minWordsForDetection", Rule::Num(Some(1.0), Some(10.0))),
            ("strongSignalThreshold", Rule::Num(Some(0.1), Some(0.9))),
            ("weakSignalThreshold", Rule::Num(Some(0.1), Some(0.9))),
            ("minConsecutiveForWeakThresholdSwitch", Rule::Num(Some(1.0), Some(5.0))),
        ],
        &[],
    );
    const CODES: Rule = Rule::Enum(LANG_CODES);
    let obj = v.as_object().ok_or_else(|| expected(path, "object", v))?;
    check_object(obj, &[("default", CODES), ("supported", Rule::Arr(&CODES)), ("switching", SWITCHING)], &[], path)?;
    let supported: Vec<&str> = obj
        .get("supported")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(d) = obj.get("default").and_then(Value::as_str) {
        if !supported.is_empty() && !supported.contains(&d) {
            return Err(format!("{path}.default: Default language must be one of the supported languages"));
        }
    }
    if supported.contains(&"ta") && supported.len() > 1 {
        return Err(format!("{path}.supported: Tamil (ta) cannot be combined with other languages"));
    }
    Ok(())
}
