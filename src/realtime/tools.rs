//! Client tools on the realtime WebSocket (LIVE W1, which supersedes
//! BEHAVIOR R202): declaring them with `session.update {tools}`, and the
//! rules the agent follows when it calls one. Pure functions over the
//! declaration and the agent's config.
//!
//! # Declaring
//! `session.update {"tools": [...]}` **replaces** the session's runtime set
//! (not additive across updates); tools configured on the agent stay
//! offered beside it. Each tool is `{type: "function", name, description?,
//! parameters?, timeout_ms?, expectsResponse?}`. The answer is
//! `session.updated {tools: [accepted names]}` or one `error`, and a
//! rejected update changes nothing. Checked in this order:
//!
//! 1. `tools` must be a list, else `invalid_tools`.
//! 2. `client_tools_managed_by_config`: the agent's config says its client
//!    tools are managed by the config, so a non-empty runtime set is
//!    refused (an empty list is accepted: it declares nothing). No public
//!    source names the platform's field; the mock reads
//!    [`MANAGED_BY_CONFIG_FIELD`] (`singlePromptConfig.clientToolsManagedByConfig:
//!    true`), kept under `singlePromptConfig` so draft writes store it as
//!    written.
//! 3. `invalid_tools`, each naming the field (`tools[1].name: ...`):
//!    more than [`MAX_TOOLS`] tools; a tool that is not an object; `type`
//!    other than `"function"`; `name` missing or not matching
//!    `^[A-Za-z0-9_-]{1,64}$`; a name declared twice; `description` not a
//!    string or longer than [`MAX_DESCRIPTION_CHARS`] characters;
//!    `parameters` not an object schema (`type: "object"`), larger than
//!    [`MAX_PARAMETERS_BYTES`] serialized, or outside the subset of
//!    [`super::schema`]; `timeout_ms` not a number; `expectsResponse` not a
//!    boolean.
//! 4. `tool_name_conflict`: a name equal to an **enabled** tool of the
//!    agent's config (`singlePromptConfig.tools[].name`, and for workflow
//!    agents `workflowGraph.tools[].name` and
//!    `workflowGraph.nodes[].tools[].name`); a tool with `enabled: false`
//!    does not conflict (vendor cookbook `agent_ws_client_tools`).
//!
//! `timeout_ms` is clamped to [`TIMEOUT_MIN_MS`]–[`TIMEOUT_MAX_MS`]
//! (default [`TIMEOUT_DEFAULT_MS`]) and `expectsResponse` defaults to true,
//! as the vendor's client-tools sample documents. `parameters` defaults to
//! an object schema without properties.
//!
//! # Calling
//! See [`super::conversation`]: a scenario `toolCall` step, or a user turn
//! that names a declared tool ([`named_in`]), makes the agent send
//! `function_call {call_id, name, arguments}`.

use serde_json::{json, Map, Value};

use super::schema;
use crate::domain::client_tool::is_tool_name;
pub use crate::domain::client_tool::MAX_NAME_LEN;
use crate::domain::config::ConfigMap;

/// Most runtime tools one `session.update` may declare (mock limit).
pub const MAX_TOOLS: usize = 32;
/// Longest `description`, characters (mock limit).
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Largest serialized `parameters` schema, bytes (mock limit).
pub const MAX_PARAMETERS_BYTES: usize = 16 * 1024;
/// Lowest `timeout_ms` (smaller values are raised to it), ms.
pub const TIMEOUT_MIN_MS: u64 = 1_000;
/// Highest `timeout_ms` (larger values are lowered to it), ms.
pub const TIMEOUT_MAX_MS: u64 = 60_000;
/// `timeout_ms` when absent, ms.
pub const TIMEOUT_DEFAULT_MS: u64 = 15_000;
/// Largest `function_call.result` `output`, bytes of UTF-8 (64 KB); one
/// byte more is `result_too_large`.
pub const MAX_RESULT_BYTES: usize = 64 * 1024;
/// The config field (under `singlePromptConfig`) that forbids runtime
/// client tools when `true` (mock decision, see the module docs).
pub const MANAGED_BY_CONFIG_FIELD: &str = "clientToolsManagedByConfig";

