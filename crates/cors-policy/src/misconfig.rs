//! Misconfigurations on purpose: the classic ways real servers get CORS wrong.
//!
//! Each is a named preset (`CORS_PRESET=broken-…`), clearly labelled as broken, so the learner can
//! see its symptom in a real browser and read its fix. They are the *only* way around the
//! validation of [`crate::config`]: the normal variables can never produce them.

use serde::Serialize;

use crate::policy::{AllowHeaders, AllowOrigins, Policy};

/// A deliberate CORS mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Misconfiguration {
    /// `Access-Control-Allow-Origin: http://localhost:8080/` — the origin with a trailing slash.
    TrailingSlash,
    /// `Access-Control-Allow-Origin: *` together with `Access-Control-Allow-Credentials: true`.
    WildcardWithCredentials,
    /// `content-type` missing from `Access-Control-Allow-Headers`, so JSON bodies fail.
    NoContentType,
    /// A proxy and the app both add `Access-Control-Allow-Origin`.
    DoubleAllowOrigin,
    /// Authentication runs before the CORS handler and answers the preflight `401`.
    AuthBeforePreflight,
    /// Any `Origin` is reflected into `Access-Control-Allow-Origin`, with credentials.
    ReflectAnyOrigin,
    /// `null` is on the allow list.
    AllowNull,
}

impl Misconfiguration {
    pub const ALL: [Misconfiguration; 7] = [
        Misconfiguration::TrailingSlash,
        Misconfiguration::WildcardWithCredentials,
        Misconfiguration::NoContentType,
        Misconfiguration::DoubleAllowOrigin,
        Misconfiguration::AuthBeforePreflight,
        Misconfiguration::ReflectAnyOrigin,
        Misconfiguration::AllowNull,
    ];

