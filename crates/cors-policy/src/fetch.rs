//! The browser before it sends: what a script's cross-origin `fetch()` puts on the wire, and
//! whether a preflight goes first (Fetch standard, "CORS-safelisted request-header" and
//! "CORS-preflight fetch").
//!
//! * The method is normalized: `delete`, `get`, `head`, `options`, `post` and `put`, in any
//!   case, are sent upper case; any other method exactly as written, so `patch` stays `patch`.
//!   `CONNECT`, `TRACE` and `TRACK` are forbidden: `fetch()` throws a `TypeError`.
//! * A header script may not set (a *forbidden request-header*: `Cookie`, `Host`, `Origin`,
//!   `Sec-…`, `Proxy-…`, …) is dropped without a word; the request goes without it.
//! * Values are trimmed of leading and trailing whitespace; two values of one name are combined
//!   with `, `.
//! * A preflight goes first unless the method is safelisted (`GET`, `HEAD`, `POST`) **and** every
//!   header is a CORS-safelisted request-header: `accept`, `accept-language`,
//!   `content-language`, `content-type` or `range`, each with a value of at most 128 bytes of the
//!   kind the standard allows — a `content-type` only `application/x-www-form-urlencoded`,
//!   `multipart/form-data` or `text/plain`, a `range` only `bytes=N-` or `bytes=N-M`. (The
//!   standard also caps the safelisted values at 1,024 bytes together; with one line per name,
//!   five names of at most 128 bytes never reach it.)
//! * The preflight's `Access-Control-Request-Headers` names the other headers: lower case,
//!   sorted, each once, joined with `,`. Its `Access-Control-Request-Method` is the method as
//!   sent.
//!
//! The model ignores a request body (a string body is sent as `text/plain;charset=UTF-8`, which
//! is safelisted; script sets any other `content-type` itself) and the preflight cache (a browser
//! that cached a preflight for the URL skips it).

use std::fmt;

use crate::header::is_forbidden_request_header;
use crate::method::{self, is_safelisted, is_token};

/// Longest value of one CORS-safelisted request-header.
pub const MAX_SAFELISTED_VALUE: usize = 128;

/// A request as script writes it: `fetch(url, {method, headers})`.
#[derive(Debug, Clone, Copy)]
pub struct ScriptRequest<'a> {
    pub method: &'a str,
    /// Header lines as script gives them, names in any case.
    pub headers: &'a [(&'a str, &'a str)],
}

/// Why `fetch()` throws before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The method is not a token.
    InvalidMethod(String),
    /// `CONNECT`, `TRACE` or `TRACK`.
    ForbiddenMethod(String),
    /// A header name is not a token.
    InvalidHeaderName(String),
    /// A header value holds a NUL, CR or LF byte, or a character beyond Latin-1.
    InvalidHeaderValue(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::InvalidMethod(m) => write!(f, "'{m}' is not a valid HTTP method"),
            FetchError::ForbiddenMethod(m) => write!(
                f,
                "'{m}' is a forbidden method: browsers never send CONNECT, TRACE or TRACK"
            ),
            FetchError::InvalidHeaderName(n) => {
                write!(f, "'{n}' is not a valid header name")
            }
            FetchError::InvalidHeaderValue(n) => write!(
                f,
                "the value of header {n} is not a valid header value (no NUL, CR or LF; Latin-1 only)"
            ),
        }
    }
}

/// Why the browser sends a preflight first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreflightCause {
    /// The method is not `GET`, `HEAD` or `POST`.
    Method(String),
    /// A header whose name is not on the safelist (lower case).
    Header(String),
    /// A header of a safelisted name whose value the safelist does not allow.
    Value { name: String, why: UnsafeValue },
}

/// What makes the value of a safelisted name unsafe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsafeValue {
    /// Longer than [`MAX_SAFELISTED_VALUE`] bytes.
    TooLong(usize),
    /// A byte the standard calls CORS-unsafe (`"():<>?@[\]{}`, DEL, control characters).
    UnsafeByte(char),
    /// `accept-language`, `content-language`: only letters, digits, space and `*,-.;=`.
    NotALanguageTag(char),
    /// `content-type`: not one of the three form types.
    NotAFormType,
    /// `range`: not a single byte range `bytes=N-` or `bytes=N-M`.
    NotASimpleRange,
}

