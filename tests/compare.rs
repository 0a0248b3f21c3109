//! “Compare policies side by side”, against a real headless Chromium.
//!
//! The page claims that each cell of its table is what happened when the scenario ran under
//! that column's policy: passed, or blocked with a `CorsError`, after so many preflights. Here
//! a link chooses four columns (the policy in force, strict with fields set on top, and three
//! presets) and five scenarios; the comparison runs, and every cell is held to what Chromium
//! itself reported over the DevTools protocol for that cell's run. A row is marked as differing
//! exactly when Chromium's outcomes differ across the columns (a second, smaller comparison has
//! a row blocked in every column, with different errors). Afterwards the API must be back on
//! the policy that was in force before, its fields included; Stop must end a comparison early
//! and put it back too; a switch from elsewhere mid-comparison must stop it and stand; and the
//! untrusted page, which may not switch, must not offer to compare.

use std::collections::BTreeMap;
use std::time::Duration;

use api_server::cli::PolicyArgs;
use browser_harness::{Browser, LabPage};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// One cell as the page shows it, and as Chromium saw its run.
#[derive(Debug, PartialEq, Eq, Clone)]
struct Cell {
    outcome: String,
    cors_error: String,
    preflights: u64,
}

/// What Chromium reported for the requests of one run: the preflights it sent, and the
/// `CorsError` it failed a request with (a preflight's failure is reported on its request).
async fn chromium_cell(page: &LabPage, run_id: &str) -> Cell {
    let requests = page
        .wait_network_settled(&format!("run={run_id}"), WAIT)
        .await
        .unwrap_or_else(|e| panic!("{run_id}: {e}"));
    let preflights = requests.iter().filter(|r| r.is_preflight).count() as u64;
    let cors_error = requests
        .iter()
        .filter(|r| !r.is_preflight)
        .find_map(|r| r.failed.as_ref().and_then(|f| f.cors_error.clone()));
    Cell {
        outcome: if cors_error.is_some() {
            "blocked"
        } else {
            "pass"
        }
        .to_string(),
        cors_error: cors_error.unwrap_or_default(),
        preflights,
    }
}

