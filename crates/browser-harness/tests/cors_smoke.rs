//! End-to-end check of the harness against a real headless Chromium: a page
//! served from `http://localhost:<p1>/` calls an API on `http://127.0.0.1:<p2>`
//! (another origin).
//!
//! - A preflighted `PUT` to `/ok` succeeds: one preflight, then the PUT.
//! - A simple `GET` to `/none` (no CORS headers) reaches the server but is
//!   blocked: `MissingAllowOriginHeader`, plus the console message.
//! - A `PUT` to `/none` fails its preflight (`PreflightMissingAllowOriginHeader`)
//!   and never reaches the server.
//! - A real click starts a simple `GET /ok` (no preflight); `wait_for` sees the result.
//!
//! If Chromium is missing, this test fails with the install instructions; it
//! never skips. On failure, the messages name a file with the raw event log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use browser_harness::{find_chromium, Browser, LabPage};

const TIMEOUT: Duration = Duration::from_secs(15);
const NO_ACAO: &str =
    "No 'Access-Control-Allow-Origin' header is present on the requested resource.";

const PAGE: &str = "<!doctype html><title>CORS Lab harness</title><h1>page</h1>\
    <button id=go onclick=\"fetch(window.API + '/ok')\
      .then(r => document.getElementById('out').textContent = r.status)\">go</button>\
    <p id=out></p>";

/// How often the API server saw each request.
#[derive(Default)]
struct Hits {
    options_ok: AtomicUsize,
    put_ok: AtomicUsize,
    get_ok: AtomicUsize,
    get_none: AtomicUsize,
    put_none: AtomicUsize,
}

fn count(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::SeqCst);
}

fn api_router(hits: Arc<Hits>) -> Router {
    let acao = || [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")];
    let (h1, h2, h3, h4, h5) = (hits.clone(), hits.clone(), hits.clone(), hits.clone(), hits);
    Router::new()
        .route(
            "/ok",
            get(move || async move {
                count(&h1.get_ok);
                (acao(), "ok")
            })
            .put(move || async move {
                count(&h2.put_ok);
                (acao(), "ok")
            })
            .options(move || async move {
                count(&h3.options_ok);
                let mut res = StatusCode::NO_CONTENT.into_response();
                let h = res.headers_mut();
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("PUT"),
                );
                res
            }),
        )
        .route(
            "/none",
            // No CORS headers at all; OPTIONS falls through to axum's 405.
            get(move || async move {
                count(&h4.get_none);
                "no cors headers here"
            })
            .put(move || async move {
                count(&h5.put_none);
                "no cors headers here"
            }),
        )
}

async fn serve(router: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    port
}

