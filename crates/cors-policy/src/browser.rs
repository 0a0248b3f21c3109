//! The browser side of CORS: what Chromium concludes from a response.
//!
//! Script never learns why a cross-origin request failed — every CORS failure is the same
//! `TypeError: Failed to fetch`. The browser knows, and says it in the DevTools console. This
//! module reproduces that check, in Chromium's order, with Chromium's `CorsError` names and
//! console texts (observed with Chromium 156), so the lab can show the learner the verdict next
//! to the headers that caused it — and the browser tests can hold the model to reality.
//!
//! The check of a response (Fetch standard, "CORS check"):
//! 1. `Access-Control-Allow-Origin` must be present, single-valued, and either `*` (only when
//!    the request's credentials mode is not `include`) or exactly the request's origin.
//! 2. With credentials, `Access-Control-Allow-Credentials` must be exactly `true`.
//!
//! A preflight answer must in addition not be a redirect, have an ok (2xx) status, allow the
//! method (unless safelisted) in `Access-Control-Allow-Methods` — case-sensitively — and every
//! requested header in `Access-Control-Allow-Headers`. `*` is a wildcard in those lists only
//! without credentials. Chromium lets `*` cover `Authorization` (the standard says it must not;
//! Chromium only raises a deprecation issue), and this model follows Chromium.

use std::fmt;

use crate::engine::{ACAC, ACAH, ACAM, ACAO};
use crate::method::{is_safelisted, is_token};

/// `credentials` of the request as the browser runs it. For a cross-origin request the
/// default, `same-origin`, behaves as `omit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsMode {
    Omit,
    Include,
}

/// Which response is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Preflight,
    Actual,
}

/// What the browser asked for.
#[derive(Debug, Clone, Copy)]
pub struct BrowserRequest<'a> {
    pub kind: RequestKind,
    /// The serialized origin the browser sent (`null` for opaque origins).
    pub origin: &'a str,
    /// For a preflight: the method of the actual request (`Access-Control-Request-Method`).
    pub method: &'a str,
    /// For a preflight: `Access-Control-Request-Headers`.
    pub request_headers: Option<&'a str>,
    pub credentials: CredentialsMode,
}

/// Chromium's `network::mojom::CorsError` values that this model produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorsError {
    MissingAllowOriginHeader,
    MultipleAllowOriginValues,
    InvalidAllowOriginValue,
    AllowOriginMismatch,
    WildcardOriginNotAllowed,
    InvalidAllowCredentials,
    PreflightMissingAllowOriginHeader,
    PreflightMultipleAllowOriginValues,
    PreflightInvalidAllowOriginValue,
    PreflightAllowOriginMismatch,
    PreflightWildcardOriginNotAllowed,
    PreflightInvalidAllowCredentials,
    PreflightInvalidStatus,
    PreflightDisallowedRedirect,
    InvalidAllowMethodsPreflightResponse,
    InvalidAllowHeadersPreflightResponse,
    MethodDisallowedByPreflightResponse,
    HeaderDisallowedByPreflightResponse,
}

/// The errors of the CORS check proper (origin and credentials), as an actual response fails
/// them; a preflight's answer fails the `Preflight…` form of each.
const ACCESS_CHECKS: [CorsError; 6] = [
    CorsError::MissingAllowOriginHeader,
    CorsError::MultipleAllowOriginValues,
    CorsError::InvalidAllowOriginValue,
    CorsError::AllowOriginMismatch,
    CorsError::WildcardOriginNotAllowed,
    CorsError::InvalidAllowCredentials,
];

