//! Reading the ledger: `GET /payment/v1/credits/ledger` (window, filters,
//! page, summary) and `GET /payment/v1/credits/usage/breakdown`.
//!
//! Window rules (OAS GET /payment/v1/credits/ledger): `to` defaults to
//! now, `from` to seven days before `to`; an explicit `from` earlier than
//! the usage cutoff, a span over 90 days, `from > to` or a malformed date
//! is 400. The messages of the first three are the spec's examples; they
//! are rendered in the billing envelope `{success: false, error: {code:
//! "validation_error", message}}` by the HTTP layer. Several field errors
//! are joined with `"; "`, as the spec's `"from: Invalid date; to: Invalid
//! date"` shows.
//!
//! The cutoff is a parameter, not a constant: the platform's is
//! [`USAGE_START`] (2026-03-02), but a mock on a virtual clock starts at
//! 2026-01-01 and must still be able to read its own rows, so the caller
//! passes `min(USAGE_START, the clock's start)`. A *defaulted* `from` is
//! clamped to the cutoff instead of failing.

use serde::Deserialize;
use utoipa::IntoParams;

use super::ledger::{Credits, Ledger, LedgerEntry, Scope, TransactionType};
use super::time::{iso, iso_date, parse_iso};
use super::{DomainError, Millis};

/// The platform's usage-tracking start, `2026-03-02T00:00:00Z`, epoch ms.
pub const USAGE_START: Millis = 1_772_409_600_000;
/// Widest window: 90 days, ms.
pub const MAX_SPAN_MS: Millis = 90 * DAY_MS;
/// Default window: 7 days, ms.
pub const DEFAULT_SPAN_MS: Millis = 7 * DAY_MS;
const DAY_MS: Millis = 86_400_000;
/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page.
pub const MAX_LIMIT: u32 = 100;

/// The spec's message for a span over 90 days.
pub const SPAN_TOO_WIDE: &str =
    "Date range cannot exceed 90 days. Please narrow your range or contact support for bulk exports.";

/// The spec's message for a `from` before the cutoff (`cutoff` as
/// `YYYY-MM-DD`).
pub fn before_cutoff(cutoff: Millis) -> String {
    format!(
        "Date range starts before {}. Usage data before this date is not available via API. Please contact support for historical exports.",
        iso_date(cutoff)
    )
}

/// `from > to` (inferred: the spec names the case, not the message).
pub const FROM_AFTER_TO: &str = "from: must be earlier than or equal to to";

/// The query string of `GET /payment/v1/credits/ledger` as received; every
/// field optional. The route extracts it as is and [`parse_query`] checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawLedgerQuery {
    /// Page size, 1–100 (default 50).
    pub limit: Option<String>,
    /// Rows to skip (default 0).
    pub offset: Option<String>,
    /// Window start, ISO 8601 (default: `to` minus 7 days).
    pub from: Option<String>,
    /// Window end, ISO 8601 (default: now).
    pub to: Option<String>,
    /// A transaction type, or `PAYMENTS` (purchases and auto-reloads).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `platform`, `voice_ai` or `voice_models` (usage rows only).
    pub scope: Option<String>,
}

/// `type` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFilter {
    /// Exactly this type.
    Only(TransactionType),
    /// `PAYMENTS`: `CREDIT_PURCHASE` and `AUTO_RELOAD`.
    Payments,
}

/// A validated ledger query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerQuery {
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
    /// Window start, epoch ms, inclusive.
    pub from: Millis,
    /// Window end, epoch ms, inclusive.
    pub to: Millis,
    /// Type filter.
    pub kind: Option<TypeFilter>,
    /// Scope filter: only `USAGE_DEDUCTION` rows of this scope.
    pub scope: Option<Scope>,
}

fn int_field(name: &str, raw: Option<&str>, min: i64, max: i64, default: u32, issues: &mut Vec<String>) -> u32 {
    let Some(s) = raw else { return default };
    match s.trim().parse::<i64>() {
        Err(_) => issues.push(format!("{name}: Expected number, received string")),
        Ok(n) if n < min => issues.push(format!("{name}: Number must be greater than or equal to {min}")),
        Ok(n) if n > max => issues.push(format!("{name}: Number must be less than or equal to {max}")),
        Ok(n) => return u32::try_from(n).unwrap_or(default),
    }
    default
}

fn date_field(name: &str, raw: Option<&str>, issues: &mut Vec<String>) -> Option<Millis> {
    let s = raw?;
    let parsed = parse_iso(s.trim());
    if parsed.is_none() {
        issues.push(format!("{name}: Invalid date"));
    }
    parsed
}

