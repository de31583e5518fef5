//! The baseline for `scripts/bench.py`: a bare axum hello-world server on
//! `127.0.0.1:$PORT` (default 4099; 0 picks a free port), built with the
//! same profile as the mock so their throughput can be compared on one
//! machine. Prints the address it bound.

use axum::{routing::get, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(4099);
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
