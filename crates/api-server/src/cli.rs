//! Flags and environment variables of the API, shared with the lab's launcher.
//!
//! The `CORS_*` flags ([`PolicyArgs`]) are declared here; the `LAB_*` origins and secret that
//! the origin server takes too are declared once in [`lab_process::args`].
//!
//! Every setting is a flag with an environment variable behind it, so `--help` lists them all.
//! Values are read as plain text and validated together by [`cors_policy::PolicyInput::resolve`]
//! and the `LAB_*` checks, so that one start reports every problem at once (exit code 2).

use std::net::SocketAddr;

use clap::{Args, Parser};
use cors_policy::{ConfigError, ConfigErrors, PolicyInput};
use lab_process::args::{ApiAltUrl, LabOrigins, LabSecret};

use crate::ApiConfig;

/// The `CORS_*` variables: the API's policy.
#[derive(Debug, Clone, Default, Args)]
pub struct PolicyArgs {
    /// Named starting point: strict (default), permissive or off.
    #[arg(long, env = "CORS_PRESET")]
    pub cors_preset: Option<String>,
    /// Comma list: exact origins, `*`, `https://*.example.com`, `http://localhost:*`.
    #[arg(long, env = "CORS_ALLOW_ORIGINS")]
    pub cors_allow_origins: Option<String>,
    /// Comma list of methods, or `*`.
    #[arg(long, env = "CORS_ALLOW_METHODS")]
    pub cors_allow_methods: Option<String>,
    /// Comma list of request header names, or `*` (add `authorization` to let `*` cover it).
    #[arg(long, env = "CORS_ALLOW_HEADERS")]
    pub cors_allow_headers: Option<String>,
    /// Comma list of response header names script may read, or `*`.
    #[arg(long, env = "CORS_EXPOSE_HEADERS")]
    pub cors_expose_headers: Option<String>,
    /// Access-Control-Max-Age in seconds, 0 to 86400.
    #[arg(long, env = "CORS_MAX_AGE")]
    pub cors_max_age: Option<String>,
    /// true: send Access-Control-Allow-Credentials (cookies may ride along).
    #[arg(long, env = "CORS_ALLOW_CREDENTIALS")]
    pub cors_allow_credentials: Option<String>,
    /// true (default): a refused preflight from an allowed origin gets 204 with the origin
    /// headers only, so DevTools names the failing method or header; false: 403, no CORS headers.
    #[arg(long, env = "CORS_DEBUG")]
    pub cors_debug: Option<String>,
}

impl PolicyArgs {
    pub fn input(&self) -> PolicyInput {
        PolicyInput {
            preset: self.cors_preset.clone(),
            allow_origins: self.cors_allow_origins.clone(),
            allow_methods: self.cors_allow_methods.clone(),
            allow_headers: self.cors_allow_headers.clone(),
            expose_headers: self.cors_expose_headers.clone(),
            max_age: self.cors_max_age.clone(),
            allow_credentials: self.cors_allow_credentials.clone(),
            debug: self.cors_debug.clone(),
        }
    }
}

/// `api-server`: the cross-origin API of CORS Lab.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
// The `LAB_*` origins and the secret are lab_process::args's; for the two whose meaning here is
// narrower, the API has its own help lines.
#[command(mut_arg("trusted_origin", |a| a.help(
    "The trusted lab page's origin: what the `strict` preset allows"
)))]
#[command(mut_arg("lab_secret", |a| a.help(
    "Secret the trusted page sends to switch the policy at runtime (the origin server must know \
     the same one). Unset: runtime switching is disabled"
)))]
pub struct ApiArgs {
    /// Address to listen on.
    #[arg(long, env = "LAB_API_LISTEN", default_value = "127.0.0.1:9090")]
    pub listen: String,
    #[command(flatten)]
    pub origins: LabOrigins,
    #[command(flatten)]
    pub alt: ApiAltUrl,
    #[command(flatten)]
    pub secret: LabSecret,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

impl ApiArgs {
    /// Validates everything, reporting every problem at once.
    pub fn resolve(&self) -> Result<(SocketAddr, ApiConfig), ConfigErrors> {
        let mut errors = Vec::new();
        let listen = ConfigError::parse_listen("LAB_API_LISTEN", &self.listen)
            .map_err(|e| errors.push(e))
            .ok();
        let config = api_config(
            self.policy.input(),
            &self.origins.api_url,
            &self.alt.api_alt_url,
            &self.origins.trusted_origin,
            &mut errors,
        )
        .map(|c| ApiConfig {
            lab_secret: self.secret.value().map(str::to_owned),
            ..c
        });
        match (listen, config) {
            (Some(listen), Some(config)) if errors.is_empty() => Ok((listen, config)),
            _ => Err(ConfigErrors(errors)),
        }
    }
}

/// Builds an [`ApiConfig`] (runtime switching disabled), adding every problem to `errors`.
pub fn api_config(
    input: PolicyInput,
    api_url: &str,
    api_alt_url: &str,
    trusted_origin: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<ApiConfig> {
    for (variable, value) in [
        ("LAB_API_URL", api_url),
        ("LAB_API_ALT_URL", api_alt_url),
        ("LAB_TRUSTED_ORIGIN", trusted_origin),
    ] {
        if let Err(e) = ConfigError::check_lab_origin(variable, value) {
            errors.push(e);
        }
    }
    match input.resolve(trusted_origin) {
        Ok(policy) => Some(ApiConfig {
            policy,
            public_url: api_url.to_string(),
            alt_url: api_alt_url.to_string(),
            trusted_origin: trusted_origin.to_string(),
            startup_input: input,
            lab_secret: None,
        }),
        Err(ConfigErrors(more)) => {
            errors.extend(more);
            None
        }
    }
}
