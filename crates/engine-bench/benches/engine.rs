//! The cors-policy engine against tower-http's `CorsLayer`, side by side in one run.
//!
//! For each case (preflight allowed, preflight refused, actual request; with 1 and 1000 allowed
//! exact origins and with a subdomain pattern; plus a preflight whose
//! `Access-Control-Request-Headers` is 1,024 commas) three things are timed:
//!
//! * `decide` — `cors_policy::engine::decide` alone: the engine's decision;
//! * `cors-lab` — the engine as a tower service (`engine_bench::CorsLabLayer`) over a trivial
//!   inner service, request in, `http::Response` with headers out;
//! * `tower-http` — `tower_http::cors::CorsLayer` configured with the same policy over the same
//!   inner service;
//! * `floor` — no CORS logic at all: a service that writes the very header lines of the
//!   engine's answer, prepared in advance, over the same inner service. What any correct
//!   implementation pays to put those lines into an `http::Response`.
//!
//! Before the timings, a counting global allocator reports the heap allocations of one request
//! on each side. Both services are driven with `ready().call()` under `futures`' `block_on`.
//!
//! ```sh
//! cargo bench -p engine-bench --bench engine -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! tower-http does not check the requested method or headers and answers every `OPTIONS` itself
//! (with 200 and its whole lists, to refused origins too), so on preflights it does less work
//! than the engine; see BENCHMARKS.md.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::hint::black_box;
use std::time::Duration;

use cors_policy::engine::{decide, RequestFacts};
use cors_policy::{Policy, PolicyInput};
use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion};
use engine_bench::counting::{allocations_of, CountingAllocator};
use engine_bench::CorsLabLayer;
use futures::executor::block_on;
use http::{header, HeaderName, HeaderValue, Method, Request, Response};
use tower::{Layer, Service, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

// ---------------------------------------------------------------------------------------------
// The policy, both ways
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Origins {
    One,
    Thousand,
    Pattern,
}

impl Origins {
    const ALL: [Origins; 3] = [Origins::One, Origins::Thousand, Origins::Pattern];

    fn label(self) -> &'static str {
        match self {
            Origins::One => "1-origin",
            Origins::Thousand => "1000-origins",
            Origins::Pattern => "subdomain-pattern",
        }
    }

    /// The allow list: exact origins, or one subdomain pattern.
    fn entries(self) -> Vec<String> {
        match self {
            Origins::One => vec!["https://app.example.com".into()],
            Origins::Thousand => (0..1000)
                .map(|i| format!("https://app{i}.example.com"))
                .collect(),
            Origins::Pattern => vec!["https://*.example.com".into()],
        }
    }

    /// The origin the allowed cases send: in the middle of the 1000.
    fn allowed(self) -> &'static str {
        match self {
            Origins::One => "https://app.example.com",
            Origins::Thousand => "https://app500.example.com",
            Origins::Pattern => "https://app.eu.example.com",
        }
    }
}

const REFUSED_ORIGIN: &str = "https://evil.example";
const METHODS: &str = "GET,POST,PUT,PATCH,DELETE";
const HEADERS: &str = "content-type,x-token,authorization";

/// The same policy for both: these origins, the strict preset's methods, headers, exposed header,
/// max-age 600 and credentials; production mode (a refused preflight is a bare 403).
fn engine_policy(origins: Origins) -> Policy {
    PolicyInput {
        allow_origins: Some(origins.entries().join(",")),
        allow_methods: Some(METHODS.into()),
        allow_headers: Some(HEADERS.into()),
        expose_headers: Some("x-secret".into()),
        max_age: Some("600".into()),
        allow_credentials: Some("true".into()),
        debug: Some("false".into()),
        ..Default::default()
    }
    .resolve("http://localhost:8080")
    .expect("bench policy is valid")
    .policy
}

