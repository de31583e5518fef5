//! Request bodies and queries of the phone-number area (OAS tag Phone
//! Numbers), one type per body. Fields are optional in the types so that
//! the domain's parsers give the route's own messages, in the route's
//! order (`phoneNumber: Required`, then `provider: …`).

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::config_rules::Rule;
use crate::domain::inventory::{parse_search, Search};
use crate::domain::phone_product::{parse_import, ImportRequest};
use crate::domain::DomainError;
use crate::http::json::{parsed_body, RequestBody};
use crate::http::schema;

/// Query of `GET /product/get-available-numbers`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchNumbersQuery {
    /// ISO 3166-1 alpha-2 country (required; exactly 2 letters).
    country_code: Option<String>,
    /// `plivo` or `twilio` (required).
    provider: Option<String>,
    /// Dialling area code (`318`) or region label (`Louisiana`).
    area_code: Option<String>,
}

impl SearchNumbersQuery {
    /// The validated search: 400 `countryCode: Required`, `countryCode:
    /// String must contain exactly 2 character(s)`, `provider: Required`,
    /// `provider: Invalid enum value. …`.
    pub(crate) fn parse(&self) -> Result<Search, DomainError> {
        parse_search(self.country_code.as_deref(), self.provider.as_deref(), self.area_code.as_deref())
    }
}

/// `POST /product/rent-number`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RentNumberRequest {
    /// A number `GET /product/get-available-numbers` offered: digits with
    /// the country code, no `+` (a leading `+` is tolerated). Required.
    #[schema(value_type = String, example = "13183747513")]
    pub(crate) phone_number: Option<String>,
    /// `plivo` or `twilio`; required.
    #[schema(value_type = String, example = "plivo")]
    pub(crate) provider: Option<String>,
}

impl RequestBody for RentNumberRequest {}

/// `POST /product/release-number`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReleaseNumberRequest {
    /// The product's 24-hex `_id`; required.
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    product_id: Option<String>,
}

impl RequestBody for ReleaseNumberRequest {
    fn validate(&self) -> Result<(), DomainError> {
        self.product_id.as_ref().map(|_| ()).ok_or_else(|| DomainError::invalid("productId: Required"))
    }
}

impl ReleaseNumberRequest {
    /// The product id (present once validated).
    pub(crate) fn product_id(&self) -> &str {
        self.product_id.as_deref().unwrap_or_default()
    }
}

parsed_body!(
    /// `POST /product/import-phone-number`: `phoneNumber` (any non-empty
    /// string; 400 `Phone number is required`), `sipTerminationUrl` (a
    /// host, `host:port` or `sip:`/`sips:` URI, normalized to the host;
    /// 400 `SIP termination URL is required`), `name?`, `sipUsername?`,
    /// `sipPassword?` (never stored).
    ImportNumberRequest(ImportRequest),
    parse_import,
    schema::object(
        &[
            ("phoneNumber", Rule::Str(None)),
            ("sipTerminationUrl", Rule::Str(None)),
            ("name", Rule::Str(None)),
            ("sipUsername", Rule::Str(None)),
            ("sipPassword", Rule::Str(None)),
        ],
        &["phoneNumber", "sipTerminationUrl"],
    )
    .into()
);
