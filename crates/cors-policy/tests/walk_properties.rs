//! Property tests of what the browser sends (`cors_policy::fetch`) and of walking a request
//! through a policy (`cors_policy::walkthrough`).
//!
//! The rules, from the Fetch standard: every header script sets is either sent or dropped as
//! forbidden; `Access-Control-Request-Headers` is the sent headers that are not safelisted,
//! lower case, sorted, each once, never a forbidden one; a preflight goes first exactly when the
//! method is not safelisted or that list is not empty. A walk sends the actual request exactly
//! when there is no preflight or the preflight passed, its preflight asks for what `fetch` said,
//! and script's verdict is the last check's.
//!
//! `PROPTEST_CASES=10000 cargo test -p cors-policy --test walk_properties` searches harder.

mod support;

use cors_policy::browser::CredentialsMode;
use cors_policy::fetch::{prepare, ScriptRequest};
use cors_policy::header::is_forbidden_request_header;
use cors_policy::method::is_safelisted;
use cors_policy::walkthrough::walk;
use cors_policy::{Policy, PolicyInput};
use proptest::prelude::*;
use proptest::sample::select;
use support::config;

const NAMES: [&str; 14] = [
    "accept",
    "Accept-Language",
    "content-language",
    "Content-Type",
    "range",
    "X-Token",
    "x-other",
    "Authorization",
    "Cookie",
    "sec-fetch-mode",
    "Proxy-Authorization",
    "X-HTTP-Method-Override",
    "access-control-allow-origin",
    "Origin",
];

const VALUES: [&str; 14] = [
    "",
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/json",
    "multipart/form-data; boundary=x",
    "en-US,en;q=0.9",
    "en_US",
    "bytes=0-",
    "bytes=-5",
    "bytes=2-1",
    "TRACE",
    "a\"b",
    "*/*",
    "Bearer t",
];

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "GET", "get", "HEAD", "POST", "post", "PUT", "put", "patch", "PATCH", "DELETE",
                "OPTIONS", "TRACE", "connect", "QUERY"
            ][..]
        )
        .prop_map(str::to_string),
        "[A-Za-z!#$%&'*+.^_`|~-]{1,8}",
        ".{0,6}",
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    let name = prop_oneof![
        4 => select(&NAMES[..]).prop_map(str::to_string),
        1 => "[A-Za-z0-9-]{1,12}",
        1 => ".{0,4}",
    ];
    let value = prop_oneof![
        4 => select(&VALUES[..]).prop_map(str::to_string),
        1 => "[ -~]{0,140}",
        1 => ".{0,8}",
    ];
    (name, value)
}

fn policies() -> Vec<Policy> {
    let configs: [&[(&str, &str)]; 5] = [
        &[],
        &[("CORS_DEBUG", "false")],
        &[("CORS_PRESET", "permissive")],
        &[
            ("CORS_ALLOW_ORIGINS", "https://*.example.com"),
            ("CORS_ALLOW_HEADERS", "*,authorization"),
        ],
        &[("CORS_PRESET", "off")],
    ];
    configs
        .iter()
        .map(|pairs| {
            PolicyInput::from_pairs(pairs)
                .resolve("http://localhost:8080")
                .unwrap()
                .policy
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn what_is_sent_follows_the_fetch_standard(
        method in method(),
        headers in proptest::collection::vec(header(), 0..6),
    ) {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let Ok(sent) = prepare(&ScriptRequest { method: &method, headers: &pairs }) else {
            return Ok(()); // fetch() throws: nothing is sent
        };
        // Each header is sent or dropped; a dropped one is forbidden. Only a method override is
        // forbidden for some values (a forbidden method) and not others, so only it can be both.
        let overrides = ["x-http-method", "x-http-method-override", "x-method-override"];
        for (name, _) in &pairs {
            let lower = name.to_ascii_lowercase();
            let kept = sent.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
            let dropped = sent.dropped.contains(&lower);
            prop_assert!(kept || dropped, "{name}");
            prop_assert!(!(kept && dropped) || overrides.contains(&lower.as_str()), "{name}");
        }
        for name in &sent.dropped {
            prop_assert!(is_forbidden_request_header(name) || overrides.contains(&name.as_str()), "{name}");
        }
        // One line per name.
        for (i, (a, _)) in sent.headers.iter().enumerate() {
            prop_assert!(sent.headers[i + 1..].iter().all(|(b, _)| !a.eq_ignore_ascii_case(b)));
        }
        if let Some(list) = &sent.request_headers {
            let names: Vec<&str> = list.split(',').collect();
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(&names, &sorted, "sorted, each once");
            for name in names {
                prop_assert_eq!(name, name.to_ascii_lowercase());
                prop_assert!(!is_forbidden_request_header(name));
                prop_assert!(sent.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
            }
        }
        prop_assert_eq!(
            sent.needs_preflight(),
            !is_safelisted(&sent.method) || sent.request_headers.is_some()
        );
    }

    #[test]
    fn a_walk_stops_at_a_failed_preflight_and_ends_on_the_last_check(
        method in method(),
        headers in proptest::collection::vec(header(), 0..4),
        origin in select(&["http://localhost:8080", "https://app.example.com", "https://example.com", "null"][..]),
        credentials in select(&[CredentialsMode::Omit, CredentialsMode::Include][..]),
        which in 0usize..5,
    ) {
        let policy = &policies()[which];
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let request = ScriptRequest { method: &method, headers: &pairs };
        let Ok(w) = walk(policy, origin, &request, credentials) else {
            prop_assert!(prepare(&request).is_err());
            return Ok(());
        };
        prop_assert_eq!(w.preflight.is_some(), w.sent.needs_preflight());
        match (&w.preflight, &w.actual) {
            (Some(p), None) => {
                prop_assert!(!p.verdict.is_pass());
                prop_assert_eq!(&w.verdict, &p.verdict);
            }
            (p, Some(a)) => {
                prop_assert!(p.as_ref().is_none_or(|p| p.verdict.is_pass()));
                prop_assert_eq!(&w.verdict, &a.verdict);
                prop_assert_eq!(&a.method, &w.sent.method);
            }
            (None, None) => prop_assert!(false, "a walk sends at least one request"),
        }
        if let Some(p) = &w.preflight {
            prop_assert_eq!(&p.method, "OPTIONS");
            let asked = |name: &str| p.request.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
            prop_assert_eq!(asked("access-control-request-method"), Some(w.sent.method.clone()));
            prop_assert_eq!(asked("access-control-request-headers"), w.sent.request_headers.clone());
        }
        // Only permissive (`*`) lets https://example.com in, and off lets no one in.
        if (origin == "https://example.com" && which != 2) || which == 4 {
            prop_assert!(!w.verdict.is_pass(), "{:?}", w);
        }
    }
}
