//! Property tests of reading curl's output (`cors_policy::transcript`) and judging the answer
//! in it (`cors_policy::answer`).
//!
//! The rules: an exchange written as `curl -i` output or as `curl -sv … 2>&1` output (with
//! curl's own `*` remarks and a body around it) reads back to the same status and header lines,
//! and in `-v` form to the same request; the answer's verdict is Chromium's check of that
//! response for the request curl's lines show; and it is blocked exactly when it has required
//! lines to add, at least one of which it does not carry yet. Two runs pasted together read
//! back as two exchanges, unless the first answer is a redirect curl followed.
//!
//! `PROPTEST_CASES=10000 cargo test -p cors-policy --test answer_properties` searches harder.

use cors_policy::answer::{carries, check, Request};
use cors_policy::browser::{self, BrowserRequest, CredentialsMode, RequestKind};
use cors_policy::transcript::{read, read_all};
use proptest::prelude::*;
use proptest::sample::select;

const NAMES: [&str; 8] = [
    "access-control-allow-origin",
    "Access-Control-Allow-Origin",
    "access-control-allow-methods",
    "Access-Control-Allow-Headers",
    "access-control-allow-credentials",
    "vary",
    "content-type",
    "x-powered-by",
];

const VALUES: [&str; 10] = [
    "https://app.example.com",
    "https://app.example.com/",
    "*",
    "true",
    "PUT, DELETE",
    "PUT POST",
    "content-type, x-token",
    "*, x-token",
    "Origin",
    "",
];

fn response_lines() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (select(&NAMES[..]), select(&VALUES[..])).prop_map(|(n, v)| (n.to_string(), v.to_string())),
        0..8,
    )
}

fn curl_i(status: u16, lines: &[(String, String)]) -> String {
    let mut text = format!("HTTP/1.1 {status} Whatever\r\n");
    for (n, v) in lines {
        text += &format!("{n}: {v}\r\n");
    }
    text + "\r\n{\"body\": \"HTTP/1.1 500 not a head\"}\n"
}

fn curl_v(request: &[(&str, &str)], status: u16, lines: &[(String, String)]) -> String {
    let mut text = String::from("*   Trying 127.0.0.1:443...\n* Connected to api\n");
    text += "> OPTIONS /v1/items HTTP/2\r\n> Host: api.example.com\r\n";
    for (n, v) in request {
        text += &format!("> {n}: {v}\r\n");
    }
    text += "> \r\n* TLS remark\n";
    text += &format!("< HTTP/2 {status}\r\n");
    for (n, v) in lines {
        text += &format!("< {n}: {v}\r\n");
    }
    text + "< \r\n{ [5 bytes data]\n* Connection #0 left intact\n"
}

proptest! {
    #[test]
    fn an_answer_written_as_curl_prints_it_reads_back_and_is_judged_as_chromium_does(
        status in select(&[200u16, 204, 301, 401, 403, 500][..]),
        lines in response_lines(),
        method in select(&["PUT", "DELETE", "GET", "POST"][..]),
        request_headers in select(&[None, Some("x-token"), Some("content-type,x-token")][..]),
        credentialed in any::<bool>(),
    ) {
        let trimmed: Vec<(String, String)> =
            lines.iter().map(|(n, v)| (n.clone(), v.trim().to_string())).collect();
        let plain = read(&curl_i(status, &lines)).unwrap();
        prop_assert_eq!(&plain.request, &None);
        prop_assert_eq!(plain.response.status, status);
        prop_assert_eq!(&plain.response.headers, &trimmed);

        let mut sent = vec![("Origin", "https://app.example.com"), ("Access-Control-Request-Method", method)];
        if let Some(h) = request_headers {
            sent.push(("Access-Control-Request-Headers", h));
        }
        let verbose = read(&curl_v(&sent, status, &lines)).unwrap();
        prop_assert_eq!(&verbose.response, &plain.response);
        let request = verbose.request.as_ref().unwrap();
        prop_assert_eq!(request.method.as_str(), "OPTIONS");
        prop_assert_eq!(request.headers.len(), sent.len() + 1);

        let credentials = if credentialed { CredentialsMode::Include } else { CredentialsMode::Omit };
        let given = Request { credentials: Some(credentials), ..Request::default() };
        let judged = check(&verbose, &given).unwrap();
        prop_assert_eq!(judged.kind, RequestKind::Preflight);
        let expected = browser::check(
            &BrowserRequest {
                kind: RequestKind::Preflight,
                origin: "https://app.example.com",
                method,
                request_headers,
                credentials,
            },
            status,
            &trimmed,
        );
        prop_assert_eq!(&judged.verdict, &expected);
        prop_assert_eq!(judged.required.is_some(), !expected.is_pass());
        // A blocked answer lacks at least one of the lines it must carry: else the lab would
        // say "add nothing" of an answer Chromium refuses.
        if let Some(required) = &judged.required {
            prop_assert!(
                required.requirements.iter().any(|r| !carries(&verbose.response, r)),
                "{:?} carries all of {:?}", verbose.response, required
            );
        }

        // The same answer from curl -i, the request given by flags, is judged the same.
        let by_flags = Request {
            preflight: true,
            origin: Some("https://app.example.com"),
            method: Some(method),
            request_headers,
            credentials: Some(credentials),
        };
        prop_assert_eq!(check(&plain, &by_flags).unwrap().verdict, expected);

        // Two curl runs pasted one after the other read back as two exchanges, each as when
        // read alone, unless the first answer is a redirect (then the second is curl -L's hop).
        let second = curl_v(&sent, 200, &lines);
        let both = read_all(&format!("{}{second}", curl_v(&sent, status, &lines))).unwrap();
        let alone = read(&second).unwrap();
        if (300..400).contains(&status) {
            prop_assert_eq!(both.len(), 1);
            prop_assert_eq!(both[0].later_responses, 1);
        } else {
            prop_assert_eq!(both.len(), 2);
            prop_assert_eq!(&both[0].response, &verbose.response);
            prop_assert_eq!(&both[1].response, &alone.response);
            prop_assert_eq!(&both[1].request, &alone.request);
        }
    }
}
