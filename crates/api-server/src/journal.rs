//! The journal: what the browser hides, written down.
//!
//! The browser shows script only `TypeError: Failed to fetch` when CORS blocks a request, and
//! DevTools shows raw rows. The journal keeps, for every exchange the API sees — preflights
//! and refusals included — what arrived, what the API answered, why (the engine's one-line
//! reason), and what a browser concludes from that answer in each credentials mode (the
//! [`cors_policy::browser`] model, with Chromium's error names and console text).
//!
//! Recording is on every request's path, so it only copies: the request and response headers
//! go into one buffer each ([`HeaderLines`]), and the entry joins a ring. Everything derived —
//! the browser's verdicts, the `Access-Control-*` subset, the JSON text — is computed when
//! somebody reads the entry, and the JSON is kept, so that a page and ten event streams reading
//! the same entry serialize it once.
//!
//! Memory is bounded: the journal is a ring of [`JOURNAL_CAPACITY`](crate::JOURNAL_CAPACITY)
//! entries, stored header values are truncated, and `Cookie` / `Authorization` values are never
//! stored (only that they were present). Live readers ([`crate::live`]) pull from the ring at
//! their own pace, so a slow or vanished reader holds nothing and never slows the API down.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use cors_policy::browser::{check, BrowserRequest, BrowserVerdict, CredentialsMode, RequestKind};
use cors_policy::engine::{decide, RequestFacts};
use cors_policy::EffectivePolicy;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use smallvec::SmallVec;
use tokio::sync::Notify;

/// Longest header value kept in an entry.
const MAX_VALUE_LEN: usize = 512;
/// Most header lines kept per request or response.
const MAX_HEADER_LINES: usize = 48;
/// Entries whose JSON is longer than this are serialized again at each read instead of kept:
/// the ring's memory stays close to the entries' own size even when every header is huge.
const MAX_KEPT_JSON: usize = 8 * 1024;

/// Header lines as text, with secrets redacted and sizes bounded, in one buffer: one allocation
/// for a typical request (up to 16 lines), whatever its number of headers.
///
/// Serialized as `[["name", "value"], …]`.
#[derive(Debug, Clone, Default)]
pub struct HeaderLines {
    text: String,
    /// Per line: where its name ends and where its value ends in `text`.
    ends: SmallVec<[(u32, u32); 16]>,
}

/// Where a piece of text is in a record's buffer.
type Span = (u32, u32);

impl HeaderLines {
    /// Copies `headers`, redacting secrets and truncating long values.
    pub fn capture(headers: &axum::http::HeaderMap) -> Self {
        Self::capture_with_room(headers, 0)
    }

    /// Like [`capture`](Self::capture), with `room` more bytes in the buffer for
    /// [`push_field`](Self::push_field).
    fn capture_with_room(headers: &axum::http::HeaderMap, room: usize) -> Self {
        // An estimate rather than a pass to measure: reading every name twice costs more than
        // the rare buffer that has to grow (a browser's lines average about 40 bytes).
        let size = headers.len().min(MAX_HEADER_LINES) * 48;
        let mut lines = HeaderLines {
            text: String::with_capacity(size + room),
            ends: SmallVec::new(),
        };
        for (name, value) in headers.iter().take(MAX_HEADER_LINES) {
            let name = name.as_str();
            lines.text.push_str(name);
            let name_end = lines.text.len();
            if is_secret(name) {
                use std::fmt::Write;
                let _ = write!(lines.text, "(redacted, {} bytes)", value.len());
            } else {
                match value.to_str() {
                    Ok(text) => push_truncated(&mut lines.text, text),
                    // Not visible ASCII: shown as text, with U+FFFD for what is not UTF-8.
                    Err(_) => {
                        push_truncated(&mut lines.text, &String::from_utf8_lossy(value.as_bytes()))
                    }
                }
            }
            lines.ends.push((name_end as u32, lines.text.len() as u32));
        }
        lines
    }

    /// Room for `bytes` of names and values, to [`push`](Self::push) lines into.
    pub fn with_capacity(bytes: usize) -> Self {
        HeaderLines {
            text: String::with_capacity(bytes),
            ends: SmallVec::new(),
        }
    }

