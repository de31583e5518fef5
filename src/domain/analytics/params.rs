//! The query parameters of the 18 operations, validated. Every value
//! arrives as a string so a bad one gets a 400 naming the parameter, in
//! the style of `GET /conversation` (`name: message`); the spec documents
//! a 400 for every operation but quotes only `"Invalid input"`.
//!
//! Rules (see the module doc of [`super`]): A5 (range on `createdAt`,
//! defaults), A6 (UTC, offsets in 15-minute steps).

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::facts::CallKind;
use super::{date_str, parse_date, DAY, HOUR, MINUTE};
use crate::domain::query::{self, items, value};
use crate::domain::time::parse_iso;
use crate::domain::{DomainError, Millis};

/// Length of the default range when `dateFrom` is absent (A5).
pub const DEFAULT_WINDOW: Millis = 30 * DAY;
/// Rows per `call-counts-log` page when `limit` is absent (spec default).
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// Largest `call-counts-log` page; larger `limit`s are clamped, as the
/// call log does (R111).
pub const MAX_PAGE_SIZE: usize = 500;

/// A fixed UTC offset that days and hours are counted in (A6). Only
/// multiples of 15 minutes within −12:00…+14:00 exist, and only those keep
/// the index's 15-minute buckets inside one local hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Zone {
    offset: Millis,
}

impl Zone {
    /// UTC, the zone the HTTP operations use (the spec has no parameter).
    pub const UTC: Zone = Zone { offset: 0 };

    /// The zone `minutes` east of UTC. 400 unless it is a multiple of 15
    /// within −720…+840.
    pub fn from_offset_minutes(minutes: i32) -> Result<Self, DomainError> {
        if minutes % 15 != 0 || !(-720..=840).contains(&minutes) {
            return Err(DomainError::invalid(format!(
                "timezone: Offset must be a multiple of 15 minutes between -12:00 and +14:00, received {minutes}"
            )));
        }
        Ok(Self { offset: Millis::from(minutes) * MINUTE })
    }

    /// Local day number (days since 1970-01-01) of instant `t`.
    pub fn day_of(self, t: Millis) -> i64 {
        (t + self.offset).div_euclid(DAY)
    }

    /// The UTC instant at which local day `day` starts.
    pub fn day_start(self, day: i64) -> Millis {
        day * DAY - self.offset
    }

    /// Local hour of day (0–23) of `t`.
    pub fn hour_of(self, t: Millis) -> usize {
        ((t + self.offset).rem_euclid(DAY) / HOUR) as usize
    }

    /// Local minute of day (0–1439) of `t`.
    pub fn minute_of_day(self, t: Millis) -> usize {
        ((t + self.offset).rem_euclid(DAY) / MINUTE) as usize
    }
}

/// 0000-01-01T00:00:00Z in epoch ms: no period starts earlier (ISO 8601
/// and `format: date` years have four digits).
pub const EARLIEST: Millis = -62_167_219_200_000;

/// 10000-01-01T00:00:00Z in epoch ms: no range ends later (see
/// [`EARLIEST`]).
pub const LATEST: Millis = 253_402_300_800_000;

/// A half-open range of instants `[from, to)`, epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First instant in the range.
    pub from: Millis,
    /// First instant after it.
    pub to: Millis,
}

impl Range {
    /// True when `t` is in the range.
    pub fn contains(self, t: Millis) -> bool {
        self.from <= t && t < self.to
    }

    /// The range of the same length just before this one (the summary's
    /// previous period), cut at [`EARLIEST`] so that its dates stay
    /// four-digit `YYYY-MM-DD` (a range from year 0171 has no full
    /// previous period; it cannot hold calls anyway).
    pub fn previous(self) -> Range {
        Range { from: (self.from - (self.to - self.from)).max(EARLIEST.min(self.from)), to: self.from }
    }

    /// Its first and last local dates (`AnalyticsDateRange`).
    pub fn period(self, zone: Zone) -> Period {
        let last = if self.to > self.from { self.to - 1 } else { self.from };
        Period { from: date_str(zone.day_of(self.from)), to: date_str(zone.day_of(last)) }
    }
}

