//! The CORS layer: a thin adapter between axum and [`cors_policy::engine`].
//!
//! For every request to the demo routes ([`CorsLayer`]) it reads the CORS facts from the
//! request, asks the engine for a [`Decision`], answers preflights itself — at once, without an
//! `await` — or lets the handler run and adds the engine's headers, and writes the exchange to
//! the journal. Data flows one way: request → decision → response headers → journal entry.
//!
//! It is on every request's path, so it copies little: the request's fields and header lines
//! go into one buffer (the journal's [`RequestRecord`]) that the engine then borrows from, and
//! a response header that echoes the request — the origin, the requested method, the requested
//! header list — is the request's own `HeaderValue`, shared rather than copied.
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
use cors_policy::wire::{
    for_each_line, joined_request_headers, set_line, CorsRequestHeaders, Echoes, PreparedValues,
    RequestValue,
};
use futures::future::{BoxFuture, Either};
use smallvec::SmallVec;
use tower::{Layer, Service};

use crate::journal::{capture_headers, HeaderLines, RequestFields, RequestRecord, ResponseRecord};
use crate::AppState;

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

pub(crate) type Answered = Result<Response, Infallible>;

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
        let (record, sources) = match request_record(&self.state, &request) {
            Ok(read) => read,
            Err(msg) => return Either::Left(ready(Ok(bad_request(msg)))),
        };
        let in_force = self.state.policy_in_force();
        let policy = in_force.effective.clone();
        let answer = carry_out(&policy.policy, &record, sources, &in_force.values);
        let (lines, vary_origin) = match answer {
            Answer::Preflight { response, sent } => {
                journal(&self.state, record, response.status(), sent, policy);
                return Either::Left(ready(Ok(response)));
            }
            Answer::Actual { lines, vary_origin } => (lines, vary_origin),
        };
        // The clone is for the next request; the one that was made ready serves this one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Either::Right(Box::pin(async move {
            let Ok(mut response) = inner.call(request).await;
            apply_lines(response.headers_mut(), lines, vary_origin);
            let sent = capture_headers(response.headers());
            journal(&state, record, response.status(), sent, policy);
            Ok(response)
        }))
    }
}

/// A decision carried out as far as it can be before the handler runs. It owns everything, so
/// the record it was decided from can go to the journal.
// Made and matched at once, never stored: boxing the lines would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
enum Answer {
    /// The answer, and its header lines for the journal.
    Preflight {
        response: Response,
        sent: HeaderLines,
    },
    Actual {
        lines: Lines,
        vary_origin: bool,
    },
}

fn carry_out(
    policy: &cors_policy::Policy,
    record: &RequestRecord,
    sources: Sources<'_>,
    prepared: &PreparedValues,
) -> Answer {
    let echoes = echoes(record, sources);
    match decide(policy, &record.facts()) {
        Decision::Preflight(p) => {
            let size = p.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
            let mut sent = HeaderLines::with_capacity(size);
            let response = preflight_response(&p, &echoes, prepared, Some(&mut sent));
            Answer::Preflight { response, sent }
        }
        Decision::Actual(a) => Answer::Actual {
            lines: header_lines(&a.headers, &echoes, prepared),
            vary_origin: a.vary_origin,
        },
    }
}

fn journal(
    state: &AppState,
    record: RequestRecord,
    status: StatusCode,
    headers: HeaderLines,
    policy: std::sync::Arc<cors_policy::EffectivePolicy>,
) {
    state.journal().record(
        record,
        ResponseRecord {
            status: status.as_u16(),
            headers,
            policy,
            answered_by: crate::journal::AnsweredBy::CorsLayer,
        },
    );
}

/// The request's own `Origin`, `Access-Control-Request-Method` and `-Request-Headers` values
/// that the record's text was copied from (none for several lines joined into new text).
type Sources<'a> = [Option<&'a HeaderValue>; 3];

/// The request half of the journal entry, and the header values its CORS fields came from;
/// `Err` for a request no browser would send.
pub(crate) fn request_record<'a>(
    state: &AppState,
    request: &'a Request,
) -> Result<(RequestRecord, Sources<'a>), String> {
    let headers = request.headers();
    let read = CorsRequestHeaders::read(headers);
    let origin = single_value(read.origin, &header::ORIGIN)?;
    let request_method = single_value(read.request_method, &header::ACCESS_CONTROL_REQUEST_METHOD)?;
    let joined;
    let request_headers = match read.request_headers {
        // Several lines: one list, as a browser's header map would join them.
        RequestValue::Several => {
            joined = joined_request_headers(headers)
                .ok_or_else(|| not_visible_ascii(&header::ACCESS_CONTROL_REQUEST_HEADERS))?;
            Some((joined.as_str(), None))
        }
        value => single_value(value, &header::ACCESS_CONTROL_REQUEST_HEADERS)?
            .map(|(text, v)| (text, Some(v))),
    };
    let sources = [
        origin.map(|(_, v)| v),
        request_method.map(|(_, v)| v),
        request_headers.and_then(|(_, v)| v),
    ];
    let uri = request.uri();
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    // The URL as the browser addressed this server (its `Host` header).
    let url = match headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|host| host.bytes().all(|b| b.is_ascii_graphic()))
    {
        Some(host) => ["http://", host, path_and_query],
        None => [state.public_url(), "", path_and_query],
    };
    let fields = RequestFields {
        run: run_id(uri.query()),
        method: request.method().as_str(),
        path: uri.path(),
        url,
        origin: origin.map(|(text, _)| text),
        request_method: request_method.map(|(text, _)| text),
        request_headers: request_headers.map(|(text, _)| text),
        cookie_sent: headers.contains_key(header::COOKIE),
    };
    Ok((RequestRecord::new(fields, headers), sources))
}

