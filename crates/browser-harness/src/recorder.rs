//! Turns DevTools events into plain records: one [`NetworkRequest`] per request
//! (preflights included), one [`ConsoleEntry`] per browser log message, and a
//! raw chronological event log for dumping when a test fails.
//!
//! Events of different kinds reach the recorder through separate channels, so
//! they may arrive out of order (a `loadingFailed` before its
//! `requestWillBeSent`, or before the `requestWillBeSent` of the redirect hop
//! it ends). The recorder therefore updates requests by id, creating a
//! placeholder when needed, and moves what ends a request onto each new hop.
//! The raw log keeps arrival order.

use std::collections::HashMap;

use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
    InitiatorType,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::children::ChildTarget;

/// Why a request failed (`Network.loadingFailed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Chromium's net error, e.g. `net::ERR_FAILED`.
    pub error_text: String,
    /// `corsErrorStatus.corsError` as the protocol spells it, e.g.
    /// `"MissingAllowOriginHeader"` or `"PreflightMissingAllowOriginHeader"`.
    pub cors_error: Option<String>,
    /// `corsErrorStatus.failedParameter` (e.g. the offending method or header
    /// name); `None` when Chromium sent none or an empty string.
    pub failed_parameter: Option<String>,
}

/// One request as seen by the browser. A redirect chain shares one request id;
/// each hop is its own `NetworkRequest` (earlier hops carry the redirect status
/// and are `finished`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkRequest {
    /// DevTools request id.
    pub id: String,
    /// Request URL.
    pub url: String,
    /// HTTP method as sent (`OPTIONS` for a preflight).
    pub method: String,
    /// `type` of `Network.requestWillBeSent` (`"Fetch"`, `"Document"`, `"Other"` for a preflight…).
    pub resource_type: Option<String>,
    /// `initiator.type` (`"script"`, `"parser"`, `"preflight"`, `"other"`…).
    pub initiator_type: String,
    /// True when `initiator.type == "preflight"`.
    pub is_preflight: bool,
    /// For a preflight: the id of the actual request it was sent for.
    pub preflight_for: Option<String>,
    /// HTTP status from `Network.responseReceived` (or the redirect response).
    pub status: Option<i64>,
    /// `type` of `Network.responseReceived` (`"Preflight"` for a preflight).
    pub response_type: Option<String>,
    /// `Network.loadingFinished` was seen (or this hop was redirected).
    pub finished: bool,
    /// `Network.loadingFailed` was seen.
    pub failed: Option<Failure>,
}

impl NetworkRequest {
    /// Finished or failed.
    pub fn is_settled(&self) -> bool {
        self.finished || self.failed.is_some()
    }

    /// Moves onto this hop what ends a request — its answer (`responseReceived`),
    /// `loadingFinished`, `loadingFailed` — from `earlier`, where it was recorded
    /// before this hop was known: a placeholder, or the hop before a redirect (a
    /// redirect's own response comes inside `requestWillBeSent`, never as a
    /// `responseReceived`, so an answer on that hop is the last hop's).
    fn take_end_from(&mut self, earlier: &mut NetworkRequest) {
        if earlier.response_type.is_some() {
            self.status = earlier.status.take();
            self.response_type = earlier.response_type.take();
        }
        self.finished = std::mem::take(&mut earlier.finished);
        self.failed = earlier.failed.take();
    }

    fn placeholder(id: &str) -> Self {
        NetworkRequest {
            id: id.to_string(),
            url: String::new(),
            method: String::new(),
            resource_type: None,
            initiator_type: String::new(),
            is_preflight: false,
            preflight_for: None,
            status: None,
            response_type: None,
            finished: false,
            failed: None,
        }
    }
}

/// One `Log.entryAdded` message (what DevTools shows in the console for the
/// browser itself, e.g. CORS errors; not `console.log` calls from script).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleEntry {
    /// `source`, e.g. `"network"`, `"javascript"`.
    pub source: String,
    /// `category`, e.g. `"cors"`, when Chromium sets one.
    pub category: Option<String>,
    /// `level`: `"verbose"`, `"info"`, `"warning"` or `"error"`.
    pub level: String,
    /// The message text.
    pub text: String,
    /// `url`; for a CORS error this is the page's URL, not the request's.
    pub url: Option<String>,
}

