//! The page's live panels, fed by the API's event stream, in headless Chromium: the journal
//! under a burst, how it shows a blocked exchange, both the journal and the policy panel when
//! an answer of the API arrives after a newer event, and both when the API restarts while the
//! page stays open.
//!
//! Under load the API's event stream sends a sample of the newest entries and a `gap` event
//! counting the rest (`api_server::live`); the page must say so and catch up from
//! `GET /_lab/journal`, so that its panel still ends with the newest exchanges, none missing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api_server::cli::PolicyArgs;
use browser_harness::chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, ContinueResponseParams, EnableParams, EventRequestPaused, RequestId,
    RequestPattern, RequestStage,
};
use browser_harness::chromiumoxide::listeners::EventStream;
use browser_harness::chromiumoxide::Page;
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

/// The lab on ephemeral ports, and its trusted page in Chromium (see [`open_live_page`]).
async fn open_trusted_page(
    hold: Option<&str>,
) -> (RunningLab, Browser, LabPage, Option<HeldAnswers>) {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let (browser, page, held) = open_live_page(&lab.trusted_url, hold).await;
    (lab, browser, page, held)
}

/// A lab page at `url` in Chromium, with its event stream open. With `hold`, the API's answers
/// to that route (a path) are held from before the page loads, and every one the page asked
/// for by then has arrived at DevTools.
async fn open_live_page(url: &str, hold: Option<&str>) -> (Browser, LabPage, Option<HeldAnswers>) {
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser.new_page("about:blank").await.expect("a tab opens");
    let held = match hold {
        Some(route) => Some(HeldAnswers::start(&page, route).await),
        None => None,
    };
    page.goto(url).await.expect("the page opens");
    page.wait_for(
        "document.getElementById('journal-status').dataset.status === 'live'",
        Duration::from_secs(20),
    )
    .await
    .expect("the event stream opens");
    if let Some(held) = &held {
        held.wait_all(&page).await;
    }
    (browser, page, held)
}

