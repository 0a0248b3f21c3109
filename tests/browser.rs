//! The scenario catalogue against a real headless Chromium.
//!
//! For every scenario of `static/scenarios.json`, under each preset, from the trusted and the
//! untrusted page, the test clicks the card's real Run button and checks three sources against
//! each other:
//!
//! 1. **preflight** — how many Chromium sent (DevTools), how many the journal recorded, how many
//!    the card shows and said would happen (the preflight cache), and whether the catalogue
//!    declares one;
//! 2. **outcome** — Chromium's result (success, or `corsErrorStatus.corsError` of the first
//!    blocked request), the journal's predicted verdict for the scenario's credentials mode, and
//!    the card's verdict;
//! 3. **words** — the reason the card quotes appears in Chromium's console message, and so do
//!    the words the catalogue gives (`console`) for a request refused before it was sent.
//!
//! The catalogue's `reproduce` map, where the page's *Explain an error* section sends a learner to
//! see a `CorsError` happen in the lab, must name cells where Chromium reports exactly that error.
//!
//! Every cell is checked before the test fails, and a summary matrix is printed; a failing cell
//! saves a screenshot and the DevTools event log under `target/browser-failures/`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use api_server::cli::PolicyArgs;
use browser_harness::{find_chromium, read_card, Browser, LabPage};
use serde_json::Value;

const CATALOGUE: &str = include_str!("../static/scenarios.json");
const TIMEOUT: Duration = Duration::from_secs(15);

struct Cell {
    scenario: String,
    preset: &'static str,
    from: &'static str,
    result: Result<String, String>,
}

fn failures_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("browser-failures")
}