/// Carries out a decision with axum's `Next` (the switch route's middleware): answers a
/// preflight now, or runs the handler and adds the headers.
pub(crate) async fn respond(decision: Decision<'_>, request: Request, next: Next) -> Response {
    match decision {
        Decision::Preflight(p) => {
            preflight_response(&p, &Echoes::default(), &PreparedValues::default(), None)
        }
        Decision::Actual(a) => {
            let lines = header_lines(&a.headers, &Echoes::default(), &PreparedValues::default());
            let mut response = next.run(request).await;
            apply_lines(response.headers_mut(), lines, a.vary_origin);
            response
        }
    }
}

/// The engine's answer to a preflight, complete (the handler never runs). Its header lines are
/// also copied into `sent` when the exchange is journaled.
fn preflight_response(
    p: &PreflightDecision<'_>,
    echoes: &Echoes<'_>,
    prepared: &PreparedValues,
    mut sent: Option<&mut HeaderLines>,
) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(p.status).unwrap_or(StatusCode::FORBIDDEN);
    let headers = response.headers_mut();
    headers.reserve(p.headers.len());
    // The journal's copy is made from the engine's text as the lines are set, rather than read
    // back out of the map (which checks every byte again). It is in the order they go out: the
    // map keeps a name's lines together, and the engine's lines of one name are adjacent
    // (`journal_shows_the_preflight_lines_that_went_out` checks both).
    for_each_line(&p.headers, echoes, prepared, |line| {
        if let Some(sent) = sent.as_deref_mut() {
            sent.push(line.name.as_str(), line.text);
        }
        set_line(headers, line.name, line.value, line.again)
    });
    response
}

/// The request values a decision may echo: the record's text (which the engine's values
/// borrow from) with the request's `HeaderValue` it was copied from.
fn echoes<'a>(record: &'a RequestRecord, sources: Sources<'a>) -> Echoes<'a> {
    let [origin, method, headers] = sources;
    Echoes::new([
        record.origin().zip(origin),
        record.request_method().zip(method),
        record.request_headers().zip(headers),
    ])
}

/// One engine header as `http` types, and whether it adds a line (`broken-double-origin`
/// lists a name twice) rather than replacing the handler's.
type Line = (HeaderName, HeaderValue, bool);
/// An actual response gets at most four lines (origin twice under `broken-double-origin`,
/// credentials, exposed headers).
type Lines = SmallVec<[Line; 4]>;

fn header_lines(lines: &CorsHeaders<'_>, echoes: &Echoes<'_>, prepared: &PreparedValues) -> Lines {
    let mut out = Lines::new();
    for_each_line(lines, echoes, prepared, |line| {
        out.push((line.name, line.value, line.again))
    });
    out
}

/// Sets the engine's headers, replacing a handler's value for the same name, and appends
/// `Origin` to the handler's `Vary` (never replacing it) when asked.
fn apply_lines(target: &mut HeaderMap, lines: Lines, vary_origin: bool) {
    target.reserve(lines.len() + usize::from(vary_origin));
    for (name, value, again) in lines {
        set_line(target, name, value, again);
    }
    if vary_origin {
        target.append(header::VARY, HeaderValue::from_static("origin"));
    }
}

/// The one value of `name`, as text and as the request's value; `Err` (a 400's message) when
/// there are several or it is not visible ASCII.
fn single_value<'a>(
    value: RequestValue<'a>,
    name: &HeaderName,
) -> Result<Option<(&'a str, &'a HeaderValue)>, String> {
    match value {
        RequestValue::Absent => Ok(None),
        RequestValue::One(text, value) => Ok(Some((text, value))),
        RequestValue::Several => Err(format!("several {name} headers; a browser sends one")),
        RequestValue::NotVisibleAscii => Err(not_visible_ascii(name)),
    }
}

fn not_visible_ascii(name: &HeaderName) -> String {
    format!("the {name} header is not visible ASCII")
}

pub(crate) fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message + "\n").into_response()
}

/// The `run` query parameter, when it is a short id of safe characters.
fn run_id(query: Option<&str>) -> Option<&str> {
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
}

#[cfg(test)]
mod tests {
    use super::run_id;

    #[test]
    fn run_ids_are_short_and_safe() {
        assert_eq!(run_id(Some("run=get-1")), Some("get-1"));
        assert_eq!(run_id(Some("a=b&run=x_2")), Some("x_2"));
        assert_eq!(run_id(Some("run=<script>")), None);
        assert_eq!(run_id(Some(&format!("run={}", "a".repeat(81)))), None);
        assert_eq!(run_id(None), None);
    }
}
