//! `cors-check`: would Chromium accept this answer from *your* server? It reads what curl
//! printed on standard input and judges the answer as Chromium does (`cors_policy::answer`).
//! The lab never contacts that server; you run curl, with the browser's request headers:
//!
//! ```text
//! curl -sv -X OPTIONS https://api.example.com/v1/items \
//!     -H 'Origin: https://app.example.com' \
//!     -H 'Access-Control-Request-Method: PUT' \
//!     -H 'Access-Control-Request-Headers: content-type' 2>&1 \
//!   | cargo run -q -p api-server --bin cors-check -- --credentials
//! ```
//!
//! With `curl -v` the request is read from curl's `> ` lines; with `curl -i` give it by flags.
//! Several curl runs piped in (the preflight's, then the request's) are judged one by one.
//! Exit code 0: every answer passes; 1: Chromium blocks one; 2: bad flags or unreadable input,
//! every problem named at once.

use std::io::Read;
use std::process::ExitCode;

use clap::Parser;
use cors_policy::answer::{carries, check_all, AnswerCheck, Note, Request, Source};
use cors_policy::browser::{BrowserVerdict, CredentialsMode, RequestKind};
use cors_policy::console::{fetch_line, Requirement};
use cors_policy::transcript::{read_all, ResponseHead};

/// Longest input read, in bytes: a verbose curl run with a body is a few kilobytes.
const MAX_INPUT: u64 = 1024 * 1024;

/// Judges a server's answer, as curl printed it on standard input, as Chromium would.
#[derive(Debug, Parser)]
#[command(version)]
struct CheckArgs {
    /// The page's origin, when curl's output shows no `Origin` line.
    #[arg(long)]
    origin: Option<String>,
    /// The answer is to a preflight (only needed when curl's output shows no request: `-i`).
    #[arg(long)]
    preflight: bool,
    /// For a preflight: the method of the request itself, when curl's output does not show
    /// `Access-Control-Request-Method`.
    #[arg(long, short = 'X')]
    method: Option<String>,
    /// For a preflight: `Access-Control-Request-Headers`, when curl's output does not show it.
    #[arg(long, value_name = "NAMES")]
    request_headers: Option<String>,
    /// The script sends credentials (`credentials: 'include'`).
    #[arg(long, conflicts_with = "no_credentials")]
    credentials: bool,
    /// The script sends no credentials (the default mode of a cross-origin fetch). Without
    /// either flag the answer is judged without, and a note says what credentials would need.
    #[arg(long)]
    no_credentials: bool,
    /// The request's URL, to print the console line Chromium would (it does not change the
    /// verdict).
    #[arg(long)]
    url: Option<String>,
}

fn main() -> ExitCode {
    let args = CheckArgs::parse();
    let mut input = String::new();
    let problems: Vec<String> = match std::io::stdin().take(MAX_INPUT).read_to_string(&mut input) {
        Err(e) => vec![format!(
            "standard input: {e}; accepted: UTF-8 text printed by curl"
        )],
        Ok(_) => Vec::new(),
    };
    let credentials = match (args.credentials, args.no_credentials) {
        (true, _) => Some(CredentialsMode::Include),
        (_, true) => Some(CredentialsMode::Omit),
        _ => None,
    };
    let given = Request {
        preflight: args.preflight,
        origin: args.origin.as_deref(),
        method: args.method.as_deref(),
        request_headers: args.request_headers.as_deref(),
        credentials,
    };
    let result = match problems.is_empty() {
        false => Err(problems),
        true => read_all(&input)
            .map_err(|e| vec![format!("standard input: {e}")])
            .and_then(|all| {
                let checks = check_all(&all, &given).map_err(|e| vec![e.to_string()])?;
                Ok((checks, all))
            }),
    };
    match result {
        Err(problems) => {
            eprintln!("cannot check the answer:");
            for p in problems {
                eprintln!("  - {p}");
            }
            ExitCode::from(2)
        }
        Ok((checks, exchanges)) => {
            // Several curl runs piped in (the preflight's, then the request's): each judged.
            for (i, (c, t)) in checks.iter().zip(&exchanges).enumerate() {
                if checks.len() > 1 {
                    if i > 0 {
                        println!();
                    }
                    println!("Exchange {} of {}:", i + 1, checks.len());
                }
                print!("{}", report(c, &t.response, args.url.as_deref()));
            }
            match checks.iter().all(|c| c.verdict.is_pass()) {
                true => ExitCode::SUCCESS,
                false => ExitCode::from(1),
            }
        }
    }
}

