//! Helpers shared by the root test crates.
// Each test crate uses its own part of this module.
#![allow(dead_code)]

/// Serves `app` on an ephemeral loopback port: a stand-in for the learner's own server. Returns
/// its base URL and the task, to abort when the test ends.
pub async fn stand_in_server(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, task)
}
