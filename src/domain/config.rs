//! Agent config: the versioned part of an agent, stored as the flat
//! camelCase object of `CreateAgentRequest` (`firstMessage`,
//! `synthesizer`, `singlePromptConfig`, ...).
//!
//! Owns the defaults a new agent starts from (R023, R024), the patch rules
//! (validate every field first, then deep-merge: objects merge key by key,
//! arrays and scalars replace), the mapping of fields onto the platform's
//! 13 config sections (R067), the two diff shapes (R054, R062) and the
//! flattened `_resolvedConfig` (R026).
//!
//! A [`Config`] given on create is laid over the shared defaults and
//! merged on first read; property-tested in `config_props` (it reads as
//! the deep copy it replaces).

use std::sync::{Arc, LazyLock};

use serde_json::{json, Map, Value};

use super::config_rules::{check, rule_for};
use super::DomainError;

/// A JSON object of config fields.
pub type ConfigMap = Map<String, Value>;

/// An immutable, cheaply cloned config snapshot (clones share it).
///
/// Either a whole map ([`Config::new`]), or a base config plus the
/// fields a client gave ([`Config::overlay`]), merged ([`merge`]) on
/// first read through `Deref` and kept. An agent created with a few
/// config fields (`{name, firstMessage}`) so holds those fields and a
/// reference to the shared [`defaults`], not a deep copy of them, until
/// something reads its whole config (a render, a diff, a call): 2.5 KiB
/// per such agent instead of 18.6 (BENCHMARKS.md, 10k agents), and no
/// copy on the create path (issue 13: defaults shared, copy-on-write).
#[derive(Clone)]
pub struct Config(Arc<Layers>);

/// What a [`Config`] holds: `patch` alone, or `patch` over `base`, and
/// the serialized forms once rendered.
struct Layers {
    /// The config under `patch`; `None` when `patch` is the whole map.
    base: Option<Config>,
    /// The whole map, or the fields given over `base`.
    patch: ConfigMap,
    /// `base` with `patch` merged in, made on first read.
    merged: std::sync::OnceLock<ConfigMap>,
    /// [`Config::json`], made on first render.
    json: std::sync::OnceLock<Arc<ConfigJson>>,
}

impl Config {
    /// A config that is exactly `map`.
    pub fn new(map: ConfigMap) -> Self {
        Self(Arc::new(Layers { base: None, patch: map, merged: Default::default(), json: Default::default() }))
    }

    /// `base` with `patch` deep-merged in ([`merge`]), the merge done on
    /// first read. An empty `patch` gives `base` itself (the same
    /// allocation, so [`Config::ptr_eq`] with it holds).
    pub fn overlay(base: Config, patch: ConfigMap) -> Self {
        if patch.is_empty() {
            return base;
        }
        Self(Arc::new(Layers { base: Some(base), patch, merged: Default::default(), json: Default::default() }))
    }

    /// Whether both are the same allocation (clones of one config).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// The serialized forms `GET /agent` splices into its answers
    /// ([`to_json_parts`]), computed on first use and kept with the
    /// config, so every clone shares them: the shared [`defaults`] are
    /// serialized once per process, whichever agents hold them (created
    /// with default config, or read back from a snapshot).
    pub fn json(&self) -> Arc<ConfigJson> {
        Arc::clone(self.0.json.get_or_init(|| Arc::new(to_json_parts(self))))
    }

    /// The config this one was laid over, when it is an
    /// [`Config::overlay`] (for tests of the sharing).
    pub fn base(&self) -> Option<&Config> {
        self.0.base.as_ref()
    }

    /// The merged value of top-level field `key`, without merging the
    /// whole config when only one side has the field (what the access
    /// check on create reads).
    pub fn field(&self, key: &str) -> Option<&Value> {
        let l = &*self.0;
        match (&l.base, l.merged.get()) {
            (Some(base), None) => match (l.patch.get(key), base.field(key)) {
                (Some(Value::Object(_)), Some(Value::Object(_))) => ConfigMap::get(self, key),
                (Some(v), _) => Some(v),
                (None, v) => v,
            },
            _ => ConfigMap::get(self, key),
        }
    }
}

