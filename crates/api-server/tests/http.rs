//! The API over real HTTP on an ephemeral loopback port: preflights, actual requests, the
//! journal and the lab routes.

use futures::StreamExt;
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

mod support;

use support::{start_api, RunningApi, LAB};

const OTHER: &str = "http://127.0.0.1:8081";

struct Api {
    base: String,
    client: Client,
    _running: RunningApi,
}

async fn start(vars: &[(&str, &str)]) -> Api {
    let running = start_api(vars).await;
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Api {
        base: running.base.clone(),
        client,
        _running: running,
    }
}

impl Api {
    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.client.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.base),
        );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    async fn journal(&self, run: &str) -> Vec<Value> {
        let r = self
            .client
            .get(format!("{}/_lab/journal?run={run}", self.base))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

fn cors_headers(h: &HeaderMap) -> Vec<String> {
    h.keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn allowed_preflight_is_answered_204_and_journaled() {
    let api = start(&[]).await;
    let r = api
        .send(
            "OPTIONS",
            "/api/items/1?run=p1",
            &[
                ("origin", LAB),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type,x-token"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let h = r.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some(LAB));
    assert_eq!(header(h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(header(h, "access-control-allow-methods"), Some("PUT"));
    assert_eq!(
        header(h, "access-control-allow-headers"),
        Some("content-type,x-token")
    );
    assert_eq!(header(h, "access-control-max-age"), Some("600"));

    let entries = api.journal("p1").await;
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["kind"], "preflight");
    assert_eq!(e["method"], "OPTIONS");
    assert_eq!(e["request_method"], "PUT");
    assert_eq!(e["request_headers"], "content-type,x-token");
    assert_eq!(e["status"], 204);
    assert_eq!(e["decision"]["outcome"], "allowed");
    assert_eq!(e["verdict"]["omit"]["pass"], true);
    assert_eq!(e["verdict"]["include"]["pass"], true);
    assert!(e["url"].as_str().unwrap().ends_with("/api/items/1?run=p1"));
}

/// The journal writes a preflight's answer from the engine's lines as they are set: it must
/// still show exactly the lines that went out, in their order, a name sent twice included.
#[tokio::test]
async fn journal_shows_the_preflight_lines_that_went_out() {
    for (preset, origin) in [
        ("strict", LAB),
        ("strict", "http://evil.example"),
        ("permissive", "http://evil.example"),
        ("broken-double-origin", LAB),
        ("broken-reflect-origin", "http://evil.example"),
    ] {
        let api = start(&[("CORS_PRESET", preset), ("CORS_DEBUG", "true")]).await;
        let r = api
            .send(
                "OPTIONS",
                "/api/items/1?run=lines",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-headers", "content-type,x-token"),
                ],
            )
            .await;
        // hyper adds `date` and `content-length` when it writes the head; the journal holds
        // what the API set.
        let sent: Vec<Value> = r
            .headers()
            .iter()
            .filter(|(name, _)| *name != "date" && *name != "content-length")
            .map(|(name, value)| json!([name.as_str(), value.to_str().unwrap()]))
            .collect();
        let entries = api.journal("lines").await;
        assert_eq!(
            entries[0]["response"],
            Value::Array(sent),
            "{preset} {origin}"
        );
    }
}

#[tokio::test]
async fn refused_origin_preflight_gets_403_without_cors_headers() {
    let api = start(&[]).await;
    let r = api
        .send(
            "OPTIONS",
            "/api/items?run=p2",
            &[
                ("origin", OTHER),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(cors_headers(r.headers()).is_empty(), "{:?}", r.headers());
    let e = &api.journal("p2").await[0];
    assert_eq!(e["decision"]["outcome"], "refused");
    assert_eq!(
        e["decision"]["reason"],
        "origin http://127.0.0.1:8081 is not in CORS_ALLOW_ORIGINS"
    );
    assert_eq!(
        e["verdict"]["omit"]["cors_error"],
        "PreflightMissingAllowOriginHeader"
    );
    assert_eq!(
        e["verdict"]["omit"]["reason"],
        "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource."
    );
}

#[tokio::test]
async fn debug_mode_lets_the_browser_name_the_refused_method() {
    let preflight = [("origin", LAB), ("access-control-request-method", "patch")];
    let api = start(&[]).await;
    let r = api.send("OPTIONS", "/api/items/1?run=d1", &preflight).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        cors_headers(r.headers()),
        [
            "access-control-allow-origin",
            "access-control-allow-credentials"
        ]
    );
    let e = &api.journal("d1").await[0];
    assert_eq!(e["decision"]["outcome"], "refused");
    assert_eq!(
        e["verdict"]["omit"]["cors_error"],
        "MethodDisallowedByPreflightResponse"
    );
    assert_eq!(
        e["verdict"]["omit"]["reason"],
        "Method patch is not allowed by Access-Control-Allow-Methods in preflight response."
    );

    let api = start(&[("CORS_DEBUG", "false")]).await;
    let r = api.send("OPTIONS", "/api/items/1?run=d2", &preflight).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(cors_headers(r.headers()).is_empty());
    let e = &api.journal("d2").await[0];
    assert_eq!(
        e["verdict"]["omit"]["cors_error"],
        "PreflightMissingAllowOriginHeader"
    );
}

#[tokio::test]
async fn actual_responses_carry_cors_headers_and_append_vary() {
    let api = start(&[]).await;
    let r = api
        .send("GET", "/api/items?run=a1", &[("origin", LAB)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some(LAB));
    assert_eq!(header(h, "access-control-expose-headers"), Some("x-secret"));
    let vary: Vec<_> = h
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["accept", "origin"], "the handler's Vary is kept");

    let r = api
        .send("GET", "/api/items?run=a2", &[("origin", OTHER)])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "CORS does not stop the server from answering"
    );
    assert!(cors_headers(r.headers()).is_empty());
    let e = &api.journal("a2").await[0];
    assert_eq!(e["kind"], "actual");
    assert_eq!(
        e["verdict"]["omit"]["cors_error"],
        "MissingAllowOriginHeader"
    );

    let r = api.send("GET", "/api/items?run=a3", &[]).await;
    assert!(cors_headers(r.headers()).is_empty());
    let e = &api.journal("a3").await[0];
    assert_eq!(e["decision"]["outcome"], "no-origin");
    assert_eq!(e["verdict"]["omit"]["not_cors"], true);
}

#[tokio::test]
async fn plain_options_goes_to_the_handler() {
    let api = start(&[]).await;
    let r = api
        .send("OPTIONS", "/api/echo?run=o1", &[("origin", LAB)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some(LAB)
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["method"], "OPTIONS");
    assert_eq!(api.journal("o1").await[0]["kind"], "actual");
}

#[tokio::test]
async fn missing_paths_follow_the_demo_policy_and_lab_paths_do_not() {
    let api = start(&[]).await;
    // The CORS layer sees every non-lab path before routing: a preflight to a path with no
    // route is answered by the policy, and the 404 itself is readable cross-origin.
    let r = api
        .send(
            "OPTIONS",
            "/api/nothing-here?run=m1",
            &[("origin", LAB), ("access-control-request-method", "PUT")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some(LAB)
    );
    let r = api
        .send("GET", "/api/nothing-here?run=m1", &[("origin", LAB)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some(LAB)
    );
    let kinds: Vec<_> = api
        .journal("m1")
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["actual", "preflight"], "newest first");

    // A /_lab/ path is the lab's (with the lab's own headers for the page), never the demo
    // policy's: a preflight to it is not answered by the engine, and nothing is journaled.
    let r = api
        .send(
            "OPTIONS",
            "/_lab/nothing-here?run=m2",
            &[("origin", LAB), ("access-control-request-method", "PUT")],
        )
        .await;
    assert_ne!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(r.headers(), "access-control-allow-methods"), None);
    assert!(api.journal("m2").await.is_empty());
}

#[tokio::test]
async fn permissive_and_off_presets() {
    let api = start(&[("CORS_PRESET", "permissive")]).await;
    let r = api
        .send(
            "OPTIONS",
            "/api/items/1",
            &[
                ("origin", OTHER),
                ("access-control-request-method", "DELETE"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some("*")
    );
    assert_eq!(
        header(r.headers(), "access-control-allow-methods"),
        Some("*")
    );

    let api = start(&[("CORS_PRESET", "off")]).await;
    let r = api
        .send(
            "OPTIONS",
            "/api/items?run=off1",
            &[("origin", LAB), ("access-control-request-method", "POST")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "a CORS-unaware server has no OPTIONS route"
    );
    assert!(cors_headers(r.headers()).is_empty());
    let e = &api.journal("off1").await[0];
    assert_eq!(e["kind"], "preflight");
    assert_eq!(e["decision"]["outcome"], "cors-off");
    assert_eq!(
        e["verdict"]["omit"]["cors_error"],
        "PreflightMissingAllowOriginHeader"
    );
    // The lab routes ignore the demo policy.
    let r = api.send("GET", "/_lab/journal", &[("origin", LAB)]).await;
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some("*")
    );
}

#[tokio::test]
async fn credentials_cookie_and_redaction() {
    let api = start(&[]).await;
    let r = api.send("POST", "/api/login", &[("origin", LAB)]).await;
    let cookies: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(cookies.len(), 2);
    assert!(
        cookies[1].starts_with("lab_session_cross_site=")
            && cookies[1].contains("SameSite=None; Secure")
    );
    let cookie = cookies[0].clone();
    assert!(
        cookie.starts_with("lab_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let r = api
        .send(
            "GET",
            "/api/whoami?run=c1",
            &[("origin", LAB), ("cookie", &pair)],
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["logged_in"], true);
    assert_eq!(body["cookies_received"], serde_json::json!(["lab_session"]));
    let e = &api.journal("c1").await[0];
    assert_eq!(e["cookie_sent"], true);
    let text = e.to_string();
    assert!(
        !text.contains(&pair),
        "the cookie value must not be journaled: {text}"
    );
    assert!(text.contains("(redacted"));
}

#[tokio::test]
async fn redirect_goes_to_the_other_origin() {
    let api = start(&[]).await;
    let r = api
        .send("GET", "/api/redirect?run=r1", &[("origin", LAB)])
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        header(r.headers(), "location"),
        Some("http://127.0.0.1:1/api/items?run=r1")
    );
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some(LAB)
    );
}

/// The API's own redirect of `/api/v1/` is behind the CORS layer: it carries the policy's
/// headers, and its preflight is the engine's.
#[tokio::test]
async fn the_apis_own_redirect_is_behind_the_cors_layer() {
    let api = start(&[]).await;
    let preflight = api
        .send(
            "OPTIONS",
            "/api/v1/items/1?run=v1",
            &[("origin", LAB), ("access-control-request-method", "PUT")],
        )
        .await;
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let put = api
        .send("PUT", "/api/v1/items/1?run=v1", &[("origin", LAB)])
        .await;
    assert_eq!(put.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        header(put.headers(), "location"),
        Some("/api/items/1?run=v1")
    );
    assert_eq!(
        header(put.headers(), "access-control-allow-origin"),
        Some(LAB)
    );
    let entries = api.journal("v1").await;
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["answered_by"] == "cors-layer"));
    // The path goes along as it arrived, still encoded: no line break gets into the Location.
    let encoded = api
        .send("GET", "/api/v1/a%0d%0aSet-Cookie:%20x", &[("origin", LAB)])
        .await;
    assert_eq!(encoded.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        header(encoded.headers(), "location"),
        Some("/api/a%0d%0aSet-Cookie:%20x")
    );
    assert!(encoded.headers().get("set-cookie").is_none());
}

/// The front's redirect of `/moved/` is answered before the CORS layer: under every policy it
/// carries no CORS header, and the journal says so and judges it as Chromium does.
#[tokio::test]
async fn moved_paths_are_redirected_in_front_of_the_cors_layer() {
    for preset in ["strict", "permissive"] {
        let api = start(&[("CORS_PRESET", preset)]).await;
        let preflight = api
            .send(
                "OPTIONS",
                "/moved/items/1?run=m1",
                &[
                    ("origin", LAB),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-headers", "content-type"),
                ],
            )
            .await;
        assert_eq!(
            preflight.status(),
            StatusCode::PERMANENT_REDIRECT,
            "{preset}"
        );
        assert_eq!(
            header(preflight.headers(), "location"),
            Some("/api/items/1?run=m1")
        );
        assert!(cors_headers(preflight.headers()).is_empty(), "{preset}");
        let get = api
            .send("GET", "/moved/items?run=m2", &[("origin", LAB)])
            .await;
        assert_eq!(get.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(header(get.headers(), "location"), Some("/api/items?run=m2"));
        assert!(cors_headers(get.headers()).is_empty(), "{preset}");

        let [p] = &api.journal("m1").await[..] else {
            panic!("one entry for the preflight");
        };
        assert_eq!(p["kind"], "preflight");
        assert_eq!(p["status"], 308);
        assert_eq!(p["answered_by"], "front-redirect");
        assert_eq!(p["decision"]["outcome"], "not-asked");
        assert_eq!(
            p["verdict"]["omit"]["cors_error"],
            "PreflightDisallowedRedirect"
        );
        let [g] = &api.journal("m2").await[..] else {
            panic!("one entry for the GET");
        };
        assert_eq!(g["kind"], "actual");
        assert_eq!(g["answered_by"], "front-redirect");
        assert_eq!(
            g["verdict"]["omit"]["cors_error"],
            "MissingAllowOriginHeader"
        );

        // The address it points to is behind the CORS layer as usual.
        let moved_to = api
            .send("GET", "/api/items?run=m3", &[("origin", LAB)])
            .await;
        assert_eq!(moved_to.status(), StatusCode::OK);
        assert!(header(moved_to.headers(), "access-control-allow-origin").is_some());
        assert_eq!(api.journal("m3").await[0]["answered_by"], "cors-layer");
        // Only the prefix moved: `/moved` alone is a missing path under the policy.
        let missing = api.send("GET", "/moved?run=m4", &[("origin", LAB)]).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(header(missing.headers(), "access-control-allow-origin").is_some());
        let encoded = api
            .send("GET", "/moved/a%0d%0aSet-Cookie:%20x", &[("origin", LAB)])
            .await;
        assert_eq!(
            header(encoded.headers(), "location"),
            Some("/api/a%0d%0aSet-Cookie:%20x")
        );
        assert!(encoded.headers().get("set-cookie").is_none());
        // A request no browser sends gets the CORS layer's 400 in front of it too.
        let bad = api
            .send("GET", "/moved/items", &[("origin", LAB), ("origin", OTHER)])
            .await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn hostile_origin_headers_get_400_and_the_server_keeps_serving() {
    let api = start(&[]).await;
    let r = api
        .send("GET", "/api/items", &[("origin", LAB), ("origin", OTHER)])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let raw = reqwest::header::HeaderValue::from_bytes(b"http://\xc3\xa9.com").unwrap();
    let r = api
        .client
        .get(format!("{}/api/items", api.base))
        .header("origin", raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let commas = ",".repeat(10_000);
    let r = api
        .send(
            "OPTIONS",
            "/api/items",
            &[
                ("origin", LAB),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", &commas),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(cors_headers(r.headers()).is_empty());
    let r = api.send("GET", "/api/items", &[("origin", LAB)]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// `GET /_lab/events`, checked to be an event stream.
async fn open_events(api: &Api) -> reqwest::Response {
    let events = api
        .client
        .get(format!("{}/_lab/events", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(events.headers(), "content-type"),
        Some("text/event-stream")
    );
    events
}

/// The next chunk of an event stream, as text.
async fn next_chunk(events: &mut reqwest::Response) -> String {
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), events.chunk())
        .await
        .expect("events within 10 s")
        .unwrap()
        .expect("stream open");
    String::from_utf8_lossy(&chunk).into_owned()
}

/// Reads an event stream up to the end of the next `count` events.
async fn next_events(events: &mut reqwest::Response, count: usize) -> String {
    let mut text = String::new();
    while text.matches("\n\n").count() < count {
        text.push_str(&next_chunk(events).await);
    }
    text
}

/// The stream opens with the policy in force, which names this run of the API, and then sends
/// each new entry.
#[tokio::test]
async fn live_events_open_with_the_policy_then_stream_new_entries() {
    let api = start(&[]).await;
    let policy: Value = api
        .send("GET", "/_lab/policy", &[])
        .await
        .json()
        .await
        .unwrap();
    let mut events = open_events(&api).await;
    let opening = next_events(&mut events, 1).await;
    let data = opening
        .strip_prefix("event: policy\ndata: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("the first event should be the policy: {opening}"));
    let opening: Value = serde_json::from_str(data).unwrap();
    assert_eq!(opening["instance"], policy["instance"], "{opening}");
    assert_eq!(opening["preset"], "strict", "{opening}");

    api.send("GET", "/api/items?run=sse1", &[("origin", LAB)])
        .await;
    let text = next_events(&mut events, 1).await;
    assert!(text.starts_with("event: entry\ndata: "), "{text}");
    assert!(text.contains("\"run\":\"sse1\""), "{text}");
}

/// Under a burst the stream sends the newest entries in batches and counts the rest in `gap`
/// events: every entry is either sent, in order, or counted.
#[tokio::test]
async fn live_events_account_for_every_entry_under_a_burst() {
    let api = start(&[]).await;
    let mut events = open_events(&api).await;
    const BURST: u64 = 400;
    let burst = futures::stream::iter(0..BURST)
        .map(|i| {
            let api = &api;
            async move {
                api.send(
                    "GET",
                    &format!("/api/items?run=burst-{i}"),
                    &[("origin", LAB)],
                )
                .await
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>();
    let reader = async {
        let (mut text, mut sent, mut skipped, mut ids) = (String::new(), 0u64, 0u64, Vec::new());
        while sent + skipped < BURST {
            text.push_str(&next_chunk(&mut events).await);
            while let Some(end) = text.find("\n\n") {
                let event: String = text.drain(..end + 2).collect();
                let data = event.lines().find_map(|l| l.strip_prefix("data: "));
                let data: Value = data.map_or(Value::Null, |d| serde_json::from_str(d).unwrap());
                if event.starts_with("event: entry\n") {
                    sent += 1;
                    ids.push(data["id"].as_u64().unwrap());
                } else if event.starts_with("event: gap\n") {
                    skipped += data["skipped"].as_u64().unwrap();
                }
            }
        }
        (sent, skipped, ids)
    };
    let (responses, (sent, skipped, ids)) = tokio::join!(burst, reader);
    assert!(responses.iter().all(|r| r.status() == StatusCode::OK));
    assert_eq!(sent + skipped, BURST, "{sent} sent + {skipped} skipped");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids in order: {ids:?}");
    assert_eq!(ids.last(), Some(&BURST), "the newest entry is always sent");
}

impl Api {
    /// `GET /_lab/walkthrough` with these query fields: the status and the JSON.
    async fn walk(&self, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}/_lab/walkthrough", self.base))
            .query(fields)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }
}

/// The `[name, value]` pairs of a walk's exchange, or a real response's CORS lines, sorted.
fn cors_lines(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut lines: Vec<_> = pairs
        .into_iter()
        .filter(|(n, _)| n.starts_with("access-control-") || n == "vary")
        .collect();
    lines.sort();
    lines
}

fn walk_lines(exchange: &Value, field: &str) -> Vec<(String, String)> {
    cors_lines(exchange[field].as_array().unwrap().iter().map(|pair| {
        let s = |i: usize| pair[i].as_str().unwrap().to_string();
        (s(0), s(1))
    }))
}

fn response_lines(r: &reqwest::Response) -> Vec<(String, String)> {
    cors_lines(
        r.headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string())),
    )
}

#[tokio::test]
async fn a_walk_answers_what_the_api_answers_under_every_preset() {
    for preset in cors_policy::Preset::all() {
        let api = start(&[("CORS_PRESET", preset.name())]).await;
        let (status, walk) = api
            .walk(&[
                ("origin", LAB),
                ("method", "put"),
                ("headers", "Content-Type: application/json\nX-Token: 1"),
                ("credentials", "include"),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{walk}");
        assert_eq!(walk["preset"], preset.name());
        assert_eq!(walk["url"], format!("{}/api/echo", api.base));
        let preflight = &walk["preflight"];
        let request: Vec<(String, String)> = walk_lines(preflight, "request");
        let headers: Vec<(&str, &str)> = request
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain([("origin", LAB)])
            .collect();
        // The same preflight, sent: the walk's answer is the API's, line for line.
        let real = api.send("OPTIONS", "/api/echo", &headers).await;
        let label = preset.name();
        assert_eq!(preflight["status"], real.status().as_u16(), "{label}");
        assert_eq!(
            walk_lines(preflight, "response"),
            response_lines(&real),
            "{label}"
        );
        let actual = &walk["actual"];
        if actual.is_null() {
            assert_eq!(walk["verdict"]["stage"], "preflight", "{label}");
            assert_eq!(walk["verdict"]["pass"], false, "{label}");
            continue;
        }
        let real = api
            .send(
                "PUT",
                "/api/echo",
                &[("origin", LAB), ("content-type", "application/json")],
            )
            .await;
        assert_eq!(actual["status"], real.status().as_u16(), "{label}");
        assert_eq!(
            walk_lines(actual, "response"),
            response_lines(&real),
            "{label}"
        );
    }
}

#[tokio::test]
async fn a_walk_says_why_a_preflight_goes_first_and_what_chromium_concludes() {
    let api = start(&[]).await;
    let (_, walk) = api
        .walk(&[("origin", "https://app.example.com"), ("method", "GET")])
        .await;
    assert_eq!(walk["sent"]["preflight"], false);
    assert!(walk["preflight"].is_null());
    assert_eq!(walk["verdict"]["cors_error"], "MissingAllowOriginHeader");
    assert_eq!(walk["actual"]["outcome"], "refused");

    let (_, walk) = api
        .walk(&[
            ("origin", LAB),
            ("method", "patch"),
            ("headers", "Cookie: a=b\nAccept-Language: en_US"),
        ])
        .await;
    assert_eq!(walk["sent"]["method"], "patch");
    assert_eq!(walk["sent"]["dropped"], json!(["cookie"]));
    assert_eq!(walk["sent"]["request_headers"], "accept-language");
    let kinds: Vec<&str> = walk["sent"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["method", "value"]);
    assert!(walk["actual"].is_null(), "a failed preflight stops it");
    assert_eq!(
        walk["verdict"]["cors_error"],
        "MethodDisallowedByPreflightResponse"
    );
    assert_eq!(walk["verdict"]["stage"], "preflight");

    let (status, walk) = api.walk(&[("origin", LAB), ("method", "TRACE")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(walk["throws"]
        .as_str()
        .unwrap()
        .contains("forbidden method"));
    assert!(walk.get("sent").is_none());
    // Nothing was journaled: a walk sends nothing.
    assert!(api.journal("").await.is_empty());
}

#[tokio::test]
async fn a_walk_refuses_bad_fields_with_400_naming_the_field() {
    let api = start(&[]).await;
    let own = api.base.clone();
    let many = "X-A: 1\n".repeat(33);
    let long = format!("X-A: {}", "a".repeat(9000));
    let cases: [(&[(&str, &str)], &str); 8] = [
        (&[("method", "GET")], "origin is missing"),
        (
            &[("origin", "https://App.example.com"), ("method", "GET")],
            "upper-case",
        ),
        (
            &[("origin", "https://app.example.com/"), ("method", "GET")],
            "ends with '/'",
        ),
        (
            &[("origin", own.as_str()), ("method", "GET")],
            "same-origin",
        ),
        (&[("origin", LAB)], "method is missing"),
        (
            &[("origin", LAB), ("method", "GET"), ("credentials", "yes")],
            "credentials 'yes'",
        ),
        (
            &[("origin", LAB), ("method", "GET"), ("headers", "X-A 1")],
            "headers line 1",
        ),
        (
            &[("origin", LAB), ("method", "GET"), ("headers", &many)],
            "more than 32 lines",
        ),
    ];
    for (fields, said) in cases {
        let (status, body) = api.walk(fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{fields:?}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(said), "{fields:?}: {error}");
    }
    let (status, body) = api
        .walk(&[("origin", LAB), ("method", "GET"), ("headers", &long)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("at most 8192"));
    // A query of 60,000 bytes (under the 64 KiB head limit, which gives 431): a 400 too, and
    // the API goes on serving.
    let huge = "a".repeat(60_000);
    let (status, _) = api
        .walk(&[("origin", LAB), ("method", "GET"), ("headers", &huge)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.walk(&[("origin", "null"), ("method", "GET")]).await;
    assert_eq!(status, StatusCode::OK, "null is an origin a browser sends");
}
