//! The baseline for `scripts/load.sh`: a bare axum server with no CORS engine, no journal and
//! no tracing. Prints `listening on ADDR`.
//!
//! * `bare ADDR` answers every request `204` with no headers of its own.
//! * `bare ADDR --same-answers` answers with the bytes the API sends under the default policy to
//!   the load script's two requests — the preflight's `204` and its six `Access-Control-*` and
//!   `Vary` lines, the items' `200` with their JSON and headers — as constants. Against it, what
//!   the API costs beyond the bytes it writes is the engine, the journal and the routing.
//!
//! `cargo run --release -p api-server --example bare -- 127.0.0.1:0 [--same-answers]`

use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;

/// The API's preflight answer for the lab page asking for `PUT` with `content-type,x-token`.
const PREFLIGHT: [(&str, &str); 6] = [
    ("access-control-allow-origin", "http://localhost:8080"),
    ("access-control-allow-credentials", "true"),
    (
        "vary",
        "origin, access-control-request-method, access-control-request-headers",
    ),
    ("access-control-allow-methods", "PUT"),
    ("access-control-allow-headers", "content-type,x-token"),
    ("access-control-max-age", "600"),
];

/// The API's `GET /api/items` answer for the lab page.
const ITEMS: [(&str, &str); 8] = [
    ("content-type", "application/json"),
    ("x-secret", "42"),
    ("x-internal", "7"),
    ("vary", "accept"),
    ("vary", "origin"),
    ("access-control-allow-origin", "http://localhost:8080"),
    ("access-control-allow-credentials", "true"),
    ("access-control-expose-headers", "x-secret"),
];
const ITEMS_BODY: &str =
    r#"[{"id":1,"name":"preflight"},{"id":2,"name":"origin"},{"id":3,"name":"credentials"}]"#;

/// The two answers' header lines, made once: a server that writes constant answers would not
/// check their names and values again on each request (`from_static` outside a constant does).
static PREFLIGHT_LINES: LazyLock<HeaderMap> = LazyLock::new(|| header_map(&PREFLIGHT));
static ITEMS_LINES: LazyLock<HeaderMap> = LazyLock::new(|| header_map(&ITEMS));

fn header_map(lines: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(lines.len());
    for (name, value) in lines {
        map.append(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    map
}

async fn same_answers(request: Request) -> Response {
    let (status, lines, body) = if request.method() == Method::OPTIONS {
        (StatusCode::NO_CONTENT, &*PREFLIGHT_LINES, Body::empty())
    } else {
        (StatusCode::OK, &*ITEMS_LINES, Body::from(ITEMS_BODY))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = lines.clone();
    response
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let same = args.next().as_deref() == Some("--same-answers");
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!(
        "listening on {}",
        listener.local_addr().expect("local addr")
    );
    let app = if same {
        Router::new().fallback(same_answers)
    } else {
        Router::new().fallback(|| async { StatusCode::NO_CONTENT })
    };
    lab_process::serve(listener, app, lab_process::shutdown_signal())
        .await
        .expect("serve");
}
