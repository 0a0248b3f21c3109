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
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
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
    // `None` marks the end of the entries (a lagging client is cut off); the whole stream ends
    // there, or at shutdown.
    let entries = BroadcastStream::new(state.journal().subscribe())
        .scan((), |_, item| futures::future::ready(item.ok()))
        .map(|json| Some(Event::default().event("entry").data(&*json)))
        .chain(futures::stream::once(futures::future::ready(None)));
    let policies = WatchStream::from_changes(state.policy_changes()).map({
        let state = state.clone();
        move |_| {
            Some(
                Event::default()
                    .event("policy")
                    .json_data(policy_view(&state))
                    .unwrap_or_else(|_| Event::default().comment("unserializable policy")),
            )
        }
    });
    let events = futures::stream::select(entries, policies)
        .take_while(|event| futures::future::ready(event.is_some()))
        .filter_map(|event| futures::future::ready(event.map(Ok)))
        .take_until(state.shutdown_token().clone().cancelled_owned());
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn policy(State(state): State<AppState>) -> impl IntoResponse {
    Json(policy_view(&state))
}

/// The effective policy as the page shows it: each field with its source, and the presets.
pub fn policy_view(state: &AppState) -> serde_json::Value {
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
    json!({
        "preset": effective.preset,
        "summary": summary(&effective),
        "broken": effective.preset.is_broken(),
        "fields": effective.fields,
        "api_url": state.public_url(),
        "alt_url": state.alt_url(),
        "switchable": state.lab_secret().is_some(),
        "presets": presets,
    })
}

/// One line: preset and the fields that matter most.
fn summary(effective: &cors_policy::EffectivePolicy) -> String {
    let field = |name: &str| {
        effective
            .fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
            .unwrap_or_default()
    };
    if !effective.policy.enabled {
        return "off: the API sends no CORS headers at all".into();
    }
    format!(
        "{}: origins {}; methods {}; headers {}; credentials {}; max-age {}",
        effective.preset.name(),
        field("allow_origins"),
        field("allow_methods"),
        field("allow_headers"),
        field("allow_credentials"),
        match field("max_age") {
            "" => "unset (browsers cache 5 s)",
            v => v,
        }
    )
}
