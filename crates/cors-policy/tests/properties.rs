//! Property tests of the engine's invariants (proptest; run by plain `cargo test`).
//!
//! Each property states a rule the lab relies on and lets proptest hunt for a counter-example:
//! origin matching that cannot be fooled by prefixes, suffixes or concatenations, parsers that
//! round-trip and never panic, a bounded header-list walk, refusals that leak nothing, and —
//! the one that ties the two halves of the crate together — an engine whose "allowed" answer
//! always passes the browser-side check it is meant to satisfy.
//!
//! `PROPTEST_CASES=10000 cargo test -p cors-policy --test properties` searches harder.

mod support;

use cors_policy::browser::{
    self, BrowserRequest, BrowserVerdict, CorsError, CredentialsMode, RequestKind,
};
use cors_policy::engine::{decide, Decision, Outcome, Refusal, RequestFacts};
use cors_policy::header::{for_each_name, MAX_REQUEST_HEADERS, MAX_REQUEST_HEADERS_LEN};
use cors_policy::method::is_token;
use cors_policy::policy::Policy;
use cors_policy::{ConfigErrors, Origin, OriginPattern, PolicyInput};
use proptest::prelude::*;
use proptest::sample::select;
use support::config;

const LAB: &str = "http://localhost:8080";

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// A DNS label as browsers send it: lower case, digits, inner hyphens; plus some that collide.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?",
        select(vec![
            "example",
            "foo",
            "bar",
            "evil",
            "com",
            "www",
            "app",
            "api",
            "xn--bcher-kva",
            "a_b",
        ])
        .prop_map(str::to_string),
    ]
}

/// A domain name of one to four labels. Its last label is never all digits: that would be an
/// IP address, which has no subdomains (IP hosts come from `host()`).
fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..=4)
        .prop_map(|l| l.join("."))
        .prop_filter("a domain name ends in a non-numeric label", |d| {
            !d.rsplit('.')
                .next()
                .unwrap_or_default()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => domain(),
        1 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        1 => select(vec!["[::1]", "[2001:db8::1]", "[fe80::1:2]", "localhost"]).prop_map(str::to_string),
    ]
}

fn scheme() -> impl Strategy<Value = &'static str> {
    select(vec!["http", "https"])
}

/// A port as it appears in a canonical origin: absent, or not the scheme's default.
fn port_for(scheme: &'static str) -> impl Strategy<Value = Option<u16>> {
    let default = if scheme == "http" { 80 } else { 443 };
    prop_oneof![
        2 => Just(None),
        1 => (1u16..=u16::MAX).prop_filter("default port", move |p| *p != default).prop_map(Some),
        1 => select(vec![8080u16, 3000, 8443, 9090]).prop_map(Some),
    ]
}

fn serialize(scheme: &str, host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    }
}

/// A canonical serialized origin, as a browser writes it in `Origin`.
fn canonical_origin() -> impl Strategy<Value = String> {
    scheme()
        .prop_flat_map(|s| (Just(s), host(), port_for(s)).prop_map(|(s, h, p)| serialize(s, &h, p)))
}

/// Text that looks a bit like an origin, to reach the parsers' error paths.
fn origin_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(https?|HTTPS?|ftp|file|null|)(://|:/|:)[a-zA-Z0-9.:\\[\\]@/?#*_%-]{0,40}",
        canonical_origin(),
        (canonical_origin(), "[/?#:@. A-Z*]{1,3}").prop_map(|(o, tail)| format!("{o}{tail}")),
    ]
}

/// One of a dozen mutations that turn an allowed origin into text that must not match it.
fn near_miss(origin: &str, other: &str, pick: usize) -> String {
    let (scheme, rest) = origin.split_once("://").unwrap();
    match pick % 12 {
        0 => origin.to_ascii_uppercase(),
        1 => format!("{origin}/"),
        2 => format!("{scheme}://x{rest}"),
        3 => format!("{origin}x"),
        4 => format!("{origin}.evil.com"),
        5 => format!("{origin}{}", &other[other.find("://").unwrap() + 3..]),
        6 => format!("{origin},{other}"),
        7 => format!("{origin} {other}"),
        8 => format!(
            "{}://{rest}",
            if scheme == "http" { "https" } else { "http" }
        ),
        9 => format!("{origin}:1"),
        10 => format!(" {origin}"),
        _ => origin[..origin.len() - 1].to_string(),
    }
}