fn tower_http_layer(origins: Origins) -> CorsLayer {
    let allow_origin = match origins {
        Origins::Pattern => AllowOrigin::predicate(|origin: &HeaderValue, _| {
            is_subdomain(origin.as_bytes(), b"https://", b".example.com")
        }),
        _ => AllowOrigin::list(
            origins
                .entries()
                .iter()
                .map(|o| HeaderValue::from_str(o).unwrap()),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static("x-token"),
            header::AUTHORIZATION,
        ])
        .expose_headers([HeaderName::from_static("x-secret")])
        .max_age(Duration::from_secs(600))
        .allow_credentials(true)
}

/// `scheme` + one or more lower-case labels + `suffix`, no port: what `https://*.example.com`
/// means, written as a tower-http predicate.
fn is_subdomain(origin: &[u8], scheme: &[u8], suffix: &[u8]) -> bool {
    let Some(host) = origin.strip_prefix(scheme) else {
        return false;
    };
    let Some(labels) = host.strip_suffix(suffix) else {
        return false;
    };
    !labels.is_empty()
        && !labels.starts_with(b".")
        && !labels.ends_with(b".")
        && !labels.windows(2).any(|w| w == b"..")
        && labels
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(b))
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Case {
    PreflightAllowed,
    PreflightRefused,
    Actual,
    /// A preflight from an allowed origin whose Access-Control-Request-Headers is 1,024 commas.
    Commas,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::PreflightAllowed => "preflight-allowed",
            Case::PreflightRefused => "preflight-refused",
            Case::Actual => "actual",
            Case::Commas => "preflight-1024-commas",
        }
    }

    fn origin(self, origins: Origins) -> &'static str {
        match self {
            Case::PreflightRefused => REFUSED_ORIGIN,
            _ => origins.allowed(),
        }
    }

    fn facts(self, origins: Origins, commas: &'static str) -> RequestFacts<'static> {
        let origin = Some(self.origin(origins));
        match self {
            Case::PreflightAllowed | Case::PreflightRefused => RequestFacts {
                method: "OPTIONS",
                origin,
                request_method: Some("PUT"),
                request_headers: Some("content-type,x-token"),
            },
            Case::Actual => RequestFacts {
                method: "GET",
                origin,
                ..Default::default()
            },
            Case::Commas => RequestFacts {
                method: "OPTIONS",
                origin,
                request_method: Some("GET"),
                request_headers: Some(commas),
            },
        }
    }

    /// The request as a server receives it; header values are static bytes, as cheap to clone
    /// as the shared buffer hyper parses them into.
    fn request(self, origins: Origins, commas: &'static str) -> Request<()> {
        let facts = self.facts(origins, commas);
        let mut builder = Request::builder()
            .method(facts.method)
            .uri("/api/items/1")
            .header(header::HOST, "localhost:9090");
        if let Some(o) = facts.origin {
            builder = builder.header(header::ORIGIN, HeaderValue::from_static(o));
        }
        if let Some(m) = facts.request_method {
            builder = builder.header(
                header::ACCESS_CONTROL_REQUEST_METHOD,
                HeaderValue::from_static(m),
            );
        }
        if let Some(h) = facts.request_headers {
            builder = builder.header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                HeaderValue::from_static(h),
            );
        }
        builder.body(()).unwrap()
    }
}

const CASES: [Case; 3] = [Case::PreflightAllowed, Case::PreflightRefused, Case::Actual];

fn commas() -> &'static str {
    Box::leak(",".repeat(1024).into_boxed_str())
}

// ---------------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------------

type Inner = tower::util::ServiceFn<fn(Request<()>) -> Ready<Result<Response<()>, Infallible>>>;

/// The handler: an empty 200.
fn inner() -> Inner {
    fn handler(_: Request<()>) -> Ready<Result<Response<()>, Infallible>> {
        ready(Ok(Response::new(())))
    }
    tower::service_fn(handler as fn(_) -> _)
}

// Never inlined, so that an instruction count can be confined to it
// (`--toggle-collect='engine::call*'`, see `instruction_loop`).
#[inline(never)]
fn call<S>(service: &mut S, request: Request<()>) -> Response<()>
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    block_on(async {
        let Ok(ready) = service.ready().await;
        let Ok(response) = ready.call(request).await;
        response
    })
}

