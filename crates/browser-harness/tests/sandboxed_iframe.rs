//! Requests made by a page's frames and workers are recorded with the page's.
//!
//! A sandboxed iframe (`sandbox="allow-scripts"`, no `allow-same-origin`) has
//! an opaque origin, so its requests carry `Origin: null`. Cross-site frames
//! and dedicated workers run as separate DevTools targets whose Network and Log
//! events are not sent on the page's session; the harness attaches to them
//! before they run. Sandboxed `srcdoc` frames would be separate targets too,
//! attached too late to see their first request, so the harness keeps them in
//! the page's process (Chromium's `IsolateSandboxedIframes` off). Either way
//! `wait_network_settled`, `requests_matching`, `wait_console` and the event
//! dump cover them.
//!
//! Page on `http://localhost:<p1>/`, API on `http://localhost:<p2>`:
//!
//! - a sandboxed `srcdoc` iframe in the page's markup fetches `/api/items`
//!   (answers `Access-Control-Allow-Origin: *`): recorded, succeeded;
//! - a sandboxed `srcdoc` iframe added later fetches `/none` (no CORS headers):
//!   recorded, failed with `MissingAllowOriginHeader`, and the console entry
//!   "… from origin 'null' has been blocked by CORS policy" is recorded;
//! - a sandboxed iframe loaded from `http://127.0.0.1:<p2>/frame` (another
//!   site, so an out-of-process iframe: a child target) fetches `/none`: same;
//! - the server saw `Origin: null` for all three;
//! - (second test) a dedicated worker fetches `/none` as soon as it starts:
//!   recorded, failed, with its console entry.
//!
//! Fails (never skips) when Chromium is missing. On failure, the messages name
//! a file with the raw event log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use browser_harness::{find_chromium, Browser, LabPage, NetworkRequest};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(15);
const NO_ACAO: &str =
    "No 'Access-Control-Allow-Origin' header is present on the requested resource.";

/// Fetches `URL` and turns the outcome into a value (`URL` is replaced).
const FETCH_JS: &str = "fetch(URL)\
    .then(r => r.text().then(body => ({status: r.status, body})))\
    .catch(e => ({error: String(e)}))";

/// Path and query of every API request, with its `Origin` header.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn api_router(seen: Seen) -> Router {
    fn note(seen: &Seen, uri: &Uri, headers: &HeaderMap) {
        let origin = headers
            .get(header::ORIGIN)
            .map(|v| v.to_str().unwrap_or("<non-ascii>").to_string());
        seen.lock().unwrap().push((uri.to_string(), origin));
    }
    // For a cross-site iframe: fetches `?url=` at once and posts `{run, result}` to its parent.
    let frame = format!(
        "<!doctype html><script>const q = new URLSearchParams(location.search);\
         {}.then(result => parent.postMessage({{run: q.get('run'), result}}, '*'));</script>",
        FETCH_JS.replace("URL", "q.get('url')")
    );
    Router::new()
        .route(
            "/api/items",
            get(
                |State(seen): State<Seen>, uri: Uri, headers: HeaderMap| async move {
                    note(&seen, &uri, &headers);
                    ([(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], "items")
                },
            ),
        )
        .route(
            "/none",
            get(
                |State(seen): State<Seen>, uri: Uri, headers: HeaderMap| async move {
                    note(&seen, &uri, &headers);
                    "no cors headers here"
                },
            ),
        )
        .route("/frame", get(move || async move { Html(frame) }))
        .with_state(seen)
}

/// The page collects what its iframes and workers post back in
/// `window.results`. `sandboxed(url, run)` adds a sandboxed srcdoc iframe that
/// fetches `url` right away; `worker(url, run)` starts a dedicated worker that
/// does the same. The markup holds one srcdoc iframe fetching `static_url`.
fn page_router(static_url: &str) -> Router {
    let srcdoc_js = FETCH_JS.replace("URL", "' + JSON.stringify(url) + '");
    let html = format!(
        r#"<!doctype html><title>frames and workers</title>
<script>
window.results = {{}};
addEventListener('message', e => {{ window.results[e.data.run] = e.data.result; }});
function sandboxed(url, run) {{
  const f = document.createElement('iframe');
  f.sandbox = 'allow-scripts';
  f.srcdoc = '<script>{srcdoc_js}'
    + '.then(result => parent.postMessage({{run: ' + JSON.stringify(run) + ', result}}, "*"))<\/script>';
  document.body.appendChild(f);
}}
function worker(url, run) {{
  const w = new Worker('/worker.js?' + new URLSearchParams({{url, run}}));
  w.onmessage = e => {{ window.results[e.data.run] = e.data.result; }};
}}
</script>
<body><h1>page</h1>
<script>sandboxed({static_url:?}, 'sbx-ok');</script>
</body>"#
    );
    let worker = format!(
        "const q = new URLSearchParams(location.search);\
         {}.then(result => postMessage({{run: q.get('run'), result}}));",
        FETCH_JS.replace("URL", "q.get('url')")
    );
    Router::new()
        .route("/", get(move || async move { Html(html) }))
        .route(
            "/worker.js",
            get(move || async move { ([(header::CONTENT_TYPE, "text/javascript")], worker) }),
        )
}

