//! Chromium's console message, read back.
//!
//! When CORS blocks a request, script sees only `TypeError: Failed to fetch`; Chromium writes
//! the reason to the DevTools console, one line per blocked request:
//!
//! ```text
//! Access to fetch at '<url>' [(redirected from '<url0>') ]from origin '<origin>' has been blocked by CORS policy: <reason>
//! ```
//!
//! (`XMLHttpRequest`, `font`, `script`… in place of `fetch` for other initiators.) The
//! [`browser`](crate::browser) module writes `<reason>` from a [`BrowserVerdict`]; this module
//! reads it back, so that a developer can paste the line from their own app's console and get
//! the lab's explanation of it: which of the browser's checks failed (the `CorsError` name
//! DevTools shows), on which response (the preflight or the actual one), and what the server's
//! answer must carry for that check to pass ([`RequiredAnswer`]).
//!
//! The text is pasted by a person and may be anything, so reading it never allocates more than
//! the verdict's parameter, reads at most [`MAX_MESSAGES`] messages, and treats a reason it does
//! not know as unknown rather than guessing.

use crate::browser::{
    BrowserVerdict, CorsError, CredentialsMode, RequestKind, PREFLIGHT_PREFIX, REASON_TEXTS,
};
use crate::engine::{ACAC, ACAH, ACAM, ACAO};

/// Most messages read from one pasted text.
pub const MAX_MESSAGES: usize = 16;

/// What every blocked request's console line says after the origin.
const BLOCKED: &str = "' has been blocked by CORS policy: ";
/// How a line that is about a CORS block is told from the others.
const MENTION: &str = "has been blocked by CORS policy";

/// One console line of a request that CORS blocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleMessage<'a> {
    /// What made the request: `fetch`, `XMLHttpRequest`, or the resource type (`font`, …).
    pub initiator: &'a str,
    /// The URL of the request that was blocked (after any redirect).
    pub url: &'a str,
    /// The URL first requested, when a redirect led to `url`.
    pub redirected_from: Option<&'a str>,
    /// The origin the request came from, as the browser sent it in `Origin` (`null` for an
    /// opaque origin).
    pub origin: &'a str,
    /// Chromium's reason: the text after `has been blocked by CORS policy: `.
    pub reason: &'a str,
    /// The check that failed, when the reason is one the lab models; `None` for other reasons
    /// (private network access, a scheme that has no CORS, …).
    pub verdict: Option<BrowserVerdict>,
}

/// Why a line that mentions a CORS block could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleMessageError {
    /// The line says `has been blocked by CORS policy` but is not in Chromium's shape; the text
    /// names the part that is missing.
    Malformed(&'static str),
}

impl std::fmt::Display for ConsoleMessageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsoleMessageError::Malformed(what) => write!(f, "not Chromium's shape: {what}"),
        }
    }
}

/// The line Chromium writes for a `fetch()` from `origin` to `url` that it blocked with
/// `verdict` ([`read_line`] the other way round); `None` for a verdict that passes.
pub fn fetch_line(url: &str, origin: &str, verdict: &BrowserVerdict) -> Option<String> {
    let reason = verdict.reason()?;
    Some(format!(
        "Access to fetch at '{url}' from origin '{origin}{BLOCKED}{reason}"
    ))
}

/// Reads every Chromium CORS message in `text` (a console pasted whole, with file prefixes,
/// `net::ERR_FAILED` lines and stack traces around them), at most [`MAX_MESSAGES`]. Lines that
/// do not mention a CORS block are skipped.
pub fn read_all(text: &str) -> Vec<Result<ConsoleMessage<'_>, ConsoleMessageError>> {
    text.lines()
        .filter(|line| line.contains(MENTION))
        .take(MAX_MESSAGES)
        .map(read_line)
        .collect()
}

