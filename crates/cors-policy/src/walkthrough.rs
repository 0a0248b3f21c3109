//! A request walked through a policy on paper: what the browser sends, what the engine answers,
//! and what the browser concludes, step by step, without a browser or a socket.
//!
//! This is the lab's whole workflow for one request, for an origin the learner names — their
//! production front end, say, which no page of the lab can be. The steps, in the browser's order:
//!
//! 1. [`fetch::prepare`]: the request as sent, and whether a preflight goes first. When
//!    `fetch()` would throw, nothing is sent and the walk stops there.
//! 2. The preflight (`OPTIONS` with `Origin`, `Access-Control-Request-Method` and, when there
//!    are unsafe headers, `-Request-Headers`): [`engine::decide`] answers it and
//!    [`browser::check`] judges the answer. When the check fails, the actual request is never
//!    sent.
//! 3. The actual request: the handler answers (`200` here, as the lab's `/api/echo` does), the
//!    engine adds its headers, and the browser checks the answer.
//!
//! The walk assumes no cached preflight: a browser that cached one for the URL, the method and
//! the headers skips step 2.

use crate::browser::{
    self, BrowserRequest, BrowserVerdict, CorsError, CredentialsMode, RequestKind,
};
use crate::engine::{self, Decision, RequestFacts, VARY};
use crate::fetch::{self, FetchError, ScriptRequest, SentRequest};
use crate::Policy;

/// The status the walk assumes for the handler's answer to the actual request.
pub const HANDLER_STATUS: u16 = 200;

/// One request and its answer, as the walk saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub method: String,
    /// The CORS request lines: `Origin`, and for a preflight `Access-Control-Request-*`.
    pub request: Vec<(&'static str, String)>,
    pub status: u16,
    /// The CORS lines of the answer, in the engine's order.
    pub response: Vec<(String, String)>,
    /// The engine's outcome label (`allowed`, `refused`, `cors-off`) and its reason.
    pub outcome: &'static str,
    pub reason: String,
    /// What the browser concludes from this answer.
    pub verdict: BrowserVerdict,
}

/// The walk of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walkthrough {
    pub sent: SentRequest,
    /// The preflight, when one goes first.
    pub preflight: Option<Exchange>,
    /// The actual request, unless a failed preflight stopped it.
    pub actual: Option<Exchange>,
    /// What script gets: [`BrowserVerdict::Pass`] when it may read the response, else the
    /// check that failed first.
    pub verdict: BrowserVerdict,
    /// The preflight's requested headers that the policy does not allow. When there are two or
    /// more, which of them Chromium's message names follows Chromium's own header order: the
    /// verdict names the first in the list's (sorted) order, which may be another one.
    pub refused_headers: Vec<String>,
}

impl Walkthrough {
    /// The headers of which Chromium's message names one, in its own order: the refused
    /// headers, when the verdict blames a header and there are several. Empty otherwise.
    pub fn blames_one_of(&self) -> &[String] {
        let blames_a_header = matches!(
            self.verdict,
            BrowserVerdict::Blocked {
                error: CorsError::HeaderDisallowedByPreflightResponse,
                ..
            }
        );
        match blames_a_header && self.refused_headers.len() > 1 {
            true => &self.refused_headers,
            false => &[],
        }
    }
}