impl CorsError {
    /// The name as the DevTools protocol spells it.
    pub fn name(self) -> &'static str {
        use CorsError::*;
        match self {
            MissingAllowOriginHeader => "MissingAllowOriginHeader",
            MultipleAllowOriginValues => "MultipleAllowOriginValues",
            InvalidAllowOriginValue => "InvalidAllowOriginValue",
            AllowOriginMismatch => "AllowOriginMismatch",
            WildcardOriginNotAllowed => "WildcardOriginNotAllowed",
            InvalidAllowCredentials => "InvalidAllowCredentials",
            PreflightMissingAllowOriginHeader => "PreflightMissingAllowOriginHeader",
            PreflightMultipleAllowOriginValues => "PreflightMultipleAllowOriginValues",
            PreflightInvalidAllowOriginValue => "PreflightInvalidAllowOriginValue",
            PreflightAllowOriginMismatch => "PreflightAllowOriginMismatch",
            PreflightWildcardOriginNotAllowed => "PreflightWildcardOriginNotAllowed",
            PreflightInvalidAllowCredentials => "PreflightInvalidAllowCredentials",
            PreflightInvalidStatus => "PreflightInvalidStatus",
            PreflightDisallowedRedirect => "PreflightDisallowedRedirect",
            InvalidAllowMethodsPreflightResponse => "InvalidAllowMethodsPreflightResponse",
            InvalidAllowHeadersPreflightResponse => "InvalidAllowHeadersPreflightResponse",
            MethodDisallowedByPreflightResponse => "MethodDisallowedByPreflightResponse",
            HeaderDisallowedByPreflightResponse => "HeaderDisallowedByPreflightResponse",
        }
    }

    /// True for the checks of a preflight's answer: after one of these, the actual request is
    /// never sent.
    pub fn is_preflight(self) -> bool {
        !ACCESS_CHECKS.contains(&self)
    }

    /// The preflight form of an origin or credentials check (the others are unchanged).
    pub(crate) fn for_preflight(self) -> CorsError {
        use CorsError::*;
        match self {
            MissingAllowOriginHeader => PreflightMissingAllowOriginHeader,
            MultipleAllowOriginValues => PreflightMultipleAllowOriginValues,
            InvalidAllowOriginValue => PreflightInvalidAllowOriginValue,
            AllowOriginMismatch => PreflightAllowOriginMismatch,
            WildcardOriginNotAllowed => PreflightWildcardOriginNotAllowed,
            InvalidAllowCredentials => PreflightInvalidAllowCredentials,
            other => other,
        }
    }
}

impl fmt::Display for CorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the browser concludes about one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserVerdict {
    /// The response passes: for a preflight, the actual request will be sent; for an actual
    /// request, script can read the response.
    Pass,
    /// Blocked. `failed_parameter` is the value Chromium quotes (a header value, a method or a
    /// header name; empty when none).
    Blocked {
        error: CorsError,
        failed_parameter: String,
    },
}

/// Prefix Chromium puts before every reason that comes from the preflight's CORS check.
pub const PREFLIGHT_PREFIX: &str =
    "Response to preflight request doesn't pass access control check: ";

impl BrowserVerdict {
    fn blocked(error: CorsError, failed_parameter: impl Into<String>) -> Self {
        BrowserVerdict::Blocked {
            error,
            failed_parameter: failed_parameter.into(),
        }
    }

    pub fn is_pass(&self) -> bool {
        matches!(self, BrowserVerdict::Pass)
    }

    /// The text Chromium prints in the console after `… has been blocked by CORS policy: `.
    pub fn reason(&self) -> Option<String> {
        let BrowserVerdict::Blocked {
            error,
            failed_parameter,
        } = self
        else {
            return None;
        };
        let (text, preflight_form) = ReasonText::of(*error);
        let prefix = if preflight_form || text.after_prefix {
            PREFLIGHT_PREFIX
        } else {
            ""
        };
        let parameter = if text.after.is_empty() {
            ""
        } else {
            failed_parameter.as_str()
        };
        Some(format!("{prefix}{}{parameter}{}", text.before, text.after))
    }
}

/// Chromium's reason for one check: `before`, the value it quotes (the verdict's
/// `failed_parameter`; none when `after` is empty), `after`. One table for writing a reason
/// ([`BrowserVerdict::reason`]) and reading one back ([`crate::console`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReasonText {
    pub error: CorsError,
    pub before: &'static str,
    pub after: &'static str,
    /// Always after [`PREFLIGHT_PREFIX`] (a preflight-only check of the preflight's CORS check).
    /// The six access checks have it in their `Preflight…` forms only.
    pub after_prefix: bool,
}

impl ReasonText {
    const fn new(error: CorsError, before: &'static str, after: &'static str) -> Self {
        ReasonText {
            error,
            before,
            after,
            after_prefix: false,
        }
    }

    /// The text of `error`, and whether `error` is the `Preflight…` form of an access check.
    fn of(error: CorsError) -> (&'static ReasonText, bool) {
        let access = ACCESS_CHECKS
            .into_iter()
            .find(|a| a.for_preflight() == error && *a != error);
        let base = access.unwrap_or(error);
        let text = REASON_TEXTS
            .iter()
            .find(|t| t.error == base)
            .expect("every CorsError the model produces has a reason text");
        (text, access.is_some())
    }
}

