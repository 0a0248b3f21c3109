//! The server side of CORS: from a request to a [`Decision`].
//!
//! Rules, in the Fetch standard's terms:
//!
//! * A **preflight** is an `OPTIONS` request carrying both `Origin` and
//!   `Access-Control-Request-Method`. The engine answers it itself; the handler never runs.
//!   Any other request — a plain `OPTIONS` included — is an **actual** request: it goes to its
//!   handler and the engine adds CORS headers to the handler's response.
//! * An allowed preflight gets `204 No Content` with `Access-Control-Allow-Origin` (the request's
//!   origin, or `*` when every origin is allowed without credentials),
//!   `Access-Control-Allow-Credentials: true` when credentialed, `Access-Control-Allow-Methods`
//!   only when the requested method is not safelisted (that method, or `*` under an any-method
//!   policy without credentials), `Access-Control-Allow-Headers` echoing the requested headers
//!   (`*` under an any-header policy without credentials, `*,authorization` when authorization
//!   is listed too), and `Access-Control-Max-Age` when configured.
//! * A refused preflight gets `403` and no CORS headers — unless [`Policy::debug`] is on and the
//!   origin is allowed: then `204` with the origin and credentials headers, and
//!   `Access-Control-Allow-Methods` when the method is fine, but never the list that fails, so
//!   that the browser itself names the method or header that was refused (for headers:
//!   `Access-Control-Allow-Headers` lists the requested headers the policy allows, without the
//!   refused ones).
//! * An actual response from an allowed origin gets `Access-Control-Allow-Origin`,
//!   `-Allow-Credentials` and `-Expose-Headers`; a refused origin gets none of them.
//!   `Vary: Origin` is added unless every origin is allowed, because the answer then depends on
//!   the `Origin` header and caches must know.
//!
//! Method names match case-sensitively, header names case-insensitively. An
//! `Access-Control-Request-Headers` no browser would send (not a list of tokens, over 64 names,
//! 128 elements or 4 KiB) gets `400` without CORS headers.
//!
//! A [`Decision`] borrows from the policy and the request and allocates nothing (the broken
//! `broken-trailing-slash` preset aside): deciding is on every request's path. Its reason is
//! rendered only when someone displays it.

use std::borrow::Cow;
use std::fmt;

use smallvec::SmallVec;

use crate::header::{for_each_name, is_blank_list, HeaderListError};
use crate::method::{is_safelisted, is_token};
use crate::misconfig::Misconfiguration;
use crate::pattern::OriginPattern;
use crate::policy::{AllowHeaders, AllowMethods, AllowOrigins, ListMatch, Policy};

pub const ACAO: &str = "access-control-allow-origin";
pub const ACAC: &str = "access-control-allow-credentials";
pub const ACAM: &str = "access-control-allow-methods";
pub const ACAH: &str = "access-control-allow-headers";
pub const ACMA: &str = "access-control-max-age";
pub const ACEH: &str = "access-control-expose-headers";
pub const VARY: &str = "vary";
/// The `Vary` value of a preflight answer whose content depends on the request.
pub const PREFLIGHT_VARY: &str =
    "origin, access-control-request-method, access-control-request-headers";

/// The CORS-relevant facts of a request, borrowed from it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    pub method: &'a str,
    /// The `Origin` header, if there is exactly one.
    pub origin: Option<&'a str>,
    /// `Access-Control-Request-Method`.
    pub request_method: Option<&'a str>,
    /// `Access-Control-Request-Headers` (several lines joined with `,`).
    pub request_headers: Option<&'a str>,
}

impl RequestFacts<'_> {
    /// `OPTIONS` with `Origin` and `Access-Control-Request-Method`: the only thing that is a preflight.
    pub fn is_preflight(&self) -> bool {
        self.method == "OPTIONS" && self.origin.is_some() && self.request_method.is_some()
    }
}

/// A response header the engine sets. A name rather than text, so that a server turns it into
/// its own header type with a table lookup instead of comparing strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseHeader {
    AllowOrigin,
    AllowCredentials,
    AllowMethods,
    AllowHeaders,
    MaxAge,
    ExposeHeaders,
    Vary,
}

impl ResponseHeader {
    /// The header's name, in lower case.
    pub const fn as_str(self) -> &'static str {
        match self {
            ResponseHeader::AllowOrigin => ACAO,
            ResponseHeader::AllowCredentials => ACAC,
            ResponseHeader::AllowMethods => ACAM,
            ResponseHeader::AllowHeaders => ACAH,
            ResponseHeader::MaxAge => ACMA,
            ResponseHeader::ExposeHeaders => ACEH,
            ResponseHeader::Vary => VARY,
        }
    }
}

/// Where the value of a line comes from. A server that holds the request's header values, the
/// engine's fixed texts and the policy's values ready as its own header type (see
/// [`crate::wire`]) then puts a line on the wire without looking at its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSource {
    /// A request header, echoed exactly as it came.
    Echo(EchoOf),
    /// One of the engine's fixed texts.
    Fixed(FixedValue),
    /// One of the policy's own values.
    Policy(PolicyValue),
    /// Made for this answer: a `broken-…` preset's value, or a request list trimmed of spaces.
    Made,
}