    /// Adds a line the server wrote itself, as text it already holds: a long value is cut as
    /// in [`capture`](Self::capture). For the lines of an answer made by the CORS layer, which
    /// names no secret, this spares reading them back out of the `HeaderMap`.
    pub fn push(&mut self, name: &str, value: &str) {
        if self.ends.len() == MAX_HEADER_LINES {
            return;
        }
        self.text.push_str(name);
        let name_end = self.text.len();
        push_truncated(&mut self.text, value);
        self.ends.push((name_end as u32, self.text.len() as u32));
    }

    /// Stores more text after the lines (the record's other fields), in the same buffer.
    fn push_field(&mut self, pieces: &[&str]) -> Span {
        let start = self.text.len() as u32;
        for piece in pieces {
            self.text.push_str(piece);
        }
        (start, self.text.len() as u32)
    }

    fn field(&self, span: Span) -> &str {
        &self.text[span.0 as usize..span.1 as usize]
    }

    /// `(name, value)` pairs, in the order they were captured.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&(name_end, value_end)| {
            let (name_end, value_end) = (name_end as usize, value_end as usize);
            let line = (&self.text[start..name_end], &self.text[name_end..value_end]);
            start = value_end;
            line
        })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Lines taken as they are (no redaction): for lines that are not from a request.
impl<'a> FromIterator<(&'a str, &'a str)> for HeaderLines {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(lines: I) -> Self {
        let mut out = HeaderLines::default();
        for (name, value) in lines {
            out.text.push_str(name);
            let name_end = out.text.len();
            out.text.push_str(value);
            out.ends.push((name_end as u32, out.text.len() as u32));
        }
        out
    }
}

impl Serialize for HeaderLines {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for line in self.iter() {
            seq.serialize_element(&line)?;
        }
        seq.end()
    }
}

/// The `Access-Control-*` lines of a response, serialized like [`HeaderLines`].
struct CorsLines<'a>(&'a HeaderLines);

impl Serialize for CorsLines<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .iter()
                .filter(|(name, _)| name.starts_with("access-control-")),
        )
    }
}

/// One exchange: the request as it arrived, the answer, and the engine's conclusion.
#[derive(Debug)]
pub struct Entry {
    pub id: u64,
    pub time_ms: u64,
    pub request: RequestRecord,
    pub response: ResponseRecord,
    /// The entry as JSON, made at the first read.
    json: OnceLock<Option<Arc<str>>>,
}

/// The engine's conclusion, in the journal's JSON shape.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    /// `allowed`, `refused`, `no-origin`, `cors-off`, or `not-asked` (answered in front of the
    /// CORS layer).
    pub outcome: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdicts {
    pub omit: VerdictView,
    pub include: VerdictView,
}

/// A browser verdict in the journal's JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictView {
    pub pass: bool,
    /// No `Origin` header: the browser does not run a CORS check on this exchange.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_cors: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_parameter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&BrowserVerdict> for VerdictView {
    fn from(v: &BrowserVerdict) -> Self {
        match v {
            BrowserVerdict::Pass => VerdictView {
                pass: true,
                not_cors: false,
                cors_error: None,
                failed_parameter: None,
                reason: None,
            },
            BrowserVerdict::Blocked {
                error,
                failed_parameter,
            } => VerdictView {
                pass: false,
                not_cors: false,
                cors_error: Some(error.name()),
                failed_parameter: Some(failed_parameter.clone()),
                reason: v.reason(),
            },
        }
    }
}

/// The request half of an entry, captured before the handler runs: every field and header
/// line in one buffer.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    text: HeaderLines,
    run: Option<Span>,
    method: Span,
    path: Span,
    url: Span,
    origin: Option<Span>,
    request_method: Option<Span>,
    request_headers: Option<Span>,
    pub cookie_sent: bool,
}

/// The fields of a [`RequestRecord`], borrowed from the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFields<'a> {
    /// The `run` query parameter: which click of the page caused this exchange.
    pub run: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    /// Pieces that make the URL, concatenated (`http://`, the host, the path and query).
    pub url: [&'a str; 3],
    pub origin: Option<&'a str>,
    pub request_method: Option<&'a str>,
    pub request_headers: Option<&'a str>,
    pub cookie_sent: bool,
}

