//! The web widget of an agent (OAS tag Widget; deprecated since
//! 2026-08-13 but still answering 200, DEP §Widget, R044): the config
//! merge-patch with its validation, the `GET` rendering, and the avatar
//! upload URL.
//!
//! `PATCH /agent/{id}/widget-config` takes `{widgetConfig: {...}}`; only
//! the given fields change, `null` clears a nullable field (OAS
//! #WidgetConfig). `avatarUrl` must start with the organization's CDN
//! prefix, which on the mock is `{base}/_cdn/` (the URL the avatar
//! presigned flow returns as `cdnUrl`). The widget config is agent-level
//! (the agent DTO's `widgetConfig`), not part of drafts: these endpoints
//! write it at once.

use serde_json::{json, Map, Value};

use super::config_rules::{check, Rule};
use super::knowledge_base::upload::safe_file_name;
use super::{array_len, DomainError};

/// 400 (OAS PATCH: "`avatarUrl` is not a valid CDN URL"; inferred wording).
pub const AVATAR_NOT_CDN: &str = "avatarUrl must be a URL on the platform CDN";
/// 400 (changelog 2026-06-22: `contentType` must start with `image/`; inferred wording).
pub const NOT_AN_IMAGE: &str = "contentType must be an image type";
/// 400 (OAS: greater than 0 and at most 2 MB; inferred wording).
pub const AVATAR_SIZE: &str = "fileSize must be greater than 0 and at most 2097152 bytes (2 MB)";
/// Largest avatar, bytes (OAS).
pub const MAX_AVATAR_BYTES: f64 = 2_097_152.0;
/// Presigned avatar URL lifetime, ms (OAS: expires in 300 s).
pub const AVATAR_URL_TTL_MS: i64 = 300_000;
/// Longest string field, characters (the mock's memory bound; inferred).
pub const MAX_TEXT: usize = 2_000;
/// Most `allowlist` origins (the mock's memory bound; inferred).
pub const MAX_ALLOWLIST: usize = 100;

fn non_empty(v: &Value, path: &str) -> Result<(), String> {
    check(&Rule::Str(Some(MAX_TEXT)), v, path)?;
    if v.as_str().is_some_and(str::is_empty) {
        return Err(format!("{path}: String must contain at least 1 character(s)"));
    }
    Ok(())
}

fn allowlist(v: &Value, path: &str) -> Result<(), String> {
    check(&Rule::Arr(&Rule::Str(Some(MAX_TEXT))), v, path)?;
    v.as_array().map_or(Ok(()), |a| array_len(path, a.len(), 0, MAX_ALLOWLIST))
}

const TEXT: Rule = Rule::Str(Some(MAX_TEXT));
const NON_EMPTY: Rule = Rule::Custom(non_empty);

/// Every field of OAS #WidgetConfig with its rule and whether `null` is
/// accepted.
const FIELDS: &[(&str, Rule, bool)] = &[
    ("position", Rule::Enum(&["bottom-right", "bottom-left", "top-right", "top-left"]), false),
    ("size", Rule::Enum(&["tiny", "compact", "full"]), false),
    ("borderRadius", Rule::Num(Some(0.0), Some(50.0)), false),
    ("mode", Rule::Enum(&["chat", "voice"]), false),
    ("theme", Rule::Enum(&["light", "dark"]), false),
    ("baseColor", TEXT, false),
    ("accentColor", TEXT, false),
    ("agentBubbleColor", TEXT, false),
    ("textOnAccentColor", TEXT, false),
    ("secondaryTextColor", TEXT, false),
    ("primaryTextColor", TEXT, false),
    ("title", TEXT, false),
    ("startButtonText", NON_EMPTY, false),
    ("endButtonText", NON_EMPTY, false),
    ("ctaTitle", TEXT, true),
    ("ctaSubtitle", TEXT, true),
    ("ctaName", TEXT, true),
    ("widgetName", TEXT, true),
    ("avatarUrl", TEXT, true),
    ("voiceEmptyMessage", TEXT, true),
    ("voiceActiveEmptyMessage", TEXT, true),
    ("chatEmptyMessage", TEXT, true),
    ("chatFirstMessage", TEXT, true),
    ("chatPlaceholder", NON_EMPTY, false),
    ("voiceShowTranscript", Rule::Bool, false),
    ("consentRequired", Rule::Bool, false),
    ("consentTitle", NON_EMPTY, false),
    ("consentContent", NON_EMPTY, false),
    ("consentStorageKey", TEXT, true),
    ("publicKey", TEXT, false),
    ("allowlist", Rule::Custom(allowlist), false),
];

