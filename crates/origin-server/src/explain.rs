//! Explaining a console message from the learner's own app.
//!
//! The lab explains every request its scenarios make, because its API records them. A developer
//! debugging "blocked by CORS policy" in their own app has only Chromium's console line. The page
//! sends that text here, `GET /_lab/explain?message=…`, and this handler answers with what
//! [`cors_policy::console`] reads in it: the request, which of the browser's checks failed
//! (the `CorsError`), and what the server's answer must carry for it to pass. The page turns
//! that into prose (`static/console.js`).
//!
//! It is served by the page's own origin, so the page calls it same-origin, with no CORS. The
//! text is bounded ([`MAX_MESSAGE_LEN`]); anything longer is refused with 414, anything missing
//! with 400.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cors_policy::browser::{BrowserVerdict, RequestKind};
use cors_policy::console::{read_all, ConsoleMessage, RequiredAnswer, Requirement};
use serde::{Deserialize, Serialize};

/// Longest text read, in bytes: a console pasted whole is a few kilobytes.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024;

#[derive(Deserialize)]
pub struct ExplainQuery {
    message: Option<String>,
}

/// The answer: one item per console line that mentions a CORS block.
#[derive(Serialize)]
struct Explanation<'a> {
    messages: Vec<Item<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Read(Read<'a>),
    Unread { problem: String },
}

#[derive(Serialize)]
struct Read<'a> {
    initiator: &'a str,
    url: &'a str,
    redirected_from: Option<&'a str>,
    origin: &'a str,
    reason: &'a str,
    /// `null` when the reason is not one the lab models.
    cors_error: Option<&'static str>,
    failed_parameter: Option<&'a str>,
    /// `preflight` or `actual`; `null` with `cors_error`.
    stage: Option<&'static str>,
    /// `null` with `cors_error`.
    required: Option<Required>,
}

/// What the answer must carry; also the answer checker's ([`crate::check`]).
#[derive(Serialize)]
pub(crate) struct Required {
    credentialed: bool,
    requirements: Vec<RequirementView>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum RequirementView {
    OkStatus,
    Line { name: &'static str, value: String },
    InList { name: &'static str, value: String },
    ValidList { name: &'static str },
}

impl From<Requirement> for RequirementView {
    fn from(r: Requirement) -> Self {
        match r {
            Requirement::OkStatus => RequirementView::OkStatus,
            Requirement::Line(name, value) => RequirementView::Line { name, value },
            Requirement::InList(name, value) => RequirementView::InList { name, value },
            Requirement::ValidList(name) => RequirementView::ValidList { name },
        }
    }
}

impl From<RequiredAnswer> for Required {
    fn from(a: RequiredAnswer) -> Self {
        Required {
            credentialed: a.credentialed,
            requirements: a.requirements.into_iter().map(Into::into).collect(),
        }
    }
}

/// `preflight` or `actual`, as the page names the response a check is on.
pub(crate) fn stage(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Preflight => "preflight",
        RequestKind::Actual => "actual",
    }
}

fn view<'a>(message: &'a ConsoleMessage<'a>) -> Read<'a> {
    let (cors_error, failed_parameter) = match &message.verdict {
        Some(BrowserVerdict::Blocked {
            error,
            failed_parameter,
        }) => (
            Some(error.name()),
            Some(failed_parameter.as_str()).filter(|p| !p.is_empty()),
        ),
        _ => (None, None),
    };
    Read {
        initiator: message.initiator,
        url: message.url,
        redirected_from: message.redirected_from,
        origin: message.origin,
        reason: message.reason,
        cors_error,
        failed_parameter,
        stage: message.kind().map(stage),
        required: message.required_answer().map(Required::from),
    }
}

pub async fn explain(Query(query): Query<ExplainQuery>) -> Response {
    let Some(text) = query.message.filter(|m| !m.trim().is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            "missing `message`: the console line of a blocked request, e.g. \
             message=Access to fetch at '…' from origin '…' has been blocked by CORS policy: …",
        )
            .into_response();
    };
    if text.len() > MAX_MESSAGE_LEN {
        return (
            StatusCode::URI_TOO_LONG,
            format!(
                "`message` is {} bytes; at most {MAX_MESSAGE_LEN} are read: paste the lines that say \
                 “has been blocked by CORS policy”",
                text.len()
            ),
        )
            .into_response();
    }
    let read = read_all(&text);
    let messages = read
        .iter()
        .map(|m| match m {
            Ok(message) => Item::Read(view(message)),
            Err(e) => Item::Unread {
                problem: e.to_string(),
            },
        })
        .collect();
    Json(Explanation { messages }).into_response()
}
