//! # api-server: the cross-origin API of CORS Lab
//!
//! The lab page lives on one origin and calls this API on another, so every call is a CORS
//! request. This server plays the part of a real API whose CORS policy is configurable
//! (`CORS_*` variables, see [`cors_policy::config`]), and it also plays the part the browser
//! hides: it records every exchange — preflights and refusals included — in a [`journal`],
//! with the engine's decision and the verdict a browser would reach, and serves that journal to
//! the page.
//!
//! * [`cors_layer`] — the thin layer that asks [`cors_policy::engine`] what to do with each request;
//! * [`journal`] — the bounded record of exchanges, served as JSON;
//! * [`live`] — the journal as server-sent events, written in batches;
//! * [`routes`] — the demo endpoints the scenarios call;
//! * [`moved`] — a redirect in front of the CORS layer, as a proxy's or a framework's;
//! * [`lab`] — the `/_lab/` routes for the page, which never follow the demo policy;
//! * [`switch`] — switching the policy at runtime, for the trusted lab page only;
//! * [`walkthrough`] — a request walked through the policy in force on paper, for the page;
//! * [`cli`] — flags and environment variables.
//!
//! Start it with [`run`] on a listener you bound yourself (tests bind port 0).

pub mod cli;
pub mod cors_layer;
pub mod journal;
pub mod lab;
pub mod live;
pub mod moved;
pub mod routes;
pub mod switch;
pub mod walkthrough;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use axum::Router;
use cors_policy::wire::PreparedValues;
use cors_policy::{EffectivePolicy, PolicyInput};
use futures::future::Either;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::{Layer, Service};

use crate::journal::Journal;

/// How many exchanges the journal keeps before dropping the oldest.
pub const JOURNAL_CAPACITY: usize = 1000;

/// Everything the API needs to run.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub policy: EffectivePolicy,
    /// The origin browsers use to reach this API (`http://localhost:9090`).
    pub public_url: String,
    /// The same API under another origin (`http://127.0.0.1:9090`), the target of `/api/redirect`.
    pub alt_url: String,
    /// The trusted lab page's origin: the only page that may switch the policy at runtime.
    pub trusted_origin: String,
    /// The policy variables the API started with, restored by a reset.
    pub startup_input: PolicyInput,
    /// The secret the trusted page must send to switch the policy; `None` disables switching.
    pub lab_secret: Option<String>,
}

/// The policy in force, and its own header values made once for all its responses.
pub struct PolicyInForce {
    pub effective: Arc<EffectivePolicy>,
    pub values: PreparedValues,
    /// 0 at start-up, one more at each switch. A page that hears of the policy both from an
    /// answer and from the event stream keeps the higher: an answer can be older than an event.
    pub generation: u64,
}

impl PolicyInForce {
    fn new(effective: EffectivePolicy, generation: u64) -> Self {
        PolicyInForce {
            values: PreparedValues::new(&effective.policy),
            effective: Arc::new(effective),
            generation,
        }
    }
}

/// Shared state of the API's handlers.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The policy in force; subscribers (the live event stream) hear of every switch.
    policy: tokio::sync::watch::Sender<Arc<PolicyInForce>>,
    /// Tells this run of the API from the next (generations start again at 0 after a restart).
    instance: u64,
    journal: Journal,
    public_url: String,
    alt_url: String,
    trusted_origin: String,
    /// The CORS policy of the switch route itself (see [`switch`]).
    control_policy: cors_policy::Policy,
    startup_input: PolicyInput,
    lab_secret: Option<String>,
    shutdown: CancellationToken,
}