impl RequestRecord {
    /// Copies `fields` and `headers` (secrets redacted) into one buffer.
    pub fn new(fields: RequestFields<'_>, headers: &axum::http::HeaderMap) -> Self {
        let f = fields;
        let room = [f.run, f.origin, f.request_method, f.request_headers]
            .iter()
            .map(|v| v.map_or(0, str::len))
            .sum::<usize>()
            + f.method.len()
            + f.path.len()
            + f.url.iter().map(|p| p.len()).sum::<usize>();
        let mut text = HeaderLines::capture_with_room(headers, room);
        let mut optional = |v: Option<&str>| v.map(|v| text.push_field(&[v]));
        let (run, origin, request_method, request_headers) = (
            optional(f.run),
            optional(f.origin),
            optional(f.request_method),
            optional(f.request_headers),
        );
        let method = text.push_field(&[f.method]);
        let path = text.push_field(&[f.path]);
        let url = text.push_field(&f.url);
        RequestRecord {
            cookie_sent: f.cookie_sent,
            text,
            run,
            method,
            path,
            url,
            origin,
            request_method,
            request_headers,
        }
    }

    pub fn run(&self) -> Option<&str> {
        self.run.map(|s| self.text.field(s))
    }

    pub fn method(&self) -> &str {
        self.text.field(self.method)
    }

    pub fn path(&self) -> &str {
        self.text.field(self.path)
    }

    pub fn url(&self) -> &str {
        self.text.field(self.url)
    }

    pub fn origin(&self) -> Option<&str> {
        self.origin.map(|s| self.text.field(s))
    }

    pub fn request_method(&self) -> Option<&str> {
        self.request_method.map(|s| self.text.field(s))
    }

    pub fn request_headers(&self) -> Option<&str> {
        self.request_headers.map(|s| self.text.field(s))
    }

    /// The request's header lines.
    pub fn headers(&self) -> &HeaderLines {
        &self.text
    }

    /// Is this exchange a preflight (the engine's definition, [`RequestFacts::is_preflight`])?
    pub fn preflight(&self) -> bool {
        self.facts().is_preflight()
    }

    /// What the engine reads, borrowed from the record.
    pub fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            method: self.method(),
            origin: self.origin(),
            request_method: self.request_method(),
            request_headers: self.request_headers(),
        }
    }
}

/// The response half, and the policy that decided it.
#[derive(Debug, Clone)]
pub struct ResponseRecord {
    pub status: u16,
    pub headers: HeaderLines,
    /// The policy in force for this exchange. The engine is pure, so the decision's outcome and
    /// reason are worked out again from it when the entry is read, instead of being rendered
    /// on every request's path.
    pub policy: Arc<EffectivePolicy>,
    pub answered_by: AnsweredBy,
}

/// What answered the request: the CORS layer (the engine decided), or something in front of it
/// that the engine never saw ([`crate::moved`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnsweredBy {
    CorsLayer,
    /// The front's redirect of `/moved/` to `/api/`, before the CORS layer.
    FrontRedirect,
}

impl AnsweredBy {
    /// `cors-layer` or `front-redirect`, as the journal's JSON spells it.
    pub fn label(self) -> &'static str {
        match self {
            AnsweredBy::CorsLayer => "cors-layer",
            AnsweredBy::FrontRedirect => "front-redirect",
        }
    }
}

/// The JSON shape of an entry (what the page and the tests read).
#[derive(Serialize)]
struct EntryView<'a> {
    id: u64,
    time_ms: u64,
    run: Option<&'a str>,
    /// `preflight` or `actual`.
    kind: &'static str,
    method: &'a str,
    path: &'a str,
    url: &'a str,
    origin: Option<&'a str>,
    request_method: Option<&'a str>,
    request_headers: Option<&'a str>,
    cookie_sent: bool,
    request: &'a HeaderLines,
    status: u16,
    /// `cors-layer`, or `front-redirect` when the engine never saw the request.
    answered_by: &'static str,
    response: &'a HeaderLines,
    cors_response: CorsLines<'a>,
    decision: DecisionView,
    verdict: Verdicts,
}