/// Writes the page's raw event log to a file and returns its path (for failure messages).
fn dump(page: &LabPage) -> String {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "browser-harness-cors-smoke-{}.log",
        std::process::id()
    ));
    page.dump_events(&path).expect("dump events");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_and_cors_failures_are_recorded() {
    let started = Instant::now();
    // Fail (never skip) when Chromium is missing; the message says how to install it.
    if let Err(e) = find_chromium() {
        panic!("{e}");
    }

    let page_port = serve(Router::new().route("/", get(|| async { Html(PAGE) }))).await;
    let hits = Arc::new(Hits::default());
    let api = format!("http://127.0.0.1:{}", serve(api_router(hits.clone())).await);
    let origin = format!("http://localhost:{page_port}");

    let browser = Browser::launch().await.expect("launch Chromium");
    let page = browser
        .new_page(&format!("{origin}/"))
        .await
        .expect("open page");
    let launched = started.elapsed();

    let fetch = |url: String, method: &str| {
        format!(
            "fetch('{url}', {{method: '{method}'}})
               .then(r => r.text().then(body => ({{status: r.status, body}})))
               .catch(e => ({{error: String(e)}}))"
        )
    };
    let put_ok = page
        .evaluate_json(&fetch(format!("{api}/ok"), "PUT"))
        .await
        .expect("PUT /ok");
    let get_none = page
        .evaluate_json(&fetch(format!("{api}/none"), "GET"))
        .await
        .expect("GET /none");
    let put_none = page
        .evaluate_json(&fetch(format!("{api}/none"), "PUT"))
        .await
        .expect("PUT /none");

    let settled = page.wait_network_settled(&format!("{api}/"), TIMEOUT).await;
    let blocked_get = page
        .wait_console(&format!("Access to fetch at '{api}/none' from origin '{origin}' has been blocked by CORS policy: No"), TIMEOUT)
        .await;
    let blocked_put = page
        .wait_console(
            "Response to preflight request doesn't pass access control check",
            TIMEOUT,
        )
        .await;
    let log = dump(&page);
    let settled = settled.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let blocked_get = blocked_get.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let blocked_put = blocked_put.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let with = |url: &str, method: &str| -> Vec<_> {
        settled
            .iter()
            .filter(|r| r.url == format!("{api}{url}") && r.method == method)
            .cloned()
            .collect()
    };

    // What script saw: the two failures are indistinguishable there.
    assert_eq!(
        put_ok,
        serde_json::json!({"status": 200, "body": "ok"}),
        "events in {log}"
    );
    let failed_to_fetch = serde_json::json!({"error": "TypeError: Failed to fetch"});
    assert_eq!(get_none, failed_to_fetch, "events in {log}");
    assert_eq!(put_none, failed_to_fetch, "events in {log}");

    // PUT /ok: exactly one preflight (its own request, initiator "preflight"), then the PUT.
    let puts = with("/ok", "PUT");
    let preflights = with("/ok", "OPTIONS");
    assert_eq!(
        (puts.len(), preflights.len()),
        (1, 1),
        "{settled:#?}; events in {log}"
    );
    let (put, preflight) = (&puts[0], &preflights[0]);
    assert!(!put.is_preflight);
    assert_eq!(put.resource_type.as_deref(), Some("Fetch"));
    assert_eq!(put.status, Some(200));
    assert!(put.finished && put.failed.is_none(), "{put:#?}");
    assert!(preflight.is_preflight);
    assert_eq!(preflight.initiator_type, "preflight");
    assert_eq!(preflight.preflight_for.as_deref(), Some(put.id.as_str()));
    assert_eq!(preflight.resource_type.as_deref(), Some("Other"));
    assert_eq!(preflight.status, Some(204));
    assert_eq!(preflight.response_type.as_deref(), Some("Preflight"));
    assert!(preflight.failed.is_none(), "{preflight:#?}");
    assert_eq!(hits.options_ok.load(Ordering::SeqCst), 1);
    assert_eq!(hits.put_ok.load(Ordering::SeqCst), 1);

    // GET /none: no preflight; it reached the server, and the browser blocked the response.
    let gets = with("/none", "GET");
    assert_eq!(gets.len(), 1, "{settled:#?}; events in {log}");
    let failure = gets[0].failed.as_ref().expect("GET /none should fail");
    assert_eq!(
        failure.cors_error.as_deref(),
        Some("MissingAllowOriginHeader"),
        "{failure:#?}"
    );
    assert_eq!(failure.error_text, "net::ERR_FAILED");
    assert_eq!(
        hits.get_none.load(Ordering::SeqCst),
        1,
        "a simple request reaches the server"
    );
    assert!(blocked_get
        .text
        .contains(&format!("has been blocked by CORS policy: {NO_ACAO}")));
    assert_eq!(
        blocked_get.text,
        format!("Access to fetch at '{api}/none' from origin '{origin}' has been blocked by CORS policy: {NO_ACAO}")
    );
    assert_eq!(
        (blocked_get.level.as_str(), blocked_get.category.as_deref()),
        ("error", Some("cors"))
    );

    // PUT /none: the preflight (axum's 405, no ACAO) fails; the PUT is never sent.
    let put_fail = with("/none", "PUT");
    let pf_fail = with("/none", "OPTIONS");
    assert_eq!(
        (put_fail.len(), pf_fail.len()),
        (1, 1),
        "{settled:#?}; events in {log}"
    );
    let failure = put_fail[0].failed.as_ref().expect("PUT /none should fail");
    assert_eq!(
        failure.cors_error.as_deref(),
        Some("PreflightMissingAllowOriginHeader")
    );
    assert_eq!(
        pf_fail[0].preflight_for.as_deref(),
        Some(put_fail[0].id.as_str())
    );
    assert_eq!(pf_fail[0].status, Some(405));
    assert_eq!(
        hits.put_none.load(Ordering::SeqCst),
        0,
        "the PUT must never reach the server"
    );
    assert!(blocked_put.text.ends_with(NO_ACAO), "{blocked_put:#?}");

    // click + wait_for: a simple GET started by a real click, not preflighted.
    page.evaluate_json(&format!("window.API = '{api}'"))
        .await
        .expect("set API");
    page.click("#go").await.expect("click");
    page.wait_for(
        "document.getElementById('out').textContent === '200'",
        TIMEOUT,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}; events in {}", dump(&page)));
    page.wait_network_settled(&format!("{api}/ok"), TIMEOUT)
        .await
        .expect("settle GET /ok");
    let gets = page.requests_matching(&format!("{api}/ok"));
    let gets: Vec<_> = gets.iter().filter(|r| r.method == "GET").collect();
    assert_eq!(gets.len(), 1, "{gets:#?}");
    assert!(gets[0].status == Some(200) && gets[0].finished, "{gets:#?}");
    assert_eq!(hits.get_ok.load(Ordering::SeqCst), 1);
    assert_eq!(
        hits.options_ok.load(Ordering::SeqCst),
        1,
        "a simple GET is not preflighted"
    );

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-harness-smoke.png");
    page.screenshot(&shot).await.expect("screenshot");
    assert!(std::fs::metadata(&shot)
        .map(|m| m.len() > 0)
        .unwrap_or(false));

    drop(page);
    browser.close().await.expect("close Chromium");
    eprintln!(
        "browser-harness smoke: launch + first page {launched:?}, total {:?}; events in {log}",
        started.elapsed()
    );
}