/// `AnalyticsDateRange`: `{from, to}` as `YYYY-MM-DD`, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
}

/// Which calls a request is about: agent, campaign and call-type sets;
/// `None` admits everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `agentId` (comma-separated).
    pub agents: Option<Vec<String>>,
    /// `campaignId` (one id, a comma list is accepted too).
    pub campaigns: Option<Vec<String>>,
    /// `callType` (comma list of `outbound`, `inbound`, `webcall`).
    pub kinds: Option<Vec<CallKind>>,
}

impl Filter {
    /// True when a call of `agent`, `campaign` and `kind` passes.
    pub fn admits(&self, agent: &str, campaign: Option<&str>, kind: CallKind) -> bool {
        self.agents.as_ref().is_none_or(|a| a.iter().any(|x| x == agent))
            && self.campaigns.as_ref().is_none_or(|c| campaign.is_some_and(|v| c.iter().any(|x| x == v)))
            && self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }
}

/// The raw query of every ranged operation (`agentId`, `campaignId`,
/// `callType`, `dateFrom`, `dateTo`). The `IntoParams` derive documents
/// them in the mock's OpenAPI document.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// Comma-separated agent ids (24 hex).
    pub agent_id: Option<String>,
    /// Campaign id (a comma list is accepted too).
    pub campaign_id: Option<String>,
    /// `inbound`, `outbound` or `webcall` (`telephony_inbound`,
    /// `telephony_outbound` too; comma list accepted).
    pub call_type: Option<String>,
    /// Calls created at or after it: ISO 8601 date-time, or a date (that
    /// day's start, UTC). Default: 30 days before `dateTo`.
    pub date_from: Option<String>,
    /// Calls created at or before it: ISO 8601 date-time, or a date (that
    /// whole day, UTC). Default: now.
    pub date_to: Option<String>,
}

/// The raw query of `usage/timeseries`, which takes only the range.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// Start: ISO 8601 date-time, or a date (that day's start, UTC).
    /// Default: 30 days before `dateTo`.
    pub date_from: Option<String>,
    /// End, inclusive: ISO 8601 date-time, or a date (that whole day,
    /// UTC). Default: now.
    pub date_to: Option<String>,
}

impl RangeParams {
    /// The validated range at `now` (A5).
    pub fn parse(&self, now: Millis, zone: Zone) -> Result<Range, DomainError> {
        parse_range(self.date_from.as_deref(), self.date_to.as_deref(), now, zone)
    }
}

/// A validated ranged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Which calls.
    pub filter: Filter,
    /// When they were created.
    pub range: Range,
    /// Where days start.
    pub zone: Zone,
}

impl Scope {
    /// Validates `p` at `now` (A5). Errors are 400s naming the parameter.
    pub fn parse(p: &PeriodParams, now: Millis, zone: Zone) -> Result<Self, DomainError> {
        let kinds = items(p.call_type.as_deref())
            .map(|v| v.iter().map(|k| CallKind::parse(k).ok_or_else(|| bad_kind(k))).collect())
            .transpose()?;
        Ok(Self {
            filter: Filter {
                agents: ids("agentId", p.agent_id.as_deref())?,
                campaigns: ids("campaignId", p.campaign_id.as_deref())?,
                kinds,
            },
            range: parse_range(p.date_from.as_deref(), p.date_to.as_deref(), now, zone)?,
            zone,
        })
    }
}

/// `[dateFrom, dateTo]` as a half-open range, defaults applied (A5).
pub fn parse_range(from: Option<&str>, to: Option<&str>, now: Millis, zone: Zone) -> Result<Range, DomainError> {
    let from = instant("dateFrom", from, zone, false)?;
    let to = match instant("dateTo", to, zone, true)? {
        Some(t) => t,
        None => from.map_or(now, |f| f.max(now)),
    } + 1;
    let from = from.unwrap_or(to - DEFAULT_WINDOW);
    if from >= to {
        return Err(DomainError::invalid("dateFrom: must not be after dateTo"));
    }
    // An offset can push a year-0000 or year-9999 bound out of four-digit
    // years; no call lies there, so the range is cut to them.
    // (Both clamped, a non-empty range stays non-empty.)
    Ok(Range { from: from.clamp(EARLIEST, LATEST - 1), to: to.clamp(EARLIEST + 1, LATEST) })
}