impl Entry {
    /// `preflight` or `actual`.
    pub fn kind(&self) -> &'static str {
        if self.request.preflight() {
            "preflight"
        } else {
            "actual"
        }
    }

    /// What a browser concludes from the answer, in each credentials mode.
    pub fn verdicts(&self) -> Verdicts {
        let lines: Vec<(&str, &str)> = self.response.headers.iter().collect();
        Verdicts {
            omit: self.verdict(&lines, CredentialsMode::Omit),
            include: self.verdict(&lines, CredentialsMode::Include),
        }
    }

    fn verdict(&self, lines: &[(&str, &str)], credentials: CredentialsMode) -> VerdictView {
        let request = &self.request;
        let preflight = request.preflight();
        let Some(origin) = request.origin() else {
            return VerdictView {
                pass: true,
                not_cors: true,
                cors_error: None,
                failed_parameter: None,
                reason: None,
            };
        };
        let browser_request = BrowserRequest {
            kind: if preflight {
                RequestKind::Preflight
            } else {
                RequestKind::Actual
            },
            origin,
            method: request
                .request_method()
                .filter(|_| preflight)
                .unwrap_or(request.method()),
            request_headers: request.request_headers(),
            credentials,
        };
        VerdictView::from(&check(&browser_request, self.response.status, lines))
    }

    /// The engine's conclusion, decided again from the recorded request and policy; for a
    /// request answered in front of the CORS layer, that there was none.
    pub fn decision(&self) -> DecisionView {
        if self.response.answered_by == AnsweredBy::FrontRedirect {
            return DecisionView {
                outcome: "not-asked",
                reason: format!(
                    "the front redirected {} to {} before the CORS layer ran: the engine never \
                     saw this request, and no CORS_* setting changes this answer",
                    crate::moved::MOVED_PREFIX,
                    crate::moved::NEW_PREFIX
                ),
            };
        }
        let decision = decide(&self.response.policy.policy, &self.request.facts());
        DecisionView {
            outcome: decision.outcome().label(),
            reason: decision.outcome().to_string(),
        }
    }

    /// The entry as JSON text, serialized once and kept (unless it is very large).
    pub fn json(&self) -> Arc<str> {
        if let Some(Some(json)) = self.json.get() {
            return json.clone();
        }
        let json: Arc<str> = serde_json::to_string(self)
            .unwrap_or_else(|_| String::from("null"))
            .into();
        let kept = (json.len() <= MAX_KEPT_JSON).then(|| json.clone());
        let _ = self.json.set(kept);
        json
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = &self.request;
        EntryView {
            id: self.id,
            time_ms: self.time_ms,
            run: r.run(),
            kind: self.kind(),
            method: r.method(),
            path: r.path(),
            url: r.url(),
            origin: r.origin(),
            request_method: r.request_method(),
            request_headers: r.request_headers(),
            cookie_sent: r.cookie_sent,
            request: r.headers(),
            status: self.response.status,
            answered_by: self.response.answered_by.label(),
            response: &self.response.headers,
            cors_response: CorsLines(&self.response.headers),
            decision: self.decision(),
            verdict: self.verdicts(),
        }
        .serialize(serializer)
    }
}

/// New entries for a live reader: at most the newest `limit` after the id it has seen.
#[derive(Debug, Default)]
pub struct NewEntries {
    /// Oldest first.
    pub entries: Vec<Arc<Entry>>,
    /// Entries after the reader's id that it will not get: beyond `limit`, or already dropped
    /// from the ring.
    pub skipped: u64,
}

/// A bounded ring of entries, with a signal for live readers.
pub struct Journal {
    entries: Mutex<Ring>,
    capacity: usize,
    /// The newest id recorded.
    newest: AtomicU64,
    /// Live readers that have seen everything and wait for [`new_entry`](Self::new_entry):
    /// while there are none, recording an entry notifies nobody.
    readers_waiting: AtomicUsize,
    new_entry: Notify,
}