/// The reasons of the checks this model makes, as Chromium 156 words them.
pub(crate) const REASON_TEXTS: [ReasonText; 12] =
    {
        use CorsError::*;
        [
        ReasonText::new(
            MissingAllowOriginHeader,
            "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
            "",
        ),
        ReasonText::new(
            MultipleAllowOriginValues,
            "The 'Access-Control-Allow-Origin' header contains multiple values '",
            "', but only one is allowed. Have the server send the header with a valid value.",
        ),
        ReasonText::new(
            InvalidAllowOriginValue,
            "The 'Access-Control-Allow-Origin' header contains the invalid value '",
            "'. Have the server send the header with a valid value.",
        ),
        ReasonText::new(
            AllowOriginMismatch,
            "The 'Access-Control-Allow-Origin' header has a value '",
            "' that is not equal to the supplied origin. Have the server send the header with a \
             valid value.",
        ),
        ReasonText::new(
            WildcardOriginNotAllowed,
            "The value of the 'Access-Control-Allow-Origin' header in the response must not be \
             the wildcard '*' when the request's credentials mode is 'include'.",
            "",
        ),
        ReasonText::new(
            InvalidAllowCredentials,
            "The value of the 'Access-Control-Allow-Credentials' header in the response is '",
            "' which must be 'true' when the request's credentials mode is 'include'.",
        ),
        ReasonText {
            after_prefix: true,
            ..ReasonText::new(PreflightInvalidStatus, "It does not have HTTP ok status.", "")
        },
        ReasonText {
            after_prefix: true,
            ..ReasonText::new(
                PreflightDisallowedRedirect,
                "Redirect is not allowed for a preflight request.",
                "",
            )
        },
        ReasonText::new(
            InvalidAllowMethodsPreflightResponse,
            "Cannot parse Access-Control-Allow-Methods response header field in preflight \
             response.",
            "",
        ),
        ReasonText::new(
            InvalidAllowHeadersPreflightResponse,
            "Cannot parse Access-Control-Allow-Headers response header field in preflight \
             response.",
            "",
        ),
        ReasonText::new(
            MethodDisallowedByPreflightResponse,
            "Method ",
            " is not allowed by Access-Control-Allow-Methods in preflight response.",
        ),
        ReasonText::new(
            HeaderDisallowedByPreflightResponse,
            "Request header field ",
            " is not allowed by Access-Control-Allow-Headers in preflight response.",
        ),
    ]
    };

/// All values of a response header, joined with `, ` as a browser's header map does.
pub(crate) fn header<N: AsRef<str>, V: AsRef<str>>(
    headers: &[(N, V)],
    name: &str,
) -> Option<String> {
    let mut values = headers
        .iter()
        .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref().trim());
    let first = values.next()?;
    Some(values.fold(first.to_string(), |acc, v| acc + ", " + v))
}

/// Checks a response (status and header lines) against the request, as Chromium does.
pub fn check<N: AsRef<str>, V: AsRef<str>>(
    request: &BrowserRequest<'_>,
    status: u16,
    headers: &[(N, V)],
) -> BrowserVerdict {
    let preflight = request.kind == RequestKind::Preflight;
    if preflight && (300..400).contains(&status) {
        return BrowserVerdict::blocked(CorsError::PreflightDisallowedRedirect, "");
    }
    if let Err((error, param)) = access_check(request, headers) {
        let error = if preflight {
            error.for_preflight()
        } else {
            error
        };
        return BrowserVerdict::blocked(error, param);
    }
    if !preflight {
        return BrowserVerdict::Pass;
    }
    if !(200..300).contains(&status) {
        return BrowserVerdict::blocked(CorsError::PreflightInvalidStatus, "");
    }
    let Some(methods) = parse_list(header(headers, ACAM).as_deref()) else {
        return BrowserVerdict::blocked(CorsError::InvalidAllowMethodsPreflightResponse, "");
    };
    let Some(allowed_headers) = parse_list(header(headers, ACAH).as_deref()) else {
        return BrowserVerdict::blocked(CorsError::InvalidAllowHeadersPreflightResponse, "");
    };
    let credentialed = request.credentials == CredentialsMode::Include;
    let wildcard = |list: &[String]| !credentialed && list.iter().any(|m| m == "*");

    let method = request.method;
    if !is_safelisted(method) && !methods.iter().any(|m| m == method) && !wildcard(&methods) {
        return BrowserVerdict::blocked(CorsError::MethodDisallowedByPreflightResponse, method);
    }
    if let Some(list) = request.request_headers {
        if !wildcard(&allowed_headers) {
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if !allowed_headers.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                    return BrowserVerdict::blocked(
                        CorsError::HeaderDisallowedByPreflightResponse,
                        name.to_ascii_lowercase(),
                    );
                }
            }
        }
    }
    BrowserVerdict::Pass
}

