//! `PolicyInput::resolve` on arbitrary `CORS_*` values.
//!
//! Invariants: resolution never panics; it returns a policy or a non-empty list of errors, each
//! naming a `CORS_*` variable and what it accepts; a resolved (non-broken) policy never pairs
//! credentials with a wildcard origin or exposure; and every exact origin it lists is allowed,
//! byte for byte, by the engine.
#![no_main]

use arbitrary::Arbitrary;
use cors_policy::config::VARIABLES;
use cors_policy::engine::{decide, Outcome, RequestFacts};
use cors_policy::pattern::{OriginPattern, PortRule};
use cors_policy::policy::{AllowOrigins, ExposeHeaders};
use cors_policy::{ConfigErrors, PolicyInput};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    preset: Option<String>,
    allow_origins: Option<String>,
    allow_methods: Option<String>,
    allow_headers: Option<String>,
    expose_headers: Option<String>,
    max_age: Option<String>,
    allow_credentials: Option<String>,
    debug: Option<String>,
    /// `None`: the lab's default trusted origin.
    trusted_origin: Option<String>,
}

fuzz_target!(|input: Input| {
    let policy_input = PolicyInput {
        preset: input.preset,
        allow_origins: input.allow_origins,
        allow_methods: input.allow_methods,
        allow_headers: input.allow_headers,
        expose_headers: input.expose_headers,
        max_age: input.max_age,
        allow_credentials: input.allow_credentials,
        debug: input.debug,
    };
    let trusted = input
        .trusted_origin
        .unwrap_or_else(|| "http://localhost:8080".into());
    let effective = match policy_input.resolve(&trusted) {
        Ok(effective) => effective,
        Err(ConfigErrors(errors)) => {
            assert!(!errors.is_empty(), "Err without errors");
            for e in &errors {
                assert!(VARIABLES.contains(&e.variable), "{}", e.variable);
                let text = e.to_string();
                assert!(text.starts_with(e.variable), "{text}");
                assert!(text.contains("accepted: "), "{text}");
            }
            return;
        }
    };
    let policy = &effective.policy;
    if effective.preset.is_broken() || !policy.enabled {
        return;
    }
    if policy.credentials {
        assert!(
            !matches!(policy.origins, AllowOrigins::Any),
            "* with credentials"
        );
        assert!(
            !matches!(policy.expose, ExposeHeaders::Any),
            "expose * with credentials"
        );
    }
    let AllowOrigins::List(list) = &policy.origins else {
        return;
    };
    for entry in list.entries() {
        // A configured origin, and a host under a configured pattern, are allowed.
        let probe = match entry {
            OriginPattern::Exact(text) => text.clone(),
            OriginPattern::Subdomains {
                scheme,
                suffix,
                port,
            } => match port {
                PortRule::Exactly(Some(p)) => format!("{}://x.{suffix}:{p}", scheme.as_str()),
                _ => format!("{}://x.{suffix}", scheme.as_str()),
            },
            OriginPattern::AnyPort { scheme, host } => format!("{}://{host}:1", scheme.as_str()),
        };
        if probe.len() > cors_policy::origin::MAX_ORIGIN_LEN {
            continue; // a long suffix plus "x." can exceed what the engine reads
        }
        let facts = RequestFacts {
            method: "GET",
            origin: Some(&probe),
            ..Default::default()
        };
        let decision = decide(policy, &facts);
        assert!(
            matches!(decision.outcome(), Outcome::Allowed { .. }),
            "{entry} does not allow {probe}: {}",
            decision.outcome()
        );
        // Never the origin with a trailing slash, nor in upper case.
        for near in [format!("{probe}/"), probe.to_ascii_uppercase()] {
            if near == probe {
                continue;
            }
            let facts = RequestFacts {
                method: "GET",
                origin: Some(&near),
                ..Default::default()
            };
            assert!(
                !matches!(decide(policy, &facts).outcome(), Outcome::Allowed { .. }),
                "{entry} allows {near}"
            );
        }
    }
});