struct Ring {
    entries: VecDeque<Arc<Entry>>,
    next_id: u64,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Journal {
            entries: Mutex::new(Ring {
                entries: VecDeque::with_capacity(capacity),
                next_id: 1,
            }),
            capacity: capacity.max(1),
            newest: AtomicU64::new(0),
            readers_waiting: AtomicUsize::new(0),
            new_entry: Notify::new(),
        }
    }

    /// Records one exchange. Ids are given in the ring's order, so they only ever grow.
    pub fn record(&self, request: RequestRecord, response: ResponseRecord) -> Arc<Entry> {
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let (entry, dropped) = {
            let mut ring = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let entry = Arc::new(Entry {
                id: ring.next_id,
                time_ms,
                request,
                response,
                json: OnceLock::new(),
            });
            ring.next_id += 1;
            let dropped = if ring.entries.len() == self.capacity {
                ring.entries.pop_front()
            } else {
                None
            };
            ring.entries.push_back(entry.clone());
            (entry, dropped)
        };
        // Freed outside the lock.
        drop(dropped);
        // Busy readers look at the ring when their next write is due; only idle ones wait.
        self.newest.store(entry.id, SeqCst);
        if self.readers_waiting.load(SeqCst) > 0 {
            self.new_entry.notify_waiters();
        }
        entry
    }

    /// Entries newest first, optionally only those of one run.
    pub fn list(&self, run: Option<&str>) -> Vec<Arc<Entry>> {
        let ring = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        ring.entries
            .iter()
            .rev()
            .filter(|e| run.is_none() || e.request.run() == run)
            .cloned()
            .collect()
    }

    /// The newest id recorded so far (0 before the first).
    pub fn newest_id(&self) -> u64 {
        self.newest.load(SeqCst)
    }

    /// Returns once an entry newer than `seen` has been recorded.
    pub async fn wait_for_newer(&self, seen: u64) {
        let notified = self.new_entry.notified();
        tokio::pin!(notified);
        // Registered before the check, so a notification between the check and the wait counts.
        notified.as_mut().enable();
        self.readers_waiting.fetch_add(1, SeqCst);
        // Decremented however this future ends (it is dropped on a timeout).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, SeqCst);
            }
        }
        let _waiting = Waiting(&self.readers_waiting);
        if self.newest.load(SeqCst) <= seen {
            notified.await;
        }
    }

    /// The newest entries after `seen`, at most `limit` of them, oldest first.
    pub fn after(&self, seen: u64, limit: usize) -> NewEntries {
        let ring = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let newest = ring.next_id - 1;
        if newest <= seen {
            return NewEntries::default();
        }
        let wanted = newest - seen;
        let take = (wanted.min(ring.entries.len() as u64) as usize).min(limit);
        let entries = ring
            .entries
            .iter()
            .skip(ring.entries.len() - take)
            .cloned()
            .collect();
        NewEntries {
            entries,
            skipped: wanted - take as u64,
        }
    }
}

/// Header lines as text, with secrets redacted and sizes bounded.
pub fn capture_headers(headers: &axum::http::HeaderMap) -> HeaderLines {
    HeaderLines::capture(headers)
}

fn is_secret(name: &str) -> bool {
    matches!(
        name,
        "cookie" | "authorization" | "set-cookie" | "proxy-authorization"
    )
}

