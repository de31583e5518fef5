//! Contract test with the official Python SDK (`smallestai`, pinned): runs
//! `tests/contract/sdk_contract.py` against the in-process server.
//!
//! The SDK goes into a virtualenv at `target/sdk-venv`, created on first
//! run and reused while it holds the pinned version. Skipped with a notice
//! when `ATOMS_MOCK_SKIP_SDK=1`, or when `python3` is not on PATH outside CI
//! (`prereq`); otherwise any failure (venv, pip, script) fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::helpers::TestServer;

/// The pinned SDK release.
const SDK_VERSION: &str = "5.14.0";

pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv_bin(venv: &Path, exe: &str) -> PathBuf {
    venv.join("bin").join(exe)
}

/// Runs `cmd` to completion with stdin closed; `Err` describes a failure
/// to start it.
pub(crate) fn run(cmd: &mut Command) -> Result<Output, String> {
    cmd.stdin(Stdio::null())
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("SMALLESTAI_TELEMETRY", "0")
        .env("DO_NOT_TRACK", "1")
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))
}

/// Formats a command's result for a failure message.
pub(crate) fn report(what: &str, out: &Output) -> String {
    format!(
        "{what} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`; `Err` with its output unless it exits successfully.
fn run_ok(what: &str, cmd: &mut Command) -> Result<Output, String> {
    let out = run(cmd)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(report(what, &out))
    }
}

/// `python3 --version` when `python3` can be started.
pub(crate) fn python3_version() -> Option<String> {
    let out = run(Command::new("python3").arg("--version")).ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Creates (or repairs) the venv `target/<name>` and installs
/// `package==version` unless `pip show` already reports it. Returns the
/// venv's python.
pub(crate) fn ensure_venv(name: &str, package: &str, version: &str) -> Result<PathBuf, String> {
    let venv = repo_root().join("target").join(name);
    let python = venv_bin(&venv, "python");
    let healthy =
        python.exists() && run(Command::new(&python).args(["-c", "import sys"])).is_ok_and(|o| o.status.success());
    if !healthy {
        if venv.exists() {
            std::fs::remove_dir_all(&venv).map_err(|e| format!("cannot remove broken venv {}: {e}", venv.display()))?;
        }
        let made = run_ok("python3 -m venv", Command::new("python3").arg("-m").arg("venv").arg(&venv));
        if let Err(venv_err) = made {
            // Some distributions ship python3 without ensurepip; fall back
            // to virtualenv when it is installed.
            let _ = std::fs::remove_dir_all(&venv);
            run_ok("python3 -m virtualenv", Command::new("python3").arg("-m").arg("virtualenv").arg(&venv))
                .map_err(|e| format!("{venv_err}\n\n{e}"))?;
        }
    }

    let show = run(Command::new(&python).args(["-m", "pip", "show", package]))?;
    let installed = show.status.success()
        && String::from_utf8_lossy(&show.stdout).lines().any(|l| l.trim() == format!("Version: {version}"));
    if !installed {
        eprintln!("installing {package}=={version} into {}", venv.display());
        run_ok(
            "pip install",
            Command::new(&python).args(["-m", "pip", "install", "-q", &format!("{package}=={version}")]),
        )?;
    }
    Ok(python)
}

/// Sets up the SDK and runs the contract script against `base`.
fn run_contract(base: &str) -> Result<Output, String> {
    let python = ensure_venv("sdk-venv", "smallestai", SDK_VERSION)?;
    let script = repo_root().join("tests/contract/sdk_contract.py");
    run(Command::new(python)
        .arg(&script)
        .env("ATOMS_MOCK_BASE", base)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(repo_root()))
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_contract() {
    if std::env::var("ATOMS_MOCK_SKIP_SDK").as_deref() == Ok("1") {
        eprintln!("sdk_contract: skipped (ATOMS_MOCK_SKIP_SDK=1)");
        return;
    }
    let Some(version) = crate::prereq::python3("sdk_contract") else { return };
    eprintln!("sdk_contract: using {version}");

    // The server runs on this runtime; the blocking setup and script run on
    // the blocking pool so it keeps serving.
    let server = TestServer::start().await;
    let base = server.base();
    let result = tokio::task::spawn_blocking(move || run_contract(&base)).await.expect("sdk contract task panicked");

    let out = result.unwrap_or_else(|e| panic!("sdk_contract setup failed:\n{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(out.status.success(), "{}", report("sdk_contract.py", &out));
    assert!(
        stdout.contains("PASS sdk contract"),
        "sdk_contract.py exited 0 without PASS\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
}