/// Everything recorded for one page: its own target and its child targets
/// (out-of-process iframes, workers), in one place.
#[derive(Debug, Default, Clone)]
pub(crate) struct Recorder {
    requests: Vec<NetworkRequest>,
    /// Request id -> index in `requests` of its latest hop.
    latest: HashMap<String, usize>,
    console: Vec<ConsoleEntry>,
    children: Vec<ChildTarget>,
    events: Vec<RawEvent>,
    /// Wall-clock seconds minus monotonic seconds, learnt from `requestWillBeSent`.
    clock_offset: Option<f64>,
}

#[derive(Debug, Clone)]
struct RawEvent {
    seq: usize,
    time: Clock,
    name: &'static str,
    fields: Value,
}

#[derive(Debug, Clone, Copy)]
enum Clock {
    /// Network events: `MonotonicTime`, seconds.
    Monotonic(f64),
    /// Log events: `Runtime.Timestamp`, milliseconds since the epoch.
    WallMs(f64),
}

impl Clock {
    /// The local wall clock, for events that carry no timestamp.
    fn now() -> Clock {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Clock::WallMs(since_epoch.as_secs_f64() * 1000.0)
    }
}

/// The protocol's name for an enum value (what serde serializes it to).
fn protocol_name<T: Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => format!("{value:?}"),
    }
}

impl Recorder {
    /// All requests, in the order they were first seen.
    pub fn requests(&self) -> &[NetworkRequest] {
        &self.requests
    }

    /// All console (`Log.entryAdded`) entries, in arrival order.
    pub fn console(&self) -> &[ConsoleEntry] {
        &self.console
    }

    /// The child targets (out-of-process iframes, workers) attached so far.
    pub fn children(&self) -> &[ChildTarget] {
        &self.children
    }

    /// The raw event log, one line per event in arrival order:
    /// `<seq> +<t_ms>ms <Domain.event> {<fields as JSON>}`.
    ///
    /// `t_ms` is the event's own protocol timestamp in milliseconds since the
    /// first event. It is informative only: Chromium stamps events in different
    /// processes, so a `loadingFinished` can carry an earlier time than the
    /// `responseReceived` that preceded it. It is `?` until a
    /// `requestWillBeSent` has related the network and wall clocks.
    pub fn event_lines(&self) -> Vec<String> {
        let wall = |e: &RawEvent| match e.time {
            Clock::WallMs(ms) => Some(ms / 1000.0),
            Clock::Monotonic(s) => self.clock_offset.map(|off| s + off),
        };
        let start = self.events.iter().filter_map(wall).reduce(f64::min);
        self.events
            .iter()
            .map(|e| {
                let t = match (wall(e), start) {
                    (Some(t), Some(start)) => format!("+{:.3}ms", (t - start) * 1000.0),
                    _ => "?".to_string(),
                };
                format!("{:>4} {:>12} {} {}", e.seq, t, e.name, e.fields)
            })
            .collect()
    }

    fn push_event(&mut self, time: Clock, name: &'static str, mut fields: Value) {
        if let Value::Object(map) = &mut fields {
            map.retain(|_, v| !v.is_null());
        }
        let seq = self.events.len();
        self.events.push(RawEvent {
            seq,
            time,
            name,
            fields,
        });
    }

    /// Adds `key: value` to the fields of the event logged last (e.g. which
    /// child target an event came from).
    pub(crate) fn tag_last_event(&mut self, key: &str, value: &str) {
        if let Some(Value::Object(map)) = self.events.last_mut().map(|e| &mut e.fields) {
            map.insert(key.to_string(), Value::String(value.to_string()));
        }
    }

    /// A child target was attached (its events are recorded from now on).
    pub(crate) fn on_child_attached(&mut self, child: ChildTarget, waiting_for_debugger: bool) {
        self.push_event(
            Clock::now(),
            "Target.attachedToTarget",
            json!({
                "targetId": child.target_id,
                "type": child.kind,
                "url": child.url,
                "parent": child.parent_target_id,
                "waitingForDebugger": waiting_for_debugger,
            }),
        );
        self.children.push(child);
    }

    /// A child target was detached (frame removed, worker gone…).
    pub(crate) fn on_child_detached(&mut self, target_id: &str) {
        if let Some(child) = self
            .children
            .iter_mut()
            .rev()
            .find(|c| c.target_id == target_id && !c.detached)
        {
            child.detached = true;
        }
        self.push_event(
            Clock::now(),
            "Target.detachedFromTarget",
            json!({ "targetId": target_id }),
        );
    }

