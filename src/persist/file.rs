//! The state file on disk: reading it (every problem is a
//! [`StateFileError`] naming the file) and replacing it atomically.
//!
//! [`write_json_atomic`] streams the document (without holding its
//! bytes) to `.<name>.tmp` in the same directory, fsyncs it, renames it
//! over the file and fsyncs the directory, so the file is always either
//! the previous snapshot or the new one, also after `kill -9` or a power
//! cut. The temporary name is fixed: only one writer runs per file
//! ([`super::Persister`]), and a crash leaves at most one stale
//! temporary, which the next write replaces; a write that fails removes
//! its temporary.

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

/// Writes `doc` as pretty-printed JSON to the temporary file through a
/// 64 KiB buffer, hashing the bytes on the way, so a snapshot costs the
/// buffer in memory rather than its own size (hundreds of MiB for 100k
/// agents). When the hash is `unchanged` and the file exists, the
/// temporary is removed and the file left as it was; otherwise the
/// temporary replaces the file (see the module doc). Returns the hash
/// and whether the file was replaced.
pub fn write_json_atomic<T: serde::Serialize>(
    path: &Path,
    doc: &T,
    unchanged: Option<u64>,
) -> std::io::Result<(u64, bool)> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut out = Hashing {
            inner: std::io::BufWriter::with_capacity(64 * 1024, std::fs::File::create(&tmp)?),
            hash: Default::default(),
        };
        serde_json::to_writer_pretty(&mut out, doc).map_err(std::io::Error::other)?;
        let hash = std::hash::Hasher::finish(&out.hash);
        let f = out.inner.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        if Some(hash) == unchanged && path.exists() {
            drop(f);
            std::fs::remove_file(&tmp)?;
            return Ok((hash, false));
        }
        replace_with(f, &tmp, path)?;
        Ok((hash, true))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A writer that hashes what passes through it. The hash depends only on
/// the bytes, not on how they were split into writes.
struct Hashing<W> {
    inner: W,
    hash: std::collections::hash_map::DefaultHasher,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        std::hash::Hasher::write(&mut self.hash, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Makes `f`, written at `tmp`, the file at `path`: fsync, rename over
/// `path`, fsync of the directory.
fn replace_with(f: std::fs::File, tmp: &Path, path: &Path) -> std::io::Result<()> {
    f.sync_all()?;
    drop(f);
    std::fs::rename(tmp, path)?;
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

    /// A streamed write replaces the file with the document's pretty
    /// JSON; the same document again leaves the file as it was (same
    /// hash, nothing replaced, no temporary left); another one replaces
    /// it. The hash does not depend on how the bytes were split.
    #[test]
    fn a_streamed_write_replaces_the_file_only_when_its_bytes_changed() {
        let d = dir("stream");
        let p = d.join("state.json");
        let doc = serde_json::json!({"format": "x", "items": (0..5000).collect::<Vec<u32>>()});
        let (h1, replaced) = write_json_atomic(&p, &doc, None).expect("first");
        assert!(replaced);
        assert_eq!(std::fs::read(&p).expect("read"), serde_json::to_vec_pretty(&doc).expect("json"));
        let (h2, replaced) = write_json_atomic(&p, &doc, Some(h1)).expect("again");
        assert_eq!((h2, replaced), (h1, false), "same bytes, same hash, file kept");
        assert!(!temp_path(&p).exists());
        let other = serde_json::json!({"format": "y"});
        let (h3, replaced) = write_json_atomic(&p, &other, Some(h1)).expect("other");
        assert!(replaced && h3 != h1);
        assert_eq!(std::fs::read(&p).expect("read"), serde_json::to_vec_pretty(&other).expect("json"));
        assert!(!temp_path(&p).exists());
        let whole = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hasher::write(&mut h, &serde_json::to_vec_pretty(&other).expect("json"));
            std::hash::Hasher::finish(&h)
        };
        assert_eq!(h3, whole, "the hash of the bytes, however they were written");
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A document that fails half-way leaves the file as it was and no
    /// temporary behind.
    #[test]
    fn a_write_that_fails_keeps_the_file_and_removes_its_temporary() {
        struct Fails;
        impl serde::Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("cannot be written"))
            }
        }
        let d = dir("fails");
        let p = d.join("state.json");
        write_json_atomic(&p, &serde_json::json!({"kept": true}), None).expect("first");
        let half = (serde_json::json!({"big": vec![7u8; 100_000]}), Fails);
        let err = write_json_atomic(&p, &half, None).expect_err("fails");
        assert!(err.to_string().contains("cannot be written"), "{err}");
        assert!(!temp_path(&p).exists(), "temporary removed");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "{\n  \"kept\": true\n}");
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
