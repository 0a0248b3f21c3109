//! Origins: the `scheme://host[:port]` triple that CORS is about.
//!
//! Two URLs are *same-origin* when scheme, host and port are all equal; anything else is
//! cross-origin, and a browser will only let script read the response when the server's
//! `Access-Control-Allow-Origin` names the page's origin. Browsers serialize an origin in one
//! canonical form — lowercase scheme and host, no default port, no path, no trailing slash —
//! and compare `Access-Control-Allow-Origin` to it byte for byte. So this parser accepts only
//! that canonical form: anything else can never equal what a browser sends, and in a
//! configuration it is a mistake worth naming.

use std::fmt;

/// Longest `Origin` value the lab accepts: a 253-byte host plus scheme and port fit well within.
pub const MAX_ORIGIN_LEN: usize = 300;

/// The two schemes CORS applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A parsed, canonical origin, borrowing its host from the text it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    pub scheme: Scheme,
    /// Lowercase host: a domain name, an IPv4 address or a bracketed IPv6 address.
    pub host: &'a str,
    /// `None` for the scheme's default port (browsers never write it).
    pub port: Option<u16>,
}

/// Why a text is not a canonical origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginError {
    Empty,
    Null,
    TooLong(usize),
    NotAscii,
    UnsupportedScheme(String),
    MissingHost,
    UserInfo,
    UpperCase,
    InvalidHost(String),
    TrailingSlash,
    Path,
    Query,
    Fragment,
    InvalidPort(String),
    DefaultPort(u16),
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginError::Empty => write!(f, "an origin cannot be empty"),
            OriginError::Null => write!(
                f,
                "'null' is the origin of sandboxed iframes, file:// pages and redirected requests; \
                 any site can produce it, so allowing it allows everyone"
            ),
            OriginError::TooLong(n) => {
                write!(f, "is {n} bytes long; an origin is at most {MAX_ORIGIN_LEN}")
            }
            OriginError::NotAscii => write!(
                f,
                "contains non-ASCII characters; browsers send internationalized hosts in punycode (xn--…)"
            ),
            OriginError::UnsupportedScheme(s) => {
                write!(f, "scheme '{s}' is not http or https, and CORS only applies to those")
            }
            OriginError::MissingHost => write!(f, "has no host"),
            OriginError::UserInfo => write!(f, "contains user info (user@host); an origin never does"),
            OriginError::UpperCase => write!(
                f,
                "has upper-case letters; browsers send origins in lower case and compare byte for byte"
            ),
            OriginError::InvalidHost(h) => write!(f, "host '{h}' is not a valid host name or IP address"),
            OriginError::TrailingSlash => write!(
                f,
                "ends with '/'; an origin has no path, and browsers compare byte for byte, so the slash never matches"
            ),
            OriginError::Path => write!(f, "has a path; an origin is only scheme://host[:port]"),
            OriginError::Query => write!(f, "has a query string; an origin is only scheme://host[:port]"),
            OriginError::Fragment => write!(f, "has a fragment; an origin is only scheme://host[:port]"),
            OriginError::InvalidPort(p) => write!(f, "port '{p}' is not a number from 1 to 65535"),
            OriginError::DefaultPort(p) => write!(
                f,
                "names the default port {p}; browsers leave it out of the Origin header, so write the origin without it"
            ),
        }
    }
}

impl std::error::Error for OriginError {}

impl<'a> Origin<'a> {
    /// Parses a canonical serialized origin, as a browser sends it in the `Origin` header.
    pub fn parse(text: &'a str) -> Result<Origin<'a>, OriginError> {
        let (scheme, rest) = parse_scheme(text)?;
        let (host, port_text) = match plain_authority(rest) {
            Some(split) => split,
            // Anything unusual, an error included: the checks one by one, which word it.
            None => {
                let (host, port_text) = split_authority(rest)?;
                validate_host(host)?;
                (host, port_text)
            }
        };
        let port = match port_text {
            None => None,
            Some(p) => Some(parse_port(p, scheme)?),
        };
        Ok(Origin { scheme, host, port })
    }

    /// The port a connection to this origin uses.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// Loopback origins (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`) never leave the machine,
    /// which is why browsers treat them as secure contexts even over plain http.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host)
    }
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// Splits off and checks the scheme; shared with [`crate::pattern`].
pub(crate) fn parse_scheme(text: &str) -> Result<(Scheme, &str), OriginError> {
    if text.is_empty() {
        return Err(OriginError::Empty);
    }
    if text == "null" {
        return Err(OriginError::Null);
    }
    if text.len() > MAX_ORIGIN_LEN {
        return Err(OriginError::TooLong(text.len()));
    }
    if !text.is_ascii() {
        return Err(OriginError::NotAscii);
    }
    // The two schemes a browser sends, without a substring search; anything else takes the
    // slow path, which also words the error.
    if let Some(rest) = text.strip_prefix("https://") {
        return Ok((Scheme::Https, rest));
    }
    if let Some(rest) = text.strip_prefix("http://") {
        return Ok((Scheme::Http, rest));
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(OriginError::UnsupportedScheme(
            text.split(':').next().unwrap_or(text).to_string(),
        ));
    };
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        s if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
            return Err(OriginError::UpperCase)
        }
        s => return Err(OriginError::UnsupportedScheme(s.to_string())),
    };
    Ok((scheme, rest))
}

