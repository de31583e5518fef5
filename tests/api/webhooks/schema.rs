//! The upstream webhook callback schemas (OpenAPI 3.0,
//! `components.schemas` of the platform's spec), checked with the
//! `jsonschema` crate. OpenAPI 3.0 is JSON Schema draft 4 plus
//! `nullable`, so `nullable: true` becomes a `null` alternative first;
//! `$ref`s resolve inside the spec's own components.

use serde_json::{json, Value};

/// The upstream spec as JSON, or `None` (after `prereq::skip`'s notice,
/// or its failure under CI) if the reference checkout is missing.
pub(super) fn load_spec() -> Option<Value> {
    let text = crate::prereq::reference("upstream schema check", "upstream/atoms-openapi.yaml")?;
    Some(serde_yaml::from_str(&text).expect("the upstream spec parses as YAML"))
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema: `null` joins the
/// schema's `type` (and `enum`), or, on a schema without a type (a `$ref`,
/// an `allOf`), becomes an `anyOf` alternative.
fn without_nullable(schema: &mut Value) {
    match schema {
        Value::Array(items) => items.iter_mut().for_each(without_nullable),
        Value::Object(map) => {
            map.values_mut().for_each(without_nullable);
            if map.remove("nullable") != Some(Value::Bool(true)) {
                return;
            }
            if let Some(ty) = map.get("type").cloned() {
                map.insert("type".into(), json!([ty, "null"]));
                if let Some(Value::Array(options)) = map.get_mut("enum") {
                    options.push(Value::Null);
                }
            } else {
                let inner = Value::Object(std::mem::take(map));
                map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
            }
        }
        _ => {}
    }
}

/// Validates `v` against `components.schemas.<name>`; returns every
/// violation as `<json pointer>: <problem>`.
pub(super) fn validate(spec: &Value, name: &str, v: &Value) -> Vec<String> {
    assert!(spec["components"]["schemas"][name].is_object(), "schema {name} not found in the spec");
    let mut components = spec["components"].clone();
    without_nullable(&mut components);
    let schema = json!({"$ref": format!("#/components/schemas/{name}"), "components": components});
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}"));
    validator.iter_errors(v).map(|e| format!("{}: {e}", e.instance_path())).collect()
}
