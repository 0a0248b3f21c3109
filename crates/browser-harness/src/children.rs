//! Recording the child targets of a page: out-of-process iframes (e.g. a
//! cross-site iframe, sandboxed or not) and dedicated workers.
//!
//! Chromium runs such frames and workers as separate DevTools targets. Their
//! `Network` and `Log` events are sent on the child target's own session, so
//! the page session that [`crate::LabPage`] listens to never sees them.
//!
//! `chromiumoxide` 0.9.1 does auto-attach to child targets (it sends
//! `Target.setAutoAttach {autoAttach, waitForDebuggerOnStart, flatten}` on every
//! page session), but it only resumes them (`Runtime.runIfWaitingForDebugger`):
//! it never enables `Network`/`Log` on the child sessions, its handler does not
//! track those sessions (so their events reach only browser-wide listeners,
//! stripped of the session id that says which page they belong to), a `Page`
//! handle for a non-page target is never serviced, and its public API cannot
//! send a command on an arbitrary session.
//!
//! So each page gets its own second DevTools connection (chromiumoxide's public
//! [`chromiumoxide::Connection`] over the same browser websocket), used only
//! for this:
//!
//! 1. `Target.attachToTarget {targetId: <page>, flatten: true}` gives a second
//!    session on the page (no domain is enabled on it, so the page's own events
//!    are not recorded twice);
//! 2. on it, `Target.setAutoAttach {autoAttach: true, waitForDebuggerOnStart:
//!    true, flatten: true}`;
//! 3. for every `Target.attachedToTarget` (on the page session or, for nested
//!    frames and workers, on a child session): `Network.enable`, `Log.enable`
//!    and the same `Target.setAutoAttach` on the child session, and only once
//!    those have been answered, `Runtime.runIfWaitingForDebugger`.
//!
//! A child that is attached waiting (`waitingForDebugger: true`: a frame whose
//! navigation has a network response, a dedicated worker) stays paused until
//! *every* DevTools client that asked for it has resumed it, so it cannot make
//! its first request before `Network.enable` took effect, even though
//! chromiumoxide resumes it on its own connection right away. (Checked by
//! delaying the resume by 3 s: the child's first fetch waited for it.)
//!
//! Limit: an out-of-process frame that commits without a network request
//! (`srcdoc`, `about:blank`, `data:`) is attached only after it started running
//! (`waitingForDebugger: false`), so its first requests can be missed (its
//! console entries are not: `Log.enable` replays them). That is why
//! [`crate::Browser`] keeps sandboxed iframes in their parent's process (see
//! `DISABLED_FEATURES` there): the usual case, a sandboxed `srcdoc` iframe, is
//! then recorded on the page's own session.
//!
//! Neither request interception nor `Network.setCacheDisabled` is used here
//! either (both would turn off the preflight cache).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
};
use chromiumoxide::cdp::browser_protocol::target::SessionId;
use chromiumoxide::error::CdpError;
use chromiumoxide::types::{CallId, EventMessage, Message, Method, MethodId};
use chromiumoxide::Connection;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{HarnessError, Result};
use crate::recorder::Recorder;

/// How long a command on the watcher connection may take before it counts as
/// failed. Generous: a child that is never resumed would hang.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// A child target of a page (an out-of-process iframe or a worker) whose
/// Network and Log events are recorded along with the page's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildTarget {
    /// DevTools target id (for an out-of-process iframe, also its frame id).
    pub target_id: String,
    /// Target type as DevTools reports it: `"iframe"`, `"worker"`, …
    pub kind: String,
    /// Latest known URL (empty while a frame's first navigation is in flight).
    pub url: String,
    /// Target id of the target it was attached from (the page, or a parent
    /// iframe for nested ones).
    pub parent_target_id: String,
    /// `Target.detachedFromTarget` was seen (frame removed, worker ended…).
    pub detached: bool,
}

/// An event as read from the websocket: method, session, raw params.
#[derive(Debug, Deserialize)]
struct RawEvent {
    method: MethodId,
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
    #[serde(default)]
    params: Value,
}

impl Method for RawEvent {
    fn identifier(&self) -> MethodId {
        self.method.clone()
    }
}

impl EventMessage for RawEvent {
    fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }
}

/// A command for the connection task.
struct Call {
    method: &'static str,
    session: Option<String>,
    params: Value,
    reply: oneshot::Sender<std::result::Result<Value, String>>,
}

/// Sends commands over the watcher connection.
#[derive(Clone)]
struct Client {
    calls: mpsc::UnboundedSender<Call>,
}