impl std::ops::Deref for Config {
    type Target = ConfigMap;

    fn deref(&self) -> &ConfigMap {
        let l = &*self.0;
        match &l.base {
            None => &l.patch,
            Some(base) => l.merged.get_or_init(|| {
                let mut m = ConfigMap::clone(base);
                merge(&mut m, &l.patch);
                m
            }),
        }
    }
}

impl Default for Config {
    /// An empty config.
    fn default() -> Self {
        Self::new(ConfigMap::new())
    }
}

impl From<ConfigMap> for Config {
    fn from(map: ConfigMap) -> Self {
        Self::new(map)
    }
}

impl PartialEq for Config {
    /// Equal when the merged maps are.
    fn eq(&self, other: &Self) -> bool {
        Self::ptr_eq(self, other) || **self == **other
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        ConfigMap::fmt(self, f)
    }
}

impl serde::Serialize for Config {
    /// The merged map.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ConfigMap::serialize(self, s)
    }
}

impl<'de> serde::Deserialize<'de> for Config {
    /// The map, sharing the defaults where it reads the same
    /// ([`Config::sharing_defaults`]): a state file's agents cost what
    /// the agents they were saved from cost, not a copy of the defaults
    /// each.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ConfigMap::deserialize(d).map(Self::sharing_defaults)
    }
}

impl Config {
    /// `map` as a config that shares the [`defaults`] where that reads
    /// the same, keys in the same order at every depth: the defaults
    /// themselves when `map` is them, else the top-level fields that
    /// differ laid over them ([`Config::overlay`]); `map` alone when the
    /// merge would not give `map` back (a field of the defaults missing,
    /// keys in another order). For configs read back from a snapshot.
    pub fn sharing_defaults(map: ConfigMap) -> Self {
        let defaults = defaults();
        let patch: ConfigMap = map
            .iter()
            .filter(|(k, v)| defaults.get(k.as_str()) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if patch.is_empty() {
            return if same_in_order(&defaults, &map) { defaults } else { Self::new(map) };
        }
        let mut merged = ConfigMap::clone(&defaults);
        merge(&mut merged, &patch);
        if same_in_order(&merged, &map) {
            Self::overlay(defaults, patch)
        } else {
            Self::new(map)
        }
    }
}

/// Equal maps with their keys in the same order, at every depth.
fn same_in_order(a: &ConfigMap, b: &ConfigMap) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
}

/// [`same_in_order`] for any value (arrays element by element).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => same_in_order(x, y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q)),
        _ => a == b,
    }
}

/// Reading one top-level config field: a [`Config`] answers without
/// merging where it can ([`Config::field`]), a plain map directly.
pub trait Fields {
    /// The value of top-level field `key`.
    fn field(&self, key: &str) -> Option<&Value>;
}