/// Step 1 and 2 of the check: the origin and credentials headers.
fn access_check<N: AsRef<str>, V: AsRef<str>>(
    request: &BrowserRequest<'_>,
    headers: &[(N, V)],
) -> Result<(), (CorsError, String)> {
    let Some(allow_origin) = header(headers, ACAO) else {
        return Err((CorsError::MissingAllowOriginHeader, String::new()));
    };
    let credentialed = request.credentials == CredentialsMode::Include;
    if allow_origin == "*" {
        if credentialed {
            return Err((CorsError::WildcardOriginNotAllowed, String::new()));
        }
        return Ok(());
    }
    if allow_origin != request.origin {
        let error = if allow_origin.contains([' ', ',']) {
            CorsError::MultipleAllowOriginValues
        } else if !looks_like_url(&allow_origin) {
            CorsError::InvalidAllowOriginValue
        } else {
            CorsError::AllowOriginMismatch
        };
        return Err((error, allow_origin));
    }
    if credentialed {
        let allow_credentials = header(headers, ACAC).unwrap_or_default();
        if allow_credentials != "true" {
            return Err((CorsError::InvalidAllowCredentials, allow_credentials));
        }
    }
    Ok(())
}

/// Chromium parses `Access-Control-Allow-Origin` as a URL to tell a mismatch from garbage.
fn looks_like_url(text: &str) -> bool {
    match text.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                && !rest.is_empty()
        }
        None => false,
    }
}

