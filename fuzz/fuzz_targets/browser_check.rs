//! The browser-side check (`cors_policy::browser::check`) on arbitrary responses.
//!
//! Invariants: it never panics; every block has a console reason; and a pass means what the
//! Fetch standard requires — `Access-Control-Allow-Origin` present and either `*` without
//! credentials or exactly the origin, `Access-Control-Allow-Credentials: true` with credentials,
//! and for a preflight a 2xx status, the method allowed and every requested header allowed.
#![no_main]

use arbitrary::Arbitrary;
use cors_policy::browser::{self, BrowserRequest, BrowserVerdict, CredentialsMode, RequestKind};
use cors_policy::engine::{ACAC, ACAH, ACAM, ACAO};
use cors_policy::method::is_safelisted;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Name<'a> {
    AllowOrigin,
    AllowCredentials,
    AllowMethods,
    AllowHeaders,
    Upper(u8),
    Other(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    preflight: bool,
    origin: &'a str,
    method: &'a str,
    request_headers: Option<&'a str>,
    include: bool,
    status: u16,
    headers: Vec<(Name<'a>, &'a str)>,
}

fuzz_target!(|input: Input<'_>| {
    let headers: Vec<(String, &str)> = input
        .headers
        .iter()
        .map(|(name, value)| {
            let name = match name {
                Name::AllowOrigin => ACAO.to_string(),
                Name::AllowCredentials => ACAC.to_string(),
                Name::AllowMethods => ACAM.to_string(),
                Name::AllowHeaders => ACAH.to_string(),
                // Header names are case-insensitive.
                Name::Upper(i) => [ACAO, ACAC, ACAM, ACAH][*i as usize % 4].to_ascii_uppercase(),
                Name::Other(n) => n.to_string(),
            };
            (name, *value)
        })
        .collect();
    let credentials = if input.include {
        CredentialsMode::Include
    } else {
        CredentialsMode::Omit
    };
    let kind = if input.preflight {
        RequestKind::Preflight
    } else {
        RequestKind::Actual
    };
    let request = BrowserRequest {
        kind,
        origin: input.origin,
        method: input.method,
        request_headers: input.request_headers,
        credentials,
    };
    let verdict = browser::check(&request, input.status, &headers);
    let BrowserVerdict::Pass = verdict else {
        let reason = verdict.reason().expect("a block has a reason");
        assert!(!reason.is_empty());
        // Every error of a preflight's check names the preflight, and none of an actual one's.
        if let BrowserVerdict::Blocked { error, .. } = &verdict {
            assert_eq!(
                error.name().contains("Preflight"),
                input.preflight,
                "{error}"
            );
        }
        return;
    };

    // What a pass requires. Values of repeated lines are joined with ", ", as browsers do.
    let joined = |name: &str| -> Option<String> {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let allow_origin = joined(ACAO).expect("a pass needs Access-Control-Allow-Origin");
    if input.include {
        assert_eq!(
            allow_origin, input.origin,
            "credentialed pass needs the exact origin"
        );
        assert_eq!(joined(ACAC).as_deref(), Some("true"));
    } else {
        assert!(allow_origin == "*" || allow_origin == input.origin);
    }
    if !input.preflight {
        return;
    }
    assert!(
        (200..300).contains(&input.status),
        "preflight pass with {}",
        input.status
    );
    let list = |name: &str| -> Vec<String> {
        joined(name)
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let wildcard = |l: &[String]| !input.include && l.iter().any(|m| m == "*");
    let methods = list(ACAM);
    assert!(
        is_safelisted(input.method)
            || methods.iter().any(|m| m == input.method)
            || wildcard(&methods),
        "method {:?} passed with {methods:?}",
        input.method
    );
    let allowed = list(ACAH);
    if let Some(requested) = input.request_headers {
        if !wildcard(&allowed) {
            for name in requested
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                assert!(
                    allowed.iter().any(|h| h.eq_ignore_ascii_case(name)),
                    "header {name:?} passed with {allowed:?}"
                );
            }
        }
    }
});