impl AppState {
    pub fn new(config: ApiConfig) -> Self {
        AppState {
            inner: Arc::new(Inner {
                policy: tokio::sync::watch::Sender::new(Arc::new(PolicyInForce::new(
                    config.policy,
                    0,
                ))),
                instance: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64),
                journal: Journal::new(JOURNAL_CAPACITY),
                public_url: config.public_url,
                alt_url: config.alt_url,
                control_policy: switch::control_policy(&config.trusted_origin),
                trusted_origin: config.trusted_origin,
                startup_input: config.startup_input,
                lab_secret: config.lab_secret,
                shutdown: CancellationToken::new(),
            }),
        }
    }

    /// The policy in force now.
    pub fn policy(&self) -> Arc<EffectivePolicy> {
        self.inner.policy.borrow().effective.clone()
    }

    /// The policy in force now, with its header values.
    pub fn policy_in_force(&self) -> Arc<PolicyInForce> {
        self.inner.policy.borrow().clone()
    }

    /// Notified at each policy switch.
    pub fn policy_changes(&self) -> tokio::sync::watch::Receiver<Arc<PolicyInForce>> {
        self.inner.policy.subscribe()
    }

    /// Replaces the policy in force; requests already inside the engine finish with the old one.
    pub fn set_policy(&self, policy: EffectivePolicy) {
        // Under the watch's lock, so that two switches at once get two generations.
        self.inner.policy.send_modify(|in_force| {
            *in_force = Arc::new(PolicyInForce::new(policy, in_force.generation + 1));
        });
    }

    /// Tells this run of the API from another one.
    pub fn instance(&self) -> u64 {
        self.inner.instance
    }

    pub fn trusted_origin(&self) -> &str {
        &self.inner.trusted_origin
    }

    pub fn control_policy(&self) -> &cors_policy::Policy {
        &self.inner.control_policy
    }

    pub fn startup_input(&self) -> &PolicyInput {
        &self.inner.startup_input
    }

    pub fn lab_secret(&self) -> Option<&str> {
        self.inner.lab_secret.as_deref()
    }

    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    pub fn alt_url(&self) -> &str {
        &self.inner.alt_url
    }

    /// Cancelled when the server shuts down, so long-lived streams end.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.inner.shutdown
    }
}

/// The whole API: `/_lab/` paths to the lab's routes, every other path to the demo routes
/// behind the CORS layer.
///
/// The layer wraps the demo router as a whole, the way a CORS middleware at an API's edge
/// does: it sees each request before any route is matched, so a preflight is answered without
/// routing, and every path under the demo policy (a missing one too) gets the policy's headers
/// and a journal entry. The split on the path is made here rather than by a router's fallback,
/// which would build a URL-parameter map for every request.
///
/// In front of the CORS layer, [`moved`] redirects `/moved/` paths before the engine sees them,
/// as a proxy or a framework's redirect in front of a real API's CORS middleware does.
#[derive(Clone)]
pub enum Api {
    Direct {
        lab: Router,
        demo: Demo,
    },
    /// The same under tower-http's `TraceLayer`, when the log filter lets DEBUG through
    /// (`RUST_LOG=debug`, `RUST_LOG=tower_http=debug`): its request spans are at DEBUG.
    Traced(Router),
}

/// The demo routes behind the CORS layer, behind the front that redirects `/moved/`.
pub type Demo = moved::Moved<cors_layer::Cors<Router>>;

/// Builds the [`Api`] service for `state`.
pub fn app(state: AppState) -> Api {
    let lab = lab::router(state.clone()).merge(switch::router(state.clone()));
    let demo = Layer::layer(
        &moved::MovedLayer::new(state.clone()),
        Layer::layer(
            &cors_layer::CorsLayer::new(state.clone()),
            routes::router(state.clone()),
        ),
    );
    if tracing::level_filters::LevelFilter::current() >= tracing::Level::DEBUG {
        Api::Traced(
            lab.fallback_service(demo)
                .layer(tower_http::trace::TraceLayer::new_for_http()),
        )
    } else {
        Api::Direct { lab, demo }
    }
}

type RouterFuture = <Router as Service<axum::extract::Request>>::Future;
type DemoFuture = <Demo as Service<axum::extract::Request>>::Future;

impl<B> Service<axum::http::Request<B>> for Api
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Either<Either<RouterFuture, DemoFuture>, RouterFuture>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self {
            Api::Direct { lab, demo } => {
                ready!(Service::<axum::extract::Request>::poll_ready(lab, cx))?;
                Service::<axum::extract::Request>::poll_ready(demo, cx)
            }
            Api::Traced(router) => Service::<axum::extract::Request>::poll_ready(router, cx),
        }
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let request = request.map(axum::body::Body::new);
        match self {
            Api::Direct { lab, demo } => {
                Either::Left(if request.uri().path().starts_with("/_lab/") {
                    Either::Left(lab.call(request))
                } else {
                    Either::Right(demo.call(request))
                })
            }
            Api::Traced(router) => Either::Right(router.call(request)),
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    listener: TcpListener,
    config: ApiConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new(config);
    let token = state.shutdown_token().clone();
    let app = app(state);
    lab_process::serve(listener, app, async move {
        shutdown.await;
        // End the event streams, or they would hold their connections open.
        token.cancel();
    })
    .await
}