/// Walks `request`, sent by script from `origin` with `credentials`, through `policy`.
pub fn walk(
    policy: &Policy,
    origin: &str,
    request: &ScriptRequest<'_>,
    credentials: CredentialsMode,
) -> Result<Walkthrough, FetchError> {
    let sent = fetch::prepare(request)?;
    let preflight = sent.needs_preflight().then(|| {
        let facts = RequestFacts {
            method: "OPTIONS",
            origin: Some(origin),
            request_method: Some(&sent.method),
            request_headers: sent.request_headers.as_deref(),
        };
        let mut request = vec![
            ("origin", origin.to_string()),
            ("access-control-request-method", sent.method.clone()),
        ];
        if let Some(list) = &sent.request_headers {
            request.push(("access-control-request-headers", list.clone()));
        }
        let browser = BrowserRequest {
            kind: RequestKind::Preflight,
            origin,
            method: &sent.method,
            request_headers: sent.request_headers.as_deref(),
            credentials,
        };
        exchange(policy, &facts, request, &browser)
    });
    let (actual, verdict) = match &preflight {
        Some(p) if !p.verdict.is_pass() => (None, p.verdict.clone()),
        _ => {
            let facts = RequestFacts {
                method: &sent.method,
                origin: Some(origin),
                ..RequestFacts::default()
            };
            let browser = BrowserRequest {
                kind: RequestKind::Actual,
                origin,
                method: &sent.method,
                request_headers: None,
                credentials,
            };
            let actual = exchange(
                policy,
                &facts,
                vec![("origin", origin.to_string())],
                &browser,
            );
            let verdict = actual.verdict.clone();
            (Some(actual), verdict)
        }
    };
    let refused_headers = match (&preflight, &sent.request_headers) {
        (Some(_), Some(list)) if policy.enabled => list
            .split(',')
            .filter(|name| !policy.headers.allows(name))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Walkthrough {
        sent,
        preflight,
        actual,
        verdict,
        refused_headers,
    })
}

