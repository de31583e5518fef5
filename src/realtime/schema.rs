//! The JSON Schema subset of client-tool `parameters` (LIVE W1): checking a
//! declared schema, generating deterministic arguments from it, and
//! validating arguments against it. Pure functions, no I/O.
//!
//! # Supported keywords (the mock's documented limits)
//! - `type` (one of `object`, `array`, `string`, `number`, `integer`,
//!   `boolean`, `null`, or a non-empty list of them), `properties`,
//!   `required` (each name must be a declared property),
//!   `additionalProperties` (boolean or schema), `items` (one schema),
//!   `enum` (non-empty), `const`, `anyOf` (non-empty list),
//!   `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum` (numbers),
//!   `minLength`/`maxLength`/`minItems`/`maxItems` (non-negative integers;
//!   `minLength` at most [`MAX_MIN_LENGTH`], `minItems` at most
//!   [`MAX_MIN_ITEMS`], so generated arguments stay small).
//! - Annotations are accepted and not checked: `description`, `title`,
//!   `default`, `examples`, `format`, `pattern`, `$schema`, `$id`,
//!   `$comment`, `deprecated`, `readOnly`, `writeOnly`, and any keyword not
//!   listed as unsupported. `pattern` and `format` are **not** enforced on
//!   arguments (the mock has no regex engine for ECMA patterns); give an
//!   `enum`, `const`, `default` or `examples` value when a generated
//!   argument must match one.
//! - Unsupported structural keywords make the declaration `invalid_tools`:
//!   [`UNSUPPORTED`] (`$ref`, `allOf`, `oneOf`, `not`, `if`/`then`/`else`,
//!   `multipleOf`, `patternProperties`, ...), because the mock could not
//!   promise that the arguments it generates validate.
//! - Nesting depth at most [`MAX_DEPTH`] schemas.
//!
//! # Generated arguments
//! [`generate`] picks, in order: `const`, the first `enum` value,
//! `default`, the first of `examples`, the first `anyOf` branch; otherwise
//! a value of the (first) `type`: an object with every `required`
//! property, `max(minItems, 1)` items (at most `maxItems`), the string
//! `"sample"` (a fixed value for `format` `date`, `date-time`, `email`,
//! `uri` and `uuid`) padded or cut to the length bounds, the number 1 (or
//! the nearest value inside the bounds), `true`, `null`. A declaration is
//! accepted only if the arguments generated for it validate, so a `const`
//! or `enum` value that contradicts its own `type` is `invalid_tools`.

use serde_json::{json, Map, Number, Value};

use crate::domain::config_rules::type_name;

mod generate;

pub use generate::generate;

/// Deepest nesting of schemas in `parameters`.
pub const MAX_DEPTH: usize = 8;
/// Largest `minLength` the mock accepts (generated strings stay short).
pub const MAX_MIN_LENGTH: u64 = 1024;
/// Largest `minItems` the mock accepts (generated arrays stay short).
pub const MAX_MIN_ITEMS: u64 = 64;

const TYPES: [&str; 7] = ["object", "array", "string", "number", "integer", "boolean", "null"];

/// Structural keywords the mock does not implement; a schema using one is
/// rejected.
pub const UNSUPPORTED: [&str; 15] = [
    "$ref",
    "$defs",
    "definitions",
    "allOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "multipleOf",
    "patternProperties",
    "dependentRequired",
    "dependentSchemas",
    "prefixItems",
    "contains",
];

fn err<T>(path: &str, msg: impl std::fmt::Display) -> Result<T, String> {
    Err(format!("{path}: {msg}"))
}

fn count(s: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u64>, String> {
    match s.get(key) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| format!("{path}.{key}: must be a non-negative integer")),
    }
}

fn number(s: &Map<String, Value>, key: &str, path: &str) -> Result<Option<f64>, String> {
    match s.get(key) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| format!("{path}.{key}: must be a number")),
    }
}

