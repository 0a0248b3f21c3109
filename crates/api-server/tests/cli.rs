//! The `api-server` binary's settings: bad `LAB_*` values stop startup with exit code 2 and
//! every problem listed, and `--help` shows the `LAB_*` flags it takes (declared in
//! `lab_process::args`), with its own wording, and not the page-only `--untrusted-origin`.

use std::process::Command;

/// The binary with an empty environment, so no `LAB_*` or `CORS_*` variable leaks in.
fn api_server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_api-server"));
    command.env_clear();
    command
}

#[test]
fn bad_lab_settings_exit_2_naming_every_problem() {
    let out = api_server()
        .env("LAB_API_LISTEN", "nowhere")
        .env("LAB_API_URL", "http://localhost:9090/")
        .env("LAB_API_ALT_URL", "ftp://127.0.0.1:9090")
        .env("LAB_TRUSTED_ORIGIN", "localhost:8080")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The four above, and CORS_ALLOW_ORIGINS, which `strict` takes from LAB_TRUSTED_ORIGIN.
    assert!(stderr.contains("5 problems"), "{stderr}");
    for named in [
        "LAB_API_LISTEN='nowhere': is not a socket address; accepted:",
        "LAB_API_URL='http://localhost:9090/': is not an origin",
        "LAB_API_ALT_URL='ftp://127.0.0.1:9090': is not an origin",
        "LAB_TRUSTED_ORIGIN='localhost:8080': is not an origin",
        "CORS_ALLOW_ORIGINS='localhost:8080'",
    ] {
        assert!(stderr.contains(named), "{named:?} missing from:\n{stderr}");
    }
    assert!(
        stderr.contains("accepted: the origin a browser uses to reach that server"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "nothing started"
    );
}

#[test]
fn help_shows_the_lab_flags_it_takes() {
    let out = api_server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for line in [
        "--api-url <API_URL>\n          The API's origin, as a browser reaches it \
         [env: LAB_API_URL=] [default: http://localhost:9090]",
        "--api-alt-url <API_ALT_URL>\n          The same API under a second origin, target of \
         /api/redirect [env: LAB_API_ALT_URL=] [default: http://127.0.0.1:9090]",
        "--trusted-origin <TRUSTED_ORIGIN>\n          The trusted lab page's origin: what the \
         `strict` preset allows [env: LAB_TRUSTED_ORIGIN=] [default: http://localhost:8080]",
        "--lab-secret <LAB_SECRET>\n          Secret the trusted page sends to switch the policy \
         at runtime (the origin server must know the same one). Unset: runtime switching is \
         disabled [env: LAB_SECRET]",
    ] {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
    for absent in ["--untrusted-origin", "LAB_UNTRUSTED_ORIGIN"] {
        assert!(!help.contains(absent), "{absent} in:\n{help}");
    }
}

/// `cors-walk` with an empty environment, the given `CORS_*` variables and arguments.
fn cors_walk(vars: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cors-walk"))
        .env_clear()
        .envs(vars.iter().copied())
        .args(args)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn cors_walk_exits_0_when_script_reads_the_response() {
    let (code, out, _) = cors_walk(
        &[("CORS_ALLOW_ORIGINS", "https://app.example.com")],
        &[
            "--origin",
            "https://app.example.com",
            "-X",
            "put",
            "-H",
            "Content-Type: application/json",
            "--credentials",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    for said in [
        "CORS_ALLOW_ORIGINS=https://app.example.com   (from CORS_ALLOW_ORIGINS)",
        "1. The browser sends PUT http://localhost:9090/api/echo from https://app.example.com, with credentials.",
        "   - the method PUT is not GET, HEAD or POST",
        "     access-control-request-headers: content-type",
        "   The API answers 204:",
        "3. The request itself: PUT",
        "Script reads the response.",
    ] {
        assert!(out.contains(said), "{said:?} missing from:\n{out}");
    }
}

#[test]
fn cors_walk_exits_1_with_chromiums_console_line_when_blocked() {
    let (code, out, _) = cors_walk(
        &[("CORS_PRESET", "permissive")],
        &[
            "--origin",
            "https://app.example.com",
            "--credentials",
            "--url",
            "https://api.example.com/orders",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("No preflight"), "{out}");
    assert!(
        out.contains(
            "Access to fetch at 'https://api.example.com/orders' from origin \
             'https://app.example.com' has been blocked by CORS policy: The value of the \
             'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' \
             when the request's credentials mode is 'include'."
        ),
        "{out}"
    );
    let (code, out, _) = cors_walk(&[], &["--origin", "https://evil.example", "-X", "DELETE"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("The API answers 403: no CORS headers"),
        "{out}"
    );
    assert!(
        out.contains("never sent, since the preflight failed"),
        "{out}"
    );
    let (code, out, _) = cors_walk(
        &[],
        &[
            "--origin",
            "http://localhost:8080",
            "-H",
            "X-A: 1",
            "-H",
            "X-B: 1",
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        out.contains("refuses 2 of the requested headers (x-a, x-b): Chromium names one of them"),
        "{out}"
    );
    // From a refused origin, Chromium blames no header: no such line.
    let (code, out, _) = cors_walk(
        &[],
        &[
            "--origin",
            "https://evil.example",
            "-H",
            "X-A: 1",
            "-H",
            "X-B: 1",
        ],
    );
    assert_eq!(code, Some(1));
    assert!(!out.contains("Chromium names one of them"), "{out}");
    let (code, out, _) = cors_walk(&[], &["--origin", "http://localhost:8080", "-X", "TRACE"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("fetch() throws a TypeError"), "{out}");
}

#[test]
fn cors_walk_exits_2_naming_every_bad_argument_and_variable() {
    let (code, out, err) = cors_walk(
        &[("CORS_MAX_AGE", "abc")],
        &["--origin", "https://App.example.com", "-H", "no colon"],
    );
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("invalid arguments: 3 problems"), "{err}");
    for named in [
        "--origin='https://App.example.com': has upper-case letters",
        "--header='no colon': is not one line 'Name: value'",
        "CORS_MAX_AGE='abc'",
    ] {
        assert!(err.contains(named), "{named:?} missing from:\n{err}");
    }
}
