//! Redirects, against a real headless Chromium: the claims of the *Redirects* cards that the
//! catalogue test (outcome, preflight count, the console's words) does not check.
//!
//! * `moved-get` and `moved-put` meet a redirect in front of the API's CORS layer. Their cards
//!   claim that Chromium stopped at the front's 308 and never asked the address it points to,
//!   that a preflighted PUT was never sent, and that the fix is at the front or in the page's
//!   URL, not in a `CORS_*` setting.
//! * `redirect-same-origin` and `redirect-preflighted` meet the API's own redirect, behind the
//!   CORS layer. Their cards claim that the next hop keeps the page's `Origin`, and that a PUT is
//!   preflighted again for the new URL and sent there with its body.
//! * A front whose redirects carry the CORS headers (a small server of this test's own): the
//!   cards and the README claim that Chromium follows it for a GET, and that a preflight fails
//!   at it all the same.
//!
//! The cards run from the trusted page under `strict`, the policy that allows that page, and
//! each claim is held to Chromium's DevTools report and to the journal.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use api_server::cli::PolicyArgs;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use browser_harness::{read_card, Browser, LabPage};
use cors_lab::RunningLab;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// The lab under its default policy (`strict`), and its trusted page open in Chromium.
async fn trusted_page() -> (RunningLab, Browser, LabPage) {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser
        .open_lab_page(&format!("{}/", lab.trusted_url), WAIT)
        .await
        .expect("the page opens and is ready");
    (lab, browser, page)
}

async fn close(lab: RunningLab, browser: Browser, page: LabPage) {
    let _ = page.close().await;
    let _ = browser.close().await;
    lab.stop().await.unwrap();
}

/// Runs a card, and returns its run id, Chromium's requests of that run and its text parts.
async fn run_card(page: &LabPage, id: &str) -> (String, Vec<browser_harness::NetworkRequest>) {
    page.click(&format!("[data-run=\"{id}\"]")).await.unwrap();
    page.wait_for(
        &format!("document.querySelector('[data-scenario=\"{id}\"]').dataset.state === 'done'"),
        WAIT,
    )
    .await
    .unwrap_or_else(|e| panic!("{id}: the card does not finish: {e}"));
    let run = read_card(page, id).await.unwrap().run_id;
    let requests = page
        .wait_network_settled(&format!("run={run}"), WAIT)
        .await
        .unwrap();
    (run, requests)
}

/// The text of one of the card's fields (`verdict`, `explanation`, `diagram`).
async fn card_text(page: &LabPage, id: &str, field: &str) -> String {
    page.evaluate_json(&format!(
        "document.querySelector('[data-scenario=\"{id}\"] [data-field=\"{field}\"]').innerText"
    ))
    .await
    .unwrap()
    .as_str()
    .unwrap()
    .to_string()
}

