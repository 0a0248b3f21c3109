//! Walks a running lab in a real headless Chromium and checks what it sees — the proof that a
//! deployment (scripts/docker-test.sh: the three Docker containers) works in a browser.
//!
//! ```text
//! cargo run --example walk_lab -- http://localhost:8080 http://127.0.0.1:8081 \
//!     http://localhost:9090 --expect strict
//! ```
//!
//! It opens the trusted page, clicks the Run buttons of a preflighted scenario (`put-item`) and a
//! simple one (`get-simple`), then does the same from the untrusted page, and for each run
//! compares four sources: what Chromium did (DevTools: the preflight, the `corsError`), what
//! the card shows (`data-outcome`, `data-cors-error`, `data-preflight-seen`), what the API's
//! journal recorded (preflight or not, the engine's decision) and what the policy given with
//! `--expect` must produce:
//!
//! | `--expect` | trusted page | untrusted page |
//! |---|---|---|
//! | `strict` | both pass; `put-item` preflighted (allowed) | both blocked; `put-item`'s preflight refused (in the journal), the PUT never sent |
//! | `off` | both blocked: the API sends no CORS headers | the same |
//!
//! It prints one line per run (and Chromium's console message for a blocked one) and exits 1
//! on any disagreement, 2 on bad arguments. It talks to loopback only: every URL must be on
//! `localhost` or `127.0.0.1`.

use std::process::ExitCode;
use std::time::Duration;

use browser_harness::{read_card, Browser, CardVerdict, LabPage};
use clap::{Parser, ValueEnum};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(20);
const SCENARIOS: [&str; 2] = ["put-item", "get-simple"];

/// Walk a running CORS Lab in headless Chromium and check the outcomes of a policy.
#[derive(Debug, Parser)]
struct Args {
    /// The trusted page, e.g. http://localhost:8080
    trusted_url: String,
    /// The untrusted page, e.g. http://127.0.0.1:8081
    untrusted_url: String,
    /// The API, as the page calls it, e.g. http://localhost:9090
    api_url: String,
    /// The policy the API was started with.
    #[arg(long, value_enum)]
    expect: Expect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Expect {
    Strict,
    Off,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Strict => "strict",
            Expect::Off => "off",
        }
    }
}

/// What one run must look like.
struct Want {
    pass: bool,
    preflight: bool,
    /// `decision.outcome` of every journal entry of the run.
    decision: &'static str,
}

fn want(expect: Expect, page: &str, scenario: &str) -> Want {
    let preflight = scenario == "put-item";
    match (expect, page) {
        (Expect::Strict, "trusted") => Want {
            pass: true,
            preflight,
            decision: "allowed",
        },
        (Expect::Strict, _) => Want {
            pass: false,
            preflight,
            decision: "refused",
        },
        (Expect::Off, _) => Want {
            pass: false,
            preflight,
            decision: "cors-off",
        },
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    for url in [&args.trusted_url, &args.untrusted_url, &args.api_url] {
        if !is_loopback_url(url) {
            eprintln!(
                "walk_lab: {url} is not on localhost or 127.0.0.1; refusing to leave loopback"
            );
            return ExitCode::from(2);
        }
    }
    let trimmed = |u: &str| u.trim_end_matches('/').to_string();
    let (trusted, untrusted, api) = (
        trimmed(&args.trusted_url),
        trimmed(&args.untrusted_url),
        trimmed(&args.api_url),
    );
    let mut problems = Vec::new();

    match fetch_json(&format!("{api}/_lab/policy")).await {
        Ok(policy) => {
            let preset = policy["preset"].as_str().unwrap_or_default();
            match policy["summary"].as_str().filter(|s| !s.is_empty()) {
                Some(summary) => println!("API   {api}: preset {preset:?} — {summary}"),
                None => println!("API   {api}: preset {preset:?}"),
            }
            if preset != args.expect.name() {
                problems.push(format!(
                    "the API runs preset {preset:?}, expected {:?}",
                    args.expect.name()
                ));
            }
        }
        Err(e) => problems.push(format!("reading the API's policy: {e}")),
    }

    let browser = match Browser::launch().await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("walk_lab: Chromium does not start: {e}");
            return ExitCode::from(1);
        }
    };
    for (page_name, url) in [("trusted", &trusted), ("untrusted", &untrusted)] {
        match open_page(&browser, url, page_name, &api).await {
            Ok(page) => {
                for scenario in SCENARIOS {
                    let wanted = want(args.expect, page_name, scenario);
                    match run_one(&page, &api, url, scenario, &wanted).await {
                        Ok(line) => println!(
                            "ok    {:<6} {page_name:<9} {scenario:<11} {line}",
                            args.expect.name()
                        ),
                        Err(e) => {
                            println!(
                                "FAIL  {:<6} {page_name:<9} {scenario:<11} {e}",
                                args.expect.name()
                            );
                            problems.push(format!("{scenario} from the {page_name} page"));
                        }
                    }
                }
            }
            Err(e) => problems.push(format!("the {page_name} page {url}: {e}")),
        }
    }
    let _ = browser.close().await;

    if problems.is_empty() {
        println!(
            "walk_lab: all {} runs agree with preset {}",
            2 * SCENARIOS.len(),
            args.expect.name()
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("walk_lab: {} problem(s):", problems.len());
        for p in &problems {
            eprintln!("  - {p}");
        }
        ExitCode::from(1)
    }
}

fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    host == "localhost" || host == "[::1]" || host.starts_with("127.")
}

/// GET a lab URL as JSON. `localhost` becomes `127.0.0.1`: Docker publishes the ports on IPv4.
async fn fetch_json(url: &str) -> Result<Value, String> {
    reqwest::get(url.replacen("://localhost", "://127.0.0.1", 1))
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

/// Opens the page, waits for its cards and checks that it calls the expected API.
async fn open_page(browser: &Browser, url: &str, role: &str, api: &str) -> Result<LabPage, String> {
    let page = browser
        .new_page(&format!("{url}/"))
        .await
        .map_err(|e| format!("does not open: {e}"))?;
    let selectors: Vec<String> = SCENARIOS
        .iter()
        .map(|id| format!("document.querySelector('[data-run=\"{id}\"]')"))
        .collect();
    page.wait_for(&selectors.join(" && "), TIMEOUT)
        .await
        .map_err(|e| format!("its cards do not render: {e}"))?;
    let body = page
        .evaluate_json(
            "({ api: document.body.dataset.apiUrl, role: document.body.dataset.role, \
               origin: document.body.dataset.pageOrigin, title: document.title })",
        )
        .await
        .map_err(|e| format!("reading the page: {e}"))?;
    println!(
        "page  {role:<9} {url}: {:?}, role {}, calls {}",
        body["title"].as_str().unwrap_or_default(),
        body["role"],
        body["api"]
    );
    if body["role"] != role {
        return Err(format!("role is {}, expected {role:?}", body["role"]));
    }
    if body["api"].as_str().map(|a| a.trim_end_matches('/')) != Some(api) {
        return Err(format!(
            "calls the API at {}, expected {api:?}",
            body["api"]
        ));
    }
    if body["origin"].as_str().map(|o| o.trim_end_matches('/')) != Some(url) {
        return Err(format!(
            "believes its origin is {}, expected {url:?}",
            body["origin"]
        ));
    }
    Ok(page)
}

/// Clicks one Run button and compares Chromium, the card, the journal and `wanted`.
async fn run_one(
    page: &LabPage,
    api: &str,
    page_origin: &str,
    id: &str,
    wanted: &Want,
) -> Result<String, String> {
    let card = format!("document.querySelector('[data-scenario=\"{id}\"]')");
    page.click(&format!("[data-run=\"{id}\"]"))
        .await
        .map_err(|e| format!("clicking Run: {e}"))?;
    page.wait_for(&format!("{card}.dataset.state === 'done'"), TIMEOUT)
        .await
        .map_err(|e| format!("the card never finished: {e}"))?;
    let CardVerdict {
        run_id: run,
        outcome,
        cors_error: card_error,
        preflight_seen: card_preflight,
        ..
    } = read_card(page, id)
        .await
        .map_err(|e| format!("reading the card: {e}"))?;
    if run.is_empty() {
        return Err("the card has no data-run-id".into());
    }
    let card_pass = outcome.as_deref() == Some("pass");

    let requests = page
        .wait_network_settled(&format!("run={run}"), TIMEOUT)
        .await
        .map_err(|e| format!("Chromium's requests never settled: {e}"))?;
    let chromium_preflight = requests.iter().any(|r| r.is_preflight);
    let chromium_error = requests
        .iter()
        .filter(|r| !r.is_preflight)
        .find_map(|r| r.failed.as_ref().and_then(|f| f.cors_error.clone()));

    let journal = fetch_json(&format!("{api}/_lab/journal?run={run}")).await?;
    let entries = journal.as_array().cloned().unwrap_or_default();
    let journal_preflight = entries.iter().any(|e| e["kind"] == "preflight");
    let decisions: Vec<&str> = entries
        .iter()
        .map(|e| e["decision"]["outcome"].as_str().unwrap_or("?"))
        .collect();
    let origins_ok = entries
        .iter()
        .all(|e| e["origin"].as_str() == Some(page_origin));

    let mut wrong = Vec::new();
    let word = |pass: bool| if pass { "pass" } else { "blocked" };
    if card_pass != wanted.pass {
        wrong.push(format!(
            "the card says {}, expected {}",
            word(card_pass),
            word(wanted.pass)
        ));
    }
    if chromium_error.is_none() != wanted.pass {
        wrong.push(format!(
            "Chromium says {}, expected {}",
            chromium_error.as_deref().unwrap_or("pass"),
            word(wanted.pass)
        ));
    }
    if let Some(error) = chromium_error.as_deref().filter(|e| *e != card_error) {
        wrong.push(format!("the card names {card_error:?}, Chromium {error:?}"));
    }
    for (who, seen) in [
        ("Chromium", chromium_preflight),
        ("the card", card_preflight),
        ("the journal", journal_preflight),
    ] {
        if seen != wanted.preflight {
            wrong.push(format!(
                "{who} {} a preflight, expected {}",
                if seen { "saw" } else { "saw no" },
                if wanted.preflight { "one" } else { "none" }
            ));
        }
    }
    if entries.is_empty() {
        wrong.push("the journal has no entry for the run".into());
    }
    if decisions.iter().any(|d| *d != wanted.decision) {
        wrong.push(format!(
            "journal decisions {decisions:?}, expected all {:?}",
            wanted.decision
        ));
    }
    if !origins_ok {
        wrong.push(format!(
            "journal entries with an Origin other than {page_origin}"
        ));
    }
    let console = if wanted.pass {
        String::new()
    } else {
        match page
            .wait_console(&format!("?run={run}'"), Duration::from_secs(5))
            .await
        {
            Ok(entry) => format!("\n      console: {}", entry.text),
            Err(_) => {
                wrong.push("Chromium printed no CORS console message for the run".into());
                String::new()
            }
        }
    };
    let kinds: Vec<String> = entries
        .iter()
        .rev()
        .map(|e| {
            format!(
                "{} {} {}",
                e["kind"].as_str().unwrap_or("?"),
                e["method"].as_str().unwrap_or("?"),
                e["status"]
            )
        })
        .collect();
    let summary = format!(
        "{:<7} corsError={:<36} preflight={:<5} journal=[{}] decision={}",
        word(card_pass),
        if card_error.is_empty() {
            "-"
        } else {
            &card_error
        },
        chromium_preflight,
        kinds.join(", "),
        decisions.first().copied().unwrap_or("-"),
    );
    if wrong.is_empty() {
        Ok(format!("{summary}{console}"))
    } else {
        Err(format!("{summary}\n      {}", wrong.join("\n      ")))
    }
}