fn exchange(
    policy: &Policy,
    facts: &RequestFacts<'_>,
    request: Vec<(&'static str, String)>,
    browser: &BrowserRequest<'_>,
) -> Exchange {
    let decision = engine::decide(policy, facts);
    let (status, response) = match &decision {
        Decision::Preflight(p) => (p.status, lines(&p.headers)),
        Decision::Actual(a) => {
            let mut response = lines(&a.headers);
            if a.vary_origin {
                response.push((VARY.to_string(), "origin".to_string()));
            }
            (HANDLER_STATUS, response)
        }
    };
    let verdict = browser::check(browser, status, &response);
    let outcome = decision.outcome();
    Exchange {
        method: facts.method.to_string(),
        request,
        status,
        outcome: outcome.label(),
        reason: outcome.to_string(),
        response,
        verdict,
    }
}

fn lines(headers: &engine::CorsHeaders<'_>) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicyInput;

    const LAB: &str = "http://localhost:8080";

    fn policy(pairs: &[(&str, &str)]) -> Policy {
        PolicyInput::from_pairs(pairs).resolve(LAB).unwrap().policy
    }

    fn walk_of(
        policy: &Policy,
        origin: &str,
        method: &str,
        headers: &[(&str, &str)],
        credentials: CredentialsMode,
    ) -> Walkthrough {
        walk(
            policy,
            origin,
            &ScriptRequest { method, headers },
            credentials,
        )
        .unwrap()
    }

    fn error(w: &Walkthrough) -> Option<CorsError> {
        match &w.verdict {
            BrowserVerdict::Pass => None,
            BrowserVerdict::Blocked { error, .. } => Some(*error),
        }
    }

    #[test]
    fn an_allowed_preflighted_request_passes_both_checks() {
        let strict = policy(&[]);
        let w = walk_of(
            &strict,
            LAB,
            "put",
            &[("Content-Type", "application/json")],
            CredentialsMode::Include,
        );
        let preflight = w.preflight.as_ref().expect("PUT is preflighted");
        assert_eq!(preflight.method, "OPTIONS");
        assert_eq!(preflight.status, 204);
        assert_eq!(
            preflight.request,
            [
                ("origin", LAB.to_string()),
                ("access-control-request-method", "PUT".to_string()),
                ("access-control-request-headers", "content-type".to_string()),
            ]
        );
        let actual = w.actual.as_ref().expect("sent after the preflight");
        assert_eq!((actual.method.as_str(), actual.status), ("PUT", 200));
        assert!(actual
            .response
            .contains(&("vary".to_string(), "origin".to_string())));
        assert_eq!(error(&w), None);
    }

    #[test]
    fn a_failed_preflight_stops_the_actual_request() {
        let strict = policy(&[]);
        let w = walk_of(&strict, LAB, "patch", &[], CredentialsMode::Omit);
        assert_eq!(w.actual, None);
        assert_eq!(
            error(&w),
            Some(CorsError::MethodDisallowedByPreflightResponse)
        );
        let w = walk_of(
            &strict,
            "https://app.example.com",
            "DELETE",
            &[],
            CredentialsMode::Omit,
        );
        assert_eq!(w.refused_headers, Vec::<String>::new());
        assert_eq!(w.preflight.as_ref().unwrap().status, 403);
        assert_eq!(w.preflight.as_ref().unwrap().outcome, "refused");
        assert_eq!(
            error(&w),
            Some(CorsError::PreflightMissingAllowOriginHeader)
        );
    }

    #[test]
    fn a_simple_request_is_sent_at_once_and_judged_on_its_answer() {
        let permissive = policy(&[("CORS_PRESET", "permissive")]);
        let w = walk_of(&permissive, LAB, "GET", &[], CredentialsMode::Include);
        assert_eq!(w.preflight, None);
        assert_eq!(error(&w), Some(CorsError::WildcardOriginNotAllowed));
        let w = walk_of(&permissive, LAB, "GET", &[], CredentialsMode::Omit);
        assert_eq!(error(&w), None);
        let off = policy(&[("CORS_PRESET", "off")]);
        let w = walk_of(
            &off,
            LAB,
            "POST",
            &[("content-type", "text/plain")],
            CredentialsMode::Omit,
        );
        assert_eq!(w.actual.as_ref().unwrap().outcome, "cors-off");
        assert_eq!(error(&w), Some(CorsError::MissingAllowOriginHeader));
    }

    #[test]
    fn patterns_and_broken_presets_walk_as_the_engine_decides() {
        let p = policy(&[("CORS_ALLOW_ORIGINS", "https://*.example.com")]);
        let w = walk_of(
            &p,
            "https://app.example.com",
            "GET",
            &[("x-token", "1")],
            CredentialsMode::Include,
        );
        assert_eq!(error(&w), None, "{w:?}");
        let w = walk_of(
            &p,
            "https://example.com",
            "GET",
            &[],
            CredentialsMode::Include,
        );
        assert_eq!(error(&w), Some(CorsError::MissingAllowOriginHeader));
        let broken = policy(&[("CORS_PRESET", "broken-auth-preflight")]);
        let w = walk_of(&broken, LAB, "PUT", &[], CredentialsMode::Include);
        assert_eq!(w.preflight.as_ref().unwrap().status, 401);
        assert_eq!(error(&w), Some(CorsError::PreflightInvalidStatus));
    }

    #[test]
    fn the_refused_headers_are_the_requested_ones_the_policy_lacks() {
        let strict = policy(&[]);
        let headers = [
            ("X-B", "1"),
            ("Content-Type", "application/json"),
            ("X-A", "1"),
        ];
        let w = walk_of(&strict, LAB, "GET", &headers, CredentialsMode::Omit);
        assert_eq!(w.refused_headers, ["x-a", "x-b"]);
        assert_eq!(
            error(&w),
            Some(CorsError::HeaderDisallowedByPreflightResponse)
        );
        assert_eq!(w.blames_one_of(), ["x-a", "x-b"]);
        // A refused origin: Chromium blames no header at all.
        let w = walk_of(
            &strict,
            "https://evil.example",
            "GET",
            &headers,
            CredentialsMode::Omit,
        );
        assert_eq!(w.refused_headers, ["x-a", "x-b"]);
        assert!(w.blames_one_of().is_empty());
    }

    #[test]
    fn fetch_throwing_sends_nothing() {
        let strict = policy(&[]);
        let r = walk(
            &strict,
            LAB,
            &ScriptRequest {
                method: "TRACE",
                headers: &[],
            },
            CredentialsMode::Omit,
        );
        assert_eq!(r, Err(FetchError::ForbiddenMethod("TRACE".into())));
    }
}
