//! The CORS layer: a thin adapter between axum and [`cors_policy::engine`].
//!
//! For every request to the demo routes ([`CorsLayer`]) it reads the CORS facts from the request, asks the
//! engine for a [`Decision`], answers preflights itself — at once, without an `await` — or lets
//! the handler run and adds the engine's headers, and writes the exchange to the journal. Data flows one way:
//! request → decision → response headers → journal entry.
//!
//! Requests no browser would send are refused here with a 400 before the engine sees them:
//! several `Origin` headers, or an `Origin` / `Access-Control-Request-*` value that is not
//! visible ASCII.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cors_policy::engine::{decide, CorsHeaders, Decision, PreflightDecision};
use futures::future::{BoxFuture, Either};
use tower::{Layer, Service};

use crate::journal::{capture_headers, RequestRecord, ResponseRecord};
use crate::AppState;

const ACRM: &str = "access-control-request-method";
const ACRH: &str = "access-control-request-headers";

/// Longest `run` id the journal keeps.
const MAX_RUN_LEN: usize = 80;

/// The layer in front of the demo routes: `Router::layer(CorsLayer::new(state))`.
#[derive(Clone)]
pub struct CorsLayer {
    state: AppState,
}

impl CorsLayer {
    pub fn new(state: AppState) -> Self {
        CorsLayer { state }
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            state: self.state.clone(),
            inner,
        }
    }
}

/// The service [`CorsLayer`] wraps each demo route in.
#[derive(Clone)]
pub struct Cors<S> {
    state: AppState,
    inner: S,
}

type Answered = Result<Response, Infallible>;

/// A decision carried out as far as it can be before the handler runs; it owns everything, so
/// the request record it was decided from can go to the journal.
struct Ruling {
    answer: Answer,
    outcome: &'static str,
    reason: String,
}

enum Answer {
    Preflight(Response),
    Actual { lines: Vec<Line>, vary_origin: bool },
}

fn rule(policy: &cors_policy::Policy, record: &RequestRecord) -> Ruling {
    let decision = decide(policy, &record.facts());
    let outcome = decision.outcome().label();
    let reason = decision.outcome().to_string();
    let answer = match decision {
        Decision::Preflight(p) => Answer::Preflight(preflight_response(&p)),
        Decision::Actual(a) => Answer::Actual {
            lines: header_lines(&a.headers),
            vary_origin: a.vary_origin,
        },
    };
    Ruling {
        answer,
        outcome,
        reason,
    }
}

impl<S> Service<Request> for Cors<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    /// A preflight (or a 400) is answered at once; an actual request waits for its handler.
    type Future = Either<Ready<Answered>, BoxFuture<'static, Answered>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // Each request value is copied once, into the journal's record; the engine borrows it
        // there.
        let record = match request_record(&self.state, &request) {
            Ok(record) => record,
            Err(msg) => return Either::Left(ready(Ok(bad_request(msg)))),
        };
        let ruling = rule(&self.state.policy().policy, &record);
        let (lines, vary_origin) = match ruling.answer {
            Answer::Preflight(response) => {
                journal(
                    &self.state,
                    record,
                    &response,
                    ruling.outcome,
                    ruling.reason,
                );
                return Either::Left(ready(Ok(response)));
            }
            Answer::Actual { lines, vary_origin } => (lines, vary_origin),
        };
        let (outcome, reason) = (ruling.outcome, ruling.reason);
        // The clone is for the next request; the one that was made ready serves this one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Either::Right(Box::pin(async move {
            let Ok(mut response) = inner.call(request).await;
            apply_lines(response.headers_mut(), lines, vary_origin);
            journal(&state, record, &response, outcome, reason);
            Ok(response)
        }))
    }
}

fn journal(
    state: &AppState,
    record: RequestRecord,
    response: &Response,
    outcome: &'static str,
    reason: String,
) {
    state.journal().record(
        record,
        ResponseRecord {
            status: response.status().as_u16(),
            headers: capture_headers(response.headers()),
            outcome,
            reason,
        },
    );
}

