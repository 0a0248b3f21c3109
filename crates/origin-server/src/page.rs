//! The lab page, rendered from `templates/index.html`.
//!
//! The template only receives the lab's URLs; everything else (scenarios, journal, policy) the
//! page's script fetches, so that the page shows exactly what the servers report.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::OriginConfig;

#[derive(Template)]
#[template(path = "index.html")]
pub struct LabPage<'a> {
    pub api_url: &'a str,
    pub role: &'a str,
    pub trusted_url: &'a str,
    pub untrusted_url: &'a str,
    pub page_origin: &'a str,
    /// Empty on the untrusted page, or when runtime switching is disabled.
    pub lab_secret: &'a str,
}

impl<'a> LabPage<'a> {
    pub fn new(config: &'a OriginConfig) -> Self {
        LabPage {
            api_url: &config.api_url,
            role: config.role.as_str(),
            trusted_url: &config.trusted_url,
            untrusted_url: &config.untrusted_url,
            page_origin: config.page_origin(),
            lab_secret: match config.role {
                crate::Role::Trusted => config.lab_secret.as_deref().unwrap_or_default(),
                crate::Role::Untrusted => "",
            },
        }
    }
}

pub async fn index(State(config): State<Arc<OriginConfig>>) -> Response {
    match LabPage::new(&config).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering the lab page failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the lab page failed to render",
            )
                .into_response()
        }
    }
}