/// Validates a PATCH body and returns the patch (`widgetConfig`'s object).
/// Unknown keys are ignored (Express does not reject them), and so is
/// `assistantId` (it is injected on read). Errors (400): `widgetConfig:
/// Required`, `widgetConfig: Expected object, received <type>`, the
/// field's rule message (`widgetConfig.<field>: …`), [`AVATAR_NOT_CDN`].
pub fn validate_patch(body: &Map<String, Value>, cdn_prefix: &str) -> Result<Map<String, Value>, DomainError> {
    let wc = body.get("widgetConfig").ok_or_else(|| DomainError::invalid("widgetConfig: Required"))?;
    check(&Rule::AnyObj, wc, "widgetConfig").map_err(DomainError::invalid)?;
    let mut patch = Map::new();
    for (key, rule, nullable) in FIELDS {
        let Some(v) = wc.get(*key) else { continue };
        if !(v.is_null() && *nullable) {
            check(rule, v, &format!("widgetConfig.{key}")).map_err(DomainError::invalid)?;
        }
        if *key == "avatarUrl" && v.as_str().is_some_and(|u| !u.starts_with(cdn_prefix)) {
            return Err(DomainError::invalid(AVATAR_NOT_CDN));
        }
        patch.insert((*key).to_string(), v.clone());
    }
    Ok(patch)
}

/// The stored config after `patch`: given keys replace, others stay.
/// Returns the new config and the avatar URL it replaced, if any (the
/// platform deletes the old CDN object; the mock forgets it).
pub fn merge(current: &Map<String, Value>, patch: &Map<String, Value>) -> (Map<String, Value>, Option<String>) {
    let mut next = current.clone();
    let old_avatar = current.get("avatarUrl").and_then(Value::as_str);
    let replaced = match patch.get("avatarUrl") {
        Some(new) if new.as_str() != old_avatar => old_avatar.map(str::to_string),
        Some(_) | None => None,
    };
    for (k, v) in patch {
        next.insert(k.clone(), v.clone());
    }
    (next, replaced)
}

/// `GET` `data`: the stored fields plus `assistantId` (the agent id);
/// with nothing configured, only `assistantId` (OAS: "All fields may be
/// absent if not yet configured").
pub fn render(agent_id: &str, stored: &Map<String, Value>) -> Value {
    let mut out = Map::from_iter([("assistantId".to_string(), json!(agent_id))]);
    out.extend(stored.iter().map(|(k, v)| (k.clone(), v.clone())));
    Value::Object(out)
}

/// A validated avatar upload request.
#[derive(Debug, Clone, PartialEq)]
pub struct AvatarUpload {
    /// File name, used in the key.
    pub file_name: String,
    /// `image/…`.
    pub content_type: String,
    /// Bytes, 1–2 MB.
    pub file_size: f64,
}

/// Validates `POST /agent/{id}/avatar/presigned-url` (required `fileName`,
/// `contentType`, `fileSize`). Errors (400): `<field>: Required`, the type
/// messages, [`NOT_AN_IMAGE`], [`AVATAR_SIZE`].
pub fn validate_avatar(body: &Map<String, Value>) -> Result<AvatarUpload, DomainError> {
    let field = |k: &str, rule: &Rule| -> Result<Value, DomainError> {
        let v = body.get(k).ok_or_else(|| DomainError::invalid(format!("{k}: Required")))?;
        check(rule, v, k).map_err(DomainError::invalid)?;
        Ok(v.clone())
    };
    let file_name = field("fileName", &NON_EMPTY)?;
    let content_type = field("contentType", &TEXT)?;
    let file_size = field("fileSize", &Rule::Num(None, None))?.as_f64().unwrap_or(0.0);
    let content_type = content_type.as_str().unwrap_or_default().to_string();
    if !content_type.to_ascii_lowercase().starts_with("image/") {
        return Err(DomainError::invalid(NOT_AN_IMAGE));
    }
    if file_size <= 0.0 || file_size > MAX_AVATAR_BYTES {
        return Err(DomainError::invalid(AVATAR_SIZE));
    }
    Ok(AvatarUpload { file_name: file_name.as_str().unwrap_or_default().to_string(), content_type, file_size })
}

