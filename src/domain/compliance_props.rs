//! Unit tests and properties of compliance applications: form checks with
//! the spec's messages, the review on the clock, resubmission only after a
//! rejection, forced decisions that stick, and the rental gate.

use proptest::prelude::*;

use super::*;
use crate::domain::compliance_form::{parse_resubmit, parse_submit, SubmitForm, UploadedFile};
use crate::domain::compliance_rules::requirement_wire;

const T0: Millis = 1_767_225_600_000;
const ORG: &str = "663f1a2b4c5d6e7f8a9b0c1d";

fn pdf(name: &str) -> UploadedFile {
    UploadedFile { name: name.into(), content_type: Some("application/pdf".into()), size: 1024 }
}

fn form(country: &str, documents: &str, files: usize) -> SubmitForm {
    SubmitForm {
        country_iso: Some(country.into()),
        number_type: Some("local".into()),
        user_type: Some("business".into()),
        end_user: Some(r#"{"name":"Acme Corp","email":"legal@acme.com"}"#.into()),
        documents: Some(documents.into()),
        files: (0..files).map(|i| pdf(&format!("doc{i}.pdf"))).collect(),
    }
}

const COMPLETE_GB: &str = r#"[
  {"documentTypeId": "dt_certificate_of_incorporation", "dataFields": {"business_name": "Acme Corp"}},
  {"documentTypeId": "dt_proof_of_address", "dataFields": {"address_line": "1 Main St"}}]"#;

fn submitted(country: &str, documents: &str, files: usize) -> Application {
    let sub = parse_submit(&form(country, documents, files)).expect("valid");
    Application::submit("6a0000000000000000000001".into(), ORG, "u1", "plivo-1".into(), sub, T0)
}

fn err(r: Result<impl std::fmt::Debug, DomainError>) -> String {
    r.expect_err("refused").to_string()
}