/// The `floor` side: the same status and header lines as a given answer, cloned from a
/// prepared list; the inner service runs for anything but a preflight.
struct Floor {
    answer: Response<()>,
    preflight: bool,
    inner: Inner,
}

impl Floor {
    fn like(answer: Response<()>, preflight: bool) -> Self {
        Floor {
            answer,
            preflight,
            inner: inner(),
        }
    }

    fn write_lines(&self, out: &mut http::HeaderMap) {
        out.reserve(self.answer.headers().len());
        for (name, value) in self.answer.headers() {
            out.append(name.clone(), value.clone());
        }
    }
}

impl Service<Request<()>> for Floor {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<()>) -> Self::Future {
        let mut response = if self.preflight {
            let mut r = Response::new(());
            *r.status_mut() = self.answer.status();
            r
        } else {
            let Ok(r) = self.inner.call(request).into_inner();
            r
        };
        self.write_lines(response.headers_mut());
        ready(Ok(response))
    }
}

struct Sides {
    policy: &'static Policy,
    ours: engine_bench::CorsLab<Inner>,
    theirs: tower_http::cors::Cors<Inner>,
}

fn sides(origins: Origins) -> Sides {
    let policy = engine_policy(origins);
    Sides {
        ours: CorsLabLayer::new(policy.clone()).layer(inner()),
        policy: Box::leak(Box::new(policy)),
        theirs: tower_http_layer(origins).layer(inner()),
    }
}

// ---------------------------------------------------------------------------------------------
// Allocations
// ---------------------------------------------------------------------------------------------

const ROUNDS: usize = 256;

/// Heap allocations of one request, averaged over `ROUNDS` (requests are built beforehand and
/// responses kept until after counting, so only the work of the call is counted).
fn allocations_per_request(
    mut run: impl FnMut(Request<()>) -> Response<()>,
    make: impl Fn() -> Request<()>,
) -> f64 {
    // Warm up: the first calls may initialize thread-locals and shared buffers.
    for _ in 0..4 {
        drop(run(make()));
    }
    let requests: Vec<_> = (0..ROUNDS).map(|_| make()).collect();
    let mut responses = Vec::with_capacity(ROUNDS);
    let ((), n) = allocations_of(|| {
        for r in requests {
            responses.push(run(r));
        }
    });
    drop(responses);
    n as f64 / ROUNDS as f64
}

fn allocations_of_decide(policy: &Policy, facts: &RequestFacts<'_>) -> f64 {
    let ((), n) = allocations_of(|| {
        for _ in 0..ROUNDS {
            black_box(decide(policy, black_box(facts)));
        }
    });
    n as f64 / ROUNDS as f64
}

fn describe(response: &Response<()>) -> String {
    format!(
        "{} + {} headers",
        response.status().as_u16(),
        response.headers().len()
    )
}

fn allocation_report(commas: &'static str) {
    println!("Heap allocations per request (allocations + reallocations, mean of {ROUNDS}):");
    println!();
    println!("| case | origins | decide | cors-lab service | tower-http service | cors-lab answer | tower-http answer |");
    println!("|---|---|---:|---:|---:|---|---|");
    let mut rows: Vec<(Case, Origins)> = CASES
        .iter()
        .flat_map(|c| Origins::ALL.iter().map(move |o| (*c, *o)))
        .collect();
    rows.push((Case::Commas, Origins::One));
    for (case, origins) in rows {
        let mut s = sides(origins);
        let make = || case.request(origins, commas);
        let decide_allocs = allocations_of_decide(s.policy, &case.facts(origins, commas));
        let ours = allocations_per_request(|r| call(&mut s.ours, r), make);
        let theirs = allocations_per_request(|r| call(&mut s.theirs, r), make);
        let our_answer = describe(&call(&mut s.ours, make()));
        let their_answer = describe(&call(&mut s.theirs, make()));
        println!(
            "| {} | {} | {decide_allocs} | {ours} | {theirs} | {our_answer} | {their_answer} |",
            case.label(),
            origins.label()
        );
    }
    println!();
}

// ---------------------------------------------------------------------------------------------
// Timings
// ---------------------------------------------------------------------------------------------

