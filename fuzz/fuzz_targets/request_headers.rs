//! `Access-Control-Request-Headers` parsing and `engine::decide` on arbitrary requests, against
//! a handful of policies (strict, production mode, permissive, wildcards with credentials, a
//! 1000-origin list with a pattern, a broken preset).
//!
//! Invariants: the header-list walk visits at most `MAX_REQUEST_HEADERS` names, all tokens; a
//! refused preflight in production mode is a bare 403 (a 400 when the header list is not one a
//! browser would send, in any mode); a refused origin never gets
//! `Access-Control-Allow-Origin` and fails the browser check; a refused preflight in debug mode
//! never lets through the method or header that failed; and whatever the engine allows passes the browser check
//! in every credentials mode the policy supports.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use cors_policy::browser::{self, BrowserRequest, CredentialsMode, RequestKind};
use cors_policy::engine::{decide, Decision, Outcome, Refusal, RequestFacts, ACAH, ACAM, ACAO};
use cors_policy::header::{for_each_name, MAX_REQUEST_HEADERS};
use cors_policy::method::is_token;
use cors_policy::{Policy, PolicyInput};
use libfuzzer_sys::fuzz_target;

const KNOWN_ORIGINS: [&str; 6] = [
    "http://localhost:8080",
    "https://a.example.com",
    "https://app500.example.com",
    "https://x.y.example.org:8443",
    "http://127.0.0.1:8081",
    "null",
];

fn policies() -> &'static [(Policy, bool)] {
    static POLICIES: OnceLock<Vec<(Policy, bool)>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let thousand: Vec<String> = (0..1000)
            .map(|i| format!("https://app{i}.example.com"))
            .chain(["https://*.example.org:*".to_string()])
            .collect();
        let thousand = thousand.join(",");
        let configs: Vec<(Vec<(&str, &str)>, bool)> = vec![
            (vec![], false),
            (vec![("CORS_DEBUG", "false")], false),
            (
                vec![("CORS_PRESET", "permissive"), ("CORS_DEBUG", "false")],
                false,
            ),
            (
                vec![
                    (
                        "CORS_ALLOW_ORIGINS",
                        "http://localhost:8080,https://*.example.com",
                    ),
                    ("CORS_ALLOW_METHODS", "*"),
                    ("CORS_ALLOW_HEADERS", "*"),
                    ("CORS_DEBUG", "false"),
                ],
                false,
            ),
            (
                vec![
                    ("CORS_ALLOW_ORIGINS", &thousand),
                    ("CORS_ALLOW_HEADERS", "content-type,x-token"),
                ],
                false,
            ),
            (
                vec![
                    (
                        "CORS_ALLOW_ORIGINS",
                        "https://a.example.com,http://127.0.0.1:8081",
                    ),
                    ("CORS_ALLOW_CREDENTIALS", "false"),
                    ("CORS_ALLOW_HEADERS", "*"),
                    ("CORS_EXPOSE_HEADERS", "*"),
                    ("CORS_DEBUG", "false"),
                ],
                false,
            ),
            (vec![("CORS_PRESET", "broken-double-origin")], true),
            (vec![("CORS_PRESET", "broken-auth-preflight")], true),
        ];
        configs
            .into_iter()
            .map(|(pairs, broken)| {
                let policy = PolicyInput::from_lookup(|k| {
                    pairs
                        .iter()
                        .find(|(n, _)| *n == k)
                        .map(|(_, v)| v.to_string())
                })
                .resolve("http://localhost:8080")
                .expect("fuzz policies are valid")
                .policy;
                (policy, broken)
            })
            .collect()
    })
}

#[derive(Arbitrary, Debug)]
enum OriginChoice<'a> {
    Known(u8),
    Any(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    policy: u8,
    origin: Option<OriginChoice<'a>>,
    /// The request's own method; `OPTIONS` most of the time, so most inputs are preflights.
    method: Option<&'a str>,
    request_method: Option<&'a str>,
    request_headers: Option<&'a str>,
}

