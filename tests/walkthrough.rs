//! “Try a request against the policy”, against a real headless Chromium.
//!
//! The page walks a request through the API's policy on paper and claims what Chromium will do:
//! whether a preflight goes first, the `Access-Control-Request-Headers` it carries, and whether
//! script may read the answer (or which `CorsError` blocks it, or that `fetch()` throws). Here
//! each claim is held to Chromium: the page's own “Send it for real” runs the same `fetch()`,
//! and the test reads what Chromium did over the DevTools protocol (the preflight it sent, the
//! `corsError` of a failed request) and what reached the API from the journal.
//!
//! The requests cover each rule of the model: the method (safelisted, normalized, `patch`,
//! forbidden), safelisted header names with values the safelist allows and refuses (a form type
//! and JSON, a quote in a `content-type`, a language tag, a simple and a suffix `range`, an
//! `accept` over 128 bytes, alone or as two values combined), a forbidden header dropped, the sorted lower-case request header
//! list, and credentials with `*`. They run under `strict` and `permissive`, from the trusted
//! and the untrusted page.

use std::time::Duration;

use api_server::cli::PolicyArgs;
use browser_harness::{Browser, LabPage};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// A request as the learner writes it in the form.
struct Case {
    method: &'static str,
    headers: String,
    credentials: bool,
}

fn case(method: &'static str, headers: &str, credentials: bool) -> Case {
    Case {
        method,
        headers: headers.to_string(),
        credentials,
    }
}

/// What the page said before sending, and what Chromium and the API then saw.
#[derive(Debug)]
struct Observed {
    predicted: Value,
    real: Value,
    /// DevTools: a preflight was sent for the request.
    preflight_sent: bool,
    /// DevTools: `corsError` of the request's failure, `""` when it loaded.
    cors_error: Option<String>,
    /// DevTools saw any request of the send at all.
    sent_anything: bool,
    /// The journal: `Access-Control-Request-Headers` of the preflight that arrived.
    journal_request_headers: Option<String>,
    /// The request's URL, as Chromium sent it.
    url: String,
    /// Chromium's console line for the request, when it blocked it.
    console_line: Option<String>,
}

/// Fills the form with `c` from `origin`, walks it, and returns the result's dataset.
async fn walk(page: &LabPage, origin: &str, c: &Case) -> Value {
    page.evaluate_json(&format!(
        "document.getElementById('walk-origin').value = {}; \
         document.getElementById('walk-method').value = {}; \
         document.getElementById('walk-headers').value = {}; \
         document.getElementById('walk-credentials').checked = {}; \
         document.getElementById('walk-result').dataset.state = ''; true",
        serde_json::to_string(origin).unwrap(),
        serde_json::to_string(c.method).unwrap(),
        serde_json::to_string(&c.headers).unwrap(),
        c.credentials,
    ))
    .await
    .unwrap();
    page.click("#walk-submit").await.expect("the Walk button");
    shown_walk(page, "the walk is shown").await
}

/// The walk the page shows, once it is shown: its article's dataset, text and console line.
async fn shown_walk(page: &LabPage, what: &str) -> Value {
    page.wait_for(
        "document.getElementById('walk-result').dataset.state === 'done'",
        WAIT,
    )
    .await
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    page.evaluate_json(
        "(() => { const a = document.querySelector('#walk-result article'); \
         return a ? { ...a.dataset, text: a.textContent, \
         console: a.querySelector('.walk__console')?.textContent ?? null } : \
         { problem: document.getElementById('walk-result').textContent }; })()",
    )
    .await
    .unwrap()
}