    /// A child target's URL is known or changed (`Target.targetInfoChanged`).
    pub(crate) fn on_child_info_changed(&mut self, target_id: &str, url: &str) {
        let Some(child) = self
            .children
            .iter_mut()
            .rev()
            .find(|c| c.target_id == target_id && !c.detached)
        else {
            return;
        };
        if child.url != url {
            child.url = url.to_string();
            self.push_event(
                Clock::now(),
                "Target.targetInfoChanged",
                json!({ "targetId": target_id, "url": url }),
            );
        }
    }

    /// Commands that enable recording on a child target failed.
    pub(crate) fn on_child_setup_errors(&mut self, target_id: &str, errors: Value) {
        self.push_event(
            Clock::now(),
            "Harness.childSetupFailed",
            json!({ "targetId": target_id, "errors": errors }),
        );
    }

    /// An event of a child target could not be parsed.
    pub(crate) fn on_unparsed_event(&mut self, method: &str, target_id: &str, error: &str) {
        self.push_event(
            Clock::now(),
            "Harness.unparsedEvent",
            json!({ "method": method, "target": target_id, "error": error }),
        );
    }

    /// The latest hop of request `id`, created as a placeholder if unseen.
    fn hop_mut(&mut self, id: &str) -> &mut NetworkRequest {
        let idx = match self.latest.get(id) {
            Some(&i) => i,
            None => {
                self.requests.push(NetworkRequest::placeholder(id));
                let i = self.requests.len() - 1;
                self.latest.insert(id.to_string(), i);
                i
            }
        };
        &mut self.requests[idx]
    }