/// The journal's entries of one run, oldest first.
async fn journal(api_url: &str, run: &str) -> Vec<Value> {
    let mut entries: Vec<Value> = reqwest::get(format!("{api_url}/_lab/journal?run={run}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    entries.sort_by_key(|e| e["id"].as_u64());
    entries
}

#[tokio::test]
async fn chromium_stops_at_the_fronts_redirect_and_the_card_says_where_the_fix_is() {
    let (lab, browser, page) = trusted_page().await;
    let api = lab.api_url.replace("localhost", "127.0.0.1");

    // The GET: one request, failed at the 308, and nothing sent to where it points.
    let (run, requests) = run_card(&page, "moved-get").await;
    assert_eq!(requests.len(), 1, "one request only: {requests:?}");
    let sent = &requests[0];
    assert!(sent.url.contains("/moved/items?"), "{}", sent.url);
    assert_eq!(
        sent.failed.as_ref().and_then(|f| f.cors_error.as_deref()),
        Some("MissingAllowOriginHeader")
    );
    assert!(
        page.requests()
            .iter()
            .all(|r| !r.url.contains("/api/items?")),
        "Chromium must not have followed the redirect to /api/items"
    );
    let entries = journal(&api, &run).await;
    assert_eq!(entries.len(), 1, "the API saw the GET only: {entries:?}");
    assert_eq!(entries[0]["answered_by"], "front-redirect");
    assert_eq!(entries[0]["path"], "/moved/items");

    let banner = card_text(&page, "moved-get", "verdict").await;
    assert!(banner.contains("at the redirect"), "{banner}");
    assert!(!banner.contains("the API ran the request"), "{banner}");
    let explanation = card_text(&page, "moved-get", "explanation").await;
    assert!(
        explanation.contains("never asked the new address (/api/items)"),
        "{explanation}"
    );
    assert!(
        explanation.contains("came from the API’s front")
            && explanation.contains("Call the final address (/api/items) directly"),
        "{explanation}"
    );
    assert!(
        !explanation.contains("CORS_ALLOW_ORIGINS"),
        "no CORS setting fixes it: {explanation}"
    );

    // The PUT: its preflight failed at the 308, and the PUT itself was never sent.
    let (run, requests) = run_card(&page, "moved-put").await;
    let preflights: Vec<_> = requests.iter().filter(|r| r.is_preflight).collect();
    assert_eq!(preflights.len(), 1, "{requests:?}");
    assert!(preflights[0].url.contains("/moved/items/1?"));
    assert!(
        requests.iter().filter(|r| !r.is_preflight).all(|r| r
            .failed
            .as_ref()
            .and_then(|f| f.cors_error.as_deref())
            == Some("PreflightDisallowedRedirect")),
        "{requests:?}"
    );
    let entries = journal(&api, &run).await;
    assert_eq!(
        entries.len(),
        1,
        "the API saw the preflight only: {entries:?}"
    );
    assert_eq!(entries[0]["kind"], "preflight");
    assert_eq!(entries[0]["answered_by"], "front-redirect");
    assert_eq!(entries[0]["decision"]["outcome"], "not-asked");

    let banner = card_text(&page, "moved-put", "verdict").await;
    assert!(
        banner.contains("the actual request was never sent"),
        "{banner}"
    );
    let explanation = card_text(&page, "moved-put", "explanation").await;
    assert!(
        explanation.contains("Call the final address (/api/items/1) directly")
            && explanation.contains("pass OPTIONS through to the API"),
        "{explanation}"
    );
    assert!(!explanation.contains("CORS_ALLOW_"), "{explanation}");
    let diagram = card_text(&page, "moved-put", "diagram").await;
    assert!(diagram.contains("The front’s redirect"), "{diagram}");
    assert!(diagram.contains("Never sent"), "{diagram}");

    close(lab, browser, page).await;
}

#[tokio::test]
async fn a_redirect_within_the_api_keeps_the_origin_and_is_preflighted_again() {
    let (lab, browser, page) = trusted_page().await;
    let api = lab.api_url.replace("localhost", "127.0.0.1");

    // The GET: two hops, both with the page's Origin, and both passed.
    let (run, requests) = run_card(&page, "redirect-same-origin").await;
    let urls: Vec<&str> = requests.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls[0].contains("/api/v1/items?") && urls[1].contains("/api/items?"));
    assert!(requests.iter().all(|r| r.failed.is_none()), "{requests:?}");
    let entries = journal(&api, &run).await;
    let hops: Vec<(&str, &str, u64)> = entries
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap(),
                e["origin"].as_str().unwrap_or("(none)"),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hops,
        [
            ("/api/v1/items", lab.trusted_url.as_str(), 308),
            ("/api/items", lab.trusted_url.as_str(), 200)
        ]
    );

    // The PUT: preflight, PUT (308), a preflight for the new URL, PUT (200) with its body.
    let (run, requests) = run_card(&page, "redirect-preflighted").await;
    let preflights: Vec<&str> = requests
        .iter()
        .filter(|r| r.is_preflight)
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(preflights.len(), 2, "Chromium's preflights: {preflights:?}");
    assert!(preflights[0].contains("/api/v1/items/1?") && preflights[1].contains("/api/items/1?"));
    let entries = journal(&api, &run).await;
    let exchanges: Vec<(&str, &str, u64)> = entries
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        exchanges,
        [
            ("OPTIONS", "/api/v1/items/1", 204),
            ("PUT", "/api/v1/items/1", 308),
            ("OPTIONS", "/api/items/1", 204),
            ("PUT", "/api/items/1", 200)
        ]
    );
    let script = page
        .evaluate_json(
            "document.querySelector('[data-scenario=\"redirect-preflighted\"] [data-field=\"script-result\"]').textContent",
        )
        .await
        .unwrap();
    let script: Value = serde_json::from_str(script.as_str().unwrap()).unwrap();
    assert_eq!(script["value"]["redirected"], true, "{script}");
    assert_eq!(script["value"]["body"]["method"], "PUT", "{script}");
    assert!(
        script["value"]["body"]["body_bytes"].as_u64() > Some(0),
        "the body went along to the new URL: {script}"
    );
    let note = card_text(&page, "redirect-preflighted", "preflight-note").await;
    assert!(note.contains("2 in the journal, 2 expected"), "{note}");
    assert!(note.contains("one preflight per URL"), "{note}");

    close(lab, browser, page).await;
}