impl Client {
    async fn call(
        &self,
        method: &'static str,
        session: Option<&str>,
        params: Value,
    ) -> std::result::Result<Value, String> {
        let (reply, rx) = oneshot::channel();
        self.calls
            .send(Call {
                method,
                session: session.map(str::to_string),
                params,
                reply,
            })
            .map_err(|_| "DevTools connection closed".to_string())?;
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("DevTools connection closed".to_string()),
            Err(_) => Err(format!("no answer within {COMMAND_TIMEOUT:?}")),
        }
    }
}

/// Records the child targets of one page into its recorder. Stops (and closes
/// its DevTools connection, which releases any child still held) when dropped.
pub(crate) struct ChildWatcher {
    connection: JoinHandle<()>,
    events: JoinHandle<()>,
}

impl Drop for ChildWatcher {
    fn drop(&mut self) {
        self.events.abort();
        self.connection.abort();
    }
}

impl ChildWatcher {
    /// Opens a second DevTools connection to `ws_url`, attaches to the page
    /// target `page_target_id` and auto-attaches to its children. Returns once
    /// auto-attach is in effect: children created after that are recorded from
    /// their first request on.
    pub(crate) async fn start(
        ws_url: &str,
        page_target_id: &str,
        recorder: Arc<Mutex<Recorder>>,
    ) -> Result<Self> {
        let conn = Connection::<RawEvent>::connect(ws_url).await?;
        let (calls_tx, calls_rx) = mpsc::unbounded_channel();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let connection = tokio::spawn(drive(conn, calls_rx, events_tx));
        let client = Client { calls: calls_tx };
        let setup = async {
            let attached = client
                .call(
                    "Target.attachToTarget",
                    None,
                    json!({ "targetId": page_target_id, "flatten": true }),
                )
                .await?;
            let session = attached
                .get("sessionId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("Target.attachToTarget answered {attached}"))?
                .to_string();
            let events = tokio::spawn(
                Children {
                    client: client.clone(),
                    recorder,
                    sessions: HashMap::from([(session.clone(), page_target_id.to_string())]),
                    children: HashSet::new(),
                }
                .run(events_rx),
            );
            // From here on, children (including ones that already exist) are
            // reported to the events task as `Target.attachedToTarget`.
            if let Err(e) = client
                .call("Target.setAutoAttach", Some(&session), auto_attach())
                .await
            {
                events.abort();
                return Err(e);
            }
            Ok(events)
        };
        match setup.await {
            Ok(events) => Ok(ChildWatcher { connection, events }),
            Err(e) => {
                connection.abort();
                Err(HarnessError::Cdp(CdpError::msg(format!(
                    "watching the child targets (iframes, workers) of page {page_target_id}: {e}"
                ))))
            }
        }
    }
}

fn auto_attach() -> Value {
    json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true })
}