#[tokio::test]
async fn the_live_panel_ends_with_the_newest_entries_after_a_burst() {
    let (lab, browser, page, _) = open_trusted_page(None).await;

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
    let (lab, browser, page, _) = open_trusted_page(None).await;

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

/// From now on DevTools pauses the page's requests to `route` (a path) at `stage`, and says
/// which in the events.
async fn pause_route(
    page: &LabPage,
    route: &str,
    stage: RequestStage,
) -> (Page, EventStream<EventRequestPaused>) {
    let cdp = page.cdp_page().clone();
    let paused = cdp.event_listener::<EventRequestPaused>().await.unwrap();
    cdp.execute(EnableParams {
        patterns: Some(vec![RequestPattern {
            url_pattern: Some(format!("*{route}")),
            resource_type: None,
            request_stage: Some(stage),
        }]),
        handle_auth_requests: None,
    })
    .await
    .unwrap();
    (cdp, paused)
}

/// The API's answers to one route, held by DevTools (`Fetch`, response stage) where the page
/// cannot see them yet: the API has answered, the page's `fetch` is still waiting.
struct HeldAnswers {
    route: String,
    cdp: Page,
    held: Arc<Mutex<Vec<RequestId>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HeldAnswers {
    /// Holds the answers to `route` (a path) from now on; call before the page loads.
    async fn start(page: &LabPage, route: &str) -> HeldAnswers {
        let (cdp, mut paused) = pause_route(page, route, RequestStage::Response).await;
        let held = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let held = held.clone();
            async move {
                while let Some(event) = paused.next().await {
                    held.lock().unwrap().push(event.request_id.clone());
                }
            }
        });
        HeldAnswers {
            route: route.to_string(),
            cdp,
            held,
            task,
        }
    }

    /// Waits until every request to the route the page has made is answered and held.
    async fn wait_all(&self, page: &LabPage) {
        let route = self.route.as_str();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let asked = page.requests_matching(route).len();
            let held = self.held.lock().unwrap().len();
            if asked > 0 && held == asked {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{route}: {asked} asked, {held} held"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Lets the page have the held answers, and waits until it has read them.
    async fn release(self, page: &LabPage) {
        self.task.abort();
        let ids: Vec<RequestId> = self.held.lock().unwrap().drain(..).collect();
        for id in ids {
            self.cdp
                .execute(ContinueResponseParams::new(id))
                .await
                .unwrap();
        }
        page.wait_network_settled(&self.route, Duration::from_secs(20))
            .await
            .unwrap_or_else(|e| panic!("the held answers should arrive: {e}"));
        // The page's script reads the body after the network is done with it.
        page.evaluate_json("new Promise((done) => setTimeout(() => done(true), 300))")
            .await
            .unwrap();
    }
}

/// The page loads the journal when its event stream opens. An answer that left the API before
/// an exchange the stream then shows is older than the panel, not a sign that the API
/// restarted: the streamed entry stays. (The panel once took it for a restart and emptied
/// itself.)
#[tokio::test]
async fn a_journal_answer_older_than_the_stream_keeps_the_streamed_entries() {
    let (lab, browser, page, held) = open_trusted_page(Some("/_lab/journal")).await;
    let held = held.expect("answers held");

    // An exchange after those answers: the stream shows it at once.
    let response = reqwest::Client::new()
        .get(format!("{}/api/items?run=older-1", loopback(&lab.api_url)))
        .header("origin", &lab.trusted_url)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(response.status(), 200);
    const STREAMED: &str = "[...document.querySelectorAll('#journal-list .entry')]\
        .some((e) => e.textContent.includes('older-1'))";
    let streamed = page.wait_for(STREAMED, Duration::from_secs(20)).await;

    held.release(&page).await;
    let kept = page.evaluate_json(STREAMED).await.unwrap();
    let count = page
        .evaluate_json("document.getElementById('journal-count').textContent")
        .await
        .unwrap();
    let _ = browser.close().await;
    lab.stop().await.unwrap();

    streamed.unwrap_or_else(|e| panic!("the stream should show the exchange: {e}"));
    assert_eq!(
        kept, true,
        "the streamed entry should still be shown (the panel's count: {count})"
    );
}

/// The page loads the policy when it opens, and hears of a switch on the event stream. An
/// answer that left the API before the switch must not put the old policy back on the page.
#[tokio::test]
async fn a_policy_answer_older_than_a_switch_does_not_undo_it() {
    let (lab, browser, page, held) = open_trusted_page(Some("/_lab/policy")).await;
    let held = held.expect("answers held");

    // Another page switches the policy (as the trusted page does, with the secret).
    let response = reqwest::Client::new()
        .post(format!("{}/_lab/switch", loopback(&lab.api_url)))
        .header("origin", &lab.trusted_url)
        .header("x-lab-secret", &lab.lab_secret)
        .json(&serde_json::json!({ "variables": { "CORS_PRESET": "permissive" } }))
        .send()
        .await
        .expect("the API answers");
    assert_eq!(response.status(), 200);
    const PRESET: &str = "document.getElementById('policy-preset').textContent";
    let switched = page
        .wait_for(
            &format!("{PRESET} === 'permissive'"),
            Duration::from_secs(20),
        )
        .await;

    held.release(&page).await;
    let shown = page.evaluate_json(PRESET).await.unwrap();
    let _ = browser.close().await;
    lab.stop().await.unwrap();

    switched.unwrap_or_else(|e| panic!("the stream should bring the switch: {e}"));
    assert_eq!(
        shown, "permissive",
        "the page should keep the switched policy"
    );
}

/// The trusted page's server alone, in a lab whose API the test starts and stops itself, each
/// run of it on the same port ([`SplitLab::start_api`]).
struct SplitLab {
    config: cors_lab::LabConfig,
    api_addr: std::net::SocketAddr,
    stop: tokio_util::sync::CancellationToken,
    page_server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SplitLab {
    /// The page server runs; nothing listens on the API's port yet.
    async fn start() -> SplitLab {
        let (listeners, config) = cors_lab::bind_ephemeral(PolicyArgs::default())
            .await
            .unwrap();
        let api_addr = listeners.api.local_addr().unwrap();
        drop(listeners.api);
        let stop = tokio_util::sync::CancellationToken::new();
        let page_server = tokio::spawn(origin_server::run(
            listeners.trusted,
            config.trusted.clone(),
            stop.clone().cancelled_owned(),
        ));
        SplitLab {
            config,
            api_addr,
            stop,
            page_server,
        }
    }

    /// A new run of the API on its port, configured as the page expects.
    async fn start_api(&self) -> ApiRun {
        self.start_api_with(self.config.api.clone()).await
    }

    async fn start_api_with(&self, config: api_server::ApiConfig) -> ApiRun {
        let listener = tokio::net::TcpListener::bind(self.api_addr).await.unwrap();
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(api_server::run(
            listener,
            config,
            stop.clone().cancelled_owned(),
        ));
        ApiRun { stop, task }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.page_server.await.unwrap().unwrap();
    }
}

/// One run of the API, stopped on its own.
struct ApiRun {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ApiRun {
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// The README switches the policy by restarting the lab (`CORS_PRESET=… cargo run`), and the
/// page may stay open meanwhile. A new run of the API numbers its journal from 1 again, so an
/// id the panel shows can be another run's. The panel must then show the new run's entries
/// only, even when the new run has recorded as many as the panel showed before the page hears
/// of it. (It once kept the old run's entries in place of the new ones with the same ids.)
#[tokio::test]
async fn after_the_api_restarts_the_panel_shows_the_new_runs_entries_only() {
    let lab = SplitLab::start().await;
    let config = &lab.config;
    let first = lab.start_api().await;
    let (trusted_url, api) = (
        config.trusted.trusted_url.clone(),
        loopback(&config.api.public_url),
    );

    let (browser, page, _) = open_live_page(&trusted_url, None).await;
    let client = reqwest::Client::new();
    let exchange = |run: String| {
        let request = client
            .get(format!("{api}/api/items?run={run}"))
            .header("origin", &trusted_url);
        async move {
            let response = request.send().await.expect("the API answers");
            assert_eq!(response.status(), 200);
        }
    };
    const SHOWN_RUNS: &str =
        "JSON.stringify([...document.querySelectorAll('#journal-list .entry')]\
        .map((e) => e.dataset.run))";
    for i in 1..=2 {
        exchange(format!("first-{i}")).await;
    }
    page.wait_for(
        &format!("{SHOWN_RUNS} === '[\"first-2\",\"first-1\"]'"),
        Duration::from_secs(20),
    )
    .await
    .expect("the panel shows the first run's exchanges");

    // The page's journal requests wait in DevTools until the new run has recorded more
    // exchanges than the panel shows: the order in which a slow page would hear of them.
    let held = HeldRequests::start(&page, "/_lab/journal").await;
    first.stop().await;
    let second = lab.start_api().await;
    held.wait_for_one().await;
    for i in 1..=3 {
        exchange(format!("second-{i}")).await;
    }
    held.release().await;

    let expected = r#"["second-3","second-2","second-1"]"#;
    let caught_up = page
        .wait_for(
            &format!("{SHOWN_RUNS} === '{expected}'"),
            Duration::from_secs(20),
        )
        .await;
    let shown = page.evaluate_json(SHOWN_RUNS).await.unwrap();
    let updated = page
        .evaluate_json("document.getElementById('policy-updated').textContent")
        .await
        .unwrap();
    let _ = browser.close().await;
    second.stop().await;
    lab.stop().await;

    caught_up.unwrap_or_else(|e| {
        panic!("after the restart the panel should show {expected}, shows {shown}: {e}")
    });
    // The policy panel tells a restart from a switch.
    let updated = updated.as_str().unwrap_or_default();
    assert!(
        updated.starts_with("The API restarted at ") && updated.ends_with(", with preset strict."),
        "{updated}"
    );
}

/// The page's requests to one route, held by DevTools (`Fetch`, request stage) before they
/// reach the server; once released, later ones go through at once.
struct HeldRequests {
    cdp: Page,
    state: Arc<Mutex<(bool, Vec<RequestId>)>>,
}

impl HeldRequests {
    async fn start(page: &LabPage, route: &str) -> HeldRequests {
        let (cdp, mut paused) = pause_route(page, route, RequestStage::Request).await;
        // (released, held): after the release, a request is let go as soon as it is seen.
        let state = Arc::new(Mutex::new((false, Vec::new())));
        tokio::spawn({
            let (cdp, state) = (cdp.clone(), state.clone());
            async move {
                while let Some(event) = paused.next().await {
                    let go = {
                        let mut s = state.lock().unwrap();
                        if !s.0 {
                            s.1.push(event.request_id.clone());
                        }
                        s.0
                    };
                    if go {
                        let _ = cdp
                            .execute(ContinueRequestParams::new(event.request_id.clone()))
                            .await;
                    }
                }
            }
        });
        HeldRequests { cdp, state }
    }

    async fn wait_for_one(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.state.lock().unwrap().1.is_empty() {
            assert!(Instant::now() < deadline, "the page asked for nothing");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn release(&self) {
        let ids = {
            let mut s = self.state.lock().unwrap();
            s.0 = true;
            std::mem::take(&mut s.1)
        };
        for id in ids {
            self.cdp
                .execute(ContinueRequestParams::new(id))
                .await
                .unwrap();
        }
    }
}

/// A page opened while the API is not running (only the page server started, or the API
/// still starting) says so, and catches up by itself once the API runs: the policy panel fills
/// in from the event stream's opening event and the journal goes live.
#[tokio::test]
async fn a_page_opened_before_the_api_catches_up_when_it_starts() {
    // Nothing listens on the API's port until the API starts below.
    let lab = SplitLab::start().await;

    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser
        .new_page(&lab.config.trusted.trusted_url)
        .await
        .expect("the page opens");
    const PRESET: &str = "document.getElementById('policy-preset').textContent";
    let unavailable = page
        .wait_for(&format!("{PRESET} === 'unknown'"), Duration::from_secs(20))
        .await;

    let api = lab.start_api().await;
    let caught_up = page
        .wait_for(
            &format!(
                "{PRESET} === 'strict' && \
                 document.getElementById('journal-status').dataset.status === 'live'"
            ),
            Duration::from_secs(20),
        )
        .await;
    let shown = page
        .evaluate_json(&format!(
            "[{PRESET}, document.getElementById('journal-status').textContent]"
        ))
        .await
        .unwrap();
    let _ = browser.close().await;
    api.stop().await;
    lab.stop().await;

    unavailable.unwrap_or_else(|e| panic!("the page should say the API is not there: {e}"));
    caught_up.unwrap_or_else(|e| {
        panic!("once the API runs, the page should show its policy and go live; shows {shown}: {e}")
    });
}

/// `cargo run` makes a new secret at each start, and a page left open keeps the one it was
/// rendered with: after such a restart its switch is refused, and the page says to reload it.
#[tokio::test]
async fn after_a_restart_with_a_new_secret_a_refused_switch_says_to_reload_the_page() {
    let lab = SplitLab::start().await;
    let first = lab.start_api().await;
    let (browser, page, _) = open_live_page(&lab.config.trusted.trusted_url, None).await;
    const SWITCH: &str = "[data-switch-preset='permissive']";
    page.wait_for(
        &format!("document.querySelector(\"{SWITCH}\") !== null"),
        Duration::from_secs(20),
    )
    .await
    .expect("the page can switch the policy");

    first.stop().await;
    let second = lab
        .start_api_with(api_server::ApiConfig {
            lab_secret: Some("another run's secret".into()),
            ..lab.config.api.clone()
        })
        .await;
    page.wait_for(
        "document.getElementById('policy-updated').textContent.startsWith('The API restarted at ')",
        Duration::from_secs(20),
    )
    .await
    .expect("the page notices the restart");
    page.click(SWITCH).await.expect("the switch button");
    const MESSAGE: &str = "document.querySelector('.switch__message').textContent";
    let refused = page
        .wait_for(
            &format!("{MESSAGE}.includes('(403)')"),
            Duration::from_secs(20),
        )
        .await;
    let message = page.evaluate_json(MESSAGE).await.unwrap();
    let policy: Value = reqwest::get(format!(
        "{}/_lab/policy",
        loopback(&lab.config.api.public_url)
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let _ = browser.close().await;
    second.stop().await;
    lab.stop().await;

    refused
        .unwrap_or_else(|e| panic!("the switch should be refused; the page says {message}: {e}"));
    let message = message.as_str().unwrap_or_default();
    assert!(
        message.contains("missing or wrong X-Lab-Secret")
            && message.ends_with("reload this page to switch again."),
        "{message}"
    );
    assert_eq!(policy["preset"], "strict", "the policy did not change");
}
