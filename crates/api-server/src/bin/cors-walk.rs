//! `cors-walk`: one request walked through a CORS policy in the terminal, as the page's *Try a
//! request* section does, without starting a server: for checking a policy before deploying
//! it, by hand or in a script.
//!
//! ```text
//! CORS_ALLOW_ORIGINS=https://app.example.com cargo run -q -p api-server --bin cors-walk -- \
//!     --origin https://app.example.com -X PUT -H 'Content-Type: application/json' --credentials
//! ```
//!
//! The policy is the API's, from the same `CORS_*` variables and flags. Exit code 0: script
//! reads the response; 1: Chromium blocks it (or `fetch()` throws); 2: a bad flag or variable,
//! every problem named at once.

use std::process::ExitCode;

use api_server::cli::PolicyArgs;
use api_server::walkthrough::{check_origin, header_lines, text, PATH};
use clap::Parser;
use cors_policy::browser::CredentialsMode;
use cors_policy::fetch::ScriptRequest;
use cors_policy::walkthrough::walk;
use lab_process::args::LabOrigins;

/// Walks one request through a CORS policy on paper: what the browser sends, whether a
/// preflight goes first, what the API answers and what Chromium concludes.
#[derive(Debug, Parser)]
#[command(version)]
struct WalkArgs {
    /// The origin the request leaves from (the page's), e.g. https://app.example.com, or null.
    #[arg(long)]
    origin: String,
    /// The method, as script writes it.
    #[arg(long, short = 'X', default_value = "GET")]
    method: String,
    /// A header script sets, as `Name: value`; repeat for more.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Send credentials (`credentials: 'include'`: cookies and HTTP authentication).
    #[arg(long)]
    credentials: bool,
    /// The URL the console line names (the policy does not depend on it); default: the lab
    /// API's /api/echo.
    #[arg(long)]
    url: Option<String>,
    #[command(flatten)]
    origins: LabOrigins,
    #[command(flatten)]
    policy: PolicyArgs,
}

fn main() -> ExitCode {
    let args = WalkArgs::parse();
    let mut problems = Vec::new();
    if let Err(e) = check_origin(&args.origin) {
        problems.push(format!(
            "--origin='{}': {e}; accepted: an origin as a browser sends it, such as \
             https://app.example.com, or null",
            args.origin
        ));
    }
    let mut lines = Vec::new();
    for header in &args.headers {
        match header_lines(header).as_deref() {
            Ok([line]) => lines.push(*line),
            _ => problems.push(format!(
                "--header='{header}': is not one line 'Name: value'; accepted: e.g. 'X-Token: 1'"
            )),
        }
    }
    let policy = match args.policy.input().resolve(&args.origins.trusted_origin) {
        Ok(effective) => Some(effective),
        Err(errors) => {
            problems.extend(errors.0.iter().map(|e| e.to_string()));
            None
        }
    };
    let Some(effective) = policy.filter(|_| problems.is_empty()) else {
        let n = problems.len();
        eprintln!(
            "invalid arguments: {n} problem{}",
            if n == 1 { "" } else { "s" }
        );
        for p in problems {
            eprintln!("  - {p}");
        }
        return ExitCode::from(2);
    };
    let credentials = match args.credentials {
        true => CredentialsMode::Include,
        false => CredentialsMode::Omit,
    };
    let url = args
        .url
        .unwrap_or_else(|| format!("{}{PATH}", args.origins.api_url));
    let request = ScriptRequest {
        method: &args.method,
        headers: &lines,
    };
    println!("Policy (preset {}):", effective.preset.name());
    for f in &effective.fields {
        let value = if f.value.is_empty() {
            "(not sent)"
        } else {
            &f.value
        };
        println!("  {}={value}   (from {})", f.variable, f.source);
    }
    match walk(&effective.policy, &args.origin, &request, credentials) {
        Err(throws) => {
            println!("fetch() throws a TypeError before anything is sent: {throws}.");
            ExitCode::from(1)
        }
        Ok(w) => {
            print!("{}", text(&w, &args.origin, &url, credentials));
            match w.verdict.is_pass() {
                true => ExitCode::SUCCESS,
                false => ExitCode::from(1),
            }
        }
    }
}
