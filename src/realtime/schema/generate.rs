//! Deterministic arguments from a checked schema (the parent module's
//! "Generated arguments").

use super::*;

fn num(v: f64, integer: bool) -> Value {
    if integer && v.abs() < 9.0e15 {
        return json!(v as i64);
    }
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn generate_number(s: &Map<String, Value>, integer: bool) -> Value {
    let (lo, hi) = (lower(s), upper(s));
    if integer {
        let lo_i = lo.map(|(v, x)| int_range(v, x, f64::MAX, false).map_or(v, |r| r.0));
        let hi_i = hi.map(|(v, x)| int_range(f64::MIN, false, v, x).map_or(v, |r| r.1));
        let v = match (lo_i, hi_i) {
            (Some(l), _) if l > 1.0 => l,
            (_, Some(h)) if h < 1.0 => h,
            _ => 1.0,
        };
        return num(v, true);
    }
    let v = match (lo, hi) {
        (Some((l, _)), Some((h, _))) if !(1.0 > l && 1.0 < h) => l + (h - l) / 2.0,
        (Some((l, x)), None) if l > 1.0 || (x && l >= 1.0) => l + 1.0,
        (None, Some((h, x))) if h < 1.0 || (x && h <= 1.0) => h - 1.0,
        _ => 1.0,
    };
    num(v, false)
}

fn generate_string(s: &Map<String, Value>) -> Value {
    let base = match s.get("format").and_then(Value::as_str) {
        Some("date") => "2026-01-01",
        Some("date-time") => "2026-01-01T00:00:00Z",
        Some("email") => "user@example.com",
        Some("uri" | "url") => "https://example.com/",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        _ => "sample",
    };
    let mut text: String = base.to_string();
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let max = s.get("maxLength").and_then(Value::as_u64);
    let len = |t: &str| t.chars().count() as u64;
    while len(&text) < min {
        text.push('x');
    }
    if let Some(max) = max.filter(|m| len(&text) > *m) {
        text = text.chars().take(usize::try_from(max).unwrap_or(usize::MAX)).collect();
    }
    Value::String(text)
}

/// Deterministic arguments for `schema` (see the module docs). Only
/// meaningful for a schema that passed [`check`].
pub fn generate(schema: &Value) -> Value {
    let Some(s) = schema.as_object() else { return Value::Null };
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(first) = s.get("enum").and_then(Value::as_array).and_then(|a| a.first()) {
        return first.clone();
    }
    if let Some(d) = s.get("default") {
        return d.clone();
    }
    if let Some(e) = s.get("examples").and_then(Value::as_array).and_then(|a| a.first()) {
        return e.clone();
    }
    if let Some(first) = s.get("anyOf").and_then(Value::as_array).and_then(|a| a.first()) {
        return generate(first);
    }
    let ty = types(s).first().copied().unwrap_or(if s.contains_key("properties") {
        "object"
    } else if s.contains_key("items") {
        "array"
    } else {
        "string"
    });
    match ty {
        "object" => {
            let props = s.get("properties").and_then(Value::as_object);
            let required = s.get("required").and_then(Value::as_array);
            let mut out = Map::new();
            for name in required.into_iter().flatten().filter_map(Value::as_str) {
                let sub = props.and_then(|p| p.get(name)).unwrap_or(&Value::Null);
                out.insert(name.to_string(), generate(sub));
            }
            Value::Object(out)
        }
        "array" => {
            let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0).min(MAX_MIN_ITEMS);
            let max = s.get("maxItems").and_then(Value::as_u64).unwrap_or(u64::MAX);
            let n = min.max(1).min(max);
            let item = s.get("items").map_or(json!("sample"), generate);
            Value::Array(vec![item; usize::try_from(n).unwrap_or(0)])
        }
        "number" => generate_number(s, false),
        "integer" => generate_number(s, true),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => generate_string(s),
    }
}