/// Appends `text`, cut at [`MAX_VALUE_LEN`] bytes (on a character boundary) with a note of its
/// full length.
fn push_truncated(out: &mut String, text: &str) {
    if text.len() <= MAX_VALUE_LEN {
        out.push_str(text);
        return;
    }
    let mut end = MAX_VALUE_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    use std::fmt::Write;
    let _ = write!(out, "{}… ({} bytes)", &text[..end], text.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req_with(run: &str, origin: Option<&str>) -> RequestRecord {
        let fields = RequestFields {
            run: Some(run),
            method: "GET",
            path: "/api/items",
            url: ["http://", "localhost:9090", "/api/items"],
            origin,
            ..RequestFields::default()
        };
        RequestRecord::new(fields, &axum::http::HeaderMap::new())
    }

    fn req(run: &str) -> RequestRecord {
        req_with(run, Some("http://localhost:8080"))
    }

    fn resp(acao: &str) -> ResponseRecord {
        let policy = cors_policy::PolicyInput::default()
            .resolve("http://localhost:8080")
            .unwrap();
        ResponseRecord {
            status: 200,
            headers: [
                ("content-type", "text/plain"),
                ("access-control-allow-origin", acao),
            ]
            .into_iter()
            .collect(),
            policy: Arc::new(policy),
            answered_by: AnsweredBy::CorsLayer,
        }
    }

    fn runs(entries: &[Arc<Entry>]) -> Vec<String> {
        entries
            .iter()
            .map(|e| e.request.run().unwrap().to_string())
            .collect()
    }

    #[test]
    fn ring_drops_the_oldest_and_lists_newest_first() {
        let j = Journal::new(3);
        for i in 0..5 {
            j.record(req(&format!("r{i}")), resp("*"));
        }
        assert_eq!(runs(&j.list(None)), ["r4", "r3", "r2"]);
        assert_eq!(j.list(Some("r3")).len(), 1);
        assert!(j.list(Some("r0")).is_empty());
        assert_eq!(j.newest_id(), 5);
    }

    #[test]
    fn verdicts_for_both_credentials_modes() {
        let j = Journal::new(3);
        let e = j.record(req("a"), resp("*"));
        assert!(e.verdicts().omit.pass);
        assert_eq!(
            e.verdicts().include.cors_error,
            Some("WildcardOriginNotAllowed")
        );
        let e = j.record(req_with("b", None), resp("*"));
        assert!(e.verdicts().omit.not_cors && e.verdicts().include.not_cors);
    }

    #[test]
    fn json_has_the_pages_shape() {
        let j = Journal::new(3);
        let e = j.record(req("a"), resp("*"));
        let v: serde_json::Value = serde_json::from_str(&e.json()).unwrap();
        assert_eq!(v["id"], 1);
        assert_eq!(v["run"], "a");
        assert_eq!(v["kind"], "actual");
        assert_eq!(
            v["response"][0],
            serde_json::json!(["content-type", "text/plain"])
        );
        assert_eq!(
            v["cors_response"],
            serde_json::json!([["access-control-allow-origin", "*"]])
        );
        assert_eq!(v["url"], "http://localhost:9090/api/items");
        assert_eq!(v["origin"], "http://localhost:8080");
        // Decided again from the recorded policy (strict allows the lab page).
        assert_eq!(v["decision"]["outcome"], "allowed");
        assert_eq!(
            v["decision"]["reason"],
            "origin http://localhost:8080 is in CORS_ALLOW_ORIGINS"
        );
        assert_eq!(v["verdict"]["omit"]["pass"], true);
        assert_eq!(
            v["verdict"]["include"]["cors_error"],
            "WildcardOriginNotAllowed"
        );
        // Kept: the second read is the same text.
        assert!(Arc::ptr_eq(&e.json(), &e.json()));
    }

    #[test]
    fn live_readers_get_the_newest_and_a_count_of_the_rest() {
        let j = Journal::new(4);
        assert!(j.after(0, 10).entries.is_empty());
        for i in 1..=3 {
            j.record(req(&format!("r{i}")), resp("*"));
        }
        let all = j.after(0, 10);
        assert_eq!(
            (runs(&all.entries), all.skipped),
            (vec!["r1".into(), "r2".into(), "r3".into()], 0)
        );
        let capped = j.after(0, 2);
        assert_eq!(
            (runs(&capped.entries), capped.skipped),
            (vec!["r2".into(), "r3".into()], 1)
        );
        assert!(j.after(3, 10).entries.is_empty());
        // Past the ring: r1 and r2 are gone when six more arrive.
        for i in 4..=9 {
            j.record(req(&format!("r{i}")), resp("*"));
        }
        let late = j.after(1, 10);
        assert_eq!(runs(&late.entries), ["r6", "r7", "r8", "r9"]);
        assert_eq!(late.skipped, 4, "r2 to r5 were dropped from the ring");
    }

    #[tokio::test]
    async fn a_waiting_reader_is_woken_by_the_next_entry() {
        let j = Arc::new(Journal::new(4));
        let waiter = tokio::spawn({
            let j = j.clone();
            async move { j.wait_for_newer(0).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        j.record(req("a"), resp("*"));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .unwrap();
        // Nothing to wait for when the reader is behind already.
        tokio::time::timeout(std::time::Duration::from_secs(5), j.wait_for_newer(0))
            .await
            .expect("returns at once");
        assert_eq!(j.readers_waiting.load(SeqCst), 0);
    }

    #[test]
    fn secrets_are_redacted_and_values_bounded() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "lab_session=abc".parse().unwrap());
        h.insert("authorization", "Bearer xyz".parse().unwrap());
        h.insert("x-long", "a".repeat(2000).parse().unwrap());
        let lines = capture_headers(&h);
        let get = |n: &str| lines.iter().find(|(k, _)| *k == n).unwrap().1.to_string();
        assert_eq!(get("cookie"), "(redacted, 15 bytes)");
        assert_eq!(get("authorization"), "(redacted, 10 bytes)");
        assert!(get("x-long").len() < 600);
        assert!(get("x-long").ends_with("… (2000 bytes)"));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn lines_pushed_as_text_are_kept_as_captured_ones_are() {
        let long = "x-a,".repeat(500);
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            "access-control-allow-origin",
            "http://a.test".parse().unwrap(),
        );
        h.insert("access-control-allow-headers", long.parse().unwrap());
        let mut pushed = HeaderLines::with_capacity(0);
        pushed.push("access-control-allow-origin", "http://a.test");
        pushed.push("access-control-allow-headers", &long);
        let captured = capture_headers(&h);
        assert_eq!(
            pushed.iter().collect::<Vec<_>>(),
            captured.iter().collect::<Vec<_>>()
        );
        assert!(pushed.iter().nth(1).unwrap().1.ends_with("… (2000 bytes)"));
    }
}
