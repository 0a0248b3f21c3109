//! Checking a server's answer: would Chromium let script read it?
//!
//! The lab's scenarios judge its own API. A developer's question is often about another server:
//! "my API answers this to the preflight — why does Chrome block it?". Given that answer as curl
//! printed it ([`crate::transcript`]) and the request the browser would make, this module runs
//! Chromium's check on it ([`crate::browser::check`]) and says what the answer must carry to
//! pass ([`RequiredAnswer`]) and what else to know (`Note`).
//!
//! The request is read from curl's `> ` lines when the text has them (`curl -v`): a preflight
//! is an `OPTIONS` with `Access-Control-Request-Method`, its method and headers are in that
//! line and `Access-Control-Request-Headers`, the origin is the `Origin` line. What the text
//! does not show comes from the [`Request`] given. The credentials mode never shows: it is a
//! choice of the script (`credentials: 'include'`), not a header.

use std::fmt;

use crate::browser::{self, BrowserRequest, BrowserVerdict, CredentialsMode, RequestKind};
use crate::console::{RequiredAnswer, Requirement};
use crate::engine::{ACAC, ACAM, ACAO};
use crate::transcript::{ResponseHead, Transcript};

const ACRM: &str = "access-control-request-method";
const ACRH: &str = "access-control-request-headers";

/// The request the answer is for, as far as the text does not show it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The answer is to a preflight; used only when the text shows no request.
    pub preflight: bool,
    pub origin: Option<&'a str>,
    /// For a preflight: the method of the request itself.
    pub method: Option<&'a str>,
    /// For a preflight: `Access-Control-Request-Headers`.
    pub request_headers: Option<&'a str>,
    pub credentials: Option<CredentialsMode>,
}

/// Where a part of the checked request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// curl's request lines (`-v`).
    Transcript,
    /// The [`Request`] given.
    Given,
    /// Neither: the default (`GET`; no credentials).
    Default,
}

/// Something to know beside the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// curl's request carried no `Origin`, so the server answered a request no browser sends
    /// cross-origin: many servers add CORS headers only when `Origin` is present.
    NoOriginSent,
    /// curl's request was an `OPTIONS` without `Access-Control-Request-Method`: not a preflight,
    /// so the answer is checked as that of a request itself.
    OptionsWithoutRequestMethod,
    /// `Access-Control-Allow-Origin` names one origin but `Vary` does not list `Origin`: a cache
    /// between may hand this answer to a page of another origin.
    VaryOriginMissing,
    /// curl followed this many redirects after the checked answer; only the first is checked.
    LaterResponses(usize),
    /// The text holds this many more exchanges (other curl runs) that are not judged, because
    /// one of them shows no request (`curl -i`): the form's request fits only one of them.
    LaterExchanges(usize),
    /// The preflight passes: the request itself is then sent, and its answer needs these lines
    /// too.
    ActualNeeds(Vec<(&'static str, String)>),
    /// The credentials mode was not given: without credentials the answer passes, but with
    /// `credentials: 'include'` it needs these lines as well.
    WithCredentialsNeeds(Vec<(&'static str, String)>),
}

/// The answer judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerCheck {
    pub kind: RequestKind,
    pub kind_from: Source,
    pub origin: String,
    pub origin_from: Source,
    /// The method of the request itself (for a preflight, `Access-Control-Request-Method`).
    pub method: String,
    pub method_from: Source,
    pub request_headers: Option<String>,
    pub credentials: CredentialsMode,
    pub credentials_from: Source,
    pub status: u16,
    pub verdict: BrowserVerdict,
    /// `None` when the answer passes.
    pub required: Option<RequiredAnswer>,
    pub notes: Vec<Note>,
}

/// What is missing to judge the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerError {
    /// The text shows no `Origin` line and none was given.
    NoOrigin,
    /// A preflight's answer without the method it asks about.
    NoMethod,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnswerError::NoOrigin => {
                "the page's origin is unknown: the text shows no request line 'Origin: …' \
                 (curl -i does not show the request, curl -v does); give the origin, and send \
                 -H 'Origin: https://your.app' with curl so the server answers as it answers a \
                 browser"
            }
            AnswerError::NoMethod => {
                "the preflight's method is unknown: the text shows no request line \
                 'Access-Control-Request-Method: …'; give the method of the request itself"
            }
        })
    }
}

