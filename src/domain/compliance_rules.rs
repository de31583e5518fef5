//! Compliance requirements and the review of an application (OAS GET
//! /compliance/requirements, GET /compliance/status).
//!
//! The platform asks Plivo which documents a country, number type and
//! user type need; the mock has a fixed table ([`document_types`]): India,
//! the United Kingdom, Germany and Australia require documents for every
//! number type, every other country none (an empty `documentTypes`, the
//! spec's "no compliance is needed"). Businesses prove incorporation (and,
//! in India, tax registration) and an address; individuals an identity
//! and an address.
//!
//! Forms are parsed in [`super::compliance_form`].
//!
//! The review ([`review`]) is a pure function of the application: it is
//! accepted when every required document type is present with its
//! required data fields, else rejected naming what is missing.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::compliance_form::DocumentEntry;
use super::DomainError;

/// Phone-number type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    /// Geographic numbers (every number the mock inventory sells).
    Local,
    /// Mobile numbers.
    Mobile,
    /// Toll-free numbers.
    Tollfree,
}

/// End-user type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    /// A person.
    Individual,
    /// A company.
    Business,
}

fn enum_value<T: Copy>(field: &str, raw: Option<&str>, options: &[(&str, T)]) -> Result<T, DomainError> {
    let s = raw.ok_or_else(|| DomainError::invalid(format!("{field}: Required")))?;
    options.iter().find(|(n, _)| *n == s).map(|(_, v)| *v).ok_or_else(|| {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        DomainError::invalid_enum(field, &names, s)
    })
}

impl NumberType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Mobile => "mobile",
            Self::Tollfree => "tollfree",
        }
    }

    /// Parses `numberType` (required).
    pub fn parse(raw: Option<&str>) -> Result<Self, DomainError> {
        enum_value("numberType", raw, &[("local", Self::Local), ("mobile", Self::Mobile), ("tollfree", Self::Tollfree)])
    }
}

impl UserType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Business => "business",
        }
    }

    /// Parses `userType` (required).
    pub fn parse(raw: Option<&str>) -> Result<Self, DomainError> {
        enum_value("userType", raw, &[("individual", Self::Individual), ("business", Self::Business)])
    }
}

/// A data field a document needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// `fieldName`.
    pub name: &'static str,
    /// `friendlyName`.
    pub friendly: &'static str,
    /// `helpText`.
    pub help: &'static str,
    /// `required`.
    pub required: bool,
}

/// A document type (OAS #RequiredDocumentType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocType {
    /// `documentTypeId`.
    pub id: &'static str,
    /// `name`.
    pub name: &'static str,
    /// `description`.
    pub description: &'static str,
    /// `proofRequired`: a file must come with it.
    pub proof_required: bool,
    /// `requiredFields`.
    pub fields: &'static [FieldSpec],
}

impl DocType {
    /// The wire object; every field is a string (`fieldType`).
    pub fn wire(&self) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| {
                json!({"fieldName": f.name, "friendlyName": f.friendly, "helpText": f.help,
                            "fieldType": "string", "required": f.required})
            })
            .collect();
        json!({"documentTypeId": self.id, "name": self.name, "description": self.description,
               "proofRequired": self.proof_required, "requiredFields": fields})
    }
}

const fn field(name: &'static str, friendly: &'static str, help: &'static str, required: bool) -> FieldSpec {
    FieldSpec { name, friendly, help, required }
}

const fn doc(id: &'static str, name: &'static str, description: &'static str, fields: &'static [FieldSpec]) -> DocType {
    DocType { id, name, description, proof_required: true, fields }
}

const INCORPORATION: DocType = doc(
    "dt_certificate_of_incorporation",
    "Certificate of Incorporation",
    "A government-issued certificate proving business registration",
    &[
        field("business_name", "Business Name", "Exact name as on the certificate", true),
        field("registration_number", "Registration Number", "As printed on the certificate", false),
    ],
);
const TAX: DocType = doc(
    "dt_tax_registration",
    "Tax Registration Certificate",
    "GST or equivalent tax registration of the business",
    &[field("tax_id", "Tax ID", "The registration number on the certificate", true)],
);
const IDENTITY: DocType = doc(
    "dt_government_id",
    "Government-issued ID",
    "Passport, national identity card or driving licence of the end user",
    &[field("id_number", "ID Number", "The number printed on the document", true)],
);
const ADDRESS: DocType = doc(
    "dt_proof_of_address",
    "Proof of Address",
    "A utility bill or bank statement from the last 3 months showing the address",
    &[field("address_line", "Address", "The address as it appears on the document", true)],
);

/// Countries whose numbers need an accepted application, every number
/// type.
pub const REGULATED: [&str; 4] = ["IN", "GB", "DE", "AU"];

/// The document types needed for `country` (upper-case ISO), number type
/// and user type; empty when no compliance is needed.
pub fn document_types(country: &str, _number_type: NumberType, user_type: UserType) -> &'static [DocType] {
    const IN_BUSINESS: [DocType; 3] = [INCORPORATION, TAX, ADDRESS];
    const BUSINESS: [DocType; 2] = [INCORPORATION, ADDRESS];
    const INDIVIDUAL: [DocType; 2] = [IDENTITY, ADDRESS];
    match (REGULATED.contains(&country), country, user_type) {
        (false, _, _) => &[],
        (true, "IN", UserType::Business) => &IN_BUSINESS,
        (true, _, UserType::Business) => &BUSINESS,
        (true, _, UserType::Individual) => &INDIVIDUAL,
    }
}

/// True when renting numbers in `country` needs an accepted application.
pub fn is_regulated(country: &str) -> bool {
    REGULATED.contains(&country)
}

/// A UUID-shaped id derived from `parts` (Plivo's ids are UUIDs).
pub fn uuid_like(parts: &[&str]) -> String {
    let mut rev: Vec<&str> = parts.to_vec();
    rev.reverse();
    let h = super::ids::derived_id(parts) + &super::ids::derived_id(&rev);
    format!("{}-{}-4{}-a{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

/// `data` of `GET /compliance/requirements` (OAS #ComplianceRequirement).
pub fn requirement_wire(country: &str, number_type: NumberType, user_type: UserType) -> Value {
    let docs: Vec<Value> = document_types(country, number_type, user_type).iter().map(DocType::wire).collect();
    json!({
        "requirementId": uuid_like(&["requirement", country, number_type.as_str(), user_type.as_str()]),
        "countryIso": country, "numberType": number_type.as_str(), "userType": user_type.as_str(),
        "documentTypes": docs,
    })
}

/// The review of a submission for `country`/`number_type`/`user_type`:
/// `Ok` when every required document type is present with its required
/// data fields, else the rejection reason.
pub fn review(
    country: &str,
    number_type: NumberType,
    user_type: UserType,
    documents: &[DocumentEntry],
) -> Result<(), String> {
    let mut missing = Vec::new();
    for dt in document_types(country, number_type, user_type) {
        match documents.iter().find(|d| d.document_type_id == dt.id) {
            None => missing.push(dt.name.to_string()),
            Some(d) => {
                for f in dt.fields.iter().filter(|f| f.required) {
                    if !d.data_fields.iter().any(|(k, v)| k == f.name && !v.trim().is_empty()) {
                        missing.push(format!("{} ({})", f.friendly, dt.name));
                    }
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("Missing or incomplete documents: {}", missing.join(", ")))
    }
}
