//! The `/_lab/` routes: how the page reads the journal and the policy.
//!
//! They never follow the demo policy — a lab page must see the journal even under
//! `CORS_PRESET=off` — and answer every origin with `Access-Control-Allow-Origin: *`. They carry
//! no secrets (the journal redacts cookies and credentials) and are not journaled themselves.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use cors_policy::Preset;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/_lab/journal", get(journal))
        .route("/_lab/events", get(events))
        .route("/_lab/policy", get(policy))
        .route("/_lab/health", get(|| async { "ok" }))
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .with_state(state)
}

#[derive(Deserialize)]
struct JournalQuery {
    run: Option<String>,
}

async fn journal(
    State(state): State<AppState>,
    Query(q): Query<JournalQuery>,
) -> impl IntoResponse {
    Json(state.journal().list(q.run.as_deref()))
}

/// Live entries as server-sent events. A client that lags more than the feed's buffer is cut
/// off (its stream ends; `EventSource` reconnects and the page reloads the journal), so a slow
/// or vanished client never holds memory or slows the API.
async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let entries = BroadcastStream::new(state.journal().subscribe())
        .scan((), |_, item| futures::future::ready(item.ok()))
        .map(|entry| {
            Ok(Event::default()
                .event("entry")
                .json_data(&*entry)
                .unwrap_or_else(|_| Event::default().comment("unserializable entry")))
        })
        .take_until(state.shutdown_token().clone().cancelled_owned());
    Sse::new(entries).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn policy(State(state): State<AppState>) -> impl IntoResponse {
    let effective = state.policy();
    let presets: Vec<_> = Preset::all()
        .map(|p| match p {
            Preset::Broken(m) => json!({
                "name": p.name(), "broken": true,
                "mistake": m.mistake(), "symptom": m.symptom(), "fix": m.fix(),
            }),
            _ => json!({ "name": p.name(), "broken": false }),
        })
        .collect();
    Json(json!({
        "preset": effective.preset,
        "broken": effective.preset.is_broken(),
        "fields": effective.fields,
        "api_url": state.public_url(),
        "alt_url": state.alt_url(),
        "switchable": state.lab_secret().is_some(),
        "presets": presets,
    }))
}
