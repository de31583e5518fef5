//! The baseline for `scripts/bench.py`: a bare axum hello-world server on
//! `127.0.0.1:$PORT` (default 4099), built with the same profile as the
//! mock so their throughput can be compared on one machine.

use axum::{routing::get, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(4099);
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("http://127.0.0.1:{port}");
    axum::serve(listener, app).await
}