/// The API's policy now, as (preset, max_age, allow_headers): what the learner's policy sets.
async fn policy_in_force(api_url: &str) -> (String, String, String) {
    let policy: Value = reqwest::get(format!("{api_url}/_lab/policy"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let field = |name: &str| {
        policy["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .and_then(|f| f["value"].as_str())
            .unwrap_or_else(|| panic!("no field {name} in {policy}"))
            .to_string()
    };
    (
        policy["preset"].as_str().unwrap().to_string(),
        field("max_age"),
        field("allow_headers"),
    )
}

/// The learner's policy of the test: strict with X-Other allowed and Max-Age 7.
fn learners_policy() -> (String, String, String) {
    (
        "strict".into(),
        "7".into(),
        "content-type,x-token,authorization,x-other".into(),
    )
}

/// The table's cells: (filled with a run's result, all).
async fn filled_of(page: &LabPage) -> (u64, u64) {
    let counts = page
        .evaluate_json(
            "[document.querySelectorAll('td.compare__cell[data-outcome]').length, \
              document.querySelectorAll('td.compare__cell').length]",
        )
        .await
        .unwrap();
    (counts[0].as_u64().unwrap(), counts[1].as_u64().unwrap())
}

/// Chromium's cells of one scenario, in the order of the columns.
type Row = Vec<(String, Cell)>;

/// Opens the page's link for `presets` × `scenarios`, runs the comparison and holds every cell,
/// and every row's "differs" mark, to Chromium's report. Returns scenario → (Chromium's row,
/// whether the page marked it as differing).
async fn compare(
    page: &LabPage,
    presets: &[&str],
    scenarios: &[&str],
) -> BTreeMap<String, (Row, bool)> {
    let link = format!(
        "#compare={}&compare-scenarios={}",
        presets.join(","),
        scenarios.join(",")
    );
    page.evaluate_json(&format!(
        "(() => {{ location.hash = '{link}'; return true; }})()"
    ))
    .await
    .unwrap();
    page.wait_for(
        &format!(
            "[...document.querySelectorAll('input[name=compare-preset]:checked')].map((i) => i.value).join() === '{}'",
            presets.join(",")
        ),
        WAIT,
    )
    .await
    .expect("the link checks its presets");
    // "Link to this choice" gives the same choice back.
    let again = page
        .evaluate_json(
            "(() => { const p = new URLSearchParams(new URL(document.getElementById('compare-link').href).hash.slice(1)); \
               return [p.get('compare'), p.get('compare-scenarios')]; })()",
        )
        .await
        .unwrap();
    assert_eq!(
        again,
        serde_json::json!([presets.join(","), scenarios.join(",")]),
        "Link to this choice"
    );
    // The last comparison's "done" must not count for this one.
    page.evaluate_json("document.getElementById('compare').dataset.state = 'idle'")
        .await
        .unwrap();
    page.click("#compare-run")
        .await
        .expect("the Compare button");
    page.wait_for(
        "document.getElementById('compare').dataset.state === 'done'",
        Duration::from_secs(90),
    )
    .await
    .expect("the comparison ends");

    let shown = page
        .evaluate_json(
            "[...document.querySelectorAll('td.compare__cell')].map((td) => ({ ...td.dataset, \
               differs: td.closest('tr').dataset.differs === 'true' }))",
        )
        .await
        .unwrap();
    let shown = shown.as_array().unwrap();
    assert_eq!(
        shown.len(),
        presets.len() * scenarios.len(),
        "one cell per preset and scenario: {shown:?}"
    );
    let mut rows: BTreeMap<String, (Row, bool)> = BTreeMap::new();
    for cell in shown {
        let text = |k: &str| cell[k].as_str().unwrap_or_default().to_string();
        let (preset, scenario, run_id) = (text("preset"), text("scenario"), text("runId"));
        let page_cell = Cell {
            outcome: text("outcome"),
            cors_error: text("corsError"),
            preflights: text("preflights").parse().unwrap(),
        };
        let truth = chromium_cell(page, &run_id).await;
        assert_eq!(
            page_cell, truth,
            "{scenario} under {preset} (run {run_id}): the page's cell against Chromium's report"
        );
        let row = rows.entry(scenario).or_default();
        row.0.push((preset, truth));
        row.1 = cell["differs"].as_bool().unwrap();
    }
    for (scenario, (cells, marked)) in &rows {
        let columns: Vec<&str> = cells.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            columns, presets,
            "{scenario}: the columns in the order chosen"
        );
        let first = &cells[0].1;
        let differs = cells
            .iter()
            .any(|(_, c)| (&c.outcome, &c.cors_error) != (&first.outcome, &first.cors_error));
        assert_eq!(
            *marked, differs,
            "{scenario}: marked as differing exactly when Chromium's outcomes differ: {cells:?}"
        );
    }
    eprintln!("{presets:?}: {rows:?}");
    rows
}

#[tokio::test]
async fn each_cell_is_what_chromium_did_under_that_preset() {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let browser = Browser::launch().await.expect("Chromium starts");
    let page = browser
        .open_lab_page(&format!("{}/", lab.trusted_url), WAIT)
        .await
        .expect("the page opens and is ready");

    // A policy of the learner's own: strict with X-Other allowed and Max-Age 7 set on top. It is
    // a column of its own ("now"), and the comparison must put back this, not the preset alone.
    let (preset, max_age, headers) = learners_policy();
    page.evaluate_json(&format!(
        "corsLab.switchPolicy({{ variables: {{ CORS_PRESET: '{preset}', CORS_MAX_AGE: '{max_age}', \
           CORS_ALLOW_HEADERS: '{headers}' }} }}).then((p) => p.preset)"
    ))
    .await
    .unwrap();
    assert_eq!(policy_in_force(&lab.api_url).await, learners_policy());

    let rows = compare(
        &page,
        &["now", "strict", "permissive", "off"],
        &[
            "get-simple",
            "put-item",
            "unlisted-header",
            "credentialed-get",
            "no-cors-get",
        ],
    )
    .await;
    // These give passes, several CorsErrors, rows that differ and one that does not, so the
    // checks above have something to tell apart.
    let all: Vec<&Cell> = rows.values().flat_map(|(r, _)| r).map(|(_, c)| c).collect();
    assert!(all.iter().any(|c| c.outcome == "pass"));
    let errors: std::collections::BTreeSet<&str> = all
        .iter()
        .map(|c| c.cors_error.as_str())
        .filter(|e| !e.is_empty())
        .collect();
    assert!(errors.len() >= 3, "several CorsErrors: {errors:?}");
    assert!(rows.values().any(|r| r.1) && rows.values().any(|r| !r.1));
    // The learner's policy lets X-Other through, where strict refuses it.
    let other = &rows["unlisted-header"].0;
    assert_eq!(other[0].1.outcome, "pass", "{other:?}");
    assert_eq!(
        other[1].1.cors_error, "HeaderDisallowedByPreflightResponse",
        "{other:?}"
    );
    // The page says no preflight cached under one preset answers for another: the PUT is
    // preflighted afresh in every column.
    let put = &rows["put-item"].0;
    assert!(put.iter().all(|(_, c)| c.preflights == 1), "{put:?}");
    // The same table as Markdown: a row per scenario, each cell in words, as Chromium had it.
    let markdown = page
        .evaluate_json("document.getElementById('compare-markdown')?.textContent ?? ''")
        .await
        .unwrap();
    let titles = page
        .evaluate_json("Object.fromEntries(corsLab.scenarios.map((s) => [s.id, s.title]))")
        .await
        .unwrap();
    let markdown = markdown.as_str().unwrap();
    assert!(
        markdown.contains("| Scenario | in force: strict with ")
            && markdown.contains(" | strict | permissive | off |"),
        "{markdown}"
    );
    for (id, (cells, _)) in &rows {
        let words: Vec<String> = cells
            .iter()
            .map(|(_, c)| {
                let preflights = match c.preflights {
                    0 => String::new(),
                    1 => " (1 preflight)".to_string(),
                    n => format!(" ({n} preflights)"),
                };
                if c.outcome == "blocked" {
                    format!("✗ {}{preflights}", c.cors_error)
                } else if id == "no-cors-get" {
                    format!("✓ sent, opaque{preflights}")
                } else {
                    format!("✓ passes{preflights}")
                }
            })
            .collect();
        let line = format!(
            "| {} | {} |",
            titles[id].as_str().unwrap(),
            words.join(" | ")
        );
        assert!(markdown.lines().any(|l| l == line), "{line} in {markdown}");
    }

    // "Only rows that differ" hides the row that is the same under every preset.
    page.click("#compare-only-differs").await.unwrap();
    let displayed = page
        .evaluate_json(
            "['no-cors-get', 'get-simple'].map((id) => \
               document.querySelector(`tr.compare__row[data-scenario=\"${id}\"]`).getClientRects().length > 0)",
        )
        .await
        .unwrap();
    assert_eq!(
        displayed,
        serde_json::json!([false, true]),
        "only the rows that differ"
    );
    page.click("#compare-only-differs").await.unwrap();

    // A blocked cell's "Why?" shows its run: the console line must be the one Chromium printed.
    page.click("td.compare__cell[data-preset=off][data-scenario=put-item] [data-details]")
        .await
        .expect("a Why? button on the blocked cell");
    let detail = page
        .evaluate_json(
            "(() => { const d = document.getElementById('compare-detail'); \
               return { shown: !d.hidden, console: d.querySelector('[data-field=console]')?.textContent ?? '' }; })()",
        )
        .await
        .unwrap();
    let run_id = page
        .evaluate_json(
            "document.querySelector('td.compare__cell[data-preset=off][data-scenario=put-item]').dataset.runId",
        )
        .await
        .unwrap();
    let printed: Vec<String> = page
        .console_matching(&format!("?run={}'", run_id.as_str().unwrap()))
        .into_iter()
        .map(|c| c.text)
        .collect();
    assert_eq!(detail["shown"], true);
    assert!(
        printed
            .iter()
            .any(|t| t == detail["console"].as_str().unwrap()),
        "the detail's console line {} against Chromium's {printed:?}",
        detail["console"]
    );

    assert_eq!(
        policy_in_force(&lab.api_url).await,
        learners_policy(),
        "put back, with its fields"
    );

    // Blocked in both columns, for different reasons: that row differs too.
    let rows = compare(&page, &["off", "broken-trailing-slash"], &["get-simple"]).await;
    let (get, marked) = &rows["get-simple"];
    assert!(get.iter().all(|(_, c)| c.outcome == "blocked"), "{get:?}");
    assert!(*marked, "{get:?}");

    // Stopped at once: it ends before the last cell, and the policy is put back.
    page.evaluate_json(
        "(() => { location.hash = 'compare=permissive,off&compare-group=Preflighted requests'; return true; })()",
    )
    .await
    .unwrap();
    page.wait_for(
        "document.getElementById('compare-group').value === 'Preflighted requests'",
        WAIT,
    )
    .await
    .expect("the link chooses the group");
    page.click("#compare-run").await.unwrap();
    page.click("#compare-stop")
        .await
        .expect("a Stop button while it runs");
    page.wait_for(
        "document.getElementById('compare').dataset.state === 'stopped'",
        Duration::from_secs(60),
    )
    .await
    .expect("the comparison stops");
    let (filled, cells) = filled_of(&page).await;
    let preflighted = page
        .evaluate_json("corsLab.scenarios.filter((s) => s.group === 'Preflighted requests').length")
        .await
        .unwrap();
    let after_stop = policy_in_force(&lab.api_url).await;

    // Another page switches the policy while a comparison runs (here the test, as the trusted
    // page would): the comparison stops, leaves that run out, and does not undo the switch.
    page.evaluate_json(
        "(() => { location.hash = 'compare=permissive,off&compare-group='; return true; })()",
    )
    .await
    .unwrap();
    page.wait_for(
        "document.getElementById('compare-group').value === ''",
        WAIT,
    )
    .await
    .expect("the link chooses all the scenarios");
    page.click("#compare-run").await.unwrap();
    page.wait_for(
        "document.querySelectorAll('td.compare__cell[data-outcome]').length >= 2",
        Duration::from_secs(60),
    )
    .await
    .expect("a few cells are filled");
    let switched = reqwest::Client::new()
        .post(format!("{}/_lab/switch", lab.api_url))
        .header("origin", &lab.trusted_url)
        .header("x-lab-secret", &lab.lab_secret)
        .json(&serde_json::json!({"variables": {"CORS_PRESET": "broken-double-origin"}}))
        .send()
        .await
        .unwrap()
        .status();
    page.wait_for(
        "document.getElementById('compare').dataset.state === 'disturbed'",
        Duration::from_secs(60),
    )
    .await
    .expect("the comparison stops when the policy is switched elsewhere");
    let left = filled_of(&page).await;
    let said = page
        .evaluate_json("document.getElementById('compare-status').textContent")
        .await
        .unwrap();
    let after_switch = policy_in_force(&lab.api_url).await;

    // The untrusted page may not switch, so it offers no comparison, only the trusted page's.
    let untrusted = browser
        .open_lab_page(&format!("{}/#compare=strict,off", lab.untrusted_url), WAIT)
        .await
        .unwrap();
    untrusted
        .wait_for(
            "document.getElementById('compare-status').textContent.includes('trusted page')",
            WAIT,
        )
        .await
        .expect("the untrusted page says where to compare");
    let disabled = untrusted
        .evaluate_json("document.getElementById('compare-run').disabled")
        .await
        .unwrap();
    let points_to_trusted = untrusted
        .evaluate_json("document.querySelector('#compare-status a').href")
        .await
        .unwrap();

    let trusted_url = lab.trusted_url.clone();
    let _ = untrusted.close().await;
    let _ = page.close().await;
    let _ = browser.close().await;
    lab.stop().await.unwrap();
    assert_eq!(
        cells,
        2 * preflighted.as_u64().unwrap(),
        "the preflighted scenarios × 2 presets"
    );
    assert!(
        filled < cells,
        "stopped before the end: {filled} of {cells} cells filled"
    );
    assert_eq!(after_stop, learners_policy(), "put back after Stop");
    assert!(switched.is_success(), "{switched}");
    assert_eq!(
        after_switch.0, "broken-double-origin",
        "the other switch stands"
    );
    assert!(left.0 < left.1, "stopped early: {left:?}");
    assert!(
        said.as_str().unwrap().contains("policy changed elsewhere"),
        "{said}"
    );
    assert_eq!(disabled, true, "no Compare button on the untrusted page");
    assert!(
        points_to_trusted
            .as_str()
            .unwrap()
            .starts_with(&format!("{trusted_url}/#compare=")),
        "{points_to_trusted}"
    );
}
