//! The engine decides without touching the heap: the bench's counting allocator wraps the
//! system one for this test binary (which holds only this test, so nothing else allocates
//! meanwhile).

use cors_policy::engine::{decide, Decision, RequestFacts};
use cors_policy::PolicyInput;
use engine_bench::counting::{allocations_of, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn deciding_allocates_nothing() {
    // The counter counts: a 0 below that nothing could have raised would prove nothing.
    let (_, n) = allocations_of(|| std::hint::black_box(Vec::<u8>::with_capacity(16)));
    assert_eq!(n, 1, "the counting allocator is not counting");
    let origins: Vec<String> = (0..1000)
        .map(|i| format!("https://app{i}.example.com"))
        .chain(["https://*.example.org".to_string()])
        .collect();
    let policy = PolicyInput {
        allow_origins: Some(origins.join(",")),
        allow_headers: Some("content-type,x-token".into()),
        ..Default::default()
    }
    .resolve("http://localhost:8080")
    .unwrap()
    .policy;
    let commas = ",".repeat(1024);
    let cases = [
        (
            "allowed preflight",
            "OPTIONS",
            "https://app500.example.com",
            Some("PUT"),
            Some("content-type,x-token"),
        ),
        (
            "pattern preflight",
            "OPTIONS",
            "https://a.b.example.org",
            Some("PUT"),
            Some("x-token"),
        ),
        (
            "refused origin preflight",
            "OPTIONS",
            "https://evil.example",
            Some("PUT"),
            None,
        ),
        (
            "refused header preflight",
            "OPTIONS",
            "https://app1.example.com",
            Some("GET"),
            Some("x-other"),
        ),
        (
            "1024 commas",
            "OPTIONS",
            "https://app1.example.com",
            Some("GET"),
            Some(commas.as_str()),
        ),
        (
            "allowed actual",
            "GET",
            "https://app999.example.com",
            None,
            None,
        ),
        ("refused actual", "GET", "https://evil.example", None, None),
    ];
    for (name, method, origin, request_method, request_headers) in cases {
        let facts = RequestFacts {
            method,
            origin: Some(origin),
            request_method,
            request_headers,
        };
        let (status, n) = allocations_of(|| {
            let decision = decide(&policy, &facts);
            let status = match &decision {
                Decision::Preflight(p) => p.status,
                Decision::Actual(a) => a.headers.len() as u16,
            };
            std::hint::black_box(decision);
            status
        });
        assert_eq!(n, 0, "{name}: {n} allocations");
        assert!(status > 0 || name.starts_with("refused actual"), "{name}");
    }
}
