//! Reading curl's output (`cors_policy::transcript`) and judging the answer in it
//! (`cors_policy::answer`), from arbitrary pasted text.
//!
//! Invariants: no panic; `read` gives the first exchange of `read_all` and counts the others,
//! and `check_all` judges each (or only the first, when one of several shows no request); a
//! text read has a final status (200–599) and token header names, and
//! the answer written again as `curl -i` output reads back to the same status and lines; the
//! judged answer's required lines exist exactly when it is blocked, name the judged origin in
//! `Access-Control-Allow-Origin`, ask for an ok status exactly for a preflight, and include one
//! the answer does not carry yet (`answer::carries`); a preflight passed with credentials given
//! carries `Access-Control-Allow-Credentials: true`.
#![no_main]

use cors_policy::answer::{carries, check, check_all, Request};
use cors_policy::browser::{CredentialsMode, RequestKind};
use cors_policy::console::Requirement;
use cors_policy::engine::{ACAC, ACAO};
use cors_policy::method::is_token;
use cors_policy::transcript::{read, read_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (bool, bool, &str)| {
    let (preflight, credentialed, text) = input;
    let Ok(transcript) = read(text) else {
        return;
    };
    // `read` is the first exchange of `read_all`, with the others counted.
    let all = read_all(text).expect("read_all reads what read reads");
    assert_eq!(all.len(), transcript.later_exchanges + 1);
    assert_eq!(all[0].response, transcript.response);
    assert_eq!(all[0].request, transcript.request);
    assert!(all.iter().all(|t| t.later_exchanges == 0));
    let response = &transcript.response;
    assert!((200..600).contains(&response.status));
    assert!(response.headers.iter().all(|(n, _)| is_token(n)));

    let mut again = format!("HTTP/1.1 {}\r\n", response.status);
    for (name, value) in &response.headers {
        again += &format!("{name}: {value}\r\n");
    }
    let reread = read(&(again + "\r\n")).expect("an answer written as curl -i reads back");
    assert_eq!(&reread.response, response);
    assert_eq!(reread.request, None);

    let credentials = match credentialed {
        true => CredentialsMode::Include,
        false => CredentialsMode::Omit,
    };
    let given = Request {
        preflight,
        origin: Some("https://app.example.com"),
        method: Some("PUT"),
        request_headers: Some("x-token"),
        credentials: Some(credentials),
    };
    let judged = check(&transcript, &given).expect("origin and method are given");
    // Every exchange is judged, or only the first when one of several shows no request.
    let each = check_all(&all, &given).expect("origin and method are given");
    let one_only = all.len() > 1 && all.iter().any(|t| t.request.is_none());
    assert_eq!(each.len(), if one_only { 1 } else { all.len() });
    assert_eq!(each[0].verdict, judged.verdict);
    assert_eq!(judged.required.is_some(), !judged.verdict.is_pass());
    if let Some(required) = &judged.required {
        assert!(required
            .requirements
            .contains(&Requirement::Line(ACAO, judged.origin.clone())));
        assert_eq!(
            required.requirements.contains(&Requirement::OkStatus),
            required.kind == RequestKind::Preflight
        );
        assert_eq!(required.kind, judged.kind);
        assert!(
            required.requirements.iter().any(|r| !carries(response, r)),
            "blocked, yet it carries every requirement: {required:?}"
        );
    } else if credentialed {
        assert_eq!(response.header(ACAC).as_deref(), Some("true"));
    }
});
