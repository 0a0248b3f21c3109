//! The error type of the harness.
//!
//! Every fallible function returns [`HarnessError`]; its `Display` text is meant
//! to be read in a failing test's output, so it says what was being attempted.

/// Everything that can go wrong while driving the browser.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// No Chromium binary was found; the message says how to install one.
    #[error("{0}")]
    ChromiumNotFound(String),
    /// Chromium could not be started or configured.
    #[error("launching Chromium failed: {0}")]
    Launch(String),
    /// A DevTools protocol command failed.
    #[error("DevTools protocol error: {0}")]
    Cdp(#[from] chromiumoxide::error::CdpError),
    /// Page JavaScript threw (or a promise it returned rejected).
    #[error("JavaScript error: {0}")]
    Js(String),
    /// No element matches a CSS selector.
    #[error("no element matches CSS selector `{0}`")]
    NoElement(String),
    /// A wait did not reach its condition in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// A file could not be written (screenshot, event dump) or created (profile dir).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// `Result` with [`HarnessError`].
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
