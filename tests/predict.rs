//! “Predict first”, against a real headless Chromium.
//!
//! The page claims to score a learner's predictions — does a preflight go first, and does
//! Chromium let the request pass, block it, or never send it — against what the run found. Here
//! the page opens with `#predict=on`, the cards' own answers must be hidden, and three cards are
//! predicted, some rightly and some wrongly, then run. Each card's score and the section's tally
//! must be what Chromium itself reported over the DevTools protocol for that run: the
//! preflights it sent and the `CorsError` it failed the request with. After a run the card's
//! answers show, the mode is remembered by the next page, and switching it off hides the
//! questions.

use std::time::Duration;

use api_server::cli::PolicyArgs;
use browser_harness::{read_card, Browser, LabPage};

const WAIT: Duration = Duration::from_secs(20);

/// Whether the first element matching `selector` inside the card of `id` is displayed.
async fn shown(page: &LabPage, id: &str, selector: &str) -> bool {
    page.evaluate_json(&format!(
        "(() => {{ const e = document.querySelector('[data-scenario=\"{id}\"] {selector}'); \
           return !!e && e.getClientRects().length > 0; }})()"
    ))
    .await
    .unwrap()
    .as_bool()
    .unwrap()
}

/// Picks `preflight` and `outcome` on the card of `id` (`None`: left unanswered).
async fn predict(page: &LabPage, id: &str, preflight: Option<&str>, outcome: Option<&str>) {
    for (question, value) in [("preflight", preflight), ("outcome", outcome)] {
        if let Some(value) = value {
            page.click(&format!(
                "input[name=\"predict-{id}-{question}\"][value=\"{value}\"]"
            ))
            .await
            .unwrap_or_else(|e| panic!("{id}: {question} {value}: {e}"));
        }
    }
}

/// Runs the card of `id`; returns (preflights Chromium sent, Chromium's outcome) for the run.
async fn run(page: &LabPage, id: &str) -> (usize, String) {
    page.click(&format!("[data-run=\"{id}\"]"))
        .await
        .expect("the Run button");
    page.wait_for(
        &format!("document.querySelector('[data-scenario=\"{id}\"]').dataset.state === 'done'"),
        WAIT,
    )
    .await
    .unwrap_or_else(|e| panic!("{id} should end: {e}"));
    let card = read_card(page, id).await.unwrap();
    let requests = page
        .wait_network_settled(&format!("run={}", card.run_id), WAIT)
        .await
        .unwrap();
    let preflights = requests.iter().filter(|r| r.is_preflight).count();
    let outcome = requests
        .iter()
        .filter(|r| !r.is_preflight)
        .find_map(|r| r.failed.as_ref().and_then(|f| f.cors_error.clone()))
        .map_or("pass".to_string(), |_| "blocked".to_string());
    (preflights, outcome)
}

/// The card's score: (right, asked), `None` when it shows none.
async fn score(page: &LabPage, id: &str) -> Option<(u64, u64)> {
    let s = page
        .evaluate_json(&format!(
            "(() => {{ const d = document.querySelector('[data-scenario=\"{id}\"] .predict__score').dataset; \
               return d.asked ? [Number(d.right), Number(d.asked)] : null; }})()"
        ))
        .await
        .unwrap();
    s.as_array()
        .map(|a| (a[0].as_u64().unwrap(), a[1].as_u64().unwrap()))
}

#[tokio::test]
async fn predictions_are_scored_against_what_chromium_did() {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser
        .open_lab_page(&format!("{}/#predict=on", lab.trusted_url), WAIT)
        .await
        .expect("the page opens and is ready");
    let mode = page
        .evaluate_json("document.body.dataset.predict")
        .await
        .unwrap();
    let mut hidden_before = true;
    for spoiler in [".scenario__teaches", ".scenario__preflight", "details.curl"] {
        hidden_before &= !shown(&page, "unlisted-header", spoiler).await;
    }
    let asks = shown(&page, "unlisted-header", ".predict").await;

    // Under strict, from the trusted page: a simple GET passes without a preflight; a custom
    // header the policy does not list gets a preflight, which fails.
    let cases: [(&str, Option<&str>, Option<&str>); 3] = [
        ("get-simple", Some("no"), Some("pass")),
        ("unlisted-header", Some("no"), Some("pass")),
        ("put-item", Some("yes"), None),
    ];
    let mut expected_tally = (0, 0);
    let mut seen = Vec::new();
    for (id, preflight, outcome) in cases {
        predict(&page, id, preflight, outcome).await;
        let (preflights, chromium) = run(&page, id).await;
        let truth_preflight = if preflights > 0 { "yes" } else { "no" };
        let asked = [preflight, outcome].iter().flatten().count() as u64;
        let right = u64::from(preflight == Some(truth_preflight))
            + u64::from(outcome == Some(chromium.as_str()));
        expected_tally = (expected_tally.0 + right, expected_tally.1 + asked);
        let card_score = score(&page, id).await;
        let revealed = shown(&page, id, ".scenario__preflight").await;
        seen.push((id, preflights, chromium.clone(), card_score));
        assert_eq!(
            card_score,
            Some((right, asked)),
            "{id}: Chromium sent {preflights} preflight(s) and the request {chromium}; \
             predicted {preflight:?} / {outcome:?}"
        );
        assert!(revealed, "{id}: after its run the card's answers show");
    }
    let tally = page
        .evaluate_json(
            "(() => { const d = document.getElementById('predict-tally').dataset; \
               return [Number(d.right), Number(d.asked)]; })()",
        )
        .await
        .unwrap();

    // Remembered by the next page of this browser; switched off, the questions go.
    let _ = page.close().await;
    let next = browser
        .open_lab_page(&format!("{}/", lab.trusted_url), WAIT)
        .await
        .unwrap();
    let remembered = next
        .evaluate_json("document.body.dataset.predict")
        .await
        .unwrap();
    next.click("#predict-mode").await.unwrap();
    let off = next
        .evaluate_json("document.body.dataset.predict")
        .await
        .unwrap();
    let asks_when_off = shown(&next, "get-simple", ".predict").await;
    let answers_when_off = shown(&next, "get-simple", ".scenario__preflight").await;
    let _ = next.close().await;
    let _ = browser.close().await;
    lab.stop().await.unwrap();

    eprintln!("runs: {seen:?}");
    assert_eq!(mode, "on", "#predict=on turns it on");
    assert!(
        hidden_before,
        "the card's answers are hidden before its run"
    );
    assert!(asks, "the card asks");
    // The three runs give both kinds of outcome and of preflight, so right and wrong are scored.
    assert!(seen.iter().any(|s| s.1 == 0) && seen.iter().any(|s| s.1 > 0));
    assert!(seen.iter().any(|s| s.2 == "pass") && seen.iter().any(|s| s.2 == "blocked"));
    assert!(expected_tally.0 < expected_tally.1 && expected_tally.0 > 0);
    assert_eq!(
        tally,
        serde_json::json!([expected_tally.0, expected_tally.1]),
        "the tally sums the cards"
    );
    assert_eq!(remembered, "on", "the mode is remembered");
    assert_eq!(off, "off");
    assert!(
        !asks_when_off && answers_when_off,
        "off: no questions, answers shown"
    );
}
