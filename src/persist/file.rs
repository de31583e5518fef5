//! The state file on disk: reading it (every problem is a
//! [`StateFileError`] naming the file) and replacing it atomically.
//!
//! [`write_atomic`] writes the bytes to `.<name>.tmp` in the same
//! directory, fsyncs it, renames it over the file and fsyncs the
//! directory, so the file is always either the previous snapshot or the
//! new one, also after `kill -9` or a power cut. The temporary name is
//! fixed: only one writer runs per file ([`super::Persister`]), and a
//! crash leaves at most one stale temporary, which the next write
//! replaces.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{parse, StateDocument, STATE_FORMAT};

/// A state file that cannot be used: the start stops, and the file is
/// left untouched.
#[derive(Debug, thiserror::Error)]
#[error("state file {}: {problem}; the file was left untouched", path.display())]
pub struct StateFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

/// Reads the state file at `path`: `None` when there is none yet.
pub fn read_state(path: &Path) -> Result<Option<StateDocument>, StateFileError> {
    let fail = |problem: String| StateFileError { path: path.to_path_buf(), problem };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(format!("cannot be read: {e}"))),
    };
    parse(&bytes, STATE_FORMAT).map(Some).map_err(fail)
}

/// The temporary file a write of `path` goes through: `.<name>.tmp` beside it.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp"))
}

/// Replaces the file at `path` with `bytes` atomically (see the module doc).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    sync_dir(path)
}

/// Makes the rename durable: fsync of the file's directory (Unix; other
/// systems journal directory entries themselves).
fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("atoms-mock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary() {
        let d = dir("write");
        let p = d.join("state.json");
        write_atomic(&p, b"one").expect("first");
        write_atomic(&p, b"two").expect("second");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        assert!(!temp_path(&p).exists());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn missing_is_none_and_every_bad_file_names_itself_and_its_problem() {
        let d = dir("read");
        let p = d.join("state.json");
        assert!(read_state(&p).expect("missing is fine").is_none());
        for (text, problem) in [
            (r#"{"format": "atoms-mock-state", "version": 1, "clo"#, "not valid JSON"),
            (r#"{"format": "atoms-mock-state", "version": 99}"#, "version 99 is not supported"),
            (r#"{"format": "something-else", "version": 1}"#, "format is \"something-else\""),
            (r#"{"format": "atoms-mock-state", "version": 1, "clock": 3}"#, "clock: invalid type"),
        ] {
            std::fs::write(&p, text).expect("write");
            let err = read_state(&p).expect_err(text).to_string();
            assert!(err.contains(&p.display().to_string()) && err.contains(problem), "{err}");
            assert_eq!(std::fs::read_to_string(&p).expect("still there"), text, "left untouched");
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