#[test]
fn forms_are_checked_with_the_specs_file_count_message() {
    assert_eq!(err(parse_submit(&form("GB", COMPLETE_GB, 1))), "Expected 2 files, got 1");
    assert_eq!(
        err(parse_submit(&form("GBR", COMPLETE_GB, 2))),
        "countryIso: String must contain exactly 2 character(s)"
    );
    let mut f = form("GB", COMPLETE_GB, 2);
    f.end_user = Some("{not json".into());
    assert_eq!(err(parse_submit(&f)), "endUser: Invalid JSON");
    f.end_user = Some(r#"{"email":"a@b.c"}"#.into());
    assert_eq!(err(parse_submit(&f)), "endUser.name: Required");
    let mut f = form("GB", COMPLETE_GB, 2);
    f.number_type = Some("landline".into());
    assert_eq!(
        err(parse_submit(&f)),
        "numberType: Invalid enum value. Expected 'local' | 'mobile' | 'tollfree', received 'landline'"
    );
    let mut f = form("GB", COMPLETE_GB, 2);
    f.files[1] = UploadedFile { name: "scan.gif".into(), content_type: Some("image/gif".into()), size: 10 };
    assert_eq!(err(parse_submit(&f)), "Unsupported file type: scan.gif. Accepted formats: PDF, JPEG, PNG");
    f.files[1] = UploadedFile { name: "big.pdf".into(), content_type: None, size: MAX_BYTES + 1 };
    assert_eq!(err(parse_submit(&f)), "File big.pdf exceeds the 5 MB size limit");
    assert_eq!(err(parse_submit(&form("GB", r#"[{"dataFields":{}}]"#, 1))), "documents.0.documentTypeId: Required");
    let ok = parse_submit(&form("gb", COMPLETE_GB, 2)).expect("valid");
    assert_eq!((ok.country_iso.as_str(), ok.end_user.country.as_deref()), ("GB", Some("GB")));
    assert_eq!(err(parse_resubmit(Some("[]"), &[pdf("a.pdf")])), "Expected 0 files, got 1");
}

const MAX_BYTES: usize = crate::domain::compliance_form::MAX_FILE_BYTES;

#[test]
fn requirements_are_empty_where_no_compliance_is_needed() {
    let us = requirement_wire("US", NumberType::Local, UserType::Business);
    assert_eq!(us["documentTypes"], serde_json::json!([]));
    let india = requirement_wire("IN", NumberType::Local, UserType::Business);
    assert_eq!(india["documentTypes"].as_array().map(Vec::len), Some(3));
    assert_eq!(india["documentTypes"][0]["requiredFields"][0]["fieldName"], "business_name");
}

#[test]
fn a_complete_application_is_accepted_when_the_review_is_due() {
    let app = submitted("GB", COMPLETE_GB, 2);
    assert_eq!(app.alias, "663f1a2b-GB-production");
    let early = apply(&app, &Command::Review, T0 + REVIEW_DELAY_MS - 1).expect("ok");
    assert_eq!(early.next, app, "not due yet");
    let due = apply(&app, &Command::Review, T0 + REVIEW_DELAY_MS).expect("ok");
    assert_eq!(due.next.status, ApplicationStatus::Accepted);
    assert_eq!(due.next.updated_at, T0 + REVIEW_DELAY_MS);
}

#[test]
fn an_incomplete_application_is_rejected_then_resubmitted() {
    let app = submitted("GB", r#"[{"documentTypeId": "dt_proof_of_address", "dataFields": {}}]"#, 1);
    let r = apply(&app, &Command::Review, T0 + REVIEW_DELAY_MS).expect("ok").next;
    assert_eq!(r.status, ApplicationStatus::Rejected);
    assert_eq!(
        r.rejection_reason.as_deref(),
        Some("Missing or incomplete documents: Certificate of Incorporation, Address (Proof of Address)")
    );
    let (documents, file_names) = parse_resubmit(Some(COMPLETE_GB), &[pdf("a.pdf"), pdf("b.pdf")]).expect("valid");
    let again = apply(&r, &Command::Resubmit { documents, file_names }, T0 + 200_000).expect("ok");
    assert_eq!(again.effects, vec![Effect::ReviewAt(T0 + 200_000 + REVIEW_DELAY_MS)]);
    assert_eq!((again.next.status, again.next.rejection_reason.clone()), (ApplicationStatus::Submitted, None));
    assert_eq!(
        err(apply(&again.next, &Command::Resubmit { documents: vec![], file_names: vec![] }, T0 + 300_000)),
        "Only rejected applications can be resubmitted. Current status: submitted"
    );
}

#[test]
fn one_application_per_combination_and_the_status_steps() {
    let mut book = ComplianceBook::default();
    assert_eq!(book.status("GB", NumberType::Local, UserType::Business).step, "form");
    book.submit(submitted("GB", COMPLETE_GB, 2)).expect("first");
    assert_eq!(
        book.submit(submitted("GB", COMPLETE_GB, 2)).map(|_| ()),
        Err(DomainError::Conflict("A compliance application already exists for GB/local. Status: submitted".into()))
    );
    let view = book.status("GB", NumberType::Local, UserType::Business);
    assert_eq!((view.step, view.required_documents.len()), ("submitted", 2));
    assert_eq!(view.wire()["application"]["status"], "submitted");
    assert_eq!(book.get("nope").map(|_| ()), Err(DomainError::NotFound(NOT_FOUND.into())));
}

#[test]
fn renting_in_a_regulated_country_needs_an_accepted_application() {
    let mut book = ComplianceBook::default();
    assert_eq!(book.rent_gate("US"), Ok(None));
    assert!(book.rent_gate("GB").is_err());
    let id = book.submit(submitted("GB", COMPLETE_GB, 2)).expect("ok").0.id.clone();
    assert!(book.rent_gate("GB").is_err(), "still under review");
    book.settle(T0 + REVIEW_DELAY_MS);
    assert_eq!(book.rent_gate("GB"), Ok(Some(id.clone())));
    book.command(&id, &Command::Suspend("Document expired".into()), T0 + REVIEW_DELAY_MS + 1).expect("ok");
    assert!(book.rent_gate("GB").is_err(), "a suspended application does not count");
}

fn any_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => Just(Command::Review),
        1 => Just(Command::Resubmit { documents: vec![], file_names: vec![] }),
        1 => Just(Command::Approve),
        1 => Just(Command::Reject("Blurry scan".into())),
        1 => Just(Command::Suspend("Audit".into())),
        1 => Just(Command::Expire),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn applications_keep_every_invariant(complete in any::<bool>(), steps in proptest::collection::vec((any_command(), 0i64..200_000), 0..40)) {
        let mut app = if complete { submitted("GB", COMPLETE_GB, 2) } else { submitted("IN", "[]", 0) };
        let mut now = T0;
        // Resubmissions here carry no documents, which both countries need.
        let mut docs_complete = complete;
        for (cmd, dt) in steps {
            now += dt;
            let before = app.clone();
            match apply(&app, &cmd, now) {
                Err(_) => {
                    let refusable = matches!(cmd, Command::Resubmit { .. } | Command::Suspend(_) | Command::Expire);
                    prop_assert!(refusable, "only resubmit, suspend and expire can be refused");
                    continue;
                }
                Ok(out) => {
                    let n = out.next;
                    prop_assert!(n.updated_at >= before.updated_at, "timestamps never go backwards");
                    if matches!(cmd, Command::Resubmit { .. }) {
                        prop_assert_eq!(before.status, ApplicationStatus::Rejected, "only a rejected application is resubmitted");
                        prop_assert_eq!(n.status, ApplicationStatus::Submitted);
                        docs_complete = false;
                    }
                    if cmd == Command::Review {
                        let due = before.review_at.is_some_and(|d| d <= now);
                        if before.status != ApplicationStatus::Submitted || !due {
                            prop_assert_eq!(&n, &before, "a review that is not due changes nothing");
                        } else {
                            let want = if docs_complete { ApplicationStatus::Accepted } else { ApplicationStatus::Rejected };
                            prop_assert_eq!(n.status, want, "the review follows the documents");
                        }
                    }
                    if matches!(cmd, Command::Approve) {
                        prop_assert_eq!((n.status, n.review_at), (ApplicationStatus::Accepted, None), "forced decisions stick");
                    }
                    if n.status != ApplicationStatus::Submitted {
                        prop_assert_eq!(n.review_at, None, "only a submitted application waits for a review");
                    }
                    let back: Application = serde_json::from_str(&serde_json::to_string(&n).expect("json")).expect("parse");
                    prop_assert_eq!(&back, &n, "JSON round trip");
                    app = n;
                }
            }
        }
    }
}
