//! The CORS layer: a thin adapter between axum and [`cors_policy::engine`].
//!
//! For every request to the demo routes it reads the CORS facts from the request, asks the
//! engine for a [`Decision`], answers preflights itself or lets the handler run and adds the
//! engine's headers, and writes the exchange to the journal. Data flows one way:
//! request → decision → response headers → journal entry.
//!
//! Requests no browser would send are refused here with a 400 before the engine sees them:
//! several `Origin` headers, or an `Origin` / `Access-Control-Request-*` value that is not
//! visible ASCII.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cors_policy::engine::{decide, CorsHeaders, Decision, RequestFacts};

use crate::journal::{capture_headers, RequestRecord, ResponseRecord};
use crate::AppState;

const ACRM: &str = "access-control-request-method";
const ACRH: &str = "access-control-request-headers";

/// Longest `run` id the journal keeps.
const MAX_RUN_LEN: usize = 80;

/// axum middleware applying the current policy.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let origin = match single_value(headers, header::ORIGIN) {
        Ok(v) => v,
        Err(msg) => return bad_request(msg),
    };
    let request_method = match single_value(headers, HeaderName::from_static(ACRM)) {
        Ok(v) => v,
        Err(msg) => return bad_request(msg),
    };
    let request_headers = match joined_values(headers, HeaderName::from_static(ACRH)) {
        Ok(v) => v,
        Err(msg) => return bad_request(msg),
    };
    let policy = state.policy();
    let method = request.method().clone();
    let facts = RequestFacts {
        method: method.as_str(),
        origin: origin.as_deref(),
        request_method: request_method.as_deref(),
        request_headers: request_headers.as_deref(),
    };
    let decision = decide(&policy.policy, &facts);
    let record = RequestRecord {
        run: run_id(request.uri().query()),
        preflight: facts.is_preflight(),
        method: request.method().as_str().to_string(),
        path: request.uri().path().to_string(),
        url: format!(
            "{}{}",
            state.request_base(headers),
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        ),
        origin: origin.clone(),
        request_method: request_method.clone(),
        request_headers: request_headers.clone(),
        cookie_sent: headers.contains_key(header::COOKIE),
        headers: capture_headers(headers),
    };

    let outcome = decision.outcome().label();
    let reason = decision.outcome().to_string();
    let response = respond(decision, request, next).await;

    state.journal().record(
        record,
        ResponseRecord {
            status: response.status().as_u16(),
            headers: capture_headers(response.headers()),
            outcome,
            reason,
        },
    );
    response
}

/// Carries out a decision: answers a preflight now, or runs the handler and adds the headers
/// (appending `Origin` to its `Vary`).
pub(crate) async fn respond(decision: Decision<'_>, request: Request, next: Next) -> Response {
    match decision {
        Decision::Preflight(p) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() =
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::FORBIDDEN);
            set_headers(response.headers_mut(), &p.headers);
            response
        }
        Decision::Actual(a) => {
            let mut response = next.run(request).await;
            set_headers(response.headers_mut(), &a.headers);
            if a.vary_origin {
                response
                    .headers_mut()
                    .append(header::VARY, HeaderValue::from_static("origin"));
            }
            response
        }
    }
}

/// Sets the engine's headers, replacing a handler's value for the same name; a name the engine
/// lists twice (only `broken-double-origin` does) becomes two header lines.
pub(crate) fn set_headers(target: &mut HeaderMap, lines: &CorsHeaders<'_>) {
    for (i, (name, value)) in lines.iter().enumerate() {
        // Values come from validated configuration or from request headers that already
        // parsed as header values, so this cannot fail in practice; skip rather than panic.
        let Ok(value) = HeaderValue::from_str(value) else {
            continue;
        };
        let name = HeaderName::from_static(name);
        if lines
            .iter()
            .take(i)
            .any(|(earlier, _)| earlier == name.as_str())
        {
            target.append(name, value);
        } else {
            target.insert(name, value);
        }
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
    /// `http://host` as the browser addressed this server (its `Host` header), for journal URLs.
    fn request_base(&self, headers: &HeaderMap) -> String {
        match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(host) if host.bytes().all(|b| b.is_ascii_graphic()) => format!("http://{host}"),
            _ => self.public_url().to_string(),
        }
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
