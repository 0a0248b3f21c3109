//! Allow-list entries: which origins a policy lets read its responses.
//!
//! An entry of `CORS_ALLOW_ORIGINS` is one of
//!
//! * an **exact origin** — `https://app.example.com`, `http://localhost:8080` — compared to the
//!   request's `Origin` byte for byte, as browsers compare `Access-Control-Allow-Origin`;
//! * a **subdomain pattern** — `https://*.example.com` — one or more labels in front of
//!   `example.com`, never the bare domain itself (list it separately when wanted);
//! * a **port wildcard** — `http://localhost:*` — the host on any port (handy for dev servers).
//!   The two wildcards combine: `https://*.example.com:*`.
//!
//! The `*` that allows every origin is not a pattern: it is [`crate::policy::AllowOrigins::Any`].
//!
//! Matching works on the parsed request origin, never on raw string prefixes or suffixes: that
//! is what keeps `https://barfoo.com` out of `https://foo.com` and `http://example.com.evil.com`
//! out of `http://*.example.com`.

use std::fmt;

use crate::origin::{
    is_loopback_host, parse_port, parse_scheme, split_authority, validate_host, Origin,
    OriginError, Scheme,
};

/// One parsed entry of an origin allow list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    /// One origin, in its canonical serialization.
    Exact(String),
    /// `scheme://*.suffix[:port]`: any host with one or more labels before `suffix`.
    Subdomains {
        scheme: Scheme,
        suffix: String,
        port: PortRule,
    },
    /// `scheme://host:*`: the host on any port, the default one included.
    AnyPort { scheme: Scheme, host: String },
}

/// The port part of a subdomain pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRule {
    /// This port only (`None`: the scheme's default port).
    Exactly(Option<u16>),
    /// `:*`.
    Any,
}

/// Why an entry is not a valid origin pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The text (or the part of it that must be an origin) is not a canonical origin.
    Origin(OriginError),
    /// A `*` somewhere other than as the whole first label or the whole port.
    MisplacedWildcard,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Origin(e) => e.fmt(f),
            PatternError::MisplacedWildcard => write!(
                f,
                "has a '*' in a place patterns do not support: use '*.' as the whole first label \
                 (https://*.example.com) or ':*' as the whole port (http://localhost:*)"
            ),
        }
    }
}

impl From<OriginError> for PatternError {
    fn from(e: OriginError) -> Self {
        PatternError::Origin(e)
    }
}

impl OriginPattern {
    /// Parses one allow-list entry (not `*`, which the caller handles).
    pub fn parse(text: &str) -> Result<OriginPattern, PatternError> {
        let (scheme, rest) = parse_scheme(text)?;
        let (host, port_text) = split_authority(rest)?;
        let any_port = port_text == Some("*");
        let subdomains = host.strip_prefix("*.");
        if host.contains('*') && subdomains.is_none_or(|s| s.contains('*')) {
            return Err(PatternError::MisplacedWildcard);
        }
        if port_text.is_some_and(|p| p.contains('*') && p != "*") {
            return Err(PatternError::MisplacedWildcard);
        }
        let port = match port_text {
            None => PortRule::Exactly(None),
            Some("*") => PortRule::Any,
            Some(p) => PortRule::Exactly(Some(parse_port(p, scheme)?)),
        };
        match subdomains {
            Some(suffix) => {
                validate_host(suffix)?;
                // Subdomains exist only under a domain name: `*.0.0.1` would match IP addresses.
                let last_label = suffix.rsplit('.').next().unwrap_or_default();
                if suffix.starts_with('[') || last_label.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(PatternError::MisplacedWildcard);
                }
                Ok(OriginPattern::Subdomains {
                    scheme,
                    suffix: suffix.to_string(),
                    port,
                })
            }
            None => {
                validate_host(host)?;
                if any_port {
                    Ok(OriginPattern::AnyPort {
                        scheme,
                        host: host.to_string(),
                    })
                } else {
                    // Re-serialize so the stored form is exactly what a browser sends.
                    let port = match port {
                        PortRule::Exactly(p) => p,
                        PortRule::Any => None,
                    };
                    Ok(OriginPattern::Exact(
                        Origin { scheme, host, port }.to_string(),
                    ))
                }
            }
        }
    }

    /// Does the (already parsed) request origin match this entry?
    pub fn matches(&self, origin: &Origin<'_>) -> bool {
        match self {
            OriginPattern::Exact(text) => origin.to_string() == *text,
            OriginPattern::Subdomains {
                scheme,
                suffix,
                port,
            } => {
                let port_ok = match port {
                    PortRule::Any => true,
                    PortRule::Exactly(p) => origin.port == *p,
                };
                *scheme == origin.scheme && port_ok && is_strict_subdomain(origin.host, suffix)
            }
            OriginPattern::AnyPort { scheme, host } => {
                *scheme == origin.scheme && origin.host == host
            }
        }
    }

    /// The scheme every origin this entry matches has.
    pub fn scheme(&self) -> Scheme {
        match self {
            OriginPattern::Exact(text) => {
                if text.starts_with("https:") {
                    Scheme::Https
                } else {
                    Scheme::Http
                }
            }
            OriginPattern::Subdomains { scheme, .. } | OriginPattern::AnyPort { scheme, .. } => {
                *scheme
            }
        }
    }

    /// True when every host this entry matches is a loopback host.
    pub fn is_loopback_only(&self) -> bool {
        match self {
            OriginPattern::Exact(text) => Origin::parse(text).is_ok_and(|o| o.is_loopback()),
            OriginPattern::Subdomains { suffix, .. } => suffix == "localhost",
            OriginPattern::AnyPort { host, .. } => is_loopback_host(host),
        }
    }

    /// True for a subdomain pattern whose suffix is itself a public suffix (`*.com`,
    /// `*.co.uk`, `*.github.io`): it would allow sites owned by anyone.
    pub fn covers_public_suffix(&self) -> bool {
        match self {
            OriginPattern::Subdomains { suffix, .. } => {
                suffix != "localhost" && psl::suffix_str(suffix) == Some(suffix.as_str())
            }
            _ => false,
        }
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginPattern::Exact(text) => f.write_str(text),
            OriginPattern::Subdomains {
                scheme,
                suffix,
                port,
            } => {
                write!(f, "{}://*.{suffix}", scheme.as_str())?;
                match port {
                    PortRule::Any => write!(f, ":*"),
                    PortRule::Exactly(Some(p)) => write!(f, ":{p}"),
                    PortRule::Exactly(None) => Ok(()),
                }
            }
            OriginPattern::AnyPort { scheme, host } => write!(f, "{}://{host}:*", scheme.as_str()),
        }
    }
}

