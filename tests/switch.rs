//! Switching the policy at runtime: allowed for the trusted page with the secret, refused for
//! everyone else, and validated like the environment variables.

use api_server::cli::PolicyArgs;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

fn loopback(url: &str) -> String {
    url.replace("localhost", "127.0.0.1")
}

/// `GET /_lab/policy` of the API at `api`.
async fn policy(client: &Client, api: &str) -> Value {
    client
        .get(format!("{api}/_lab/policy"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn preset(client: &Client, api: &str) -> String {
    policy(client, api).await["preset"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `POST /_lab/switch` with this `Origin` and `X-Lab-Secret`, each left out when `None`.
fn post_switch(
    client: &Client,
    api: &str,
    origin: Option<&str>,
    secret: Option<&str>,
    body: Value,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    let mut req = client.post(format!("{api}/_lab/switch")).json(&body);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(s) = secret {
        req = req.header("x-lab-secret", s);
    }
    req.send()
}

#[tokio::test]
async fn only_the_trusted_page_with_the_secret_may_switch() {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let api = loopback(&lab.api_url);
    let client = Client::new();
    let switch = |origin: Option<&str>, secret: Option<&str>, body: Value| {
        post_switch(&client, &api, origin, secret, body)
    };
    let permissive = json!({"variables": {"CORS_PRESET": "permissive"}});
    let secret = lab.lab_secret.as_str();
    assert_eq!(secret.len(), 32);

    // The page the trusted origin serves carries the secret; the untrusted page does not.
    let trusted_page = reqwest::get(loopback(&lab.trusted_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let untrusted_page = reqwest::get(&lab.untrusted_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(trusted_page.contains(secret));
    assert!(!untrusted_page.contains(secret));

    for (origin, key, why) in [
        (
            Some(lab.untrusted_url.as_str()),
            Some(secret),
            "another origin, even with the secret",
        ),
        (Some(lab.trusted_url.as_str()), None, "no secret"),
        (
            Some(lab.trusted_url.as_str()),
            Some("0123456789abcdef0123456789abcdef"),
            "a wrong secret",
        ),
        (None, Some(secret), "no Origin"),
    ] {
        let r = switch(origin, key, permissive.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{why}");
        assert_eq!(
            preset(&client, &api).await,
            "strict",
            "{why}: the policy must not change"
        );
    }

    // The preflight of the switch is refused to other origins.
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, format!("{api}/_lab/switch"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,x-lab-secret",
            )
            .send()
    };
    let r = preflight(&lab.untrusted_url).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = preflight(&lab.trusted_url).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers()["access-control-allow-origin"].to_str().unwrap(),
        lab.trusted_url
    );

    // Invalid values are refused with every problem, and change nothing.
    let r = switch(
        Some(&lab.trusted_url),
        Some(secret),
        json!({"variables": {"CORS_ALLOW_ORIGINS": "*", "CORS_MAX_AGE": "-1"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    let variables: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["variable"].as_str().unwrap())
        .collect();
    assert_eq!(variables, ["CORS_ALLOW_ORIGINS", "CORS_MAX_AGE"]);
    assert_eq!(preset(&client, &api).await, "strict");

    // The trusted page with the secret switches, and the API applies it at once.
    let r = switch(Some(&lab.trusted_url), Some(secret), permissive)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["access-control-allow-origin"].to_str().unwrap(),
        lab.trusted_url
    );
    assert_eq!(preset(&client, &api).await, "permissive");
    let r = client
        .get(format!("{api}/api/items"))
        .header("origin", &lab.untrusted_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");

    // A broken-on-purpose preset can be chosen by name, and reset brings back the start.
    let r = switch(
        Some(&lab.trusted_url),
        Some(secret),
        json!({"variables": {"CORS_PRESET": "broken-reflect-origin"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(preset(&client, &api).await, "broken-reflect-origin");
    let r = switch(Some(&lab.trusted_url), Some(secret), json!({"reset": true}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(preset(&client, &api).await, "strict");

    lab.stop().await.unwrap();
}

/// Each switch that takes effect is one generation more of the same instance, in the switch's
/// answer and in `/_lab/policy`, so that a page can tell an older answer from a newer event. A
/// refused switch changes nothing, and another run of the API is another instance.
#[tokio::test]
async fn each_switch_is_a_new_generation_of_the_same_instance() {
    let lab = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let api = loopback(&lab.api_url);
    let client = Client::new();
    let generation = || async {
        let v = policy(&client, &api).await;
        (v["generation"].clone(), v["instance"].clone())
    };
    let switch = |body: Value| {
        post_switch(
            &client,
            &api,
            Some(&lab.trusted_url),
            Some(&lab.lab_secret),
            body,
        )
    };

    let (first, instance) = generation().await;
    assert_eq!(first, 0);
    assert!(
        instance.as_str().is_some_and(|i| !i.is_empty()),
        "{instance}"
    );

    let r = switch(json!({"variables": {"CORS_PRESET": "permissive"}}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(
        (answer["generation"].clone(), answer["instance"].clone()),
        (json!(1), instance.clone())
    );
    assert_eq!(generation().await, (json!(1), instance.clone()));

    let r = switch(json!({"variables": {"CORS_MAX_AGE": "-1"}}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        generation().await,
        (json!(1), instance.clone()),
        "a refused switch"
    );

    let r = switch(json!({"reset": true})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        generation().await,
        (json!(2), instance.clone()),
        "a reset is a switch too"
    );

    let other = cors_lab::start_ephemeral(PolicyArgs::default())
        .await
        .unwrap();
    let v = policy(&client, &loopback(&other.api_url)).await;
    assert_eq!(v["generation"], 0);
    assert_ne!(v["instance"], instance, "another run of the API");

    other.stop().await.unwrap();
    lab.stop().await.unwrap();
}