/// Owns the connection: submits commands, routes answers to their callers and
/// events to the events task. Ends when the websocket closes.
async fn drive(
    mut conn: Connection<RawEvent>,
    mut calls: mpsc::UnboundedReceiver<Call>,
    events: mpsc::UnboundedSender<RawEvent>,
) {
    type Reply = oneshot::Sender<std::result::Result<Value, String>>;
    let mut pending: HashMap<CallId, Reply> = HashMap::new();
    let mut calls_open = true;
    loop {
        tokio::select! {
            call = calls.recv(), if calls_open => match call {
                Some(Call { method, session, params, reply }) => {
                    match conn.submit_command(Cow::Borrowed(method), session.map(SessionId::new), params) {
                        Ok(id) => {
                            pending.insert(id, reply);
                        }
                        Err(e) => {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                }
                None => calls_open = false,
            },
            // `Connection` sends queued commands while it is polled here.
            msg = conn.next() => match msg {
                Some(Ok(Message::Response(resp))) => {
                    if let Some(reply) = pending.remove(&resp.id) {
                        let _ = reply.send(match resp.error {
                            Some(e) => Err(format!("{} ({})", e.message, e.code)),
                            None => Ok(resp.result.unwrap_or(Value::Null)),
                        });
                    }
                }
                Some(Ok(Message::Event(event))) => {
                    if events.send(event).is_err() {
                        return;
                    }
                }
                // A message that is neither a response nor an event: skip it.
                Some(Err(CdpError::InvalidMessage(..))) => {}
                Some(Err(_)) | None => return,
            },
        }
    }
}

/// State of the events task: the sessions of this connection and what they are.
struct Children {
    client: Client,
    recorder: Arc<Mutex<Recorder>>,
    /// Session id -> target id, for the page session and every child session.
    sessions: HashMap<String, String>,
    /// The child sessions (whose Network/Log events are recorded).
    children: HashSet<String>,
}

impl Children {
    async fn run(mut self, mut events: mpsc::UnboundedReceiver<RawEvent>) {
        while let Some(event) = events.recv().await {
            // Only events of this connection's page session and its descendants.
            let Some(session) = event.session_id.clone() else {
                continue;
            };
            if !self.sessions.contains_key(&session) {
                continue;
            }
            match event.method.as_ref() {
                "Target.attachedToTarget" => self.on_attached(&session, &event.params),
                "Target.detachedFromTarget" => self.on_detached(&event.params),
                // Sent for auto-attached children, e.g. once a frame has committed its URL.
                "Target.targetInfoChanged" => {
                    let info = &event.params["targetInfo"];
                    if let (Some(id), Some(url)) = (info["targetId"].as_str(), info["url"].as_str())
                    {
                        self.lock().on_child_info_changed(id, url);
                    }
                }
                _ if self.children.contains(&session) => self.record(&session, event),
                _ => {}
            }
        }
    }

    fn on_attached(&mut self, parent_session: &str, params: &Value) {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let info = &params["targetInfo"];
        let child_session = text(&params["sessionId"]);
        let child = ChildTarget {
            target_id: text(&info["targetId"]),
            kind: text(&info["type"]),
            url: text(&info["url"]),
            parent_target_id: self.sessions[parent_session].clone(),
            detached: false,
        };
        let waiting = params["waitingForDebugger"].as_bool().unwrap_or(false);
        self.sessions
            .insert(child_session.clone(), child.target_id.clone());
        self.children.insert(child_session.clone());
        self.lock().on_child_attached(child.clone(), waiting);

        // Enable recording on the child, then let it run. Spawned, so that the
        // events of other targets keep being recorded meanwhile.
        let client = self.client.clone();
        let recorder = Arc::clone(&self.recorder);
        tokio::spawn(async move {
            let s = Some(child_session.as_str());
            let (network, log, attach) = futures::join!(
                client.call("Network.enable", s, json!({})),
                client.call("Log.enable", s, json!({})),
                client.call("Target.setAutoAttach", s, auto_attach()),
            );
            let resumed = if waiting {
                Some(
                    client
                        .call("Runtime.runIfWaitingForDebugger", s, json!({}))
                        .await,
                )
            } else {
                None
            };
            // Errors are expected for some target types (e.g. no Log domain):
            // note them in the event log instead of failing.
            let mut errors = serde_json::Map::new();
            for (name, result) in [
                ("Network.enable", Some(network)),
                ("Log.enable", Some(log)),
                ("Target.setAutoAttach", Some(attach)),
                ("Runtime.runIfWaitingForDebugger", resumed),
            ] {
                if let Some(Err(e)) = result {
                    errors.insert(name.to_string(), Value::String(e));
                }
            }
            if !errors.is_empty() {
                let mut r = recorder.lock().unwrap_or_else(|e| e.into_inner());
                r.on_child_setup_errors(&child.target_id, Value::Object(errors));
            }
        });
    }

    fn on_detached(&mut self, params: &Value) {
        let Some(session) = params["sessionId"].as_str() else {
            return;
        };
        self.children.remove(session);
        if let Some(target_id) = self.sessions.remove(session) {
            self.lock().on_child_detached(&target_id);
        }
    }

    /// Feeds a Network or Log event of a child session to the recorder.
    fn record(&self, session: &str, event: RawEvent) {
        let target = self.sessions[session].as_str();
        let mut r = self.lock();
        let result = match event.method.as_ref() {
            "Network.requestWillBeSent" => {
                parse::<EventRequestWillBeSent>(event.params).map(|e| r.on_request_will_be_sent(&e))
            }
            "Network.responseReceived" => {
                parse::<EventResponseReceived>(event.params).map(|e| r.on_response_received(&e))
            }
            "Network.loadingFinished" => {
                parse::<EventLoadingFinished>(event.params).map(|e| r.on_loading_finished(&e))
            }
            "Network.loadingFailed" => {
                parse::<EventLoadingFailed>(event.params).map(|e| r.on_loading_failed(&e))
            }
            "Log.entryAdded" => parse::<EventEntryAdded>(event.params).map(|e| r.on_log_entry(&e)),
            _ => return,
        };
        match result {
            Ok(()) => r.tag_last_event("target", target),
            Err(e) => r.on_unparsed_event(&event.method, target, &e.to_string()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn parse<T: DeserializeOwned>(params: Value) -> serde_json::Result<T> {
    serde_json::from_value(params)
}
