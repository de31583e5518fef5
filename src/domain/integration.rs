//! The WebEngage integration (OAS tag Integrations): one per
//! organization, replaced whole by `POST
//! /integration/modify-webengage-integration` and read by `GET
//! /integration/get-webengage-details`.
//!
//! Both answers skip the standard envelope: `{"message": "<text>", "data":
//! {…}}`, no `status` (R008, OAS). An organization that never configured
//! it reads `data` as `{"integrationSets": []}`, so `data` keeps one shape
//! (the spec documents no 404 for the read; the mock's decision).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::time::iso;
use super::{array_len, DomainError, Millis};

/// `message` of the first write (OAS example).
pub const CREATED: &str = "Integration created successfully";
/// `message` of a later write (inferred, after the first).
pub const UPDATED: &str = "Integration updated successfully";
/// `message` of the read (OAS example).
pub const RETRIEVED: &str = "Integration details retrieved successfully";
/// Most credential sets (the mock's memory bound; inferred).
pub const MAX_SETS: usize = 20;
/// Longest credential field, characters (the mock's bound; inferred).
pub const MAX_FIELD: usize = 512;

/// One credential set (OAS #WebEngageIntegrationSet, all required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationSet {
    /// License code.
    pub license_code: Option<String>,
    /// Environment identifier.
    pub environment: Option<String>,
    /// API key.
    pub api_key: Option<String>,
}

/// Request body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifyBody {
    /// At least one set.
    pub integration_sets: Option<Vec<IntegrationSet>>,
}

/// The stored integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebEngage {
    /// 24-hex id, kept across replacements.
    pub id: String,
    /// Organization.
    pub organization: String,
    /// The sets, each with all three fields.
    pub sets: Vec<IntegrationSet>,
    /// First write, epoch ms.
    pub created_at: Millis,
    /// Last write, epoch ms.
    pub updated_at: Millis,
}

/// Validates a write. Errors (400): `integrationSets: Required`,
/// `integrationSets: Array must contain at least 1 element(s)` (or at most
/// [`MAX_SETS`]), `integrationSets.<i>.<field>: Required`, `… String must
/// contain at least 1 character(s)` (or at most [`MAX_FIELD`]).
pub fn validate(b: &ModifyBody) -> Result<Vec<IntegrationSet>, DomainError> {
    let sets = b.integration_sets.as_ref().ok_or_else(|| DomainError::invalid("integrationSets: Required"))?;
    array_len("integrationSets", sets.len(), 1, MAX_SETS).map_err(DomainError::invalid)?;
    for (i, s) in sets.iter().enumerate() {
        for (name, v) in [("licenseCode", &s.license_code), ("environment", &s.environment), ("apiKey", &s.api_key)] {
            let v =
                v.as_deref().ok_or_else(|| DomainError::invalid(format!("integrationSets.{i}.{name}: Required")))?;
            if v.trim().is_empty() {
                return Err(DomainError::invalid(format!(
                    "integrationSets.{i}.{name}: String must contain at least 1 character(s)"
                )));
            }
            if v.chars().count() > MAX_FIELD {
                return Err(DomainError::invalid(format!(
                    "integrationSets.{i}.{name}: String must contain at most {MAX_FIELD} character(s)"
                )));
            }
        }
    }
    Ok(sets.clone())
}

/// The integration after a write, and the `message` to answer: a first
/// write creates it ([`CREATED`]), a later one replaces its sets
/// ([`UPDATED`]).
pub fn write(
    current: Option<&WebEngage>,
    sets: Vec<IntegrationSet>,
    new_id: String,
    org: &str,
    now: Millis,
) -> (WebEngage, &'static str) {
    match current {
        Some(c) => (WebEngage { sets, updated_at: c.updated_at.max(now), ..c.clone() }, UPDATED),
        None => {
            (WebEngage { id: new_id, organization: org.to_string(), sets, created_at: now, updated_at: now }, CREATED)
        }
    }
}

/// `data` of both answers: `{_id, organization, type: "webengage",
/// integrationSets, createdAt, updatedAt}`, or `{integrationSets: []}`
/// when there is none.
pub fn render(w: Option<&WebEngage>) -> Value {
    let Some(w) = w else { return json!({"integrationSets": []}) };
    json!({
        "_id": w.id, "organization": w.organization, "type": "webengage",
        "integrationSets": w.sets, "createdAt": iso(w.created_at), "updatedAt": iso(w.updated_at),
    })
}

/// A whole answer: `{message, data}`.
pub fn answer(message: &str, data: Value) -> Value {
    Value::Object(Map::from_iter([("message".to_string(), json!(message)), ("data".to_string(), data)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(l: &str, e: &str, k: &str) -> IntegrationSet {
        IntegrationSet { license_code: Some(l.into()), environment: Some(e.into()), api_key: Some(k.into()) }
    }

    #[test]
    fn the_first_write_creates_and_the_next_replaces() {
        let sets = validate(&ModifyBody { integration_sets: Some(vec![set("L1", "us", "k1")]) }).unwrap();
        let (w, msg) = write(None, sets, "i".repeat(24), "org", 5);
        assert_eq!(msg, CREATED);
        let (w2, msg) = write(Some(&w), vec![set("L2", "in", "k2")], "other".into(), "org", 9);
        assert_eq!((msg, w2.id.as_str(), w2.created_at, w2.updated_at), (UPDATED, w.id.as_str(), 5, 9));
        let data = render(Some(&w2));
        assert_eq!(data["integrationSets"], json!([{"licenseCode": "L2", "environment": "in", "apiKey": "k2"}]));
        assert_eq!(answer(RETRIEVED, render(None)), json!({"message": RETRIEVED, "data": {"integrationSets": []}}));
    }

    #[test]
    fn every_set_needs_all_three_fields() {
        assert_eq!(validate(&ModifyBody::default()), Err(DomainError::invalid("integrationSets: Required")));
        assert_eq!(
            validate(&ModifyBody { integration_sets: Some(vec![]) }),
            Err(DomainError::invalid("integrationSets: Array must contain at least 1 element(s)"))
        );
        let missing = IntegrationSet { api_key: None, ..set("L", "e", "k") };
        assert_eq!(
            validate(&ModifyBody { integration_sets: Some(vec![set("L", "e", "k"), missing]) }),
            Err(DomainError::invalid("integrationSets.1.apiKey: Required"))
        );
    }
}