/// The raw query of `call-start-distribution` and `daily-call-summary`
/// (and, with `includeAgents`, of `concurrency`: see [`ConcurrencyParams`]).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DayParams {
    /// The day, `YYYY-MM-DD` (UTC), required.
    pub date: Option<String>,
    /// Agent id (a comma list is accepted too).
    pub agent_id: Option<String>,
    /// `true` or `false` (concurrency only).
    #[param(ignore)]
    pub include_agents: Option<String>,
}

/// `includeAgents` of `concurrency`, documented beside [`DayParams`].
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ConcurrencyParams {
    /// `true` adds the per-agent breakdown `byAgent`; `false` (default).
    pub include_agents: Option<String>,
}

/// A validated single-day request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayScope {
    /// Local day number.
    pub day: i64,
    /// Agent ids, `None` for all.
    pub agents: Option<Vec<String>>,
    /// Add the per-agent breakdown (concurrency).
    pub include_agents: bool,
    /// Where the day starts.
    pub zone: Zone,
}

impl DayScope {
    /// Validates `p`: `date` is required and must be `YYYY-MM-DD`.
    pub fn parse(p: &DayParams, zone: Zone) -> Result<Self, DomainError> {
        let date = p.date.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let date = date.ok_or_else(|| DomainError::invalid("date: Required"))?;
        let day = parse_date(date)
            .ok_or_else(|| DomainError::invalid(format!("date: Invalid date '{date}', expected YYYY-MM-DD")))?;
        let include_agents = match p.include_agents.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(DomainError::invalid_enum("includeAgents", &["true", "false"], other)),
        };
        Ok(Self { day, agents: ids("agentId", p.agent_id.as_deref())?, include_agents, zone })
    }

    /// The day as a range of instants.
    pub fn range(&self) -> Range {
        let from = self.zone.day_start(self.day);
        Range { from, to: from + DAY }
    }

    /// The filter it implies (agents only).
    pub fn filter(&self) -> Filter {
        Filter { agents: self.agents.clone(), ..Filter::default() }
    }
}

/// What `agent-performance` sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBy {
    /// `totalCalls` (the default).
    TotalCalls,
    /// `answeredCalls`.
    AnsweredCalls,
    /// `pickupRate`.
    PickupRate,
    /// `avgDuration`.
    AvgDuration,
    /// `totalCost`.
    TotalCost,
}

const RANK_KEYS: [&str; 5] = ["totalCalls", "answeredCalls", "pickupRate", "avgDuration", "totalCost"];

/// The raw `sortBy`, `sortOrder`, `limit` of `agent-performance`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RankParams {
    /// One of [`RankBy`]'s keys.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default).
    pub sort_order: Option<String>,
    /// Most agents to return, ≥ 1 (default: all).
    pub limit: Option<String>,
}

/// A validated ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rank {
    /// Sort key.
    pub by: RankBy,
    /// Ascending instead of the default descending.
    pub ascending: bool,
    /// Most rows.
    pub limit: Option<usize>,
}

impl Rank {
    /// Validates `p`.
    pub fn parse(p: &RankParams) -> Result<Self, DomainError> {
        let by = match value(p.sort_by.as_deref()) {
            None | Some("totalCalls") => RankBy::TotalCalls,
            Some("answeredCalls") => RankBy::AnsweredCalls,
            Some("pickupRate") => RankBy::PickupRate,
            Some("avgDuration") => RankBy::AvgDuration,
            Some("totalCost") => RankBy::TotalCost,
            Some(other) => return Err(DomainError::invalid_enum("sortBy", &RANK_KEYS, other)),
        };
        let ascending = match value(p.sort_order.as_deref()) {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(other) => return Err(DomainError::invalid_enum("sortOrder", &["asc", "desc"], other)),
        };
        let limit = value(p.limit.as_deref()).map(|s| positive("limit", s)).transpose()?;
        Ok(Self { by, ascending, limit })
    }
}