/// Walks `c` from the page's own origin, sends it for real, and gathers what happened.
async fn walk_and_send(page: &LabPage, origin: &str, api: &str, c: &Case) -> Observed {
    let predicted = walk(page, origin, c).await;
    assert_eq!(predicted["sendable"], "yes", "{predicted}");
    page.click("#walk-send").await.expect("the Send button");
    page.wait_for(
        "document.getElementById('walk-real')?.dataset.state === 'done'",
        WAIT,
    )
    .await
    .expect("the real send ends");
    let real = page
        .evaluate_json(
            "(() => { const b = document.getElementById('walk-real'); \
             return { ...b.dataset, text: b.textContent }; })()",
        )
        .await
        .unwrap();
    let run = real["runId"]
        .as_str()
        .expect("the send's run id")
        .to_string();

    // What Chromium did, over DevTools: the send's requests carry its run id in the URL.
    let deadline = std::time::Instant::now() + WAIT;
    let (preflight_sent, cors_error, sent_anything, url) = loop {
        let requests = page.requests_matching(&format!("run={run}"));
        let actual = requests.iter().find(|r| !r.is_preflight);
        let preflight = requests.iter().any(|r| r.is_preflight);
        match actual {
            Some(a) if a.is_settled() => {
                let error = a
                    .failed
                    .as_ref()
                    .map(|f| f.cors_error.clone().unwrap_or_default());
                break (preflight, error, true, a.url.clone());
            }
            None if predicted["throws"] == "yes" => {
                break (false, None, !requests.is_empty(), String::new())
            }
            _ => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{run}: no settled request in {requests:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let journal: Value = reqwest::get(format!("{api}/_lab/journal?run={run}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let journal_request_headers = journal
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "preflight")
        .and_then(|e| e["request_headers"].as_str().map(str::to_string));
    let console_line = match cors_error {
        Some(_) => Some(
            page.wait_console(&format!(" at '{url}'"), WAIT)
                .await
                .expect("Chromium's console line for the blocked request")
                .text,
        ),
        None => None,
    };
    Observed {
        url,
        console_line,
        predicted,
        real,
        preflight_sent,
        cors_error,
        sent_anything,
        journal_request_headers,
    }
}

async fn lab_page(browser: &Browser, origin: &str) -> LabPage {
    browser
        .open_lab_page(&format!("{origin}/"), WAIT)
        .await
        .expect("the page opens and is ready")
}

/// Walks and sends each of `cases` from the page at `origin`, checks each, and returns what
/// the page said of each: its verdict, or `throws`.
async fn walk_and_check_all(
    page: &LabPage,
    origin: &str,
    api: &str,
    label: &str,
    cases: &[Case],
) -> Vec<String> {
    let mut said = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let o = walk_and_send(page, origin, api, c).await;
        check(
            &format!("{label}, case {i} ({} {:?})", c.method, c.headers),
            &o,
        );
        said.push(match o.predicted["throws"] == "yes" {
            true => "throws".to_string(),
            false => o.predicted["verdict"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        });
    }
    said
}

/// The page's claims against Chromium's behaviour, for one request.
fn check(label: &str, o: &Observed) {
    let p = &o.predicted;
    if p["throws"] == "yes" {
        assert!(
            !o.sent_anything,
            "{label}: predicted to throw, but Chromium sent {o:?}"
        );
        assert_eq!(o.real["outcome"], "threw", "{label}: {o:?}");
        return;
    }
    assert_eq!(
        p["preflight"] == "yes",
        o.preflight_sent,
        "{label}: the page said preflight={}, Chromium {} one",
        p["preflight"],
        if o.preflight_sent {
            "sent"
        } else {
            "did not send"
        }
    );
    let predicted_headers = p["requestHeaders"].as_str().unwrap_or_default();
    assert_eq!(
        o.journal_request_headers.as_deref().unwrap_or_default(),
        predicted_headers,
        "{label}: Access-Control-Request-Headers as Chromium sent it"
    );
    let chromium = match &o.cors_error {
        None => "pass".to_string(),
        Some(e) => e.clone(),
    };
    assert_eq!(
        p["verdict"].as_str().unwrap_or_default(),
        chromium,
        "{label}: the page's verdict against Chromium's; {o:?}"
    );
    if let Some(line) = &o.console_line {
        // The page's line names the URL without the send's run id, which the real one has.
        let shown = p["console"]
            .as_str()
            .expect("a blocked walk shows the console line");
        let walked_url = p["url"].as_str().unwrap();
        let shown = shown.replace(&format!("'{walked_url}'"), &format!("'{}'", o.url));
        let refused: Vec<&str> = p["refusedHeaders"]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .filter(|h| !h.is_empty())
            .collect();
        if chromium == "HeaderDisallowedByPreflightResponse" && refused.len() > 1 {
            // Several refused: the page says Chromium names one of them, in its own order.
            let named = |h: &str| {
                format!("Request header field {h} is not allowed by Access-Control-Allow-Headers in preflight response.")
            };
            assert!(
                refused.iter().any(|h| line.ends_with(&named(h))),
                "{label}: {line} names none of {refused:?}"
            );
            let (before, _) = shown.split_once("Request header field").unwrap();
            assert!(line.starts_with(before), "{label}: {line}");
            assert!(
                p["text"]
                    .as_str()
                    .unwrap()
                    .contains("Chromium names one of them"),
                "{label}"
            );
        } else {
            assert_eq!(
                shown, *line,
                "{label}: the console line the page showed against Chromium's"
            );
        }
    }
    assert_eq!(
        o.real["asPredicted"], "yes",
        "{label}: the page's own comparison says: {}",
        o.real["text"]
    );
}

#[tokio::test]
async fn each_walk_the_page_shows_is_what_chromium_does() {
    let browser = Browser::launch().await.expect("Chromium starts");
    let mut verdicts = Vec::new();

    let strict = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let api = strict.api_url.replace("localhost", "127.0.0.1");
    let long_accept = format!("Accept: {}", "a".repeat(129));
    // Two values of 70 bytes: each safelisted alone, 142 bytes once combined.
    let two_accepts = format!("Accept: {0}\naccept: {0}", "b".repeat(70));
    let cases = [
        case("put", "Content-Type: application/json\nX-Token: 1", true),
        case("GET", "", false),
        case("POST", "Content-Type: text/plain;charset=UTF-8", false),
        case(
            "post",
            "Content-Type: application/x-www-form-urlencoded",
            true,
        ),
        case("patch", "", false),
        case("GET", "X-Other: 1", false),
        // Debug mode: Chromium names the refused header, not the allowed one before it.
        case("PUT", "Content-Type: application/json\nX-Trace: 1", false),
        // Two refused headers: Chromium names one of them.
        case("GET", "X-B: 1\nX-A: 1\nX-Token: 1", false),
        case("GET", "Accept-Language: en_US", false),
        case("GET", "Accept-Language: en-US,en;q=0.9", false),
        case("GET", "Content-Language: fr-é", false),
        case("GET", "Range: bytes=0-", false),
        case("GET", "Range: bytes=-5", false),
        case("GET", "Cookie: a=b", true),
        case("GET", &long_accept, false),
        case("GET", &two_accepts, false),
        case("POST", "Content-Type: text/plain; a=\"b\"", false),
        case("DELETE", "X-Token: 1\nAuthorization: Bearer t", true),
        case("TRACE", "", false),
    ];
    let page = lab_page(&browser, &strict.trusted_url).await;
    verdicts.extend(
        walk_and_check_all(&page, &strict.trusted_url, &api, "strict, trusted", &cases).await,
    );
    // Debug mode names the refused header to Chromium itself: not content-type, which the
    // policy allows and Chromium checks first.
    assert!(cases[6].headers.contains("X-Trace"));
    let o = walk_and_send(&page, &strict.trusted_url, &api, &cases[6]).await;
    let line = o.console_line.clone().unwrap_or_default();
    assert!(
        line.ends_with("Request header field x-trace is not allowed by Access-Control-Allow-Headers in preflight response."),
        "{line}"
    );
    // The example buttons walk their requests from the origin in the form (this page's).
    for (example, verdict) in [
        ("simple-get", "pass"),
        ("form-post", "pass"),
        ("json-put", "pass"),
        ("patch", "MethodDisallowedByPreflightResponse"),
        ("bearer", "pass"),
    ] {
        page.evaluate_json("document.getElementById('walk-result').dataset.state = ''; true")
            .await
            .unwrap();
        page.click(&format!("[data-walk-example='{example}']"))
            .await
            .expect("the example button");
        let shown = shown_walk(&page, example).await;
        assert_eq!(shown["verdict"], verdict, "{example}: {shown}");
    }
    // An origin no lab page has: walked on paper only, and the page says why it cannot send.
    let foreign = walk(&page, "https://app.example.com", &cases[0]).await;
    assert_eq!(
        foreign["verdict"], "PreflightMissingAllowOriginHeader",
        "{foreign}"
    );
    assert!(foreign.get("sendable").is_none(), "{foreign}");
    let said = page
        .evaluate_json("document.querySelector('.walk__elsewhere')?.textContent ?? ''")
        .await
        .unwrap();
    assert!(
        said.as_str()
            .unwrap()
            .contains("cannot send from https://app.example.com"),
        "{said}"
    );
    // The page's link to that walk opens a page with the same request walked at once.
    let link = page
        .evaluate_json("document.querySelector('.walk__link').href")
        .await
        .unwrap();
    let _ = page.close().await;
    let linked = browser
        .new_page(link.as_str().unwrap())
        .await
        .expect("the linked page opens");
    let shown = shown_walk(&linked, "the linked walk is shown").await;
    assert_eq!(shown["verdict"], foreign["verdict"], "{shown}");
    assert_eq!(shown["requestHeaders"], "content-type,x-token", "{shown}");
    // From the trusted page, a walk from the untrusted page's origin links to that page,
    // which opens with the walk, ready to send.
    walk(&linked, &strict.untrusted_url, &cases[1]).await;
    let there = linked
        .evaluate_json("document.querySelector('.walk__other-page')?.href ?? ''")
        .await
        .unwrap();
    let _ = linked.close().await;
    let page = browser
        .open_lab_page(there.as_str().unwrap(), WAIT)
        .await
        .expect("the untrusted page opens from the link");
    let sendable = shown_walk(&page, "the walk is shown there").await["sendable"].clone();
    assert_eq!(sendable, "yes", "the untrusted page can send its own walk");
    let cases = [case("GET", "", false), case("PUT", "", false)];
    verdicts.extend(
        walk_and_check_all(
            &page,
            &strict.untrusted_url,
            &api,
            "strict, untrusted",
            &cases,
        )
        .await,
    );
    let _ = page.close().await;

    let permissive = cors_lab::start_ephemeral(PolicyArgs {
        cors_preset: Some("permissive".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let api = permissive.api_url.replace("localhost", "127.0.0.1");
    let page = lab_page(&browser, &permissive.trusted_url).await;
    let cases = [
        case("GET", "", true),
        case("PUT", "Content-Type: application/json", true),
        case("PUT", "X-Other: 1", false),
    ];
    verdicts.extend(
        walk_and_check_all(
            &page,
            &permissive.trusted_url,
            &api,
            "permissive, trusted",
            &cases,
        )
        .await,
    );
    // The policy switched from the page: the walk on show is walked again under the new one.
    let before = walk(&page, &permissive.trusted_url, &cases[0]).await;
    assert_eq!(before["verdict"], "WildcardOriginNotAllowed", "{before}");
    page.click("[data-switch-preset='strict']")
        .await
        .expect("the strict button");
    page.wait_for(
        "document.querySelector('#walk-result article')?.dataset.preset === 'strict' && \
         document.getElementById('walk-result').dataset.state === 'done'",
        WAIT,
    )
    .await
    .expect("the walk is made again under strict");
    let after = shown_walk(&page, "the new walk").await;
    assert_eq!(
        after["verdict"], "pass",
        "strict lets the trusted page in: {after}"
    );
    let _ = page.close().await;

    // The cases reach every kind of result, so a page that always said one thing would fail.
    let mut kinds: Vec<&str> = verdicts.iter().map(String::as_str).collect();
    kinds.sort();
    kinds.dedup();
    for expected in [
        "pass",
        "throws",
        "MethodDisallowedByPreflightResponse",
        "HeaderDisallowedByPreflightResponse",
        "MissingAllowOriginHeader",
        "PreflightMissingAllowOriginHeader",
        "WildcardOriginNotAllowed",
        "PreflightWildcardOriginNotAllowed",
    ] {
        assert!(kinds.contains(&expected), "{expected} not among {kinds:?}");
    }
    browser.close().await.unwrap();
}
