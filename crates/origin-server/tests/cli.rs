//! The `origin-server` binary's settings: bad `LAB_*` values stop startup with exit code 2 and
//! every problem listed, and `--help` shows the `LAB_*` flags it takes (declared in
//! `lab_process::args`), with its own wording, and not the API-only `--api-alt-url`.

use std::process::Command;

/// The binary with an empty environment, so no `LAB_*` variable leaks in.
fn origin_server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_origin-server"));
    command.env_clear();
    command
}

#[test]
fn bad_lab_settings_exit_2_naming_every_problem() {
    let out = origin_server()
        .env("LAB_ORIGIN_LISTEN", "nowhere")
        .env("LAB_API_URL", "http://localhost:9090/")
        .env("LAB_TRUSTED_ORIGIN", "localhost:8080")
        .env("LAB_UNTRUSTED_ORIGIN", "http://127.0.0.1:8081/page")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 problems"), "{stderr}");
    for named in [
        "LAB_ORIGIN_LISTEN='nowhere': is not a socket address; accepted:",
        "LAB_API_URL='http://localhost:9090/': is not an origin",
        "LAB_TRUSTED_ORIGIN='localhost:8080': is not an origin",
        "LAB_UNTRUSTED_ORIGIN='http://127.0.0.1:8081/page': is not an origin",
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
    let out = origin_server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for line in [
        "--api-url <API_URL>\n          The API's origin, as a browser reaches it \
         [env: LAB_API_URL=] [default: http://localhost:9090]",
        "--trusted-origin <TRUSTED_ORIGIN>\n          The trusted page's origin, as a browser \
         reaches it [env: LAB_TRUSTED_ORIGIN=] [default: http://localhost:8080]",
        "--untrusted-origin <UNTRUSTED_ORIGIN>\n          The untrusted page's origin (another site), as a \
         browser reaches it [env: LAB_UNTRUSTED_ORIGIN=] [default: http://127.0.0.1:8081]",
        "--lab-secret <LAB_SECRET>\n          The API's LAB_SECRET, handed to the trusted page so \
         it can switch the policy [env: LAB_SECRET]",
    ] {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
    for absent in ["--api-alt-url", "LAB_API_ALT_URL"] {
        assert!(!help.contains(absent), "{absent} in:\n{help}");
    }
}