fn policy_of(pairs: &[(&str, String)]) -> Policy {
    PolicyInput::from_lookup(|k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
        .resolve(LAB)
        .unwrap_or_else(|e| panic!("generated policy {pairs:?} is invalid: {e}"))
        .policy
}

fn actual<'a>(origin: &'a str) -> RequestFacts<'a> {
    RequestFacts {
        method: "GET",
        origin: Some(origin),
        ..Default::default()
    }
}

fn preflight<'a>(origin: &'a str, method: &'a str, headers: Option<&'a str>) -> RequestFacts<'a> {
    RequestFacts {
        method: "OPTIONS",
        origin: Some(origin),
        request_method: Some(method),
        request_headers: headers,
    }
}

fn is_allowed(policy: &Policy, facts: &RequestFacts<'_>) -> bool {
    matches!(decide(policy, facts).outcome(), Outcome::Allowed { .. })
}

/// A policy as `PolicyInput::resolve` builds it from generated variables. Never a broken preset:
/// those are wrong on purpose. The lists are valid, so resolution succeeds.
#[derive(Debug, Clone)]
struct GeneratedPolicy {
    vars: Vec<(&'static str, String)>,
    /// Origins the request generator should try: allowed ones and hosts under the patterns.
    probes: Vec<String>,
}

fn origin_entry(credentials: bool) -> impl Strategy<Value = (String, String)> {
    // (entry, an origin it should allow)
    let https_exact = (host(), port_for("https")).prop_map(|(h, p)| {
        let o = serialize("https", &h, p);
        (o.clone(), o)
    });
    let loopback = (
        select(vec!["localhost", "127.0.0.1", "[::1]"]),
        port_for("http"),
    )
        .prop_map(|(h, p)| {
            let o = serialize("http", h, p);
            (o.clone(), o)
        });
    // Names that are surely not public suffixes themselves, so the entry is valid with credentials.
    let names = select(vec!["example", "lab", "myapp", "corp"]);
    let subdomains = (
        scheme(),
        names,
        select(vec!["com", "org", "example", "co.uk"]),
        label(),
        prop_oneof![Just(""), Just(":*"), Just(":8443"),],
    )
        .prop_map(|(s, name, tld, sub, port)| {
            // http patterns only on loopback, so they stay valid with credentials.
            let (s, suffix) = if s == "http" {
                ("http", "localhost".to_string())
            } else {
                (s, format!("{name}.{tld}"))
            };
            let probe_port = match port {
                ":8443" => ":8443",
                ":*" => ":3000",
                _ => "",
            };
            (
                format!("{s}://*.{suffix}{port}"),
                format!("{s}://{sub}.{suffix}{probe_port}"),
            )
        });
    let any_port = select(vec!["localhost", "127.0.0.1"])
        .prop_map(|h| (format!("http://{h}:*"), format!("http://{h}:5173")));
    let plain_http = (domain(), port_for("http")).prop_map(|(h, p)| {
        let o = serialize("http", &h, p);
        (o.clone(), o)
    });
    if credentials {
        prop_oneof![3 => https_exact, 1 => loopback, 1 => subdomains, 1 => any_port].boxed()
    } else {
        prop_oneof![3 => https_exact, 1 => loopback, 1 => subdomains, 1 => any_port, 1 => plain_http]
            .boxed()
    }
}

fn unzip(entries: Vec<(String, String)>) -> (Vec<String>, Vec<String>) {
    entries.into_iter().unzip()
}

const METHODS: [&str; 10] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "patch", "PURGE", "M-SEARCH", "HEAD", "OPTIONS",
];
const HEADERS: [&str; 7] = [
    "content-type",
    "x-token",
    "authorization",
    "x-requested-with",
    "X-Custom",
    "accept",
    "x-a",
];

