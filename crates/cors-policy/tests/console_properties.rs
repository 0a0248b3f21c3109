//! Property tests of reading Chromium's console message back (`cors_policy::console`).
//!
//! Two rules: every message the browser model can write reads back to the request and verdict it
//! was written from; and the answer a message asks for is a real fix — applied to the response,
//! message after message, it makes the browser's check pass.
//!
//! `PROPTEST_CASES=10000 cargo test -p cors-policy --test console_properties` searches harder.

mod support;

use cors_policy::browser::{self, BrowserRequest, BrowserVerdict, CredentialsMode, RequestKind};
use cors_policy::console::{read_all, read_line, ConsoleMessage, Requirement};
use proptest::prelude::*;
use proptest::sample::select;
use support::config;

const ORIGINS: [&str; 4] = [
    "http://localhost:8080",
    "https://app.example.com",
    "http://127.0.0.1:8081",
    "null",
];

/// A request as a browser makes it, cross-origin.
#[derive(Debug, Clone)]
struct Request {
    kind: RequestKind,
    origin: &'static str,
    method: String,
    request_headers: Option<String>,
    credentials: CredentialsMode,
}

impl Request {
    fn browser(&self) -> BrowserRequest<'_> {
        BrowserRequest {
            kind: self.kind,
            origin: self.origin,
            method: &self.method,
            request_headers: self.request_headers.as_deref(),
            credentials: self.credentials,
        }
    }
}

fn request() -> impl Strategy<Value = Request> {
    let method = select(vec![
        "GET", "POST", "PUT", "DELETE", "PATCH", "patch", "QUERY",
    ]);
    let names = prop::collection::vec(
        select(vec!["content-type", "x-token", "authorization", "x-other"]),
        1..4,
    );
    (
        prop_oneof![Just(RequestKind::Preflight), Just(RequestKind::Actual)],
        select(ORIGINS.to_vec()),
        method,
        prop::option::of(names.prop_map(|n| n.join(","))),
        prop_oneof![Just(CredentialsMode::Omit), Just(CredentialsMode::Include)],
    )
        .prop_map(
            |(kind, origin, method, request_headers, credentials)| Request {
                kind,
                origin,
                method: method.to_string(),
                request_headers,
                credentials,
            },
        )
}

/// A response with any mix of right, wrong and broken CORS lines.
fn response() -> impl Strategy<Value = (u16, Vec<(String, String)>)> {
    let acao = prop::collection::vec(
        select(vec![
            "http://localhost:8080",
            "https://app.example.com",
            "https://evil.example",
            "*",
            "null",
            "http://localhost:8080, https://app.example.com",
            "localhost:8080/path",
        ]),
        0..3,
    );
    let acac = prop::option::of(select(vec!["true", "TRUE", "false", ""]));
    let list = |items: Vec<&'static str>| prop::option::of(select(items));
    (
        select(vec![200u16, 204, 302, 403, 500]),
        acao,
        acac,
        list(vec![
            "GET,POST",
            "PUT",
            "*",
            "GET;POST",
            "PATCH, DELETE",
            "",
        ]),
        list(vec![
            "content-type",
            "x-token, authorization",
            "*",
            "x-token;",
            "X-Other",
        ]),
    )
        .prop_map(|(status, acao, acac, acam, acah)| {
            let mut lines: Vec<(String, String)> = acao
                .into_iter()
                .map(|v| ("Access-Control-Allow-Origin".into(), v.into()))
                .collect();
            let mut add = |name: &str, value: Option<&str>| {
                if let Some(v) = value {
                    lines.push((name.into(), v.into()));
                }
            };
            add("Access-Control-Allow-Credentials", acac);
            add("Access-Control-Allow-Methods", acam);
            add("Access-Control-Allow-Headers", acah);
            (status, lines)
        })
}

/// The console line Chromium writes for a blocked request (its shape: CORS-NOTES.md §4).
fn console_line(
    initiator: &str,
    url: &str,
    redirected_from: Option<&str>,
    origin: &str,
    verdict: &BrowserVerdict,
) -> String {
    let redirect = redirected_from
        .map(|first| format!("(redirected from '{first}') "))
        .unwrap_or_default();
    format!(
        "Access to {initiator} at '{url}' {redirect}from origin '{origin}' has been blocked by CORS policy: {}",
        verdict.reason().expect("blocked")
    )
}

/// The response with `message`'s requirements applied, as a server following them would answer.
fn apply(message: &ConsoleMessage<'_>, status: &mut u16, lines: &mut Vec<(String, String)>) {
    let answer = message.required_answer().expect("a modelled reason");
    for requirement in answer.requirements {
        match requirement {
            Requirement::OkStatus => *status = 204,
            Requirement::Line(name, value) => {
                lines.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                lines.push((name.into(), value));
            }
            Requirement::InList(name, value) => lines.push((name.into(), value)),
            // The simplest list that parses: none at all.
            Requirement::ValidList(name) => lines.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every message the model writes reads back to its parts and its verdict, whatever the
    /// prefix DevTools puts before it.
    #[test]
    fn every_message_the_model_writes_reads_back(
        request in request(),
        (status, lines) in response(),
        initiator in select(vec!["fetch", "XMLHttpRequest", "font"]),
        path in "/[a-z0-9/?=&%'-]{0,24}",
        redirected in any::<bool>(),
        prefix in select(vec!["", "app.js:12 ", "(index):1  ", "localhost/:1 "]),
    ) {
        let verdict = browser::check(&request.browser(), status, &lines);
        prop_assume!(!verdict.is_pass());
        let url = format!("http://localhost:9090{path}");
        let first = redirected.then_some("http://127.0.0.1:9090/api/redirect");
        let text = format!("{prefix}{}", console_line(initiator, &url, first, request.origin, &verdict));
        let message = read_line(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(message.initiator, initiator);
        prop_assert_eq!(message.url, url.as_str());
        prop_assert_eq!(message.redirected_from, first);
        prop_assert_eq!(message.origin, request.origin);
        prop_assert_eq!(message.verdict.as_ref(), Some(&verdict), "{}", text);
        let pasted = format!("{text}\nGET {url} net::ERR_FAILED\n{text}");
        prop_assert_eq!(read_all(&pasted).len(), 2);
    }

    /// Following what each message asks of the answer makes it pass: the fix is real, and the
    /// messages a browser would write on the way are enough to get there.
    #[test]
    fn following_the_required_answers_makes_the_check_pass(
        request in request(),
        (mut status, mut lines) in response(),
    ) {
        let mut seen = Vec::new();
        loop {
            let verdict = browser::check(&request.browser(), status, &lines);
            if verdict.is_pass() {
                break;
            }
            prop_assert!(seen.len() < 10, "no pass after {:?}\nrequest {:?}\nanswer {} {:?}", seen, request, status, lines);
            let text = console_line("fetch", "http://localhost:9090/api/items", None, request.origin, &verdict);
            let message = read_line(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            let answer = message.required_answer().expect("a modelled reason");
            prop_assert_eq!(answer.kind, request.kind);
            if answer.credentialed {
                prop_assert_eq!(request.credentials, CredentialsMode::Include);
            }
            prop_assert!(!seen.contains(&verdict), "the same check failed again: {:?} after {:?}", verdict, seen);
            apply(&message, &mut status, &mut lines);
            seen.push(verdict);
        }
    }
}
