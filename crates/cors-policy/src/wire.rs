//! The engine's header lines as `http` types (feature `http`).
//!
//! A [`Decision`](crate::Decision) names its response headers as text, borrowed from the policy
//! and the request. A server puts them on an `http::Response` as `HeaderName`s and
//! `HeaderValue`s, and can do it without copying: a value that *is* a request value — the
//! origin, the requested method, the requested header list, which the engine echoes — becomes
//! the request's own `HeaderValue` cloned (a reference-count bump on the buffer hyper parsed
//! the request into), the engine's fixed texts are static, and a server may prepare the
//! policy's own values once. Only what is left (a `broken-…` preset's made-up value) is copied.
//!
//! "Is" means the same bytes, not equal text: an engine value is matched to a request value by
//! where it points, so a header list the engine trimmed is not mistaken for the untrimmed one.

use http::header::{self, HeaderName, HeaderValue};

use crate::engine::{CorsHeaders, ResponseHeader, PREFLIGHT_VARY};
use crate::Policy;

/// The request values a decision may echo, each as the text the [`RequestFacts`] borrowed and
/// the `HeaderValue` that text came from.
///
/// [`RequestFacts`]: crate::RequestFacts
#[derive(Debug, Default, Clone, Copy)]
pub struct Echoes<'a>([Option<(&'a str, &'a HeaderValue)>; 3]);

impl<'a> Echoes<'a> {
    /// `Origin`, `Access-Control-Request-Method` and `-Request-Headers`, where there is one.
    pub fn new(values: [Option<(&'a str, &'a HeaderValue)>; 3]) -> Self {
        Echoes(values)
    }

    /// The request's `HeaderValue` when `value` is that request value's very text.
    fn find(&self, value: &str) -> Option<HeaderValue> {
        self.0
            .iter()
            .flatten()
            .find(|(text, _)| text.as_ptr() == value.as_ptr() && text.len() == value.len())
            .map(|(_, v)| (*v).clone())
    }
}

/// A policy's own header values (its `Access-Control-Max-Age` and `-Expose-Headers` texts),
/// made into `HeaderValue`s once, when the policy comes into force, so that no request copies
/// them.
#[derive(Debug, Clone, Default)]
pub struct PreparedValues(Vec<(String, HeaderValue)>);

impl PreparedValues {
    pub fn new(policy: &Policy) -> Self {
        let texts = [
            policy.max_age.as_ref().map(|m| m.as_str()),
            policy.expose.header_value(),
        ];
        PreparedValues(
            texts
                .into_iter()
                .flatten()
                .filter_map(|text| {
                    let value = HeaderValue::from_str(text).ok()?;
                    // The first clone of a copied value turns its buffer into a shared one;
                    // done now rather than on the first request.
                    let _ = value.clone();
                    Some((text.to_string(), value))
                })
                .collect(),
        )
    }

    fn find(&self, value: &str) -> Option<HeaderValue> {
        self.0
            .iter()
            .find(|(text, _)| text == value)
            .map(|(_, v)| v.clone())
    }
}

/// `http`'s constant for each header name the engine uses.
pub fn header_name(name: ResponseHeader) -> HeaderName {
    match name {
        ResponseHeader::AllowOrigin => header::ACCESS_CONTROL_ALLOW_ORIGIN,
        ResponseHeader::AllowCredentials => header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        ResponseHeader::AllowMethods => header::ACCESS_CONTROL_ALLOW_METHODS,
        ResponseHeader::AllowHeaders => header::ACCESS_CONTROL_ALLOW_HEADERS,
        ResponseHeader::MaxAge => header::ACCESS_CONTROL_MAX_AGE,
        ResponseHeader::ExposeHeaders => header::ACCESS_CONTROL_EXPOSE_HEADERS,
        ResponseHeader::Vary => header::VARY,
    }
}

// The engine's fixed texts, made into values when this crate is compiled rather than checked
// byte by byte on each request.
const STAR: HeaderValue = HeaderValue::from_static("*");
const TRUE: HeaderValue = HeaderValue::from_static("true");
const STAR_AUTHORIZATION: HeaderValue = HeaderValue::from_static("*,authorization");
const VARY_PREFLIGHT: HeaderValue = HeaderValue::from_static(PREFLIGHT_VARY);

/// One engine value as a `HeaderValue`: an echo, a static text, one of `prepared`, or else a
/// copy. `None` only for text that is not a valid header value, which the
/// engine never produces from validated configuration and parsed requests.
pub fn header_value(
    value: &str,
    echoes: &Echoes<'_>,
    prepared: &PreparedValues,
) -> Option<HeaderValue> {
    if let Some(v) = echoes.find(value) {
        return Some(v);
    }
    Some(match value {
        "*" => STAR,
        "true" => TRUE,
        "*,authorization" => STAR_AUTHORIZATION,
        PREFLIGHT_VARY => VARY_PREFLIGHT,
        _ => match prepared.find(value) {
            Some(v) => v,
            None => HeaderValue::from_str(value).ok()?,
        },
    })
}

/// Hands each line of `lines` to `emit` as `http` types, with `true` when its name came
/// before (`broken-double-origin` sends two origin lines: the second is appended, not set).
pub fn for_each_line(
    lines: &CorsHeaders<'_>,
    echoes: &Echoes<'_>,
    prepared: &PreparedValues,
    mut emit: impl FnMut(HeaderName, HeaderValue, bool),
) {
    // One bit per ResponseHeader: the names seen so far.
    let mut seen = 0u8;
    for (name, value) in lines.lines() {
        let Some(value) = header_value(value, echoes, prepared) else {
            continue;
        };
        let bit = 1u8 << (name as u8);
        let again = seen & bit != 0;
        seen |= bit;
        emit(header_name(name), value, again);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_share_the_request_value_and_only_the_same_bytes_match() {
        let origin = HeaderValue::from_static("http://localhost:8080");
        let text = origin.to_str().unwrap();
        let echoes = Echoes::new([Some((text, &origin)), None, None]);
        let echoed = header_value(text, &echoes, &PreparedValues::default()).unwrap();
        assert_eq!(echoed.as_bytes().as_ptr(), origin.as_bytes().as_ptr());
        // Equal text elsewhere is copied, not taken for the request's value.
        let copy = String::from("http://localhost:8080");
        let copied = header_value(&copy, &echoes, &PreparedValues::default()).unwrap();
        assert_eq!(copied, origin);
        assert_ne!(copied.as_bytes().as_ptr(), origin.as_bytes().as_ptr());
    }

    #[test]
    fn names_are_http_constants() {
        assert_eq!(
            header_name(ResponseHeader::AllowOrigin),
            header::ACCESS_CONTROL_ALLOW_ORIGIN
        );
        assert_eq!(header_name(ResponseHeader::Vary), header::VARY);
        assert!(header_value("a\nb", &Echoes::default(), &PreparedValues::default()).is_none());
    }
}
