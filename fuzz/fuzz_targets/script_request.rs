//! What a script's request puts on the wire (`fetch::prepare`) and its walk through a policy
//! (`walkthrough::walk`), on arbitrary methods, headers and origins: the input of the page's
//! *Try a request* section, which any page can send.
//!
//! Invariants (the Fetch standard's): `Access-Control-Request-Headers` is lower case, sorted,
//! each name once, never a forbidden header, and only names that are sent; a preflight goes first
//! exactly when the method is not safelisted or that list is not empty; a walk sends the actual
//! request exactly when no preflight failed, and script's verdict is the last check's.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use cors_policy::browser::CredentialsMode;
use cors_policy::fetch::{prepare, ScriptRequest};
use cors_policy::header::is_forbidden_request_header;
use cors_policy::method::is_safelisted;
use cors_policy::walkthrough::walk;
use cors_policy::{Policy, PolicyInput};
use libfuzzer_sys::fuzz_target;

fn policies() -> &'static [Policy] {
    static POLICIES: OnceLock<Vec<Policy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let configs: [&[(&str, &str)]; 4] = [
            &[],
            &[("CORS_DEBUG", "false")],
            &[("CORS_PRESET", "permissive")],
            &[("CORS_PRESET", "broken-double-origin")],
        ];
        configs
            .iter()
            .map(|pairs| {
                PolicyInput::from_pairs(pairs)
                    .resolve("http://localhost:8080")
                    .expect("fuzz policies are valid")
                    .policy
            })
            .collect()
    })
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    policy: u8,
    origin: &'a str,
    method: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    credentials: bool,
}

fuzz_target!(|input: Input<'_>| {
    let request = ScriptRequest {
        method: input.method,
        headers: &input.headers,
    };
    let Ok(sent) = prepare(&request) else {
        return;
    };
    if let Some(list) = &sent.request_headers {
        let names: Vec<&str> = list.split(',').collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        for name in names {
            assert_eq!(name, name.to_ascii_lowercase());
            assert!(!is_forbidden_request_header(name), "{name:?}");
            assert!(sent.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
        }
    }
    assert_eq!(
        sent.needs_preflight(),
        !is_safelisted(&sent.method) || sent.request_headers.is_some()
    );

    let all = policies();
    let policy = &all[input.policy as usize % all.len()];
    let credentials = match input.credentials {
        true => CredentialsMode::Include,
        false => CredentialsMode::Omit,
    };
    let w = walk(policy, input.origin, &request, credentials).expect("prepared above");
    assert_eq!(w.sent, sent);
    match (&w.preflight, &w.actual) {
        (Some(p), None) => assert!(!p.verdict.is_pass() && w.verdict == p.verdict),
        (p, Some(a)) => {
            assert!(p.as_ref().is_none_or(|p| p.verdict.is_pass()));
            assert_eq!(w.verdict, a.verdict);
        }
        (None, None) => panic!("a walk sends at least one request"),
    }
});