/// The declared types of `s` (empty when `type` is absent).
fn types(s: &Map<String, Value>) -> Vec<&str> {
    match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Checks that `schema` at `path` uses only the supported subset, with
/// consistent bounds. `depth` counts from 1 for `parameters` itself.
pub fn check(schema: &Value, path: &str, depth: usize) -> Result<(), String> {
    let Some(s) = schema.as_object() else { return err(path, "must be a JSON Schema object") };
    if depth > MAX_DEPTH {
        return err(path, format!("schemas nest deeper than {MAX_DEPTH} levels"));
    }
    if let Some(k) = UNSUPPORTED.iter().find(|k| s.contains_key(**k)) {
        return err(path, format!("'{k}' is not supported by the mock"));
    }
    match s.get("type") {
        None => {}
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {}
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t))) => {}
        Some(_) => {
            return err(&format!("{path}.type"), format!("must be one of {} or a list of them", TYPES.join(", ")))
        }
    }
    let props = match s.get("properties") {
        None => None,
        Some(Value::Object(p)) => Some(p),
        Some(_) => return err(&format!("{path}.properties"), "must be an object of schemas"),
    };
    for (k, sub) in props.into_iter().flatten() {
        check(sub, &format!("{path}.properties.{k}"), depth + 1)?;
    }
    if let Some(req) = s.get("required") {
        let Some(list) = req.as_array() else { return err(&format!("{path}.required"), "must be a list of names") };
        for (i, name) in list.iter().enumerate() {
            let Some(name) = name.as_str() else { return err(&format!("{path}.required.{i}"), "must be a string") };
            if !props.is_some_and(|p| p.contains_key(name)) {
                return err(&format!("{path}.required.{i}"), format!("'{name}' is not a declared property"));
            }
            if list[..i].iter().any(|n| n.as_str() == Some(name)) {
                return err(&format!("{path}.required.{i}"), format!("'{name}' is listed twice"));
            }
        }
    }
    match s.get("additionalProperties") {
        None | Some(Value::Bool(_)) => {}
        Some(sub) => check(sub, &format!("{path}.additionalProperties"), depth + 1)?,
    }
    if let Some(items) = s.get("items") {
        check(items, &format!("{path}.items"), depth + 1)?;
    }
    if let Some(e) = s.get("enum") {
        if e.as_array().is_none_or(Vec::is_empty) {
            return err(&format!("{path}.enum"), "must be a non-empty list");
        }
    }
    if let Some(any) = s.get("anyOf") {
        let Some(list) = any.as_array().filter(|a| !a.is_empty()) else {
            return err(&format!("{path}.anyOf"), "must be a non-empty list of schemas");
        };
        for (i, sub) in list.iter().enumerate() {
            check(sub, &format!("{path}.anyOf.{i}"), depth + 1)?;
        }
    }
    check_bounds(s, path)
}

fn check_bounds(s: &Map<String, Value>, path: &str) -> Result<(), String> {
    for key in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
        number(s, key, path)?;
    }
    if let (Some((lo, lo_x)), Some((hi, hi_x))) = (lower(s), upper(s)) {
        if lo > hi || (lo == hi && (lo_x || hi_x)) {
            return err(path, "the numeric bounds leave no valid value");
        }
        if types(s).first() == Some(&"integer") && int_range(lo, lo_x, hi, hi_x).is_none() {
            return err(path, "the bounds leave no integer value");
        }
    }
    for (lo_key, hi_key, cap) in [("minLength", "maxLength", MAX_MIN_LENGTH), ("minItems", "maxItems", MAX_MIN_ITEMS)] {
        let (lo, hi) = (count(s, lo_key, path)?, count(s, hi_key, path)?);
        if let Some(lo) = lo {
            if lo > cap {
                return err(&format!("{path}.{lo_key}"), format!("at most {cap} (mock limit)"));
            }
        }
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if lo > hi {
                return err(path, format!("{lo_key} is greater than {hi_key}"));
            }
        }
    }
    Ok(())
}

