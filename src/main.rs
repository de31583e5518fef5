//! The `atoms-mock` binary: parse flags, load fixtures and the state file
//! (`--state-file`), bind, serve until Ctrl-C or SIGTERM, then write the
//! state file one last time.

use atoms_mock::{fixtures::Fixtures, AppState, Config, Server};
use clap::Parser;

/// jemalloc: the request path allocates many small buffers, and glibc's
/// allocator showed up as lock contention under load (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::parse();
    // Memory freed by `POST /_admin/reset` goes back to the OS: jemalloc's
    // background threads return dirty pages over time even when the server
    // is idle (decay otherwise runs only when something allocates), and
    // the reset purges at once.
    let background = tikv_jemalloc_ctl::background_thread::write(true);
    atoms_mock::memory::set_release_hook(purge_all_arenas);
    atoms_mock::memory::set_usage_probe(resident_bytes);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ATOMS_MOCK_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = background {
        tracing::warn!("jemalloc background threads are off: {e}");
    }
    let fixtures = Fixtures::load(config.fixtures.as_deref())?;
    let (host, port) = (config.host.clone(), config.port);
    let state = AppState::new(config, fixtures);
    let persister = match atoms_mock::persist::open(&state).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("atoms-mock: {e}");
            std::process::exit(2);
        }
    };
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    let server = Server::start(listener, state)?;
    if let Some(p) = &persister {
        p.spawn();
    }
    let shutdown = shutdown_signal()?;
    // The ready line: the first line on stdout, printed once the listener
    // accepts connections and SIGINT/SIGTERM stop the server gracefully;
    // with `--port 0` it is how callers (the Python package's
    // `AtomsMock.start`) learn the port.
    println!("{}", server.base_url());
    shutdown.await;
    server.shutdown().await?;
    if let Some(p) = persister {
        p.close().await.map_err(|e| format!("writing the state file {}: {e}", p.path().display()))?;
    }
    Ok(())
}

/// Installs the Ctrl-C (SIGINT) and SIGTERM handlers now, before the ready
/// line, so a signal sent right after it already stops the server
/// gracefully; the returned future completes on the first of them.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (mut int, mut term) = (signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?);
        Ok(async move {
            tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
        })
    }
    #[cfg(not(unix))]
    {
        let mut ctrl_c = tokio::signal::windows::ctrl_c()?;
        Ok(async move {
            ctrl_c.recv().await;
        })
    }
}

/// jemalloc's `MALLCTL_ARENAS_ALL`: the pseudo arena index meaning every
/// arena.
const MALLCTL_ARENAS_ALL: u32 = 4096;

/// Returns every arena's unused dirty pages to the OS
/// (`arena.<MALLCTL_ARENAS_ALL>.purge`), so RSS after a reset falls back
/// near idle within the request (measured in BENCHMARKS.md).
///
/// The one `unsafe` block of the crate: `tikv-jemalloc-ctl` has no safe
/// wrapper for this void control, and its `raw::write` passes a value
/// pointer that jemalloc refuses for a control taking none. On failure
/// (a non-zero errno) nothing is freed and the server carries on.
#[allow(unsafe_code)]
fn purge_all_arenas() {
    let name = format!("arena.{MALLCTL_ARENAS_ALL}.purge\0");
    // SAFETY: `name` is a NUL-terminated string that outlives the call, and
    // a void control is called with null old/new pointers and a zero new
    // length, as jemalloc's `mallctl(3)` documents; jemalloc is this
    // process's allocator (`GLOBAL`), so the symbol is initialized.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        tracing::warn!("jemalloc purge failed with errno {rc}");
    }
}

/// The process's resident set size in bytes (`VmRSS` of
/// `/proc/self/status`), the reading `--max-memory-bytes` is checked
/// against; `None` where there is no such file (other systems: the limit
/// then never refuses).
fn resident_bytes() -> Option<usize> {
    atoms_mock::memory::vm_rss(&std::fs::read_to_string("/proc/self/status").ok()?)
}