    /// The `CORS_PRESET` value.
    pub fn preset_name(self) -> &'static str {
        match self {
            Misconfiguration::TrailingSlash => "broken-trailing-slash",
            Misconfiguration::WildcardWithCredentials => "broken-wildcard-credentials",
            Misconfiguration::NoContentType => "broken-no-content-type",
            Misconfiguration::DoubleAllowOrigin => "broken-double-origin",
            Misconfiguration::AuthBeforePreflight => "broken-auth-preflight",
            Misconfiguration::ReflectAnyOrigin => "broken-reflect-origin",
            Misconfiguration::AllowNull => "broken-allow-null",
        }
    }

    /// What the server does wrong.
    pub fn mistake(self) -> &'static str {
        match self {
            Misconfiguration::TrailingSlash => {
                "The allowed origin was written with a trailing slash (http://localhost:8080/), \
                 and the server sends it that way in Access-Control-Allow-Origin."
            }
            Misconfiguration::WildcardWithCredentials => {
                "The server answers Access-Control-Allow-Origin: * and also \
                 Access-Control-Allow-Credentials: true."
            }
            Misconfiguration::NoContentType => {
                "Access-Control-Allow-Headers lists x-token and authorization but not content-type \
                 (the classic of axum issue 849)."
            }
            Misconfiguration::DoubleAllowOrigin => {
                "A reverse proxy adds Access-Control-Allow-Origin and the app adds it too, so every \
                 response carries two of them."
            }
            Misconfiguration::AuthBeforePreflight => {
                "The authentication middleware runs before the CORS handler and answers the \
                 preflight 401 — but a preflight never carries cookies or Authorization."
            }
            Misconfiguration::ReflectAnyOrigin => {
                "The server copies whatever Origin arrives into Access-Control-Allow-Origin and \
                 allows credentials: every site on the web may read your users' data."
            }
            Misconfiguration::AllowNull => {
                "The allow list contains null. Sandboxed iframes, file:// pages and redirected \
                 requests all send Origin: null, so any site can obtain it."
            }
        }
    }

    /// What the learner sees in Chromium.
    pub fn symptom(self) -> &'static str {
        match self {
            Misconfiguration::TrailingSlash => {
                "Every cross-origin read fails with AllowOriginMismatch: the header has a value \
                 'http://localhost:8080/' that is not equal to the supplied origin."
            }
            Misconfiguration::WildcardWithCredentials => {
                "Requests without credentials work; credentialed ones fail with \
                 WildcardOriginNotAllowed."
            }
            Misconfiguration::NoContentType => {
                "GET and text/plain POST work; a JSON POST or PUT fails at the preflight with \
                 HeaderDisallowedByPreflightResponse for content-type."
            }
            Misconfiguration::DoubleAllowOrigin => {
                "Everything fails with MultipleAllowOriginValues, even though each value is right."
            }
            Misconfiguration::AuthBeforePreflight => {
                "Simple requests work; every preflighted one fails with PreflightInvalidStatus \
                 (\"It does not have HTTP ok status\")."
            }
            Misconfiguration::ReflectAnyOrigin => {
                "Nothing fails — which is the problem: the untrusted page can read every response, \
                 credentialed ones included. Whether the session cookie rides along is then only up \
                 to the browser's SameSite rules (the attack card shows what Chromium sent)."
            }
            Misconfiguration::AllowNull => {
                "Requests from a sandboxed iframe (Origin: null) succeed, credentials included."
            }
        }
    }

    /// How to fix it.
    pub fn fix(self) -> &'static str {
        match self {
            Misconfiguration::TrailingSlash => {
                "Write origins exactly as browsers send them: scheme://host[:port], no slash. \
                 CORS_ALLOW_ORIGINS refuses the slash for this reason."
            }
            Misconfiguration::WildcardWithCredentials => {
                "With credentials, name the origins (CORS_ALLOW_ORIGINS=http://localhost:8080); \
                 or keep * and set CORS_ALLOW_CREDENTIALS=false."
            }
            Misconfiguration::NoContentType => {
                "Add content-type to CORS_ALLOW_HEADERS (CORS_ALLOW_HEADERS=content-type,x-token)."
            }
            Misconfiguration::DoubleAllowOrigin => {
                "Let exactly one layer handle CORS: remove the header from the proxy or from the app."
            }
            Misconfiguration::AuthBeforePreflight => {
                "Put the CORS layer outside (before) authentication, so it answers OPTIONS \
                 preflights itself with 204."
            }
            Misconfiguration::ReflectAnyOrigin => {
                "Check the Origin against an allow list (CORS_ALLOW_ORIGINS) before echoing it; \
                 never reflect blindly when credentials are allowed."
            }
            Misconfiguration::AllowNull => {
                "Never allow null; list the real origins (CORS_ALLOW_ORIGINS refuses null)."
            }
        }
    }

    /// What `CORS_ALLOW_ORIGINS` effectively is under this mistake, for the policy panel
    /// (`None`: the configured list, unchanged).
    pub fn effective_origins(self, trusted_origin: &str) -> Option<String> {
        match self {
            Misconfiguration::TrailingSlash => {
                Some(format!("{trusted_origin}/ (sent with the slash)"))
            }
            Misconfiguration::WildcardWithCredentials => Some("* (with credentials)".into()),
            Misconfiguration::ReflectAnyOrigin => Some("any origin, reflected".into()),
            Misconfiguration::AllowNull => Some(format!("{trusted_origin},null")),
            _ => None,
        }
    }

    /// Turns the `strict` policy into this broken one.
    pub fn apply(self, mut policy: Policy) -> Policy {
        policy.misconfiguration = Some(self);
        match self {
            Misconfiguration::WildcardWithCredentials | Misconfiguration::ReflectAnyOrigin => {
                policy.origins = AllowOrigins::Any;
            }
            Misconfiguration::NoContentType => {
                policy.headers = AllowHeaders::List(vec!["x-token".into(), "authorization".into()]);
            }
            _ => {}
        }
        policy
    }
}
