//! Audience CSV rules (BEHAVIOR R177–R183, L-I4, DA §"CSV Requirements"):
//! parsing an uploaded CSV into members, the column-name rules, the 5 MB
//! and 10,000-member limits, the duplicate-phone rule, and CSV writing for
//! the campaign exports.
//!
//! Messages quoted by the reference are exact; the others (marked
//! *inferred* on each constant or function) are the mock's wording.

use serde_json::{Map, Value};

use super::DomainError;

/// Largest accepted CSV file, bytes (5 MB, L-I3).
pub const MAX_CSV_BYTES: usize = 5 * 1024 * 1024;
/// Most members an audience may hold (R178, R183).
pub const MAX_MEMBERS: usize = 10_000;

/// Most audiences one organization may hold: a mock bound (the reference
/// names none) so that an organization's memory is bounded, each audience
/// holding up to 5 MB of CSV. *Inferred.*
pub const MAX_AUDIENCES: usize = 1_000;

/// 400 `Audience limit reached: an organization can have at most 1000
/// audiences` when an organization holding `existing` audiences may not
/// add one (*inferred* wording, in the plan limits' style).
pub fn check_audience_count(existing: usize) -> Result<(), DomainError> {
    super::error::check_count(existing, MAX_AUDIENCES, ("Audience", "an organization", "audiences"))
}
/// Audience members one organization may hold across its audiences: a
/// mock bound on memory (the reference gives none; each audience may hold
/// [`MAX_MEMBERS`]).
pub const MAX_ORG_MEMBERS: usize = 200_000;

/// 400 `Audience member limit reached: an organization can have at most
/// 200000 members` when an organization holding `existing` members across
/// its audiences may not add `adding` more (*inferred* wording).
pub fn check_org_members(existing: usize, adding: usize) -> Result<(), DomainError> {
    super::error::check_room(existing, adding, MAX_ORG_MEMBERS, ("Audience member", "an organization", "members"))
}

/// R178's duplicate-phone message.
pub const DUPLICATE_PHONES: &str =
    "Some phone numbers in your CSV already exist in this audience. Please remove duplicate entries and try again.";

/// A parsed CSV: header row and data rows (each as long as the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csv {
    /// Column names, in file order.
    pub columns: Vec<String>,
    /// Data rows; blank lines are skipped.
    pub rows: Vec<Vec<String>>,
}

/// Splits RFC 4180 text into records with the `csv` crate: `"` quotes
/// fields, `""` escapes a quote, and LF, CR or CRLF ends a record; rows may
/// be shorter or longer than the header. Fully blank records are dropped.
fn records(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    reader
        .records()
        // The text is valid UTF-8 and rows may differ in length: a record
        // cannot fail to read, and one that did would carry nothing.
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect::<Vec<String>>())
        .filter(|r| r.iter().any(|f| !f.trim().is_empty()))
        .collect()
}

/// True for DA's column names: letters, digits and underscores only.
pub fn is_column_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub use super::ids::is_phone;

/// `s` in E.164 (adds the `+` the CSV may leave out).
pub fn to_e164(s: &str) -> String {
    if s.starts_with('+') {
        s.to_string()
    } else {
        format!("+{s}")
    }
}