async fn serve(router: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    port
}

/// Writes the page's raw event log to a file and returns its path (for failure messages).
fn dump(page: &LabPage, name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("browser-harness-{name}-{}.log", std::process::id()));
    page.dump_events(&path).expect("dump events");
    path.display().to_string()
}

/// The one request recorded for `url`: a simple GET (no preflight) that settled.
fn only_get(reqs: &[NetworkRequest], url: &str, log: &str) -> NetworkRequest {
    assert_eq!(reqs.len(), 1, "{reqs:#?}; events in {log}");
    let req = reqs[0].clone();
    assert_eq!((req.url.as_str(), req.method.as_str()), (url, "GET"));
    assert!(!req.is_preflight);
    assert_eq!(req.resource_type.as_deref(), Some("Fetch"));
    req
}

fn assert_blocked(req: &NetworkRequest, log: &str) {
    let failure = req.failed.as_ref().expect("the request should fail");
    assert_eq!(
        failure.cors_error.as_deref(),
        Some("MissingAllowOriginHeader"),
        "{failure:#?}; events in {log}"
    );
    assert_eq!(failure.error_text, "net::ERR_FAILED");
}

struct Servers {
    seen: Seen,
    /// `http://localhost:<p2>` (same site as the page, another origin).
    api: String,
    /// `http://127.0.0.1:<p2>` (another site: its frames are out-of-process).
    api_other_site: String,
    /// `http://localhost:<p1>`.
    origin: String,
}

