//! ISO-8601 rendering of epoch milliseconds, as the platform writes them:
//! UTC with milliseconds and a `Z` suffix, e.g. `2026-05-08T07:51:58.813Z`
//! (BEHAVIOR R015).

use super::Millis;
use time::format_description::well_known::Rfc3339;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (R015).
const ISO_MS: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
/// `YYYY-MM-DDTHH:MM:SSZ`.
const ISO_SECONDS: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
/// `YYYY-MM-DD`.
pub const DATE: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");
/// `HH:MM`, 24-hour.
pub const HOUR_MINUTE: &[BorrowedFormatItem<'_>] = format_description!("[hour]:[minute]");

/// `ms` (epoch milliseconds) as a UTC date-time; out-of-range values give
/// the epoch.
pub fn utc(ms: Millis) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `ms` in UTC formatted by `format` (one of this module's descriptions).
pub fn format_utc(ms: Millis, format: &[BorrowedFormatItem<'_>]) -> String {
    // These descriptions need only a date and a time, which a UTC
    // date-time always has: formatting cannot fail.
    utc(ms).format(format).unwrap_or_default()
}

/// Renders `ms` (epoch milliseconds) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
/// Years 0–9999 are written digit by digit (the hot read paths render two
/// per agent); others go through [`format_utc`], whose output this equals.
pub fn iso(ms: Millis) -> String {
    let t = utc(ms);
    let Ok(year) = u16::try_from(t.year()) else { return format_utc(ms, ISO_MS) };
    if year > 9999 {
        return format_utc(ms, ISO_MS);
    }
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let fields = [
        (0, 4, u32::from(year)),
        (5, 2, u32::from(u8::from(t.month()))),
        (8, 2, u32::from(t.day())),
        (11, 2, u32::from(t.hour())),
        (14, 2, u32::from(t.minute())),
        (17, 2, u32::from(t.second())),
        (20, 3, u32::from(t.millisecond())),
    ];
    for (at, width, mut n) in fields {
        for slot in out[at..at + width].iter_mut().rev() {
            *slot = b'0' + u8::try_from(n % 10).unwrap_or(0);
            n /= 10;
        }
    }
    out.iter().map(|b| char::from(*b)).collect()
}

/// Renders `ms` as ISO-8601 UTC without sub-second digits
/// (`2026-01-01T00:00:00Z`), the control API's clock format.
pub fn iso_seconds(ms: Millis) -> String {
    format_utc(ms, ISO_SECONDS)
}

/// Renders `ms` as the UTC date `YYYY-MM-DD`.
pub fn iso_date(ms: Millis) -> String {
    format_utc(ms, DATE)
}

/// [`iso`] of `ms` as a JSON string, or `null` when absent.
pub fn opt_iso(ms: Option<Millis>) -> serde_json::Value {
    ms.map_or(serde_json::Value::Null, |m| serde_json::Value::String(iso(m)))
}

/// Parses an RFC 3339 / ISO-8601 timestamp with offset into epoch ms.
/// Returns `None` for anything else.
pub fn parse_iso(s: &str) -> Option<Millis> {
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_has_millis_and_z() {
        assert_eq!(iso(1_778_226_705_739), "2026-05-08T07:51:45.739Z");
        assert_eq!(iso_seconds(1_767_225_600_000), "2026-01-01T00:00:00Z");
        assert_eq!(iso_date(1_778_226_705_739), "2026-05-08");
        assert_eq!(iso(5), "1970-01-01T00:00:00.005Z");
    }

    #[test]
    fn iso_writes_what_the_format_description_writes() {
        let samples = (0..2000_i64).map(|i| i.wrapping_mul(7_919_000_003_571) % 400_000_000_000_000);
        for ms in samples.chain([0, -1, -62_167_219_200_000, 253_402_300_799_999, 253_402_300_800_000, i64::MAX]) {
            assert_eq!(iso(ms), format_utc(ms, ISO_MS), "ms = {ms}");
        }
    }

    #[test]
    fn parse_round_trips() {
        assert_eq!(parse_iso("2026-05-08T07:51:45.739Z"), Some(1_778_226_705_739));
        assert_eq!(parse_iso("yesterday"), None);
    }
}
