//! # CORS Lab launcher: the whole lab in one process
//!
//! The CORS workflow needs three servers, on three different origins:
//!
//! 1. the **trusted origin** — serves the lab page; the default policy allows it;
//! 2. the **cross-origin API** — whose CORS policy the learner switches with `CORS_*` variables;
//! 3. the **untrusted origin** — serves the same page from another site, which the default
//!    policy refuses, so allowed and refused origins can be compared side by side.
//!
//! [`run`] starts all three on listeners the caller bound, and stops them together.
//! [`start_ephemeral`] does the same on loopback ports the OS picks, for tests
//! ([`bind_ephemeral`] only binds them and makes the configuration).

use std::future::Future;

use api_server::cli::PolicyArgs;
use api_server::ApiConfig;
use clap::Parser;
use cors_policy::{ConfigError, ConfigErrors};
use lab_process::args::{ApiAltUrl, LabOrigins, LabSecret, UntrustedOrigin};
use origin_server::{OriginConfig, Role};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// `cors-lab`: starts the trusted origin, the untrusted origin and the cross-origin API.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
// The `LAB_*` origins and the secret are lab_process::args's; the secret has the launcher's own
// help line, since here an unset secret means a new random one.
#[command(mut_arg("lab_secret", |a| a.help(
    "Secret that lets the trusted page switch the policy at runtime (default: a new random one \
     at each start)"
)))]
pub struct LabArgs {
    #[command(flatten)]
    pub origins: LabOrigins,
    #[command(flatten)]
    pub untrusted: UntrustedOrigin,
    #[command(flatten)]
    pub alt: ApiAltUrl,
    /// Where the trusted origin listens.
    #[arg(long, env = "LAB_TRUSTED_LISTEN", default_value = "127.0.0.1:8080")]
    pub trusted_listen: String,
    /// Where the untrusted origin listens.
    #[arg(long, env = "LAB_UNTRUSTED_LISTEN", default_value = "127.0.0.1:8081")]
    pub untrusted_listen: String,
    /// Where the API listens.
    #[arg(long, env = "LAB_API_LISTEN", default_value = "127.0.0.1:9090")]
    pub api_listen: String,
    #[command(flatten)]
    pub secret: LabSecret,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// The three servers' settings.
#[derive(Debug, Clone)]
pub struct LabConfig {
    pub api: ApiConfig,
    pub trusted: OriginConfig,
    pub untrusted: OriginConfig,
}

/// Where the three servers listen.
#[derive(Debug, Clone, Copy)]
pub struct ListenAddrs {
    pub trusted: std::net::SocketAddr,
    pub untrusted: std::net::SocketAddr,
    pub api: std::net::SocketAddr,
}

/// The three bound listeners.
pub struct Listeners {
    pub trusted: TcpListener,
    pub untrusted: TcpListener,
    pub api: TcpListener,
}

impl LabArgs {
    /// Validates every setting, reporting every problem at once.
    pub fn resolve(&self) -> Result<(ListenAddrs, LabConfig), ConfigErrors> {
        let mut errors = Vec::new();
        let mut listen = |variable, value: &str| {
            ConfigError::parse_listen(variable, value)
                .map_err(|e| errors.push(e))
                .ok()
        };
        let trusted = listen("LAB_TRUSTED_LISTEN", &self.trusted_listen);
        let untrusted = listen("LAB_UNTRUSTED_LISTEN", &self.untrusted_listen);
        let api = listen("LAB_API_LISTEN", &self.api_listen);
        if let Err(e) =
            ConfigError::check_lab_origin("LAB_UNTRUSTED_ORIGIN", &self.untrusted.untrusted_origin)
        {
            errors.push(e);
        }
        let api_config = api_server::cli::api_config(
            self.policy.input(),
            &self.origins.api_url,
            &self.alt.api_alt_url,
            &self.origins.trusted_origin,
            &mut errors,
        );
        match (trusted, untrusted, api, api_config) {
            (Some(trusted), Some(untrusted), Some(api), Some(api_config)) if errors.is_empty() => {
                Ok((
                    ListenAddrs {
                        trusted,
                        untrusted,
                        api,
                    },
                    self.config(api_config),
                ))
            }
            _ => Err(ConfigErrors(errors)),
        }
    }

