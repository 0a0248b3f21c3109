//! # cors-policy: the CORS rules of CORS Lab, without any I/O
//!
//! CORS (Cross-Origin Resource Sharing, defined in the WHATWG Fetch standard) lets a server
//! tell a browser which *other* origins may read its responses. The browser enforces it; the
//! server only states its policy in `Access-Control-*` response headers.
//!
//! This crate holds both sides of that conversation, so the lab can show them next to each other:
//!
//! * the **server side** — a [`Policy`] (parsed and validated from `CORS_*` environment variables by
//!   [`PolicyInput::resolve`]) and the [`engine`] that turns a request into a [`Decision`]: is it a
//!   preflight, is it allowed, which headers go on the response, and a one-line reason;
//! * the **browser side** — [`browser`], a model of the check Chromium runs on the response it gets
//!   ([`BrowserVerdict`]), with Chromium's own `CorsError` names and console texts.
//!
//! Everything here is pure and synchronous: no sockets, no async runtime. The servers of the lab
//! are thin layers over it. Data flows one way: request → [`Decision`] → response headers →
//! journal entry (with a [`BrowserVerdict`]) → page.
//!
//! The modules, one concept each:
//!
//! | module | concept |
//! |---|---|
//! | [`origin`] | what an origin is, and parsing the `Origin` request header |
//! | [`pattern`] | allow-list entries: exact origins, `*.example.com` subdomains, `:*` ports |
//! | [`method`] | HTTP method names: tokens, forbidden methods, the CORS-safelisted ones |
//! | [`header`] | header names and bounded parsing of `Access-Control-Request-Headers` |
//! | [`policy`] | the validated policy the engine applies |
//! | [`config`] | `CORS_*` variables and presets → a [`Policy`], with every problem reported at once |
//! | [`engine`] | deciding a preflight and an actual request |
//! | [`misconfig`] | the classic mistakes, as `broken-…` presets |
//! | [`browser`] | what Chromium concludes from a response |
//! | [`console`] | Chromium's console message of a blocked request, read back |
//! | [`fetch`] | what a script's request puts on the wire, and whether a preflight goes first |
//! | [`walkthrough`] | one request walked through a policy on paper: sent, answered, judged |
//! | [`transcript`] | a server's answer as curl prints it (`-i`, `-v`), read back |
//! | [`answer`] | a server's answer judged as Chromium would, with what it must carry to pass |
//! | `wire` | (feature `http`) the engine's header lines as `http` types; its request headers read from a `HeaderMap` |

pub mod answer;
pub mod browser;
pub mod config;
pub mod console;
pub mod engine;
pub mod fetch;
pub mod header;
pub mod method;
pub mod misconfig;
pub mod origin;
pub mod pattern;
pub mod policy;
pub mod transcript;
pub mod walkthrough;
#[cfg(feature = "http")]
pub mod wire;

pub use browser::{BrowserRequest, BrowserVerdict, CorsError, CredentialsMode, RequestKind};
pub use config::{ConfigError, ConfigErrors, EffectivePolicy, PolicyInput, Preset};
pub use engine::{decide, ActualDecision, CorsHeaders, Decision, PreflightDecision, RequestFacts};
pub use misconfig::Misconfiguration;
pub use origin::Origin;
pub use pattern::OriginPattern;
pub use policy::Policy;