impl std::error::Error for AnswerError {}

fn pick<'a>(shown: Option<&'a str>, given: Option<&'a str>) -> Option<(&'a str, Source)> {
    shown
        .map(|v| (v, Source::Transcript))
        .or(given.map(|v| (v, Source::Given)))
}

/// Judges the first final answer of `transcript` as Chromium would, for `given` where the text
/// does not show the request.
pub fn check(transcript: &Transcript, given: &Request<'_>) -> Result<AnswerCheck, AnswerError> {
    let sent = transcript.request.as_ref();
    let mut notes = Vec::new();
    let shown_origin = sent.and_then(|r| r.header("origin"));
    if sent.is_some() && shown_origin.is_none() {
        notes.push(Note::NoOriginSent);
    }
    let (origin, origin_from) =
        pick(shown_origin.as_deref(), given.origin).ok_or(AnswerError::NoOrigin)?;

    let (kind, kind_from) = match sent {
        Some(r) if r.method == "OPTIONS" && r.header(ACRM).is_some() => {
            (RequestKind::Preflight, Source::Transcript)
        }
        Some(r) => {
            if r.method == "OPTIONS" {
                notes.push(Note::OptionsWithoutRequestMethod);
            }
            (RequestKind::Actual, Source::Transcript)
        }
        None if given.preflight => (RequestKind::Preflight, Source::Given),
        None => (RequestKind::Actual, Source::Given),
    };
    let shown_method = match (kind, sent) {
        (RequestKind::Preflight, Some(r)) => r.header(ACRM),
        (RequestKind::Actual, Some(r)) => Some(r.method.clone()),
        (_, None) => None,
    };
    let (method, method_from) = match pick(shown_method.as_deref(), given.method) {
        Some(picked) => picked,
        None if kind == RequestKind::Preflight => return Err(AnswerError::NoMethod),
        None => ("GET", Source::Default),
    };
    let request_headers = match kind {
        RequestKind::Preflight => sent
            .and_then(|r| r.header(ACRH))
            .or(given.request_headers.map(str::to_string)),
        RequestKind::Actual => None,
    };
    let (credentials, credentials_from) = match given.credentials {
        Some(mode) => (mode, Source::Given),
        None => (CredentialsMode::Omit, Source::Default),
    };

    let response = &transcript.response;
    let request = BrowserRequest {
        kind,
        origin,
        method,
        request_headers: request_headers.as_deref(),
        credentials,
    };
    let verdict = browser::check(&request, response.status, &response.headers);
    let required = RequiredAnswer::for_verdict(origin, &verdict, given.credentials);

    let allow_origin = response.header(ACAO);
    let varies_on_origin = response.header("vary").is_some_and(|v| {
        v.split(',')
            .any(|n| n.trim().eq_ignore_ascii_case("origin") || n.trim() == "*")
    });
    if allow_origin.as_deref().is_some_and(|v| v != "*") && !varies_on_origin {
        notes.push(Note::VaryOriginMissing);
    }
    if transcript.later_responses > 0 {
        notes.push(Note::LaterResponses(transcript.later_responses));
    }
    if transcript.later_exchanges > 0 {
        notes.push(Note::LaterExchanges(transcript.later_exchanges));
    }
    if verdict.is_pass() {
        let credentialed = credentials == CredentialsMode::Include;
        if kind == RequestKind::Preflight {
            let mut lines = vec![(ACAO, origin.to_string())];
            if credentialed {
                lines.push((ACAC, "true".to_string()));
            }
            notes.push(Note::ActualNeeds(lines));
        }
        if given.credentials.is_none() {
            let with = BrowserRequest {
                credentials: CredentialsMode::Include,
                ..request
            };
            if !browser::check(&with, response.status, &response.headers).is_pass() {
                notes.push(Note::WithCredentialsNeeds(vec![
                    (ACAO, origin.to_string()),
                    (ACAC, "true".to_string()),
                ]));
            }
        }
    }
    Ok(AnswerCheck {
        kind,
        kind_from,
        origin: origin.to_string(),
        origin_from,
        method: method.to_string(),
        method_from,
        request_headers,
        credentials,
        credentials_from,
        status: response.status,
        verdict,
        required,
        notes,
    })
}