fn type_filter(raw: Option<&str>, issues: &mut Vec<String>) -> Option<TypeFilter> {
    let s = raw?;
    if s == "PAYMENTS" {
        return Some(TypeFilter::Payments);
    }
    let t = TransactionType::parse(s).map(TypeFilter::Only);
    if t.is_none() {
        let mut names: Vec<&str> = TransactionType::ALL.iter().map(|t| t.as_str()).collect();
        names.push("PAYMENTS");
        issues.push(super::enum_message("type", &names, s));
    }
    t
}

fn scope_filter(raw: Option<&str>, issues: &mut Vec<String>) -> Option<Scope> {
    let s = raw?;
    let scope = Scope::parse(s);
    if scope.is_none() {
        issues.push(super::enum_message("scope", &Scope::ALL.map(Scope::as_str), s));
    }
    scope
}

/// Validates a ledger query at `now` with usage cutoff `cutoff` (see the
/// module doc). Errors: 400 with the field issues joined by `"; "`, or
/// one of the window messages.
pub fn parse_query(raw: &RawLedgerQuery, now: Millis, cutoff: Millis) -> Result<LedgerQuery, DomainError> {
    let mut issues = Vec::new();
    let limit = int_field("limit", raw.limit.as_deref(), 1, i64::from(MAX_LIMIT), DEFAULT_LIMIT, &mut issues);
    let offset = int_field("offset", raw.offset.as_deref(), 0, i64::from(u32::MAX), 0, &mut issues);
    let from = date_field("from", raw.from.as_deref(), &mut issues);
    let to = date_field("to", raw.to.as_deref(), &mut issues);
    let kind = type_filter(raw.kind.as_deref(), &mut issues);
    let scope = scope_filter(raw.scope.as_deref(), &mut issues);
    if !issues.is_empty() {
        return Err(DomainError::invalid(issues.join("; ")));
    }
    let to = to.unwrap_or(now);
    let explicit = from.is_some();
    let from = from.unwrap_or_else(|| (to - DEFAULT_SPAN_MS).max(cutoff).min(to));
    if from > to {
        return Err(DomainError::invalid(FROM_AFTER_TO));
    }
    if explicit && from < cutoff {
        return Err(DomainError::invalid(before_cutoff(cutoff)));
    }
    if to - from > MAX_SPAN_MS {
        return Err(DomainError::invalid(SPAN_TOO_WIDE));
    }
    Ok(LedgerQuery { limit, offset, from, to, kind, scope })
}

/// One page of the ledger: `data` of `GET /payment/v1/credits/ledger`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPage<'a> {
    /// The page's rows, newest first.
    pub transactions: Vec<&'a LedgerEntry>,
    /// Rows matching the window and filters, on all pages.
    pub total: usize,
    /// More rows after `offset + limit`.
    pub has_more: bool,
    /// Sum of `USAGE_DEDUCTION` magnitudes among the matching rows.
    pub total_consumed: Credits,
    /// Sum of positive amounts among the matching rows.
    pub total_added: Credits,
    /// Effective window start (`period.from`), epoch ms.
    pub from: Millis,
    /// Effective window end (`period.to`), epoch ms.
    pub to: Millis,
}

impl LedgerPage<'_> {
    /// `data`: `{transactions, total, hasMore, summary:
    /// {totalCreditsConsumed, totalCreditsAdded}, period: {from, to}}`.
    pub fn wire(&self) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self.transactions.iter().map(|e| e.wire()).collect();
        serde_json::json!({
            "transactions": rows, "total": self.total, "hasMore": self.has_more,
            "summary": {"totalCreditsConsumed": self.total_consumed.to_f64(), "totalCreditsAdded": self.total_added.to_f64()},
            "period": {"from": iso(self.from), "to": iso(self.to)},
        })
    }
}

fn matches(e: &LedgerEntry, q: &LedgerQuery) -> bool {
    let in_window = e.created_at >= q.from && e.created_at <= q.to;
    let kind_ok = match q.kind {
        None => true,
        Some(TypeFilter::Only(t)) => e.transaction_type == t,
        Some(TypeFilter::Payments) => {
            matches!(e.transaction_type, TransactionType::CreditPurchase | TransactionType::AutoReload)
        }
    };
    let scope_ok = q.scope.is_none_or(|s| e.transaction_type == TransactionType::UsageDeduction && e.scope == Some(s));
    in_window && kind_ok && scope_ok
}

