//! “Check your own server's answer”, against a real headless Chromium and real curl.
//!
//! The page claims to judge a server's answer, pasted as curl printed it, as Chromium does. Here
//! a stand-in for the learner's own server (a real socket on loopback) answers eight requests in
//! eight ways: no `Access-Control-Allow-Origin`, `*` with credentials on the request and on the
//! preflight, a 401 preflight, a header or a method left out, a preflight that passes before an
//! answer that does not, and an answer that passes both checks. For each, the lab page's script
//! makes the request and Chromium reports what it did over the DevTools protocol; curl asks the
//! same server the same way (`-sv`, the browser's headers), and what curl printed is pasted
//! into the page's form. The page must say what Chromium did: the same `CorsError` on the same
//! response, or that it passes, with the reason Chromium's console line ends with. One answer is
//! pasted as `curl -i` printed it, with the request given in the form.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_server::cli::PolicyArgs;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use browser_harness::{Browser, LabPage};
use serde_json::Value;

mod support;

const WAIT: Duration = Duration::from_secs(20);

/// One way the stand-in server answers, and the request the page's script makes.
struct Case {
    name: &'static str,
    /// The request's method, custom headers and credentials, as the script sets them.
    method: &'static str,
    headers: &'static [(&'static str, &'static str)],
    credentials: bool,
    /// The answer to a preflight: status and lines (`{origin}` is the page's origin).
    preflight: (u16, &'static [(&'static str, &'static str)]),
    /// The answer to the request itself (status 200).
    actual: &'static [(&'static str, &'static str)],
}

const JSON_AND_TOKEN: &[(&str, &str)] = &[("content-type", "application/json"), ("x-token", "1")];
const OK_PREFLIGHT: &[(&str, &str)] = &[
    ("access-control-allow-origin", "{origin}"),
    ("access-control-allow-credentials", "true"),
    ("access-control-allow-methods", "GET, PUT, DELETE"),
    ("access-control-allow-headers", "content-type, x-token"),
    ("vary", "origin"),
];

const CASES: &[Case] = &[
    Case {
        name: "no-allow-origin",
        method: "GET",
        headers: &[],
        credentials: false,
        preflight: (204, &[]),
        actual: &[],
    },
    Case {
        name: "wildcard-with-credentials",
        method: "GET",
        headers: &[],
        credentials: true,
        preflight: (204, &[]),
        actual: &[("access-control-allow-origin", "*")],
    },
    Case {
        name: "preflight-401",
        method: "PUT",
        headers: JSON_AND_TOKEN,
        credentials: false,
        preflight: (401, &[("access-control-allow-origin", "{origin}")]),
        actual: &[("access-control-allow-origin", "{origin}")],
    },
    Case {
        name: "header-left-out",
        method: "PUT",
        headers: JSON_AND_TOKEN,
        credentials: false,
        preflight: (
            204,
            &[
                ("access-control-allow-origin", "{origin}"),
                ("access-control-allow-methods", "PUT"),
                ("access-control-allow-headers", "content-type"),
            ],
        ),
        actual: &[("access-control-allow-origin", "{origin}")],
    },
    Case {
        name: "method-left-out",
        method: "DELETE",
        headers: &[],
        credentials: false,
        preflight: (
            204,
            &[
                ("access-control-allow-origin", "{origin}"),
                ("access-control-allow-methods", "GET, POST"),
            ],
        ),
        actual: &[("access-control-allow-origin", "{origin}")],
    },
    Case {
        name: "preflight-wildcard-with-credentials",
        method: "PUT",
        headers: JSON_AND_TOKEN,
        credentials: true,
        preflight: (
            204,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-methods", "PUT"),
                ("access-control-allow-headers", "content-type, x-token"),
            ],
        ),
        actual: &[("access-control-allow-origin", "*")],
    },
    Case {
        name: "preflight-passes-answer-does-not",
        method: "PUT",
        headers: JSON_AND_TOKEN,
        credentials: true,
        preflight: (204, OK_PREFLIGHT),
        actual: &[("access-control-allow-origin", "{origin}")],
    },
    Case {
        name: "passes",
        method: "PUT",
        headers: JSON_AND_TOKEN,
        credentials: true,
        preflight: (204, OK_PREFLIGHT),
        actual: &[
            ("access-control-allow-origin", "{origin}"),
            ("access-control-allow-credentials", "true"),
            ("vary", "origin"),
        ],
    },
];