/// Judges every exchange of a text ([`crate::transcript::read_all`]): the preflight's answer and
/// the request's, when the learner pasted both. `given` fills in what each exchange's text does
/// not show; when several exchanges are pasted and one of them shows no request (`curl -i`), only
/// the first is judged, with [`Note::LaterExchanges`], since one given request cannot be both a
/// preflight and the request itself.
pub fn check_all(
    exchanges: &[Transcript],
    given: &Request<'_>,
) -> Result<Vec<AnswerCheck>, AnswerError> {
    match exchanges {
        [] => Ok(Vec::new()),
        [first, rest @ ..] if !rest.is_empty() && exchanges.iter().any(|t| t.request.is_none()) => {
            let first = Transcript {
                later_exchanges: rest.len(),
                ..first.clone()
            };
            Ok(vec![check(&first, given)?])
        }
        _ => exchanges.iter().map(|t| check(t, given)).collect(),
    }
}

/// Whether `response` already carries what `requirement` asks, so that the learner sees what
/// is missing and not only what is needed: an ok status, the one line of that name with that
/// value, the value among the list's elements (methods compare case-sensitively, header names
/// not), a list that parses.
pub fn carries(response: &ResponseHead, requirement: &Requirement) -> bool {
    let list = |name: &str| browser::parse_list(response.header(name).as_deref());
    match requirement {
        Requirement::OkStatus => (200..300).contains(&response.status),
        Requirement::Line(name, value) => response
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .eq([value.as_str()]),
        Requirement::InList(name, value) => list(name).is_some_and(|items| {
            items.iter().any(|item| match *name == ACAM {
                true => item == value,
                false => item.eq_ignore_ascii_case(value),
            })
        }),
        Requirement::ValidList(name) => list(name).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::CorsError;
    use crate::console::Requirement;
    use crate::transcript::read;

    const APP: &str = "https://app.example.com";

    fn blocked(c: &AnswerCheck) -> (CorsError, &str) {
        match &c.verdict {
            BrowserVerdict::Blocked {
                error,
                failed_parameter,
            } => (*error, failed_parameter),
            BrowserVerdict::Pass => panic!("expected a block: {c:?}"),
        }
    }

    #[test]
    fn a_preflight_is_read_from_curls_request_lines() {
        let t = read(
            "> OPTIONS /v1 HTTP/1.1\n> Origin: https://app.example.com\n\
             > Access-Control-Request-Method: PUT\n> Access-Control-Request-Headers: content-type,x-token\n>\n\
             < HTTP/2 204\n< access-control-allow-origin: https://app.example.com\n\
             < access-control-allow-methods: PUT\n< access-control-allow-headers: content-type\n<\n",
        )
        .unwrap();
        let given = Request {
            origin: Some("https://other.example"),
            ..Request::default()
        };
        let c = check(&t, &given).unwrap();
        assert_eq!(
            (c.kind, c.kind_from),
            (RequestKind::Preflight, Source::Transcript)
        );
        assert_eq!(
            (c.origin.as_str(), c.origin_from),
            (APP, Source::Transcript)
        );
        assert_eq!(c.method, "PUT");
        assert_eq!(
            blocked(&c),
            (CorsError::HeaderDisallowedByPreflightResponse, "x-token")
        );
        let required = c.required.unwrap();
        let missing = Requirement::InList(crate::engine::ACAH, "x-token".into());
        assert!(required.requirements.contains(&missing));
        assert!(!required.credentialed);
        // What the answer has and what it lacks.
        let has: Vec<(&Requirement, bool)> = required
            .requirements
            .iter()
            .map(|r| (r, carries(&t.response, r)))
            .collect();
        assert_eq!(
            has,
            [
                (&Requirement::OkStatus, true),
                (&Requirement::Line(ACAO, APP.into()), true),
                (&missing, false)
            ]
        );
        let header_list = Requirement::InList(crate::engine::ACAH, "Content-Type".into());
        assert!(carries(&t.response, &header_list), "names: any case");
        assert!(carries(
            &t.response,
            &Requirement::InList(ACAM, "PUT".into())
        ));
        assert!(
            !carries(&t.response, &Requirement::InList(ACAM, "put".into())),
            "methods: case-sensitive"
        );
        assert!(!carries(
            &t.response,
            &Requirement::Line(ACAC, "true".into())
        ));
        assert!(c.notes.contains(&Note::VaryOriginMissing));
    }

    #[test]
    fn curl_i_output_needs_the_request_given() {
        let t = read("HTTP/1.1 204\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: DELETE\r\n\r\n").unwrap();
        assert_eq!(check(&t, &Request::default()), Err(AnswerError::NoOrigin));
        let preflight = Request {
            preflight: true,
            origin: Some(APP),
            ..Request::default()
        };
        assert_eq!(check(&t, &preflight), Err(AnswerError::NoMethod));
        let c = check(
            &t,
            &Request {
                method: Some("DELETE"),
                ..preflight
            },
        )
        .unwrap();
        assert!(c.verdict.is_pass());
        assert_eq!(c.credentials_from, Source::Default);
        assert!(c
            .notes
            .contains(&Note::ActualNeeds(vec![(ACAO, APP.to_string())])));
        assert!(
            matches!(c.notes.last(), Some(Note::WithCredentialsNeeds(_))),
            "`*` passes only without credentials: {:?}",
            c.notes
        );
        assert!(
            !c.notes.contains(&Note::VaryOriginMissing),
            "`*` needs no Vary"
        );

        let with = Request {
            method: Some("DELETE"),
            credentials: Some(CredentialsMode::Include),
            ..preflight
        };
        let c = check(&t, &with).unwrap();
        assert_eq!(blocked(&c).0, CorsError::PreflightWildcardOriginNotAllowed);
        assert!(c.required.unwrap().credentialed);
    }

    #[test]
    fn a_preflight_and_its_request_pasted_together_are_judged_each() {
        use crate::transcript::read_all;
        let both = read_all(
            "> OPTIONS /v1 HTTP/1.1\n> Origin: https://app.example.com\n\
             > Access-Control-Request-Method: PUT\n>\n< HTTP/1.1 204\n\
             < Access-Control-Allow-Origin: https://app.example.com\n\
             < Access-Control-Allow-Methods: PUT\n< Vary: Origin\n<\n\
             > PUT /v1 HTTP/1.1\n> Origin: https://app.example.com\n>\n< HTTP/1.1 200 OK\n<\n",
        )
        .unwrap();
        let checks = check_all(&both, &Request::default()).unwrap();
        assert_eq!(checks.len(), 2);
        assert_eq!(checks[0].kind, RequestKind::Preflight);
        assert!(checks[0].verdict.is_pass());
        assert_eq!(
            (checks[1].kind, checks[1].method.as_str()),
            (RequestKind::Actual, "PUT")
        );
        assert_eq!(blocked(&checks[1]).0, CorsError::MissingAllowOriginHeader);

        // Two curl -i runs: the given request fits one, so only the first is judged.
        let plain = read_all("HTTP/1.1 204\r\n\r\nHTTP/1.1 200\r\n\r\n").unwrap();
        let given = Request {
            preflight: true,
            origin: Some(APP),
            method: Some("PUT"),
            ..Request::default()
        };
        let checks = check_all(&plain, &given).unwrap();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].kind, RequestKind::Preflight);
        assert!(
            checks[0].notes.contains(&Note::LaterExchanges(1)),
            "{:?}",
            checks[0].notes
        );
    }

    #[test]
    fn a_request_without_origin_or_an_options_without_method_is_noted() {
        let t = read("> GET /x HTTP/1.1\n>\n< HTTP/1.1 200 OK\n<\n").unwrap();
        let c = check(
            &t,
            &Request {
                origin: Some(APP),
                ..Request::default()
            },
        )
        .unwrap();
        assert_eq!(c.origin_from, Source::Given);
        assert_eq!(c.notes, vec![Note::NoOriginSent]);
        assert_eq!(blocked(&c).0, CorsError::MissingAllowOriginHeader);

        let t = read("> OPTIONS /x HTTP/1.1\n> Origin: https://app.example.com\n>\n< HTTP/1.1 204\n< Access-Control-Allow-Origin: https://app.example.com\n< Vary: Origin\n<\n").unwrap();
        let c = check(&t, &Request::default()).unwrap();
        assert_eq!(c.kind, RequestKind::Actual);
        assert!(c.verdict.is_pass());
        assert_eq!(c.notes[0], Note::OptionsWithoutRequestMethod);
        assert_eq!(
            c.notes[1],
            Note::WithCredentialsNeeds(vec![(ACAO, APP.to_string()), (ACAC, "true".to_string())]),
            "no Access-Control-Allow-Credentials: only without credentials"
        );
    }
}
