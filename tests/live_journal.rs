//! The page's live journal, in headless Chromium: under a burst, and how it shows a blocked
//! exchange.
//!
//! Under load the API's event stream sends a sample of the newest entries and a `gap` event
//! counting the rest (`api_server::live`); the page must say so and catch up from
//! `GET /_lab/journal`, so that its panel still ends with the newest exchanges, none missing.

use std::time::Duration;

use api_server::cli::PolicyArgs;
use browser_harness::{Browser, LabPage};
use cors_lab::RunningLab;
use futures::StreamExt;
use serde_json::Value;

/// Exchanges in the burst: more than the panel holds, and many write batches of 64.
const BURST: usize = 1000;
/// How many entries the panel keeps (`MAX_ENTRIES` in static/journal.js).
const PANEL: usize = 200;

/// The ids the panel shows, newest first.
const SHOWN_IDS: &str =
    "[...document.querySelectorAll('#journal-list .entry')].map((e) => Number(e.dataset.entryId))";

fn loopback(url: &str) -> String {
    url.replace("localhost", "127.0.0.1")
}

/// The lab on ephemeral ports, and its trusted page in Chromium with the event stream open.
async fn open_trusted_page() -> (RunningLab, Browser, LabPage) {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser
        .new_page(&lab.trusted_url)
        .await
        .expect("the page opens");
    page.wait_for(
        "document.getElementById('journal-status').dataset.status === 'live'",
        Duration::from_secs(20),
    )
    .await
    .expect("the event stream opens");
    (lab, browser, page)
}