impl fmt::Display for UnsafeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsafeValue::TooLong(n) => {
                write!(f, "it is {n} bytes long, over {MAX_SAFELISTED_VALUE}")
            }
            UnsafeValue::UnsafeByte(b) | UnsafeValue::NotALanguageTag(b) => {
                write!(f, "it holds the character {}", shown_char(*b))
            }
            UnsafeValue::NotAFormType => write!(
                f,
                "only application/x-www-form-urlencoded, multipart/form-data and text/plain are safelisted"
            ),
            UnsafeValue::NotASimpleRange => {
                write!(f, "only a single range bytes=N- or bytes=N-M is safelisted")
            }
        }
    }
}

fn shown_char(c: char) -> String {
    match c {
        '!'..='~' | '\u{a1}'..='\u{ff}' => format!("'{c}'"),
        _ => format!("U+{:04X}", u32::from(c)),
    }
}

impl fmt::Display for PreflightCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreflightCause::Method(m) => {
                write!(f, "the method {m} is not GET, HEAD or POST")
            }
            PreflightCause::Header(n) => write!(f, "the header {n} is not CORS-safelisted"),
            PreflightCause::Value { name, why } => {
                write!(f, "the value of {name} is not CORS-safelisted: {why}")
            }
        }
    }
}

/// What the browser sends for a [`ScriptRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    /// The method on the wire.
    pub method: String,
    /// The header lines sent, one per name (values trimmed and combined), names as written.
    pub headers: Vec<(String, String)>,
    /// Headers script may not set, dropped (lower case, each once).
    pub dropped: Vec<String>,
    /// Why a preflight goes first; empty when none does.
    pub preflight_causes: Vec<PreflightCause>,
    /// The preflight's `Access-Control-Request-Headers`, when it has one.
    pub request_headers: Option<String>,
}

impl SentRequest {
    pub fn needs_preflight(&self) -> bool {
        !self.preflight_causes.is_empty()
    }
}

/// What the browser does with `request`: throws, or sends it, with or without a preflight.
pub fn prepare(request: &ScriptRequest<'_>) -> Result<SentRequest, FetchError> {
    if !is_token(request.method) {
        return Err(FetchError::InvalidMethod(request.method.to_string()));
    }
    if method::is_forbidden(request.method) {
        return Err(FetchError::ForbiddenMethod(request.method.to_string()));
    }
    let method = method::normalize(request.method);

    let mut headers: Vec<(String, String)> = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for &(name, value) in request.headers {
        if !is_token(name) {
            return Err(FetchError::InvalidHeaderName(name.to_string()));
        }
        let value = value.trim_matches([' ', '\t', '\r', '\n']);
        // What `Headers` refuses: NUL, CR, LF, and characters that do not fit in a byte.
        if value
            .chars()
            .any(|c| matches!(c, '\0' | '\r' | '\n') || c > '\u{ff}')
        {
            return Err(FetchError::InvalidHeaderValue(name.to_string()));
        }
        if is_forbidden_request_header(name) || overrides_with_forbidden_method(name, value) {
            let lower = name.to_ascii_lowercase();
            if !dropped.contains(&lower) {
                dropped.push(lower);
            }
            continue;
        }
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, combined)) => {
                combined.push_str(", ");
                combined.push_str(value);
            }
            None => headers.push((name.to_string(), value.to_string())),
        }
    }

    let mut causes = Vec::new();
    if !is_safelisted(&method) {
        causes.push(PreflightCause::Method(method.clone()));
    }
    // The Fetch standard's "CORS-unsafe request-header names".
    let mut unsafe_names: Vec<String> = Vec::new();
    for (name, value) in &headers {
        let lower = name.to_ascii_lowercase();
        match safelisted_value(&lower, value) {
            None => {
                causes.push(PreflightCause::Header(lower.clone()));
                unsafe_names.push(lower);
            }
            Some(Err(why)) => {
                causes.push(PreflightCause::Value {
                    name: lower.clone(),
                    why,
                });
                unsafe_names.push(lower);
            }
            Some(Ok(())) => {}
        }
    }
    // One line per name already, so each name is there once.
    unsafe_names.sort();
    let request_headers = (!unsafe_names.is_empty()).then(|| unsafe_names.join(","));
    Ok(SentRequest {
        method,
        headers,
        dropped,
        preflight_causes: causes,
        request_headers,
    })
}

/// `X-HTTP-Method`, `X-HTTP-Method-Override` and `X-Method-Override` are forbidden when they
/// name a forbidden method (Fetch standard).
fn overrides_with_forbidden_method(name: &str, value: &str) -> bool {
    [
        "x-http-method",
        "x-http-method-override",
        "x-method-override",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(name))
        && value.split(',').any(|m| method::is_forbidden(m.trim()))
}