fn generated_policy(debug: Option<bool>) -> impl Strategy<Value = GeneratedPolicy> {
    let debug = match debug {
        Some(d) => Just(d).boxed(),
        None => any::<bool>().boxed(),
    };
    (any::<bool>(), debug).prop_flat_map(|(credentials, debug)| {
        let origins = if credentials {
            prop::collection::vec(origin_entry(true), 1..5).prop_map(unzip).boxed()
        } else {
            prop_oneof![
                1 => Just(("*".to_string(), vec![])).prop_map(|(s, v): (String, Vec<String>)| (vec![s], v)),
                3 => prop::collection::vec(origin_entry(false), 1..5).prop_map(unzip),
            ]
            .boxed()
        };
        let methods = prop_oneof![
            1 => Just("*".to_string()),
            3 => prop::collection::vec(select(METHODS.to_vec()), 1..5).prop_map(|m| m.join(",")),
        ];
        let headers = prop_oneof![
            1 => Just("*".to_string()),
            1 => Just("*,authorization".to_string()),
            3 => prop::collection::vec(select(HEADERS.to_vec()), 1..5).prop_map(|m| m.join(", ")),
        ];
        // Never empty: an empty variable counts as unset, and `permissive`'s own `*` would then
        // clash with credentials.
        let expose = if credentials {
            prop_oneof![Just("x-secret".to_string()), Just("x-secret,x-request-id".to_string())].boxed()
        } else {
            prop_oneof![Just("*".to_string()), Just("x-secret".to_string())].boxed()
        };
        let max_age = prop_oneof![Just(None), (0u32..=86_400).prop_map(Some)];
        let preset = select(vec![None, Some("strict"), Some("permissive")]);
        (origins, methods, headers, expose, max_age, preset).prop_map(
            move |((entries, probes), methods, headers, expose, max_age, preset)| {
                let mut vars = vec![
                    ("CORS_ALLOW_ORIGINS", entries.join(",")),
                    ("CORS_ALLOW_METHODS", methods),
                    ("CORS_ALLOW_HEADERS", headers),
                    ("CORS_EXPOSE_HEADERS", expose),
                    ("CORS_ALLOW_CREDENTIALS", credentials.to_string()),
                    ("CORS_DEBUG", debug.to_string()),
                ];
                if let Some(m) = max_age {
                    vars.push(("CORS_MAX_AGE", m.to_string()));
                }
                if let Some(p) = preset {
                    vars.push(("CORS_PRESET", p.to_string()));
                }
                GeneratedPolicy { vars, probes }
            },
        )
    })
}

/// A request a browser could send: the origin is one the policy allows or not, the method and
/// header names are tokens, the header list is comma-separated.
#[derive(Debug, Clone)]
struct GeneratedRequest {
    preflight: bool,
    /// Index into the policy's probes (wrapping), or a foreign origin.
    origin: Result<usize, String>,
    method: String,
    request_headers: Option<String>,
}

fn browser_request() -> impl Strategy<Value = GeneratedRequest> {
    let method = prop_oneof![3 => select(METHODS.to_vec()).prop_map(str::to_string), 1 => "[A-Za-z][A-Za-z-]{0,7}"];
    let names = prop_oneof![3 => select(HEADERS.to_vec()).prop_map(str::to_string), 1 => "[a-z][a-z0-9-]{0,10}"];
    let list = prop_oneof![
        2 => Just(None),
        3 => prop::collection::vec(names, 1..6).prop_map(|n| Some(n.join(","))),
    ];
    let origin = prop_oneof![
        3 => any::<usize>().prop_map(Ok),
        2 => canonical_origin().prop_map(Err),
        1 => select(vec!["null", "https://EXAMPLE.com", "https://example.com/", ""]).prop_map(|s| Err(s.to_string())),
    ];
    (any::<bool>(), origin, method, list).prop_map(
        |(preflight, origin, method, request_headers)| GeneratedRequest {
            preflight,
            origin,
            method,
            request_headers,
        },
    )
}