impl Ledger {
    /// The page `q` selects, newest first; the summary covers every
    /// matching row, not only the page.
    pub fn page(&self, q: &LedgerQuery) -> LedgerPage<'_> {
        let mut total = 0usize;
        let (mut consumed, mut added) = (0i64, 0i64);
        let mut transactions = Vec::new();
        let start = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
        for e in self.entries().iter().rev().filter(|e| matches(e, q)) {
            if total >= start && transactions.len() < limit {
                transactions.push(e);
            }
            total += 1;
            if e.transaction_type == TransactionType::UsageDeduction {
                consumed += -e.amount.micros().min(0);
            }
            added += e.amount.micros().max(0);
        }
        LedgerPage {
            has_more: start.saturating_add(limit) < total,
            transactions,
            total,
            total_consumed: Credits::from_micros(consumed),
            total_added: Credits::from_micros(added),
            from: q.from,
            to: q.to,
        }
    }

    /// Credits spent per scope from `since` to `now` inclusive (`data` of
    /// `GET /payment/v1/credits/usage/breakdown`: `platform`, `voiceAi`,
    /// `voiceModels`), as positive magnitudes.
    pub fn usage_breakdown(&self, since: Millis, now: Millis) -> [(Scope, Credits); 3] {
        Scope::ALL.map(|s| {
            let spent: i64 = self
                .entries()
                .iter()
                .filter(|e| e.created_at >= since && e.created_at <= now)
                .filter(|e| e.transaction_type == TransactionType::UsageDeduction && e.scope == Some(s))
                .map(|e| -e.amount.micros().min(0))
                .sum();
            (s, Credits::from_micros(spent))
        })
    }

    /// Credits spent on anything but calls in `[from, to)`: one
    /// `(createdAt epoch ms, micro-credits)` per `USAGE_DEDUCTION` row
    /// without a `callId` (number rental and renewal, prompt scoring),
    /// oldest first, spend positive (a refund row counts negative). Rows
    /// folded by [`Ledger::compact`] are no longer usage rows and are not
    /// listed. Call costs are left out: `usage/timeseries` takes them from
    /// the analytics index, by the call's creation day.
    pub fn non_call_usage(&self, from: Millis, to: Millis) -> Vec<(Millis, i64)> {
        self.entries()
            .iter()
            .filter(|e| e.transaction_type == TransactionType::UsageDeduction && e.call_id.is_none())
            .filter(|e| from <= e.created_at && e.created_at < to)
            .map(|e| (e.created_at, -e.amount.micros()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = USAGE_START + 30 * DAY_MS;

    fn q(f: impl FnOnce(&mut RawLedgerQuery)) -> Result<LedgerQuery, DomainError> {
        let mut raw = RawLedgerQuery::default();
        f(&mut raw);
        parse_query(&raw, NOW, USAGE_START)
    }

    fn msg(r: Result<LedgerQuery, DomainError>) -> String {
        r.expect_err("refused").to_string()
    }

    #[test]
    fn usage_start_is_march_second_2026() {
        assert_eq!(parse_iso("2026-03-02T00:00:00Z"), Some(USAGE_START));
    }

    #[test]
    fn defaults_are_the_last_seven_days_and_fifty_rows() {
        let d = q(|_| {}).expect("valid");
        assert_eq!((d.from, d.to, d.limit, d.offset), (NOW - DEFAULT_SPAN_MS, NOW, 50, 0));
    }

    #[test]
    fn a_defaulted_from_is_clamped_to_the_cutoff_never_refused() {
        let d = parse_query(&RawLedgerQuery::default(), USAGE_START + DAY_MS, USAGE_START).expect("valid");
        assert_eq!(d.from, USAGE_START);
        let early = parse_query(&RawLedgerQuery::default(), USAGE_START - DAY_MS, USAGE_START).expect("valid");
        assert_eq!(early.from, early.to, "a clock before the cutoff reads an empty window");
    }

    #[test]
    fn window_errors_use_the_spec_messages() {
        assert_eq!(
            msg(q(|r| r.from = Some("2026-01-01T00:00:00Z".into()))),
            "Date range starts before 2026-03-02. Usage data before this date is not available via API. Please contact support for historical exports."
        );
        let wide = q(|r| {
            r.from = Some("2026-03-02T00:00:00Z".into());
            r.to = Some("2026-07-01T00:00:00Z".into());
        });
        assert_eq!(msg(wide), SPAN_TOO_WIDE);
        assert_eq!(
            msg(q(|r| {
                r.from = Some("nope".into());
                r.to = Some("nope".into());
            })),
            "from: Invalid date; to: Invalid date"
        );
        assert_eq!(msg(q(|r| r.from = Some(iso(NOW + 1)))), FROM_AFTER_TO);
    }

    #[test]
    fn limit_type_and_scope_are_checked() {
        assert_eq!(msg(q(|r| r.limit = Some("101".into()))), "limit: Number must be less than or equal to 100");
        assert_eq!(msg(q(|r| r.limit = Some("0".into()))), "limit: Number must be greater than or equal to 1");
        assert!(
            msg(q(|r| r.kind = Some("REFUND".into()))).starts_with("type: Invalid enum value. Expected 'SIGNUP_BONUS'")
        );
        assert_eq!(
            msg(q(|r| r.scope = Some("tts".into()))),
            "scope: Invalid enum value. Expected 'platform' | 'voice_ai' | 'voice_models', received 'tts'"
        );
        assert_eq!(q(|r| r.kind = Some("PAYMENTS".into())).expect("ok").kind, Some(TypeFilter::Payments));
    }
}
