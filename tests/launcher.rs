//! The launcher: three servers come up on ephemeral ports, the page names the API, and bad
//! settings stop startup with exit code 2 and every problem listed.

use std::process::Command;

use api_server::cli::PolicyArgs;
use serde_json::Value;

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (r.status().as_u16(), r.text().await.unwrap())
}

/// `localhost` URLs are fetched through 127.0.0.1, where the servers listen.
fn loopback(url: &str) -> String {
    url.replace("localhost", "127.0.0.1")
}

#[tokio::test]
async fn three_servers_come_up_and_the_page_names_the_api() {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();

    let (status, page) = get(&loopback(&lab.trusted_url)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("data-api-url=\"{}\"", lab.api_url)),
        "{page}"
    );
    assert!(page.contains("data-role=\"trusted\""));
    assert!(page.contains(&format!("data-page-origin=\"{}\"", lab.trusted_url)));

    let (status, page) = get(&lab.untrusted_url).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-role=\"untrusted\""));
    assert!(page.contains(&format!("data-page-origin=\"{}\"", lab.untrusted_url)));

    let (status, catalogue) = get(&format!("{}/scenarios.json", lab.untrusted_url)).await;
    assert_eq!(status, 200);
    let catalogue: Value = serde_json::from_str(&catalogue).unwrap();
    assert!(!catalogue["scenarios"].as_array().unwrap().is_empty());

    let (status, css) = get(&format!("{}/static/style.css", lab.untrusted_url)).await;
    assert_eq!(status, 200);
    assert!(!css.is_empty());
    let (status, _) = get(&format!("{}/static/nope.js", lab.untrusted_url)).await;
    assert_eq!(status, 404);

    let (status, policy) = get(&format!("{}/_lab/policy", loopback(&lab.api_url))).await;
    assert_eq!(status, 200);
    let policy: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(policy["preset"], "strict");
    let origins = policy["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["variable"] == "CORS_ALLOW_ORIGINS")
        .unwrap();
    assert_eq!(
        origins["value"],
        lab.trusted_url.as_str(),
        "strict allows the trusted page"
    );

    lab.stop().await.unwrap();
}

#[test]
fn bad_settings_exit_2_naming_every_problem() {
    let out = Command::new(env!("CARGO_BIN_EXE_cors-lab"))
        .env("CORS_ALLOW_ORIGINS", "*")
        .env("CORS_ALLOW_CREDENTIALS", "true")
        .env("CORS_MAX_AGE", "a week")
        .env("LAB_API_URL", "http://localhost:9090/")
        .env_remove("CORS_PRESET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 problems"), "{stderr}");
    assert!(
        stderr.contains("CORS_ALLOW_ORIGINS='*': '*' cannot be combined with credentials"),
        "{stderr}"
    );
    assert!(stderr.contains("CORS_MAX_AGE='a week': is not a whole number of seconds; accepted: a whole number of seconds from 0 to 86400"), "{stderr}");
    assert!(
        stderr.contains("LAB_API_URL='http://localhost:9090/'"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "nothing started"
    );
}

#[test]
fn help_lists_every_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_cors-lab"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in cors_policy::config::VARIABLES {
        assert!(
            help.contains(&format!("[env: {var}")),
            "{var} missing from --help:\n{help}"
        );
    }
    for var in [
        "LAB_TRUSTED_ORIGIN",
        "LAB_UNTRUSTED_ORIGIN",
        "LAB_API_URL",
        "LAB_API_ALT_URL",
        "LAB_API_LISTEN",
        "LAB_SECRET",
    ] {
        assert!(
            help.contains(&format!("[env: {var}")),
            "{var} missing from --help"
        );
    }
}
