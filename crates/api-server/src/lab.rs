//! The `/_lab/` routes: how the page reads the journal and the policy, and walks a request
//! through the policy on paper ([`crate::walkthrough`]).
//!
//! They never follow the demo policy — a lab page must see the journal even under
//! `CORS_PRESET=off` — and answer every origin with `Access-Control-Allow-Origin: *`. They carry
//! no secrets (the journal redacts cookies and credentials) and are not journaled themselves.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use cors_policy::Preset;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/_lab/journal", get(journal))
        .route("/_lab/events", get(events))
        .route("/_lab/policy", get(policy))
        .route("/_lab/health", get(|| async { "ok" }))
        .route("/_lab/walkthrough", get(crate::walkthrough::handler))
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

/// The entries, newest first, as a JSON array of each entry's kept JSON text.
async fn journal(State(state): State<AppState>, Query(q): Query<JournalQuery>) -> Response {
    let entries = state.journal().list(q.run.as_deref());
    let json: Vec<_> = entries.iter().map(|e| e.json()).collect();
    let mut body = String::with_capacity(json.iter().map(|j| j.len() + 1).sum::<usize>() + 2);
    body.push('[');
    for (i, j) in json.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(j);
    }
    body.push(']');
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Live entries as server-sent events (see [`crate::live`]).
async fn events(State(state): State<AppState>) -> Response {
    crate::live::events(&state)
}

async fn policy(State(state): State<AppState>) -> impl IntoResponse {
    Json(policy_view(&state))
}

/// The effective policy as the page shows it: each field with its source, and the presets.
pub fn policy_view(state: &AppState) -> serde_json::Value {
    let in_force = state.policy_in_force();
    let effective = &in_force.effective;
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
        "summary": summary(effective),
        "broken": effective.preset.is_broken(),
        "fields": effective.fields,
        "api_url": state.public_url(),
        "alt_url": state.alt_url(),
        "switchable": state.lab_secret().is_some(),
        "presets": presets,
        "generation": in_force.generation,
        "instance": state.instance().to_string(),
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