async fn start_servers() -> Servers {
    if let Err(e) = find_chromium() {
        panic!("{e}");
    }
    let seen: Seen = Arc::default();
    let api_port = serve(api_router(seen.clone())).await;
    let api = format!("http://localhost:{api_port}");
    let page_port = serve(page_router(&format!("{api}/api/items?run=sbx-ok"))).await;
    Servers {
        seen,
        api,
        api_other_site: format!("http://127.0.0.1:{api_port}"),
        origin: format!("http://localhost:{page_port}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_iframe_requests_are_recorded() {
    let started = Instant::now();
    let Servers {
        seen,
        api,
        api_other_site,
        origin,
    } = start_servers().await;
    let ok_url = format!("{api}/api/items?run=sbx-ok");
    let none_url = format!("{api}/none?run=sbx-none");
    let oopif_url = format!("{api}/none?run=oopif-none");

    let browser = Browser::launch().await.expect("launch Chromium");
    // (a) The page's own markup holds the first sandboxed iframe.
    let page = browser
        .new_page(&format!("{origin}/"))
        .await
        .expect("open page");
    // (b) A second one is added after the page has loaded, and (c) a cross-site one.
    page.evaluate_json(&format!(
        "sandboxed({none_url:?}, 'sbx-none');
         const f = document.createElement('iframe');
         f.sandbox = 'allow-scripts';
         f.src = '{api_other_site}/frame?' + new URLSearchParams({{url: {oopif_url:?}, run: 'oopif-none'}});
         document.body.appendChild(f);"
    ))
    .await
    .expect("add iframes");

    let posted = page
        .wait_for(
            "['sbx-ok', 'sbx-none', 'oopif-none'].every(run => window.results[run])",
            TIMEOUT,
        )
        .await;
    let ok = page.wait_network_settled("run=sbx-ok", TIMEOUT).await;
    let none = page.wait_network_settled("run=sbx-none", TIMEOUT).await;
    let oopif = page
        .wait_network_settled("/none?run=oopif-none", TIMEOUT)
        .await;
    let blocked = |url: &str| {
        format!("Access to fetch at '{url}' from origin 'null' has been blocked by CORS policy")
    };
    let blocked_none = page.wait_console(&blocked(&none_url), TIMEOUT).await;
    let blocked_oopif = page.wait_console(&blocked(&oopif_url), TIMEOUT).await;
    let log = dump(&page, "sandboxed-iframe");
    posted.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let ok = ok.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let none = none.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let oopif = oopif.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let blocked_none = blocked_none.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let blocked_oopif = blocked_oopif.unwrap_or_else(|e| panic!("{e}; events in {log}"));

    // What the iframes' scripts saw.
    let results = page
        .evaluate_json("window.results")
        .await
        .expect("read results");
    let failed_to_fetch = json!({"error": "TypeError: Failed to fetch"});
    assert_eq!(
        results,
        json!({
            "sbx-ok": {"status": 200, "body": "items"},
            "sbx-none": failed_to_fetch,
            "oopif-none": failed_to_fetch,
        }),
        "events in {log}"
    );

    // The server got the three fetches, all with Origin: null (opaque origins).
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for (uri, origin_header) in &seen {
        assert_eq!(origin_header.as_deref(), Some("null"), "{uri}: {seen:?}");
    }

    // (a) recorded, succeeded.
    let req = only_get(&ok, &ok_url, &log);
    assert_eq!(req.status, Some(200));
    assert!(
        req.finished && req.failed.is_none(),
        "{req:#?}; events in {log}"
    );

    // (b) and (c) recorded, blocked by CORS after the server ran them (simple requests).
    assert_blocked(&only_get(&none, &none_url, &log), &log);
    assert_blocked(&only_get(&oopif, &oopif_url, &log), &log);
    assert_eq!(page.requests_matching("run=sbx-none"), none);

    // ... with the console message, as for the page's own requests.
    for (entry, url) in [(&blocked_none, &none_url), (&blocked_oopif, &oopif_url)] {
        assert!(
            entry
                .text
                .contains("from origin 'null' has been blocked by CORS policy"),
            "{entry:#?}"
        );
        assert_eq!(entry.text, format!("{}: {NO_ACAO}", blocked(url)));
        assert_eq!(
            (entry.level.as_str(), entry.category.as_deref()),
            ("error", Some("cors"))
        );
    }
    assert_eq!(
        page.console_matching("from origin 'null' has been blocked by CORS policy")
            .len(),
        2,
        "{:#?}",
        page.console_entries()
    );

    // The cross-site iframe is a child target, and the dump says which events came from it.
    let children = page.child_targets();
    let frame = children
        .iter()
        .find(|c| c.kind == "iframe" && c.url.starts_with(&format!("{api_other_site}/frame")))
        .unwrap_or_else(|| panic!("{children:#?}; events in {log}"));
    assert!(
        page.events()
            .iter()
            .any(|l| l.contains("Network.loadingFailed")
                && l.contains(&format!("\"target\":\"{}\"", frame.target_id))),
        "events in {log}"
    );

    drop(page);
    browser.close().await.expect("close Chromium");
    eprintln!(
        "browser-harness sandboxed iframes: total {:?}; events in {log}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedicated_worker_requests_are_recorded() {
    let started = Instant::now();
    let Servers {
        seen, api, origin, ..
    } = start_servers().await;
    let url = format!("{api}/none?run=worker-none");

    let browser = Browser::launch().await.expect("launch Chromium");
    let page = browser
        .new_page(&format!("{origin}/"))
        .await
        .expect("open page");
    page.evaluate_json(&format!("worker({url:?}, 'worker-none')"))
        .await
        .expect("start worker");

    let posted = page
        .wait_for("window.results['worker-none']", TIMEOUT)
        .await;
    // (Not just "run=worker-none": the worker script's own URL contains that too.)
    let reqs = page
        .wait_network_settled("/none?run=worker-none", TIMEOUT)
        .await;
    let text = format!(
        "Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: {NO_ACAO}"
    );
    let blocked = page.wait_console(&text, TIMEOUT).await;
    let log = dump(&page, "dedicated-worker");
    posted.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    let reqs = reqs.unwrap_or_else(|e| panic!("{e}; events in {log}"));
    blocked.unwrap_or_else(|e| panic!("{e}; events in {log}"));

    assert_eq!(
        page.evaluate_json("window.results['worker-none']")
            .await
            .expect("read result"),
        json!({"error": "TypeError: Failed to fetch"})
    );
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|(uri, o)| uri == "/none?run=worker-none" && o.as_deref() == Some(origin.as_str())),
        "events in {log}"
    );
    assert_blocked(&only_get(&reqs, &url, &log), &log);
    // The worker's own entry (category "cors"); the page also logs a copy
    // (source "worker", no category), in either order.
    assert!(
        page.console_matching(&text)
            .iter()
            .any(|c| c.category.as_deref() == Some("cors") && c.level == "error"),
        "{:#?}",
        page.console_entries()
    );
    let children = page.child_targets();
    assert!(
        children.iter().any(|c| c.kind == "worker"),
        "{children:#?}; events in {log}"
    );

    drop(page);
    browser.close().await.expect("close Chromium");
    eprintln!(
        "browser-harness dedicated worker: total {:?}; events in {log}",
        started.elapsed()
    );
}
