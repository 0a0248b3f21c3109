//! The journal: what the browser hides, written down.
//!
//! The browser shows script only `TypeError: Failed to fetch` when CORS blocks a request, and
//! DevTools shows raw rows. The journal keeps, for every exchange the API sees — preflights
//! and refusals included — what arrived, what the API answered, why (the engine's one-line
//! reason), and what a browser concludes from that answer in each credentials mode (the
//! [`cors_policy::browser`] model, with Chromium's error names and console text).
//!
//! Memory is bounded: the journal is a ring of [`JOURNAL_CAPACITY`](crate::JOURNAL_CAPACITY)
//! entries, stored header values are truncated, and `Cookie` / `Authorization` values are never
//! stored (only that they were present). Live subscribers get entries over a broadcast channel,
//! already serialized once for all of them: a subscriber that falls behind loses entries, and
//! never slows the API down.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use cors_policy::browser::{check, BrowserRequest, BrowserVerdict, CredentialsMode, RequestKind};
use serde::Serialize;
use tokio::sync::broadcast;

/// Longest header value kept in an entry.
const MAX_VALUE_LEN: usize = 512;
/// Most header lines kept per request or response.
const MAX_HEADER_LINES: usize = 48;
/// How many entries a live subscriber may lag behind before it is cut off.
const SUBSCRIBER_BUFFER: usize = 256;

/// One exchange, as served to the page.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: u64,
    pub time_ms: u64,
    /// The `run` query parameter: which click of the page caused this exchange.
    pub run: Option<String>,
    /// `preflight` or `actual`.
    pub kind: &'static str,
    pub method: String,
    pub path: String,
    pub url: String,
    pub origin: Option<String>,
    pub request_method: Option<String>,
    pub request_headers: Option<String>,
    pub cookie_sent: bool,
    pub request: Vec<(String, String)>,
    pub status: u16,
    pub response: Vec<(String, String)>,
    /// The `Access-Control-*` lines of `response`.
    pub cors_response: Vec<(String, String)>,
    pub decision: DecisionView,
    pub verdict: Verdicts,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    /// `allowed`, `refused`, `no-origin` or `cors-off`.
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

/// The request half of an entry, captured before the handler runs.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub run: Option<String>,
    pub preflight: bool,
    pub method: String,
    pub path: String,
    pub url: String,
    pub origin: Option<String>,
    pub request_method: Option<String>,
    pub request_headers: Option<String>,
    pub cookie_sent: bool,
    pub headers: Vec<(String, String)>,
}

/// The response half, and the engine's conclusion.
#[derive(Debug, Clone)]
pub struct ResponseRecord {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub outcome: &'static str,
    pub reason: String,
}

/// A bounded ring of entries plus a live feed.
pub struct Journal {
    entries: Mutex<VecDeque<Arc<Entry>>>,
    capacity: usize,
    next_id: AtomicU64,
    /// Each entry as JSON, serialized once however many subscribers there are.
    feed: broadcast::Sender<Arc<str>>,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        let (feed, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        Journal {
            entries: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            next_id: AtomicU64::new(1),
            feed,
        }
    }

    /// Records one exchange, computing the browser's verdicts, and publishes it.
    pub fn record(&self, request: RequestRecord, response: ResponseRecord) -> Arc<Entry> {
        let verdict = Verdicts {
            omit: verdict(&request, &response, CredentialsMode::Omit),
            include: verdict(&request, &response, CredentialsMode::Include),
        };
        let cors_response = response
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with("access-control-"))
            .cloned()
            .collect();
        let entry = Arc::new(Entry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            time_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            run: request.run,
            kind: if request.preflight {
                "preflight"
            } else {
                "actual"
            },
            method: request.method,
            path: request.path,
            url: request.url,
            origin: request.origin,
            request_method: request.request_method,
            request_headers: request.request_headers,
            cookie_sent: request.cookie_sent,
            request: request.headers,
            status: response.status,
            response: response.headers,
            cors_response,
            decision: DecisionView {
                outcome: response.outcome,
                reason: response.reason,
            },
            verdict,
        });
        {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if entries.len() == self.capacity {
                entries.pop_front();
            }
            entries.push_back(entry.clone());
        }
        if self.feed.receiver_count() > 0 {
            if let Ok(json) = serde_json::to_string(&*entry) {
                // A subscriber leaving meanwhile is fine: the entry is in the ring either way.
                let _ = self.feed.send(json.into());
            }
        }
        entry
    }

    /// Entries newest first, optionally only those of one run.
    pub fn list(&self, run: Option<&str>) -> Vec<Arc<Entry>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .rev()
            .filter(|e| run.is_none() || e.run.as_deref() == run)
            .cloned()
            .collect()
    }

    /// Live entries, as JSON text.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.feed.subscribe()
    }
}