/// One accepted runtime tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientTool {
    /// Unique within the session.
    pub name: String,
    /// What it does ("" when absent).
    pub description: String,
    /// The JSON Schema of its arguments (an object schema).
    pub parameters: Value,
    /// How long the agent waits for the result, ms (clamped).
    pub timeout_ms: u64,
    /// `false`: fire and forget; the agent does not wait.
    pub expects_response: bool,
}

/// Why a declaration was refused; [`ToolError::code`] is the `error`
/// frame's `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// `tool_name_conflict`: the agent's config already defines the name.
    NameConflict(String),
    /// `client_tools_managed_by_config`.
    ManagedByConfig,
    /// `invalid_tools`, with `<field>: <problem>`.
    Invalid(String),
}

impl ToolError {
    /// The `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NameConflict(_) => "tool_name_conflict",
            Self::ManagedByConfig => "client_tools_managed_by_config",
            Self::Invalid(_) => "invalid_tools",
        }
    }

    /// The `error.message`.
    pub fn message(&self) -> String {
        match self {
            Self::NameConflict(n) => format!("Tool name '{n}' conflicts with a tool defined in the agent's config"),
            Self::ManagedByConfig => format!(
                "This agent's client tools are managed by its config (singlePromptConfig.{MANAGED_BY_CONFIG_FIELD}); \
                 runtime tools cannot be declared"
            ),
            Self::Invalid(m) => m.clone(),
        }
    }
}

/// Whether the agent's config forbids runtime client tools.
pub fn managed_by_config(config: &ConfigMap) -> bool {
    config.get("singlePromptConfig").and_then(|s| s.get(MANAGED_BY_CONFIG_FIELD)).and_then(Value::as_bool) == Some(true)
}

/// Names of the enabled tools the agent's config defines (see the module
/// docs for where they are read).
pub fn config_tool_names(config: &ConfigMap) -> Vec<String> {
    let mut lists: Vec<&Value> = Vec::new();
    lists.extend(config.get("singlePromptConfig").and_then(|s| s.get("tools")));
    if let Some(g) = config.get("workflowGraph") {
        lists.extend(g.get("tools"));
        for node in g.get("nodes").and_then(Value::as_array).into_iter().flatten() {
            lists.extend(node.get("tools"));
            lists.extend(node.pointer("/data/tools"));
        }
    }
    lists
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter(|t| t.get("enabled").and_then(Value::as_bool) != Some(false))
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn invalid<T>(msg: String) -> Result<T, ToolError> {
    Err(ToolError::Invalid(msg))
}

/// Reads one declared tool at index `i`.
fn tool(i: usize, t: &Value) -> Result<ClientTool, ToolError> {
    let at = |field: &str| format!("tools[{i}].{field}");
    let Some(o) = t.as_object() else { return invalid(format!("tools[{i}]: must be an object")) };
    if o.get("type").and_then(Value::as_str) != Some("function") {
        return invalid(format!("{}: must be \"function\"", at("type")));
    }
    let name = match o.get("name") {
        Some(Value::String(n)) if is_tool_name(n) => n.clone(),
        Some(_) => return invalid(format!("{}: must match ^[A-Za-z0-9_-]{{1,{MAX_NAME_LEN}}}$", at("name"))),
        None => return invalid(format!("{}: is required", at("name"))),
    };
    let description = match o.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(d)) if d.chars().count() <= MAX_DESCRIPTION_CHARS => d.clone(),
        Some(Value::String(_)) => {
            return invalid(format!("{}: at most {MAX_DESCRIPTION_CHARS} characters", at("description")))
        }
        Some(_) => return invalid(format!("{}: must be a string", at("description"))),
    };
    let parameters = match o.get("parameters") {
        None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
        Some(p) => p.clone(),
    };
    let size = serde_json::to_string(&parameters).map_or(usize::MAX, |s| s.len());
    if size > MAX_PARAMETERS_BYTES {
        return invalid(format!("{}: {size} bytes; at most {MAX_PARAMETERS_BYTES}", at("parameters")));
    }
    if parameters.get("type").and_then(Value::as_str) != Some("object") {
        return invalid(format!("{}: must be a JSON Schema with type \"object\"", at("parameters")));
    }
    schema::check(&parameters, &at("parameters"), 1).map_err(ToolError::Invalid)?;
    let sample = schema::generate(&parameters);
    if let Err(e) = schema::validate(&parameters, &sample, "arguments") {
        return invalid(format!(
            "{}: its const, enum, default or examples values contradict the schema ({e})",
            at("parameters")
        ));
    }
    let timeout_ms = match o.get("timeout_ms") {
        None | Some(Value::Null) => TIMEOUT_DEFAULT_MS,
        Some(v) => match v.as_f64() {
            Some(ms) => (ms.max(0.0) as u64).clamp(TIMEOUT_MIN_MS, TIMEOUT_MAX_MS),
            None => return invalid(format!("{}: must be a number of milliseconds", at("timeout_ms"))),
        },
    };
    let expects_response = match o.get("expectsResponse") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return invalid(format!("{}: must be a boolean", at("expectsResponse"))),
    };
    Ok(ClientTool { name, description, parameters, timeout_ms, expects_response })
}

