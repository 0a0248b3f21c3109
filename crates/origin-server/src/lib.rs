//! # origin-server: where the lab page comes from
//!
//! Step 1 of the CORS workflow is a plain same-origin page load: the browser fetches the lab
//! page from this server, and the page's origin (`scheme://host:port` of this server, as the
//! browser reached it) becomes the `Origin` of every request its script sends to the API.
//!
//! The lab runs this server twice: as the **trusted** origin, which the default policy allows,
//! and as the **untrusted** origin (another site), which it does not — the same page, so the
//! learner sees allowed and refused origins side by side.
//!
//! * [`page`] — the page itself, rendered from `templates/index.html` with askama;
//! * [`assets`] — the files of `static/`, embedded in the binary so it runs from any folder;
//! * [`explain`] — reads a console message pasted from the learner's own app;
//! * [`check`] — judges an answer of the learner's own server, pasted as curl printed it.

pub mod assets;
pub mod check;
pub mod explain;
pub mod page;

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use clap::{Parser, ValueEnum};
use cors_policy::{ConfigError, ConfigErrors};
use lab_process::args::{LabOrigins, LabSecret, UntrustedOrigin};
use tokio::net::TcpListener;

/// Which of the lab's two page origins this server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Trusted,
    Untrusted,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trusted => "trusted",
            Role::Untrusted => "untrusted",
        }
    }
}

/// What the page needs to know about the lab.
#[derive(Debug, Clone)]
pub struct OriginConfig {
    pub role: Role,
    /// The API's origin as the browser reaches it.
    pub api_url: String,
    pub trusted_url: String,
    pub untrusted_url: String,
    /// The secret that lets the trusted page switch the API's policy; never given to the
    /// untrusted page.
    pub lab_secret: Option<String>,
}

impl OriginConfig {
    /// This server's own browser-visible origin.
    pub fn page_origin(&self) -> &str {
        match self.role {
            Role::Trusted => &self.trusted_url,
            Role::Untrusted => &self.untrusted_url,
        }
    }
}

/// The page, its assets, the console-message explainer, the answer checker and a health check.
pub fn app(config: OriginConfig) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/scenarios.json", get(assets::scenarios))
        .route("/static/{*path}", get(assets::file))
        .route("/_lab/explain", get(explain::explain))
        .route(
            "/_lab/check-answer",
            post(check::check_answer).layer(DefaultBodyLimit::max(check::MAX_BODY_LEN)),
        )
        .route("/healthz", get(|| async { "ok" }))
        .with_state(std::sync::Arc::new(config))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves the page on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    config: OriginConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    lab_process::serve(listener, app(config), shutdown).await
}

/// `origin-server`: serves the CORS Lab page.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
// The `LAB_*` origins and the secret are lab_process::args's; the secret has this binary's own
// help line, since the origin server only passes it on to the trusted page.
#[command(mut_arg("lab_secret", |a| a.help(
    "The API's LAB_SECRET, handed to the trusted page so it can switch the policy"
)))]
pub struct OriginArgs {
    /// trusted (on the default allow list) or untrusted (another site).
    #[arg(long, env = "LAB_ROLE", value_enum, default_value = "trusted")]
    pub role: Role,
    /// Address to listen on (default: 127.0.0.1:8080 trusted, 127.0.0.1:8081 untrusted).
    #[arg(long, env = "LAB_ORIGIN_LISTEN")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub origins: LabOrigins,
    #[command(flatten)]
    pub untrusted: UntrustedOrigin,
    #[command(flatten)]
    pub secret: LabSecret,
}

impl OriginArgs {
    /// Validates everything, reporting every problem at once.
    pub fn resolve(&self) -> Result<(std::net::SocketAddr, OriginConfig), ConfigErrors> {
        let mut errors = Vec::new();
        let default_listen = match self.role {
            Role::Trusted => "127.0.0.1:8080",
            Role::Untrusted => "127.0.0.1:8081",
        };
        let listen = ConfigError::parse_listen(
            "LAB_ORIGIN_LISTEN",
            self.listen.as_deref().unwrap_or(default_listen),
        )
        .map_err(|e| errors.push(e))
        .ok();
        for (variable, value) in [
            ("LAB_API_URL", &self.origins.api_url),
            ("LAB_TRUSTED_ORIGIN", &self.origins.trusted_origin),
            ("LAB_UNTRUSTED_ORIGIN", &self.untrusted.untrusted_origin),
        ] {
            if let Err(e) = ConfigError::check_lab_origin(variable, value) {
                errors.push(e);
            }
        }
        match listen {
            Some(listen) if errors.is_empty() => Ok((
                listen,
                OriginConfig {
                    role: self.role,
                    api_url: self.origins.api_url.clone(),
                    trusted_url: self.origins.trusted_origin.clone(),
                    untrusted_url: self.untrusted.untrusted_origin.clone(),
                    lab_secret: self.secret.value().map(str::to_owned),
                },
            )),
            _ => Err(ConfigErrors(errors)),
        }
    }
}
