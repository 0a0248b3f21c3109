//! `GET /_lab/walkthrough`: one request walked through the policy in force, on paper
//! ([`cors_policy::walkthrough`]), for the page's *Try a request* section; and [`text`], the
//! same walk for a terminal (the `cors-walk` binary).
//!
//! The learner names the origin, the method, the headers and the credentials mode; the answer
//! says what the browser would send, whether a preflight goes first and why, what this API
//! would answer to each request under its current policy, and what Chromium would conclude.
//! Nothing is sent and nothing is journaled: the origin may be one no lab page has, such as the
//! learner's production front end.
//!
//! Query: `origin` (a serialized origin, or `null`), `method`, `headers` (lines `Name: value`),
//! `credentials` (`include` or `omit`, the default). A missing or malformed field gets `400`
//! with `{error}`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use cors_policy::browser::{BrowserVerdict, CredentialsMode};
use cors_policy::console::fetch_line;
use cors_policy::fetch::{PreflightCause, ScriptRequest};
use cors_policy::walkthrough::{self, Exchange, Walkthrough};
use cors_policy::Origin;

use crate::journal::VerdictView;
use crate::AppState;

/// Most header lines a walk takes; far more than any script sets.
pub const MAX_HEADER_LINES: usize = 32;
/// Longest `headers` text a walk takes.
pub const MAX_HEADERS_TEXT: usize = 8 * 1024;
/// Longest method name a walk takes.
pub const MAX_METHOD_LEN: usize = 64;

/// The path a walk's requests go to, the lab's echo route.
pub const PATH: &str = "/api/echo";

#[derive(Deserialize)]
pub struct WalkQuery {
    origin: Option<String>,
    method: Option<String>,
    headers: Option<String>,
    credentials: Option<String>,
}

pub async fn handler(State(state): State<AppState>, Query(q): Query<WalkQuery>) -> Response {
    match answer(&state, &q) {
        Ok(body) => Json(body).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response(),
    }
}

fn answer(state: &AppState, q: &WalkQuery) -> Result<Value, String> {
    let origin = q.origin.as_deref().map(str::trim).unwrap_or_default();
    if origin.is_empty() {
        return Err(
            "origin is missing: the origin script runs on, e.g. https://app.example.com".into(),
        );
    }
    check_origin(origin).map_err(|e| format!("origin '{origin}' {e}"))?;
    if origin == state.public_url() {
        return Err(format!(
            "{origin} is the API's own origin: a same-origin request, to which CORS does not apply"
        ));
    }
    let method = q.method.as_deref().map(str::trim).unwrap_or_default();
    if method.is_empty() || method.len() > MAX_METHOD_LEN {
        return Err(format!("method is missing or over {MAX_METHOD_LEN} bytes"));
    }
    let credentials = match q.credentials.as_deref().unwrap_or("omit") {
        "omit" | "" => CredentialsMode::Omit,
        "include" => CredentialsMode::Include,
        other => return Err(format!("credentials '{other}': accepted: include, omit")),
    };
    let lines = header_lines(q.headers.as_deref().unwrap_or_default())?;

    let in_force = state.policy_in_force();
    let effective = &in_force.effective;
    let request = ScriptRequest {
        method,
        headers: &lines,
    };
    let url = format!("{}{PATH}", state.public_url());
    let mut body = json!({
        "origin": origin,
        "url": url,
        "credentials": if credentials == CredentialsMode::Include { "include" } else { "omit" },
        "preset": effective.preset,
        "generation": in_force.generation,
        "instance": state.instance().to_string(),
    });
    match walkthrough::walk(&effective.policy, origin, &request, credentials) {
        Err(throws) => body["throws"] = json!(throws.to_string()),
        Ok(walk) => {
            let sent = &walk.sent;
            body["sent"] = json!({
                "method": sent.method,
                "headers": sent.headers,
                "dropped": sent.dropped,
                "preflight": sent.needs_preflight(),
                "causes": sent.preflight_causes.iter().map(cause).collect::<Vec<_>>(),
                "request_headers": sent.request_headers,
            });
            body["preflight"] = json!(walk.preflight.as_ref().map(exchange));
            body["refused_headers"] = json!(walk.refused_headers);
            body["actual"] = json!(walk.actual.as_ref().map(exchange));
            let stage = if walk.actual.is_some() {
                "actual"
            } else {
                "preflight"
            };
            body["verdict"] = verdict(&walk.verdict);
            body["verdict"]["stage"] = json!(stage);
            body["verdict"]["console"] = json!(fetch_line(&url, origin, &walk.verdict));
            body["verdict"]["blames_one_of"] = json!(walk.blames_one_of());
        }
    }
    Ok(body)
}