impl Case {
    fn preflighted(&self) -> bool {
        !self.headers.is_empty() || !matches!(self.method, "GET" | "HEAD" | "POST")
    }

    /// `Access-Control-Request-Headers` as Chromium sends it: lowercase, sorted, no spaces.
    fn request_headers(&self) -> String {
        let mut names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.join(",")
    }
}

/// The requests the stand-in server received: case name and method.
type Received = Arc<Mutex<Vec<(String, Method)>>>;

/// The stand-in for the learner's own server: `/case/<name>` answers as that case says.
async fn own_server(
    page_origin: String,
    received: Received,
) -> (String, tokio::task::JoinHandle<()>) {
    let page_origin = Arc::new(page_origin);
    let app = axum::Router::new().route(
        "/case/{name}",
        axum::routing::any(
            move |method: Method, axum::extract::Path(name): axum::extract::Path<String>| {
                let page_origin = page_origin.clone();
                received
                    .lock()
                    .unwrap()
                    .push((name.clone(), method.clone()));
                async move {
                    let case = CASES.iter().find(|c| c.name == name).unwrap();
                    let (status, lines) = match method {
                        Method::OPTIONS => case.preflight,
                        _ => (200, case.actual),
                    };
                    let mut response =
                        (StatusCode::from_u16(status).unwrap(), "ok").into_response();
                    for (name, value) in lines {
                        response.headers_mut().append(
                            HeaderName::from_static(name),
                            HeaderValue::try_from(value.replace("{origin}", &page_origin)).unwrap(),
                        );
                    }
                    response
                }
            },
        ),
    );
    support::stand_in_server(app).await
}

/// What curl printed (standard error, then standard output) for `args`; run off the test's
/// thread, which also serves the stand-in server.
async fn curl(args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args(["--silent", "--max-time", "10"])
            .args(&args)
            .output()
            .expect("curl runs (Debian: apt-get install curl; scripts/test.sh installs it)");
        assert!(out.status.success(), "curl {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
    })
    .await
    .unwrap()
}