fn pick_origin(generated: &GeneratedPolicy, request: &GeneratedRequest) -> String {
    match &request.origin {
        Ok(i) if !generated.probes.is_empty() => {
            generated.probes[i % generated.probes.len()].clone()
        }
        Ok(_) => "https://anything.example".into(),
        Err(o) => o.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Origin matching
// ---------------------------------------------------------------------------------------------

/// Candidate hosts for a subdomain pattern over `suffix`, the adversarial shapes included.
fn candidate_host(suffix: String) -> impl Strategy<Value = String> {
    let s = suffix.clone();
    prop_oneof![
        // Legitimate subdomains, one or more labels deep.
        prop::collection::vec(label(), 1..3).prop_map(move |l| format!("{}.{s}", l.join("."))),
        Just(suffix.clone()),
        // Glued on without a dot: badexample.com.
        label().prop_map({
            let s = suffix.clone();
            move |l| format!("{l}{s}")
        }),
        // The suffix in front: example.com.evil.com.
        domain().prop_map({
            let s = suffix.clone();
            move |d| format!("{s}.{d}")
        }),
        // Mixed case of a real subdomain: never sent by a browser, never allowed.
        (label(), any::<prop::sample::Index>()).prop_map({
            let s = suffix.clone();
            move |(l, i)| {
                let mut h = format!("{l}.{s}").into_bytes();
                let at = i.index(h.len());
                h[at] = h[at].to_ascii_uppercase();
                String::from_utf8(h).unwrap()
            }
        }),
        host(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// An origin matches `scheme://*.suffix[:port]` exactly when its host ends with `.suffix` on
    /// a label boundary, with at least one label in front, and scheme and port agree.
    #[test]
    fn subdomain_patterns_match_only_on_a_label_boundary(
        (suffix, host) in domain().prop_flat_map(|s| (Just(s.clone()), candidate_host(s))),
        pattern_scheme in scheme(),
        origin_scheme in scheme(),
        pattern_port in select(vec!["", ":*", ":8443"]),
        origin_port in select(vec![None, Some(8443u16), Some(3000)]),
    ) {
        let pattern_text = format!("{pattern_scheme}://*.{suffix}{pattern_port}");
        let pattern = OriginPattern::parse(&pattern_text).unwrap();
        let origin_text = serialize(origin_scheme, &host, origin_port);
        let label_boundary = host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}"));
        let port_ok = match pattern_port {
            ":*" => true,
            ":8443" => origin_port == Some(8443),
            _ => origin_port.is_none(),
        };
        let expected = label_boundary && port_ok && pattern_scheme == origin_scheme;

        match Origin::parse(&origin_text) {
            Ok(origin) => {
                prop_assert_eq!(pattern.matches(&origin), expected, "{} vs {}", pattern_text, origin_text);
            }
            // Only non-canonical text fails to parse (upper case): it must then never be allowed.
            Err(_) => {
                prop_assert!(host.bytes().any(|b| b.is_ascii_uppercase()), "{} should parse", origin_text);
            }
        }

        // The same through the engine, with credentials off so http entries are valid.
        let policy = policy_of(&[
            ("CORS_ALLOW_ORIGINS", pattern_text.clone()),
            ("CORS_ALLOW_CREDENTIALS", "false".into()),
        ]);
        let allowed = is_allowed(&policy, &actual(&origin_text));
        let canonical = Origin::parse(&origin_text).is_ok();
        prop_assert_eq!(allowed, expected && canonical, "{} vs {}", pattern_text, origin_text);
        prop_assert_eq!(is_allowed(&policy, &preflight(&origin_text, "GET", None)), allowed);
    }

    /// A list of exact origins allows exactly the byte-identical origins, nothing near them.
    #[test]
    fn exact_entries_match_only_the_byte_identical_origin(
        list in prop::collection::vec(canonical_origin(), 1..6),
        which in any::<prop::sample::Index>(),
        other in any::<prop::sample::Index>(),
        mutation in 0usize..13,
        foreign in origin_like_text(),
    ) {
        let policy = policy_of(&[
            ("CORS_ALLOW_ORIGINS", list.join(",")),
            ("CORS_ALLOW_CREDENTIALS", "false".into()),
        ]);
        let target: &String = which.get(&list[..]);
        let candidates = [
            target.clone(),
            near_miss(target, other.get::<String>(&list), mutation),
            foreign,
        ];
        for candidate in &candidates {
            let expected = list.contains(candidate);
            prop_assert_eq!(is_allowed(&policy, &actual(candidate)), expected, "{}", candidate);
            prop_assert_eq!(is_allowed(&policy, &preflight(candidate, "GET", None)), expected, "{}", candidate);
        }
    }

    /// GHSA-vhxv-fg4m-p2w8: with two origins allowed, nothing made of their pieces is allowed —
    /// no concatenation, no prefix, no suffix.
    #[test]
    fn no_concatenation_prefix_or_suffix_of_two_allowed_origins_is_allowed(
        a in domain(), b in domain(),
    ) {
        let (oa, ob) = (format!("https://{a}"), format!("https://{b}"));
        let policy = policy_of(&[
            ("CORS_ALLOW_ORIGINS", format!("{oa},{ob}")),
            ("CORS_ALLOW_CREDENTIALS", "false".into()),
        ]);
        let mut candidates = vec![
            format!("https://{a}{b}"),
            format!("https://{b}{a}"),
            format!("https://{a}.{b}"),
            format!("https://{b}.{a}"),
            format!("https://{a}-{b}"),
            format!("{oa}{ob}"),
            format!("{oa},{ob}"),
            format!("{oa}, {ob}"),
            format!("{oa} {ob}"),
        ];
        for o in [&oa, &ob] {
            candidates.extend((1..o.len()).map(|i| o[..i].to_string()));
            candidates.extend((1..o.len()).map(|i| o[i..].to_string()));
        }
        for c in candidates.iter().filter(|c| **c != oa && **c != ob) {
            prop_assert!(!is_allowed(&policy, &actual(c)), "{} allowed by {},{}", c, oa, ob);
            prop_assert!(!is_allowed(&policy, &preflight(c, "PUT", None)), "{} allowed by {},{}", c, oa, ob);
        }
        prop_assert!(is_allowed(&policy, &actual(&oa)) && is_allowed(&policy, &actual(&ob)));
    }

    // -----------------------------------------------------------------------------------------
    // Parsers
    // -----------------------------------------------------------------------------------------

    /// Every canonical origin parses and displays as itself.
    #[test]
    fn canonical_origins_round_trip(text in canonical_origin()) {
        let origin = Origin::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(origin.to_string(), text.clone());
        // An exact allow-list entry is the same text, and round-trips too.
        prop_assert_eq!(OriginPattern::parse(&text).unwrap().to_string(), text);
    }

    /// Parsing never panics, and whatever parses is canonical: it displays as the input, byte for
    /// byte (the parser accepts nothing a browser would serialize differently).
    #[test]
    fn parsing_arbitrary_text_never_panics_and_accepts_only_canonical_text(text in origin_like_text()) {
        if let Ok(origin) = Origin::parse(&text) {
            prop_assert_eq!(origin.to_string(), text.clone());
            let authority = &text[text.find("://").unwrap() + 3..];
            prop_assert!(!text.bytes().any(|b| b.is_ascii_uppercase()), "{}", text);
            prop_assert!(!authority.contains(['/', '?', '#', '@']), "{}", text);
        }
        if let Ok(pattern) = OriginPattern::parse(&text) {
            let shown = pattern.to_string();
            prop_assert_eq!(&shown, &text);
            prop_assert_eq!(OriginPattern::parse(&shown).unwrap(), pattern);
        }
    }

    /// The `Access-Control-Request-Headers` walk is bounded and yields only tokens.
    #[test]
    fn header_list_walk_is_bounded_and_yields_tokens(
        list in prop_oneof![
            any::<String>(),
            "[a-zA-Z0-9, \t;:\"()-]{0,200}",
            (prop::collection::vec("[a-z-]{1,8}", 0..150), select(vec![",", ", ", ",,", " , \t"]))
                .prop_map(|(n, sep)| n.join(sep)),
            (1usize..6000).prop_map(|n| ",".repeat(n)),
        ],
    ) {
        let mut visited = 0usize;
        let result = for_each_name(&list, |name| {
            visited += 1;
            if !is_token(name) {
                return Err(format!("not a token: {name:?}"));
            }
            Ok(())
        });
        prop_assert!(visited <= MAX_REQUEST_HEADERS, "{} names visited", visited);
        if let Ok(Err(e)) = &result {
            return Err(TestCaseError::fail(e.clone()));
        }
        if list.len() > MAX_REQUEST_HEADERS_LEN {
            prop_assert!(result.is_err() && visited == 0);
        }
        if let Ok(Ok(())) = result {
            // Success means every non-empty element was visited.
            let elements = list.split(',').filter(|e| !e.trim_matches([' ', '\t']).is_empty()).count();
            prop_assert_eq!(visited, elements);
        }
    }

    // -----------------------------------------------------------------------------------------
    // The engine
    // -----------------------------------------------------------------------------------------

    /// In production mode a refused preflight says nothing: 403 and no `Access-Control-*` header.
    #[test]
    fn refused_preflight_without_debug_carries_no_cors_header(
        generated in generated_policy(Some(false)),
        request in browser_request(),
        hostile_headers in prop_oneof![Just(None), any::<String>().prop_map(Some), (1usize..5000).prop_map(|n| Some(",".repeat(n)))],
    ) {
        let policy = policy_of(&generated.vars);
        let origin = pick_origin(&generated, &request);
        for list in [request.request_headers.as_deref(), hostile_headers.as_deref()] {
            let facts = preflight(&origin, &request.method, list);
            let Decision::Preflight(d) = decide(&policy, &facts) else {
                return Err(TestCaseError::fail("OPTIONS with Origin and ACRM must be a preflight"));
            };
            if let Outcome::Refused(refusal) = &d.outcome {
                // A header list no browser sends is a 400; every other refusal a 403.
                let expected = if matches!(refusal, Refusal::HeaderList(_)) { 400 } else { 403 };
                prop_assert_eq!(d.status, expected);
                prop_assert!(
                    d.headers.iter().all(|(n, _)| !n.to_ascii_lowercase().starts_with("access-control-")),
                    "{:?}", d.headers
                );
            }
        }
    }

    /// The engine's "allowed" is the browser's "pass": for every request it allows, its status and
    /// headers pass Chromium's check in each credentials mode the policy supports; for every
    /// origin it refuses, the check fails in both modes. In debug mode, a refused method or
    /// header answered 204 still fails the check, which then names the culprit: the very method
    /// or header the engine refused, even when other requested headers are allowed.
    #[test]
    fn engine_answers_pass_the_browser_check_exactly_when_allowed(
        generated in generated_policy(None),
        request in browser_request(),
    ) {
        let policy = policy_of(&generated.vars);
        let origin = pick_origin(&generated, &request);
        let facts = if request.preflight {
            preflight(&origin, &request.method, request.request_headers.as_deref())
        } else {
            RequestFacts { method: &request.method, origin: Some(&origin), ..Default::default() }
        };
        let (status, headers, outcome) = match decide(&policy, &facts) {
            Decision::Preflight(p) => (p.status, p.headers, p.outcome),
            Decision::Actual(a) => (200, a.headers, a.outcome),
        };
        let headers: Vec<(&str, &str)> = headers.iter().collect();
        let modes: &[CredentialsMode] = if policy.credentials {
            &[CredentialsMode::Omit, CredentialsMode::Include]
        } else {
            &[CredentialsMode::Omit]
        };
        let kind = if request.preflight { RequestKind::Preflight } else { RequestKind::Actual };
        for &credentials in modes {
            let browser_request = BrowserRequest {
                kind,
                origin: &origin,
                method: &request.method,
                request_headers: if request.preflight { request.request_headers.as_deref() } else { None },
                credentials,
            };
            let verdict = browser::check(&browser_request, status, &headers);
            match &outcome {
                Outcome::Allowed { .. } => prop_assert!(
                    verdict.is_pass(),
                    "engine allowed ({}) but the browser says {:?}\npolicy {:?}\nrequest {:?}\nanswer {} {:?}",
                    outcome, verdict, generated.vars, facts, status, headers
                ),
                Outcome::Refused(_) => prop_assert!(
                    !verdict.is_pass(),
                    "engine refused ({}) but the browser passes\npolicy {:?}\nrequest {:?}\nanswer {} {:?}",
                    outcome, generated.vars, facts, status, headers
                ),
                Outcome::NoOrigin | Outcome::CorsOff => {}
            }
            if status == 204 {
                let named = |error: CorsError, parameter: String| BrowserVerdict::Blocked { error, failed_parameter: parameter };
                let culprit = match &outcome {
                    Outcome::Refused(Refusal::MethodNotAllowed { method }) => {
                        Some(named(CorsError::MethodDisallowedByPreflightResponse, method.to_string()))
                    }
                    Outcome::Refused(Refusal::HeaderNotAllowed { header }) => {
                        Some(named(CorsError::HeaderDisallowedByPreflightResponse, header.to_ascii_lowercase()))
                    }
                    Outcome::Refused(Refusal::AuthorizationNotCoveredByWildcard) => {
                        Some(named(CorsError::HeaderDisallowedByPreflightResponse, "authorization".into()))
                    }
                    _ => None,
                };
                if let Some(culprit) = culprit {
                    prop_assert_eq!(
                        &verdict, &culprit,
                        "debug mode should let Chromium name what the engine refused\npolicy {:?}\nrequest {:?}\nanswer {} {:?}",
                        generated.vars, facts, status, headers
                    );
                }
            }
        }
        // A refused origin fails even in the mode the policy does not support.
        if let Outcome::Refused(Refusal::OriginNotAllowed { .. }) = outcome {
            for credentials in [CredentialsMode::Omit, CredentialsMode::Include] {
                let r = BrowserRequest { kind, origin: &origin, method: &request.method, request_headers: None, credentials };
                prop_assert!(!browser::check(&r, status, &headers).is_pass());
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Configuration
    // -----------------------------------------------------------------------------------------

    /// Any input either resolves or yields a non-empty list of errors, each naming its variable
    /// and saying what would be accepted.
    #[test]
    fn config_errors_name_the_variable_and_what_is_accepted(
        fields in prop::collection::vec(prop::option::of(config_value()), 8),
        trusted in prop_oneof![3 => Just(LAB.to_string()), 1 => origin_like_text()],
    ) {
        let input = PolicyInput {
            preset: fields[0].clone(),
            allow_origins: fields[1].clone(),
            allow_methods: fields[2].clone(),
            allow_headers: fields[3].clone(),
            expose_headers: fields[4].clone(),
            max_age: fields[5].clone(),
            allow_credentials: fields[6].clone(),
            debug: fields[7].clone(),
        };
        match input.resolve(&trusted) {
            Ok(effective) => prop_assert_eq!(effective.fields.len(), 7),
            Err(ConfigErrors(errors)) => {
                prop_assert!(!errors.is_empty());
                for e in &errors {
                    let text = e.to_string();
                    prop_assert!(text.starts_with(e.variable), "{}", text);
                    prop_assert!(text.contains("accepted:"), "{}", text);
                    prop_assert!(cors_policy::config::VARIABLES.contains(&e.variable), "{}", e.variable);
                }
                let all = ConfigErrors(errors.clone()).to_string();
                let header = format!("invalid configuration: {} problem", errors.len());
                prop_assert!(all.starts_with(&header), "{}", all);
            }
        }
    }
}

/// Values for any `CORS_*` variable: valid ones, near misses, and junk.
fn config_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        select(vec![
            "*",
            "true",
            "false",
            "TRUE",
            "yes",
            "0",
            "600",
            "86400",
            "86401",
            "-1",
            "strict",
            "permissive",
            "off",
            "broken-reflect-origin",
            "broken-allow-null",
            "GET",
            "PATCH",
            "patch",
            "TRACE",
            "connect",
            "content-type",
            "Cookie",
            "Sec-Fetch-Mode",
            "Access-Control-Allow-Origin",
            "Set-Cookie",
            "x-token",
            "authorization",
            "null",
            "https://*.com",
            "https://*.co.uk",
            "http://*.localhost",
            "http://localhost:*",
            "https://*.example.com:*",
            "https://a.com/",
            "HTTPS://a.com",
            "https://a.com:443",
            "http://evil.example",
            "https://x.*.com",
            "",
            " ",
            "ü",
        ])
        .prop_map(str::to_string),
        canonical_origin(),
        any::<String>(),
    ];
    prop::collection::vec(piece, 1..5).prop_map(|p| p.join(","))
}

/// The advisory's own example, spelled out.
#[test]
fn ghsa_vhxv_fg4m_p2w8_regression() {
    let policy = policy_of(&[
        (
            "CORS_ALLOW_ORIGINS",
            "https://foo.com,https://bar.com".into(),
        ),
        ("CORS_ALLOW_CREDENTIALS", "false".into()),
    ]);
    for evil in [
        "https://barfoo.com",
        "https://foobar.com",
        "https://foo.combar.com",
        "https://foo.com.bar.com",
        "https://foo.com,https://bar.com",
        "https://fo",
        "oo.com",
    ] {
        assert!(!is_allowed(&policy, &actual(evil)), "{evil}");
    }
}

proptest! {
    #![proptest_config(config())]

    /// The same for what no browser sends: arbitrary `Access-Control-Request-Method` and
    /// `-Headers` text. The engine may refuse it; whatever it allows, its answer must still pass.
    /// (This found the engine echoing a non-token method, such as `[`, into
    /// `Access-Control-Allow-Methods` under `CORS_ALLOW_METHODS=*` with credentials; see
    /// `requested_method_must_be_a_token_even_under_any_method` in src/engine.rs.)
    #[test]
    fn hostile_preflights_allowed_only_with_a_passing_answer(
        generated in generated_policy(None),
        which in any::<usize>(),
        method in prop_oneof![any::<String>(), "[ -~]{0,12}", select(METHODS.to_vec()).prop_map(str::to_string)],
        list in prop_oneof![Just(None), any::<String>().prop_map(Some), "[ -~\t]{0,40}".prop_map(Some)],
    ) {
        let policy = policy_of(&generated.vars);
        let origin = if generated.probes.is_empty() {
            "https://anything.example".to_string()
        } else {
            generated.probes[which % generated.probes.len()].clone()
        };
        let facts = preflight(&origin, &method, list.as_deref());
        let Decision::Preflight(d) = decide(&policy, &facts) else {
            return Err(TestCaseError::fail("must be a preflight"));
        };
        if let Outcome::Allowed { .. } = d.outcome {
            let headers: Vec<(&str, &str)> = d.headers.iter().collect();
            let request = BrowserRequest {
                kind: RequestKind::Preflight,
                origin: &origin,
                method: &method,
                request_headers: list.as_deref(),
                credentials: CredentialsMode::Omit,
            };
            let verdict = browser::check(&request, d.status, &headers);
            prop_assert!(verdict.is_pass(), "{:?}\npolicy {:?}\nrequest {:?}\nanswer {:?}", verdict, generated.vars, facts, headers);
        }
    }
}
