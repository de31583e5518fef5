//! `postCallAnalyticsConfig` validation (BEHAVIOR R216–R217): identifiers
//! match `^[a-z0-9_]+$`, the type is one of the five, and `choices` is
//! required for `ENUM` (and only meaningful there). The older nested form
//! `dispositionValues.type` is accepted in place of `dispositionMetricType`.

use serde_json::Value;

use super::config_rules::{check as rule_check, type_name, Rule};

/// The five disposition-metric types.
pub const METRIC_TYPES: &[&str] = &["STRING", "BOOLEAN", "INTEGER", "ENUM", "DATETIME"];
const SUCCESS_TYPES: &[&str] = &["NUMERIC_SCALE", "PERCENTAGE_SCALE", "PASS_FAIL", "DESCRIPTIVE_SCALE"];

fn identifier_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check_identifier(v: Option<&Value>, path: &str) -> Result<(), String> {
    match v {
        None => Err(format!("{path}.identifier: Required")),
        Some(Value::String(s)) if identifier_ok(s) => Ok(()),
        Some(Value::String(_)) => Err(format!(
            "{path}.identifier: Invalid identifier. Use lowercase letters, digits and underscores only (^[a-z0-9_]+$)"
        )),
        Some(other) => Err(format!("{path}.identifier: Expected string, received {}", type_name(other))),
    }
}

fn check_metric(m: &Value, path: &str) -> Result<(), String> {
    let obj = m.as_object().ok_or_else(|| format!("{path}: Expected object, received {}", type_name(m)))?;
    check_identifier(obj.get("identifier"), path)?;
    match obj.get("dispositionMetricPrompt") {
        None => return Err(format!("{path}.dispositionMetricPrompt: Required")),
        Some(p) => rule_check(&Rule::Str(None), p, &format!("{path}.dispositionMetricPrompt"))?,
    }
    let nested = obj.get("dispositionValues").and_then(|d| d.get("type"));
    let ty = match obj.get("dispositionMetricType").or(nested) {
        None => return Err(format!("{path}.dispositionMetricType: Required")),
        Some(t) => {
            rule_check(&Rule::Enum(METRIC_TYPES), t, &format!("{path}.dispositionMetricType"))?;
            t.as_str().unwrap_or_default()
        }
    };
    match (ty, obj.get("choices")) {
        ("ENUM", None) => Err(format!("{path}.choices: Required when dispositionMetricType is ENUM")),
        ("ENUM", Some(c)) => {
            rule_check(&Rule::Arr(&Rule::Str(None)), c, &format!("{path}.choices"))?;
            if c.as_array().is_some_and(Vec::is_empty) {
                return Err(format!("{path}.choices: Array must contain at least 1 element(s)"));
            }
            Ok(())
        }
        (_, Some(_)) => Err(format!("{path}.choices: Only allowed when dispositionMetricType is ENUM")),
        (_, None) => Ok(()),
    }
}

fn check_success_metric(m: &Value, path: &str) -> Result<(), String> {
    const SUCCESS: Rule = Rule::Obj(
        &[("successMetricPrompt", Rule::Str(None)), ("successMetricType", Rule::Enum(SUCCESS_TYPES))],
        &["identifier", "successMetricPrompt", "successMetricType"],
    );
    rule_check(&SUCCESS, m, path)?;
    check_identifier(m.get("identifier"), path)
}

/// Checks a whole `postCallAnalyticsConfig` value at `path`.
pub fn check(v: &Value, path: &str) -> Result<(), String> {
    let obj = v.as_object().ok_or_else(|| format!("{path}: Expected object, received {}", type_name(v)))?;
    for (key, item_check) in [
        ("dispositionMetrics", check_metric as fn(&Value, &str) -> Result<(), String>),
        ("successMetrics", check_success_metric),
    ] {
        if let Some(list) = obj.get(key) {
            let arr =
                list.as_array().ok_or_else(|| format!("{path}.{key}: Expected array, received {}", type_name(list)))?;
            for (i, m) in arr.iter().enumerate() {
                item_check(m, &format!("{path}.{key}.{i}"))?;
            }
        }
    }
    for (key, rule) in [
        ("summaryPrompt", Rule::Str(None)),
        ("useInternalAnalyticsModel", Rule::Bool),
        ("useReasoningModel", Rule::Bool),
    ] {
        if let Some(x) = obj.get(key) {
            rule_check(&rule, x, &format!("{path}.{key}"))?;
        }
    }
    Ok(())
}
