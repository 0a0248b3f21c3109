//! The live journal: server-sent events that the page's journal panel listens to.
//!
//! The wire format is the HTML standard's `text/event-stream`: each event is
//! `event: NAME\ndata: TEXT\n\n`, and a line starting with `:` is a comment (a keep-alive).
//! Three kinds of event are sent:
//!
//! * `entry` — one journal entry, the same JSON as in `GET /_lab/journal`;
//! * `gap` — `{"skipped": N}`: N entries were recorded that this stream will not send (see
//!   below); the page reloads `GET /_lab/journal` to catch up;
//! * `policy` — the policy in force: first of all when the stream opens, then after each
//!   runtime switch. The first one names the run of the API (its `instance`): journal ids
//!   start again at 1 when the API restarts, so a page that reconnects learns from it whether
//!   the entries it shows are still this run's.
//!
//! A stream pulls from the journal's ring at its own pace instead of being pushed every entry.
//! When it has sent everything it waits, and the next entry is sent at once; while entries keep
//! coming it writes at most every [`WRITE_INTERVAL`], all the entries of that interval in one
//! write, and at most [`MAX_BATCH`] of them (the newest), announcing the rest with a `gap`. A
//! person reads a few entries a second: under a load test the panel shows a sample, and the
//! API does not spend its time writing ten copies of every request to ten tabs. A client that
//! reads slowly or not at all holds no entries either: the ring is the only buffer.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use tokio::time::Instant;
use tokio_stream::wrappers::WatchStream;

use crate::journal::Journal;
use crate::AppState;

/// Shortest time between two writes of entries to one stream.
pub const WRITE_INTERVAL: Duration = Duration::from_millis(100);
/// Most entries in one write; the rest are counted in a `gap` event.
pub const MAX_BATCH: usize = 16;
/// A comment is sent after this long without events, so that proxies keep the stream open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The `GET /_lab/events` response: entries and policy switches until the server shuts down.
pub fn events(state: &AppState) -> Response {
    let entries = entry_chunks(state.clone());
    let policy_event = {
        let state = state.clone();
        move || {
            Bytes::from(event(
                "policy",
                &crate::lab::policy_view(&state).to_string(),
            ))
        }
    };
    // Watched before the opening event is made: a switch in between is sent twice, not lost.
    let switches = WatchStream::from_changes(state.policy_changes()).map({
        let policy_event = policy_event.clone();
        move |_| policy_event()
    });
    let opening = futures::stream::once(std::future::ready(policy_event()));
    let stream = opening
        .chain(futures::stream::select(entries, switches))
        .take_until(state.shutdown_token().clone().cancelled_owned())
        .map(Ok::<_, Infallible>);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// One `text/event-stream` event. `data` must not contain a line break (compact JSON never
/// does); a multi-line value would need one `data:` line per line.
fn event(name: &str, data: &str) -> String {
    let mut out = String::with_capacity(name.len() + data.len() + 16);
    push_event(&mut out, name, data);
    out
}

fn push_event(out: &mut String, name: &str, data: &str) {
    debug_assert!(!data.contains(['\n', '\r']));
    out.push_str("event: ");
    out.push_str(name);
    out.push_str("\ndata: ");
    out.push_str(data);
    out.push_str("\n\n");
}

/// The entries recorded from now on, in writes of at most [`MAX_BATCH`] entries.
fn entry_chunks(state: AppState) -> impl Stream<Item = Bytes> {
    struct Reader {
        state: AppState,
        seen: u64,
        last_write: Option<Instant>,
    }
    let seen = state.journal().newest_id();
    let reader = Reader {
        state,
        seen,
        last_write: None,
    };
    futures::stream::unfold(reader, |mut r| async move {
        let journal: &Journal = r.state.journal();
        // Nothing new: wait for the next entry, with a keep-alive now and then.
        if journal.newest_id() <= r.seen
            && tokio::time::timeout(KEEP_ALIVE, journal.wait_for_newer(r.seen))
                .await
                .is_err()
        {
            return Some((Bytes::from_static(b": keep-alive\n\n"), r));
        }
        // Something new: write it now, or when the interval since the last write is over.
        if let Some(last) = r.last_write {
            tokio::time::sleep_until(last + WRITE_INTERVAL).await;
        }
        let new = journal.after(r.seen, MAX_BATCH);
        r.seen = new.entries.last().map_or(r.seen + new.skipped, |e| e.id);
        r.last_write = Some(Instant::now());
        Some((Bytes::from(batch(&new.entries, new.skipped)), r))
    })
}

/// A `gap` event when entries were skipped, then one `entry` event per entry.
fn batch(entries: &[Arc<crate::journal::Entry>], skipped: u64) -> String {
    let json: Vec<Arc<str>> = entries.iter().map(|e| e.json()).collect();
    let mut out = String::with_capacity(json.iter().map(|j| j.len() + 24).sum::<usize>() + 48);
    if skipped > 0 {
        push_event(&mut out, "gap", &format!("{{\"skipped\":{skipped}}}"));
    }
    for j in &json {
        push_event(&mut out, "entry", j);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_follow_the_event_stream_format() {
        assert_eq!(
            event("entry", "{\"id\":1}"),
            "event: entry\ndata: {\"id\":1}\n\n"
        );
        assert_eq!(batch(&[], 3), "event: gap\ndata: {\"skipped\":3}\n\n");
        assert_eq!(batch(&[], 0), "");
    }
}