impl Fields for ConfigMap {
    fn field(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

impl Fields for Config {
    fn field(&self, key: &str) -> Option<&Value> {
        Config::field(self, key)
    }
}

/// The 13 config sections of an AgentVersion's `blocks` (R067), in the
/// platform's order.
pub const SECTIONS: [&str; 13] = [
    "workflow_prompt",
    "workflow_tools",
    "workflow_graph",
    "llm",
    "voice",
    "language",
    "call_handling",
    "detection",
    "analytics",
    "timeouts",
    "audio",
    "privacy",
    "widget",
];

/// The section a config path (`field` or `field.sub.path`) belongs to.
pub fn section_of(path: &str) -> &'static str {
    let mut parts = path.splitn(2, '.');
    let field = parts.next().unwrap_or_default();
    match field {
        "singlePromptConfig" if parts.next().is_some_and(|p| p.starts_with("tools")) => "workflow_tools",
        "singlePromptConfig" => "workflow_prompt",
        "workflowGraph" | "workflowType" | "globalPrompt" => "workflow_graph",
        "slmModel" | "customLLMWebSocketUrl" | "globalKnowledgeBaseId" | "defaultVariables" | "preCallAPI" => "llm",
        "synthesizer" | "pronunciationDicts" => "voice",
        "language" | "transcriberType" => "language",
        "voiceDetectionConfig" | "voiceMailDetectionConfig" | "smartTurnConfig" => "detection",
        "postCallAnalyticsConfig" | "callDispositionConfig" => "analytics",
        "llmIdleTimeoutConfig" | "sessionTimeoutConfig" => "timeouts",
        "backgroundSound" | "denoisingConfig" => "audio",
        "redactionConfig" => "privacy",
        "widgetConfig" => "widget",
        _ => "call_handling",
    }
}

static DEFAULTS: LazyLock<Config> = LazyLock::new(|| {
    let v = json!({
        "workflowType": "single_prompt",
        "singlePromptConfig": {"prompt": "", "tools": []},
        "slmModel": "electron",
        "transcriberType": "pulse",
        "language": {
            "default": "en", "supported": ["en"],
            "switching": {"isEnabled": false, "minWordsForDetection": 2, "strongSignalThreshold": 0.7,
                          "weakSignalThreshold": 0.3, "minConsecutiveForWeakThresholdSwitch": 2}
        },
        "synthesizer": {
            "voiceConfig": {"model": "waves_lightning_v3_1", "voiceId": "nyah", "gender": "female"},
            "speed": 1.2, "consistency": 0.5, "similarity": 0, "enhancement": 1, "sampleRate": 16000
        },
        "globalPrompt": "",
        "firstMessage": "",
        "defaultVariables": {},
        "allowInterruptions": true,
        "waitForUserToSpeakFirst": false,
        "muteUserUntilFirstBotResponse": false,
        "interruptionBackoffTimer": 0,
        "backgroundSound": "",
        "smartTurnConfig": {"isEnabled": false, "waitTimeInSecs": 0},
        "voiceDetectionConfig": {"confidence": 0.7, "minVolume": 0.6, "triggerTimeInSecs": 0.2, "releaseTimeInSecs": 0.8},
        "voiceMailDetectionConfig": {"enabled": false, "endText": "Terminating call, you can call us back anytime. Thank you for calling."},
        "denoisingConfig": {"isEnabled": false},
        "redactionConfig": {"isEnabled": true},
        "pronunciationDicts": [],
        "llmIdleTimeoutConfig": {"chatTimeoutTimeInSecs": 60, "webcallTimeoutTimeInSecs": 10, "telephonyTimeoutTimeInSecs": 10, "maxRetries": 2},
        "sessionTimeoutConfig": {"timeoutTimeInSecs": 1800},
        "timezone": {"label": "(GMT+0:00) UTC", "offset": 0},
        "postCallAnalyticsConfig": {"dispositionMetrics": [], "successMetrics": [], "summaryPrompt": "",
                                    "useInternalAnalyticsModel": true, "useReasoningModel": false},
        "callDispositionConfig": "",
        "enableStyleGuide": true
    });
    // A second literal: one would exceed `json!`'s recursion limit.
    let widget = json!({
        "position": "bottom-right", "size": "full", "mode": "chat", "theme": "light",
        "baseColor": "#ffffff", "accentColor": "#2d9d9f", "agentBubbleColor": "#f3f4f6",
        "textOnAccentColor": "#FFFFFF", "secondaryTextColor": "#6b7280", "primaryTextColor": "#111827",
        "startButtonText": "Start", "endButtonText": "End", "ctaName": "Talk to Atoms", "widgetName": "Atoms",
        "chatPlaceholder": "Type your message...", "consentRequired": false, "consentTitle": "Privacy Agreement"
    });
    match v {
        Value::Object(mut m) => {
            m.insert("widgetConfig".into(), widget);
            Config::new(m)
        }
        _ => Config::default(),
    }
});

/// The config every new agent's version 1 starts from: the platform's
/// defaults (R023; `AgentDTO` and `CreateAgentRequest` in the spec; LIVE
/// C1 for `denoisingConfig.isEnabled: false` and `redactionConfig.isEnabled:
/// true`, where LIVE wins over any other source). Fields without a
/// documented default (`timezone`, `voiceDetectionConfig`, the idle
/// timeouts) carry the mock's choices.
pub fn defaults() -> Config {
    DEFAULTS.clone()
}

/// Validates a partial config. Returns only the recognized fields;
/// unknown keys are dropped. The first invalid field gives
/// `Validation("<path>: <problem>")`; an object with no recognized field
/// gives `Validation("No recognized config fields")` (R053).
pub fn validate_patch(body: &Map<String, Value>) -> Result<ConfigMap, DomainError> {
    let out = validate_fields(body)?;
    if out.is_empty() {
        return Err(DomainError::invalid("No recognized config fields"));
    }
    Ok(out)
}

/// Like [`validate_patch`], but an object without config fields is fine
/// (used by `POST /agent`, where only `name` is required).
pub fn validate_fields(body: &Map<String, Value>) -> Result<ConfigMap, DomainError> {
    let mut out = Map::new();
    for (k, v) in body {
        if let Some(rule) = rule_for(k) {
            check(rule, v, k).map_err(DomainError::Validation)?;
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(out)
}

/// Deep-merges `patch` into `base`: objects merge key by key, everything
/// else replaces.
pub fn merge(base: &mut ConfigMap, patch: &ConfigMap) {
    for (k, v) in patch {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(p)) => merge(b, p),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// One changed leaf: `path` is dotted from the config root.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Dotted path, e.g. `smartTurnConfig.waitTimeInSecs`.
    pub path: String,
    /// Value before, `Null` when absent.
    pub old: Value,
    /// Value after, `Null` when absent.
    pub new: Value,
}

fn diff_into(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys {
                diff_into(&format!("{path}.{k}"), x.get(k), y.get(k), out);
            }
        }
        _ if a == b => {}
        _ => out.push(Change {
            path: path.to_string(),
            old: a.cloned().unwrap_or(Value::Null),
            new: b.cloned().unwrap_or(Value::Null),
        }),
    }
}

/// Every changed leaf between two configs, in field order.
pub fn leaf_changes(before: &ConfigMap, after: &ConfigMap) -> Vec<Change> {
    let mut out = Vec::new();
    let keys = before.keys().chain(after.keys().filter(|k| !before.contains_key(*k)));
    for k in keys {
        diff_into(k, before.get(k), after.get(k), &mut out);
    }
    out
}

/// The sections touched by a set of changes, in section order.
pub fn changed_sections(changes: &[Change]) -> Vec<&'static str> {
    SECTIONS.into_iter().filter(|s| changes.iter().any(|c| section_of(&c.path) == *s)).collect()
}