    pub(crate) fn on_request_will_be_sent(&mut self, ev: &EventRequestWillBeSent) {
        let id = ev.request_id.inner().clone();
        self.clock_offset
            .get_or_insert(ev.wall_time.inner() - ev.timestamp.inner());
        let is_preflight = ev.initiator.r#type == InitiatorType::Preflight;
        let preflight_for = ev
            .initiator
            .request_id
            .as_ref()
            .filter(|_| is_preflight)
            .map(|r| r.inner().clone());
        let record = NetworkRequest {
            id: id.clone(),
            url: ev.request.url.clone(),
            method: ev.request.method.clone(),
            resource_type: ev.r#type.as_ref().map(protocol_name),
            initiator_type: protocol_name(&ev.initiator.r#type),
            is_preflight,
            preflight_for: preflight_for.clone(),
            status: None,
            response_type: None,
            finished: false,
            failed: None,
        };
        match self.latest.get(&id).copied() {
            // Events for this id arrived before its requestWillBeSent: fill the placeholder in.
            Some(i) if self.requests[i].url.is_empty() => {
                let mut placeholder = std::mem::replace(&mut self.requests[i], record);
                self.requests[i].take_end_from(&mut placeholder);
            }
            // Same id again without a redirect: the same request reported twice
            // (e.g. by a frame's parent and by the frame's own target). Keep one record.
            Some(i)
                if ev.redirect_response.is_none()
                    && self.requests[i].url == ev.request.url
                    && self.requests[i].method == ev.request.method => {}
            // Same id again: a redirect hop. Close the previous hop with the redirect status.
            Some(i) => {
                let prev = &mut self.requests[i];
                // Whatever ended the chain belongs to its last hop, yet may have
                // overtaken this requestWillBeSent on its own channel and landed on
                // the previous hop.
                let mut record = record;
                record.take_end_from(prev);
                prev.status = ev.redirect_response.as_ref().map(|r| r.status);
                prev.finished = true;
                self.requests.push(record);
                self.latest.insert(id.clone(), self.requests.len() - 1);
            }
            None => {
                self.requests.push(record);
                self.latest.insert(id.clone(), self.requests.len() - 1);
            }
        }
        self.push_event(
            Clock::Monotonic(*ev.timestamp.inner()),
            "Network.requestWillBeSent",
            json!({
                "id": id,
                "method": ev.request.method,
                "url": ev.request.url,
                "type": ev.r#type.as_ref().map(protocol_name),
                "initiator": protocol_name(&ev.initiator.r#type),
                "preflightFor": preflight_for,
                "redirectStatus": ev.redirect_response.as_ref().map(|r| r.status),
            }),
        );
    }

    pub(crate) fn on_response_received(&mut self, ev: &EventResponseReceived) {
        let id = ev.request_id.inner().clone();
        let kind = protocol_name(&ev.r#type);
        let hop = self.hop_mut(&id);
        hop.status = Some(ev.response.status);
        hop.response_type = Some(kind.clone());
        self.push_event(
            Clock::Monotonic(*ev.timestamp.inner()),
            "Network.responseReceived",
            json!({
                "id": id,
                "status": ev.response.status,
                "type": kind,
                "url": ev.response.url,
            }),
        );
    }

    pub(crate) fn on_loading_finished(&mut self, ev: &EventLoadingFinished) {
        let id = ev.request_id.inner().clone();
        self.hop_mut(&id).finished = true;
        self.push_event(
            Clock::Monotonic(*ev.timestamp.inner()),
            "Network.loadingFinished",
            json!({ "id": id }),
        );
    }

    pub(crate) fn on_loading_failed(&mut self, ev: &EventLoadingFailed) {
        let id = ev.request_id.inner().clone();
        let failure = Failure {
            error_text: ev.error_text.clone(),
            cors_error: ev
                .cors_error_status
                .as_ref()
                .map(|s| protocol_name(&s.cors_error)),
            failed_parameter: ev
                .cors_error_status
                .as_ref()
                .map(|s| s.failed_parameter.clone())
                .filter(|p| !p.is_empty()),
        };
        self.push_event(
            Clock::Monotonic(*ev.timestamp.inner()),
            "Network.loadingFailed",
            json!({
                "id": id,
                "errorText": failure.error_text,
                "corsError": failure.cors_error,
                "failedParameter": failure.failed_parameter,
                "blockedReason": ev.blocked_reason.as_ref().map(protocol_name),
                "canceled": ev.canceled,
            }),
        );
        self.hop_mut(&id).failed = Some(failure);
    }

    pub(crate) fn on_log_entry(&mut self, ev: &EventEntryAdded) {
        let e = &ev.entry;
        let entry = ConsoleEntry {
            source: protocol_name(&e.source),
            category: e.category.as_ref().map(protocol_name),
            level: protocol_name(&e.level),
            text: e.text.clone(),
            url: e.url.clone(),
        };
        self.push_event(
            Clock::WallMs(*e.timestamp.inner()),
            "Log.entryAdded",
            json!({
                "source": entry.source,
                "category": entry.category,
                "level": entry.level,
                "text": entry.text,
                "url": entry.url,
                "networkRequestId": e.network_request_id.as_ref().map(|r| r.inner().clone()),
            }),
        );
        self.console.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).expect("protocol JSON should parse")
    }

    fn rwbs(
        id: &str,
        url: &str,
        method: &str,
        ts: f64,
        initiator: Value,
    ) -> EventRequestWillBeSent {
        ev(json!({
            "requestId": id, "loaderId": "L", "documentURL": "http://localhost:1/",
            "request": {"url": url, "method": method, "headers": {}, "initialPriority": "High",
                        "referrerPolicy": "strict-origin-when-cross-origin"},
            "timestamp": ts, "wallTime": 1000.0 + ts, "initiator": initiator,
            "redirectHasExtraInfo": false, "type": if method == "OPTIONS" { "Other" } else { "Fetch" }
        }))
    }

    #[test]
    fn preflight_and_cors_failure_out_of_order() {
        let mut r = Recorder::default();
        // loadingFailed arrives before requestWillBeSent of the same request.
        r.on_loading_failed(&ev(json!({
            "requestId": "7", "timestamp": 5.2, "type": "Fetch", "errorText": "net::ERR_FAILED",
            "corsErrorStatus": {"corsError": "PreflightMissingAllowOriginHeader", "failedParameter": ""}
        })));
        r.on_request_will_be_sent(&rwbs(
            "7",
            "http://127.0.0.1:2/x",
            "PUT",
            5.0,
            json!({"type": "script"}),
        ));
        r.on_request_will_be_sent(&rwbs(
            "7-pf",
            "http://127.0.0.1:2/x",
            "OPTIONS",
            5.1,
            json!({"type": "preflight", "requestId": "7"}),
        ));
        let reqs = r.requests();
        assert_eq!(reqs.len(), 2);
        let actual = &reqs[0];
        assert_eq!(actual.method, "PUT");
        assert!(!actual.is_preflight);
        let failure = actual.failed.as_ref().unwrap();
        assert_eq!(
            failure.cors_error.as_deref(),
            Some("PreflightMissingAllowOriginHeader")
        );
        assert_eq!(failure.failed_parameter, None);
        let pf = &reqs[1];
        assert!(pf.is_preflight);
        assert_eq!(pf.preflight_for.as_deref(), Some("7"));
        assert_eq!(pf.resource_type.as_deref(), Some("Other"));
        // The dump keeps arrival order.
        let lines = r.event_lines();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("loadingFailed"), "{lines:?}");
        assert!(lines[1].contains("\"method\":\"PUT\""), "{lines:?}");
    }

    /// A `requestWillBeSent` of request "9" to `url`, redirected from `from` when given.
    fn hop(url: &str, from: Option<&str>, ts: f64) -> EventRequestWillBeSent {
        let mut e = rwbs("9", url, "GET", ts, json!({"type": "script"}));
        e.redirect_response = from.map(|from| {
            ev(json!({
                "url": from, "status": 302, "statusText": "Found", "headers": {},
                "mimeType": "", "charset": "", "connectionReused": false, "connectionId": 0.0,
                "encodedDataLength": 0.0, "securityState": "neutral"
            }))
        });
        e
    }

    /// Request "9"'s answer: `200` from `url`.
    fn answer(url: &str) -> EventResponseReceived {
        ev(json!({
            "requestId": "9", "loaderId": "L", "timestamp": 5.0, "type": "Fetch",
            "hasExtraInfo": false,
            "response": {"url": url, "status": 200, "statusText": "OK", "headers": {},
                "mimeType": "", "charset": "", "connectionReused": false,
                "connectionId": 0.0, "encodedDataLength": 0.0, "securityState": "neutral"}
        }))
    }

    /// Request "9" refused by CORS.
    fn refusal() -> EventLoadingFailed {
        ev(json!({
            "requestId": "9", "timestamp": 6.0, "type": "Fetch", "errorText": "net::ERR_FAILED",
            "corsErrorStatus": {"corsError": "MissingAllowOriginHeader", "failedParameter": ""}
        }))
    }

    /// Request "9" done.
    fn finish() -> EventLoadingFinished {
        ev(json!({"requestId": "9", "timestamp": 6.0, "encodedDataLength": 0.0}))
    }

    #[test]
    fn redirect_hops_are_separate_records() {
        let mut r = Recorder::default();
        r.on_request_will_be_sent(&hop("http://a/1", None, 1.0));
        r.on_request_will_be_sent(&hop("http://b/2", Some("http://a/1"), 1.1));
        r.on_loading_finished(&finish());
        let reqs = r.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!((reqs[0].status, reqs[0].finished), (Some(302), true));
        assert_eq!(
            (reqs[1].url.as_str(), reqs[1].finished),
            ("http://b/2", true)
        );
    }

    #[test]
    fn a_failure_that_overtakes_its_redirect_hop_lands_on_that_hop() {
        // What a CI timeout pointed to: the refused second hop stayed pending, as
        // it does when its loadingFailed arrives before the requestWillBeSent that
        // announces the hop (and lands on the first hop).
        let mut r = Recorder::default();
        r.on_request_will_be_sent(&hop("http://a/1", None, 1.0));
        r.on_loading_failed(&refusal());
        r.on_response_received(&answer("http://b/2"));
        r.on_request_will_be_sent(&hop("http://b/2", Some("http://a/1"), 1.1));
        let reqs = r.requests();
        assert_eq!(reqs.len(), 2, "{reqs:#?}");
        let first = &reqs[0];
        assert_eq!((first.status, first.finished), (Some(302), true));
        assert_eq!((&first.failed, &first.response_type), (&None, &None));
        assert_eq!(reqs[1].url, "http://b/2");
        assert_eq!(reqs[1].status, Some(200));
        assert_eq!(reqs[1].response_type.as_deref(), Some("Fetch"));
        let failure = reqs[1]
            .failed
            .as_ref()
            .expect("the failure is the second hop's");
        assert_eq!(
            failure.cors_error.as_deref(),
            Some("MissingAllowOriginHeader")
        );
        assert!(reqs.iter().all(NetworkRequest::is_settled));
    }

    proptest::proptest! {
        /// Each kind of event comes on its own channel, in order within it; how the channels
        /// interleave must not change the records.
        #[test]
        fn records_do_not_depend_on_how_the_channels_interleave(
            hops in 1usize..4,
            refused in proptest::bool::ANY,
            picks in proptest::collection::vec(0usize..3, 8),
        ) {
            let urls: Vec<String> = (0..hops).map(|i| format!("http://h{i}/x")).collect();
            let mut sends: std::collections::VecDeque<EventRequestWillBeSent> = (0..hops)
                .map(|i| hop(&urls[i], i.checked_sub(1).map(|p| urls[p].as_str()), i as f64))
                .collect();
            // The last hop's answer (a refused one gets no responseReceived here), then its end.
            let mut answered = (!refused).then(|| answer(&urls[hops - 1]));
            let mut ended = false;
            let mut r = Recorder::default();
            let mut picks = picks.into_iter().chain((0..3).cycle());
            while !sends.is_empty() || answered.is_some() || !ended {
                match picks.next().unwrap() {
                    0 if !sends.is_empty() => r.on_request_will_be_sent(&sends.pop_front().unwrap()),
                    1 if answered.is_some() => r.on_response_received(&answered.take().unwrap()),
                    2 if !ended => {
                        ended = true;
                        if refused {
                            r.on_loading_failed(&refusal());
                        } else {
                            r.on_loading_finished(&finish());
                        }
                    }
                    // That channel is empty: the next pick (they cycle once these run out).
                    _ => {}
                }
            }
            let reqs = r.requests();
            proptest::prop_assert_eq!(reqs.len(), hops);
            for (i, req) in reqs.iter().enumerate() {
                proptest::prop_assert_eq!(&req.url, &urls[i]);
                proptest::prop_assert!(req.is_settled(), "{:#?}", reqs);
                if i + 1 < hops {
                    proptest::prop_assert_eq!(req.status, Some(302));
                    proptest::prop_assert_eq!((&req.failed, &req.response_type), (&None, &None));
                }
            }
            let last = &reqs[hops - 1];
            proptest::prop_assert_eq!(last.failed.is_some(), refused);
            proptest::prop_assert_eq!(last.status, (!refused).then_some(200));
        }
    }

    #[test]
    fn same_request_reported_twice_is_one_record() {
        // E.g. by a frame's parent target and by the frame's own target.
        let mut r = Recorder::default();
        let first = rwbs("5", "http://a/x", "GET", 1.0, json!({"type": "script"}));
        r.on_request_will_be_sent(&first);
        r.on_loading_finished(&ev(
            json!({"requestId": "5", "timestamp": 1.2, "encodedDataLength": 0.0}),
        ));
        r.on_request_will_be_sent(&first);
        let reqs = r.requests();
        assert_eq!(reqs.len(), 1, "{reqs:#?}");
        assert!(reqs[0].finished);
        assert_eq!(r.event_lines().len(), 3);
    }

    #[test]
    fn child_targets_and_tagged_events() {
        let mut r = Recorder::default();
        let child = ChildTarget {
            target_id: "T1".into(),
            kind: "iframe".into(),
            url: String::new(),
            parent_target_id: "P".into(),
            detached: false,
        };
        r.on_child_attached(child, true);
        r.on_child_info_changed("T1", "http://b/frame");
        r.on_child_info_changed("T1", "http://b/frame");
        r.on_child_info_changed("unknown", "http://c/");
        r.on_loading_finished(&ev(
            json!({"requestId": "1", "timestamp": 1.0, "encodedDataLength": 0.0}),
        ));
        r.tag_last_event("target", "T1");
        r.on_child_detached("T1");
        let c = &r.children()[0];
        assert_eq!((c.url.as_str(), c.detached), ("http://b/frame", true));
        let lines = r.event_lines();
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(lines[0].contains("Target.attachedToTarget"), "{lines:#?}");
        assert!(lines[1].contains("Target.targetInfoChanged"), "{lines:#?}");
        assert!(
            lines[2].contains("loadingFinished") && lines[2].contains("\"target\":\"T1\""),
            "{lines:#?}"
        );
    }

    #[test]
    fn log_entry_fields() {
        let mut r = Recorder::default();
        r.on_log_entry(&ev(json!({"entry": {
            "source": "network", "level": "error", "category": "cors",
            "text": "Access to fetch at 'x' from origin 'y' has been blocked by CORS policy: z",
            "timestamp": 1700000000000.0, "url": "http://localhost:1/"
        }})));
        let c = &r.console()[0];
        assert_eq!((c.source.as_str(), c.level.as_str()), ("network", "error"));
        assert_eq!(c.category.as_deref(), Some("cors"));
    }
}