/// Parses a `#token` list; `None` when an element is not a token. Absent is an empty list.
pub(crate) fn parse_list(value: Option<&str>) -> Option<Vec<String>> {
    let Some(value) = value else {
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if !is_token(item) {
            return None;
        }
        out.push(item.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CorsError::*;

    const O: &str = "http://localhost:8080";

    fn actual(credentials: CredentialsMode) -> BrowserRequest<'static> {
        BrowserRequest {
            kind: RequestKind::Actual,
            origin: O,
            method: "GET",
            request_headers: None,
            credentials,
        }
    }

    fn pre(
        method: &'static str,
        headers: Option<&'static str>,
        credentials: CredentialsMode,
    ) -> BrowserRequest<'static> {
        BrowserRequest {
            kind: RequestKind::Preflight,
            origin: O,
            method,
            request_headers: headers,
            credentials,
        }
    }

    fn err(v: BrowserVerdict) -> (CorsError, String) {
        match v {
            BrowserVerdict::Blocked {
                error,
                failed_parameter,
            } => (error, failed_parameter),
            BrowserVerdict::Pass => panic!("expected a block"),
        }
    }

    use CredentialsMode::{Include, Omit};

    #[test]
    fn allow_origin_rules() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            err(check(&actual(Omit), 200, &none)).0,
            MissingAllowOriginHeader
        );
        assert!(check(&actual(Omit), 200, &[(ACAO, "*")]).is_pass());
        assert!(
            check(&actual(Omit), 500, &[(ACAO, O)]).is_pass(),
            "status does not matter"
        );
        assert_eq!(
            err(check(&actual(Include), 200, &[(ACAO, "*")])).0,
            WildcardOriginNotAllowed
        );
        assert_eq!(
            err(check(
                &actual(Omit),
                200,
                &[(ACAO, "http://localhost:8080/")]
            )),
            (AllowOriginMismatch, "http://localhost:8080/".into()),
            "a trailing slash fails"
        );
        assert_eq!(
            err(check(&actual(Omit), 200, &[(ACAO, O), (ACAO, O)])),
            (MultipleAllowOriginValues, format!("{O}, {O}")),
            "two header lines fail"
        );
        assert_eq!(
            err(check(&actual(Omit), 200, &[(ACAO, "nonsense")])).0,
            InvalidAllowOriginValue
        );
    }

    #[test]
    fn credentials_rules() {
        assert!(check(&actual(Include), 200, &[(ACAO, O), (ACAC, "true")]).is_pass());
        assert_eq!(
            err(check(&actual(Include), 200, &[(ACAO, O), (ACAC, "True")])),
            (InvalidAllowCredentials, "True".into())
        );
        assert_eq!(
            err(check(&actual(Include), 200, &[(ACAO, O)])),
            (InvalidAllowCredentials, String::new())
        );
        assert!(
            check(&actual(Omit), 200, &[(ACAO, O)]).is_pass(),
            "ACAC only matters with credentials"
        );
    }

    #[test]
    fn preflight_rules_in_chromiums_order() {
        let ok = [(ACAO, O), (ACAM, "PUT")];
        assert!(check(&pre("PUT", None, Omit), 204, &ok).is_pass());
        assert_eq!(
            err(check(&pre("PUT", None, Omit), 302, &ok)).0,
            PreflightDisallowedRedirect
        );
        assert_eq!(
            err(check(&pre("PUT", None, Omit), 405, &[] as &[(&str, &str)])).0,
            PreflightMissingAllowOriginHeader,
            "the origin check comes before the status check"
        );
        assert_eq!(
            err(check(&pre("PUT", None, Omit), 401, &ok)).0,
            PreflightInvalidStatus
        );
        assert_eq!(
            err(check(
                &pre("patch", None, Omit),
                204,
                &[(ACAO, O), (ACAM, "PATCH")]
            )),
            (MethodDisallowedByPreflightResponse, "patch".into())
        );
        assert!(check(
            &pre("POST", Some("content-type"), Omit),
            204,
            &[(ACAO, O), (ACAH, "Content-Type")]
        )
        .is_pass());
        assert_eq!(
            err(check(
                &pre("GET", Some("x-other"), Omit),
                204,
                &[(ACAO, O), (ACAH, "x-token")]
            )),
            (HeaderDisallowedByPreflightResponse, "x-other".into())
        );
        assert_eq!(
            err(check(
                &pre("PUT", None, Omit),
                204,
                &[(ACAO, O), (ACAM, "PUT POST")]
            ))
            .0,
            InvalidAllowMethodsPreflightResponse
        );
        assert_eq!(
            err(check(
                &pre("GET", Some("a"), Omit),
                204,
                &[(ACAO, O), (ACAH, "a b")]
            ))
            .0,
            InvalidAllowHeadersPreflightResponse
        );
        assert_eq!(
            err(check(
                &pre("PUT", None, Include),
                204,
                &[(ACAO, "*"), (ACAM, "PUT")]
            ))
            .0,
            PreflightWildcardOriginNotAllowed
        );
    }

    #[test]
    fn wildcards_in_lists_only_without_credentials() {
        let h = [(ACAO, O), (ACAC, "true"), (ACAM, "*"), (ACAH, "*")];
        assert!(check(&pre("DELETE", Some("x-a,authorization"), Omit), 204, &h).is_pass());
        assert_eq!(
            err(check(&pre("DELETE", None, Include), 204, &h)).0,
            MethodDisallowedByPreflightResponse
        );
        assert_eq!(
            err(check(&pre("GET", Some("x-a"), Include), 204, &h)).0,
            HeaderDisallowedByPreflightResponse
        );
    }

    #[test]
    fn console_texts() {
        let v = BrowserVerdict::blocked(PreflightMissingAllowOriginHeader, "");
        assert_eq!(
            v.reason().unwrap(),
            "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource."
        );
        let v = BrowserVerdict::blocked(MethodDisallowedByPreflightResponse, "PUT");
        assert_eq!(
            v.reason().unwrap(),
            "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response."
        );
        let v = BrowserVerdict::blocked(HeaderDisallowedByPreflightResponse, "x-token");
        assert_eq!(
            v.reason().unwrap(),
            "Request header field x-token is not allowed by Access-Control-Allow-Headers in preflight response."
        );
        let v = BrowserVerdict::blocked(InvalidAllowCredentials, "True");
        assert!(v
            .reason()
            .unwrap()
            .contains("is 'True' which must be 'true'"));
        assert_eq!(BrowserVerdict::Pass.reason(), None);
    }

    #[test]
    fn preflight_errors_are_the_preflight_forms_and_the_preflight_only_checks() {
        use CorsError::*;
        for e in ACCESS_CHECKS {
            assert!(!e.is_preflight(), "{e}");
            assert!(e.for_preflight().is_preflight(), "{e}");
            assert_eq!(e.for_preflight().name(), format!("Preflight{}", e.name()));
        }
        for e in [
            PreflightInvalidStatus,
            PreflightDisallowedRedirect,
            InvalidAllowMethodsPreflightResponse,
            InvalidAllowHeadersPreflightResponse,
            MethodDisallowedByPreflightResponse,
            HeaderDisallowedByPreflightResponse,
        ] {
            assert!(e.is_preflight(), "{e}");
            assert_eq!(e.for_preflight(), e);
        }
    }
}