fn bench_case(c: &mut Criterion, case: Case, origins: &[Origins], commas: &'static str) {
    let mut group = c.benchmark_group(case.label());
    for &o in origins {
        let mut s = sides(o);
        let facts = case.facts(o, commas);
        group.bench_function(BenchmarkId::new("decide", o.label()), |b| {
            b.iter(|| decide(s.policy, black_box(&facts)))
        });
        group.bench_function(BenchmarkId::new("cors-lab", o.label()), |b| {
            b.iter_batched(
                || case.request(o, commas),
                |r| call(&mut s.ours, r),
                BatchSize::SmallInput,
            )
        });
        group.bench_function(BenchmarkId::new("tower-http", o.label()), |b| {
            b.iter_batched(
                || case.request(o, commas),
                |r| call(&mut s.theirs, r),
                BatchSize::SmallInput,
            )
        });
        let answer = call(&mut s.ours, case.request(o, commas));
        let mut floor = Floor::like(answer, case.facts(o, commas).is_preflight());
        group.bench_function(BenchmarkId::new("floor", o.label()), |b| {
            b.iter_batched(
                || case.request(o, commas),
                |r| call(&mut floor, r),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn engine_vs_tower_http(c: &mut Criterion) {
    let commas = commas();
    for case in CASES {
        bench_case(c, case, &Origins::ALL, commas);
    }
    bench_case(c, Case::Commas, &[Origins::One], commas);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = engine_vs_tower_http
}

// ---------------------------------------------------------------------------------------------
// Instruction counts
// ---------------------------------------------------------------------------------------------

/// `ENGINE_LOOP=<case>/<side>/<origins>:<n>` (names as in the timings, e.g.
/// `preflight-allowed/cors-lab/1-origin:10000`): builds `n` requests, calls that side with each
/// and exits, for `valgrind --tool=callgrind`. Instruction counts do not drift with the
/// machine's speed as times do. Counted within `call` only (as the timings time it: the
/// request is built before, the response dropped after), divided by `n`, that is one call's
/// count. See BENCHMARKS.md.
fn instruction_loop(spec: &str) -> Result<(), String> {
    let (name, n) = spec
        .rsplit_once(':')
        .ok_or("expected <case>/<side>/<origins>:<n>")?;
    let n: usize = n.parse().map_err(|e| format!("{n}: {e}"))?;
    let parts: Vec<&str> = name.split('/').collect();
    let [case, side, origins] = parts[..] else {
        return Err(format!("{name}: expected <case>/<side>/<origins>"));
    };
    let case = [Case::Commas, CASES[0], CASES[1], CASES[2]]
        .into_iter()
        .find(|c| c.label() == case)
        .ok_or(format!("no case {case}"))?;
    let o = Origins::ALL
        .into_iter()
        .find(|o| o.label() == origins)
        .ok_or(format!("no origins {origins}"))?;
    let commas = commas();
    let mut s = sides(o);
    let requests: Vec<_> = (0..n).map(|_| case.request(o, commas)).collect();
    let mut responses = Vec::with_capacity(n);
    match side {
        "cors-lab" => requests
            .into_iter()
            .for_each(|r| responses.push(call(&mut s.ours, r))),
        "tower-http" => requests
            .into_iter()
            .for_each(|r| responses.push(call(&mut s.theirs, r))),
        "floor" => {
            let answer = call(&mut s.ours, case.request(o, commas));
            let mut floor = Floor::like(answer, case.facts(o, commas).is_preflight());
            requests
                .into_iter()
                .for_each(|r| responses.push(call(&mut floor, r)));
        }
        other => return Err(format!("no side {other} (cors-lab, tower-http, floor)")),
    }
    black_box(&responses);
    Ok(())
}

fn main() {
    if let Ok(spec) = std::env::var("ENGINE_LOOP") {
        if let Err(e) = instruction_loop(&spec) {
            eprintln!("ENGINE_LOOP={spec}: {e}");
            std::process::exit(2);
        }
        return;
    }
    allocation_report(commas());
    benches();
    Criterion::default().configure_from_args().final_summary();
}