/// The lower numeric bound and whether it is exclusive (the tighter of
/// `minimum` and `exclusiveMinimum`).
fn lower(s: &Map<String, Value>) -> Option<(f64, bool)> {
    let min = s.get("minimum").and_then(Value::as_f64).map(|v| (v, false));
    let xmin = s.get("exclusiveMinimum").and_then(Value::as_f64).map(|v| (v, true));
    match (min, xmin) {
        (Some(a), Some(b)) => Some(if b.0 >= a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The upper numeric bound and whether it is exclusive.
fn upper(s: &Map<String, Value>) -> Option<(f64, bool)> {
    let max = s.get("maximum").and_then(Value::as_f64).map(|v| (v, false));
    let xmax = s.get("exclusiveMaximum").and_then(Value::as_f64).map(|v| (v, true));
    match (max, xmax) {
        (Some(a), Some(b)) => Some(if b.0 <= a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The smallest and largest integers inside the bounds, if any.
fn int_range(lo: f64, lo_x: bool, hi: f64, hi_x: bool) -> Option<(f64, f64)> {
    let first = if lo_x && lo.fract() == 0.0 { lo + 1.0 } else { lo.ceil() };
    let last = if hi_x && hi.fract() == 0.0 { hi - 1.0 } else { hi.floor() };
    (first <= last).then_some((first, last))
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

/// Validates `v` against `schema` (the supported subset; `pattern` and
/// `format` are not enforced). The error is `<path>: <problem>`.
pub fn validate(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else { return Ok(()) };
    let ts = types(s);
    if !ts.is_empty() && !ts.iter().any(|t| type_matches(t, v)) {
        return err(path, format!("expected {}, got {}", ts.join(" or "), type_name(v)));
    }
    if s.get("const").is_some_and(|c| c != v) {
        return err(path, format!("must equal {}", s["const"]));
    }
    if let Some(options) = s.get("enum").and_then(Value::as_array) {
        if !options.contains(v) {
            return err(path, format!("must be one of {}", Value::Array(options.clone())));
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
        if !any.iter().any(|sub| validate(sub, v, path).is_ok()) {
            return err(path, "matches none of anyOf");
        }
    }
    match v {
        Value::Object(o) => validate_object(s, o, path)?,
        Value::Array(a) => {
            let n = a.len() as u64;
            if count(s, "minItems", path)?.is_some_and(|m| n < m) {
                return err(path, format!("has fewer than {} items", s["minItems"]));
            }
            if count(s, "maxItems", path)?.is_some_and(|m| n > m) {
                return err(path, format!("has more than {} items", s["maxItems"]));
            }
            if let Some(items) = s.get("items") {
                for (i, x) in a.iter().enumerate() {
                    validate(items, x, &format!("{path}.{i}"))?;
                }
            }
        }
        Value::String(t) => {
            let n = t.chars().count() as u64;
            if count(s, "minLength", path)?.is_some_and(|m| n < m) {
                return err(path, format!("is shorter than {} characters", s["minLength"]));
            }
            if count(s, "maxLength", path)?.is_some_and(|m| n > m) {
                return err(path, format!("is longer than {} characters", s["maxLength"]));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some((lo, excl)) = lower(s) {
                if x < lo || (excl && x == lo) {
                    return err(path, format!("must be {} {lo}", if excl { ">" } else { ">=" }));
                }
            }
            if let Some((hi, excl)) = upper(s) {
                if x > hi || (excl && x == hi) {
                    return err(path, format!("must be {} {hi}", if excl { "<" } else { "<=" }));
                }
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
    Ok(())
}

fn validate_object(s: &Map<String, Value>, o: &Map<String, Value>, path: &str) -> Result<(), String> {
    let props = s.get("properties").and_then(Value::as_object);
    for name in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if !o.contains_key(name) {
            return err(&format!("{path}.{name}"), "is required");
        }
    }
    for (k, x) in o {
        match props.and_then(|p| p.get(k)) {
            Some(sub) => validate(sub, x, &format!("{path}.{k}"))?,
            None => match s.get("additionalProperties") {
                Some(Value::Bool(false)) => return err(&format!("{path}.{k}"), "is not an allowed property"),
                Some(sub @ Value::Object(_)) => validate(sub, x, &format!("{path}.{k}"))?,
                _ => {}
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_arguments_fill_required_properties_and_respect_bounds() {
        let schema = json!({
            "type": "object",
            "properties": {
                "order_id": {"type": "string", "minLength": 8},
                "qty": {"type": "integer", "minimum": 3, "maximum": 9},
                "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                "when": {"type": "string", "format": "date"},
                "tier": {"enum": ["gold", "silver"]},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 2},
                "note": {"type": "string"}
            },
            "required": ["order_id", "qty", "ratio", "when", "tier", "tags"]
        });
        assert_eq!(check(&schema, "parameters", 1), Ok(()));
        let args = generate(&schema);
        assert_eq!(
            args,
            json!({"order_id": "samplexx", "qty": 3, "ratio": 0.5, "when": "2026-01-01", "tier": "gold", "tags": ["sam", "sam"]})
        );
        assert_eq!(validate(&schema, &args, "arguments"), Ok(()));
    }

    #[test]
    fn validation_names_the_failing_path() {
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer", "maximum": 5}},
                            "required": ["n"], "additionalProperties": false});
        assert_eq!(validate(&schema, &json!({"n": 6}), "a"), Err("a.n: must be <= 5".into()));
        assert_eq!(validate(&schema, &json!({}), "a"), Err("a.n: is required".into()));
        assert_eq!(validate(&schema, &json!({"n": 1, "x": 1}), "a"), Err("a.x: is not an allowed property".into()));
        assert_eq!(validate(&schema, &json!({"n": "1"}), "a"), Err("a.n: expected integer, got string".into()));
    }

    #[test]
    fn unsupported_or_inconsistent_schemas_are_rejected() {
        for (schema, needle) in [
            (json!({"$ref": "#/x"}), "'$ref' is not supported"),
            (json!({"type": "text"}), "type: must be one of"),
            (json!({"type": "object", "required": ["a"]}), "'a' is not a declared property"),
            (json!({"minimum": 5, "maximum": 1}), "no valid value"),
            (json!({"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 2}), "no integer"),
            (json!({"minLength": 5, "maxLength": 1}), "minLength is greater"),
            (json!({"minItems": 100000}), "mock limit"),
            (json!({"enum": []}), "non-empty"),
            (json!({"properties": []}), "object of schemas"),
            (json!("string"), "JSON Schema object"),
        ] {
            let got = check(&schema, "p", 1).expect_err(&schema.to_string());
            assert!(got.contains(needle), "{schema}: {got}");
        }
        let mut deep = json!({"type": "string"});
        for _ in 0..MAX_DEPTH {
            deep = json!({"type": "array", "items": deep});
        }
        assert!(check(&deep, "p", 1).is_err_and(|e| e.contains("deeper")));
    }
}