    fn config(&self, api: ApiConfig) -> LabConfig {
        let secret = self
            .secret
            .value()
            .map(str::to_owned)
            .unwrap_or_else(lab_process::random_secret);
        let origin = |role| OriginConfig {
            role,
            api_url: self.origins.api_url.clone(),
            trusted_url: self.origins.trusted_origin.clone(),
            untrusted_url: self.untrusted.untrusted_origin.clone(),
            lab_secret: Some(secret.clone()),
        };
        LabConfig {
            api: ApiConfig {
                lab_secret: Some(secret.clone()),
                ..api
            },
            trusted: origin(Role::Trusted),
            untrusted: origin(Role::Untrusted),
        }
    }
}

/// Runs the three servers until `shutdown` completes; stops them all if one fails.
pub async fn run(
    listeners: Listeners,
    config: LabConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = CancellationToken::new();
    let trigger = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    let stopped = |token: &CancellationToken| token.clone().cancelled_owned();
    let result = tokio::try_join!(
        async {
            let r = origin_server::run(listeners.trusted, config.trusted, stopped(&stop)).await;
            stop.cancel();
            r
        },
        async {
            let r = origin_server::run(listeners.untrusted, config.untrusted, stopped(&stop)).await;
            stop.cancel();
            r
        },
        async {
            let r = api_server::run(listeners.api, config.api, stopped(&stop)).await;
            stop.cancel();
            r
        },
    );
    result.map(|_| ())
}

/// A lab running in the background on ephemeral loopback ports (for tests).
pub struct RunningLab {
    /// `http://localhost:<port>`: the trusted page.
    pub trusted_url: String,
    /// `http://127.0.0.1:<port>`: the untrusted page.
    pub untrusted_url: String,
    /// `http://localhost:<port>`: the API.
    pub api_url: String,
    /// `http://127.0.0.1:<port>`: the API under its second origin.
    pub api_alt_url: String,
    /// The secret the trusted page was given for switching the policy.
    pub lab_secret: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningLab {
    /// Stops the three servers and waits for them.
    pub async fn stop(self) -> std::io::Result<()> {
        self.stop.cancel();
        self.task
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }
}

/// Binds the lab's three listeners on loopback ports the OS picks, and makes its configuration
/// for them, with the policy from `policy` (the same values the `CORS_*` variables take). The
/// trusted page and the API are on `localhost`, the untrusted page on `127.0.0.1`: two
/// different sites, as with the default ports. [`start_ephemeral`] runs them; a test that
/// stops and starts one server alone runs them itself.
pub async fn bind_ephemeral(policy: PolicyArgs) -> Result<(Listeners, LabConfig), ConfigErrors> {
    let bind = || async {
        TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding an ephemeral loopback port")
    };
    let listeners = Listeners {
        trusted: bind().await,
        untrusted: bind().await,
        api: bind().await,
    };
    let port = |l: &TcpListener| l.local_addr().map(|a| a.port()).unwrap_or(0);
    let args = LabArgs {
        origins: LabOrigins {
            api_url: format!("http://localhost:{}", port(&listeners.api)),
            trusted_origin: format!("http://localhost:{}", port(&listeners.trusted)),
        },
        untrusted: UntrustedOrigin {
            untrusted_origin: format!("http://127.0.0.1:{}", port(&listeners.untrusted)),
        },
        alt: ApiAltUrl {
            api_alt_url: format!("http://127.0.0.1:{}", port(&listeners.api)),
        },
        trusted_listen: "127.0.0.1:0".into(),
        untrusted_listen: "127.0.0.1:0".into(),
        api_listen: "127.0.0.1:0".into(),
        secret: LabSecret::default(),
        policy,
    };
    let (_, config) = args.resolve()?;
    Ok((listeners, config))
}

/// Starts the lab on three ports the OS picks (see [`bind_ephemeral`]).
pub async fn start_ephemeral(policy: PolicyArgs) -> Result<RunningLab, ConfigErrors> {
    let (listeners, config) = bind_ephemeral(policy).await?;
    let urls = config.trusted.clone();
    let api_alt_url = config.api.alt_url.clone();
    let lab_secret = config.api.lab_secret.clone().unwrap_or_default();
    let stop = CancellationToken::new();
    let task = tokio::spawn(run(listeners, config, stop.clone().cancelled_owned()));
    Ok(RunningLab {
        trusted_url: urls.trusted_url,
        untrusted_url: urls.untrusted_url,
        api_url: urls.api_url,
        api_alt_url,
        lab_secret,
        stop,
        task,
    })
}
