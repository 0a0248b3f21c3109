//! The cors-policy engine as a tower [`Layer`], for benchmarking it against tower-http's
//! `CorsLayer` on equal terms: both sides take an `http::Request`, and both return an
//! `http::Response` with the CORS headers set, the preflight answered without calling the inner
//! service and an actual request passed through it.
//!
//! The layer builds [`RequestFacts`] from the request's headers (borrowing them), calls
//! [`cors_policy::engine::decide`], and turns the decision's header values into `HeaderValue`s
//! with [`cors_policy::wire`], the same code as the lab's API: a value that *is* a request header
//! (the origin, the requested method, the requested header list) is that `HeaderValue` cloned —
//! a reference-count bump, or nothing for static bytes — and the policy's fixed values are
//! prepared once, when the layer is built. Only an unusual value (a trimmed header list, a
//! `broken-…` preset's made-up value) is copied.
//!
//! (The lab's API server has its own, richer layer with the journal; this one is the minimum a
//! production service would run.)

pub mod counting;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use cors_policy::engine::{self, Decision, RequestFacts, ResponseHeader};
use cors_policy::wire::{
    for_each_line, header_name, joined_request_headers, set_line, CorsRequestHeaders, Echoes,
    PreparedValues, RequestValue,
};
use cors_policy::Policy;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use smallvec::SmallVec;
use tower_layer::Layer;
use tower_service::Service;

/// Applies a [`Policy`] to every request of the wrapped service.
#[derive(Clone)]
pub struct CorsLabLayer {
    shared: Arc<Shared>,
}

struct Shared {
    policy: Policy,
    /// The policy's own header values, ready to clone.
    prepared: PreparedValues,
}

impl CorsLabLayer {
    pub fn new(policy: Policy) -> Self {
        let prepared = PreparedValues::new(&policy);
        CorsLabLayer {
            shared: Arc::new(Shared { policy, prepared }),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.shared.policy
    }
}

impl<S> Layer<S> for CorsLabLayer {
    type Service = CorsLab<S>;

    fn layer(&self, inner: S) -> CorsLab<S> {
        CorsLab {
            shared: self.shared.clone(),
            inner,
        }
    }
}

/// The service [`CorsLabLayer`] produces.
#[derive(Clone)]
pub struct CorsLab<S> {
    shared: Arc<Shared>,
    inner: S,
}

/// Header lines to set on an actual response, inline: there are at most four. The flag says
/// the name came before (append rather than replace). Names as the engine's enum, a byte each
/// rather than a `HeaderName`: the lines ride in the response future, which is moved whole
/// from call to poll, preflights included.
type Lines = SmallVec<[(ResponseHeader, bool, HeaderValue); 4]>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CorsLab<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let shared = &*self.shared;
        let headers = request.headers();
        // Several lines or a byte outside visible ASCII: taken as absent.
        let read = CorsRequestHeaders::read(headers);
        let echoed = read.echoes();
        let text = |i: usize| echoed[i].map(|(text, _)| text);
        let joined; // several Access-Control-Request-Headers lines, joined
        let request_headers = match read.request_headers {
            RequestValue::Several => {
                joined = joined_request_headers(headers);
                joined.as_deref()
            }
            _ => text(2),
        };
        let facts = RequestFacts {
            method: request.method().as_str(),
            origin: text(0),
            request_method: text(1),
            request_headers,
        };
        let echoes = Echoes::new(echoed);
        let actual = match engine::decide(&shared.policy, &facts) {
            Decision::Preflight(preflight) => {
                let mut response = Response::new(ResBody::default());
                *response.status_mut() =
                    StatusCode::from_u16(preflight.status).unwrap_or(StatusCode::FORBIDDEN);
                if !preflight.headers.is_empty() {
                    let out = response.headers_mut();
                    out.reserve(preflight.headers.len());
                    for_each_line(&preflight.headers, &echoes, &shared.prepared, |line| {
                        out.append(line.name, line.value);
                    });
                }
                return ResponseFuture::Preflight {
                    response: Some(response),
                };
            }
            Decision::Actual(actual) => actual,
        };
        let mut lines = Lines::new();
        for_each_line(&actual.headers, &echoes, &shared.prepared, |line| {
            lines.push((line.header, line.again, line.value))
        });
        let vary_origin = actual.vary_origin;
        drop(actual); // ends the borrow of the request, which goes to the inner service
        ResponseFuture::Actual {
            inner: self.inner.call(request),
            lines,
            vary_origin,
        }
    }
}