/// The request half of the journal entry; `Err` for a request no browser would send.
fn request_record(state: &AppState, request: &Request) -> Result<RequestRecord, String> {
    let headers = request.headers();
    let origin = single_value(headers, header::ORIGIN)?;
    let request_method = single_value(headers, HeaderName::from_static(ACRM))?;
    let request_headers = joined_values(headers, HeaderName::from_static(ACRH))?;
    let method = request.method().as_str();
    let preflight = method == "OPTIONS" && origin.is_some() && request_method.is_some();
    Ok(RequestRecord {
        run: run_id(request.uri().query()),
        preflight,
        method: method.to_string(),
        path: request.uri().path().to_string(),
        url: state.request_url(headers, request.uri()),
        origin,
        request_method,
        request_headers,
        cookie_sent: headers.contains_key(header::COOKIE),
        headers: capture_headers(headers),
    })
}

/// Carries out a decision with axum's `Next` (the switch route's middleware): answers a
/// preflight now, or runs the handler and adds the headers.
pub(crate) async fn respond(decision: Decision<'_>, request: Request, next: Next) -> Response {
    match decision {
        Decision::Preflight(p) => preflight_response(&p),
        Decision::Actual(a) => {
            let lines = header_lines(&a.headers);
            let mut response = next.run(request).await;
            apply_lines(response.headers_mut(), lines, a.vary_origin);
            response
        }
    }
}

/// The engine's answer to a preflight, complete: the handler never runs.
fn preflight_response(p: &PreflightDecision<'_>) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(p.status).unwrap_or(StatusCode::FORBIDDEN);
    apply_lines(response.headers_mut(), header_lines(&p.headers), false);
    response
}

/// One engine header as `http` types, and whether it adds a line (`broken-double-origin`
/// lists a name twice) rather than replacing the handler's.
type Line = (HeaderName, HeaderValue, bool);

fn header_lines(lines: &CorsHeaders<'_>) -> Vec<Line> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, (name, value)) in lines.iter().enumerate() {
        // Values come from validated configuration or from request headers that already
        // parsed as header values, so this cannot fail in practice; skip rather than panic.
        let Ok(value) = HeaderValue::from_str(value) else {
            continue;
        };
        let again = lines.iter().take(i).any(|(earlier, _)| earlier == name);
        out.push((HeaderName::from_static(name), value, again));
    }
    out
}

/// Sets the engine's headers, replacing a handler's value for the same name, and appends
/// `Origin` to the handler's `Vary` (never replacing it) when asked.
fn apply_lines(target: &mut HeaderMap, lines: Vec<Line>, vary_origin: bool) {
    for (name, value, again) in lines {
        if again {
            target.append(name, value);
        } else {
            target.insert(name, value);
        }
    }
    if vary_origin {
        target.append(header::VARY, HeaderValue::from_static("origin"));
    }
}

fn single_value(headers: &HeaderMap, name: HeaderName) -> Result<Option<String>, String> {
    let mut values = headers.get_all(&name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(format!("several {name} headers; a browser sends one"));
    }
    match first.to_str() {
        Ok(text) => Ok(Some(text.to_string())),
        Err(_) => Err(format!("the {name} header is not visible ASCII")),
    }
}

fn joined_values(headers: &HeaderMap, name: HeaderName) -> Result<Option<String>, String> {
    let mut joined: Option<String> = None;
    for value in headers.get_all(&name) {
        let text = value
            .to_str()
            .map_err(|_| format!("the {name} header is not visible ASCII"))?;
        match &mut joined {
            Some(j) => {
                j.push(',');
                j.push_str(text);
            }
            None => joined = Some(text.to_string()),
        }
    }
    Ok(joined)
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message + "\n").into_response()
}

/// The `run` query parameter, when it is a short id of safe characters.
fn run_id(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("run="))
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_RUN_LEN
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
}

impl AppState {
    /// The URL as the browser addressed this server (its `Host` header), for the journal.
    fn request_url(&self, headers: &HeaderMap, uri: &axum::http::Uri) -> String {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|host| host.bytes().all(|b| b.is_ascii_graphic()));
        let mut url = String::with_capacity(path.len() + host.map_or(0, str::len) + 32);
        match host {
            Some(host) => {
                url.push_str("http://");
                url.push_str(host);
            }
            None => url.push_str(self.public_url()),
        }
        url.push_str(path);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::run_id;

    #[test]
    fn run_ids_are_short_and_safe() {
        assert_eq!(run_id(Some("run=get-1")), Some("get-1".into()));
        assert_eq!(run_id(Some("a=b&run=x_2")), Some("x_2".into()));
        assert_eq!(run_id(Some("run=<script>")), None);
        assert_eq!(run_id(Some(&format!("run={}", "a".repeat(81)))), None);
        assert_eq!(run_id(None), None);
    }
}