/// The avatar's storage key: `agent-avatars/<agentId>/<uuid>-<file name>`
/// (file name through [`safe_file_name`]).
pub fn avatar_key(agent_id: &str, uuid: &str, file_name: &str) -> String {
    format!("agent-avatars/{agent_id}/{uuid}-{}", safe_file_name(file_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CDN: &str = "http://127.0.0.1:4010/_cdn/";

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_null_clears() {
        let stored = obj(json!({"position": "bottom-left", "ctaTitle": "Hi", "avatarUrl": format!("{CDN}a.png")}));
        let patch = validate_patch(&obj(json!({"widgetConfig": {"theme": "dark", "ctaTitle": null, "avatarUrl": format!("{CDN}b.png"), "extra": 1}})), CDN).unwrap();
        let (next, replaced) = merge(&stored, &patch);
        assert_eq!(
            next,
            obj(
                json!({"position": "bottom-left", "ctaTitle": null, "avatarUrl": format!("{CDN}b.png"), "theme": "dark"})
            )
        );
        assert_eq!(replaced, Some(format!("{CDN}a.png")));
        let v = render("agent1", &next);
        assert_eq!((v["assistantId"].as_str(), v["theme"].as_str()), (Some("agent1"), Some("dark")));
        assert_eq!(render("agent1", &Map::new()), json!({"assistantId": "agent1"}));
    }

    #[test]
    fn every_field_is_checked() {
        let err = |v: Value| validate_patch(&obj(json!({"widgetConfig": v})), CDN).unwrap_err().to_string();
        assert_eq!(
            err(json!({"borderRadius": 51})),
            "widgetConfig.borderRadius: Number must be less than or equal to 50"
        );
        assert_eq!(
            err(json!({"size": "huge"})),
            "widgetConfig.size: Invalid enum value. Expected 'tiny' | 'compact' | 'full', received 'huge'"
        );
        assert_eq!(
            err(json!({"startButtonText": ""})),
            "widgetConfig.startButtonText: String must contain at least 1 character(s)"
        );
        assert_eq!(err(json!({"position": null})), "widgetConfig.position: Expected string, received null");
        assert_eq!(err(json!({"allowlist": ["a", 1]})), "widgetConfig.allowlist.1: Expected string, received number");
        assert_eq!(err(json!({"avatarUrl": "https://evil.example/a.png"})), AVATAR_NOT_CDN);
        assert_eq!(validate_patch(&Map::new(), CDN).unwrap_err().to_string(), "widgetConfig: Required");
        assert_eq!(err(json!([])), "widgetConfig: Expected object, received array");
    }

    #[test]
    fn avatars_are_images_up_to_two_megabytes() {
        let ok = obj(json!({"fileName": "me.png", "contentType": "image/png", "fileSize": 2_097_152}));
        assert!(validate_avatar(&ok).is_ok());
        let mut b = ok.clone();
        b.insert("contentType".into(), json!("application/pdf"));
        assert_eq!(validate_avatar(&b), Err(DomainError::invalid(NOT_AN_IMAGE)));
        let mut b = ok.clone();
        b.insert("fileSize".into(), json!(2_097_153));
        assert_eq!(validate_avatar(&b), Err(DomainError::invalid(AVATAR_SIZE)));
        b.insert("fileSize".into(), json!(0));
        assert_eq!(validate_avatar(&b), Err(DomainError::invalid(AVATAR_SIZE)));
        let mut b = ok;
        b.remove("fileName");
        assert_eq!(validate_avatar(&b), Err(DomainError::invalid("fileName: Required")));
        assert_eq!(avatar_key("a1", "u", "my pic.png"), "agent-avatars/a1/u-my_pic.png");
    }
}
