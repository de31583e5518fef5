//! The telephony providers' number inventory (OAS GET
//! /product/get-available-numbers, POST /product/rent-number).
//!
//! The mock has no provider behind it, so the inventory is a pure function
//! of the server's seed: a number is on offer from a provider when a hash
//! of `(seed, provider, number)` says so (about one in three), within the
//! area codes of a small country table. A search returns up to 5 such
//! numbers (the spec's "up to 5 candidates per call"), the same ones for
//! the same query and seed, skipping numbers someone holds; renting
//! accepts exactly the numbers a search could offer. Every number is a
//! `local` number (the compliance number type).
//!
//! Shapes follow the spec's examples: a candidate's `phoneNumber` is
//! digits without the `+` (`"13183747513"`), its `areaCode` the
//! provider's region label (`"Louisiana"`); a rented number's
//! `attributes.areaCode` is the dialling area code (`"341"`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::DomainError;

/// A telephony provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Plivo.
    Plivo,
    /// Twilio.
    Twilio,
}

impl Provider {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plivo => "plivo",
            Self::Twilio => "twilio",
        }
    }

    /// Parses `provider` (required; `plivo` or `twilio`).
    pub fn parse(raw: Option<&str>) -> Result<Provider, DomainError> {
        match raw {
            None => Err(DomainError::invalid("provider: Required")),
            Some("plivo") => Ok(Self::Plivo),
            Some("twilio") => Ok(Self::Twilio),
            Some(other) => Err(DomainError::invalid_enum("provider", &["plivo", "twilio"], other)),
        }
    }
}

/// A dialling area: its code and the provider's region label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    /// Digits after the country code (`318`).
    pub code: &'static str,
    /// Region label (`Louisiana`).
    pub label: &'static str,
}

/// A country the inventory stocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub iso: &'static str,
    /// Country calling code, digits.
    pub dial: &'static str,
    /// Digits after the calling code.
    pub national_len: usize,
    /// Areas on offer.
    pub areas: &'static [Area],
}

const fn area(code: &'static str, label: &'static str) -> Area {
    Area { code, label }
}

/// The stocked countries. Others have an empty inventory.
pub const COUNTRIES: [Country; 6] = [
    Country {
        iso: "US",
        dial: "1",
        national_len: 10,
        areas: &[
            area("318", "Louisiana"),
            area("341", "California"),
            area("415", "California"),
            area("212", "New York"),
            area("512", "Texas"),
            area("305", "Florida"),
        ],
    },
    Country {
        iso: "CA",
        dial: "1",
        national_len: 10,
        areas: &[area("416", "Ontario"), area("604", "British Columbia")],
    },
    Country { iso: "GB", dial: "44", national_len: 10, areas: &[area("20", "London"), area("161", "Manchester")] },
    Country {
        iso: "IN",
        dial: "91",
        national_len: 10,
        areas: &[area("22", "Mumbai"), area("80", "Bengaluru"), area("11", "Delhi")],
    },
    Country { iso: "AU", dial: "61", national_len: 9, areas: &[area("2", "New South Wales"), area("3", "Victoria")] },
    Country { iso: "DE", dial: "49", national_len: 10, areas: &[area("30", "Berlin"), area("89", "Munich")] },
];

/// Most candidates per search (the spec's "up to 5").
pub const MAX_RESULTS: usize = 5;
const SCAN_PER_AREA: u64 = 600;

/// 400 when a rent names a number that is not on offer, or is held
/// (inferred message).
pub fn not_available(number: &str) -> DomainError {
    DomainError::invalid(format!("Phone number {number} is not available"))
}

/// Checks a 2-letter ISO country code from a query (`countryCode`,
/// `countryIso`); returns it upper-cased. Errors name the field:
/// `<field>: Required`, `<field>: String must contain exactly 2
/// character(s)` (the spec: "sending 3+ characters returns 400").
pub fn parse_country(field: &str, raw: Option<&str>) -> Result<String, DomainError> {
    let s = raw.ok_or_else(|| DomainError::invalid(format!("{field}: Required")))?;
    if s.chars().count() != 2 {
        return Err(DomainError::invalid(format!("{field}: String must contain exactly 2 character(s)")));
    }
    if !s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(DomainError::invalid(format!("{field}: Invalid country code")));
    }
    Ok(s.to_ascii_uppercase())
}

