//! Serving HTTP with limits, and stopping gracefully.
//!
//! `axum::serve` is fine for a demo but has no knobs; a lab that stays open all day, on a
//! classroom network, needs a few:
//!
//! * **header read timeout** — a client that opens a connection and never finishes its request
//!   headers is dropped after [`HEADER_READ_TIMEOUT`] instead of holding a task forever;
//! * **header size** — request headers beyond [`MAX_HEADER_BYTES`] get `431 Request Header
//!   Fields Too Large` from hyper before any handler runs;
//! * **graceful shutdown** — when `shutdown` completes, the listener closes, idle keep-alive
//!   connections are closed, and in-flight requests finish (for at most [`DRAIN_TIMEOUT`]).
//!   Long-lived responses (the journal's event stream) must end themselves on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::response::Response;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_service::Service;

/// How long a client may take to send its request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) read.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// How long in-flight requests may take to finish after shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `app` (an axum `Router`, or any service like one) on `listener` until `shutdown`
/// completes, then drains.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    // Out of file descriptors and the like: pause instead of spinning.
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    // Errors here are per connection (a client went away, a timeout): not ours.
                    if let Err(e) = connection.await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still busy after {DRAIN_TIMEOUT:?}; closing anyway");
    }
    Ok(())
}
