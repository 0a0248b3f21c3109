//! The API on an ephemeral loopback port, for the integration tests.
// Each test crate uses its own part of this module.
#![allow(dead_code)]

use cors_policy::PolicyInput;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The lab's trusted page origin, as the API is told it.
pub const LAB: &str = "http://localhost:8080";

/// A running API; it stops when this is dropped.
pub struct RunningApi {
    pub addr: std::net::SocketAddr,
    pub base: String,
    stop: CancellationToken,
}

impl Drop for RunningApi {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts the API with the policy variables `vars` (e.g. `CORS_PRESET`). Its other origin, where
/// `/api/redirect` points, is a closed port.
pub async fn start_api(vars: &[(&str, &str)]) -> RunningApi {
    start_api_with_alt(vars, |_| "http://127.0.0.1:1".into()).await
}

/// Starts the API with its other origin made from its address, e.g. `localhost` and its port:
/// a redirect there reaches the same API from another origin.
pub async fn start_api_with_alt(
    vars: &[(&str, &str)],
    alt: impl FnOnce(&std::net::SocketAddr) -> String,
) -> RunningApi {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let alt = alt(&addr);
    let mut errors = Vec::new();
    let config =
        api_server::cli::api_config(PolicyInput::from_pairs(vars), &base, &alt, LAB, &mut errors)
            .unwrap_or_else(|| panic!("{errors:?}"));
    let stop = CancellationToken::new();
    tokio::spawn(api_server::run(
        listener,
        config,
        stop.clone().cancelled_owned(),
    ));
    RunningApi { addr, base, stop }
}