fn from(source: Source) -> &'static str {
    match source {
        Source::Transcript => "curl's request",
        Source::Given => "flag",
        Source::Default => "default",
    }
}

fn lines(list: &[(&'static str, String)]) -> String {
    let items: Vec<String> = list.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    items.join(" and ")
}

/// The check as text: the request judged, the verdict, what the answer must carry (and which
/// of it the answer has already), notes.
fn report(c: &AnswerCheck, response: &ResponseHead, url: Option<&str>) -> String {
    let mut out = String::new();
    let credentials = match c.credentials {
        CredentialsMode::Include => "with credentials",
        CredentialsMode::Omit => "without credentials",
    };
    let what = match c.kind {
        RequestKind::Preflight => format!(
            "the preflight (OPTIONS) of a {} request{}",
            c.method,
            c.request_headers
                .as_deref()
                .map(|h| format!(" with headers {h}"))
                .unwrap_or_default()
        ),
        RequestKind::Actual => format!("a {} request itself", c.method),
    };
    out += &format!(
        "Answer {} to {what} from {} ({}; origin from {}, method from {}, credentials from {}).\n",
        c.status,
        c.origin,
        credentials,
        from(c.origin_from),
        from(c.method_from),
        from(c.credentials_from)
    );
    match &c.verdict {
        BrowserVerdict::Pass => {
            out += match c.kind {
                RequestKind::Preflight => "Chromium: passes; the request itself is sent.\n",
                RequestKind::Actual => "Chromium: passes; script reads the response.\n",
            }
        }
        BrowserVerdict::Blocked { error, .. } => {
            out += &format!(
                "Chromium: blocked, CorsError {}{}.\n",
                error.name(),
                match c.kind {
                    RequestKind::Preflight => "; the request itself is never sent",
                    RequestKind::Actual => "; the server ran it, script cannot read it",
                }
            );
            let reason = c.verdict.reason().unwrap_or_default();
            match url.and_then(|u| fetch_line(u, &c.origin, &c.verdict)) {
                Some(line) => out += &format!("  console: {line}\n"),
                None => out += &format!("  reason: {reason}\n"),
            }
        }
    }
    if let Some(required) = &c.required {
        out += "For it to pass, the answer must have:\n";
        for r in &required.requirements {
            out += &match r {
                Requirement::OkStatus => "  - an ok status (200–299), not a redirect".into(),
                Requirement::Line(name, value) => {
                    format!("  - {name}: {value}   (this one line of that name)")
                }
                Requirement::InList(name, value) => format!("  - {value} in {name}"),
                Requirement::ValidList(name) => {
                    format!("  - {name} as a comma-separated list of names (tokens)")
                }
            };
            out += match carries(response, r) {
                true => "   [has it]\n",
                false => "   [missing]\n",
            };
        }
    }
    let notes: Vec<String> = c.notes.iter().map(note).collect();
    if !notes.is_empty() {
        out += "Notes:\n";
        for n in notes {
            out += &format!("  - {n}\n");
        }
    }
    out
}

fn note(n: &Note) -> String {
    match n {
        Note::NoOriginSent => "curl sent no Origin line, so the server answered a request no \
            browser sends cross-origin; many servers add CORS headers only when Origin is \
            present: add -H 'Origin: …' to curl"
            .into(),
        Note::OptionsWithoutRequestMethod => "curl's OPTIONS had no \
            Access-Control-Request-Method line, so it is not a preflight and was judged as a \
            request itself: add -H 'Access-Control-Request-Method: …' to curl"
            .into(),
        Note::VaryOriginMissing => "Access-Control-Allow-Origin names one origin but Vary does \
            not list Origin: a cache between may hand this answer to a page of another origin"
            .into(),
        Note::LaterResponses(n) => format!(
            "curl followed {n} redirect(s) after this answer; only the first answer is \
             checked (Chromium checks each, and sends Origin: null after a cross-origin one)"
        ),
        Note::LaterExchanges(n) => format!(
            "the input holds {n} more curl run(s) after this one, not judged: one of them shows \
             no request (curl -i), and the flags' request can be only one of them; pipe \
             curl -sv output to have each judged"
        ),
        Note::ActualNeeds(list) => format!(
            "the answer to the request itself must carry {} too",
            lines(list)
        ),
        Note::WithCredentialsNeeds(list) => format!(
            "judged without credentials; with credentials: 'include' the answer needs {} \
             (and no '*' in Access-Control-Allow-Origin); give --credentials or \
             --no-credentials",
            lines(list)
        ),
    }
}
