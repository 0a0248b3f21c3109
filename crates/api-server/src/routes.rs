//! The demo endpoints the scenarios call. They know nothing about CORS: the
//! [`cors_layer`](crate::cors_layer) in front of this router does all of it, as in a real API.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::journal::capture_headers;
use crate::AppState;

/// Largest request body the demo routes read.
pub const MAX_BODY: usize = 1024 * 1024;

/// The session cookies set by `/api/login`: one `SameSite=Lax` (the browsers' default, sent only
/// to same-site requests) and one `SameSite=None; Secure` (sent cross-site too, where the
/// browser allows third-party cookies). `/api/whoami` reports which of them arrived, so the
/// page shows what the browser really did with each.
pub const SESSION_COOKIES: [(&str, &str); 2] = [
    ("lab_session", "SameSite=Lax"),
    ("lab_session_cross_site", "SameSite=None; Secure"),
];

pub fn router(state: AppState) -> Router {
    // On the routes that read a body only: the limit is a request extension, and inserting it
    // costs an allocation on every request it wraps.
    let limit = DefaultBodyLimit::max(MAX_BODY);
    Router::new()
        .route("/api/echo", any(echo).layer(limit))
        .route(
            "/api/items",
            get(list_items).merge(post(create_item).layer(limit)),
        )
        .route("/api/items/{id}", any(item).layer(limit))
        .route("/api/login", post(login))
        .route("/api/whoami", get(whoami))
        .route("/api/fail", get(fail))
        .route("/api/redirect", get(redirect))
        .route("/api/v1/{*rest}", any(old_version))
        .with_state(state)
}

/// Everything the server received, so the learner can see what the browser really sent.
async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Json<Value> {
    Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "headers": capture_headers(&headers),
        "body_bytes": body.len(),
    }))
}

/// The items: the same for every request.
const ITEMS: &str =
    r#"[{"id":1,"name":"preflight"},{"id":2,"name":"origin"},{"id":3,"name":"credentials"}]"#;

// Names made when this crate is compiled: a `&str` name is parsed byte by byte on every insert.
const X_SECRET: HeaderName = HeaderName::from_static("x-secret");
const X_INTERNAL: HeaderName = HeaderName::from_static("x-internal");

async fn list_items() -> Response {
    let mut response = Response::new(Body::from(ITEMS));
    let headers = response.headers_mut();
    // Room for these four lines and the CORS layer's (at most four more): a map that grows
    // moves every line it holds.
    headers.reserve(8);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Script can read these only when Access-Control-Expose-Headers names them (strict exposes
    // x-secret only).
    headers.insert(X_SECRET, HeaderValue::from_static("42"));
    headers.insert(X_INTERNAL, HeaderValue::from_static("7"));
    // The handler's own Vary: the CORS layer must add `origin` beside it, not replace it.
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

async fn create_item(body: Bytes) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(json!({"created": true, "body_bytes": body.len()})),
    )
}

async fn item(method: Method, Path(id): Path<String>, body: Bytes) -> Json<Value> {
    Json(json!({"id": id, "method": method.as_str(), "body_bytes": body.len()}))
}

async fn login() -> Response {
    let token = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut response = Json(json!({
        "logged_in": true,
        "user": "learner",
        "cookies_set": SESSION_COOKIES.iter().map(|(name, same_site)| format!("{name} ({same_site})")).collect::<Vec<_>>(),
    }))
    .into_response();
    for (name, same_site) in SESSION_COOKIES {
        let cookie = format!("{name}=learner-{token:x}; Path=/; HttpOnly; {same_site}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

async fn whoami(headers: HeaderMap) -> Json<Value> {
    let sent: Vec<&str> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('=').map(|(name, _)| name))
        .filter(|name| SESSION_COOKIES.iter().any(|(n, _)| n == name))
        .collect();
    let logged_in = !sent.is_empty();
    Json(json!({
        "logged_in": logged_in,
        "user": if logged_in { Some("learner") } else { None },
        "cookies_received": sent,
    }))
}

async fn fail() -> (StatusCode, Json<Value>) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": "the API failed on purpose"})),
    )
}

/// 302 to the same API under its other origin: a cross-origin redirect.
async fn redirect(State(state): State<AppState>, uri: Uri) -> Response {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let location = format!("{}/api/items{query}", state.alt_url());
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// 308 from `/api/v1/…` to the same path under `/api/`: the API's own redirect, behind its CORS
/// layer (unlike the front's, [`crate::moved`]), so it carries the policy's headers and a
/// browser may follow it. It stays on the API's origin, so the next hop keeps the page's
/// `Origin`; a preflighted request is preflighted again for the new URL.
async fn old_version(uri: Uri) -> Response {
    match moved_location(&uri, "/api/v1/", "/api/") {
        Some(v) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, v)]).into_response(),
        None => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// The `Location` of a path under `from` that moved to `to`: the rest of the path as it
/// arrived (still percent-encoded, as a proxy's rewrite keeps it) and the query. `None` when
/// the path is not under `from`, or the result is not header text.
pub(crate) fn moved_location(uri: &Uri, from: &str, to: &str) -> Option<HeaderValue> {
    let rest = uri.path().strip_prefix(from)?;
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{to}{rest}{query}")).ok()
}
