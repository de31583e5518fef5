//! What a config diff compares, and the shape the v1 diffs answer in.
//!
//! - **Defaults (LIVE C1).** A draft value equal to the platform's default
//!   makes no diff entry, in v1 and v2 diffs alike. Both sides are compared
//!   as [`effective`] configs: the agent defaults under the config, plus
//!   the defaults of optional objects once they exist (`preCallAPI`
//!   `isEnabled: false`, `timeout: 5`) and of every tool in
//!   `singlePromptConfig.tools` (the spec's `DraftConfigRequest` tool
//!   defaults). Entries show the effective values.
//! - **Both shapes (LIVE V4).** The live v1 draft and version diffs answer
//!   with per-field `diffs[].changes[]` and `unchangedSections`; the spec
//!   documents `sections{before, after, changed}` and `hasChanges`.
//!   [`v1_diff`] serves all four keys in one answer.
//!
//! What it does not do: change stored configs. Defaults are filled in for
//! the comparison only; reads show what was written.

use serde_json::{json, Map, Value};

use super::config::{self, ConfigMap};

/// `preCallAPI` defaults once the object exists (spec `CreateAgentRequest`).
fn pre_call_api_defaults() -> Value {
    json!({"isEnabled": false, "timeout": 5})
}

/// Defaults of a tool in `singlePromptConfig.tools` (spec
/// `DraftConfigRequest.singlePromptConfig.tools[]`).
fn tool_defaults() -> Value {
    json!({
        "enabled": true, "onHoldMusic": "ringtone", "transferOnlyIfHuman": true, "detectionTimeout": 30,
        "timeout": 5000, "responseVariables": [], "fillerPhrases": []
    })
}

/// `base` with `over` merged on top (objects key by key).
fn layered(base: Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            config::merge(&mut b, o);
            Value::Object(b)
        }
        (_, o) => o.clone(),
    }
}

/// A tool with its defaults filled in; a `transferOption` without `type`
/// is a `cold_transfer`.
fn effective_tool(tool: &Value) -> Value {
    let mut t = layered(tool_defaults(), tool);
    if let Some(Value::Object(opt)) = t.get_mut("transferOption") {
        opt.entry("type").or_insert_with(|| json!("cold_transfer"));
    }
    t
}

/// `config` as the platform compares it: every default it omits filled in
/// (see the module doc).
pub fn effective(config: &ConfigMap) -> ConfigMap {
    let mut out = (*config::defaults()).clone();
    config::merge(&mut out, config);
    if let Some(p) = out.get("preCallAPI").filter(|p| p.is_object()).cloned() {
        out.insert("preCallAPI".into(), layered(pre_call_api_defaults(), &p));
    }
    if let Some(Value::Array(tools)) = out.get_mut("singlePromptConfig").and_then(|sp| sp.get_mut("tools")) {
        for t in tools.iter_mut().filter(|t| t.is_object()) {
            *t = effective_tool(t);
        }
    }
    out
}

/// The v1 draft diff (R054) and version diff (R062) in one answer (LIVE
/// V4): `{diffs: [{section, changes: [{path, oldValue, newValue}]}],
/// unchangedSections, sections: {section: {before, after, changed,
/// changes?}}, hasChanges}` from `a` to `b`.
pub fn v1_diff(a: &ConfigMap, b: &ConfigMap) -> Value {
    let mut out = match config::version_diff(a, b) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Value::Object(spec) = config::draft_diff(a, b) {
        out.extend(spec);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(v: Value) -> ConfigMap {
        let mut base = (*config::defaults()).clone();
        if let Value::Object(m) = v {
            config::merge(&mut base, &m);
        }
        base
    }

    #[test]
    fn a_value_equal_to_its_default_makes_no_diff_entry() {
        let base = cfg(json!({}));
        let same = cfg(json!({"redactionConfig": {"isEnabled": true}, "denoisingConfig": {"isEnabled": false}}));
        let d = v1_diff(&base, &same);
        assert_eq!(d["hasChanges"], false);
        assert_eq!(d["diffs"], json!([]));
        let other = cfg(json!({"redactionConfig": {"isEnabled": false}}));
        let d = v1_diff(&base, &other);
        assert_eq!(
            d["diffs"],
            json!([{"section": "privacy", "changes": [{"path": "redactionConfig.isEnabled", "oldValue": true, "newValue": false}]}])
        );
        assert_eq!((d["hasChanges"].clone(), d["sections"]["privacy"]["changed"].clone()), (json!(true), json!(true)));
    }

    #[test]
    fn defaults_of_optional_objects_and_tools_count_as_unchanged() {
        let tool = json!({"type": "end_call", "name": "end_call", "description": "Bye"});
        let a = cfg(
            json!({"preCallAPI": {"url": "https://x.example", "method": "GET"}, "singlePromptConfig": {"tools": [tool]}}),
        );
        let mut explicit = tool.clone();
        explicit["enabled"] = json!(true);
        explicit["timeout"] = json!(5000);
        let b = cfg(json!({
            "preCallAPI": {"url": "https://x.example", "method": "GET", "timeout": 5, "isEnabled": false},
            "singlePromptConfig": {"tools": [explicit]}
        }));
        assert_eq!(config::version_diff(&a, &b)["diffs"], json!([]));
        let c = cfg(json!({
            "preCallAPI": {"url": "https://x.example", "method": "GET", "timeout": 9}, "singlePromptConfig": {"tools": [tool]}
        }));
        assert_eq!(
            config::version_diff(&a, &c)["diffs"],
            json!([{"section": "llm", "changes": [{"path": "preCallAPI.timeout", "oldValue": 5, "newValue": 9}]}]),
            "the effective default is the old value"
        );
    }

    #[test]
    fn the_v1_diff_has_both_shapes() {
        let d = v1_diff(&cfg(json!({})), &cfg(json!({"firstMessage": "hi"})));
        for k in ["diffs", "unchangedSections", "sections", "hasChanges"] {
            assert!(d.get(k).is_some(), "{k} missing: {d}");
        }
        assert_eq!(d["diffs"][0]["changes"][0], json!({"path": "firstMessage", "oldValue": "", "newValue": "hi"}));
    }
}
