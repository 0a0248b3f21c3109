//! Launching and shutting down a headless Chromium for one test.
//!
//! Each [`Browser`] is its own Chromium process with a fresh, empty profile
//! (`--user-data-dir` in a temp directory, removed on drop), so tests never
//! share cookies or the preflight cache. Flags are the ones known to work on
//! the lab's machines (see `CORS-NOTES.md` §6).

use std::time::{Duration, Instant};

use chromiumoxide::browser::BrowserConfig;
use futures::StreamExt;
use tempfile::TempDir;

use crate::chromium::find_chromium;
use crate::error::{HarnessError, Result};
use crate::page::LabPage;

/// Extra Chromium flags, without leading dashes (chromiumoxide adds `--`).
/// `--headless` and `--no-sandbox` come from the builder; chromiumoxide's own
/// defaults add a few more (e.g. `--enable-automation`, `--disable-extensions`).
const EXTRA_ARGS: [&str; 9] = [
    "disable-gpu",
    "no-first-run",
    "disable-background-networking",
    "disable-component-update",
    "disable-sync",
    "disable-quic",
    // Several tabs are driven at once: background tabs must keep rendering and running timers,
    // or clicks in them wait for a frame that never comes.
    "disable-background-timer-throttling",
    "disable-renderer-backgrounding",
    "disable-backgrounding-occluded-windows",
];

/// Chromium features turned off (`--disable-features`).
///
/// `IsolateSandboxedIframes` (on by default since Chromium 118) puts every
/// sandboxed iframe without `allow-same-origin` into its own process, so a
/// sandboxed `srcdoc` iframe becomes a separate DevTools target. Such a frame
/// commits without a network request, and DevTools cannot hold it until a
/// client has enabled `Network` on it (it is auto-attached with
/// `waitingForDebugger: false`, after it has started running): its first
/// requests, the very ones a CORS test makes, were lost in most runs here
/// (Chromium 156). With the feature off, sandboxed iframes of the page's own site stay in
/// the page's process and are recorded on the page's session from their first
/// request. CORS is unaffected: the opaque origin (`Origin: null`) comes from
/// the sandbox flags, not from the process. Cross-site iframes are still
/// out-of-process; [`crate::LabPage`] attaches to those (they do wait).
const DISABLED_FEATURES: &str = "IsolateSandboxedIframes";

/// Window size; the page viewport is the window (no device-metrics emulation).
const WINDOW: (u32, u32) = (1280, 1600);

/// A running headless Chromium.
///
/// Prefer [`Browser::close`] at the end of a test; dropping a `Browser` kills
/// the process instead. Either way the temporary profile is removed.
pub struct Browser {
    inner: chromiumoxide::Browser,
    handler: tokio::task::JoinHandle<()>,
    closed: bool,
    // Dropped last, after the process is gone.
    _profile: TempDir,
}

impl Browser {
    /// Launches headless Chromium (found by [`find_chromium`]) with a fresh
    /// profile and a 1280x1600 window, and starts polling its DevTools
    /// connection. Needs a Tokio runtime.
    ///
    /// Request interception and cache disabling are never turned on, so the
    /// preflight cache behaves as in a normal browser.
    pub async fn launch() -> Result<Browser> {
        let executable = find_chromium()?;
        let profile = tempfile::Builder::new()
            .prefix("cors-lab-chromium-")
            .tempdir()?;
        let config = BrowserConfig::builder()
            .chrome_executable(&executable)
            .no_sandbox()
            .window_size(WINDOW.0, WINDOW.1)
            .viewport(None)
            .user_data_dir(profile.path())
            .args(EXTRA_ARGS)
            // Merged by chromiumoxide with its own `--disable-features` values (a
            // second `--disable-features=` flag would silently override the first).
            .arg(("disable-features", DISABLED_FEATURES))
            .launch_timeout(Duration::from_secs(30))
            .build()
            .map_err(HarnessError::Launch)?;
        let (inner, mut handler) = chromiumoxide::Browser::launch(config)
            .await
            .map_err(|e| HarnessError::Launch(format!("{} ({e})", executable.display())))?;
        // Nothing happens unless the handler is polled. Its errors (e.g. events
        // that fail to deserialize) are per message: keep polling until the
        // connection ends.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Ok(Browser {
            inner,
            handler,
            closed: false,
            _profile: profile,
        })
    }

    /// Opens a new tab, starts recording its Network and Log events (and those
    /// of its out-of-process iframes and workers), then navigates to `url` and
    /// waits for it to load.
    pub async fn new_page(&self, url: &str) -> Result<LabPage> {
        let page = self.inner.new_page("about:blank").await?;
        LabPage::open(page, self.inner.websocket_address(), url).await
    }

    /// [`new_page`](Self::new_page) for the lab's page, once its script has set the page up
    /// (`<body data-ready="true">`: the policy is shown and the forms are wired).
    pub async fn open_lab_page(&self, url: &str, timeout: Duration) -> Result<LabPage> {
        let page = self.new_page(url).await?;
        page.wait_for("document.body.dataset.ready === 'true'", timeout)
            .await?;
        Ok(page)
    }

    /// Asks Chromium to exit (`Browser.close`) and waits for the process,
    /// killing it if it takes longer than 5 s. Removes the profile directory.
    pub async fn close(mut self) -> Result<()> {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.inner.close()).await;
        if tokio::time::timeout(Duration::from_secs(5), self.inner.wait())
            .await
            .is_err()
        {
            let _ = self.inner.kill().await;
        }
        self.closed = true;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            if let Some(child) = self.inner.get_mut_child() {
                let child = child.as_mut_inner();
                let _ = child.start_kill();
                // Reap it so the profile directory is not in use when removed.
                let deadline = Instant::now() + Duration::from_secs(2);
                while Instant::now() < deadline {
                    match child.try_wait() {
                        Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                        _ => break,
                    }
                }
            }
        }
        self.handler.abort();
    }
}
