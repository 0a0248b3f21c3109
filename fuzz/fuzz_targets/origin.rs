//! Origin parsing and pattern matching on arbitrary text.
//!
//! Invariants: parsing never panics; whatever parses is canonical and displays as its input;
//! a pattern that parses displays as its input and re-parses to itself; and a match means what
//! the pattern says — byte equality for an exact entry, a `.suffix` on a label boundary for a
//! subdomain pattern, the same host for a port wildcard — the same through the allow list.
#![no_main]

use arbitrary::Arbitrary;
use cors_policy::pattern::{OriginPattern, PortRule};
use cors_policy::policy::OriginList;
use cors_policy::Origin;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    pattern: &'a str,
    origin: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let origin = Origin::parse(input.origin);
    if let Ok(o) = &origin {
        assert_eq!(o.to_string(), input.origin);
        assert!(!input.origin.bytes().any(|b| b.is_ascii_uppercase()));
        assert!(!input.origin.ends_with('/'));
    }
    let Ok(pattern) = OriginPattern::parse(input.pattern) else {
        return;
    };
    let shown = pattern.to_string();
    assert_eq!(shown, input.pattern);
    assert_eq!(OriginPattern::parse(&shown).as_ref(), Ok(&pattern));

    let list = OriginList::new(vec![pattern.clone()]);
    let listed = list.find(input.origin).is_some();
    let Ok(o) = origin else {
        assert!(!listed, "{} allows unparsable {:?}", pattern, input.origin);
        return;
    };
    let matched = pattern.matches(&o);
    assert_eq!(listed, matched, "{pattern} vs {}", input.origin);
    let expected = match &pattern {
        OriginPattern::Exact(text) => text == input.origin,
        OriginPattern::Subdomains {
            scheme,
            suffix,
            port,
        } => {
            let port_ok = match port {
                PortRule::Any => true,
                PortRule::Exactly(p) => *p == o.port,
            };
            *scheme == o.scheme
                && port_ok
                && o.host.len() > suffix.len() + 1
                && o.host.ends_with(suffix.as_str())
                && o.host.as_bytes()[o.host.len() - suffix.len() - 1] == b'.'
        }
        OriginPattern::AnyPort { scheme, host } => *scheme == o.scheme && o.host == host,
    };
    assert_eq!(matched, expected, "{pattern} vs {}", input.origin);
});
