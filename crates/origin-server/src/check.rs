//! Checking the learner's own server's answer, as curl printed it.
//!
//! The lab judges its own API's answers because it sees them. For the learner's own server, the
//! page cannot: a page served from the lab is not the origin of `https://app.example.com`, and
//! the lab does not contact other servers for the learner. So the learner runs curl with the
//! browser's request headers and pastes what curl printed; the page sends that text here,
//! `POST /_lab/check-answer` (JSON), and this handler answers with what
//! [`cors_policy::answer::check_all`] makes of each exchange in it — the same check, and the same words, as the
//! `cors-check` command: the request judged (and where each part of it came from), Chromium's
//! verdict, what the answer must carry to pass, and notes. The page turns that into prose
//! (`static/check.js`).
//!
//! Same-origin for the page, so no CORS. The body is JSON, which a page of another origin can
//! only send after a preflight this server never allows; the check changes nothing anyway. The
//! body is bounded ([`MAX_BODY_LEN`], 413 beyond); text that is not curl's output, or that
//! lacks what the check needs, gets 422 with the reason.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cors_policy::answer::{carries, check_all, AnswerCheck, Note, Request, Source};
use cors_policy::browser::{BrowserVerdict, CredentialsMode};
use cors_policy::transcript::{read_all, ResponseHead};
use serde::{Deserialize, Serialize};

use crate::explain::{stage, RequirementView};

/// Largest body read, in bytes: a verbose curl run with its body is a few kilobytes.
pub const MAX_BODY_LEN: usize = 64 * 1024;

/// What the page sends: curl's text, and what curl's text may not show of the request.
#[derive(Debug, Deserialize)]
pub struct CheckForm {
    text: String,
    #[serde(default)]
    origin: Option<String>,
    /// The answer is to a preflight (for `curl -i` output, which shows no request).
    #[serde(default)]
    preflight: bool,
    /// For a preflight: the method of the request itself.
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    request_headers: Option<String>,
    /// `include`, `omit`, or absent: not said.
    #[serde(default)]
    credentials: Option<Credentials>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum Credentials {
    Include,
    Omit,
}

impl From<Credentials> for CredentialsMode {
    fn from(c: Credentials) -> Self {
        match c {
            Credentials::Include => CredentialsMode::Include,
            Credentials::Omit => CredentialsMode::Omit,
        }
    }
}

impl From<CredentialsMode> for Credentials {
    fn from(c: CredentialsMode) -> Self {
        match c {
            CredentialsMode::Include => Credentials::Include,
            CredentialsMode::Omit => Credentials::Omit,
        }
    }
}

/// The answer: one check per exchange in the text, in order (the preflight's, then the
/// request's, when both were pasted).
#[derive(Serialize)]
struct Checked {
    exchanges: Vec<CheckView>,
}

#[derive(Serialize)]
struct CheckView {
    stage: &'static str,
    stage_from: &'static str,
    origin: String,
    origin_from: &'static str,
    method: String,
    method_from: &'static str,
    request_headers: Option<String>,
    credentials: Credentials,
    credentials_from: &'static str,
    status: u16,
    passes: bool,
    cors_error: Option<&'static str>,
    failed_parameter: Option<String>,
    /// Chromium's reason, the console line's text after "has been blocked by CORS policy: ".
    reason: Option<String>,
    required: Option<RequiredView>,
    notes: Vec<NoteView>,
}

/// What the answer must carry, each requirement with whether it already does.
#[derive(Serialize)]
struct RequiredView {
    credentialed: bool,
    requirements: Vec<CheckedRequirement>,
}

#[derive(Serialize)]
struct CheckedRequirement {
    #[serde(flatten)]
    requirement: RequirementView,
    /// The pasted answer already carries it.
    carried: bool,
}

#[derive(Serialize)]
struct LineView {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum NoteView {
    NoOriginSent,
    OptionsWithoutRequestMethod,
    VaryOriginMissing,
    LaterResponses { count: usize },
    LaterExchanges { count: usize },
    ActualNeeds { lines: Vec<LineView> },
    WithCredentialsNeeds { lines: Vec<LineView> },
}

fn source(s: Source) -> &'static str {
    match s {
        Source::Transcript => "curl",
        Source::Given => "form",
        Source::Default => "default",
    }
}

fn lines(list: &[(&'static str, String)]) -> Vec<LineView> {
    list.iter()
        .map(|(name, value)| LineView {
            name,
            value: value.clone(),
        })
        .collect()
}

fn note(n: &Note) -> NoteView {
    match n {
        Note::NoOriginSent => NoteView::NoOriginSent,
        Note::OptionsWithoutRequestMethod => NoteView::OptionsWithoutRequestMethod,
        Note::VaryOriginMissing => NoteView::VaryOriginMissing,
        Note::LaterResponses(count) => NoteView::LaterResponses { count: *count },
        Note::LaterExchanges(count) => NoteView::LaterExchanges { count: *count },
        Note::ActualNeeds(list) => NoteView::ActualNeeds { lines: lines(list) },
        Note::WithCredentialsNeeds(list) => NoteView::WithCredentialsNeeds { lines: lines(list) },
    }
}

fn view(c: &AnswerCheck, response: &ResponseHead) -> CheckView {
    let (cors_error, failed_parameter) = match &c.verdict {
        BrowserVerdict::Blocked {
            error,
            failed_parameter,
        } => (
            Some(error.name()),
            Some(failed_parameter.clone()).filter(|p| !p.is_empty()),
        ),
        BrowserVerdict::Pass => (None, None),
    };
    CheckView {
        stage: stage(c.kind),
        stage_from: source(c.kind_from),
        origin: c.origin.clone(),
        origin_from: source(c.origin_from),
        method: c.method.clone(),
        method_from: source(c.method_from),
        request_headers: c.request_headers.clone(),
        credentials: c.credentials.into(),
        credentials_from: source(c.credentials_from),
        status: c.status,
        passes: c.verdict.is_pass(),
        cors_error,
        failed_parameter,
        reason: c.verdict.reason(),
        required: c.required.as_ref().map(|r| RequiredView {
            credentialed: r.credentialed,
            requirements: r
                .requirements
                .iter()
                .map(|req| CheckedRequirement {
                    carried: carries(response, req),
                    requirement: req.clone().into(),
                })
                .collect(),
        }),
        notes: c.notes.iter().map(note).collect(),
    }
}

fn unprocessable(problem: String) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, problem).into_response()
}

/// A field's text, `None` when missing or blank.
fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `POST /_lab/check-answer`: the [`CheckForm`] judged. axum's JSON extractor answers the
/// rest: 413 past the body limit, 415 without a JSON content type, 400 or 422 for bad JSON.
pub async fn check_answer(Json(form): Json<CheckForm>) -> Response {
    let given = Request {
        preflight: form.preflight,
        origin: filled(&form.origin),
        method: filled(&form.method),
        request_headers: filled(&form.request_headers),
        credentials: form.credentials.map(Into::into),
    };
    let exchanges = match read_all(&form.text) {
        Ok(all) => all,
        Err(e) => return unprocessable(format!("curl's output could not be read: {e}")),
    };
    match check_all(&exchanges, &given) {
        Ok(checks) => Json(Checked {
            exchanges: checks
                .iter()
                .zip(&exchanges)
                .map(|(c, t)| view(c, &t.response))
                .collect(),
        })
        .into_response(),
        Err(e) => unprocessable(format!("the answer cannot be judged yet: {e}")),
    }
}