#[tokio::test]
async fn the_live_panel_ends_with_the_newest_entries_after_a_burst() {
    let (lab, browser, page) = open_trusted_page().await;

    let api = loopback(&lab.api_url);
    let client = reqwest::Client::new();
    let statuses: Vec<u16> = futures::stream::iter(0..BURST)
        .map(|i| {
            client
                .get(format!("{api}/api/items?run=burst-{i}"))
                .header("origin", &lab.trusted_url)
                .send()
        })
        .buffer_unordered(64)
        .map(|r| r.expect("the API answers").status().as_u16())
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let journal: Vec<Value> = client
        .get(format!("{api}/_lab/journal"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newest: Vec<u64> = journal
        .iter()
        .take(PANEL)
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    let expected = serde_json::to_string(&newest).unwrap();
    let caught_up = page
        .wait_for(
            &format!("JSON.stringify({SHOWN_IDS}) === '{expected}'"),
            Duration::from_secs(20),
        )
        .await;
    let status = page
        .evaluate_json("document.getElementById('journal-status').textContent")
        .await
        .unwrap();
    let shown = page.evaluate_json(SHOWN_IDS).await.unwrap();
    let _ = browser.close().await;
    lab.stop().await.unwrap();

    caught_up.unwrap_or_else(|e| {
        panic!("the panel should show the {PANEL} newest ids {expected}, shows {shown}: {e}")
    });
    // Whether the stream left entries out depends on timing (on this 2-core machine 1,000
    // requests gave 250–380 left out, so the catch-up above is what filled the panel); when it
    // did, the page says how many.
    let status = status.as_str().unwrap_or_default();
    eprintln!("journal status after the burst: {status}");
    assert!(
        status == "live" || (status.starts_with("live (") && status.contains("not streamed")),
        "{status}"
    );
}

/// A blocked exchange's chip names Chromium's error in full, and that long identifier wraps
/// between its words (a `<wbr>` before each inner capital) instead of mid-word in the narrow
/// panel.
#[tokio::test]
async fn a_blocked_chip_names_the_error_and_wraps_between_its_words() {
    let (lab, browser, page) = open_trusted_page().await;

    // A preflight for a header the strict policy does not list, as Chromium would send it.
    let response = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/items?run=wrap-1", loopback(&lab.api_url)),
        )
        .header("origin", &lab.trusted_url)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-other")
        .send()
        .await
        .expect("the API answers");
    assert_eq!(response.status(), 204);

    const CHIP: &str = "document.querySelector('#journal-list .entry .chip--blocked')";
    let shown = page
        .wait_for(&format!("{CHIP} !== null"), Duration::from_secs(20))
        .await;
    let chip = page
        .evaluate_json(&format!(
            "(() => {{ const c = {CHIP}; return c && {{ text: c.textContent, \
             breaks: c.querySelectorAll('wbr').length }}; }})()"
        ))
        .await
        .unwrap();
    let _ = browser.close().await;
    lab.stop().await.unwrap();

    shown.unwrap_or_else(|e| panic!("the panel should show a blocked chip: {e}"));
    assert_eq!(
        chip["text"], "omit: ✗ blocked (HeaderDisallowedByPreflightResponse)",
        "{chip}"
    );
    // Header·Disallowed·By·Preflight·Response
    assert_eq!(chip["breaks"], 4, "{chip}");
}

/// The page loads the journal when its event stream opens. An answer that left the API before
/// an exchange the stream then shows is older than the panel, not a sign that the API
/// restarted: the streamed entry stays. (The panel once took it for a restart and emptied
/// itself.) DevTools holds the journal's answers until the streamed entry is on the page.
#[tokio::test]
async fn a_journal_answer_older_than_the_stream_keeps_the_streamed_entries() {
    use browser_harness::chromiumoxide::cdp::browser_protocol::fetch::{
        ContinueResponseParams, EnableParams, EventRequestPaused, RequestPattern, RequestStage,
    };

    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser.new_page("about:blank").await.expect("a tab opens");
    let cdp = page.cdp_page().clone();
    let mut paused = cdp.event_listener::<EventRequestPaused>().await.unwrap();
    cdp.execute(EnableParams {
        patterns: Some(vec![RequestPattern {
            url_pattern: Some("*/_lab/journal".into()),
            resource_type: None,
            request_stage: Some(RequestStage::Response),
        }]),
        handle_auth_requests: None,
    })
    .await
    .unwrap();
    // Answers held at the response stage: the API has answered them, the page has not seen them.
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let holder = {
        let held = held.clone();
        tokio::spawn(async move {
            while let Some(event) = paused.next().await {
                held.lock().unwrap().push(event.request_id.clone());
            }
        })
    };
    page.goto(&lab.trusted_url).await.expect("the page opens");
    page.wait_for(
        "document.getElementById('journal-status').dataset.status === 'live'",
        Duration::from_secs(20),
    )
    .await
    .expect("the event stream opens");
    // Every journal request the page made so far has been answered (and held).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let asked = page.requests_matching("/_lab/journal").len();
        if asked > 0 && held.lock().unwrap().len() == asked {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "journal requests: {asked}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // An exchange after those answers: the stream shows it at once.
    let response = reqwest::Client::new()
        .get(format!("{}/api/items?run=older-1", loopback(&lab.api_url)))
        .header("origin", &lab.trusted_url)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(response.status(), 200);
    const STREAMED: &str =
        "[...document.querySelectorAll('#journal-list .entry')].some((e) => e.textContent.includes('older-1'))";
    let streamed = page.wait_for(STREAMED, Duration::from_secs(20)).await;

    // Now the page gets the older answers, and has a moment to read them.
    let ids: Vec<_> = held.lock().unwrap().drain(..).collect();
    for id in ids {
        cdp.execute(ContinueResponseParams::new(id)).await.unwrap();
    }
    let settled = page
        .wait_network_settled("/_lab/journal", Duration::from_secs(20))
        .await;
    page.evaluate_json("new Promise((done) => setTimeout(() => done(true), 300))")
        .await
        .unwrap();
    let kept = page.evaluate_json(STREAMED).await.unwrap();
    let count = page
        .evaluate_json("document.getElementById('journal-count').textContent")
        .await
        .unwrap();
    holder.abort();
    let _ = browser.close().await;
    lab.stop().await.unwrap();

    streamed.unwrap_or_else(|e| panic!("the stream should show the exchange: {e}"));
    settled.unwrap_or_else(|e| panic!("the held journal answers should arrive: {e}"));
    assert_eq!(
        kept, true,
        "the streamed entry should still be shown (the panel's count: {count})"
    );
}
