//! The baseline for `scripts/load.sh`: a bare axum server that answers every request `204`,
//! with no CORS engine, no journal and no tracing. Prints `listening on ADDR`.
//!
//! `cargo run --release -p api-server --example bare -- 127.0.0.1:0`

use axum::http::StatusCode;
use axum::Router;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!(
        "listening on {}",
        listener.local_addr().expect("local addr")
    );
    let app = Router::new().fallback(|| async { StatusCode::NO_CONTENT });
    lab_process::serve(listener, app, lab_process::shutdown_signal())
        .await
        .expect("serve");
}
