//! Browser harness for CORS Lab: drives a real headless Chromium over the
//! DevTools protocol (via [`chromiumoxide`]) and records what the browser did.
//!
//! CORS is enforced by the browser, and page script only ever sees
//! `TypeError: Failed to fetch`. This crate makes the browser's side visible to
//! tests: every network request of a page (including preflights, which DevTools
//! reports as separate requests), why a request failed (`corsErrorStatus`), and
//! the console messages Chromium prints (`Log.entryAdded`, category `cors`).
//! Requests of the page's iframes (e.g. sandboxed ones, which send
//! `Origin: null`) and dedicated workers are recorded with the page's, also
//! when they run as separate DevTools targets (out-of-process iframes).
//!
//! ```no_run
//! # async fn demo() -> Result<(), browser_harness::HarnessError> {
//! use std::time::Duration;
//! let browser = browser_harness::Browser::launch().await?;
//! let page = browser.new_page("http://localhost:8001/").await?;
//! page.evaluate_json("fetch('http://127.0.0.1:8002/none').catch(e => String(e))").await?;
//! let reqs = page.wait_network_settled("127.0.0.1:8002", Duration::from_secs(10)).await?;
//! let cors = reqs[0].failed.as_ref().and_then(|f| f.cors_error.clone());
//! assert_eq!(cors.as_deref(), Some("MissingAllowOriginHeader"));
//! browser.close().await?;
//! # Ok(()) }
//! ```
//!
//! Chromium is found with [`find_chromium`]; when it is missing, the error says
//! how to install it. The crate never skips anything silently: callers decide.
//!
//! It turns off Chromium's `IsolateSandboxedIframes` feature, so sandboxed
//! iframes of the page's site share the page's process and DevTools session:
//! see `DISABLED_FEATURES` in `browser.rs` for why.
//!
//! For CORS Lab's own page, [`read_card`] reads what a scenario card says
//! about its last run ([`CardVerdict`]).
//!
//! Things this crate deliberately never does, because either one disables
//! Chromium's preflight cache: enable request interception, or send
//! `Network.setCacheDisabled {cacheDisabled: true}`.

mod browser;
mod card;
mod children;
mod chromium;
mod error;
mod page;
mod recorder;

pub use browser::Browser;
pub use card::{read_card, CardVerdict};
pub use children::ChildTarget;
pub use chromium::{find_chromium, INSTALL_HINT};
pub use error::{HarnessError, Result};
pub use page::LabPage;
pub use recorder::{ConsoleEntry, Failure, NetworkRequest};

/// The `chromiumoxide` version this crate is built on, for callers that need
/// the escape hatch [`LabPage::cdp_page`].
pub use chromiumoxide;