fuzz_target!(|input: Input<'_>| {
    if let Some(list) = input.request_headers {
        let mut visited = 0;
        let _ = for_each_name(list, |name| {
            visited += 1;
            assert!(is_token(name), "{name:?}");
            Ok::<(), ()>(())
        });
        assert!(visited <= MAX_REQUEST_HEADERS);
    }

    let all = policies();
    let (policy, broken) = &all[input.policy as usize % all.len()];
    let origin = input.origin.map(|o| match o {
        OriginChoice::Known(i) => KNOWN_ORIGINS[i as usize % KNOWN_ORIGINS.len()],
        OriginChoice::Any(text) => text,
    });
    let facts = RequestFacts {
        method: input.method.unwrap_or("OPTIONS"),
        origin,
        request_method: input.request_method,
        request_headers: input.request_headers,
    };
    let decision = decide(policy, &facts);
    if *broken {
        return; // wrong on purpose: only "no panic" applies
    }
    let (status, headers, outcome, kind) = match decision {
        Decision::Preflight(p) => (p.status, p.headers, p.outcome, RequestKind::Preflight),
        Decision::Actual(a) => (200, a.headers, a.outcome, RequestKind::Actual),
    };
    let pairs: Vec<(&str, &str)> = headers.iter().collect();
    let origin = origin.unwrap_or_default();
    let acrm = input.request_method.unwrap_or_default();
    let request = |credentials| BrowserRequest {
        kind,
        origin,
        method: if kind == RequestKind::Preflight {
            acrm
        } else {
            facts.method
        },
        request_headers: if kind == RequestKind::Preflight {
            input.request_headers
        } else {
            None
        },
        credentials,
    };
    let modes: &[CredentialsMode] = if policy.credentials {
        &[CredentialsMode::Omit, CredentialsMode::Include]
    } else {
        &[CredentialsMode::Omit]
    };

    match &outcome {
        Outcome::Allowed { .. } => {
            for &mode in modes {
                let verdict = browser::check(&request(mode), status, &pairs);
                assert!(
                    verdict.is_pass(),
                    "allowed but {verdict:?}: {facts:?} -> {status} {pairs:?}"
                );
            }
        }
        Outcome::Refused(refusal) => {
            if kind == RequestKind::Preflight {
                // A header list no browser would send is a bare 400, in any mode.
                if let Refusal::HeaderList(_) = refusal {
                    assert_eq!(status, 400);
                    assert!(pairs.is_empty(), "{pairs:?}");
                } else if !policy.debug {
                    assert_eq!(status, 403);
                }
                if !policy.debug {
                    assert!(
                        pairs.iter().all(|(n, _)| !n.starts_with("access-control-")),
                        "{pairs:?}"
                    );
                }
            }
            match refusal {
                Refusal::OriginNotAllowed { .. } => {
                    assert!(headers.get(ACAO).is_none(), "{pairs:?}");
                    for mode in [CredentialsMode::Omit, CredentialsMode::Include] {
                        assert!(!browser::check(&request(mode), status, &pairs).is_pass());
                    }
                }
                Refusal::MethodNotAllowed { .. } => {
                    assert!(headers.get(ACAM).is_none(), "{pairs:?}")
                }
                // Debug mode lists the requested headers it allows, never the refused one,
                // so that Chromium names the refused one.
                Refusal::HeaderNotAllowed { header } => assert!(
                    headers.get(ACAH).is_none_or(|l| !l
                        .split(',')
                        .any(|n| n.eq_ignore_ascii_case(header))),
                    "{pairs:?}"
                ),
                Refusal::AuthorizationNotCoveredByWildcard => assert!(
                    headers.get(ACAH).is_none_or(|l| l
                        .split(',')
                        .all(|n| n != "*" && !n.eq_ignore_ascii_case("authorization"))),
                    "{pairs:?}"
                ),
                _ => assert!(headers.get(ACAH).is_none(), "{pairs:?}"),
            }
        }
        Outcome::NoOrigin | Outcome::CorsOff => assert!(headers.is_empty(), "{pairs:?}"),
    }
});
