//! Post-call analytics (BEHAVIOR R218–R220): one value per disposition
//! metric the call's config defines, taken from the scenario or, when the
//! scenario gives none, a type-correct default. Every value is validated
//! against its type and choices; if any fails, none are stored (R218).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::config::ConfigMap;
use crate::scenarios::model::MetricValue;
use crate::scenarios::Scenario;

/// One evaluated metric with everything the webhook needs (R157).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricResult {
    /// Metric identifier.
    pub identifier: String,
    /// Typed value (webhooks); logs carry its string form (L-K1).
    pub value: Value,
    /// 0–1.
    pub confidence: f64,
    /// Why.
    pub reasoning: String,
    /// The metric's prompt.
    pub prompt: String,
    /// `STRING`, `BOOLEAN`, `INTEGER`, `ENUM` or `DATETIME`.
    pub metric_type: String,
}

/// The analytics of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallAnalytics {
    /// Summary text.
    pub summary: String,
    /// Evaluated metrics, in config order.
    pub metrics: Vec<MetricResult>,
    /// Deprecated success metrics (passed through from config, R216).
    pub success_metrics: Vec<Value>,
}

fn default_value(ty: &str, choices: Option<&Vec<Value>>, ended_iso: &str) -> Value {
    match ty {
        "BOOLEAN" => json!(false),
        "INTEGER" => json!(0),
        "ENUM" => choices.and_then(|c| c.first()).cloned().unwrap_or(Value::Null),
        "DATETIME" => json!(ended_iso),
        _ => json!(""),
    }
}

fn valid(ty: &str, v: &Value, choices: Option<&Vec<Value>>) -> bool {
    match ty {
        "BOOLEAN" => v.is_boolean(),
        "INTEGER" => v.as_i64().is_some(),
        "ENUM" => choices.is_some_and(|c| c.contains(v)),
        "DATETIME" => v.as_str().and_then(crate::domain::time::parse_iso).is_some(),
        _ => v.is_string(),
    }
}

/// Evaluates the config's metrics against the scenario. `None` when a
/// value fails validation (R218).
pub fn evaluate(config: &ConfigMap, scenario: &Scenario, ended_iso: &str) -> Option<CallAnalytics> {
    let pca = config.get("postCallAnalyticsConfig");
    let defs = pca.and_then(|p| p.get("dispositionMetrics")).and_then(Value::as_array).cloned().unwrap_or_default();
    let mut metrics = Vec::with_capacity(defs.len());
    for d in &defs {
        let identifier = d.get("identifier").and_then(Value::as_str).unwrap_or_default().to_string();
        let nested = d.get("dispositionValues").and_then(|x| x.get("type"));
        let ty = d.get("dispositionMetricType").or(nested).and_then(Value::as_str).unwrap_or("STRING").to_string();
        let choices = d.get("choices").and_then(Value::as_array);
        let given = scenario.analytics.disposition_metrics.get(&identifier).map(MetricValue::from_json);
        let m = given.unwrap_or(MetricValue {
            value: default_value(&ty, choices, ended_iso),
            confidence: 0.5,
            reasoning: "No evidence in the transcript; default value.".into(),
        });
        if !valid(&ty, &m.value, choices) {
            return None;
        }
        metrics.push(MetricResult {
            identifier,
            value: m.value,
            confidence: m.confidence,
            reasoning: m.reasoning,
            prompt: d.get("dispositionMetricPrompt").and_then(Value::as_str).unwrap_or_default().to_string(),
            metric_type: ty,
        });
    }
    let success_metrics =
        pca.and_then(|p| p.get("successMetrics")).and_then(Value::as_array).cloned().unwrap_or_default();
    Some(CallAnalytics { summary: scenario.analytics.summary.clone(), metrics, success_metrics })
}

/// The metric definitions of `config` as `[{identifier, type}]`, in
/// config order (`dispositionMetricsConfig` of `GET /conversation`,
/// R112): `type` is `dispositionMetricType`, else
/// `dispositionValues.type`.
pub fn disposition_defs(config: &ConfigMap) -> Vec<Value> {
    config
        .get("postCallAnalyticsConfig")
        .and_then(|p| p.get("dispositionMetrics"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|m| json!({"identifier": m.get("identifier"), "type": m.get("dispositionMetricType").or_else(|| m.get("dispositionValues").and_then(|d| d.get("type")))}))
                .collect()
        })
        .unwrap_or_default()
}

/// A metric value as the call log stores it: a string (R219, L-K1).
pub fn as_log_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::Library;

    fn config(metrics: &Value) -> ConfigMap {
        serde_json::from_value(json!({"postCallAnalyticsConfig": {"dispositionMetrics": metrics}})).unwrap_or_default()
    }

    #[test]
    fn scenario_values_win_and_missing_ones_get_typed_defaults() {
        let lib = Library::load(None).expect("load");
        let s = lib.get("happy-path").expect("happy-path");
        let cfg = config(&json!([
            {"identifier": "call_resolved", "dispositionMetricPrompt": "ok?", "dispositionMetricType": "BOOLEAN"},
            {"identifier": "score", "dispositionMetricPrompt": "1-10", "dispositionMetricType": "INTEGER"},
            {"identifier": "when", "dispositionMetricPrompt": "when", "dispositionMetricType": "DATETIME"},
            {"identifier": "mood", "dispositionMetricPrompt": "mood", "dispositionMetricType": "ENUM", "choices": ["calm", "angry"]}
        ]));
        let a = evaluate(&cfg, &s, "2026-01-01T00:01:00.000Z").expect("valid");
        let values: Vec<&Value> = a.metrics.iter().map(|m| &m.value).collect();
        assert_eq!(values, [&json!(true), &json!(0), &json!("2026-01-01T00:01:00.000Z"), &json!("calm")]);
        assert_eq!(a.metrics[0].confidence, 0.96);
    }

    #[test]
    fn one_invalid_value_stores_none() {
        let lib = Library::load(None).expect("load");
        let s = lib.get("happy-path").expect("happy-path");
        // happy-path says customer_sentiment = "positive", not a choice here.
        let cfg = config(&json!([
            {"identifier": "customer_sentiment", "dispositionMetricPrompt": "?", "dispositionMetricType": "ENUM", "choices": ["good", "bad"]}
        ]));
        assert_eq!(evaluate(&cfg, &s, "2026-01-01T00:00:00.000Z"), None);
    }
}
