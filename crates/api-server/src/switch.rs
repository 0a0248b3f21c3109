//! Switching the policy at runtime, without a restart — for the trusted lab page only.
//!
//! Letting a web page change a server's security policy is exactly what CORS exists to guard,
//! so this route is guarded twice:
//!
//! * **CORS**: its own policy — the trusted lab origin only, `POST` with `content-type` and
//!   `x-lab-secret` — decided by the same engine as the demo routes. A page on any other origin
//!   cannot even get its preflight through.
//! * **Origin and secret**: the request must carry `Origin` equal to the trusted origin and
//!   `X-Lab-Secret` equal to the secret the trusted page was rendered with. CORS alone would not
//!   be enough: a simple cross-origin `POST` is sent (and would run) even though its response
//!   is blocked, which is why the handler checks, not only the browser.
//!
//! The body is `{"variables": {"CORS_PRESET": "permissive", "CORS_MAX_AGE": "0", …}}` — the same
//! names and values as the environment variables, validated the same way — or `{"reset": true}`
//! to go back to the policy the API started with.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use cors_policy::engine::{decide, RequestFacts};
use cors_policy::policy::{
    AllowHeaders, AllowMethods, AllowOrigins, ExposeHeaders, MaxAge, NameList, OriginList,
};
use cors_policy::{OriginPattern, Policy, PolicyInput};
use serde::Deserialize;
use serde_json::json;

use crate::cors_layer::respond;
use crate::AppState;

/// The header carrying the lab's secret.
pub const SECRET_HEADER: &str = "x-lab-secret";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/_lab/switch",
            post(switch).options(|| async { StatusCode::NO_CONTENT }),
        )
        .layer(middleware::from_fn_with_state(state.clone(), control_cors))
        .with_state(state)
}

/// The switch route's own CORS policy: the trusted origin, nothing else.
pub(crate) fn control_policy(trusted_origin: &str) -> Policy {
    let origins = match OriginPattern::parse(trusted_origin) {
        Ok(p) => OriginList::new(vec![p]),
        Err(_) => OriginList::default(),
    };
    Policy {
        enabled: true,
        origins: AllowOrigins::List(origins),
        methods: AllowMethods::List(vec!["POST".into()]),
        headers: AllowHeaders::List(vec!["content-type".into(), SECRET_HEADER.into()]),
        expose: ExposeHeaders::List(NameList::default()),
        max_age: Some(MaxAge::new(600)),
        credentials: false,
        debug: false,
        misconfiguration: None,
    }
}

async fn control_cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (origin, acrm, acrh) = (
        header("origin"),
        header("access-control-request-method"),
        header("access-control-request-headers"),
    );
    let method = request.method().as_str().to_string();
    let facts = RequestFacts {
        method: &method,
        origin: origin.as_deref(),
        request_method: acrm.as_deref(),
        request_headers: acrh.as_deref(),
    };
    let decision = decide(state.control_policy(), &facts);
    respond(decision, request, next).await
}

#[derive(Debug, Deserialize)]
struct SwitchRequest {
    #[serde(default)]
    variables: HashMap<String, String>,
    #[serde(default)]
    reset: bool,
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Is this request from the trusted page, with the secret?
/// `Err` is the reason for a 403.
fn authorized(state: &AppState, headers: &HeaderMap) -> Result<(), &'static str> {
    let Some(secret) = state.lab_secret() else {
        return Err(
            "runtime switching is disabled (no LAB_SECRET); restart with CORS_* variables instead",
        );
    };
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin != Some(state.trusted_origin()) {
        return Err("only the trusted lab page may switch the policy");
    }
    let sent = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(sent, secret.as_bytes()) {
        return Err("missing or wrong X-Lab-Secret");
    }
    Ok(())
}

/// Compares without an early exit, so the time taken does not reveal a matching prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn switch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(reason) = authorized(&state, &headers) {
        return refuse(StatusCode::FORBIDDEN, reason);
    }
    let request: SwitchRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a switch request: {e}"),
            )
        }
    };
    let input = if request.reset {
        state.startup_input().clone()
    } else {
        let unknown: Vec<&String> = request
            .variables
            .keys()
            .filter(|k| !cors_policy::config::VARIABLES.contains(&k.as_str()))
            .collect();
        if !unknown.is_empty() {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!(
                    "unknown variables {unknown:?}; accepted: {:?}",
                    cors_policy::config::VARIABLES
                ),
            );
        }
        PolicyInput::from_lookup(|k| request.variables.get(k).cloned())
    };
    match input.resolve(state.trusted_origin()) {
        Ok(policy) => {
            tracing::info!(preset = policy.preset.name(), "policy switched at runtime");
            state.set_policy(policy);
            let in_force = state.policy_in_force();
            let effective = &in_force.effective;
            (
                StatusCode::OK,
                Json(json!({
                    "preset": effective.preset,
                    "fields": effective.fields,
                    "generation": in_force.generation,
                    "instance": state.instance().to_string(),
                })),
            )
                .into_response()
        }
        Err(errors) => {
            let problems: Vec<_> = errors
                .0
                .iter()
                .map(|e| {
                    json!({
                        "variable": e.variable,
                        "value": e.value,
                        "problem": e.problem.to_string(),
                        "accepted": e.accepted(),
                        "message": e.to_string(),
                    })
                })
                .collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": "invalid policy", "problems": problems })),
            )
                .into_response()
        }
    }
}