/// The raw `page`, `limit` of `call-counts-log`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page (default 1).
    pub page: Option<String>,
    /// Rows per page (default 10, clamped to 500).
    pub limit: Option<String>,
}

impl PageParams {
    /// `(page, limit)`, validated, defaults applied.
    pub fn parse(&self) -> Result<(usize, usize), DomainError> {
        let page = value(self.page.as_deref()).map(|s| positive("page", s)).transpose()?.unwrap_or(1);
        let limit = value(self.limit.as_deref()).map(|s| positive("limit", s)).transpose()?;
        Ok((page, limit.unwrap_or(DEFAULT_PAGE_SIZE).min(MAX_PAGE_SIZE)))
    }
}

fn ids(name: &str, v: Option<&str>) -> Result<Option<Vec<String>>, DomainError> {
    query::ids(name, v).map_err(DomainError::invalid)
}

fn bad_kind(got: &str) -> DomainError {
    DomainError::invalid_enum("callType", &["inbound", "outbound", "webcall"], got)
}

fn positive(name: &str, s: &str) -> Result<usize, DomainError> {
    query::positive(name, s).map_err(DomainError::invalid)
}

/// An instant from an ISO date-time, or from a date: its first instant, or
/// its last when `end` (so `dateTo=2026-01-01` includes that whole day).
fn instant(name: &str, v: Option<&str>, zone: Zone, end: bool) -> Result<Option<Millis>, DomainError> {
    let Some(s) = value(v) else { return Ok(None) };
    if let Some(t) = parse_iso(s) {
        return Ok(Some(t));
    }
    match parse_date(s) {
        Some(day) => Ok(Some(zone.day_start(day) + if end { DAY - 1 } else { 0 })),
        None => Err(DomainError::invalid(format!("{name}: Invalid ISO date-time '{s}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_767_268_800_000; // 2026-01-01T12:00:00Z
    const AGENT: &str = "65f1a2b3c4d5e6f708192a3b";

    fn period(pairs: &[(&str, &str)]) -> PeriodParams {
        let map: serde_json::Map<String, serde_json::Value> =
            pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_default()
    }

    fn scope(pairs: &[(&str, &str)]) -> Result<Scope, String> {
        Scope::parse(&period(pairs), NOW, Zone::UTC).map_err(|e| e.to_string())
    }

    #[test]
    fn without_dates_the_range_is_the_30_days_ending_now() {
        let s = scope(&[]).expect("valid");
        assert_eq!(s.range, Range { from: NOW + 1 - 30 * DAY, to: NOW + 1 });
        assert_eq!(s.range.period(Zone::UTC), Period { from: "2025-12-02".into(), to: "2026-01-01".into() });
        assert_eq!(s.filter, Filter::default());
    }

    #[test]
    fn date_only_bounds_cover_whole_days_and_date_times_are_inclusive() {
        let s = scope(&[("dateFrom", "2026-01-01"), ("dateTo", "2026-01-02")]).expect("valid");
        assert_eq!(s.range, Range { from: 1_767_225_600_000, to: 1_767_225_600_000 + 2 * DAY });
        let s = scope(&[("dateFrom", "2026-01-01T00:00:00Z"), ("dateTo", "2026-01-01T00:00:00.000Z")]).expect("ok");
        assert_eq!(s.range.to - s.range.from, 1);
        assert_eq!(s.range.previous(), Range { from: s.range.from - 1, to: s.range.from });
    }

    #[test]
    fn ranges_and_previous_periods_stay_within_four_digit_years() {
        let s = scope(&[("dateFrom", "0171-11-07T12:53:13.6-13:59")]).expect("valid");
        assert_eq!(s.range.previous(), Range { from: EARLIEST, to: s.range.from });
        assert_eq!(s.range.previous().period(Zone::UTC).from, "0000-01-01");
        assert_eq!(date_str(Zone::UTC.day_of(EARLIEST)), "0000-01-01");
        let s = scope(&[("dateFrom", "0000-01-01T00:00:00+13:59"), ("dateTo", "9999-12-31T23:59:59.999-13:59")]);
        let period = s.expect("valid").range.period(Zone::UTC);
        assert_eq!(period, Period { from: "0000-01-01".into(), to: "9999-12-31".into() });
        let s = scope(&[("dateFrom", "9999-12-31T23:59:59.999-13:59")]).expect("valid");
        assert_eq!(s.range, Range { from: LATEST - 1, to: LATEST });
    }

    #[test]
    fn bad_values_name_their_parameter() {
        assert_eq!(scope(&[("dateFrom", "soon")]).unwrap_err(), "dateFrom: Invalid ISO date-time 'soon'");
        assert_eq!(scope(&[("agentId", &format!("{AGENT},x"))]).unwrap_err(), "agentId: Invalid id 'x'");
        let e = scope(&[("callType", "outbound,fax")]).unwrap_err();
        assert_eq!(e, "callType: Invalid enum value. Expected 'inbound' | 'outbound' | 'webcall', received 'fax'");
        let e = scope(&[("dateFrom", "2026-01-02"), ("dateTo", "2026-01-01")]).unwrap_err();
        assert_eq!(e, "dateFrom: must not be after dateTo");
    }

    #[test]
    fn filters_take_lists_and_both_call_type_spellings() {
        let s = scope(&[("agentId", &format!(" {AGENT} ,")), ("callType", "telephony_outbound,webcall")]).expect("ok");
        assert!(s.filter.admits(AGENT, None, CallKind::Outbound));
        assert!(!s.filter.admits(AGENT, None, CallKind::Inbound));
        assert!(!s.filter.admits("65f1a2b3c4d5e6f708192a3c", None, CallKind::Webcall));
        let s = scope(&[("campaignId", AGENT)]).expect("ok");
        assert!(!s.filter.admits(AGENT, None, CallKind::Outbound), "a campaign filter drops calls of no campaign");
    }

    #[test]
    fn a_day_is_required_and_include_agents_is_a_boolean_string() {
        let p = |d: Option<&str>, i: Option<&str>| DayParams {
            date: d.map(str::to_string),
            agent_id: None,
            include_agents: i.map(str::to_string),
        };
        assert_eq!(DayScope::parse(&p(None, None), Zone::UTC).unwrap_err().to_string(), "date: Required");
        assert!(DayScope::parse(&p(Some("2026-13-01"), None), Zone::UTC).is_err());
        let d = DayScope::parse(&p(Some("2026-01-01"), Some("true")), Zone::UTC).expect("ok");
        assert!(d.include_agents);
        assert_eq!(d.range().from, 1_767_225_600_000);
        assert!(DayScope::parse(&p(Some("2026-01-01"), Some("yes")), Zone::UTC).is_err());
    }

    #[test]
    fn zones_shift_days_and_hours_by_whole_quarter_hours() {
        let ist = Zone::from_offset_minutes(330).expect("IST");
        assert_eq!(ist.hour_of(1_767_225_600_000), 5);
        assert_eq!(ist.day_of(1_767_225_600_000 - 6 * HOUR), 20_453);
        assert_eq!(ist.day_start(20_454), 1_767_225_600_000 - 330 * MINUTE);
        assert!(Zone::from_offset_minutes(7).is_err());
        assert!(Zone::from_offset_minutes(-780).is_err());
    }

    #[test]
    fn ranking_and_paging_defaults_and_errors() {
        let r = Rank::parse(&RankParams::default()).expect("ok");
        assert_eq!((r.by, r.ascending, r.limit), (RankBy::TotalCalls, false, None));
        let p = RankParams { sort_by: Some("speed".into()), ..RankParams::default() };
        assert!(Rank::parse(&p).unwrap_err().to_string().starts_with("sortBy: Invalid enum value"));
        let p = RankParams { limit: Some("0".into()), ..RankParams::default() };
        assert_eq!(Rank::parse(&p).unwrap_err().to_string(), "limit: Number must be greater than or equal to 1");
        assert_eq!(PageParams::default().parse(), Ok((1, 10)));
        assert_eq!(PageParams { page: Some("2".into()), limit: Some("9000".into()) }.parse(), Ok((2, 500)));
    }
}