/// The request headers an answer may echo, numbered in the order `wire::Echoes` holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoOf {
    Origin = 0,
    RequestMethod = 1,
    RequestHeaders = 2,
}

/// The values the engine writes the same for every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedValue {
    /// `*`: any origin, method or header (only without credentials).
    Star,
    /// `true`, of `Access-Control-Allow-Credentials`.
    True,
    /// `*,authorization`: `*` does not cover `Authorization`, so it is named beside it.
    StarAuthorization,
    /// [`PREFLIGHT_VARY`].
    PreflightVary,
}

impl FixedValue {
    pub const fn as_str(self) -> &'static str {
        match self {
            FixedValue::Star => "*",
            FixedValue::True => "true",
            FixedValue::StarAuthorization => "*,authorization",
            FixedValue::PreflightVary => PREFLIGHT_VARY,
        }
    }
}

/// The policy's values that go on the wire as they are configured, numbered in the order
/// `wire::PreparedValues` holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyValue {
    /// `Access-Control-Max-Age`.
    MaxAge = 0,
    /// `Access-Control-Expose-Headers`.
    ExposeHeaders = 1,
}

/// Response headers the engine wants on the response, each with where its value comes from. A
/// name may appear twice only under `broken-double-origin`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsHeaders<'a>(SmallVec<[(ResponseHeader, Cow<'a, str>, ValueSource); 8]>);

impl<'a> CorsHeaders<'a> {
    fn push(&mut self, name: ResponseHeader, value: impl Into<Cow<'a, str>>, from: ValueSource) {
        self.0.push((name, value.into(), from));
    }

    fn push_fixed(&mut self, name: ResponseHeader, value: FixedValue) {
        self.push(name, value.as_str(), ValueSource::Fixed(value));
    }

    /// The lines with their names as [`ResponseHeader`]s.
    pub fn lines(&self) -> impl Iterator<Item = (ResponseHeader, &str)> + '_ {
        self.0.iter().map(|(n, v, _)| (*n, v.as_ref()))
    }

    /// The lines, each with where its value comes from.
    pub fn lines_with_sources(
        &self,
    ) -> impl Iterator<Item = (ResponseHeader, &str, ValueSource)> + '_ {
        self.0.iter().map(|(n, v, from)| (*n, v.as_ref(), *from))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The lines with their names as text, in lower case.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.0.iter().map(|(n, v, _)| (n.as_str(), v.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Answer the preflight now, without calling the handler.
    Preflight(PreflightDecision<'a>),
    /// Call the handler, then add these headers to its response.
    Actual(ActualDecision<'a>),
}

impl<'a> Decision<'a> {
    pub fn outcome(&self) -> &Outcome<'a> {
        match self {
            Decision::Preflight(p) => &p.outcome,
            Decision::Actual(a) => &a.outcome,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightDecision<'a> {
    pub outcome: Outcome<'a>,
    /// 204 when allowed (or refused in debug mode from an allowed origin), else 403.
    pub status: u16,
    /// The complete header set of the answer.
    pub headers: CorsHeaders<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActualDecision<'a> {
    pub outcome: Outcome<'a>,
    /// Headers to set on the handler's response.
    pub headers: CorsHeaders<'a>,
    /// Append `Origin` to the response's `Vary` (never replacing the handler's own `Vary`).
    pub vary_origin: bool,
}

/// What the engine concluded, with the why (rendered by `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The origin (and, for a preflight, the method and headers) are allowed.
    Allowed {
        origin: &'a str,
        by: AllowedBy<'a>,
    },
    Refused(Refusal<'a>),
    /// No `Origin` header: a same-origin request or a non-browser client; CORS does not apply.
    NoOrigin,
    /// The `off` preset: no CORS headers at all.
    CorsOff,
}

/// Which part of the policy allowed an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowedBy<'a> {
    /// `CORS_ALLOW_ORIGINS=*`.
    AnyOrigin,
    /// The origin itself is listed.
    Listed,
    /// A subdomain or port pattern covers it.
    Pattern(&'a OriginPattern),
    /// `broken-reflect-origin`: whatever arrived was echoed.
    Reflected,
    /// `broken-allow-null`.
    NullOrigin,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal<'a> {
    OriginNotAllowed {
        origin: &'a str,
    },
    MethodNotAllowed {
        method: &'a str,
    },
    /// `header` as the request wrote it.
    HeaderNotAllowed {
        header: &'a str,
    },
    AuthorizationNotCoveredByWildcard,
    HeaderList(HeaderListError),
    /// `broken-auth-preflight`: authentication answered before the CORS handler could.
    PreflightUnauthenticated,
}

impl Outcome<'_> {
    /// `allowed`, `refused`, `no-origin` or `cors-off`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Allowed { .. } => "allowed",
            Outcome::Refused(_) => "refused",
            Outcome::NoOrigin => "no-origin",
            Outcome::CorsOff => "cors-off",
        }
    }
}

impl fmt::Display for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Allowed { origin, by } => match by {
                AllowedBy::AnyOrigin => write!(f, "CORS_ALLOW_ORIGINS=* allows every origin"),
                AllowedBy::Listed => write!(f, "origin {origin} is in CORS_ALLOW_ORIGINS"),
                AllowedBy::Pattern(p) => {
                    write!(f, "origin {origin} matches CORS_ALLOW_ORIGINS entry {p}")
                }
                AllowedBy::Reflected => write!(
                    f,
                    "origin {origin} was reflected without any check (broken on purpose: broken-reflect-origin)"
                ),
                AllowedBy::NullOrigin => {
                    write!(f, "origin null is allowed (broken on purpose: broken-allow-null)")
                }
            },
            Outcome::Refused(r) => r.fmt(f),
            Outcome::NoOrigin => write!(
                f,
                "no Origin header: not a cross-origin browser request, so CORS does not apply"
            ),
            Outcome::CorsOff => write!(f, "CORS_PRESET=off: the API sends no CORS headers at all"),
        }
    }
}

impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::OriginNotAllowed { origin } => {
                write!(f, "origin {origin} is not in CORS_ALLOW_ORIGINS")
            }
            Refusal::MethodNotAllowed { method } => write!(
                f,
                "method {method} is not in CORS_ALLOW_METHODS (method names are case-sensitive)"
            ),
            Refusal::HeaderNotAllowed { header } => write!(
                f,
                "request header {} is not in CORS_ALLOW_HEADERS",
                header.to_ascii_lowercase()
            ),
            Refusal::AuthorizationNotCoveredByWildcard => write!(
                f,
                "request header authorization is not covered by CORS_ALLOW_HEADERS=* (the Fetch standard \
                 requires listing it: *,authorization)"
            ),
            Refusal::HeaderList(HeaderListError::TooLong(n)) => write!(
                f,
                "Access-Control-Request-Headers is {n} bytes long; the engine reads at most {}",
                crate::header::MAX_REQUEST_HEADERS_LEN
            ),
            Refusal::HeaderList(HeaderListError::TooMany) => write!(
                f,
                "Access-Control-Request-Headers names more than {} headers",
                crate::header::MAX_REQUEST_HEADERS
            ),
            Refusal::HeaderList(HeaderListError::NotAToken) => {
                write!(f, "Access-Control-Request-Headers is not a list of header names")
            }
            Refusal::PreflightUnauthenticated => write!(
                f,
                "the authentication middleware answered the preflight 401 before CORS could \
                 (broken on purpose: broken-auth-preflight); preflights never carry credentials"
            ),
        }
    }
}

/// Decides what `policy` does with the request described by `facts`.
pub fn decide<'a>(policy: &'a Policy, facts: &RequestFacts<'a>) -> Decision<'a> {
    if !policy.enabled {
        return Decision::Actual(ActualDecision {
            outcome: Outcome::CorsOff,
            headers: CorsHeaders::default(),
            vary_origin: false,
        });
    }
    if facts.is_preflight() {
        Decision::Preflight(decide_preflight(policy, facts))
    } else {
        Decision::Actual(decide_actual(policy, facts))
    }
}

/// Matches the origin; `Err` is the refusal.
fn allow_origin<'a>(policy: &'a Policy, origin: &'a str) -> Result<AllowedBy<'a>, Refusal<'a>> {
    match policy.misconfiguration {
        Some(Misconfiguration::ReflectAnyOrigin) => return Ok(AllowedBy::Reflected),
        Some(Misconfiguration::AllowNull) if origin == "null" => return Ok(AllowedBy::NullOrigin),
        _ => {}
    }
    match &policy.origins {
        AllowOrigins::Any => Ok(AllowedBy::AnyOrigin),
        AllowOrigins::List(list) => match list.find(origin) {
            Some(ListMatch::Exact) => Ok(AllowedBy::Listed),
            Some(ListMatch::Pattern(p)) => Ok(AllowedBy::Pattern(p)),
            None => Err(Refusal::OriginNotAllowed { origin }),
        },
    }
}

/// `Access-Control-Allow-Origin` and `-Allow-Credentials` for an allowed origin.
fn origin_headers<'a>(
    policy: &Policy,
    origin: &'a str,
    by: AllowedBy<'a>,
    headers: &mut CorsHeaders<'a>,
) {
    let mistake = policy.misconfiguration;
    let star = (
        FixedValue::Star.as_str().into(),
        ValueSource::Fixed(FixedValue::Star),
    );
    let (value, from): (Cow<'a, str>, _) = match by {
        _ if mistake == Some(Misconfiguration::WildcardWithCredentials) => star,
        AllowedBy::AnyOrigin if !policy.credentials => star,
        _ if mistake == Some(Misconfiguration::TrailingSlash) => {
            (format!("{origin}/").into(), ValueSource::Made)
        }
        _ => (origin.into(), ValueSource::Echo(EchoOf::Origin)),
    };
    if mistake == Some(Misconfiguration::DoubleAllowOrigin) {
        // The "proxy" in front adds its copy too.
        headers.push(ResponseHeader::AllowOrigin, value.clone(), from);
    }
    headers.push(ResponseHeader::AllowOrigin, value, from);
    if policy.credentials {
        headers.push_fixed(ResponseHeader::AllowCredentials, FixedValue::True);
    }
}

