//! Hostile input against the running API: each gets a clear 4xx (or is dropped), and the
//! server keeps serving normal requests at once.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

use support::{start_api, RunningApi as Api, LAB};

async fn start() -> Api {
    start_api(&[]).await
}

/// Sends raw bytes on a fresh connection and returns the status code of the answer (None when
/// the server closed the connection without one).
async fn raw(api: &Api, request: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(api.addr).await.unwrap();
    // The server may answer (and close) before reading everything: ignore write errors.
    let _ = stream.write_all(request).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&buf);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}

async fn still_serving(api: &Api) {
    let status = raw(
        api,
        format!(
            "GET /api/items HTTP/1.1\r\nHost: {}\r\nOrigin: {LAB}\r\nConnection: close\r\n\r\n",
            api.addr
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, Some(200), "a normal request right after");
}

fn get_with(api: &Api, extra: &str) -> Vec<u8> {
    format!(
        "GET /api/items HTTP/1.1\r\nHost: {}\r\n{extra}Connection: close\r\n\r\n",
        api.addr
    )
    .into_bytes()
}

#[tokio::test]
async fn header_of_ten_thousand_commas() {
    let api = start().await;
    let commas = ",".repeat(10_000);
    let request = format!(
        "OPTIONS /api/items HTTP/1.1\r\nHost: {}\r\nOrigin: {LAB}\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: {commas}\r\nConnection: close\r\n\r\n",
        api.addr
    );
    assert_eq!(raw(&api, request.as_bytes()).await, Some(400));
    still_serving(&api).await;
}

#[tokio::test]
async fn hundred_kilobyte_headers() {
    let api = start().await;
    let big = "a".repeat(100 * 1024);
    assert_eq!(
        raw(&api, &get_with(&api, &format!("X-Big: {big}\r\n"))).await,
        Some(431)
    );
    assert_eq!(
        raw(
            &api,
            &get_with(&api, &format!("Origin: https://{big}.com\r\n"))
        )
        .await,
        Some(431)
    );
    still_serving(&api).await;
}

#[tokio::test]
async fn several_and_strange_origins() {
    let api = start().await;
    let two = format!("Origin: {LAB}\r\nOrigin: http://127.0.0.1:8081\r\n");
    assert_eq!(raw(&api, &get_with(&api, &two)).await, Some(400));
    let mut non_utf8 = get_with(&api, "Origin: http://\u{0}\r\n");
    // Replace the NUL placeholder by bytes that are not UTF-8.
    let at = non_utf8.iter().position(|&b| b == 0).unwrap();
    non_utf8.splice(at..at + 1, [0xff, 0xfe]);
    assert_eq!(raw(&api, &non_utf8).await, Some(400));
    // Non-ASCII but valid UTF-8: not visible ASCII, so refused too.
    assert_eq!(
        raw(&api, &get_with(&api, "Origin: https://bücher.de\r\n")).await,
        Some(400)
    );
    // A long, well-formed origin is simply not allowed.
    let long = format!("Origin: https://{}.com\r\n", "a".repeat(5000));
    assert_eq!(raw(&api, &get_with(&api, &long)).await, Some(200));
    still_serving(&api).await;
}

#[tokio::test]
async fn absurd_methods() {
    let api = start().await;
    let req = |method: &str| {
        format!("{method} /api/items HTTP/1.1\r\nHost: {}\r\nOrigin: {LAB}\r\nConnection: close\r\n\r\n", api.addr)
    };
    assert_eq!(raw(&api, req("BREW").as_bytes()).await, Some(405));
    assert_eq!(
        raw(&api, req(&"X".repeat(10_000)).as_bytes()).await,
        Some(405)
    );
    assert_eq!(raw(&api, req("GE(T").as_bytes()).await, Some(400));
    let preflight = format!(
        "OPTIONS /api/items HTTP/1.1\r\nHost: {}\r\nOrigin: {LAB}\r\nAccess-Control-Request-Method: {}\r\nConnection: close\r\n\r\n",
        api.addr,
        "Z".repeat(3000)
    );
    assert_eq!(
        raw(&api, preflight.as_bytes()).await,
        Some(204),
        "debug mode names the method"
    );
    still_serving(&api).await;
}

#[tokio::test]
async fn huge_bodies() {
    let api = start().await;
    // Just over the API's own limit (below axum's default of 2 MiB), on every route that reads
    // a body; and 5 MiB.
    let just_over = api_server::routes::MAX_BODY + 1;
    for (method, path, size) in [
        ("POST", "/api/echo", just_over),
        ("POST", "/api/items", just_over),
        ("PUT", "/api/items/1", just_over),
        ("POST", "/api/echo", 5 * 1024 * 1024),
    ] {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {LAB}\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n",
            api.addr,
        )
        .into_bytes();
        request.resize(request.len() + size, b'a');
        assert_eq!(
            raw(&api, &request).await,
            Some(413),
            "{method} {path}, {size} bytes"
        );
    }
    still_serving(&api).await;
}

#[tokio::test]
async fn clients_that_never_send_do_not_block_others() {
    let api = start().await;
    let mut idle = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(api.addr).await.unwrap();
        // Half a request line, then nothing.
        s.write_all(b"GET /api/it").await.unwrap();
        idle.push(s);
    }
    still_serving(&api).await;
    drop(idle);
}

#[tokio::test]
async fn sse_clients_that_never_read_do_not_block_the_api() {
    let api = start().await;
    let mut silent = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(api.addr).await.unwrap();
        s.write_all(format!("GET /_lab/events HTTP/1.1\r\nHost: {}\r\n\r\n", api.addr).as_bytes())
            .await
            .unwrap();
        silent.push(s);
    }
    // More exchanges than the journal holds, while 200 event streams are never read.
    let client = reqwest::Client::new();
    for i in 0..api_server::JOURNAL_CAPACITY + 200 {
        let r = client
            .get(format!("http://{}/api/items?run=load-{i}", api.addr))
            .header("origin", LAB)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    still_serving(&api).await;
    // The journal stayed a bounded ring.
    let journal: Vec<serde_json::Value> = client
        .get(format!("http://{}/_lab/journal", api.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(journal.len(), api_server::JOURNAL_CAPACITY);
    drop(silent);
}