/// Reads one console line (anything before `Access to ` is ignored, as DevTools puts the
/// script's file and line there when the message is copied).
pub fn read_line(line: &str) -> Result<ConsoleMessage<'_>, ConsoleMessageError> {
    use ConsoleMessageError::Malformed;
    let start = line
        .find("Access to ")
        .ok_or(Malformed("it should begin with “Access to …”"))?;
    let rest = &line[start + "Access to ".len()..];
    let at = rest.find(" at '").ok_or(Malformed(
        "“Access to …” should be followed by “at '<url>'”",
    ))?;
    let initiator = &rest[..at];
    if initiator.is_empty() || initiator.contains('\'') {
        return Err(Malformed("“Access to” should name what made the request"));
    }
    // `<url>' from origin '…`, or `<url>' (redirected from '<first url>') from origin '…`.
    let (head, rest) = rest[at + " at '".len()..]
        .split_once(" from origin '")
        .ok_or(Malformed(
            "the URL should be followed by “from origin '<origin>'”",
        ))?;
    let (url, redirected_from) = match head
        .strip_suffix("')")
        .and_then(|h| h.split_once("' (redirected from '"))
    {
        Some((url, first)) => (url, Some(first)),
        None => (
            head.strip_suffix('\'')
                .ok_or(Malformed("the URL should be in quotes"))?,
            None,
        ),
    };
    let blocked = rest.find(BLOCKED).ok_or(Malformed(
        "the origin should be followed by “has been blocked by CORS policy:”",
    ))?;
    let origin = &rest[..blocked];
    let reason = rest[blocked + BLOCKED.len()..].trim();
    if url.is_empty() || origin.is_empty() {
        return Err(Malformed("the URL and the origin should not be empty"));
    }
    Ok(ConsoleMessage {
        initiator,
        url,
        redirected_from,
        origin,
        reason,
        verdict: read_reason(reason),
    })
}

/// The verdict behind one of Chromium's reasons, the inverse of [`BrowserVerdict::reason`]
/// (the same table of texts, [`REASON_TEXTS`]). Text after the reason's own sentence (Chromium
/// adds advice to some, as "If an opaque response serves your needs…") is ignored.
pub fn read_reason(reason: &str) -> Option<BrowserVerdict> {
    let (preflight, check) = match reason.strip_prefix(PREFLIGHT_PREFIX) {
        Some(check) => (true, check),
        None => (false, reason),
    };
    REASON_TEXTS.iter().find_map(|text| {
        let access = !text.error.is_preflight();
        // Only the access checks and the preflight-only checks of the CORS check follow the
        // prefix; the others stand alone.
        let read = match (access, text.after_prefix) {
            (true, _) => check,
            (false, true) if preflight => check,
            (false, true) => return None,
            (false, false) => reason,
        };
        let rest = read.strip_prefix(text.before)?;
        let parameter = match text.after {
            "" => "",
            after => &rest[..rest.find(after)?],
        };
        let error = if access && preflight {
            text.error.for_preflight()
        } else {
            text.error
        };
        Some(BrowserVerdict::Blocked {
            error,
            failed_parameter: parameter.to_string(),
        })
    })
}

/// One thing the server's answer must have for the check that failed to pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// The line `name: value`, the only one of that name.
    Line(&'static str, String),
    /// `value` among the elements of the `name` list: added to what it already allows, as a
    /// second line or after a comma.
    InList(&'static str, String),
    /// Every `name` line a comma-separated list of tokens (the message does not say what the
    /// request needs in it; once it parses, the next message will, if anything is missing).
    ValidList(&'static str),
    /// An ok status (2xx), not a redirect: a preflight's answer only.
    OkStatus,
}

/// What the server's answer must carry, as far as the message tells: the request's method and
/// headers appear in it only when they were refused, and its credentials mode only when the
/// credentials check failed. Followed message after message, these requirements make the answer
/// pass (a property test holds them to that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredAnswer {
    /// The response the fix is on: the preflight (`OPTIONS`) or the actual response.
    pub kind: RequestKind,
    pub requirements: Vec<Requirement>,
    /// The reason shows the request was sent with credentials (`credentials: 'include'`), so
    /// `Access-Control-Allow-Credentials: true` is required; when `false`, the message does not
    /// say (it is then needed only if the request sends credentials).
    pub credentialed: bool,
}

impl ConsoleMessage<'_> {
    /// Which response failed the check: a preflight's reasons say so.
    pub fn kind(&self) -> Option<RequestKind> {
        let BrowserVerdict::Blocked { error, .. } = self.verdict.as_ref()? else {
            return None;
        };
        Some(if error.is_preflight() {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        })
    }

    /// What passes the check that failed (and the origin checks before it), for a reason the
    /// lab models.
    pub fn required_answer(&self) -> Option<RequiredAnswer> {
        RequiredAnswer::for_verdict(self.origin, self.verdict.as_ref()?, None)
    }
}