/// `None` when `name` (lower case) is not on the safelist; else whether `value` is allowed.
fn safelisted_value(name: &str, value: &str) -> Option<Result<(), UnsafeValue>> {
    let check = match name {
        "accept" => no_unsafe_byte(value),
        "accept-language" | "content-language" => language_bytes(value),
        "content-type" => no_unsafe_byte(value).and_then(|()| form_type(value)),
        "range" => simple_range(value),
        _ => return None,
    };
    // The length first: the standard checks it before the value's kind. In bytes as sent: one
    // per character, since `prepare` let only Latin-1 through.
    Some(match value.chars().count() {
        n if n > MAX_SAFELISTED_VALUE => Err(UnsafeValue::TooLong(n)),
        _ => check,
    })
}

/// The standard's CORS-unsafe request-header bytes (each character is one byte on the wire).
fn is_unsafe_byte(c: char) -> bool {
    (c < ' ' && c != '\t')
        || matches!(
            c,
            '"' | '(' | ')' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '{' | '}' | '\u{7f}'
        )
}

fn no_unsafe_byte(value: &str) -> Result<(), UnsafeValue> {
    match value.chars().find(|&c| is_unsafe_byte(c)) {
        Some(c) => Err(UnsafeValue::UnsafeByte(c)),
        None => Ok(()),
    }
}

fn language_bytes(value: &str) -> Result<(), UnsafeValue> {
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '*' | ',' | '-' | '.' | ';' | '=');
    match value.chars().find(|&c| !allowed(c)) {
        Some(c) => Err(UnsafeValue::NotALanguageTag(c)),
        None => Ok(()),
    }
}

/// The MIME type's essence (type/subtype, before any `;` parameter) is one of the three form
/// types.
fn form_type(value: &str) -> Result<(), UnsafeValue> {
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_matches([' ', '\t']);
    let form = [
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "text/plain",
    ];
    match form.iter().any(|t| t.eq_ignore_ascii_case(essence)) {
        true => Ok(()),
        false => Err(UnsafeValue::NotAFormType),
    }
}