fn verdict(
    request: &RequestRecord,
    response: &ResponseRecord,
    credentials: CredentialsMode,
) -> VerdictView {
    let Some(origin) = request.origin.as_deref() else {
        return VerdictView {
            pass: true,
            not_cors: true,
            cors_error: None,
            failed_parameter: None,
            reason: None,
        };
    };
    let browser_request = BrowserRequest {
        kind: if request.preflight {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        },
        origin,
        method: request
            .request_method
            .as_deref()
            .filter(|_| request.preflight)
            .unwrap_or(&request.method),
        request_headers: request.request_headers.as_deref(),
        credentials,
    };
    VerdictView::from(&check(&browser_request, response.status, &response.headers))
}

/// Header lines as text, with secrets redacted and sizes bounded.
pub fn capture_headers(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .take(MAX_HEADER_LINES)
        .map(|(name, value)| {
            let name = name.as_str().to_string();
            let value = if is_secret(&name) {
                format!("(redacted, {} bytes)", value.len())
            } else {
                let text = String::from_utf8_lossy(value.as_bytes());
                truncate(&text)
            };
            (name, value)
        })
        .collect()
}

fn is_secret(name: &str) -> bool {
    matches!(
        name,
        "cookie" | "authorization" | "set-cookie" | "proxy-authorization"
    )
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_VALUE_LEN {
        return text.to_string();
    }
    let mut end = MAX_VALUE_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(run: &str) -> RequestRecord {
        RequestRecord {
            run: Some(run.into()),
            preflight: false,
            method: "GET".into(),
            path: "/api/items".into(),
            url: "http://localhost:9090/api/items".into(),
            origin: Some("http://localhost:8080".into()),
            request_method: None,
            request_headers: None,
            cookie_sent: false,
            headers: vec![],
        }
    }

    fn resp(acao: &str) -> ResponseRecord {
        ResponseRecord {
            status: 200,
            headers: vec![("access-control-allow-origin".into(), acao.into())],
            outcome: "allowed",
            reason: "test".into(),
        }
    }

    #[test]
    fn ring_drops_the_oldest_and_lists_newest_first() {
        let j = Journal::new(3);
        for i in 0..5 {
            j.record(req(&format!("r{i}")), resp("*"));
        }
        let runs: Vec<_> = j
            .list(None)
            .iter()
            .map(|e| e.run.clone().unwrap())
            .collect();
        assert_eq!(runs, ["r4", "r3", "r2"]);
        assert_eq!(j.list(Some("r3")).len(), 1);
        assert!(j.list(Some("r0")).is_empty());
    }

    #[test]
    fn verdicts_for_both_credentials_modes() {
        let j = Journal::new(3);
        let e = j.record(req("a"), resp("*"));
        assert!(e.verdict.omit.pass);
        assert_eq!(
            e.verdict.include.cors_error,
            Some("WildcardOriginNotAllowed")
        );
        let mut no_origin = req("b");
        no_origin.origin = None;
        let e = j.record(no_origin, resp("*"));
        assert!(e.verdict.omit.not_cors && e.verdict.include.not_cors);
    }

    #[test]
    fn secrets_are_redacted_and_values_bounded() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "lab_session=abc".parse().unwrap());
        h.insert("authorization", "Bearer xyz".parse().unwrap());
        h.insert("x-long", "a".repeat(2000).parse().unwrap());
        let lines = capture_headers(&h);
        let get = |n: &str| lines.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(get("cookie"), "(redacted, 15 bytes)");
        assert_eq!(get("authorization"), "(redacted, 10 bytes)");
        assert!(get("x-long").len() < 600);
    }
}
