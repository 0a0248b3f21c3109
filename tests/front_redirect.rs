//! A redirect in front of the API's CORS layer, against a real headless Chromium.
//!
//! The cards of `moved-get` and `moved-put` claim more than the catalogue test checks (the
//! outcome, the preflight count and the console's words): that Chromium stopped at the front's
//! 308 and never asked the address it points to, that a preflighted PUT was never sent, and
//! that the fix is at the front or in the page's URL, not in a `CORS_*` setting. Here both
//! cards run from the trusted page under `strict`, the policy that allows that page, and each
//! claim is held to Chromium's DevTools report and to the journal.

use std::time::Duration;

use api_server::cli::PolicyArgs;
use browser_harness::{read_card, Browser, LabPage};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

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

async fn journal(api_url: &str, run: &str) -> Vec<Value> {
    reqwest::get(format!("{api_url}/_lab/journal?run={run}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn chromium_stops_at_the_fronts_redirect_and_the_card_says_where_the_fix_is() {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let api = lab.api_url.replace("localhost", "127.0.0.1");
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser
        .open_lab_page(&format!("{}/", lab.trusted_url), WAIT)
        .await
        .expect("the page opens and is ready");

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

    let _ = page.close().await;
    let _ = browser.close().await;
    lab.stop().await.unwrap();
}
