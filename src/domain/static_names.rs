//! Serde for `&'static str` fields that hold one of a fixed set of names
//! (config sections, transcript roles, campaign event actions). They
//! serialize as plain strings; reading one back picks the matching static
//! name, and a name outside the set is an error naming it and the set, so
//! a snapshot can never smuggle in a value the rules do not know.

use serde::{Deserialize, Deserializer};

use super::config::SECTIONS;

/// A `&'static str` field read with one of this module's functions. The
/// alias keeps serde's derive from treating the field as borrowed from
/// the input (which it does for a field written `&str`).
pub type Name = &'static str;

/// The static name equal to `s`, if `known` has it.
pub fn pick(known: &[&'static str], s: &str) -> Option<&'static str> {
    known.iter().copied().find(|k| *k == s)
}

fn one<E: serde::de::Error>(known: &[&'static str], s: &str) -> Result<&'static str, E> {
    pick(known, s).ok_or_else(|| E::custom(format!("unknown value `{s}`, expected one of {known:?}")))
}

/// Reads one name of `known`.
pub fn one_of<'de, D: Deserializer<'de>>(d: D, known: &[&'static str]) -> Result<&'static str, D::Error> {
    one(known, &String::deserialize(d)?)
}

/// Reads a config section name (`SECTIONS`, R067).
pub fn section_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static str>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names.iter().map(|s| one(&SECTIONS, s)).collect()
}

/// Reads a transcript role: `agent` or `user`.
pub fn role<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    one_of(d, &["agent", "user"])
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Row {
        #[serde(deserialize_with = "super::section_list")]
        sections: Vec<&'static str>,
        #[serde(deserialize_with = "super::role")]
        role: super::Name,
    }

    #[test]
    fn known_names_come_back_static_and_unknown_ones_are_named() {
        let row: Row = serde_json::from_str(r#"{"sections": ["llm", "voice"], "role": "user"}"#).expect("known");
        assert_eq!((row.sections, row.role), (vec!["llm", "voice"], "user"));
        let err = serde_json::from_str::<Row>(r#"{"sections": ["lm"], "role": "user"}"#).expect_err("unknown");
        assert!(err.to_string().contains("unknown value `lm`"), "{err}");
    }
}
