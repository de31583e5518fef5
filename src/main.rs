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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ATOMS_MOCK_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