/// The config regrouped by section: `{section: {field: value}}`, with
/// `singlePromptConfig` split into `prompt` and `tools`.
pub fn by_section(config: &ConfigMap) -> Map<String, Value> {
    let mut out: Map<String, Value> = SECTIONS.iter().map(|s| (s.to_string(), json!({}))).collect();
    for (k, v) in config {
        let entries: Vec<(String, &'static str, Value)> = match (k.as_str(), v) {
            ("singlePromptConfig", Value::Object(sp)) => {
                sp.iter().map(|(sk, sv)| (sk.clone(), section_of(&format!("{k}.{sk}")), sv.clone())).collect()
            }
            _ => vec![(k.clone(), section_of(k), v.clone())],
        };
        for (field, section, value) in entries {
            if let Some(Value::Object(m)) = out.get_mut(section) {
                m.insert(field, value);
            }
        }
    }
    out
}

fn changes_json(changes: &[&Change]) -> Value {
    changes.iter().map(|c| json!({"path": c.path, "oldValue": c.old, "newValue": c.new})).collect()
}

/// `AgentVersionDiff` (R062): `{unchangedSections, diffs: [{section,
/// changes: [{path, oldValue, newValue}]}]}` from `a` to `b`. Both sides
/// are compared with the platform's defaults filled in, so a value equal
/// to its default makes no entry (LIVE C1, see `config_diff::effective`).
pub fn version_diff(a: &ConfigMap, b: &ConfigMap) -> Value {
    let changes = leaf_changes(&super::config_diff::effective(a), &super::config_diff::effective(b));
    let mut unchanged = Vec::new();
    let mut diffs = Vec::new();
    for s in SECTIONS {
        let in_section: Vec<&Change> = changes.iter().filter(|c| section_of(&c.path) == s).collect();
        if in_section.is_empty() {
            unchanged.push(s);
        } else {
            diffs.push(json!({"section": s, "changes": changes_json(&in_section)}));
        }
    }
    json!({"unchangedSections": unchanged, "diffs": diffs})
}

