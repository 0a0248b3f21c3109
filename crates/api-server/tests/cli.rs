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
