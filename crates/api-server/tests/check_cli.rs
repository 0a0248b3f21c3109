//! `cors-check` on what real curl printed: the lab's API runs on an ephemeral loopback port
//! under a preset, curl asks it what a browser would, and `cors-check` judges curl's output.
//! The verdicts expected here are the ones Chromium gives the same requests to the same
//! presets in the browser matrix (`tests/browser.rs`).

use std::io::Write;
use std::process::{Command, Stdio};

mod support;

use support::{start_api, LAB};

/// The API under `preset`, until the guard is dropped.
async fn start(preset: &str) -> (String, support::RunningApi) {
    let api = start_api(&[("CORS_PRESET", preset)]).await;
    (api.base.clone(), api)
}

/// What curl printed (standard output and error together), for `args`.
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs (Debian: apt-get install curl)");
    assert!(out.status.success(), "curl {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

/// `cors-check` with `args`, fed `input`: exit code, standard output, standard error.
fn cors_check(input: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cors-check"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn preflight(base: &str, origin: &str, method: &str, headers: &str) -> String {
    curl(&[
        "-v",
        "-X",
        "OPTIONS",
        &format!("{base}/api/items/1"),
        "-H",
        &format!("Origin: {origin}"),
        "-H",
        &format!("Access-Control-Request-Method: {method}"),
        "-H",
        &format!("Access-Control-Request-Headers: {headers}"),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_v_of_preflights_is_judged_as_chromium_judges_them() {
    let (base, _stop) = start("strict").await;
    let allowed = preflight(&base, LAB, "PUT", "content-type");
    let (code, out, err) = cors_check(&allowed, &[]);
    assert_eq!(code, Some(0), "{out}{err}");

    // The preflight's run and the request's, piped in together: each is judged, in order.
    let item = format!("{base}/api/items/1");
    let put = curl(&[
        "-v",
        "-X",
        "PUT",
        &item,
        "-H",
        &format!("Origin: {LAB}"),
        "-H",
        "Content-Type: application/json",
        "--data",
        "{}",
    ]);
    let (code, out, _) = cors_check(&format!("{allowed}{put}"), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("Exchange 1 of 2:\nAnswer 204 to the preflight (OPTIONS) of a PUT")
            && out.contains("\n\nExchange 2 of 2:\nAnswer ")
            && out.contains(" to a PUT request itself from "),
        "{out}"
    );
    // curl -L following the API's cross-origin redirect: one exchange, its hop counted.
    let api = support::start_api_with_alt(&[], |a| format!("http://localhost:{}", a.port())).await;
    let followed = curl(&[
        "-v",
        "-L",
        &format!("{}/api/redirect", api.base),
        "-H",
        &format!("Origin: {LAB}"),
    ]);
    let (_, out, _) = cors_check(&followed, &[]);
    assert!(
        out.starts_with("Answer 302 to a GET request itself")
            && out.contains("curl followed 1 redirect(s) after this answer")
            && !out.contains("Exchange"),
        "{out}"
    );
    let stranger = curl(&["-v", &item, "-H", "Origin: https://evil.example"]);
    let (code, out, _) = cors_check(&format!("{allowed}{stranger}"), &[]);
    assert_eq!(code, Some(1), "one of the two is blocked: {out}");
    assert!(out.contains("CorsError MissingAllowOriginHeader"), "{out}");
    assert!(
        out.contains("of a PUT request with headers content-type from http://localhost:8080"),
        "{out}"
    );
    assert!(out.contains("origin from curl's request"), "{out}");
    assert!(
        out.contains("Chromium: passes; the request itself is sent."),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "the answer to the request itself must carry access-control-allow-origin: {LAB} too"
        )),
        "{out}"
    );

    let refused = preflight(&base, LAB, "PUT", "content-type,x-other");
    let url = format!("{base}/api/items/1");
    let (code, out, err) = cors_check(&refused, &["--url", &url]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains(
            "CorsError HeaderDisallowedByPreflightResponse; the request itself is never sent"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!("console: Access to fetch at '{url}' from origin '{LAB}' has been blocked by CORS policy: Request header field x-other is not allowed by Access-Control-Allow-Headers in preflight response.")),
        "{out}"
    );
    assert!(
        out.contains("  - x-other in access-control-allow-headers   [missing]\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  - access-control-allow-origin: {LAB}   (this one line of that name)   [has it]\n"
        )),
        "{out}"
    );

    let (base, _stop) = start("broken-auth-preflight").await;
    let (code, out, _) = cors_check(&preflight(&base, LAB, "PUT", "content-type"), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Answer 401 to the preflight"), "{out}");
    assert!(out.contains("CorsError PreflightInvalidStatus"), "{out}");
    assert!(
        out.contains("  - an ok status (200–299), not a redirect   [missing]\n"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_of_requests_themselves_is_judged_with_the_origin_and_credentials_given() {
    let (base, _stop) = start("strict").await;
    let items = format!("{base}/api/items");
    let stranger = curl(&["-v", &items, "-H", "Origin: https://evil.example"]);
    let (code, out, _) = cors_check(&stranger, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("a GET request itself from https://evil.example"),
        "{out}"
    );
    assert!(
        out.contains("CorsError MissingAllowOriginHeader; the server ran it"),
        "{out}"
    );

    let no_origin = curl(&["-v", &items]);
    let (code, out, _) = cors_check(&no_origin, &["--origin", LAB]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("origin from flag"), "{out}");
    assert!(out.contains("curl sent no Origin line"), "{out}");

    let (base, _stop) = start("broken-double-origin").await;
    let twice = curl(&[
        "-i",
        &format!("{base}/api/items"),
        "-H",
        &format!("Origin: {LAB}"),
    ]);
    let (code, out, err) = cors_check(&twice, &[]);
    assert_eq!(code, Some(2), "curl -i shows no Origin line: {out}");
    assert!(err.contains("the page's origin is unknown"), "{err}");
    let (code, out, _) = cors_check(&twice, &["--origin", LAB]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("CorsError MultipleAllowOriginValues"), "{out}");

    let (base, _stop) = start("broken-wildcard-credentials").await;
    let wildcard = curl(&[
        "-i",
        &format!("{base}/api/items"),
        "-H",
        &format!("Origin: {LAB}"),
    ]);
    let (code, out, _) = cors_check(&wildcard, &["--origin", LAB]);
    assert_eq!(code, Some(0), "without credentials `*` passes: {out}");
    assert!(
        out.contains("with credentials: 'include' the answer needs"),
        "{out}"
    );
    let (code, out, _) = cors_check(&wildcard, &["--origin", LAB, "--credentials"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("CorsError WildcardOriginNotAllowed"), "{out}");
    assert!(
        out.contains("access-control-allow-credentials: true"),
        "{out}"
    );
}

#[test]
fn unreadable_input_exits_2_saying_what_is_accepted() {
    let (code, out, err) = cors_check("Access-Control-Allow-Origin: *\n", &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(err.contains("no response status line"), "{err}");
    let (code, _, err) = cors_check("HTTP/1.1 204\n", &["--preflight", "--origin", LAB]);
    assert_eq!(code, Some(2));
    assert!(err.contains("the preflight's method is unknown"), "{err}");
}
