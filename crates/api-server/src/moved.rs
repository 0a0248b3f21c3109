//! # An address that moved: a redirect in front of the CORS layer
//!
//! Many APIs sit behind something that redirects before the application's CORS middleware runs:
//! a proxy that sends `http://` on to `https://`, a framework that adds a trailing slash, a
//! gateway that moved `/v1/` to `/v2/`. Such a redirect carries none of the policy's headers,
//! and no `CORS_*` setting reaches it. What the browser does with it (Fetch standard, Chromium
//! 156 as observed):
//!
//! * A **preflight** answered with a redirect fails, whatever the redirect's headers: a
//!   CORS-preflight fetch never follows redirects (`PreflightDisallowedRedirect`, "Redirect is
//!   not allowed for a preflight request."). The actual request is never sent.
//! * A **simple request's** redirect is a response like any other: the browser runs the CORS
//!   check on it before following it, and one without `Access-Control-Allow-Origin` fails
//!   (`MissingAllowOriginHeader`). The redirect's target is never asked.
//!
//! The fix is never in the CORS policy: call the final address, or make the front let `OPTIONS`
//! through to the CORS layer (and send the CORS headers on its redirects).
//!
//! [`Moved`] plays that front for the demo routes: every request under [`MOVED_PREFIX`] gets a
//! `308 Permanent Redirect` to the same path under `/api/`, query kept, and a journal entry
//! marked [`AnsweredBy::FrontRedirect`], so the page shows the exchange the engine never saw.

use std::future::{ready, Ready};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::Response;
use futures::future::Either;
use tower::{Layer, Service};

use crate::cors_layer::{bad_request, request_record, Answered};
use crate::journal::{capture_headers, AnsweredBy, ResponseRecord};
use crate::routes::moved_location;
use crate::AppState;

/// The paths the front redirects; `/moved/items/1` goes to `/api/items/1`.
pub const MOVED_PREFIX: &str = "/moved/";
/// Where they went.
pub const NEW_PREFIX: &str = "/api/";

/// The layer that puts the front in front of a service (the CORS layer and the demo routes).
#[derive(Clone)]
pub struct MovedLayer {
    state: AppState,
}

impl MovedLayer {
    pub fn new(state: AppState) -> Self {
        MovedLayer { state }
    }
}

impl<S> Layer<S> for MovedLayer {
    type Service = Moved<S>;

    fn layer(&self, inner: S) -> Moved<S> {
        Moved {
            state: self.state.clone(),
            inner,
        }
    }
}

/// The front: answers [`MOVED_PREFIX`] paths itself, passes every other request on.
#[derive(Clone)]
pub struct Moved<S> {
    state: AppState,
    inner: S,
}

impl<S> Service<Request> for Moved<S>
where
    S: Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = Either<Ready<Answered>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.uri().path().starts_with(MOVED_PREFIX) {
            Either::Left(ready(Ok(redirect(&self.state, &request))))
        } else {
            Either::Right(self.inner.call(request))
        }
    }
}

/// The front's answer, journaled as the CORS layer journals its own.
fn redirect(state: &AppState, request: &Request) -> Response {
    // A request no browser would send gets the CORS layer's 400, here too.
    let (record, _) = match request_record(state, request) {
        Ok(read) => read,
        Err(message) => return bad_request(message),
    };
    let Some(location) = moved_location(request.uri(), MOVED_PREFIX, NEW_PREFIX) else {
        return bad_request(String::from("the path cannot be redirected"));
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    response.headers_mut().insert(header::LOCATION, location);
    state.journal().record(
        record,
        ResponseRecord {
            status: response.status().as_u16(),
            headers: capture_headers(response.headers()),
            policy: state.policy(),
            answered_by: AnsweredBy::FrontRedirect,
        },
    );
    response
}