/// The shape browsers send, `host[:digits]` with a host of valid labels, split in one pass
/// over the bytes; `None` for anything else (an IPv6 literal, upper case, a path, any error),
/// which [`split_authority`] and [`validate_host`] then take. Same answer as theirs on what it
/// accepts, checked by `plain_authority_agrees_with_the_checks`: it runs on every request an
/// origin pattern looks at.
fn plain_authority(rest: &str) -> Option<(&str, Option<&str>)> {
    let bytes = rest.as_bytes();
    let mut label_start = 0;
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'_' => {}
            b'-' if i > label_start => {}
            b'.' | b':' => {
                if !label_fits(&bytes[label_start..i]) {
                    return None;
                }
                if b == b':' {
                    end = i;
                    break;
                }
                label_start = i + 1;
            }
            _ => return None,
        }
    }
    if end > 253 || (end == bytes.len() && !label_fits(&bytes[label_start..])) {
        return None;
    }
    let host = &rest[..end];
    match rest.get(end + 1..) {
        None => Some((host, None)),
        Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => Some((host, Some(port))),
        Some(_) => None,
    }
}

/// A label's length and last byte (its bytes were checked on the way).
fn label_fits(label: &[u8]) -> bool {
    (1..=63).contains(&label.len()) && label[label.len() - 1] != b'-'
}

/// Splits `host[:port]` and rejects anything after it (path, query, fragment, user info).
pub(crate) fn split_authority(rest: &str) -> Result<(&str, Option<&str>), OriginError> {
    // Bytes, not chars: the text is ASCII by now, and this runs on every pattern match.
    if let Some(i) = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')) {
        return Err(tail_error(&rest[i..]));
    }
    if rest.bytes().any(|b| b == b'@') {
        return Err(OriginError::UserInfo);
    }
    if rest.is_empty() {
        return Err(OriginError::MissingHost);
    }
    if let Some(stripped) = rest.strip_prefix('[') {
        // IPv6 literal: the port separator comes after the closing bracket.
        let Some(end) = stripped.find(']') else {
            return Err(OriginError::InvalidHost(rest.to_string()));
        };
        let host = &rest[..end + 2];
        let after = &rest[end + 2..];
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok((host, Some(p))),
                None => Err(OriginError::InvalidHost(rest.to_string())),
            },
        };
    }
    Ok(match rest.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    })
}

/// What is wrong with an origin that goes on past its authority with `tail`.
fn tail_error(tail: &str) -> OriginError {
    if tail == "/" {
        OriginError::TrailingSlash
    } else if tail.starts_with('/') {
        OriginError::Path
    } else if tail.starts_with('?') {
        OriginError::Query
    } else {
        OriginError::Fragment
    }
}

pub(crate) fn parse_port(text: &str, scheme: Scheme) -> Result<u16, OriginError> {
    let valid = !text.is_empty()
        && text.len() <= 5
        && text.bytes().all(|b| b.is_ascii_digit())
        && !text.starts_with('0');
    let port: u16 = match valid.then(|| text.parse::<u16>().ok()).flatten() {
        Some(p) => p,
        None => return Err(OriginError::InvalidPort(text.to_string())),
    };
    if port == scheme.default_port() {
        return Err(OriginError::DefaultPort(port));
    }
    Ok(port)
}

/// A host is a bracketed IPv6 address or a dot-separated list of labels made of lowercase
/// letters, digits, `-` and `_` (IPv4 addresses fit that shape too).
pub(crate) fn validate_host(host: &str) -> Result<(), OriginError> {
    if host.is_empty() {
        return Err(OriginError::MissingHost);
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(OriginError::UpperCase);
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ok = !inner.is_empty()
            && inner.contains(':')
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        return ok
            .then_some(())
            .ok_or_else(|| OriginError::InvalidHost(host.to_string()));
    }
    if host.len() > 253 || !host.as_bytes().split(|&b| b == b'.').all(label_ok) {
        return Err(OriginError::InvalidHost(host.to_string()));
    }
    Ok(())
}