/// A validated search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// `countryCode`, upper case.
    pub country: String,
    /// `provider`.
    pub provider: Provider,
    /// `areaCode`: dialling code or region label, as given.
    pub area: Option<String>,
}

/// Validates `countryCode` (required), `provider` (required) and the
/// optional `areaCode`.
pub fn parse_search(country: Option<&str>, provider: Option<&str>, area: Option<&str>) -> Result<Search, DomainError> {
    let country = parse_country("countryCode", country)?;
    let provider = Provider::parse(provider)?;
    Ok(Search { country, provider, area: area.map(str::trim).filter(|a| !a.is_empty()).map(str::to_string) })
}

/// One offered number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Digits, no `+`.
    pub phone_number: String,
    /// ISO country.
    pub country: &'static str,
    /// Provider.
    pub provider: Provider,
    /// Region label.
    pub area_label: &'static str,
}

impl Candidate {
    /// `{phoneNumber, countryCode, provider, areaCode}`.
    pub fn wire(&self) -> Value {
        json!({"phoneNumber": self.phone_number, "countryCode": self.country,
               "provider": self.provider.as_str(), "areaCode": self.area_label})
    }
}

fn hash(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// True when `provider` offers `digits` (country code included, no `+`)
/// under `seed`.
pub fn on_offer(seed: u64, provider: Provider, digits: &str) -> bool {
    hash(seed, &[provider.as_str(), digits]).is_multiple_of(3)
}

fn numbers_in(seed: u64, provider: Provider, c: &Country, a: &Area) -> impl Iterator<Item = String> {
    let sub_len = c.national_len.saturating_sub(a.code.len()).max(1);
    let space = 8 * 10u64.pow(u32::try_from(sub_len - 1).unwrap_or(0));
    let start = hash(seed, &[provider.as_str(), c.iso, a.code]) % space;
    let prefix = format!("{}{}", c.dial, a.code);
    (0..SCAN_PER_AREA.min(space)).filter_map(move |i| {
        // 7919 is prime and divides neither 2 nor 5, so the walk visits
        // distinct subscriber numbers.
        let sub = 2 * 10u64.pow(u32::try_from(sub_len - 1).unwrap_or(0)) + (start + i * 7919) % space;
        let digits = format!("{prefix}{sub:0sub_len$}");
        on_offer(seed, provider, &digits).then_some(digits)
    })
}

/// The candidates for `q` under `seed`, skipping numbers `held` (by
/// anyone: digits with country code, no `+`). Areas are visited round
/// robin; an area filter matches the code or the label (any case). An
/// unstocked country or area gives an empty list.
pub fn search(seed: u64, q: &Search, held: impl Fn(&str) -> bool) -> Vec<Candidate> {
    let Some(country) = COUNTRIES.iter().find(|c| c.iso == q.country) else { return Vec::new() };
    let areas: Vec<&Area> = country
        .areas
        .iter()
        .filter(|a| q.area.as_deref().is_none_or(|f| a.code == f || a.label.eq_ignore_ascii_case(f)))
        .collect();
    let mut walks: Vec<_> = areas.iter().map(|a| (*a, numbers_in(seed, q.provider, country, a))).collect();
    let mut out = Vec::new();
    while out.len() < MAX_RESULTS && !walks.is_empty() {
        walks.retain_mut(|(a, walk)| match walk.find(|d| !held(d)) {
            Some(d) if out.len() < MAX_RESULTS => {
                out.push(Candidate {
                    phone_number: d,
                    country: country.iso,
                    provider: q.provider,
                    area_label: a.label,
                });
                true
            }
            Some(_) => true,
            None => false,
        });
    }
    out
}

/// A validated rent: the number is stocked and on offer from the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentRequest {
    /// E.164, with `+`.
    pub e164: String,
    /// Provider.
    pub provider: Provider,
    /// ISO country.
    pub country: &'static str,
    /// Dialling area code.
    pub area_code: &'static str,
}

/// The stocked country and dialling area of `digits` (country code
/// included, no `+`): `(ISO country, area code)`, or `None` outside the
/// table.
pub fn locate(digits: &str) -> Option<(&'static str, &'static str)> {
    COUNTRIES.iter().find_map(|c| {
        let national = digits.strip_prefix(c.dial).filter(|n| n.len() == c.national_len)?;
        let a = c.areas.iter().find(|a| national.starts_with(a.code))?;
        Some((c.iso, a.code))
    })
}