/// Validates a `session.update` `tools` value against the agent's config
/// (order of checks in the module docs). `Ok` is the new runtime set.
pub fn declare(tools: &Value, config: &ConfigMap) -> Result<Vec<ClientTool>, ToolError> {
    let Some(list) = tools.as_array() else { return invalid("tools: must be a list of tool objects".into()) };
    if !list.is_empty() && managed_by_config(config) {
        return Err(ToolError::ManagedByConfig);
    }
    if list.len() > MAX_TOOLS {
        return invalid(format!("tools: {} tools; at most {MAX_TOOLS}", list.len()));
    }
    let mut out: Vec<ClientTool> = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let t = tool(i, t)?;
        if out.iter().any(|o| o.name == t.name) {
            return invalid(format!("tools[{i}].name: '{}' is declared twice", t.name));
        }
        out.push(t);
    }
    let configured = config_tool_names(config);
    if let Some(t) = out.iter().find(|t| configured.contains(&t.name)) {
        return Err(ToolError::NameConflict(t.name.clone()));
    }
    Ok(out)
}

/// Lowercase words of `text`: letters and digits, split on everything
/// else and on camelCase boundaries.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            out.extend((!cur.is_empty()).then(|| std::mem::take(&mut cur)));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    out.extend((!cur.is_empty()).then_some(cur));
    out
}

/// The first declared tool whose name appears in `text` as words
/// (`lookup_order`, `lookupOrder` and "Lookup order" all name
/// `lookup_order`), for the default tool-call rule.
pub fn named_in<'a>(text: &str, tools: &'a [ClientTool]) -> Option<&'a ClientTool> {
    let said = words(text);
    tools.iter().find(|t| {
        let name = words(&t.name);
        !name.is_empty() && said.windows(name.len()).any(|w| w == name.as_slice())
    })
}