/// How many presets run at once, each with its own lab and its own browser (input events only
/// reach the tab in front, so one browser drives one tab at a time).
const PARALLEL_PRESETS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_agrees_with_chromium() {
    if let Err(e) = find_chromium() {
        panic!("the browser tests need Chromium: {e}");
    }
    let catalogue: Value = serde_json::from_str(CATALOGUE).expect("static/scenarios.json parses");
    let scenarios = catalogue["scenarios"]
        .as_array()
        .expect("a scenarios array")
        .clone();
    // Every preset, plus strict with Max-Age 0 for the preflight cache (strict has 600,
    // permissive leaves it unset: the browser's 5 s default).
    let presets: Vec<&'static str> = cors_policy::Preset::all()
        .map(|p| p.name())
        .chain([STRICT_NO_CACHE])
        .collect();

    // Presets are dealt round-robin to PARALLEL_PRESETS workers, each with its own browser.
    let workers = (0..PARALLEL_PRESETS).map(|w| {
        let mine: Vec<&'static str> = presets
            .iter()
            .copied()
            .skip(w)
            .step_by(PARALLEL_PRESETS)
            .collect();
        let scenarios = &scenarios;
        async move {
            let browser = Browser::launch().await.expect("Chromium starts");
            let mut cells = Vec::new();
            for preset in mine {
                cells.extend(run_preset(&browser, preset, scenarios).await);
            }
            let _ = browser.close().await;
            cells
        }
    });
    let mut cells: Vec<Cell> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect();
    cells.sort_by_key(|c| presets.iter().position(|p| *p == c.preset));

    let report = matrix(&cells);
    // Straight to the stderr descriptor: libtest captures print!/eprint!, and the matrix should
    // show in a plain `cargo test` run. Also kept in target/ for later reading.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), report.as_bytes());
    let _ = std::fs::create_dir_all(failures_dir().parent().unwrap_or(&failures_dir()));
    let _ = std::fs::write(
        failures_dir().with_file_name("browser-matrix.txt"),
        report.as_bytes(),
    );
    let mut failures: Vec<String> = cells
        .iter()
        .filter_map(|c| {
            c.result.as_ref().err().map(|e| {
                format!(
                    "{} × {} from the {} page:\n{e}",
                    c.scenario, c.preset, c.from
                )
            })
        })
        .collect();
    // The catalogue's `reproduce` map: where the page's "Explain an error" section says the lab
    // shows each CorsError. Chromium must report exactly that error in that cell.
    let reproduce = catalogue["reproduce"]
        .as_object()
        .expect("scenarios.json has a reproduce map");
    for (error, at) in reproduce {
        let cell = cells.iter().find(|c| {
            at["scenario"] == c.scenario.as_str()
                && at["preset"] == c.preset
                && at["page"] == c.from
        });
        let blocked = format!("block:{error}");
        match cell.map(|c| &c.result) {
            Some(Ok(shown)) if shown == &blocked || shown.starts_with(&format!("{blocked} ")) => {}
            other => failures.push(format!(
                "reproduce.{error} points at {at}, where the matrix has {other:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cells disagree (screenshots and event logs in {}):\n\n{}",
        failures.len(),
        cells.len(),
        failures_dir().display(),
        failures.join("\n\n")
    );
}

/// The `strict` preset with `CORS_MAX_AGE=0`.
const STRICT_NO_CACHE: &str = "strict+max-age-0";

/// Every scenario under one preset, from the trusted page, then from the untrusted page.
async fn run_preset(browser: &Browser, preset: &'static str, scenarios: &[Value]) -> Vec<Cell> {
    let policy = if preset == STRICT_NO_CACHE {
        PolicyArgs {
            cors_preset: Some("strict".into()),
            cors_max_age: Some("0".into()),
            ..Default::default()
        }
    } else {
        PolicyArgs {
            cors_preset: Some(preset.to_string()),
            ..Default::default()
        }
    };
    let lab = cors_lab::start_ephemeral(policy)
        .await
        .expect("the lab starts");
    let mut cells = Vec::new();
    for (from, url) in [
        ("trusted", &lab.trusted_url),
        ("untrusted", &lab.untrusted_url),
    ] {
        let page = browser.new_page(url).await.expect("the page opens");
        page.wait_for(
            &format!(
                "document.querySelectorAll('[data-run]').length >= {}",
                scenarios.len()
            ),
            TIMEOUT,
        )
        .await
        .expect("the cards render");
        for scenario in scenarios {
            let id = scenario["id"].as_str().unwrap().to_string();
            let result = run_one(&page, &lab.api_url, scenario).await;
            if result.is_err() {
                let dir = failures_dir();
                let _ = std::fs::create_dir_all(&dir);
                let stem = dir.join(format!("{preset}-{from}-{id}"));
                let _ = page.screenshot(stem.with_extension("png")).await;
                let _ = page.dump_events(stem.with_extension("log"));
            }
            cells.push(Cell {
                scenario: id,
                preset,
                from,
                result,
            });
        }
        let _ = page.close().await;
    }
    lab.stop().await.expect("the lab stops");
    cells
}

/// What one source says about one run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    preflights: usize,
    /// `pass`, `unreached`, or the CorsError name of the first blocked request.
    outcome: String,
}

/// Clicks one card's Run button and compares Chromium, the journal and the card.
async fn run_one(page: &LabPage, api_url: &str, scenario: &Value) -> Result<String, String> {
    let id = scenario["id"].as_str().unwrap();
    let reaches_api = scenario["reaches_api"].as_bool().unwrap_or(true);
    let credentials = match scenario["credentials"].as_str() {
        Some("include") => "include",
        _ => "omit",
    };
    let card = format!("document.querySelector('[data-scenario=\"{id}\"]')");
    page.click(&format!("[data-run=\"{id}\"]"))
        .await
        .map_err(|e| format!("clicking Run: {e}"))?;
    page.wait_for(&format!("{card}.dataset.state === 'done'"), TIMEOUT)
        .await
        .map_err(|e| format!("waiting for the card: {e}"))?;
    let shown = read_card(page, id)
        .await
        .map_err(|e| format!("reading the card: {e}"))?;
    let run = shown.run_id.clone();
    let card_view = Seen {
        preflights: shown
            .preflight_count
            .unwrap_or(usize::from(shown.preflight_seen)),
        outcome: match shown.outcome.as_deref() {
            Some("blocked") => shown.cors_error.clone(),
            Some(other) => other.into(),
            None => "none".into(),
        },
    };
    let declared = scenario["preflight"]["expected"].as_bool().unwrap_or(false);
    let card_expected = shown
        .expected_preflights
        .unwrap_or(usize::from(declared && reaches_api));

    // Chromium, from DevTools events.
    let requests = if reaches_api {
        page.wait_network_settled(&format!("run={run}"), TIMEOUT)
            .await
            .map_err(|e| format!("waiting for Chromium's network events: {e}"))?
    } else {
        // Nothing should be sent; give a stray request time to show up.
        tokio::time::sleep(Duration::from_millis(300)).await;
        page.requests_matching(&format!("run={run}"))
    };
    let chromium = Seen {
        preflights: requests.iter().filter(|r| r.is_preflight).count(),
        outcome: if requests.is_empty() {
            "unreached".into()
        } else {
            requests
                .iter()
                .filter(|r| !r.is_preflight)
                .find_map(|r| r.failed.as_ref().and_then(|f| f.cors_error.clone()))
                .unwrap_or_else(|| "pass".into())
        },
    };

    // The journal, read directly: its entries and its predicted verdict.
    let mut journal: Vec<Value> = reqwest::get(format!(
        "{}/_lab/journal?run={run}",
        api_url.replace("localhost", "127.0.0.1")
    ))
    .await
    .and_then(|r| r.error_for_status())
    .map_err(|e| format!("reading the journal: {e}"))?
    .json()
    .await
    .map_err(|e| format!("parsing the journal: {e}"))?;
    journal.sort_by_key(|e| e["id"].as_u64());
    let journal_view = Seen {
        preflights: journal.iter().filter(|e| e["kind"] == "preflight").count(),
        outcome: if journal.is_empty() {
            "unreached".into()
        } else {
            journal
                .iter()
                .map(|e| &e["verdict"][credentials])
                .find(|v| v["pass"] == false)
                .map(|v| v["cors_error"].as_str().unwrap_or_default().to_string())
                .unwrap_or_else(|| "pass".into())
        },
    };

    let mut problems = String::new();
    let row = |label: &str, seen: &Seen| {
        format!(
            "    {label:<10} preflights={:<3} outcome={}\n",
            seen.preflights, seen.outcome
        )
    };
    let sides = [
        row("chromium", &chromium),
        row("journal", &journal_view),
        row("card", &card_view),
        format!("    card says  expected preflights={card_expected}\n"),
        format!("    catalogue  preflight expected={declared}\n"),
    ]
    .concat();
    let preflights_agree = chromium.preflights == journal_view.preflights
        && chromium.preflights == card_view.preflights
        && chromium.preflights == card_expected
        && (chromium.preflights > 0) == (declared && reaches_api);
    if !preflights_agree {
        let _ = writeln!(problems, "  preflight disagrees:\n{sides}");
    }
    if !(chromium.outcome == journal_view.outcome && chromium.outcome == card_view.outcome) {
        let _ = writeln!(problems, "  outcome disagrees:\n{sides}");
    }
    if chromium.outcome != "pass" && chromium.outcome != "unreached" {
        let reason = shown.reason.as_str();
        let console = page.console_matching("has been blocked by CORS policy");
        let said = console.iter().any(|c| {
            c.text.contains(&format!("?run={run}'"))
                && !reason.is_empty()
                && c.text.contains(reason)
        });
        if !said {
            let texts: Vec<&str> = console
                .iter()
                .filter(|c| c.text.contains(&run))
                .map(|c| c.text.as_str())
                .collect();
            let _ = writeln!(
                problems,
                "  words disagree:\n    card:     {reason:?}\n    console:  {texts:?}"
            );
        }
    }
    // A scenario the browser refuses before sending may name the console's words for it.
    if let Some(words) = scenario["console"].as_str() {
        let said = page
            .console_entries()
            .iter()
            .any(|c| c.text.contains(&format!("run={run}")) && c.text.contains(words));
        if !said {
            let texts: Vec<String> = page
                .console_entries()
                .into_iter()
                .filter(|c| c.text.contains(&run))
                .map(|c| c.text)
                .collect();
            let _ = writeln!(
                problems,
                "  console disagrees:\n    catalogue: {words:?}\n    console:   {texts:?}"
            );
        }
    }
    if problems.is_empty() {
        let preflights = match chromium.preflights {
            0 => String::new(),
            1 => " (preflight)".into(),
            n => format!(" ({n} preflights)"),
        };
        Ok(match chromium.outcome.as_str() {
            "pass" | "unreached" => format!("{}{preflights}", chromium.outcome),
            error => format!("block:{error}{preflights}"),
        })
    } else {
        Err(problems)
    }
}

/// One block per preset: scenario rows, a column per page.
fn matrix(cells: &[Cell]) -> String {
    let mut out = String::from(
        "\nScenario × preset × page — Chromium, journal and card agree (or MISMATCH)\n",
    );
    let mut presets: Vec<&str> = Vec::new();
    for c in cells {
        if !presets.contains(&c.preset) {
            presets.push(c.preset);
        }
    }
    for preset in presets {
        let _ = writeln!(
            out,
            "\n{preset}\n  {:<20} {:<44} untrusted page",
            "scenario", "trusted page"
        );
        let mut rows: Vec<&str> = Vec::new();
        for c in cells.iter().filter(|c| c.preset == preset) {
            if !rows.contains(&c.scenario.as_str()) {
                rows.push(&c.scenario);
            }
        }
        for row in rows {
            let text = |from: &str| match cells
                .iter()
                .find(|c| c.preset == preset && c.scenario == row && c.from == from)
                .map(|c| &c.result)
            {
                Some(Ok(v)) => v.clone(),
                Some(Err(_)) => "MISMATCH".into(),
                None => "-".into(),
            };
            let _ = writeln!(
                out,
                "  {row:<20} {:<44} {}",
                text("trusted"),
                text("untrusted")
            );
        }
    }
    out
}

/// Cross-site request forgery against the policy switch, from the untrusted page in a real
/// browser: neither a preflighted request nor a simple one (which CORS lets through to the
/// server!) changes the policy; the trusted page, with its secret, can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_trusted_page_can_switch_the_policy() {
    if let Err(e) = find_chromium() {
        panic!("the browser tests need Chromium: {e}");
    }
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .expect("the lab starts");
    let browser = Browser::launch().await.expect("Chromium starts");
    let preset = || async {
        let policy: Value = reqwest::get(format!(
            "{}/_lab/policy",
            lab.api_url.replace("localhost", "127.0.0.1")
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        policy["preset"].as_str().unwrap().to_string()
    };
    let attempt = |secret: &str, simple: bool| {
        let (content_type, extra) = if simple {
            ("text/plain", String::new())
        } else {
            ("application/json", format!(", 'X-Lab-Secret': '{secret}'"))
        };
        format!(
            "fetch('{api}/_lab/switch', {{ method: 'POST',
                headers: {{ 'Content-Type': '{content_type}'{extra} }},
                body: JSON.stringify({{ variables: {{ CORS_PRESET: 'permissive' }} }}) }})
              .then(r => 'status ' + r.status, e => String(e))",
            api = lab.api_url
        )
    };

    let untrusted = browser.new_page(&lab.untrusted_url).await.unwrap();
    let secret_there = untrusted
        .evaluate_json("document.body.dataset.labSecret ?? ''")
        .await
        .unwrap();
    assert_eq!(
        secret_there, "",
        "the untrusted page is not given the secret"
    );
    for (secret, simple, why) in [
        ("guess", false, "a preflighted attempt"),
        (lab.lab_secret.as_str(), false, "even with the real secret"),
        (
            "",
            true,
            "a simple text/plain POST, which CORS does not stop from being sent",
        ),
    ] {
        let got = untrusted
            .evaluate_json(&attempt(secret, simple))
            .await
            .unwrap();
        assert_eq!(got, "TypeError: Failed to fetch", "{why}");
        assert_eq!(
            preset().await,
            "strict",
            "{why}: the policy must not change"
        );
    }
    let _ = untrusted.close().await;

    let trusted = browser.new_page(&lab.trusted_url).await.unwrap();
    let secret = trusted
        .evaluate_json("document.body.dataset.labSecret")
        .await
        .unwrap();
    let got = trusted
        .evaluate_json(&attempt(secret.as_str().unwrap(), false))
        .await
        .unwrap();
    assert_eq!(got, "status 200");
    assert_eq!(preset().await, "permissive");

    let _ = browser.close().await;
    lab.stop().await.unwrap();
}