/// A front whose redirects carry CORS headers, on its own loopback port: it answers every
/// request to `/from` with a 308 to `/to`, with `Access-Control-Allow-Origin` (the request's
/// origin), `-Methods: PUT` and `-Headers: content-type`, and `/to` with 200. It counts the
/// PUTs that reach it.
async fn front_with_cors_headers() -> (String, Arc<AtomicUsize>) {
    let puts = Arc::new(AtomicUsize::new(0));
    let counted = puts.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let counted = counted.clone();
        async move {
            if method == Method::PUT {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            let origin = headers
                .get(header::ORIGIN)
                .cloned()
                .unwrap_or(HeaderValue::from_static("*"));
            let cors = [
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
                (
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("PUT"),
                ),
                (
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("content-type"),
                ),
            ];
            if uri.path() == "/from" {
                let to = format!("/to?{}", uri.query().unwrap_or_default());
                let mut response = (StatusCode::PERMANENT_REDIRECT, cors).into_response();
                response
                    .headers_mut()
                    .insert(header::LOCATION, HeaderValue::from_str(&to).unwrap());
                response
            } else {
                (StatusCode::OK, cors, "arrived").into_response()
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, puts)
}

/// What the *Redirects* cards and the README say about a front that adds the CORS headers to
/// its redirects: Chromium follows such a redirect for a simple request, and still refuses it
/// for a preflight, whatever headers it carries.
#[tokio::test]
async fn cors_headers_on_a_redirect_let_a_get_through_but_never_a_preflight() {
    let (lab, browser, page) = trusted_page().await;
    let (front, puts) = front_with_cors_headers().await;

    let got = page
        .evaluate_json(&format!(
            "fetch('{front}/from?run=front-get').then(r => r.text(), e => String(e))"
        ))
        .await
        .unwrap();
    assert_eq!(got, "arrived", "the GET followed the redirect");
    let requests = page
        .wait_network_settled("run=front-get", WAIT)
        .await
        .unwrap();
    assert!(requests.iter().all(|r| r.failed.is_none()), "{requests:?}");
    assert!(
        requests.iter().any(|r| r.url.contains("/to?")),
        "{requests:?}"
    );

    let got = page
        .evaluate_json(&format!(
            "fetch('{front}/from?run=front-put', {{ method: 'PUT',
                headers: {{ 'Content-Type': 'application/json' }}, body: '{{}}' }})
              .then(r => 'status ' + r.status, e => String(e))"
        ))
        .await
        .unwrap();
    assert_eq!(got, "TypeError: Failed to fetch");
    let requests = page
        .wait_network_settled("run=front-put", WAIT)
        .await
        .unwrap();
    assert_eq!(
        requests.iter().filter(|r| r.is_preflight).count(),
        1,
        "{requests:?}"
    );
    let error = requests
        .iter()
        .filter(|r| !r.is_preflight)
        .find_map(|r| r.failed.as_ref().and_then(|f| f.cors_error.clone()));
    assert_eq!(error.as_deref(), Some("PreflightDisallowedRedirect"));
    assert_eq!(puts.load(Ordering::SeqCst), 0, "the PUT was never sent");

    close(lab, browser, page).await;
}