/// An origin a browser sends: a serialized origin, or `null`. The error completes "origin '…' ".
pub fn check_origin(origin: &str) -> Result<(), String> {
    match origin {
        "null" => Ok(()),
        _ => Origin::parse(origin).map(|_| ()).map_err(|e| e.to_string()),
    }
}

/// `Name: value` lines; blank lines are skipped.
pub fn header_lines(text: &str) -> Result<Vec<(&str, &str)>, String> {
    if text.len() > MAX_HEADERS_TEXT {
        return Err(format!(
            "headers is {} bytes; at most {MAX_HEADERS_TEXT}",
            text.len()
        ));
    }
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!(
                "headers line {}: '{line}' is not 'Name: value'",
                i + 1
            ));
        };
        lines.push((name.trim(), value));
        if lines.len() > MAX_HEADER_LINES {
            return Err(format!("headers: more than {MAX_HEADER_LINES} lines"));
        }
    }
    Ok(lines)
}

fn cause(cause: &PreflightCause) -> Value {
    let (kind, name) = match cause {
        PreflightCause::Method(m) => ("method", m),
        PreflightCause::Header(n) => ("header", n),
        PreflightCause::Value { name, .. } => ("value", name),
    };
    json!({ "kind": kind, "name": name, "text": cause.to_string() })
}

fn exchange(e: &Exchange) -> Value {
    json!({
        "method": e.method,
        "request": e.request,
        "status": e.status,
        "response": e.response,
        "outcome": e.outcome,
        "reason": e.reason,
        "verdict": verdict(&e.verdict),
    })
}

fn verdict(v: &BrowserVerdict) -> Value {
    json!(VerdictView::from(v))
}

/// A walk as text for a terminal (`cors-walk`): the steps the page shows, one line each.
pub fn text(walk: &Walkthrough, origin: &str, url: &str, credentials: CredentialsMode) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let sent = &walk.sent;
    let with = match credentials {
        CredentialsMode::Include => "with credentials",
        CredentialsMode::Omit => "without credentials",
    };
    let _ = writeln!(
        out,
        "1. The browser sends {} {url} from {origin}, {with}.",
        sent.method
    );
    for name in &sent.dropped {
        let _ = writeln!(out, "   It drops {name}: script may not set it.");
    }
    if sent.needs_preflight() {
        let _ = writeln!(out, "   A preflight goes first, because:");
        for cause in &sent.preflight_causes {
            let _ = writeln!(out, "   - {cause}");
        }
    } else {
        let _ = writeln!(
            out,
            "   No preflight: the method and headers are CORS-safelisted, so it is sent at once."
        );
    }
    let mut step = 2;
    if let Some(p) = &walk.preflight {
        exchange_text(&mut out, step, "The preflight", p, url);
        step += 1;
    }
    match &walk.actual {
        Some(a) => exchange_text(&mut out, step, "The request itself", a, url),
        None => {
            let _ = writeln!(
                out,
                "{step}. The request itself: never sent, since the preflight failed."
            );
        }
    }
    let _ = match fetch_line(url, origin, &walk.verdict) {
        None => writeln!(out, "Script reads the response."),
        Some(line) => writeln!(
            out,
            "Script gets TypeError: Failed to fetch. Chromium's console says:\n  {line}"
        ),
    };
    let several = walk.blames_one_of();
    if !several.is_empty() {
        let _ = writeln!(
            out,
            "The policy refuses {} of the requested headers ({}): Chromium names one of them, in its own order.",
            several.len(),
            several.join(", ")
        );
    }
    out
}

/// One exchange of a walk, as [`text`] writes it.
fn exchange_text(out: &mut String, step: usize, title: &str, e: &Exchange, url: &str) {
    use std::fmt::Write;
    let _ = writeln!(out, "{step}. {title}: {} {url}", e.method);
    for (name, value) in &e.request {
        let _ = writeln!(out, "     {name}: {value}");
    }
    let none = if e.response.is_empty() {
        " no CORS headers"
    } else {
        ""
    };
    let _ = writeln!(out, "   The API answers {}:{none}", e.status);
    for (name, value) in &e.response {
        let _ = writeln!(out, "     {name}: {value}");
    }
    let _ = writeln!(out, "   Its reason: {}.", e.reason);
    let _ = match &e.verdict {
        BrowserVerdict::Pass => writeln!(out, "   Chromium's check: pass."),
        BrowserVerdict::Blocked { error, .. } => {
            writeln!(out, "   Chromium's check: blocked ({}).", error.name())
        }
    };
}