/// Draft diff (R054): `{sections: {section: {before, after, changed}},
/// hasChanges}` from `base` to `draft`. Each changed section also carries
/// `changes: [{path, oldValue, newValue}]` (a mock extension, so clients
/// can see the changed leaves without diffing `before` and `after`).
/// Defaults are filled in before comparing, as in [`version_diff`].
pub fn draft_diff(base: &ConfigMap, draft: &ConfigMap) -> Value {
    let changes = leaf_changes(&super::config_diff::effective(base), &super::config_diff::effective(draft));
    let (before, after) = (by_section(base), by_section(draft));
    let mut sections = Map::new();
    for s in SECTIONS {
        let in_section: Vec<&Change> = changes.iter().filter(|c| section_of(&c.path) == s).collect();
        let mut entry = json!({
            "before": before.get(s).cloned().unwrap_or(Value::Null),
            "after": after.get(s).cloned().unwrap_or(Value::Null),
            "changed": !in_section.is_empty(),
        });
        if !in_section.is_empty() {
            entry["changes"] = changes_json(&in_section);
        }
        sections.insert(s.to_string(), entry);
    }
    json!({"sections": sections, "hasChanges": !changes.is_empty()})
}

/// `_resolvedConfig` (R026): every config field, plus the platform's flat
/// aliases `prompt`, `tools`, `modelName`, `defaultLanguage`,
/// `supportedLanguages` and `languageSwitching`.
pub fn resolved(config: &ConfigMap) -> Map<String, Value> {
    let mut out = config.clone();
    let sp = config.get("singlePromptConfig");
    out.insert("prompt".into(), sp.and_then(|s| s.get("prompt")).cloned().unwrap_or_else(|| json!("")));
    out.insert("tools".into(), sp.and_then(|s| s.get("tools")).cloned().unwrap_or_else(|| json!([])));
    if let Some(m) = config.get("slmModel") {
        out.insert("modelName".into(), m.clone());
    }
    if let Some(lang) = config.get("language") {
        for (from, to) in
            [("default", "defaultLanguage"), ("supported", "supportedLanguages"), ("switching", "languageSwitching")]
        {
            if let Some(v) = lang.get(from) {
                out.insert(to.into(), v.clone());
            }
        }
    }
    out
}

/// The legacy `_versionedWorkflow` mirror: `{prompt, tools, workflowGraph?}`.
pub fn versioned_workflow(config: &ConfigMap) -> Value {
    let r = resolved(config);
    let mut out = json!({"prompt": r["prompt"], "tools": r["tools"]});
    if let Some(g) = config.get("workflowGraph") {
        out["workflowGraph"] = g.clone();
    }
    out
}

/// The serialized forms of an immutable config that `GET /agent` splices
/// into responses, computed once per config ([`Config::json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigJson {
    /// The config fields as `"k":v` pairs joined by commas, without braces,
    /// minus `singlePromptConfig` and `workflowType` (AgentDTO's top level).
    pub fields: String,
    /// `_resolvedConfig` as a JSON object.
    pub resolved: String,
    /// `_versionedWorkflow` as a JSON object.
    pub versioned: String,
}

/// Serializes `config` into its [`ConfigJson`] parts.
pub fn to_json_parts(config: &ConfigMap) -> ConfigJson {
    let mut fields = String::with_capacity(2048);
    for (k, v) in config.iter().filter(|(k, _)| !matches!(k.as_str(), "singlePromptConfig" | "workflowType")) {
        if !fields.is_empty() {
            fields.push(',');
        }
        fields.push_str(&Value::String(k.clone()).to_string());
        fields.push(':');
        fields.push_str(&v.to_string());
    }
    ConfigJson {
        fields,
        resolved: Value::Object(resolved(config)).to_string(),
        versioned: versioned_workflow(config).to_string(),
    }
}

#[cfg(test)]
#[path = "config_props.rs"]
mod props;
