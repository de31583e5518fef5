//! The checked-in `openapi/atoms-mock.json` equals what the server
//! generates and serves at `GET /openapi.json`. Regenerate with
//! `UPDATE_OPENAPI=1 cargo test --test api openapi`.

use std::path::PathBuf;

use crate::helpers::TestServer;

#[tokio::test]
async fn checked_in_openapi_matches_the_generated_document() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi/atoms-mock.json");
    let generated = atoms_mock::http::openapi_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{generated}\n")).expect("write openapi");
    }
    let checked_in = std::fs::read_to_string(&path).expect("openapi/atoms-mock.json exists");
    assert_eq!(checked_in.trim_end(), generated, "openapi/atoms-mock.json drifted; rerun with UPDATE_OPENAPI=1");

    let s = TestServer::start().await;
    let served = s.raw(reqwest::Method::GET, &format!("{}/openapi.json", s.root()), None, None).await;
    assert_eq!(served.text, generated);
    let paths = served.body["paths"].as_object().expect("paths");
    for p in [
        "/atoms/v1/agent",
        "/atoms/v1/agent/{id}/drafts/{draftId}/publish",
        "/atoms/v1/agent/{id}/versions/{versionId}/activate",
        "/_admin/clock/advance",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the document");
    }
}