/// `bytes=N-` or `bytes=N-M` with N ≤ M: a "simple range header value" with a first position
/// (a suffix range, `bytes=-M`, is not safelisted).
fn simple_range(value: &str) -> Result<(), UnsafeValue> {
    let parse = || {
        let rest = value.strip_prefix("bytes=")?;
        let (start, end) = rest.split_once('-')?;
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if start.is_empty() || !digits(start) || !digits(end) {
            return None;
        }
        let start: u128 = start.parse().ok()?;
        match end {
            "" => Some(()),
            end => (start <= end.parse::<u128>().ok()?).then_some(()),
        }
    };
    parse().ok_or(UnsafeValue::NotASimpleRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(method: &str, headers: &[(&str, &str)]) -> SentRequest {
        prepare(&ScriptRequest { method, headers }).unwrap()
    }

    #[test]
    fn a_simple_request_goes_without_a_preflight() {
        let s = sent(
            "get",
            &[
                ("Accept", "application/json"),
                ("Content-Type", "text/plain;charset=UTF-8"),
            ],
        );
        assert_eq!(s.method, "GET");
        assert!(!s.needs_preflight(), "{:?}", s.preflight_causes);
        assert_eq!(s.request_headers, None);
        assert!(!sent(
            "POST",
            &[("content-type", "multipart/form-data; boundary=x")]
        )
        .needs_preflight());
        assert!(!sent("HEAD", &[("Accept-Language", "en-US,en;q=0.9")]).needs_preflight());
    }

    #[test]
    fn the_method_is_normalized_only_for_the_six_names() {
        assert_eq!(sent("put", &[]).method, "PUT");
        assert_eq!(sent("patch", &[]).method, "patch");
        assert_eq!(
            sent("patch", &[]).preflight_causes,
            [PreflightCause::Method("patch".into())]
        );
        assert_eq!(sent("DeLeTe", &[]).method, "DELETE");
    }

    #[test]
    fn the_request_headers_are_lower_case_sorted_and_each_once() {
        let s = sent(
            "PUT",
            &[
                ("X-Token", "1"),
                ("Content-Type", "application/json"),
                ("x-token", "2"),
                ("Accept", "*/*"),
            ],
        );
        assert_eq!(s.request_headers.as_deref(), Some("content-type,x-token"));
        assert_eq!(
            s.headers[0],
            ("X-Token".to_string(), "1, 2".to_string()),
            "combined"
        );
        assert_eq!(
            s.preflight_causes,
            [
                PreflightCause::Method("PUT".into()),
                PreflightCause::Header("x-token".into()),
                PreflightCause::Value {
                    name: "content-type".into(),
                    why: UnsafeValue::NotAFormType
                },
            ]
        );
        // A method alone: a preflight without Access-Control-Request-Headers.
        assert_eq!(sent("DELETE", &[("Accept", "*/*")]).request_headers, None);
    }

    #[test]
    fn forbidden_headers_are_dropped_and_do_not_cause_a_preflight() {
        let s = sent(
            "GET",
            &[
                ("Cookie", "a=b"),
                ("Sec-Fetch-Mode", "x"),
                ("Origin", "https://x.example"),
                ("X-HTTP-Method-Override", "TRACE"),
            ],
        );
        assert_eq!(
            s.dropped,
            [
                "cookie",
                "sec-fetch-mode",
                "origin",
                "x-http-method-override"
            ]
        );
        assert!(s.headers.is_empty());
        assert!(!s.needs_preflight());
        // Not every access-control- name is forbidden: a response header sent as a request
        // header is just another unsafe header.
        let s = sent("GET", &[("Access-Control-Allow-Origin", "*")]);
        assert_eq!(
            s.request_headers.as_deref(),
            Some("access-control-allow-origin")
        );
    }

    #[test]
    fn safelisted_names_with_unsafe_values_cause_a_preflight() {
        let cases = [
            ("accept", "a\"b".to_string(), UnsafeValue::UnsafeByte('"')),
            ("accept", "a".repeat(129), UnsafeValue::TooLong(129)),
            (
                "accept-language",
                "en_US".to_string(),
                UnsafeValue::NotALanguageTag('_'),
            ),
            (
                "content-type",
                "application/json".to_string(),
                UnsafeValue::NotAFormType,
            ),
            (
                "content-type",
                "text/plain; x=\"y\"".to_string(),
                UnsafeValue::UnsafeByte('"'),
            ),
            (
                "range",
                "bytes=-5".to_string(),
                UnsafeValue::NotASimpleRange,
            ),
            (
                "range",
                "bytes=5-1".to_string(),
                UnsafeValue::NotASimpleRange,
            ),
            (
                "range",
                "bytes=0-1,3-4".to_string(),
                UnsafeValue::NotASimpleRange,
            ),
        ];
        for (name, value, why) in cases {
            let s = sent("GET", &[(name, &value)]);
            assert_eq!(
                s.preflight_causes,
                [PreflightCause::Value {
                    name: name.into(),
                    why
                }],
                "{name}: {value}"
            );
            assert_eq!(s.request_headers.as_deref(), Some(name));
        }
        assert!(!sent("GET", &[("range", "bytes=0-")]).needs_preflight());
        assert!(!sent("GET", &[("range", "bytes=2-2")]).needs_preflight());
        assert!(!sent("GET", &[("accept", &"a".repeat(128))]).needs_preflight());
        // Latin-1 characters are one byte each on the wire.
        assert!(!sent("GET", &[("accept", &"é".repeat(128))]).needs_preflight());
        assert_eq!(
            sent("GET", &[("content-language", "fr-é")]).preflight_causes,
            [PreflightCause::Value {
                name: "content-language".into(),
                why: UnsafeValue::NotALanguageTag('é')
            }]
        );
    }

    #[test]
    fn two_values_of_a_name_are_checked_as_one() {
        let value = "a".repeat(100);
        let headers = [("accept", value.as_str()), ("Accept", value.as_str())];
        let s = sent("GET", &headers);
        assert_eq!(
            s.preflight_causes,
            [PreflightCause::Value {
                name: "accept".into(),
                why: UnsafeValue::TooLong(202)
            }]
        );
        assert_eq!(s.request_headers.as_deref(), Some("accept"));
    }

    #[test]
    fn fetch_throws_on_what_it_cannot_send() {
        let err = |method: &str, headers: &[(&str, &str)]| {
            prepare(&ScriptRequest { method, headers }).unwrap_err()
        };
        assert_eq!(
            err("TRACE", &[]),
            FetchError::ForbiddenMethod("TRACE".into())
        );
        assert_eq!(
            err("connect", &[]),
            FetchError::ForbiddenMethod("connect".into())
        );
        assert_eq!(err("GE T", &[]), FetchError::InvalidMethod("GE T".into()));
        assert_eq!(
            err("GET", &[("x token", "1")]),
            FetchError::InvalidHeaderName("x token".into())
        );
        assert_eq!(
            err("GET", &[("x-token", "a\nb")]),
            FetchError::InvalidHeaderValue("x-token".into())
        );
        assert_eq!(
            err("GET", &[("x-token", "€")]),
            FetchError::InvalidHeaderValue("x-token".into())
        );
        assert_eq!(
            sent("GET", &[("x-token", "  a  ")]).headers[0].1,
            "a",
            "trimmed"
        );
    }
}
