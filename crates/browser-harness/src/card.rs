//! What a CORS Lab scenario card says about its last run.
//!
//! The lab page shows each scenario as a card, `<article data-scenario="{id}">`. When a run
//! ends, `static/cards.js` writes the page's verdict onto the card as data attributes and sets
//! `data-state="done"` last (the DOM contract at the top of that file). [`read_card`] reads them
//! back, typed, so that tests and examples can set the card beside what Chromium did (DevTools)
//! and what the API's journal recorded.
//!
//! Wait for `data-state === 'done'` before reading, e.g. with [`LabPage::wait_for`]: while a
//! run is going the page clears these attributes.

use serde_json::Value;

use crate::error::Result;
use crate::page::LabPage;

/// A card's verdict on its last run, as the page wrote it onto the card.
///
/// An attribute the card does not have reads as empty, `None` or `false`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardVerdict {
    /// `data-run-id`: the run's id. Every request of the run carries it as `?run=<id>`, which
    /// finds the run's requests in DevTools and its entries in the journal.
    pub run_id: String,
    /// `data-outcome`: `pass`, `blocked` or `unreached` (no request reached the API).
    pub outcome: Option<String>,
    /// `data-cors-error`: for a blocked run, the `CorsError` name of the request that blocked
    /// it, as the page predicted it from the journal; empty otherwise.
    pub cors_error: String,
    /// `data-preflight-seen` is `"true"`: the journal has a preflight for the run.
    pub preflight_seen: bool,
    /// `data-preflight-count`: how many preflights the journal has for the run.
    pub preflight_count: Option<usize>,
    /// `data-expected-preflights`: how many preflights the page said the run needs (fewer
    /// than its requests when Chromium's preflight cache answers for the later ones).
    pub expected_preflights: Option<usize>,
    /// The text of the card's `[data-field=reason]`, trimmed: for a blocked run, the reason
    /// the page quotes, which Chromium's console message should contain; empty otherwise.
    pub reason: String,
}

impl CardVerdict {
    /// The verdict from the object that [`read_card`]'s script returns.
    fn from_json(shown: &Value) -> Self {
        let text = |key: &str| shown[key].as_str().unwrap_or_default().to_string();
        let count = |key: &str| shown[key].as_str().and_then(|v| v.parse::<usize>().ok());
        CardVerdict {
            run_id: text("run"),
            outcome: shown["outcome"].as_str().map(str::to_string),
            cors_error: text("corsError"),
            preflight_seen: shown["preflightSeen"] == "true",
            preflight_count: count("preflightCount"),
            expected_preflights: count("expectedPreflights"),
            reason: text("reason"),
        }
    }
}

/// Reads the verdict of the card of scenario `scenario_id` (`[data-scenario="<id>"]`).
///
/// Fails with [`crate::HarnessError::Js`] when the page has no such card.
pub async fn read_card(page: &LabPage, scenario_id: &str) -> Result<CardVerdict> {
    let selector = serde_json::to_string(&format!("[data-scenario=\"{scenario_id}\"]"))
        .expect("a string serializes");
    let shown = page
        .evaluate_json(&format!(
            "(() => {{ const c = document.querySelector({selector}); return {{
                run: c.dataset.runId, outcome: c.dataset.outcome, corsError: c.dataset.corsError,
                preflightSeen: c.dataset.preflightSeen, preflightCount: c.dataset.preflightCount,
                expectedPreflights: c.dataset.expectedPreflights,
                reason: c.querySelector('[data-field=reason]')?.textContent.trim() ?? '' }}; }})()"
        ))
        .await?;
    Ok(CardVerdict::from_json(&shown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_blocked_card() {
        let shown = json!({
            "run": "put-item-1", "outcome": "blocked", "corsError": "PreflightInvalidStatus",
            "preflightSeen": "true", "preflightCount": "1", "expectedPreflights": "1",
            "reason": "Response to preflight request doesn't pass access control check",
        });
        assert_eq!(
            CardVerdict::from_json(&shown),
            CardVerdict {
                run_id: "put-item-1".into(),
                outcome: Some("blocked".into()),
                cors_error: "PreflightInvalidStatus".into(),
                preflight_seen: true,
                preflight_count: Some(1),
                expected_preflights: Some(1),
                reason: "Response to preflight request doesn't pass access control check".into(),
            }
        );
    }

    #[test]
    fn missing_attributes_read_as_empty() {
        // `undefined` dataset values are left out of the returned object.
        let verdict = CardVerdict::from_json(&json!({ "reason": "" }));
        assert_eq!(verdict, CardVerdict::default());
        let odd = CardVerdict::from_json(&json!({
            "preflightSeen": "yes", "preflightCount": "many", "expectedPreflights": "-1",
        }));
        assert!(!odd.preflight_seen);
        assert_eq!((odd.preflight_count, odd.expected_preflights), (None, None));
    }
}
