//! Properties of [`Config`]'s layers: a config laid over the defaults
//! reads, field by field and whole, exactly as the deep copy with the
//! patch merged in ([`merge`]) that it replaces, before and after it is
//! merged; an empty patch is the base itself.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

/// Leaf values, and objects of them one level deep.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-5i64..5).prop_map(Value::from),
        "[a-z]{0,3}".prop_map(Value::from),
        Just(json!([])),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::btree_map(prop_oneof!["isEnabled", "model", "voiceConfig", "x"], inner, 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    })
}

/// Patches over the defaults' own keys (objects there merge) and new ones.
fn patch() -> impl Strategy<Value = ConfigMap> {
    let keys = prop_oneof![
        "firstMessage",
        "synthesizer",
        "language",
        "slmModel",
        "workflowType",
        "smartTurnConfig",
        "widgetConfig",
        "newField"
    ];
    prop::collection::btree_map(keys, value(), 0..5).prop_map(|m| m.into_iter().collect())
}

fn deep_copy(base: &ConfigMap, patch: &ConfigMap) -> ConfigMap {
    let mut m = base.clone();
    merge(&mut m, patch);
    m
}

proptest! {
    /// `field` before the merge, the whole map, and `field` after it all
    /// equal the deep copy's; the defaults stay as they were.
    #[test]
    fn an_overlay_reads_as_the_deep_copy(p in patch()) {
        let expected = deep_copy(&defaults(), &p);
        let c = Config::overlay(defaults(), p.clone());
        for k in expected.keys().chain(["absent".to_string()].iter()) {
            prop_assert_eq!(c.field(k), expected.get(k), "field {} before the merge", k);
        }
        prop_assert_eq!(&*c, &expected);
        for k in expected.keys() {
            prop_assert_eq!(c.field(k), expected.get(k), "field {} after the merge", k);
        }
        prop_assert_eq!(&c, &Config::new(expected));
        prop_assert_eq!(Config::ptr_eq(&c, &defaults()), p.is_empty());
        prop_assert!(defaults().get("firstMessage") == Some(&json!("")));
    }

    /// An overlay of an overlay reads as both merges in turn, and its
    /// serialized form is the merged map's.
    #[test]
    fn overlays_stack_and_serialize_merged(p in patch(), q in patch()) {
        let expected = deep_copy(&deep_copy(&defaults(), &p), &q);
        let c = Config::overlay(Config::overlay(defaults(), p), q);
        for k in expected.keys() {
            prop_assert_eq!(c.field(k), expected.get(k));
        }
        prop_assert_eq!(serde_json::to_value(&c).ok(), Some(Value::Object(expected)));
    }
}

/// The access check reads a field given over the defaults without
/// merging the rest (the create path's one read).
#[test]
fn a_single_field_is_read_without_merging() {
    let mut p = ConfigMap::new();
    p.insert("slmModel".into(), json!("gpt-4o"));
    let c = Config::overlay(defaults(), p);
    assert_eq!(c.field("slmModel"), Some(&json!("gpt-4o")));
    assert_eq!(c.field("workflowType"), Some(&json!("single_prompt")));
    assert!(c.0.merged.get().is_none(), "no merge for fields on one side only");
    assert_eq!(c.field("synthesizer"), defaults().get("synthesizer"));
    assert!(c.0.merged.get().is_none());
}

proptest! {
    /// A config read back ([`Config::sharing_defaults`]) serializes to the
    /// very bytes it was read from; one that is the defaults merged with
    /// a patch shares the defaults (is them, or lies over them).
    #[test]
    fn a_config_read_back_is_the_same_bytes_and_shares_the_defaults(p in patch()) {
        let map = deep_copy(&defaults(), &p);
        let back = Config::sharing_defaults(map.clone());
        prop_assert_eq!(serde_json::to_string(&back).ok(), serde_json::to_string(&map).ok());
        let shares = Config::ptr_eq(&back, &defaults()) || back.base().is_some_and(|b| Config::ptr_eq(b, &defaults()));
        prop_assert!(shares, "not sharing the defaults: {:?}", p);
    }

    /// Maps the merge cannot give back (a default field missing, fields
    /// in another order, any other map) are kept as they are, byte for
    /// byte.
    #[test]
    fn any_other_map_is_kept_as_it_is(p in patch(), drop in 0usize..30, rotate in 0usize..30) {
        let mut map = deep_copy(&defaults(), &p);
        if let Some(k) = map.keys().nth(drop).cloned() {
            map.remove(&k);
        }
        let mut pairs: Vec<(String, Value)> = map.into_iter().collect();
        let n = pairs.len().max(1);
        pairs.rotate_left(rotate % n);
        let map: ConfigMap = pairs.into_iter().collect();
        let back = Config::sharing_defaults(map.clone());
        prop_assert_eq!(serde_json::to_string(&back).ok(), serde_json::to_string(&map).ok());
    }
}
