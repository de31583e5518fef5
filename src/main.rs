//! The `atoms-mock` binary: parse flags, load fixtures, bind, serve until
//! Ctrl-C or SIGTERM.

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
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await?;
    let server = Server::start(listener, AppState::new(config, fixtures))?;
    println!("{}", server.base_url());
    shutdown_signal().await;
    server.shutdown().await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
