//! A phone-number product (OAS #Product; LIVE's phone-number item) and
//! the import request of a SIP number (OAS POST
//! /product/import-phone-number).
//!
//! Wire shapes: list items have exactly LIVE's keys `__v, _id, agentId,
//! attributes, createdAt, isActive, productType, updatedAt`. The spec
//! names an imported number's type twice: `custom` in the import answer
//! and `custom-telephony` in `#Product` (all-numbers); each answer uses
//! its own operation's value ([`ProductType::import_name`],
//! [`ProductType::list_name`]).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::inventory::Provider;
use super::time::iso;
use super::{DomainError, Millis};

/// 400 for an import without `phoneNumber` (the spec's example).
pub const PHONE_REQUIRED: &str = "Phone number is required";

/// Kind of product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProductType {
    /// Rented through the platform.
    Telephony,
    /// Imported with the customer's SIP trunk.
    Custom,
}

impl ProductType {
    /// `productType` in list answers (`telephony`, `custom-telephony`).
    pub fn list_name(self) -> &'static str {
        match self {
            Self::Telephony => "telephony",
            Self::Custom => "custom-telephony",
        }
    }

    /// `productType` in the import answer (`custom`).
    pub fn import_name(self) -> &'static str {
        match self {
            Self::Telephony => "telephony",
            Self::Custom => "custom",
        }
    }
}

/// The SIP side of an imported number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SipTrunk {
    /// Display name.
    pub name: String,
    /// Termination host, normalized (`host[:port]`).
    pub termination_host: String,
    /// SIP user, if any. The password is never kept.
    pub username: Option<String>,
    /// `outboundSipTrunkId` (`ST_` + 12).
    pub outbound_trunk_id: String,
    /// `inboundSipTrunkId`.
    pub inbound_trunk_id: String,
}

/// One phone-number product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneProduct {
    /// 24-hex `_id`.
    pub id: String,
    /// Kind.
    pub product_type: ProductType,
    /// The number: E.164 for rented ones, as given for imported ones.
    pub phone_number: String,
    /// Provider (rented).
    pub provider: Option<Provider>,
    /// ISO country (rented).
    pub country_code: Option<String>,
    /// Dialling area code (rented).
    pub area_code: Option<String>,
    /// The accepted compliance application it was rented under.
    pub compliance_application_id: Option<String>,
    /// SIP trunk (imported).
    pub sip: Option<SipTrunk>,
    /// The agent holding it.
    pub agent_id: Option<String>,
    /// Orders an agent's numbers: set when attached.
    pub attach_rank: u64,
    /// Last billed cycle start (rented), epoch ms: renewals settle from here.
    pub billed_through: Millis,
    /// Creation, epoch ms.
    pub created_at: Millis,
    /// Last change, epoch ms.
    pub updated_at: Millis,
    /// Mongo's `__v`: bumped on every change.
    pub version: u32,
}

impl PhoneProduct {
    /// A product of `product_type` for `phone_number`, created at `now`,
    /// held by no agent; the caller sets the kind-specific fields.
    pub fn new(id: String, product_type: ProductType, phone_number: String, now: Millis) -> Self {
        PhoneProduct {
            id,
            product_type,
            phone_number,
            provider: None,
            country_code: None,
            area_code: None,
            compliance_application_id: None,
            sip: None,
            agent_id: None,
            attach_rank: 0,
            billed_through: now,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    fn attributes(&self) -> Value {
        match &self.sip {
            Some(s) => json!({"name": s.name, "phoneNumber": self.phone_number,
                              "outboundSipTrunkId": s.outbound_trunk_id, "inboundSipTrunkId": s.inbound_trunk_id}),
            None => {
                let mut a = Map::new();
                a.insert("provider".into(), json!(self.provider.map(Provider::as_str)));
                a.insert("phoneNumber".into(), json!(self.phone_number));
                a.insert("countryCode".into(), json!(self.country_code));
                a.insert("areaCode".into(), json!(self.area_code));
                if let Some(c) = &self.compliance_application_id {
                    a.insert("complianceApplicationId".into(), json!(c));
                }
                Value::Object(a)
            }
        }
    }

    /// A list item: exactly LIVE's keys, `productType` per
    /// [`ProductType::list_name`].
    pub fn wire(&self) -> Value {
        json!({
            "__v": self.version, "_id": self.id, "agentId": self.agent_id, "attributes": self.attributes(),
            "createdAt": iso(self.created_at), "isActive": true,
            "productType": self.product_type.list_name(), "updatedAt": iso(self.updated_at),
        })
    }

    /// The import answer: the same keys with `productType: custom`.
    pub fn import_wire(&self) -> Value {
        let mut v = self.wire();
        v["productType"] = json!(self.product_type.import_name());
        v
    }
}

/// A validated `POST /product/import-phone-number` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRequest {
    /// The number, trimmed, any non-empty string (the spec).
    pub phone_number: String,
    /// Normalized termination host.
    pub termination_host: String,
    /// Display name, if given.
    pub name: Option<String>,
    /// SIP user, if given and non-empty.
    pub username: Option<String>,
}

fn opt_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>, DomainError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(v) => {
            Err(DomainError::invalid(format!("{key}: Expected string, received {}", super::config_rules::type_name(v))))
        }
    }
}

/// `sip:`/`sips:` URIs reduce to their `host[:port]` (the spec: "full SIP
/// URIs ... are automatically normalized to the bare host").
pub fn normalize_sip_host(raw: &str) -> String {
    let s = raw.trim();
    let lower = s.to_ascii_lowercase();
    let rest = if lower.starts_with("sips:") {
        &s[5..]
    } else if lower.starts_with("sip:") {
        &s[4..]
    } else {
        s
    };
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    rest.split([';', '?', '/']).next().unwrap_or("").to_string()
}

/// Validates an import body: `phoneNumber` (400 [`PHONE_REQUIRED`]) and
/// `sipTerminationUrl` (400 `SIP termination URL is required`, inferred)
/// non-empty; `name`, `sipUsername`, `sipPassword` optional strings.
pub fn parse_import(body: &Map<String, Value>) -> Result<ImportRequest, DomainError> {
    let phone_number = opt_string(body, "phoneNumber")?
        .filter(|p| !p.is_empty())
        .ok_or_else(|| DomainError::invalid(PHONE_REQUIRED))?;
    let host = opt_string(body, "sipTerminationUrl")?.map(|u| normalize_sip_host(&u)).filter(|h| !h.is_empty());
    let termination_host = host.ok_or_else(|| DomainError::invalid("SIP termination URL is required"))?;
    let name = opt_string(body, "name")?.filter(|n| !n.is_empty());
    let username = opt_string(body, "sipUsername")?.filter(|u| !u.is_empty());
    opt_string(body, "sipPassword")?;
    Ok(ImportRequest { phone_number, termination_host, name, username })
}
