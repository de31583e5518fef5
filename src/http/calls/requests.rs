//! Request bodies of the call area, one type per body (see `http::json`
//! for how their errors read).

use std::borrow::Cow;

use serde::de::{Deserialize, Deserializer, Error};
use serde::Deserialize as DeriveDeserialize;
use serde_json::{Map, Value};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::calls::caller_id::resolve;
use crate::calls::{CallRequest, CallType, Pin};
use crate::domain::ids::is_e164;
use crate::domain::{array_len, DomainError};
use crate::http::ids::{AgentId, ProductId, RevisionId, VersionId};
use crate::http::json::RequestBody;
use crate::store::Tenant;

/// Call variables (R103): a flat object of strings, numbers and booleans;
/// anything else is 400 `Invalid input`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Variables(pub(crate) Map<String, Value>);

impl<'de> Deserialize<'de> for Variables {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Self::default()),
            Value::Object(m) if m.values().all(|v| v.is_string() || v.is_number() || v.is_boolean()) => Ok(Self(m)),
            _ => Err(D::Error::custom("Invalid input")),
        }
    }
}

impl utoipa::PartialSchema for Variables {
    fn schema() -> RefOr<Schema> {
        let scalar =
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Number, Type::Boolean]));
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(scalar.into()))))
            .description(Some("Flat map of strings, numbers and booleans"))
            .into()
    }
}

impl ToSchema for Variables {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Variables")
    }
}

/// `POST /conversation/outbound` (R102–R107).
#[derive(Debug, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutboundCallRequest {
    /// The agent to call with.
    pub(crate) agent_id: AgentId,
    /// E.164 number to dial; required (or its alias `toPhone`).
    pub(crate) phone_number: Option<String>,
    /// Alias of `phoneNumber` (L-D7).
    pub(crate) to_phone: Option<String>,
    /// Call variables.
    pub(crate) variables: Option<Variables>,
    /// The telephony product whose number calls (caller ID, LIVE K1).
    pub(crate) from_product_id: Option<ProductId>,
    /// Run this published version instead of the active one (R106).
    pub(crate) version_id: Option<VersionId>,
}

impl OutboundCallRequest {
    /// The call to place. Its `from` is the caller ID (LIVE K1,
    /// `calls::caller_id::resolve`): `fromProductId`'s number (a number
    /// rented or imported by `t`, else derived), else one of the
    /// agent's `linked` products', else the managed default; never the
    /// dialled number. `is_test` marks the call log (`x-test-call`).
    pub(crate) fn into_call(self, t: &Tenant, linked: &[String], is_test: bool) -> CallRequest {
        let phone = self.phone_number.or(self.to_phone).unwrap_or_default();
        CallRequest {
            from: Some(resolve(t, self.from_product_id.as_deref(), &self.agent_id, linked, &phone)),
            to: Some(phone),
            agent_id: self.agent_id.into_string(),
            pin: self.version_id.map_or(Pin::Active, |v| Pin::Version(v.into_string())),
            call_type: CallType::TelephonyOutbound,
            variables: self.variables.unwrap_or_default().0,
            is_test,
            conversation_id: None,
            chat: false,
        }
    }
}

impl RequestBody for OutboundCallRequest {
    /// `phoneNumber: Required`; `Invalid phone number` unless E.164.
    fn validate(&self) -> Result<(), DomainError> {
        match self.phone_number.as_deref().or(self.to_phone.as_deref()) {
            None => Err(DomainError::invalid("phoneNumber: Required")),
            Some(p) if !is_e164(p) => Err(DomainError::invalid("Invalid phone number")),
            Some(_) => Ok(()),
        }
    }
}

/// `POST /conversation/webcall` and `/conversation/chat` (R120).
#[derive(Debug, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebSessionRequest {
    /// The agent of the session.
    pub(crate) agent_id: AgentId,
    /// Call variables.
    pub(crate) variables: Option<Variables>,
}

impl RequestBody for WebSessionRequest {}

/// `POST /conversation/cancel` (R118).
#[derive(Debug, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelCallRequest {
    /// The call (`CALL-…`).
    pub(crate) call_id: String,
    /// Why; accepted and not stored.
    #[allow(dead_code)]
    pub(crate) reason: Option<String>,
}

impl RequestBody for CancelCallRequest {}

/// Most call ids one search takes (R114).
const MAX_SEARCH: usize = 100;

/// `POST /conversation/search` (R114): 1 to 100 call ids.
#[derive(Debug, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchCallsRequest {
    /// `CALL-…` ids, 1 to 100; unknown ones are skipped.
    #[serde(deserialize_with = "call_ids")]
    #[schema(min_items = 1, max_items = 100)]
    pub(crate) call_ids: Vec<String>,
}