/// Parses an uploaded CSV and checks the rules: UTF-8 text within 5 MB,
/// valid and unique column names, the phone (and identifier) column
/// present, every phone dialable, at most [`MAX_MEMBERS`] rows, no phone
/// twice. The inferred messages name the column or row at fault.
pub fn parse_upload(bytes: &[u8], phone_col: &str, id_col: Option<&str>) -> Result<Csv, DomainError> {
    let bad = |m: String| Err(DomainError::Validation(m));
    if bytes.len() > MAX_CSV_BYTES {
        return bad("CSV file exceeds the maximum size of 5 MB".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| DomainError::invalid("CSV file must be UTF-8 text"))?;
    let mut recs = records(text.strip_prefix('\u{feff}').unwrap_or(text)).into_iter();
    let Some(header) = recs.next() else { return bad("CSV file is empty".into()) };
    let columns: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    for (i, c) in columns.iter().enumerate() {
        if !is_column_name(c) {
            return bad(format!("Invalid column name \"{c}\": use only letters, numbers and underscores"));
        }
        if columns[..i].contains(c) {
            return bad(format!("Duplicate column name \"{c}\" in CSV"));
        }
    }
    for (what, col) in [("Phone number", Some(phone_col)), ("Identifier", id_col)] {
        if let Some(col) = col.filter(|c| !columns.iter().any(|x| x == c)) {
            return bad(format!("{what} column \"{col}\" not found in CSV"));
        }
    }
    let rows: Vec<Vec<String>> = recs.collect();
    if rows.len() > MAX_MEMBERS {
        return bad(format!("Audience cannot exceed {MAX_MEMBERS} members"));
    }
    let pi = columns.iter().position(|c| c == phone_col).unwrap_or(0);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for (n, mut row) in rows.into_iter().enumerate() {
        row.resize(columns.len(), String::new());
        let phone = row[pi].trim().to_string();
        if !is_phone(&phone) {
            return bad(format!("Invalid phone number \"{phone}\" in column \"{phone_col}\" at row {}", n + 2));
        }
        if !seen.insert(to_e164(&phone)) {
            return bad(DUPLICATE_PHONES.into());
        }
        row[pi] = phone;
        out.push(row);
    }
    Ok(Csv { columns, rows: out })
}

/// A CSV row as a member's `data` object (values are strings).
pub fn row_data(columns: &[String], row: &[String]) -> Map<String, Value> {
    columns.iter().zip(row).map(|(c, v)| (c.clone(), Value::String(v.clone()))).collect()
}

/// R183's message for adding `adding` members to an audience of `current`.
pub fn over_limit(adding: usize, current: usize) -> String {
    format!(
        "Cannot add {adding} members. You currently have {current} members in this audience. The maximum limit is \
         {MAX_MEMBERS} members. You can add up to {} more members.",
        MAX_MEMBERS.saturating_sub(current)
    )
}

/// Writes `records` as CSV text with the `csv` crate: a field is quoted
/// when it holds a comma, a quote or a line break (quotes doubled), and
/// every record ends with `\n`.
pub fn to_csv<R, S>(records: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    for r in records {
        // Writing to a Vec cannot fail.
        let _ = w.write_record(r);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// One CSV line (with its `\n`) from fields.
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    to_csv([fields.iter().map(AsRef::as_ref)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_crlf_and_blank_lines_parse() {
        let csv =
            parse_upload(b"phone,name\r\n+15550000001,\"Doe, \"\"J\"\"\"\r\n\r\n15550000002,Ann\n", "phone", None)
                .expect("valid");
        assert_eq!(csv.columns, ["phone", "name"]);
        assert_eq!(csv.rows, [["+15550000001", "Doe, \"J\""], ["15550000002", "Ann"]]);
        assert_eq!(records("a,b"), [["a", "b"]]);
    }

    #[test]
    fn every_rule_has_its_message() {
        let err = |b: &[u8], id: Option<&str>| parse_upload(b, "phone", id).expect_err("invalid").to_string();
        assert_eq!(err(b"", None), "CSV file is empty");
        assert!(err(b"phone,first name\n", None).starts_with("Invalid column name \"first name\""));
        assert_eq!(err(b"phone,a,a\n", None), "Duplicate column name \"a\" in CSV");
        assert_eq!(err(b"mobile\n+15550000001\n", None), "Phone number column \"phone\" not found in CSV");
        assert_eq!(err(b"phone\n+15550000001\n", Some("Name")), "Identifier column \"Name\" not found in CSV");
        assert_eq!(
            err(b"phone\n(202) 555-0123\n", None),
            "Invalid phone number \"(202) 555-0123\" in column \"phone\" at row 2"
        );
        assert_eq!(err(b"phone\n+15550000001\n15550000001\n", None), DUPLICATE_PHONES);
        assert_eq!(err(&[0xff, 0xfe], None), "CSV file must be UTF-8 text");
        let mut big = b"phone\n".to_vec();
        for i in 0..=MAX_MEMBERS {
            big.extend(format!("+1555{i:07}\n").bytes());
        }
        assert_eq!(err(&big, None), "Audience cannot exceed 10000 members");
        assert!(err(&vec![b'a'; MAX_CSV_BYTES + 1], None).contains("5 MB"));
    }

    #[test]
    fn limit_message_matches_the_spec_example() {
        assert_eq!(
            over_limit(15, 9990),
            "Cannot add 15 members. You currently have 9990 members in this audience. The maximum limit is 10000 \
             members. You can add up to 10 more members."
        );
        assert_eq!(csv_line(&["a,b", "c\"d", "e"]), "\"a,b\",\"c\"\"d\",e\n");
    }
}
