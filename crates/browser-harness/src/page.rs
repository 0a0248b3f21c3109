//! A browser tab under test: run page script, click, wait, take screenshots,
//! and read what the browser recorded for this tab (requests, preflights, CORS
//! failures, console messages).
//!
//! `page.evaluate_json(...)` can return before the DevTools network events of
//! the requests it made have arrived, so assert on requests only after
//! [`LabPage::wait_network_settled`], and on console text after
//! [`LabPage::wait_console`].
//!
//! Requests and console messages of the page's frames and workers are
//! recorded too. Same-process iframes (including sandboxed `srcdoc` ones, whose
//! requests carry `Origin: null`) are part of the page's own target;
//! out-of-process (cross-site) iframes and dedicated workers are separate
//! DevTools targets, which the harness attaches to, over a second DevTools
//! connection, before they start; see [`LabPage::child_targets`].

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::log::{self, EventEntryAdded};
use chromiumoxide::cdp::browser_protocol::network::{
    self, EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{EvaluateParams, ExceptionDetails};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use futures::stream::{BoxStream, StreamExt};
use serde_json::Value;

use crate::children::{ChildTarget, ChildWatcher};
use crate::error::{HarnessError, Result};
use crate::recorder::{ConsoleEntry, NetworkRequest, Recorder};

/// Interval between polls in the `wait_*` methods.
const POLL: Duration = Duration::from_millis(25);

/// How long a settled network snapshot must stay unchanged before
/// [`LabPage::wait_network_settled`] trusts it (events of different kinds
/// reach the recorder through separate channels and can straggle).
const SETTLE_GRACE: Duration = Duration::from_millis(100);

/// A page (tab) whose network and log events are being recorded.
///
/// Created by [`crate::Browser::new_page`]. Recording stops when the `LabPage`
/// is dropped.
///
/// What is recorded covers the page's own target (with its same-process
/// iframes, e.g. sandboxed `srcdoc` ones) and its child targets
/// (out-of-process iframes, dedicated workers): the query and wait methods and
/// the event dump see all of them.
pub struct LabPage {
    page: Page,
    recorder: Arc<Mutex<Recorder>>,
    task: tokio::task::JoinHandle<()>,
    // Stops recording the child targets (and closes its connection) on drop.
    _children: ChildWatcher,
}

impl Drop for LabPage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum Event {
    RequestWillBeSent(Arc<EventRequestWillBeSent>),
    ResponseReceived(Arc<EventResponseReceived>),
    LoadingFinished(Arc<EventLoadingFinished>),
    LoadingFailed(Arc<EventLoadingFailed>),
    Log(Arc<EventEntryAdded>),
}

impl LabPage {
    /// Starts recording on `page` (expected to be on `about:blank`) and, over
    /// a second DevTools connection to `ws_url`, on its child targets; then
    /// navigates it to `url`.
    pub(crate) async fn open(page: Page, ws_url: &str, url: &str) -> Result<Self> {
        let streams: Vec<BoxStream<'static, Event>> = vec![
            page.event_listener::<EventRequestWillBeSent>()
                .await?
                .map(Event::RequestWillBeSent)
                .boxed(),
            page.event_listener::<EventResponseReceived>()
                .await?
                .map(Event::ResponseReceived)
                .boxed(),
            page.event_listener::<EventLoadingFinished>()
                .await?
                .map(Event::LoadingFinished)
                .boxed(),
            page.event_listener::<EventLoadingFailed>()
                .await?
                .map(Event::LoadingFailed)
                .boxed(),
            page.event_listener::<EventEntryAdded>()
                .await?
                .map(Event::Log)
                .boxed(),
        ];
        let recorder = Arc::new(Mutex::new(Recorder::default()));
        let children =
            ChildWatcher::start(ws_url, page.target_id().inner(), Arc::clone(&recorder)).await?;
        let sink = Arc::clone(&recorder);
        let task = tokio::spawn(async move {
            let mut events = futures::stream::select_all(streams);
            while let Some(event) = events.next().await {
                let mut r = sink.lock().unwrap_or_else(|e| e.into_inner());
                match event {
                    Event::RequestWillBeSent(e) => r.on_request_will_be_sent(&e),
                    Event::ResponseReceived(e) => r.on_response_received(&e),
                    Event::LoadingFinished(e) => r.on_loading_finished(&e),
                    Event::LoadingFailed(e) => r.on_loading_failed(&e),
                    Event::Log(e) => r.on_log_entry(&e),
                }
            }
        });
        let lab = LabPage {
            page,
            recorder,
            task,
            _children: children,
        };
        // chromiumoxide already enables Network for every page; enabling it
        // again is harmless and makes the dependency explicit. Log is not
        // enabled by chromiumoxide. (No interception, no setCacheDisabled(true).)
        lab.page.execute(network::EnableParams::default()).await?;
        lab.page.execute(log::EnableParams::default()).await?;
        lab.goto(url).await?;
        Ok(lab)
    }

    /// Navigates to `url` and waits for the load. Recording continues (the
    /// records of the previous document are kept).
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.page.goto(url).await?;
        Ok(())
    }

    /// Evaluates `js` in the page (`Runtime.evaluate` with `awaitPromise` and
    /// `returnByValue`) and returns the value as JSON (`undefined` becomes
    /// `null`). A thrown exception or rejected promise is [`HarnessError::Js`].
    ///
    /// Note that `fetch` rejections are usually better turned into values in
    /// the script (`.catch(e => String(e))`) so the test can assert on them.
    pub async fn evaluate_json(&self, js: &str) -> Result<Value> {
        let params = EvaluateParams::builder()
            .expression(js)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .map_err(HarnessError::Js)?;
        let res = self.page.execute(params).await?.result;
        if let Some(ex) = res.exception_details {
            return Err(HarnessError::Js(describe_exception(&ex)));
        }
        Ok(res.result.value.unwrap_or(Value::Null))
    }

    /// Closes the tab.
    pub async fn close(self) -> Result<()> {
        self.page.clone().close().await?;
        Ok(())
    }

    /// Clicks the first element matching the CSS `selector` (scrolled into
    /// view, real mouse events). Input reaches only the tab in front: drive one
    /// tab per browser at a time (use several browsers for parallel work).
    pub async fn click(&self, selector: &str) -> Result<()> {
        let element = self
            .page
            .find_element(selector)
            .await
            .map_err(|_| HarnessError::NoElement(selector.to_string()))?;
        element.click().await?;
        Ok(())
    }

    /// Polls the JavaScript expression `condition` (which may also evaluate to
    /// a promise) until it is truthy, or fails after `timeout`. Exceptions while
    /// polling are retried; the last one is reported on timeout.
    pub async fn wait_for(&self, condition: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let js = format!("Promise.resolve(({condition})).then(v => !!v)");
        let mut last_error = None;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining, self.evaluate_json(&js)).await {
                Ok(Ok(Value::Bool(true))) => return Ok(()),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => last_error = Some(e.to_string()),
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                let detail = last_error
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default();
                return Err(HarnessError::Timeout(format!(
                    "`{condition}` was not truthy within {timeout:?}{detail}"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Saves a PNG screenshot of the viewport to `path`. (The window is
    /// 1280x1600; Chromium 156's headless mode leaves a 1280x1457 viewport.)
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> Result<()> {
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        self.page.save_screenshot(params, path.as_ref()).await?;
        Ok(())
    }

    /// Snapshot of every recorded request (preflights included), in the order
    /// first seen.
    pub fn requests(&self) -> Vec<NetworkRequest> {
        self.lock().requests().to_vec()
    }

    /// Snapshot of the recorded requests whose URL contains `url_substring`.
    pub fn requests_matching(&self, url_substring: &str) -> Vec<NetworkRequest> {
        self.lock()
            .requests()
            .iter()
            .filter(|r| r.url.contains(url_substring))
            .cloned()
            .collect()
    }

    /// Waits until at least one request whose URL contains `url_substring` was
    /// recorded and every such request has finished or failed, and that state
    /// has held unchanged for 100 ms; returns those requests. A preflight also
    /// counts as settled once its actual request has settled.
    ///
    /// Call it after the script that made the requests has completed (e.g.
    /// after an awaited `evaluate_json`); it cannot know about requests that
    /// have not started yet.
    pub async fn wait_network_settled(
        &self,
        url_substring: &str,
        timeout: Duration,
    ) -> Result<Vec<NetworkRequest>> {
        let deadline = Instant::now() + timeout;
        let mut stable: Option<(Vec<NetworkRequest>, Instant)> = None;
        loop {
            let all = self.requests();
            let matching: Vec<NetworkRequest> = all
                .iter()
                .filter(|r| r.url.contains(url_substring))
                .cloned()
                .collect();
            let settled = |r: &NetworkRequest| {
                r.is_settled()
                    || r.preflight_for
                        .as_ref()
                        .is_some_and(|actual| all.iter().any(|a| &a.id == actual && a.is_settled()))
            };
            let pending: Vec<&NetworkRequest> = matching.iter().filter(|r| !settled(r)).collect();
            if !matching.is_empty() && pending.is_empty() {
                match &stable {
                    Some((seen, since)) if *seen == matching => {
                        if since.elapsed() >= SETTLE_GRACE || Instant::now() >= deadline {
                            return Ok(matching);
                        }
                    }
                    _ if Instant::now() >= deadline => return Ok(matching),
                    _ => stable = Some((matching, Instant::now())),
                }
            } else {
                stable = None;
                if Instant::now() >= deadline {
                    let what = if matching.is_empty() {
                        "no request was recorded".to_string()
                    } else {
                        let list: Vec<String> = pending
                            .iter()
                            .map(|r| format!("{} {} (id {})", r.method, r.url, r.id))
                            .collect();
                        format!("still pending: {}", list.join(", "))
                    };
                    return Err(HarnessError::Timeout(format!(
                        "network for `{url_substring}` not settled within {timeout:?}: {what}"
                    )));
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Snapshot of all console (`Log.entryAdded`) entries.
    pub fn console_entries(&self) -> Vec<ConsoleEntry> {
        self.lock().console().to_vec()
    }

    /// Snapshot of the console entries whose text contains `substring`.
    pub fn console_matching(&self, substring: &str) -> Vec<ConsoleEntry> {
        self.lock()
            .console()
            .iter()
            .filter(|c| c.text.contains(substring))
            .cloned()
            .collect()
    }

    /// Waits until a console entry whose text contains `substring` is recorded
    /// and returns the first one. CORS entries carry no request id and their
    /// `url` is the page's, so match on the request URL inside the text.
    pub async fn wait_console(&self, substring: &str, timeout: Duration) -> Result<ConsoleEntry> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(entry) = self.console_matching(substring).into_iter().next() {
                return Ok(entry);
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout(format!(
                    "no console entry containing {substring:?} within {timeout:?}"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Snapshot of the child targets attached so far (out-of-process iframes,
    /// dedicated workers), whose requests and console entries are recorded
    /// with the page's. A same-process iframe is part of the page's own target
    /// and is not listed.
    pub fn child_targets(&self) -> Vec<ChildTarget> {
        self.lock().children().to_vec()
    }

    /// The raw event log, one JSON object per line, in chronological order.
    /// Events of a child target carry its target id in a `target` field.
    pub fn events(&self) -> Vec<String> {
        self.lock().event_lines()
    }

    /// Writes [`LabPage::events`] to `path`, one line each (for failing tests).
    pub fn dump_events(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut text = self.events().join("\n");
        text.push('\n');
        std::fs::write(path, text)?;
        Ok(())
    }

    /// The underlying `chromiumoxide` page, for anything this API lacks. Do not
    /// enable request interception or disable the cache through it: both turn
    /// off Chromium's preflight cache.
    pub fn cdp_page(&self) -> &Page {
        &self.page
    }

    fn lock(&self) -> MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn describe_exception(ex: &ExceptionDetails) -> String {
    ex.exception
        .as_ref()
        .and_then(|o| {
            o.description
                .clone()
                .or_else(|| o.value.as_ref().map(|v| v.to_string()))
        })
        .unwrap_or_else(|| ex.text.clone())
}