pin_project! {
    /// The response future of [`CorsLab`]: a ready preflight answer, or the inner service's
    /// response with the CORS headers added.
    #[project = ResponseFutureProj]
    pub enum ResponseFuture<F, B> {
        Preflight { response: Option<Response<B>> },
        Actual {
            #[pin]
            inner: F,
            lines: Lines,
            vary_origin: bool,
        },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ResponseFutureProj::Preflight { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
            ResponseFutureProj::Actual {
                inner,
                lines,
                vary_origin,
            } => {
                let mut response = ready!(inner.poll(cx))?;
                let out = response.headers_mut();
                // The engine's value replaces the handler's; a second line of the same name
                // (only `broken-double-origin` makes one) is appended.
                for (name, again, value) in lines.drain(..) {
                    set_line(out, header_name(name), value, again);
                }
                if *vary_origin {
                    // Never replaces the handler's own Vary.
                    out.append(header::VARY, HeaderValue::from_static("origin"));
                }
                Poll::Ready(Ok(response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use cors_policy::PolicyInput;
    use futures::executor::block_on;
    use http::{HeaderValue, Method};
    use tower_service::Service;

    use super::*;

    const LAB: &str = "http://localhost:8080";

    fn service(
        pairs: &[(&str, &str)],
    ) -> CorsLab<impl Service<Request<()>, Response = Response<()>, Error = Infallible, Future: Send>>
    {
        let policy = PolicyInput::from_pairs(pairs).resolve(LAB).unwrap().policy;
        CorsLabLayer::new(policy).layer(tower::service_fn(|_: Request<()>| async {
            let mut response = Response::new(());
            response
                .headers_mut()
                .insert(header::VARY, HeaderValue::from_static("accept"));
            Ok::<_, Infallible>(response)
        }))
    }

    fn call<S>(service: &mut S, request: Request<()>) -> Response<()>
    where
        S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
    {
        block_on(service.call(request)).unwrap()
    }

    fn values<'a>(response: &'a Response<()>, name: &str) -> Vec<&'a str> {
        response
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn answers_an_allowed_preflight_itself() {
        let mut s = service(&[]);
        let request = Request::builder()
            .method(Method::OPTIONS)
            .header("origin", LAB)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "content-type")
            .header("access-control-request-headers", "x-token")
            .body(())
            .unwrap();
        let response = call(&mut s, request);
        assert_eq!(response.status(), 204);
        assert_eq!(values(&response, "access-control-allow-origin"), [LAB]);
        assert_eq!(
            values(&response, "access-control-allow-credentials"),
            ["true"]
        );
        assert_eq!(values(&response, "access-control-allow-methods"), ["PUT"]);
        assert_eq!(
            values(&response, "access-control-allow-headers"),
            ["content-type,x-token"],
            "two request lines are one list"
        );
        assert_eq!(values(&response, "access-control-max-age"), ["600"]);
        assert_eq!(
            values(&response, "vary"),
            [cors_policy::engine::PREFLIGHT_VARY],
            "not the handler's"
        );
    }

    #[test]
    fn refused_preflight_is_a_bare_403_in_production_mode() {
        let mut s = service(&[("CORS_DEBUG", "false")]);
        let request = Request::builder()
            .method(Method::OPTIONS)
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "PUT")
            .body(())
            .unwrap();
        let response = call(&mut s, request);
        assert_eq!(response.status(), 403);
        assert!(response.headers().is_empty());
    }

    #[test]
    fn actual_response_gets_cors_headers_and_keeps_its_vary() {
        let mut s = service(&[]);
        let request = Request::builder().header("origin", LAB).body(()).unwrap();
        let response = call(&mut s, request);
        assert_eq!(response.status(), 200);
        assert_eq!(values(&response, "access-control-allow-origin"), [LAB]);
        assert_eq!(
            values(&response, "access-control-expose-headers"),
            ["x-secret"]
        );
        assert_eq!(values(&response, "vary"), ["accept", "origin"]);

        let refused = Request::builder()
            .header("origin", "https://evil.example")
            .body(())
            .unwrap();
        let response = call(&mut s, refused);
        assert_eq!(
            values(&response, "access-control-allow-origin"),
            Vec::<&str>::new()
        );
        assert_eq!(values(&response, "vary"), ["accept", "origin"]);
    }

    #[test]
    fn broken_double_origin_sends_two_lines() {
        let mut s = service(&[("CORS_PRESET", "broken-double-origin")]);
        let request = Request::builder().header("origin", LAB).body(()).unwrap();
        let response = call(&mut s, request);
        assert_eq!(values(&response, "access-control-allow-origin"), [LAB, LAB]);
    }
}
