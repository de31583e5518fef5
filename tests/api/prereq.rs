//! What some tests need beyond the crate: the reference checkout beside
//! the repository (`../shared/reference/…`) and `python3`. On a developer's
//! machine a missing prerequisite skips the test with a notice; when `CI`
//! is set (non-empty, as `.ci/run` and CI services set it) it fails the
//! test instead, so a skip can never pass for a pass where both exist.

use std::path::PathBuf;

/// Whether the tests run under CI (`CI` set and non-empty).
pub(crate) fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// `test` cannot run because `why`: fails under CI, otherwise prints a
/// notice. The caller returns right after.
#[track_caller]
pub(crate) fn skip(test: &str, why: &str) {
    assert!(!in_ci(), "{test}: {why}; CI is set, so this fails instead of skipping");
    eprintln!("notice: {test} skipped: {why} (set CI to make this a failure)");
}

/// `../shared/reference/<rel>`, beside the repository.
pub(crate) fn reference_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference").join(rel)
}

/// The text of `../shared/reference/<rel>`, or `None` after [`skip`] when
/// it cannot be read.
#[track_caller]
pub(crate) fn reference(test: &str, rel: &str) -> Option<String> {
    let path = reference_path(rel);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            skip(test, &format!("{} cannot be read ({e})", path.display()));
            None
        }
    }
}

/// `python3 --version`, or `None` after [`skip`] when `python3` cannot be
/// started.
#[track_caller]
pub(crate) fn python3(test: &str) -> Option<String> {
    let version = crate::sdk_contract::python3_version();
    if version.is_none() {
        skip(test, "python3 is not on PATH");
    }
    version
}
