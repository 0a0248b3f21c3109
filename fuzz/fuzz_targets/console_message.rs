//! Reading Chromium's console message back (`cors_policy::console`) from arbitrary pasted text.
//!
//! Invariants: no panic, at most `MAX_MESSAGES` messages; every message read has a non-empty URL
//! and origin that are parts of the text; a modelled reason, written again by the browser model,
//! reads back to the same verdict; and its required answer asks for the message's own origin in
//! `Access-Control-Allow-Origin` and an ok status exactly when it is about a preflight.
#![no_main]

use cors_policy::browser::RequestKind;
use cors_policy::console::{read_all, read_reason, Requirement, MAX_MESSAGES};
use cors_policy::engine::ACAO;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let messages = read_all(text);
    assert!(messages.len() <= MAX_MESSAGES);
    for message in messages.into_iter().flatten() {
        assert!(!message.url.is_empty() && !message.origin.is_empty());
        assert!(text.contains(message.url) && text.contains(message.origin));
        let Some(verdict) = &message.verdict else {
            assert!(message.required_answer().is_none());
            continue;
        };
        let written = verdict.reason().expect("a blocked verdict has a reason");
        assert_eq!(read_reason(&written).as_ref(), Some(verdict), "{written}");
        let answer = message.required_answer().expect("a modelled reason");
        assert!(answer
            .requirements
            .contains(&Requirement::Line(ACAO, message.origin.to_string())));
        assert_eq!(
            answer.requirements.contains(&Requirement::OkStatus),
            answer.kind == RequestKind::Preflight
        );
    }
});