/// What Chromium did with the script's request to `url`: `Ok(status)` when the script read
/// the response, `Err((stage, corsError))` when Chromium blocked it. The stage is where the
/// server says it was: `actual` when the request itself reached it.
async fn chromium_did(
    page: &LabPage,
    case: &Case,
    url: &str,
    received: &Received,
) -> Result<u16, (String, String)> {
    let headers: serde_json::Map<String, Value> = case
        .headers
        .iter()
        .map(|(n, v)| (n.to_string(), Value::from(*v)))
        .collect();
    let result = page
        .evaluate_json(&format!(
            "fetch({url:?}, {{ method: {:?}, credentials: {:?}, headers: {} }}) \
             .then(r => r.status, e => 'blocked')",
            case.method,
            if case.credentials { "include" } else { "omit" },
            Value::Object(headers),
        ))
        .await
        .unwrap();
    if let Some(status) = result.as_u64() {
        return Ok(status as u16);
    }
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let failed = page.requests_matching(url).into_iter().find_map(|r| {
            let error = r.failed.as_ref()?.cors_error.clone()?;
            let sent = received
                .lock()
                .unwrap()
                .iter()
                .any(|(name, method)| name == case.name && method != Method::OPTIONS);
            let stage = if sent { "actual" } else { "preflight" };
            Some((stage.to_string(), error))
        });
        if let Some(failed) = failed {
            return Err(failed);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: the script saw {result}, but Chromium reported no CorsError: {:?}",
            case.name,
            page.requests_matching(url)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The page's verdict on `text`, with the form's other fields set as `fields` says.
async fn page_says(page: &LabPage, text: &str, fields: &Value) -> Value {
    page.evaluate_json(&format!(
        "(() => {{ const f = {fields}; \
           document.getElementById('check-text').value = {}; \
           document.getElementById('check-credentials').value = f.credentials ?? ''; \
           document.getElementById('check-origin').value = f.origin ?? ''; \
           document.getElementById('check-preflight').checked = f.preflight ?? false; \
           document.getElementById('check-method').value = f.method ?? ''; \
           document.getElementById('check-request-headers').value = f.request_headers ?? ''; \
           document.getElementById('check-result').dataset.state = ''; return true; }})()",
        serde_json::to_string(text).unwrap()
    ))
    .await
    .unwrap();
    page.click("#check-submit").await.expect("the Check button");
    page.wait_for(
        "document.getElementById('check-result').dataset.state === 'done'",
        WAIT,
    )
    .await
    .expect("the check is shown");
    page.evaluate_json(
        "(() => { const a = document.querySelector('#check-result article'); \
           return a ? { verdict: a.dataset.verdict, stage: a.dataset.stage, \
             reason: a.querySelector('.check__reason')?.textContent ?? null, text: a.textContent, \
             missing: [...a.querySelectorAll('.explain__requirements li:not(.is-carried)')].map(li => li.textContent), \
             carried: [...a.querySelectorAll('.explain__requirements li.is-carried')].map(li => li.textContent), \
             link: document.querySelector('#check-result .check__link')?.href ?? null, \
             all: [...document.querySelectorAll('#check-result article')].map(e => \
               ({ verdict: e.dataset.verdict, stage: e.dataset.stage, \
                  unsent: e.querySelector('.explain__warn')?.textContent.startsWith('Chromium would never send') ?? false })) } \
           : { problem: document.getElementById('check-result').textContent }; })()",
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_page_judges_pasted_curl_output_as_chromium_judges_the_same_answer() {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let origin = lab.trusted_url.trim_end_matches('/').to_string();
    let received = Received::default();
    let (server, task) = own_server(origin.clone(), received.clone()).await;
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser
        .open_lab_page(&format!("{}/", lab.trusted_url), WAIT)
        .await
        .expect("the page opens and is ready");

    let mut seen = Vec::new();
    for case in CASES {
        let url = format!("{server}/case/{}", case.name);
        let did = chromium_did(&page, case, &url, &received).await;
        let credentials = if case.credentials { "include" } else { "omit" };
        let fields = serde_json::json!({ "credentials": credentials });
        let origin_line = format!("Origin: {origin}");
        let mut pasted = Vec::new();
        let mut preflight_text = None;
        if case.preflighted() {
            let mut args = vec![
                "-v".to_string(),
                "-X".into(),
                "OPTIONS".into(),
                url.clone(),
                "-H".into(),
                origin_line.clone(),
                "-H".into(),
                format!("Access-Control-Request-Method: {}", case.method),
            ];
            if !case.headers.is_empty() {
                args.push("-H".into());
                args.push(format!(
                    "Access-Control-Request-Headers: {}",
                    case.request_headers()
                ));
            }
            let text = curl(args).await;
            pasted.push(("preflight", page_says(&page, &text, &fields).await));
            preflight_text = Some(text);
        }
        let mut args = vec![
            "-v".to_string(),
            "-X".into(),
            case.method.into(),
            url.clone(),
        ];
        args.extend(["-H".into(), origin_line.clone()]);
        for (name, value) in case.headers {
            args.extend(["-H".into(), format!("{name}: {value}")]);
        }
        let actual_text = curl(args).await;
        pasted.push(("actual", page_says(&page, &actual_text, &fields).await));
        // Both runs pasted together: each judged as when pasted alone, in order; the request's
        // marked as never sent by Chromium when the preflight before it failed.
        if let Some(preflight_text) = &preflight_text {
            let both = page_says(&page, &format!("{preflight_text}{actual_text}"), &fields).await;
            let alone: Vec<Value> = pasted
                .iter()
                .map(|(_, shown)| {
                    serde_json::json!({ "verdict": shown["verdict"], "stage": shown["stage"] })
                })
                .collect();
            let together: Vec<Value> = both["all"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| serde_json::json!({ "verdict": e["verdict"], "stage": e["stage"] }))
                .collect();
            assert_eq!(together, alone, "{}: pasted together", case.name);
            assert_eq!(
                both["all"][1]["unsent"],
                matches!(&did, Err((at, _)) if at == "preflight"),
                "{}: {both}",
                case.name
            );
        }

        // What the page must say of each answer, from what Chromium did.
        for (stage, shown) in &pasted {
            assert_eq!(shown["stage"], *stage, "{}: {shown}", case.name);
            let expected = match &did {
                // Blocked at the preflight: the request itself was never sent by Chromium, so
                // only the preflight's answer is held to it.
                Err((at, error)) if at == stage => error.as_str(),
                Err((at, _)) if at == "preflight" => continue,
                _ => "pass",
            };
            assert_eq!(
                shown["verdict"], expected,
                "{} ({stage}): Chromium did {did:?}; the page showed {shown}",
                case.name
            );
            if expected != "pass" {
                // What the answer still lacks is marked apart from what it has.
                let missing = shown["missing"].as_array().unwrap();
                assert!(
                    !missing.is_empty(),
                    "{}: nothing missing? {shown}",
                    case.name
                );
                let reason = shown["reason"].as_str().unwrap();
                let line = page
                    .console_matching(&format!("at '{url}'"))
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| panic!("{}: no console line", case.name))
                    .text;
                assert!(
                    line.ends_with(&format!("has been blocked by CORS policy: {reason}")),
                    "{}: the page's reason {reason:?} should end Chromium's line {line:?}",
                    case.name
                );
            }
        }
        seen.push((case.name, did));
    }

    // curl -i shows no request: the form gives it, and the verdict is the same.
    let case = CASES.iter().find(|c| c.name == "header-left-out").unwrap();
    let url = format!("{server}/case/{}", case.name);
    let text = curl(vec![
        "-i".into(),
        "-X".into(),
        "OPTIONS".into(),
        url,
        "-H".into(),
        format!("Origin: {origin}"),
        "-H".into(),
        "Access-Control-Request-Method: PUT".into(),
        "-H".into(),
        "Access-Control-Request-Headers: content-type,x-token".into(),
    ])
    .await;
    let without = page_says(&page, &text, &serde_json::json!({})).await;
    let with = page_says(
        &page,
        &text,
        &serde_json::json!({
            "origin": origin, "preflight": true, "method": "PUT",
            "request_headers": "content-type,x-token", "credentials": "omit",
        }),
    )
    .await;
    let request_fields_open = page
        .evaluate_json("document.getElementById('check-request').open")
        .await
        .unwrap();
    let _ = page.close().await;
    // “Link to this check” opens a page that checks the same answer, with the same fields.
    let link = with["link"]
        .as_str()
        .expect("a link to the check")
        .to_string();
    let linked = browser
        .open_lab_page(&link, WAIT)
        .await
        .expect("the linked page opens");
    linked
        .wait_for(
            "document.getElementById('check-result').dataset.state === 'done'",
            WAIT,
        )
        .await
        .expect("the linked page checks the answer");
    let from_link = linked
        .evaluate_json(
            "({ verdict: document.querySelector('#check-result article')?.dataset.verdict, \
                origin: document.getElementById('check-origin').value, \
                credentials: document.getElementById('check-credentials').value, \
                open: document.getElementById('check-request').open })",
        )
        .await
        .unwrap();
    let _ = linked.close().await;
    let _ = browser.close().await;
    lab.stop().await.unwrap();
    task.abort();

    eprintln!("Chromium did: {seen:?}");
    let blocked: std::collections::BTreeSet<&str> = seen
        .iter()
        .filter_map(|(_, d)| d.as_ref().err().map(|(_, e)| e.as_str()))
        .collect();
    assert!(blocked.len() >= 6, "six different blocks: {seen:?}");
    assert!(
        seen.iter().any(|(_, d)| d.is_ok()),
        "one answer passes: {seen:?}"
    );
    assert!(
        without["problem"]
            .as_str()
            .is_some_and(|p| p.contains("origin is unknown")),
        "curl -i alone: {without}"
    );
    assert_eq!(request_fields_open, true, "the request's fields are opened");
    assert_eq!(
        with["verdict"], "HeaderDisallowedByPreflightResponse",
        "curl -i with the form: {with}"
    );
    assert!(
        with["text"]
            .as_str()
            .is_some_and(|t| t.contains("Origin from the form")),
        "{with}"
    );
    assert_eq!(
        from_link,
        serde_json::json!({
            "verdict": "HeaderDisallowedByPreflightResponse", "origin": origin,
            "credentials": "omit", "open": true,
        }),
        "from {link}"
    );
    // It has its status and its origin line; it lacks x-token.
    let texts = |key: &str| -> Vec<String> {
        with[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    let (missing, carried) = (texts("missing"), texts("carried"));
    assert!(
        missing.len() == 1 && missing[0].starts_with("Access-Control-Allow-Headers: x-token"),
        "{missing:?}"
    );
    assert!(
        carried.len() == 2
            && carried[0].starts_with("an ok status")
            && carried[1].starts_with(&format!("Access-Control-Allow-Origin: {origin}"))
            && carried.iter().all(|t| t.ends_with("it has this already")),
        "{carried:?}"
    );
}