impl RequiredAnswer {
    /// What passes the check `verdict` failed, for a request from `origin`. `credentials` is
    /// the request's mode when known; when `None`, the verdict tells only whether it was
    /// `include` by the credentials checks that fail. `None` for a pass.
    pub fn for_verdict(
        origin: &str,
        verdict: &BrowserVerdict,
        credentials: Option<CredentialsMode>,
    ) -> Option<RequiredAnswer> {
        use CorsError::*;
        use Requirement::*;
        let BrowserVerdict::Blocked {
            error,
            failed_parameter,
        } = verdict
        else {
            return None;
        };
        let kind = if error.is_preflight() {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        };
        let credentialed = credentials == Some(CredentialsMode::Include)
            || matches!(
                error,
                WildcardOriginNotAllowed
                    | InvalidAllowCredentials
                    | PreflightWildcardOriginNotAllowed
                    | PreflightInvalidAllowCredentials
            );
        let mut requirements = Vec::with_capacity(3);
        if kind == RequestKind::Preflight {
            requirements.push(OkStatus);
        }
        // The exact origin passes with and without credentials; `*` only without.
        requirements.push(Line(ACAO, origin.to_string()));
        if credentialed {
            requirements.push(Line(ACAC, "true".to_string()));
        }
        match error {
            InvalidAllowMethodsPreflightResponse => requirements.push(ValidList(ACAM)),
            InvalidAllowHeadersPreflightResponse => requirements.push(ValidList(ACAH)),
            MethodDisallowedByPreflightResponse => {
                requirements.push(InList(ACAM, failed_parameter.clone()))
            }
            HeaderDisallowedByPreflightResponse => {
                requirements.push(InList(ACAH, failed_parameter.clone()))
            }
            _ => {}
        }
        Some(RequiredAnswer {
            kind,
            requirements,
            credentialed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://api.example.com/v1/items?x=1";
    const ORIGIN: &str = "https://app.example.com";

    fn line(reason: &str) -> String {
        format!("Access to fetch at '{URL}' from origin '{ORIGIN}' has been blocked by CORS policy: {reason}")
    }

    #[test]
    fn a_written_line_reads_back_to_its_request_and_verdict() {
        let blocked = BrowserVerdict::Blocked {
            error: CorsError::PreflightWildcardOriginNotAllowed,
            failed_parameter: String::new(),
        };
        let written = fetch_line(URL, ORIGIN, &blocked).unwrap();
        let read = read_line(&written).unwrap();
        assert_eq!(
            (read.initiator, read.url, read.origin),
            ("fetch", URL, ORIGIN)
        );
        assert_eq!(read.verdict, Some(blocked));
        assert_eq!(fetch_line(URL, ORIGIN, &BrowserVerdict::Pass), None);
    }

    fn verdict(error: CorsError, p: &str) -> Option<BrowserVerdict> {
        Some(BrowserVerdict::Blocked {
            error,
            failed_parameter: p.into(),
        })
    }

    #[test]
    fn reads_the_parts_of_a_fetch_message() {
        let text =
            line("No 'Access-Control-Allow-Origin' header is present on the requested resource.");
        let m = read_line(&text).unwrap();
        assert_eq!(m.initiator, "fetch");
        assert_eq!(m.url, URL);
        assert_eq!(m.redirected_from, None);
        assert_eq!(m.origin, ORIGIN);
        assert_eq!(m.verdict, verdict(CorsError::MissingAllowOriginHeader, ""));
        assert_eq!(m.kind(), Some(RequestKind::Actual));
    }

    #[test]
    fn reads_a_redirected_xhr_message_with_a_devtools_prefix() {
        let text = "app.js:12  Access to XMLHttpRequest at 'http://127.0.0.1:9090/api/items' \
                    (redirected from 'http://localhost:9090/api/redirect') from origin \
                    'http://localhost:8080' has been blocked by CORS policy: Response to preflight \
                    request doesn't pass access control check: It does not have HTTP ok status.";
        let m = read_line(text).unwrap();
        assert_eq!(m.initiator, "XMLHttpRequest");
        assert_eq!(m.url, "http://127.0.0.1:9090/api/items");
        assert_eq!(
            m.redirected_from,
            Some("http://localhost:9090/api/redirect")
        );
        assert_eq!(m.origin, "http://localhost:8080");
        assert_eq!(m.verdict, verdict(CorsError::PreflightInvalidStatus, ""));
        assert_eq!(m.kind(), Some(RequestKind::Preflight));
    }

    #[test]
    fn ignores_the_advice_chromium_adds_after_a_reason() {
        let text = line(
            "No 'Access-Control-Allow-Origin' header is present on the requested resource. If an \
             opaque response serves your needs, set the request's mode to 'no-cors' to fetch the \
             resource with CORS disabled.",
        );
        assert_eq!(
            read_line(&text).unwrap().verdict,
            verdict(CorsError::MissingAllowOriginHeader, "")
        );
        let xhr = line(
            "The value of the 'Access-Control-Allow-Origin' header in the response must not be the \
             wildcard '*' when the request's credentials mode is 'include'. The credentials mode of \
             requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute.",
        );
        assert_eq!(
            read_line(&xhr).unwrap().verdict,
            verdict(CorsError::WildcardOriginNotAllowed, "")
        );
    }

    #[test]
    fn reads_the_quoted_parameters() {
        let cases = [
            ("Method PUT is not allowed by Access-Control-Allow-Methods in preflight response.",
             CorsError::MethodDisallowedByPreflightResponse, "PUT"),
            ("Request header field x-token is not allowed by Access-Control-Allow-Headers in preflight response.",
             CorsError::HeaderDisallowedByPreflightResponse, "x-token"),
            ("Response to preflight request doesn't pass access control check: The 'Access-Control-Allow-Origin' header has a value 'http://localhost:8080' that is not equal to the supplied origin. Have the server send the header with a valid value.",
             CorsError::PreflightAllowOriginMismatch, "http://localhost:8080"),
            ("The 'Access-Control-Allow-Origin' header contains multiple values 'http://a.test, http://b.test', but only one is allowed. Have the server send the header with a valid value.",
             CorsError::MultipleAllowOriginValues, "http://a.test, http://b.test"),
            ("The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.",
             CorsError::InvalidAllowCredentials, ""),
        ];
        for (reason, error, p) in cases {
            assert_eq!(read_reason(reason), verdict(error, p), "{reason}");
        }
    }

    #[test]
    fn an_unknown_reason_is_kept_but_not_guessed() {
        let text = line(
            "The request client is not a secure context and the resource is in more-private \
             address space `local`.",
        );
        let m = read_line(&text).unwrap();
        assert!(m.reason.starts_with("The request client"));
        assert_eq!(m.verdict, None);
        assert_eq!(m.required_answer(), None);
    }

    #[test]
    fn a_line_in_another_shape_says_what_is_missing() {
        let e = read_line("Failed: has been blocked by CORS policy: nope").unwrap_err();
        assert!(e.to_string().contains("Access to"), "{e}");
        let e = read_line("Access to fetch at 'http://a.test/' has been blocked by CORS policy: x")
            .unwrap_err();
        assert!(e.to_string().contains("from origin"), "{e}");
    }

    #[test]
    fn read_all_skips_other_lines_and_stops_at_the_cap() {
        let one =
            line("No 'Access-Control-Allow-Origin' header is present on the requested resource.");
        let text = format!(
            "{one}\nGET {URL} net::ERR_FAILED 200 (OK)\nUncaught (in promise) TypeError: Failed to fetch\n{one}"
        );
        assert_eq!(read_all(&text).len(), 2);
        let many = format!("{one}\n").repeat(MAX_MESSAGES * 3);
        assert_eq!(read_all(&many).len(), MAX_MESSAGES);
        assert!(read_all("TypeError: Failed to fetch").is_empty());
    }

    #[test]
    fn the_required_answer_names_what_the_message_tells() {
        let header = line(
            "Request header field x-token is not allowed by Access-Control-Allow-Headers in preflight response.",
        );
        let answer = read_line(&header).unwrap().required_answer().unwrap();
        assert_eq!(answer.kind, RequestKind::Preflight);
        assert_eq!(
            answer.requirements,
            [
                Requirement::OkStatus,
                Requirement::Line(ACAO, ORIGIN.to_string()),
                Requirement::InList(ACAH, "x-token".to_string())
            ]
        );
        assert!(!answer.credentialed);
        let credentials = line(
            "The value of the 'Access-Control-Allow-Origin' header in the response must not be the \
             wildcard '*' when the request's credentials mode is 'include'.",
        );
        let answer = read_line(&credentials).unwrap().required_answer().unwrap();
        assert_eq!(answer.kind, RequestKind::Actual);
        assert_eq!(
            answer.requirements,
            [
                Requirement::Line(ACAO, ORIGIN.to_string()),
                Requirement::Line(ACAC, "true".to_string())
            ]
        );
        assert!(answer.credentialed);
    }
}