/// One label of a host name: 1 to 63 of `a-z 0-9 - _`, not starting or ending with `-`.
fn label_ok(label: &[u8]) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label[0] != b'-'
        && label[label.len() - 1] != b'-'
        && label
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    let mut parts = host.split('.');
    parts.next() == Some("127")
        && host.split('.').count() == 4
        && parts.all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scheme, authority and host checks as first written (substring and char searches):
    /// the byte-level versions must give the same answer, error included.
    fn parse_as_first_written(text: &str) -> Result<(Scheme, &str, Option<u16>), OriginError> {
        if text.is_empty() || text == "null" || text.len() > MAX_ORIGIN_LEN || !text.is_ascii() {
            return Origin::parse(text).map(|o| (o.scheme, o.host, o.port));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Origin::parse(text).map(|o| (o.scheme, o.host, o.port));
        };
        let scheme = match scheme {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Origin::parse(text).map(|o| (o.scheme, o.host, o.port)),
        };
        if let Some(i) = rest.find(['/', '?', '#']) {
            return Err(tail_error(&rest[i..]));
        }
        if rest.contains('@') {
            return Err(OriginError::UserInfo);
        }
        let (host, port_text) = split_authority(rest)?;
        if host.is_empty() {
            return Err(OriginError::MissingHost);
        }
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(OriginError::UpperCase);
        }
        if !host.starts_with('[') {
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    })
            };
            if host.len() > 253 || !host.split('.').all(label_ok) {
                return Err(OriginError::InvalidHost(host.to_string()));
            }
        } else {
            validate_host(host)?;
        }
        let port = port_text.map(|p| parse_port(p, scheme)).transpose()?;
        Ok((scheme, host, port))
    }

    proptest::proptest! {
        #[test]
        fn plain_authority_agrees_with_the_checks(
            labels in proptest::collection::vec("[a-c0-9_-]{0,66}", 1..6),
            dots in proptest::prop_oneof!["", ".", ".."],
            port in proptest::prop_oneof!["", ":", ":80", ":0443", ":65536", ":8a", "::1", ":/"],
        ) {
            let rest = format!("{}{dots}{port}", labels.join("."));
            if let Some((host, port_text)) = plain_authority(&rest) {
                proptest::prop_assert_eq!(split_authority(&rest), Ok((host, port_text)));
                proptest::prop_assert_eq!(validate_host(host), Ok(()));
            }
            // Whichever way it went, the same as the first version.
            let text = format!("https://{rest}");
            let ours = Origin::parse(&text).map(|o| (o.scheme, o.host, o.port));
            proptest::prop_assert_eq!(ours, parse_as_first_written(&text));
        }

        #[test]
        fn byte_level_parse_agrees_with_the_first_version(
            prefix in proptest::prop_oneof!["", "http://", "https://", "HTTP://", "ftp://"],
            rest in "[a-cA-C0-9.:/?#@_\\[\\]-]{0,24}",
        ) {
            let text = format!("{prefix}{rest}");
            let ours = Origin::parse(&text).map(|o| (o.scheme, o.host, o.port));
            proptest::prop_assert_eq!(ours, parse_as_first_written(&text));
        }
    }

    #[test]
    fn parses_canonical_origins() {
        let o = Origin::parse("https://app.example.com").unwrap();
        assert_eq!(o.scheme, Scheme::Https);
        assert_eq!(o.host, "app.example.com");
        assert_eq!(o.port, None);
        let o = Origin::parse("http://localhost:8080").unwrap();
        assert_eq!((o.host, o.port), ("localhost", Some(8080)));
        let o = Origin::parse("http://[::1]:9090").unwrap();
        assert_eq!((o.host, o.port), ("[::1]", Some(9090)));
        assert_eq!(o.to_string(), "http://[::1]:9090");
    }

    #[test]
    fn rejects_non_canonical_forms_with_the_reason() {
        let cases = [
            ("https://a.com/", OriginError::TrailingSlash),
            ("https://a.com/x", OriginError::Path),
            ("https://a.com?q", OriginError::Query),
            ("https://a.com#f", OriginError::Fragment),
            ("null", OriginError::Null),
            ("", OriginError::Empty),
            ("HTTPS://a.com", OriginError::UpperCase),
            ("https://A.com", OriginError::UpperCase),
            ("https://a.com:443", OriginError::DefaultPort(443)),
            ("http://a.com:80", OriginError::DefaultPort(80)),
            ("http://a.com:0", OriginError::InvalidPort("0".into())),
            (
                "http://a.com:65536",
                OriginError::InvalidPort("65536".into()),
            ),
            ("http://a.com:08", OriginError::InvalidPort("08".into())),
            ("http://u@a.com", OriginError::UserInfo),
            ("ftp://a.com", OriginError::UnsupportedScheme("ftp".into())),
            ("file:///x", OriginError::UnsupportedScheme("file".into())),
            ("https://bücher.de", OriginError::NotAscii),
            ("https://", OriginError::MissingHost),
            ("https://a..com", OriginError::InvalidHost("a..com".into())),
            ("https://-a.com", OriginError::InvalidHost("-a.com".into())),
        ];
        for (text, want) in cases {
            assert_eq!(Origin::parse(text), Err(want), "{text}");
        }
        let long = format!("https://{}.com", "a".repeat(400));
        assert!(matches!(Origin::parse(&long), Err(OriginError::TooLong(_))));
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "127.0.0.1.evil.com",
            "128.0.0.1",
            "localhost.com",
            "127.0.0",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