/// `host` ends with `.suffix` on a label boundary and has at least one label before it.
fn is_strict_subdomain(host: &str, suffix: &str) -> bool {
    host.len() > suffix.len() + 1
        && host.ends_with(suffix)
        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, origin: &str) -> bool {
        let p = OriginPattern::parse(pattern).unwrap();
        Origin::parse(origin).is_ok_and(|o| p.matches(&o))
    }

    #[test]
    fn exact_origins_match_byte_for_byte() {
        assert!(matches("https://foo.com", "https://foo.com"));
        assert!(!matches("https://foo.com", "https://barfoo.com"));
        assert!(!matches("https://foo.com", "https://foo.com.evil.com"));
        assert!(!matches("https://foo.com", "http://foo.com"));
        assert!(!matches("https://foo.com", "https://foo.com:8443"));
        assert!(!matches("https://foo.com", "https://FOO.com"));
        assert!(!matches("https://foo.com", "https://foo.com/"));
    }

    #[test]
    fn subdomain_patterns_need_one_or_more_labels_on_a_boundary() {
        let p = "http://*.example.com";
        assert!(matches(p, "http://a.example.com"));
        assert!(matches(p, "http://a.b.example.com"));
        assert!(!matches(p, "http://example.com"), "never the bare domain");
        assert!(!matches(p, "http://badexample.com"), "label boundary");
        assert!(!matches(p, "http://example.com.evil.com"));
        assert!(!matches(p, "https://a.example.com"), "scheme");
        assert!(!matches(p, "http://a.example.com:8080"), "port");
        assert!(matches(
            "http://*.example.com:*",
            "http://a.example.com:8080"
        ));
        assert!(matches(
            "http://*.example.com:8080",
            "http://a.example.com:8080"
        ));
    }

    #[test]
    fn port_wildcard_matches_any_port_of_that_host() {
        let p = "http://localhost:*";
        assert!(matches(p, "http://localhost:3000"));
        assert!(matches(p, "http://localhost"));
        assert!(!matches(p, "http://localhost.evil.com:3000"));
        assert!(!matches(p, "https://localhost:3000"));
        assert!(!matches(p, "http://127.0.0.1:3000"));
    }

    #[test]
    fn rejects_misplaced_wildcards_and_bad_origins() {
        for bad in [
            "https://*example.com",
            "https://a.*.com",
            "https://*.*.com",
            "https://example.*",
            "http://localhost:8*",
            "https://*.example.com/",
            "https://*",
            "https://*.0.0.1",
            "http://*.1:*",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            OriginPattern::parse("https://a.com/"),
            Err(PatternError::Origin(OriginError::TrailingSlash))
        );
    }

    #[test]
    fn public_suffix_wildcards_are_detected() {
        for p in ["https://*.com", "https://*.co.uk", "https://*.github.io"] {
            assert!(
                OriginPattern::parse(p).unwrap().covers_public_suffix(),
                "{p}"
            );
        }
        for p in [
            "https://*.example.com",
            "http://*.localhost",
            "https://x.com",
        ] {
            assert!(
                !OriginPattern::parse(p).unwrap().covers_public_suffix(),
                "{p}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for p in [
            "https://a.com",
            "http://localhost:8080",
            "https://*.example.com",
            "https://*.example.com:*",
            "http://localhost:*",
            "http://[::1]:9000",
        ] {
            assert_eq!(OriginPattern::parse(p).unwrap().to_string(), p);
        }
    }
}
