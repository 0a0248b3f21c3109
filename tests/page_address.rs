//! The lab page opened at another address than the lab serves it as, in headless Chromium.
//!
//! The launcher prints `http://localhost:8080` for the trusted page and says it listens on
//! `127.0.0.1:8080`; opened at the second, the page is another origin (the host differs), and
//! the strict policy, which allows `http://localhost:8080`, refuses it. The page must say so
//! at once, and its verdicts and fixes must be about the origin script really has.

use std::time::Duration;

use api_server::cli::PolicyArgs;
use browser_harness::{read_card, Browser};

#[tokio::test]
async fn the_trusted_page_opened_at_its_listening_address_says_it_is_another_origin() {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let served_as = lab.trusted_url.clone();
    let opened_at = served_as.replace("localhost", "127.0.0.1");
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser
        .new_page(&format!("{opened_at}/"))
        .await
        .expect("the page opens");
    const NOTE: &str = "document.getElementById('role-note')";
    let noted = page
        .wait_for(
            &format!("{NOTE}.classList.contains('role-note--warn')"),
            Duration::from_secs(20),
        )
        .await;
    let note = page
        .evaluate_json(&format!(
            "({{ text: {NOTE}.textContent, link: {NOTE}.querySelector('a')?.href, \
             header: document.getElementById('page-role').textContent + ' ' \
               + document.getElementById('page-origin').textContent }})"
        ))
        .await
        .unwrap();

    // A run from here is refused as the origin it really is, and the fix says where to go.
    page.wait_for(
        "document.querySelector('[data-run=\"get-simple\"]') !== null",
        Duration::from_secs(20),
    )
    .await
    .expect("the scenario cards are shown");
    page.click("[data-run=\"get-simple\"]")
        .await
        .expect("the Run button");
    let done = page
        .wait_for(
            "document.querySelector('[data-scenario=\"get-simple\"]').dataset.state === 'done'",
            Duration::from_secs(20),
        )
        .await;
    let card = read_card(&page, "get-simple").await.unwrap();
    let fix = page
        .evaluate_json(
            "document.querySelector('[data-scenario=\"get-simple\"] .fix')?.textContent ?? ''",
        )
        .await
        .unwrap();
    let console = page.console_matching("blocked by CORS policy");

    // A switch from here: its preflight is refused (the switch allows the trusted origin
    // only), and the page says why rather than asking whether the API runs.
    page.click("[data-switch-preset='permissive']")
        .await
        .expect("the switch button");
    const MESSAGE: &str = "document.querySelector('.switch__message').textContent";
    let refused = page
        .wait_for(
            &format!("{MESSAGE}.includes('failed')"),
            Duration::from_secs(20),
        )
        .await;
    let message = page.evaluate_json(MESSAGE).await.unwrap();
    let switch_console = page.console_matching("/_lab/switch");
    let _ = browser.close().await;
    lab.stop().await.unwrap();

    noted.unwrap_or_else(|e| panic!("the page should warn that it is another origin: {note}: {e}"));
    let text = note["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!(
            "This page is open at {opened_at}, not at {served_as}, where the lab serves the trusted page."
        )) && text.contains("the host differs: 127.0.0.1 is not localhost")
            && text.contains(&format!("Origin: {opened_at}")),
        "{text}"
    );
    assert_eq!(note["link"], format!("{served_as}/"), "{note}");
    assert_eq!(
        note["header"],
        format!("another origin {opened_at}"),
        "{note}"
    );

    done.unwrap_or_else(|e| panic!("the run should end: {e}"));
    assert_eq!(card.outcome.as_deref(), Some("blocked"), "{card:?}");
    assert_eq!(card.cors_error, "MissingAllowOriginHeader", "{card:?}");
    // Chromium names the origin script really has; the card's reason is in its message.
    assert!(
        console
            .iter()
            .any(|c| c.text.contains(&format!("from origin '{opened_at}'"))
                && c.text.contains(&card.reason)),
        "console: {console:?}, reason: {}",
        card.reason
    );
    let fix = fix.as_str().unwrap_or_default();
    assert!(fix.contains(&format!("Open {served_as}/ instead")), "{fix}");
    refused.unwrap_or_else(|e| panic!("the switch should fail; the page says {message}: {e}"));
    let message = message.as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "Its preflight was refused: only {served_as} may switch the policy, and this page is open at {opened_at}."
        )),
        "{message}"
    );
    assert!(
        switch_console.iter().any(|c| c
            .text
            .contains("Response to preflight request doesn't pass access control check")),
        "Chromium should say the switch's preflight failed: {switch_console:?}"
    );
}
