//! ISO-8601 rendering of epoch milliseconds, as the platform writes them:
//! UTC with milliseconds and a `Z` suffix, e.g. `2026-05-08T07:51:58.813Z`
//! (BEHAVIOR R015).

use super::Millis;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

/// Renders `ms` (epoch milliseconds) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso(ms: Millis) -> String {
    let dt =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond()
    )
}

/// Renders `ms` as ISO-8601 UTC without sub-second digits
/// (`2026-01-01T00:00:00Z`), the control API's clock format.
pub fn iso_seconds(ms: Millis) -> String {
    let full = iso(ms);
    format!("{}Z", &full[..19])
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
    }

    #[test]
    fn parse_round_trips() {
        assert_eq!(parse_iso("2026-05-08T07:51:45.739Z"), Some(1_778_226_705_739));
        assert_eq!(parse_iso("yesterday"), None);
    }
}