fn decide_preflight<'a>(policy: &'a Policy, facts: &RequestFacts<'a>) -> PreflightDecision<'a> {
    let origin = facts.origin.unwrap_or_default();
    let requested_method = facts.request_method.unwrap_or_default();
    let by = match allow_origin(policy, origin) {
        Ok(by) => by,
        Err(refusal) => return refused_preflight(Outcome::Refused(refusal)),
    };
    let mut headers = CorsHeaders::default();
    origin_headers(policy, origin, by, &mut headers);
    if !matches!(policy.origins, AllowOrigins::Any) {
        headers.push_fixed(ResponseHeader::Vary, FixedValue::PreflightVary);
    }
    if policy.misconfiguration == Some(Misconfiguration::AuthBeforePreflight) {
        return PreflightDecision {
            outcome: Outcome::Refused(Refusal::PreflightUnauthenticated),
            status: 401,
            headers,
        };
    }

    let method_allowed = check_method(policy, requested_method);
    let refusal = method_allowed
        .clone()
        .err()
        .or_else(|| check_headers(policy, facts.request_headers).err());
    if let Some(refusal) = refusal {
        if let Refusal::HeaderList(_) = refusal {
            // No browser sends this: a client probing the server gets a plain 400.
            return PreflightDecision {
                outcome: Outcome::Refused(refusal),
                status: 400,
                headers: CorsHeaders::default(),
            };
        }
        if !policy.debug {
            return refused_preflight(Outcome::Refused(refusal));
        }
        // Debug: leave out exactly what fails, so that the browser's message names the refused
        // method or, when the method is fine, the refused request header. The requested headers
        // the policy allows are listed: Chromium names the first requested header it misses,
        // which must be the refused one, not an allowed one before it.
        if method_allowed.is_ok() {
            push_allow_methods(policy, requested_method, &mut headers);
            if let Some(allowed) = facts.request_headers.and_then(|l| allowed_names(policy, l)) {
                headers.push(ResponseHeader::AllowHeaders, allowed, ValueSource::Made);
            }
        }
        return PreflightDecision {
            outcome: Outcome::Refused(refusal),
            status: 204,
            headers,
        };
    }

    push_allow_methods(policy, requested_method, &mut headers);
    if let Some(list) = facts.request_headers.filter(|l| !is_blank_list(l)) {
        match policy.headers {
            AllowHeaders::Any { authorization } if !policy.credentials => {
                let value = if authorization {
                    FixedValue::StarAuthorization
                } else {
                    FixedValue::Star
                };
                headers.push_fixed(ResponseHeader::AllowHeaders, value);
            }
            _ => {
                // The walk accepted the list, so only spaces and tabs (OWS) can surround it.
                let trimmed = list.trim_ascii();
                let from = if trimmed.len() == list.len() {
                    ValueSource::Echo(EchoOf::RequestHeaders)
                } else {
                    ValueSource::Made
                };
                headers.push(ResponseHeader::AllowHeaders, trimmed, from);
            }
        }
    }
    if let Some(max_age) = &policy.max_age {
        headers.push(
            ResponseHeader::MaxAge,
            max_age.as_str(),
            ValueSource::Policy(PolicyValue::MaxAge),
        );
    }
    PreflightDecision {
        outcome: Outcome::Allowed { origin, by },
        status: 204,
        headers,
    }
}

/// `Access-Control-Allow-Methods`, needed only for a method that is not safelisted.
fn push_allow_methods<'a>(policy: &Policy, method: &'a str, headers: &mut CorsHeaders<'a>) {
    if !is_safelisted(method) {
        match policy.methods {
            AllowMethods::Any if !policy.credentials => {
                headers.push_fixed(ResponseHeader::AllowMethods, FixedValue::Star)
            }
            _ => headers.push(
                ResponseHeader::AllowMethods,
                method,
                ValueSource::Echo(EchoOf::RequestMethod),
            ),
        }
    }
}

fn refused_preflight(outcome: Outcome<'_>) -> PreflightDecision<'_> {
    PreflightDecision {
        outcome,
        status: 403,
        headers: CorsHeaders::default(),
    }
}

fn check_method<'a>(policy: &Policy, method: &'a str) -> Result<(), Refusal<'a>> {
    // A browser only ever requests a method token; anything else would be echoed verbatim into
    // `Access-Control-Allow-Methods` under `CORS_ALLOW_METHODS=*` with credentials.
    if is_token(method) && (is_safelisted(method) || policy.methods.allows(method)) {
        Ok(())
    } else {
        Err(Refusal::MethodNotAllowed { method })
    }
}

/// The names of `list` that `policy` allows, joined with `,`; `None` when there are none. Only
/// for a refused preflight in debug mode, whose list the walk has read already.
fn allowed_names(policy: &Policy, list: &str) -> Option<String> {
    let mut allowed = String::new();
    let _ = for_each_name(list, |name| {
        if policy.headers.allows(name) {
            if !allowed.is_empty() {
                allowed.push(',');
            }
            allowed.push_str(name);
        }
        Ok::<(), ()>(())
    });
    (!allowed.is_empty()).then_some(allowed)
}

