//! `GET /_lab/explain` and `POST /_lab/check-answer` over HTTP, on an ephemeral port: a pasted
//! console message comes back as the request, the failed check and the required answer; pasted
//! curl output comes back as Chromium's verdict on that answer, with where each part of the
//! request came from. Missing, oversized or malformed input gets a 4xx, bytes that are not UTF-8
//! are read lossily, and the server keeps serving.

use origin_server::explain::MAX_MESSAGE_LEN;
use origin_server::{OriginConfig, Role};
use serde_json::Value;
use tokio::net::TcpListener;

const MESSAGE: &str = "app.js:7 Access to fetch at 'https://api.example.com/orders' from origin \
    'https://shop.example.com' has been blocked by CORS policy: Request header field x-token is \
    not allowed by Access-Control-Allow-Headers in preflight response.";

struct Server {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = OriginConfig {
        role: Role::Trusted,
        api_url: "http://localhost:9090".into(),
        trusted_url: url.clone(),
        untrusted_url: "http://127.0.0.1:8081".into(),
        lab_secret: None,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(origin_server::run(listener, config, async {
        let _ = stopped.await;
    }));
    Server { url, stop, task }
}

impl Server {
    async fn explain(&self, message: &str) -> (u16, String) {
        let response = reqwest::Client::new()
            .get(format!("{}/_lab/explain", self.url))
            .query(&[("message", message)])
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn check(&self, form: &Value) -> (u16, String) {
        let response = reqwest::Client::new()
            .post(format!("{}/_lab/check-answer", self.url))
            .json(form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_pasted_message_comes_back_as_the_failed_check_and_the_required_answer() {
    let server = start().await;
    let pasted = format!("{MESSAGE}\nGET https://api.example.com/orders net::ERR_FAILED\n");
    let (status, body) = server.explain(&pasted).await;
    server.stop().await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    let messages = json["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{json}");
    let m = &messages[0];
    assert_eq!(m["initiator"], "fetch");
    assert_eq!(m["url"], "https://api.example.com/orders");
    assert_eq!(m["origin"], "https://shop.example.com");
    assert_eq!(m["cors_error"], "HeaderDisallowedByPreflightResponse");
    assert_eq!(m["failed_parameter"], "x-token");
    assert_eq!(m["stage"], "preflight");
    assert_eq!(m["required"]["credentialed"], false);
    assert_eq!(
        m["required"]["requirements"],
        serde_json::json!([
            {"kind": "ok_status"},
            {"kind": "line", "name": "access-control-allow-origin", "value": "https://shop.example.com"},
            {"kind": "in_list", "name": "access-control-allow-headers", "value": "x-token"},
        ])
    );
}

#[tokio::test]
async fn unknown_reasons_and_other_shapes_are_said_so() {
    let server = start().await;
    let unknown = "Access to fetch at 'http://10.0.0.2/' from origin 'https://a.example' has been \
                   blocked by CORS policy: The request client is not a secure context.";
    let (status, body) = server
        .explain(&format!(
            "{unknown}\nsomething has been blocked by CORS policy: ?"
        ))
        .await;
    let (none_status, none) = server.explain("TypeError: Failed to fetch").await;
    server.stop().await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["messages"][0]["cors_error"], Value::Null, "{json}");
    assert_eq!(json["messages"][0]["required"], Value::Null, "{json}");
    assert!(
        json["messages"][1]["problem"]
            .as_str()
            .unwrap()
            .contains("Access to"),
        "{json}"
    );
    assert_eq!(none_status, 200);
    assert_eq!(none, r#"{"messages":[]}"#);
}

#[tokio::test]
async fn missing_and_oversized_text_gets_a_4xx_broken_bytes_are_read_lossily_and_the_server_keeps_serving(
) {
    let server = start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/_lab/explain", server.url);
    let missing = client.get(&url).send().await.unwrap();
    let missing_status = missing.status().as_u16();
    let missing_text = missing.text().await.unwrap();
    let (long_status, long_text) = server.explain(&"x".repeat(MAX_MESSAGE_LEN + 1)).await;
    // Percent-encoded bytes that are not UTF-8: decoded lossily (U+FFFD), so the line reads as not in Chromium's shape.
    let broken = client
        .get(format!(
            "{url}?message=%FF%FE%20has%20been%20blocked%20by%20CORS%20policy%3A%20%FF"
        ))
        .send()
        .await
        .unwrap();
    let broken = (broken.status().as_u16(), broken.text().await.unwrap());
    let (after, body) = server.explain(MESSAGE).await;
    server.stop().await;
    assert_eq!(missing_status, 400);
    assert!(missing_text.contains("missing `message`"), "{missing_text}");
    assert_eq!(long_status, 414);
    assert!(
        long_text.contains(&format!("at most {MAX_MESSAGE_LEN}")),
        "{long_text}"
    );
    assert_eq!(broken.0, 200, "{}", broken.1);
    assert!(broken.1.contains("not Chromium's shape"), "{}", broken.1);
    assert_eq!(after, 200, "{body}");
}

/// What `curl -sv -X OPTIONS … 2>&1` prints over HTTP/2 (lowercase names) for a preflight whose
/// answer leaves out `x-token`.
const CURL_V_PREFLIGHT: &str = "\
* Host api.example.com:443 was resolved.
*   Trying 127.0.0.1:443...
* ALPN: curl offers h2,http/1.1
* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384 / x25519 / RSASSA-PSS
* using HTTP/2
> OPTIONS /orders HTTP/2
> Host: api.example.com
> user-agent: curl/8.14.1
> accept: */*
> origin: https://shop.example.com
> access-control-request-method: PUT
> access-control-request-headers: content-type,x-token
>
* Request completely sent off
< HTTP/2 204
< access-control-allow-origin: https://shop.example.com
< access-control-allow-methods: GET, PUT
< access-control-allow-headers: content-type
< date: Thu, 03 Dec 2026 14:00:00 GMT
<
* Connection #0 to host api.example.com left intact
";

#[tokio::test]
async fn pasted_curl_output_comes_back_as_chromiums_verdict_on_the_answer() {
    let server = start().await;
    let (status, body) = server
        .check(&serde_json::json!({ "text": CURL_V_PREFLIGHT, "origin": "https://other.example" }))
        .await;
    assert_eq!(status, 200, "{body}");
    let c = only_exchange(&body);
    assert_eq!(c["passes"], false, "{c}");
    assert_eq!(c["cors_error"], "HeaderDisallowedByPreflightResponse");
    assert_eq!(c["failed_parameter"], "x-token");
    assert_eq!(c["stage"], "preflight");
    assert_eq!(c["stage_from"], "curl");
    // curl's own Origin line wins over the form's.
    assert_eq!(c["origin"], "https://shop.example.com");
    assert_eq!(c["origin_from"], "curl");
    assert_eq!(c["method"], "PUT");
    assert_eq!(c["request_headers"], "content-type,x-token");
    assert_eq!(c["credentials"], "omit");
    assert_eq!(c["credentials_from"], "default");
    assert_eq!(
        c["reason"],
        "Request header field x-token is not allowed by Access-Control-Allow-Headers in preflight response."
    );
    assert_eq!(
        c["required"]["requirements"],
        serde_json::json!([
            { "kind": "ok_status", "carried": true },
            { "kind": "line", "name": "access-control-allow-origin",
              "value": "https://shop.example.com", "carried": true },
            { "kind": "in_list", "name": "access-control-allow-headers", "value": "x-token",
              "carried": false },
        ]),
        "each requirement, with whether the answer has it: {c}"
    );
    assert!(c["notes"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({ "kind": "vary_origin_missing" })));

    // curl -i shows no request: the form gives it. `*` with credentials fails.
    let (status, body) = server
        .check(&serde_json::json!({
            "text": "HTTP/2 204\r\naccess-control-allow-origin: *\r\naccess-control-allow-methods: DELETE\r\n\r\n",
            "origin": " https://shop.example.com ",
            "preflight": true,
            "method": "DELETE",
            "request_headers": "",
            "credentials": "include",
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    let c = only_exchange(&body);
    assert_eq!(c["cors_error"], "PreflightWildcardOriginNotAllowed", "{c}");
    assert_eq!(
        (&c["origin"], &c["origin_from"], &c["method_from"]),
        (
            &"https://shop.example.com".into(),
            &"form".into(),
            &"form".into()
        )
    );
    assert_eq!(
        c["request_headers"],
        Value::Null,
        "a blank field is not given"
    );
    assert_eq!(
        (&c["credentials"], &c["credentials_from"]),
        (&"include".into(), &"form".into())
    );
    assert_eq!(c["required"]["credentialed"], true);

    // The same answer passes without credentials; the notes say what comes next.
    let (_, body) = server
        .check(&serde_json::json!({
            "text": "HTTP/2 204\r\naccess-control-allow-origin: *\r\naccess-control-allow-methods: DELETE\r\n\r\n",
            "origin": "https://shop.example.com",
            "preflight": true,
            "method": "DELETE",
        }))
        .await;
    let c = only_exchange(&body);
    assert_eq!(
        (&c["passes"], &c["cors_error"]),
        (&true.into(), &Value::Null),
        "{c}"
    );
    assert_eq!(c["required"], Value::Null);
    let kinds: Vec<&str> = c["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["actual_needs", "with_credentials_needs"], "{c}");
    assert_eq!(
        c["notes"][1]["lines"],
        serde_json::json!([
            { "name": "access-control-allow-origin", "value": "https://shop.example.com" },
            { "name": "access-control-allow-credentials", "value": "true" },
        ])
    );

    // The preflight's run and the request's, pasted together: each judged, in order.
    let actual = "> PUT /orders HTTP/2\n> origin: https://shop.example.com\n>\n< HTTP/2 200\n\
                  < access-control-allow-origin: https://shop.example.com\n<\n";
    let (status, body) = server
        .check(&serde_json::json!({ "text": format!("{CURL_V_PREFLIGHT}{actual}") }))
        .await;
    server.stop().await;
    assert_eq!(status, 200, "{body}");
    let both: Value = serde_json::from_str(&body).unwrap();
    let verdicts: Vec<(&Value, &Value, &Value)> = both["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (&c["stage"], &c["method"], &c["cors_error"]))
        .collect();
    assert_eq!(
        verdicts,
        [
            (
                &"preflight".into(),
                &"PUT".into(),
                &"HeaderDisallowedByPreflightResponse".into()
            ),
            (&"actual".into(), &"PUT".into(), &Value::Null),
        ],
        "{both}"
    );
}

/// The one check of a body with one exchange.
fn only_exchange(body: &str) -> Value {
    let all: Value = serde_json::from_str(body).unwrap();
    let exchanges = all["exchanges"].as_array().expect("exchanges");
    assert_eq!(exchanges.len(), 1, "{all}");
    exchanges[0].clone()
}

#[tokio::test]
async fn bad_check_requests_get_a_4xx_that_says_why_and_the_server_keeps_serving() {
    let server = start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/_lab/check-answer", server.url);
    let not_json = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("HTTP/1.1 200 OK\r\n\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(
        not_json.status(),
        415,
        "a simple cross-origin POST is not read"
    );
    let broken = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"text\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let no_text = server
        .check(&serde_json::json!({ "origin": "https://a.example" }))
        .await;
    assert_eq!(no_text.0, 422, "{no_text:?}");
    assert!(no_text.1.contains("text"), "{no_text:?}");
    let huge = server
        .check(&serde_json::json!({ "text": "x".repeat(origin_server::check::MAX_BODY_LEN) }))
        .await;
    assert_eq!(huge.0, 413, "{huge:?}");
    let (status, body) = server
        .check(&serde_json::json!({ "text": "curl: (7) Failed to connect to localhost port 1" }))
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("curl's output could not be read"), "{body}");
    assert!(body.contains("HTTP/"), "it says what it looks for: {body}");
    let (status, body) = server
        .check(&serde_json::json!({ "text": "HTTP/1.1 204\r\n\r\n", "preflight": true }))
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("origin is unknown"), "{body}");
    let (status, body) = server
        .check(&serde_json::json!({
            "text": "HTTP/1.1 204\r\n\r\n", "preflight": true, "origin": "https://a.example",
        }))
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("method is unknown"), "{body}");
    let (status, body) = server
        .check(&serde_json::json!({ "text": CURL_V_PREFLIGHT, "credentials": "sometimes" }))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("include"),
        "it names what is accepted: {body}"
    );
    let (status, _) = server
        .check(&serde_json::json!({ "text": CURL_V_PREFLIGHT }))
        .await;
    server.stop().await;
    assert_eq!(status, 200, "a good request right after");
}
