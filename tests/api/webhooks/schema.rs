//! A small checker for the OpenAPI 3.0 schema subset the upstream
//! webhook callback schemas use: `$ref`, `allOf`, `oneOf`, `type`,
//! `nullable`, `required`, `properties`, `items`, `enum`, `minimum`,
//! `maximum` and `format: date-time | uri`. Enough to validate event
//! bodies against `WebhookEventEnvelope` and the per-event schemas.

use serde_json::Value;

/// The upstream spec as JSON, or `None` (after `prereq::skip`'s notice,
/// or its failure under CI) if the reference checkout is missing.
pub(super) fn load_spec() -> Option<Value> {
    let text = crate::prereq::reference("upstream schema check", "upstream/atoms-openapi.yaml")?;
    Some(serde_yaml::from_str(&text).expect("the upstream spec parses as YAML"))
}

/// Validates `v` against `components.schemas.<name>`; returns every
/// violation as `<json path>: <problem>`.
pub(super) fn validate(spec: &Value, name: &str, v: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let schema = &spec["components"]["schemas"][name];
    assert!(schema.is_object(), "schema {name} not found in the spec");
    check(spec, schema, v, "$", &mut errors);
    errors
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            resolve(spec, &spec["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn check(spec: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if v.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    for sub in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        check(spec, sub, v, path, errors);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let passing = options
            .iter()
            .filter(|o| {
                let mut e = Vec::new();
                check(spec, o, v, path, &mut e);
                e.is_empty()
            })
            .count();
        if passing != 1 {
            errors.push(format!("{path}: matches {passing} of the oneOf options, not exactly one"));
        }
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        if !type_ok(ty, v) {
            errors.push(format!("{path}: expected {ty}, got {v}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            errors.push(format!("{path}: {v} is not one of {allowed:?}"));
        }
    }
    check_number(schema, v, path, errors);
    check_format(schema, v, path, errors);
    if let Some(obj) = v.as_object() {
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let key = req.as_str().unwrap_or_default();
            if !obj.contains_key(key) {
                errors.push(format!("{path}: missing required field `{key}`"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                if let Some(child) = obj.get(k) {
                    check(spec, sub, child, &format!("{path}.{k}"), errors);
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, child) in arr.iter().enumerate() {
            check(spec, items, child, &format!("{path}[{i}]"), errors);
        }
    }
}

fn check_number(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(n) = v.as_f64() else { return };
    if schema.get("minimum").and_then(Value::as_f64).is_some_and(|m| n < m) {
        errors.push(format!("{path}: {n} is below the minimum"));
    }
    if schema.get("maximum").and_then(Value::as_f64).is_some_and(|m| n > m) {
        errors.push(format!("{path}: {n} is above the maximum"));
    }
}

fn check_format(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(s) = v.as_str() else { return };
    let ok = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok(),
        Some("uri") => s.starts_with("http://") || s.starts_with("https://"),
        _ => true,
    };
    if !ok {
        errors.push(format!("{path}: {s:?} is not a valid {}", schema["format"]));
    }
}