/// Validates `POST /product/rent-number {phoneNumber, provider}` under
/// `seed`: both required; the number (a leading `+` is tolerated) must be
/// one the provider offers, else 400 [`not_available`]. Whether someone
/// holds it is the caller's check (numbers are unique platform-wide).
pub fn parse_rent(seed: u64, phone: Option<&str>, provider: Option<&str>) -> Result<RentRequest, DomainError> {
    let raw =
        phone.map(str::trim).filter(|p| !p.is_empty()).ok_or_else(|| DomainError::invalid("phoneNumber: Required"))?;
    let provider = Provider::parse(provider)?;
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    match locate(digits) {
        Some((country, area_code))
            if digits.bytes().all(|b| b.is_ascii_digit()) && on_offer(seed, provider, digits) =>
        {
            Ok(RentRequest { e164: format!("+{digits}"), provider, country, area_code })
        }
        Some(_) | None => Err(not_available(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(country: &str, provider: &str, area: Option<&str>) -> Search {
        parse_search(Some(country), Some(provider), area).expect("valid")
    }

    #[test]
    fn search_is_deterministic_under_a_seed_and_offers_up_to_five() {
        let q = s("US", "plivo", None);
        let a = search(7, &q, |_| false);
        assert_eq!(a.len(), MAX_RESULTS);
        assert_eq!(a, search(7, &q, |_| false));
        assert_ne!(a, search(8, &q, |_| false), "another seed, another inventory");
        assert!(a.iter().all(|c| c.phone_number.starts_with('1') && c.phone_number.len() == 11));
        let labels: Vec<_> = a.iter().map(|c| c.area_label).collect();
        assert_eq!(&labels[..3], ["Louisiana", "California", "California"], "areas round robin");
    }

    #[test]
    fn filters_skip_held_numbers_and_unknown_places() {
        let q = s("us", "twilio", Some("318"));
        let first = search(1, &q, |_| false);
        assert!(first.iter().all(|c| c.phone_number.starts_with("1318") && c.area_label == "Louisiana"));
        let taken = first[0].phone_number.clone();
        let next = search(1, &q, |d| d == taken);
        assert!(!next.iter().any(|c| c.phone_number == taken));
        assert_eq!(next[0], first[1]);
        assert!(search(1, &s("FR", "plivo", None), |_| false).is_empty());
        assert!(search(1, &s("US", "plivo", Some("999")), |_| false).is_empty());
        assert_eq!(search(1, &s("IN", "plivo", Some("mumbai")), |_| false).len(), MAX_RESULTS);
    }

    #[test]
    fn bad_queries_name_the_field() {
        let e = |c, p| parse_search(c, p, None).expect_err("refused").to_string();
        assert_eq!(e(None, Some("plivo")), "countryCode: Required");
        assert_eq!(e(Some("USA"), Some("plivo")), "countryCode: String must contain exactly 2 character(s)");
        assert_eq!(e(Some("US"), None), "provider: Required");
        assert_eq!(
            e(Some("US"), Some("vonage")),
            "provider: Invalid enum value. Expected 'plivo' | 'twilio', received 'vonage'"
        );
    }

    #[test]
    fn only_offered_numbers_can_be_rented() {
        let offered = search(3, &s("GB", "plivo", None), |_| false);
        let r = parse_rent(3, Some(&offered[0].phone_number), Some("plivo")).expect("on offer");
        assert_eq!((r.country, r.e164.strip_prefix('+')), ("GB", Some(offered[0].phone_number.as_str())));
        assert!(parse_rent(3, Some(&format!("+{}", offered[0].phone_number)), Some("plivo")).is_ok(), "+ tolerated");
        assert!(parse_rent(3, Some("15551234567"), Some("plivo")).is_err(), "not a stocked area");
        assert_eq!(parse_rent(3, None, Some("plivo")).expect_err("missing").to_string(), "phoneNumber: Required");
    }

    proptest! {
        #[test]
        fn every_candidate_is_rentable_from_its_provider(seed in any::<u64>(), ci in 0usize..COUNTRIES.len(), twilio in any::<bool>()) {
            let p = if twilio { "twilio" } else { "plivo" };
            let q = s(COUNTRIES[ci].iso, p, None);
            for c in search(seed, &q, |_| false) {
                let r = parse_rent(seed, Some(&c.phone_number), Some(p));
                prop_assert!(r.is_ok(), "{} from {}", c.phone_number, p);
                prop_assert_eq!(r.map(|r| r.country), Ok(COUNTRIES[ci].iso));
            }
        }
    }
}