fn check_headers<'a>(policy: &Policy, list: Option<&'a str>) -> Result<(), Refusal<'a>> {
    let Some(list) = list else { return Ok(()) };
    let visited = for_each_name(list, |name| {
        if policy.headers.allows(name) {
            Ok(())
        } else if matches!(policy.headers, AllowHeaders::Any { .. }) {
            Err(Refusal::AuthorizationNotCoveredByWildcard)
        } else {
            Err(Refusal::HeaderNotAllowed { header: name })
        }
    });
    match visited {
        Ok(result) => result,
        Err(e) => Err(Refusal::HeaderList(e)),
    }
}

fn decide_actual<'a>(policy: &'a Policy, facts: &RequestFacts<'a>) -> ActualDecision<'a> {
    let vary_origin = !matches!(policy.origins, AllowOrigins::Any);
    let Some(origin) = facts.origin else {
        return ActualDecision {
            outcome: Outcome::NoOrigin,
            headers: CorsHeaders::default(),
            vary_origin,
        };
    };
    match allow_origin(policy, origin) {
        Ok(by) => {
            let mut headers = CorsHeaders::default();
            origin_headers(policy, origin, by, &mut headers);
            if let Some(expose) = policy.expose.header_value() {
                headers.push(
                    ResponseHeader::ExposeHeaders,
                    expose,
                    ValueSource::Policy(PolicyValue::ExposeHeaders),
                );
            }
            ActualDecision {
                outcome: Outcome::Allowed { origin, by },
                headers,
                vary_origin,
            }
        }
        Err(refusal) => ActualDecision {
            outcome: Outcome::Refused(refusal),
            headers: CorsHeaders::default(),
            vary_origin,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PolicyInput;

    const LAB: &str = "http://localhost:8080";
    const OTHER: &str = "http://127.0.0.1:8081";

    /// Decisions borrow their policy; leaking it keeps each test's one-liners readable.
    fn policy(pairs: &[(&str, &str)]) -> &'static Policy {
        let policy = PolicyInput::from_pairs(pairs).resolve(LAB).unwrap().policy;
        Box::leak(Box::new(policy))
    }

    fn preflight<'a>(
        origin: &'a str,
        method: &'a str,
        headers: Option<&'a str>,
    ) -> RequestFacts<'a> {
        RequestFacts {
            method: "OPTIONS",
            origin: Some(origin),
            request_method: Some(method),
            request_headers: headers,
        }
    }

    fn expect_preflight(d: Decision) -> PreflightDecision {
        match d {
            Decision::Preflight(p) => p,
            other => panic!("expected a preflight decision, got {other:?}"),
        }
    }

    fn expect_actual(d: Decision) -> ActualDecision {
        match d {
            Decision::Actual(a) => a,
            other => panic!("expected an actual decision, got {other:?}"),
        }
    }

    #[test]
    fn only_options_with_origin_and_request_method_is_a_preflight() {
        let p = policy(&[]);
        let plain_options = RequestFacts {
            method: "OPTIONS",
            origin: Some(LAB),
            ..Default::default()
        };
        assert!(matches!(decide(p, &plain_options), Decision::Actual(_)));
        let no_origin = RequestFacts {
            method: "OPTIONS",
            request_method: Some("PUT"),
            ..Default::default()
        };
        assert!(matches!(decide(p, &no_origin), Decision::Actual(_)));
        let get_with_acrm = RequestFacts {
            method: "GET",
            origin: Some(LAB),
            request_method: Some("PUT"),
            ..Default::default()
        };
        assert!(matches!(decide(p, &get_with_acrm), Decision::Actual(_)));
        assert!(matches!(
            decide(p, &preflight(LAB, "PUT", None)),
            Decision::Preflight(_)
        ));
    }

    #[test]
    fn allowed_preflight_strict() {
        let d = expect_preflight(decide(
            policy(&[]),
            &preflight(LAB, "PUT", Some("content-type,x-token")),
        ));
        assert_eq!(d.status, 204);
        assert!(matches!(d.outcome, Outcome::Allowed { .. }));
        assert_eq!(d.headers.get(ACAO), Some(LAB));
        assert_eq!(d.headers.get(ACAC), Some("true"));
        assert_eq!(
            d.headers.get(ACAM),
            Some("PUT"),
            "just the requested method"
        );
        assert_eq!(d.headers.get(ACAH), Some("content-type,x-token"), "echoed");
        assert_eq!(d.headers.get(ACMA), Some("600"));
        assert_eq!(d.headers.get(VARY), Some(PREFLIGHT_VARY));
        assert_eq!(
            d.outcome.to_string(),
            "origin http://localhost:8080 is in CORS_ALLOW_ORIGINS"
        );
    }

    #[test]
    fn each_line_says_where_its_value_comes_from() {
        let sources = |p: &'static Policy, headers: &'static str| {
            let d = expect_preflight(decide(p, &preflight(LAB, "PUT", Some(headers))));
            d.headers
                .lines_with_sources()
                .map(|(name, text, from)| (name, text.to_string(), from))
                .collect::<Vec<_>>()
        };
        use ResponseHeader as H;
        use ValueSource::{Echo, Fixed, Made, Policy as Configured};
        assert_eq!(
            sources(policy(&[]), "content-type,x-token"),
            [
                (H::AllowOrigin, LAB.into(), Echo(EchoOf::Origin)),
                (H::AllowCredentials, "true".into(), Fixed(FixedValue::True)),
                (
                    H::Vary,
                    PREFLIGHT_VARY.into(),
                    Fixed(FixedValue::PreflightVary)
                ),
                (H::AllowMethods, "PUT".into(), Echo(EchoOf::RequestMethod)),
                (
                    H::AllowHeaders,
                    "content-type,x-token".into(),
                    Echo(EchoOf::RequestHeaders)
                ),
                (H::MaxAge, "600".into(), Configured(PolicyValue::MaxAge)),
            ]
        );
        // A list the engine trimmed is not the request's value any more.
        let trimmed = sources(policy(&[]), " x-token ");
        assert!(trimmed.contains(&(H::AllowHeaders, "x-token".into(), Made)));
        let any = sources(policy(&[("CORS_PRESET", "permissive")]), "x-token");
        let star = |name| (name, "*".into(), Fixed(FixedValue::Star));
        assert!(any.contains(&star(H::AllowOrigin)) && any.contains(&star(H::AllowMethods)));
        let star_auth = "*,authorization".into();
        assert!(any.contains(&(
            H::AllowHeaders,
            star_auth,
            Fixed(FixedValue::StarAuthorization)
        )));
        let slash = policy(&[("CORS_PRESET", "broken-trailing-slash")]);
        let made = sources(slash, "x-token");
        assert!(made.contains(&(H::AllowOrigin, format!("{LAB}/"), Made)));
    }

    #[test]
    fn safelisted_method_gets_no_allow_methods() {
        let d = expect_preflight(decide(
            policy(&[]),
            &preflight(LAB, "POST", Some("content-type")),
        ));
        assert_eq!(d.status, 204);
        assert_eq!(d.headers.get(ACAM), None);
        assert_eq!(d.headers.get(ACAH), Some("content-type"));
    }

    #[test]
    fn permissive_answers_with_wildcards() {
        let p = policy(&[("CORS_PRESET", "permissive")]);
        let d = expect_preflight(decide(p, &preflight(OTHER, "DELETE", Some("x-other"))));
        assert_eq!(d.status, 204);
        assert_eq!(d.headers.get(ACAO), Some("*"));
        assert_eq!(d.headers.get(ACAC), None);
        assert_eq!(d.headers.get(ACAM), Some("*"));
        assert_eq!(d.headers.get(ACAH), Some("*,authorization"));
        assert_eq!(d.headers.get(ACMA), None);
        assert_eq!(
            d.headers.get(VARY),
            None,
            "every origin gets the same answer"
        );
    }

    #[test]
    fn wildcards_become_echoes_with_credentials() {
        let p = policy(&[("CORS_ALLOW_METHODS", "*"), ("CORS_ALLOW_HEADERS", "*")]);
        let d = expect_preflight(decide(p, &preflight(LAB, "PURGE", Some("x-anything"))));
        assert_eq!(d.status, 204);
        assert_eq!(d.headers.get(ACAM), Some("PURGE"));
        assert_eq!(d.headers.get(ACAH), Some("x-anything"));
    }

    #[test]
    fn wildcard_headers_do_not_cover_authorization_unless_listed() {
        let p = policy(&[
            ("CORS_ALLOW_ORIGINS", "*"),
            ("CORS_ALLOW_HEADERS", "*"),
            ("CORS_ALLOW_CREDENTIALS", "false"),
            ("CORS_EXPOSE_HEADERS", "*"),
            ("CORS_DEBUG", "false"),
        ]);
        let d = expect_preflight(decide(p, &preflight(LAB, "GET", Some("authorization"))));
        assert_eq!(d.status, 403);
        assert_eq!(
            d.outcome,
            Outcome::Refused(Refusal::AuthorizationNotCoveredByWildcard)
        );
        let d = expect_preflight(decide(p, &preflight(LAB, "GET", Some("x-token"))));
        assert_eq!((d.status, d.headers.get(ACAH)), (204, Some("*")));
    }

    #[test]
    fn refused_origin_gets_403_and_no_cors_headers_even_in_debug() {
        for debug in ["true", "false"] {
            let d = expect_preflight(decide(
                policy(&[("CORS_DEBUG", debug)]),
                &preflight(OTHER, "PUT", None),
            ));
            assert_eq!(d.status, 403);
            assert!(d.headers.is_empty(), "{:?}", d.headers);
            assert_eq!(
                d.outcome.to_string(),
                "origin http://127.0.0.1:8081 is not in CORS_ALLOW_ORIGINS"
            );
        }
    }

    #[test]
    fn refused_method_debug_on_answers_204_with_origin_headers_only() {
        let d = expect_preflight(decide(policy(&[]), &preflight(LAB, "patch", None)));
        assert_eq!(d.status, 204);
        assert_eq!(
            d.outcome,
            Outcome::Refused(Refusal::MethodNotAllowed { method: "patch" })
        );
        assert_eq!(d.headers.get(ACAO), Some(LAB));
        assert_eq!(d.headers.get(ACAC), Some("true"));
        assert_eq!(d.headers.get(ACAM), None);
        assert_eq!(d.headers.get(ACMA), None, "a refusal must not be cached");
    }

    #[test]
    fn refused_header_debug_on_still_allows_the_method() {
        let d = expect_preflight(decide(
            policy(&[("CORS_PRESET", "broken-no-content-type")]),
            &preflight(LAB, "PUT", Some("content-type")),
        ));
        assert_eq!(d.status, 204);
        assert_eq!(
            d.headers.get(ACAM),
            Some("PUT"),
            "so the browser blames the header"
        );
        assert_eq!(d.headers.get(ACAH), None);
    }

    #[test]
    fn refused_header_debug_on_lists_only_the_requested_headers_it_allows() {
        // Chromium names the first requested header missing from the list: with the allowed
        // ones listed, that is the refused one, not `content-type` before it.
        let d = expect_preflight(decide(
            policy(&[]),
            &preflight(LAB, "PUT", Some("content-type,x-trace,X-Token")),
        ));
        assert_eq!(d.status, 204);
        assert_eq!(d.headers.get(ACAH), Some("content-type,X-Token"));
        assert_eq!(
            d.outcome,
            Outcome::Refused(Refusal::HeaderNotAllowed { header: "x-trace" })
        );
        let any = policy(&[
            ("CORS_ALLOW_ORIGINS", "*"),
            ("CORS_ALLOW_CREDENTIALS", "false"),
            ("CORS_ALLOW_HEADERS", "*"),
        ]);
        let d = expect_preflight(decide(
            any,
            &preflight(LAB, "GET", Some("authorization,x-a")),
        ));
        assert_eq!(
            d.headers.get(ACAH),
            Some("x-a"),
            "never `*`, which Chromium lets cover it"
        );
    }

    #[test]
    fn refused_header_debug_off_answers_403_bare() {
        let d = expect_preflight(decide(
            policy(&[("CORS_DEBUG", "false")]),
            &preflight(LAB, "GET", Some("content-type,X-Other")),
        ));
        assert_eq!(d.status, 403);
        assert!(d.headers.is_empty());
        assert_eq!(
            d.outcome,
            Outcome::Refused(Refusal::HeaderNotAllowed { header: "X-Other" })
        );
    }

    #[test]
    fn methods_case_sensitive_headers_case_insensitive() {
        let p = policy(&[]);
        let d = expect_preflight(decide(p, &preflight(LAB, "PATCH", Some("X-TOKEN"))));
        assert!(matches!(d.outcome, Outcome::Allowed { .. }));
        let d = expect_preflight(decide(p, &preflight(LAB, "Patch", None)));
        assert!(matches!(
            d.outcome,
            Outcome::Refused(Refusal::MethodNotAllowed { .. })
        ));
    }

    #[test]
    fn requested_method_must_be_a_token_even_under_any_method() {
        // Regression (found by tests/properties.rs): `*` with credentials echoes the requested
        // method into Access-Control-Allow-Methods, so a non-token was echoed verbatim.
        let p = policy(&[("CORS_ALLOW_METHODS", "*"), ("CORS_DEBUG", "false")]);
        for bad in ["[", "PUT, DELETE", "GET POST", ""] {
            let d = expect_preflight(decide(p, &preflight(LAB, bad, None)));
            assert_eq!(d.status, 403, "{bad:?}");
            assert_eq!(
                d.outcome,
                Outcome::Refused(Refusal::MethodNotAllowed { method: bad })
            );
            assert!(d.headers.is_empty(), "{bad:?}: {:?}", d.headers);
        }
        let d = expect_preflight(decide(p, &preflight(LAB, "PURGE", None)));
        assert_eq!((d.status, d.headers.get(ACAM)), (204, Some("PURGE")));
    }

    #[test]
    fn hostile_request_header_lists_are_refused_cheaply() {
        let p = policy(&[]);
        let commas = ",".repeat(10_000);
        let d = expect_preflight(decide(p, &preflight(LAB, "GET", Some(&commas))));
        assert!(matches!(
            d.outcome,
            Outcome::Refused(Refusal::HeaderList(_))
        ));
        let blank = ", , ,";
        let d = expect_preflight(decide(p, &preflight(LAB, "GET", Some(blank))));
        assert!(matches!(d.outcome, Outcome::Allowed { .. }));
        assert_eq!(d.headers.get(ACAH), None);
    }

    #[test]
    fn actual_responses() {
        let p = policy(&[]);
        let allowed = expect_actual(decide(
            p,
            &RequestFacts {
                method: "GET",
                origin: Some(LAB),
                ..Default::default()
            },
        ));
        assert_eq!(allowed.headers.get(ACAO), Some(LAB));
        assert_eq!(allowed.headers.get(ACAC), Some("true"));
        assert_eq!(allowed.headers.get(ACEH), Some("x-secret"));
        assert!(allowed.vary_origin);

        let refused = expect_actual(decide(
            p,
            &RequestFacts {
                method: "GET",
                origin: Some(OTHER),
                ..Default::default()
            },
        ));
        assert!(refused.headers.is_empty());
        assert!(refused.vary_origin, "Vary: Origin also on refusals");

        let no_origin = expect_actual(decide(
            p,
            &RequestFacts {
                method: "GET",
                ..Default::default()
            },
        ));
        assert_eq!(no_origin.outcome, Outcome::NoOrigin);
        assert!(no_origin.vary_origin, "and without Origin");

        let any = expect_actual(decide(
            policy(&[("CORS_PRESET", "permissive")]),
            &RequestFacts {
                method: "GET",
                origin: Some(OTHER),
                ..Default::default()
            },
        ));
        assert_eq!(any.headers.get(ACAO), Some("*"));
        assert_eq!(any.headers.get(ACEH), Some("*"));
        assert!(!any.vary_origin);
    }

    #[test]
    fn off_passes_everything_through_bare() {
        let p = policy(&[("CORS_PRESET", "off")]);
        let d = expect_actual(decide(p, &preflight(LAB, "PUT", None)));
        assert_eq!(d.outcome, Outcome::CorsOff);
        assert!(d.headers.is_empty() && !d.vary_origin);
    }

    #[test]
    fn broken_presets_produce_their_mistake() {
        fn get(preset: &str, origin: &'static str) -> CorsHeaders<'static> {
            expect_actual(decide(
                policy(&[("CORS_PRESET", preset)]),
                &RequestFacts {
                    method: "GET",
                    origin: Some(origin),
                    ..Default::default()
                },
            ))
            .headers
        }
        assert_eq!(
            get("broken-trailing-slash", LAB).get(ACAO),
            Some("http://localhost:8080/")
        );
        let h = get("broken-wildcard-credentials", OTHER);
        assert_eq!((h.get(ACAO), h.get(ACAC)), (Some("*"), Some("true")));
        let h = get("broken-double-origin", LAB);
        let acao: Vec<_> = h.iter().filter(|(n, _)| *n == ACAO).collect();
        assert_eq!(acao.len(), 2);
        let h = get("broken-reflect-origin", "https://evil.example");
        assert_eq!(
            (h.get(ACAO), h.get(ACAC)),
            (Some("https://evil.example"), Some("true"))
        );
        assert_eq!(get("broken-allow-null", "null").get(ACAO), Some("null"));
        assert_eq!(get("broken-allow-null", OTHER).get(ACAO), None);
        assert_eq!(get("strict", "null").get(ACAO), None);

        let p = policy(&[("CORS_PRESET", "broken-auth-preflight")]);
        let d = expect_preflight(decide(p, &preflight(LAB, "PUT", None)));
        assert_eq!(d.status, 401);
        assert_eq!(d.headers.get(ACAO), Some(LAB));
        let p = policy(&[("CORS_PRESET", "broken-no-content-type")]);
        let d = expect_preflight(decide(p, &preflight(LAB, "POST", Some("content-type"))));
        assert_eq!(
            d.outcome,
            Outcome::Refused(Refusal::HeaderNotAllowed {
                header: "content-type"
            })
        );
    }

    #[test]
    fn broken_presets_cannot_be_adjusted() {
        let errs = PolicyInput::from_lookup(|k| match k {
            "CORS_PRESET" => Some("broken-reflect-origin".into()),
            "CORS_ALLOW_ORIGINS" => Some("https://a.com".into()),
            "CORS_DEBUG" => Some("false".into()),
            _ => None,
        })
        .resolve(LAB)
        .unwrap_err();
        assert_eq!(errs.0.len(), 1);
        assert_eq!(errs.0[0].variable, "CORS_ALLOW_ORIGINS");
    }

    #[test]
    fn origin_matching_is_not_fooled() {
        let p = policy(&[
            (
                "CORS_ALLOW_ORIGINS",
                "https://foo.com,https://bar.com,http://*.example.com",
            ),
            ("CORS_ALLOW_CREDENTIALS", "false"),
        ]);
        let allowed = |o: &str| {
            matches!(
                expect_actual(decide(
                    p,
                    &RequestFacts {
                        method: "GET",
                        origin: Some(o),
                        ..Default::default()
                    }
                ))
                .outcome,
                Outcome::Allowed { .. }
            )
        };
        assert!(allowed("https://foo.com") && allowed("https://bar.com"));
        assert!(allowed("http://a.example.com"));
        for evil in [
            "https://barfoo.com",
            "https://foobar.com",
            "http://example.com.evil.com",
            "http://example.com",
            "https://FOO.com",
            "https://foo.com/",
            "HTTPS://foo.com",
            "null",
            "https://föo.com",
            &format!("https://{}.foo.com", "a".repeat(5000)),
        ] {
            assert!(!allowed(evil), "{evil}");
        }
    }
}