fn call_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let bad = |m: &str| D::Error::custom(format!("callIds: {m}"));
    let items = match Value::deserialize(d)? {
        Value::Null => return Err(bad("Required")),
        Value::Array(a) => a,
        _ => return Err(bad("Expected array")),
    };
    items.into_iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad("Expected array of strings"))).collect()
}

impl RequestBody for SearchCallsRequest {
    fn validate(&self) -> Result<(), DomainError> {
        array_len("callIds", self.call_ids.len(), 1, MAX_SEARCH).map_err(DomainError::invalid)
    }
}

/// The realtime session modes (R195).
#[derive(Debug, Clone, Copy, Default, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SessionMode {
    /// Voice (the default).
    #[default]
    Webcall,
    /// Text only.
    Chat,
}

impl From<SessionMode> for crate::realtime::Mode {
    fn from(m: SessionMode) -> Self {
        match m {
            SessionMode::Webcall => Self::Webcall,
            SessionMode::Chat => Self::Chat,
        }
    }
}

/// `POST /conversation/register-call` (R189–R192); snake_case on the wire.
#[derive(Debug, DeriveDeserialize, ToSchema)]
pub(crate) struct RegisterCallRequest {
    /// The agent of the session.
    pub(crate) agent_id: AgentId,
    /// `webcall` (default) or `chat`.
    pub(crate) mode: Option<SessionMode>,
    /// Session variables; reserved keys are dropped.
    pub(crate) variables: Option<Variables>,
}

impl RequestBody for RegisterCallRequest {}

/// How a test call runs (R063, R064).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TestMode {
    /// A web session (the default).
    #[default]
    Webcall,
    /// A chat session.
    Chat,
    /// A phone call to `toPhone`.
    Telephony,
}

/// The body of the v1 test-call routes (R063, R064).
#[derive(Debug, Default, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestCallRequest {
    /// `webcall` (default), `chat` or `telephony`.
    pub(crate) mode: Option<TestMode>,
    /// E.164 number; required when `mode` is `telephony`.
    pub(crate) to_phone: Option<String>,
}

/// `toPhone: Required when mode is telephony`, `Invalid phone number`.
fn check_test_call(mode: Option<TestMode>, to_phone: Option<&str>) -> Result<(), DomainError> {
    match (mode.unwrap_or_default(), to_phone) {
        (TestMode::Telephony, None) => Err(DomainError::invalid("toPhone: Required when mode is telephony")),
        (TestMode::Telephony, Some(p)) if !is_e164(p) => Err(DomainError::invalid("Invalid phone number")),
        _ => Ok(()),
    }
}

impl RequestBody for TestCallRequest {
    fn validate(&self) -> Result<(), DomainError> {
        check_test_call(self.mode, self.to_phone.as_deref())
    }
}

/// `POST /agent/{id}/branches/{branchId}/test-call` (R096, R097): the
/// open draft (`includeDraft`), a committed revision, or the head; plus
/// the v1 test call's `mode` and `toPhone`.
#[derive(Debug, DeriveDeserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BranchTestCallRequest {
    /// Run the branch's open draft.
    pub(crate) include_draft: Option<bool>,
    /// Run this committed revision of the branch.
    #[serde(default, deserialize_with = "revision")]
    #[schema(value_type = Option<String>, pattern = "^[0-9a-f]{24}$")]
    pub(crate) revision_id: Option<RevisionId>,
    /// `webcall` (default), `chat` or `telephony`.
    pub(crate) mode: Option<TestMode>,
    /// E.164 number; required when `mode` is `telephony`.
    pub(crate) to_phone: Option<String>,
}

fn revision<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RevisionId>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => RevisionId::parse(&s).map(Some).map_err(|_| D::Error::custom("revisionId: Invalid ObjectId")),
    }
}

impl BranchTestCallRequest {
    /// The v1 test-call part of the body.
    pub(crate) fn call(&self) -> TestCallRequest {
        TestCallRequest { mode: self.mode, to_phone: self.to_phone.clone() }
    }
}

impl RequestBody for BranchTestCallRequest {
    /// Both targets: 400 `Send either includeDraft or revisionId, not both`.
    fn validate(&self) -> Result<(), DomainError> {
        if self.include_draft == Some(true) && self.revision_id.is_some() {
            return Err(DomainError::invalid("Send either includeDraft or revisionId, not both"));
        }
        check_test_call(self.mode, self.to_phone.as_deref())
    }
}