/// Arguments for a call of `tool`: generated from its `parameters`, with
/// the scenario's `given` values merged over them; `Err` names the field
/// that does not validate.
pub fn arguments(tool: &ClientTool, given: Option<&Map<String, Value>>) -> Result<Value, String> {
    let mut args = schema::generate(&tool.parameters);
    if let (Value::Object(a), Some(g)) = (&mut args, given) {
        a.extend(g.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    schema::validate(&tool.parameters, &args, "arguments")?;
    Ok(args)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn config(v: &Value) -> ConfigMap {
        v.as_object().cloned().unwrap_or_default()
    }

    fn lookup() -> Value {
        json!({"type": "function", "name": "lookup_order", "description": "Look up an order.",
               "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
               "timeout_ms": 15000, "expectsResponse": true})
    }

    #[test]
    fn a_valid_declaration_is_accepted_with_defaults_and_clamped_timeouts() {
        let tools = json!([lookup(), {"type": "function", "name": "notify", "timeout_ms": 5, "expectsResponse": false},
                           {"type": "function", "name": "slow", "timeout_ms": 999999}]);
        let got = declare(&tools, &ConfigMap::new()).expect("valid");
        let names: Vec<&str> = got.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["lookup_order", "notify", "slow"]);
        assert_eq!((got[1].timeout_ms, got[1].expects_response), (TIMEOUT_MIN_MS, false));
        assert_eq!(got[2].timeout_ms, TIMEOUT_MAX_MS);
        assert_eq!(got[1].parameters, json!({"type": "object", "properties": {}}));
        assert_eq!(arguments(&got[0], None), Ok(json!({"order_id": "sample"})));
        let given: Map<String, Value> = config(&json!({"order_id": "A-1"}));
        assert_eq!(arguments(&got[0], Some(&given)), Ok(json!({"order_id": "A-1"})));
        let bad: Map<String, Value> = config(&json!({"order_id": 7}));
        assert!(arguments(&got[0], Some(&bad)).is_err_and(|e| e.starts_with("arguments.order_id")));
    }

    #[test]
    fn each_refusal_has_its_code() {
        let with_tools = config(&json!({"singlePromptConfig": {"tools": [
            {"type": "end_call", "name": "end_call", "description": "End"},
            {"type": "api_call", "name": "old_lookup", "description": "Off", "enabled": false}
        ]}}));
        let end_call = json!([{"type": "function", "name": "end_call"}]);
        assert_eq!(declare(&end_call, &with_tools), Err(ToolError::NameConflict("end_call".into())));
        let disabled = json!([{"type": "function", "name": "old_lookup"}]);
        assert!(declare(&disabled, &with_tools).is_ok(), "disabled config tools do not conflict");
        let graph = config(&json!({"workflowGraph": {"nodes": [{"tools": [{"name": "lookup_order"}]}]}}));
        assert_eq!(declare(&json!([lookup()]), &graph).map_err(|e| e.code()), Err("tool_name_conflict"));

        let managed = config(&json!({"singlePromptConfig": {MANAGED_BY_CONFIG_FIELD: true}}));
        assert_eq!(declare(&json!([lookup()]), &managed), Err(ToolError::ManagedByConfig));
        assert_eq!(declare(&json!([]), &managed), Ok(Vec::new()), "an empty set declares nothing");

        let many: Vec<Value> = (0..=MAX_TOOLS).map(|i| json!({"type": "function", "name": format!("t{i}")})).collect();
        for (tools, needle) in [
            (json!({"name": "x"}), "tools: must be a list"),
            (Value::Array(many), "at most 32"),
            (json!(["x"]), "tools[0]: must be an object"),
            (json!([{"name": "x"}]), "tools[0].type"),
            (json!([{"type": "function"}]), "tools[0].name: is required"),
            (json!([{"type": "function", "name": "has space"}]), "tools[0].name: must match"),
            (json!([{"type": "function", "name": "x".repeat(65)}]), "tools[0].name: must match"),
            (json!([lookup(), lookup()]), "tools[1].name: 'lookup_order' is declared twice"),
            (json!([{"type": "function", "name": "x", "description": "d".repeat(1025)}]), "description"),
            (json!([{"type": "function", "name": "x", "parameters": {"type": "string"}}]), "type \"object\""),
            (json!([{"type": "function", "name": "x", "parameters": {"type": "object", "allOf": []}}]), "allOf"),
            (
                json!([{"type": "function", "name": "x", "parameters": {"type": "object", "properties": {"a": {"type": "integer", "const": "one"}}, "required": ["a"]}}]),
                "contradict",
            ),
            (
                json!([{"type": "function", "name": "x", "parameters": {"type": "object", "description": "d".repeat(MAX_PARAMETERS_BYTES)}}]),
                "bytes",
            ),
            (json!([{"type": "function", "name": "x", "timeout_ms": "soon"}]), "timeout_ms"),
            (json!([{"type": "function", "name": "x", "expectsResponse": "yes"}]), "expectsResponse"),
        ] {
            let e = declare(&tools, &ConfigMap::new()).expect_err(needle);
            assert_eq!(e.code(), "invalid_tools");
            assert!(e.message().contains(needle), "{needle}: {}", e.message());
        }
    }

    #[test]
    fn a_user_turn_names_a_tool_in_words() {
        let tools =
            declare(&json!([lookup(), {"type": "function", "name": "sendReceipt"}]), &ConfigMap::new()).expect("valid");
        let name = |text: &str| named_in(text, &tools).map(|t| t.name.as_str());
        assert_eq!(name("Can you lookup order 1234?"), Some("lookup_order"));
        assert_eq!(name("please run lookup_order"), Some("lookup_order"));
        assert_eq!(name("Send receipt to me"), Some("sendReceipt"));
        assert_eq!(name("look up my order"), None);
        assert_eq!(name("lookup"), None);
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            (0u64..20, proptest::option::of(20u64..40)).prop_map(|(min, max)| {
                let mut s = json!({"type": "string", "minLength": min});
                if let Some(m) = max {
                    s["maxLength"] = json!(m);
                }
                s
            }),
            (-50i64..50, 0i64..50, any::<bool>()).prop_map(|(lo, span, x)| {
                if x {
                    json!({"type": "integer", "exclusiveMinimum": lo, "maximum": lo + span + 1})
                } else {
                    json!({"type": "integer", "minimum": lo, "maximum": lo + span})
                }
            }),
            (-5.0f64..5.0, 0.5f64..5.0).prop_map(|(lo, span)| {
                json!({"type": "number", "exclusiveMinimum": lo, "exclusiveMaximum": lo + span})
            }),
            Just(json!({"type": "boolean"})),
            Just(json!({"type": "null"})),
            proptest::collection::vec("[a-z]{1,6}", 1..4).prop_map(|e| json!({"enum": e})),
            Just(json!({"type": "string", "format": "date-time"})),
        ]
    }

    fn schema() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                (inner.clone(), 0u64..4, proptest::option::of(4u64..8)).prop_map(|(items, min, max)| {
                    let mut s = json!({"type": "array", "items": items, "minItems": min});
                    if let Some(m) = max {
                        s["maxItems"] = json!(m);
                    }
                    s
                }),
                proptest::collection::btree_map("[a-z]{1,5}", inner.clone(), 0..4).prop_map(|props| {
                    let required: Vec<&String> = props.keys().step_by(2).collect();
                    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
                }),
                proptest::collection::vec(inner, 1..3).prop_map(|branches| json!({"anyOf": branches})),
            ]
        })
    }

    fn object_schema() -> impl Strategy<Value = Value> {
        proptest::collection::btree_map("[a-z]{1,5}", schema(), 0..5).prop_map(|props| {
            let required: Vec<&String> = props.keys().collect();
            json!({"type": "object", "properties": props, "required": required})
        })
    }

    proptest! {
        /// Any declared `parameters` in the supported subset is accepted,
        /// and the arguments generated for it validate against it.
        #[test]
        fn generated_arguments_validate_against_their_declared_parameters(p in object_schema()) {
            let tools = json!([{"type": "function", "name": "t", "parameters": p}]);
            let got = declare(&tools, &ConfigMap::new());
            prop_assert!(got.is_ok(), "{:?}", got);
            let tool = &got.unwrap_or_default()[0];
            let args = arguments(tool, None);
            prop_assert!(args.as_ref().is_ok_and(Value::is_object), "{:?}", args);
            prop_assert_eq!(args, arguments(tool, None), "deterministic");
        }

        /// Whatever JSON a client sends as `tools`, the answer is a set of
        /// at most 32 uniquely named tools or an error: never a panic.
        #[test]
        fn any_declaration_is_answered_by_a_valid_set_or_an_error(
            tools in proptest::collection::vec(
                prop_oneof![
                    Just(json!(1)),
                    ("[a-zA-Z0-9 _-]{0,8}", proptest::option::of(schema()), any::<bool>()).prop_map(|(n, p, f)| {
                        let mut t = json!({"type": if f { "function" } else { "fn" }, "name": n});
                        if let Some(p) = p { t["parameters"] = p; }
                        t
                    }),
                ],
                0..40,
            )
        ) {
            match declare(&Value::Array(tools), &ConfigMap::new()) {
                Ok(set) => {
                    prop_assert!(set.len() <= MAX_TOOLS);
                    for (i, t) in set.iter().enumerate() {
                        prop_assert!(is_tool_name(&t.name));
                        prop_assert!(set[..i].iter().all(|o| o.name != t.name));
                        prop_assert!(arguments(t, None).is_ok());
                    }
                }
                Err(e) => prop_assert_eq!(e.code(), "invalid_tools"),
            }
        }
    }
}
