//! The engine's header lines as `http` types, and the request headers it reads out of an
//! `http::HeaderMap` (feature `http`).
//!
//! A [`Decision`](crate::Decision) names its response headers as text, borrowed from the policy
//! and the request, and says where each value comes from ([`ValueSource`]). A server puts
//! them on an `http::Response` as `HeaderName`s and `HeaderValue`s, and can do it without
//! copying or reading the text: an echoed request value — the origin, the requested method,
//! the requested header list — becomes the request's own `HeaderValue` cloned (a
//! reference-count bump on the buffer hyper parsed the request into), the engine's fixed texts
//! are constants, and a server may prepare the policy's own values once. Only what is left (a
//! `broken-…` preset's made-up value, a list trimmed of spaces) is copied.
//!
//! The source is a shortcut, never trusted alone: a request value is used only when the
//! engine's text is that very value (the same bytes, found by where they point), a prepared
//! value only when its text is the engine's, so echoes a server did not keep, or values
//! prepared for another policy, fall back to a copy.
//!
//! The other way, [`CorsRequestHeaders::read`] finds the three request headers the engine
//! reads in one pass over an `http::HeaderMap`, and says of each whether it is absent, one
//! readable line, several lines, or not visible ASCII; each server decides what to do with the
//! last two (the lab's API answers 400; a production layer may treat them as absent).

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::engine::{CorsHeaders, EchoOf, FixedValue, PolicyValue, ResponseHeader, ValueSource};
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

    /// The request's `HeaderValue` of `which`, when `value` is that request value's very text.
    fn get(&self, which: EchoOf, value: &str) -> Option<HeaderValue> {
        let (text, header) = self.0[which as usize]?;
        same_bytes(text, value).then(|| header.clone())
    }
}

/// What a request carries under one of the names the engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestValue<'a> {
    Absent,
    /// One line, visible ASCII: its text and the value itself (for [`Echoes`]).
    One(&'a str, &'a HeaderValue),
    /// Several lines: a browser sends one (for `Access-Control-Request-Headers`, see
    /// [`joined_request_headers`]).
    Several,
    /// One line with a byte outside visible ASCII, which no browser sends in these headers.
    NotVisibleAscii,
}

impl<'a> RequestValue<'a> {
    /// The text and value when there is exactly one readable line.
    pub fn one(self) -> Option<(&'a str, &'a HeaderValue)> {
        match self {
            RequestValue::One(text, value) => Some((text, value)),
            _ => None,
        }
    }

    fn add(&mut self, value: &'a HeaderValue) {
        *self = match *self {
            RequestValue::Absent => match value.to_str() {
                Ok(text) => RequestValue::One(text, value),
                Err(_) => RequestValue::NotVisibleAscii,
            },
            _ => RequestValue::Several,
        };
    }
}

/// The request headers the engine reads: `Origin`, `Access-Control-Request-Method` and
/// `-Request-Headers`.
#[derive(Debug, Clone, Copy)]
pub struct CorsRequestHeaders<'a> {
    pub origin: RequestValue<'a>,
    pub request_method: RequestValue<'a>,
    pub request_headers: RequestValue<'a>,
}

impl<'a> CorsRequestHeaders<'a> {
    /// Reads the three in one pass over the map: a lookup hashes the name and probes the table
    /// for each, where a pass compares standard names as small numbers.
    pub fn read(headers: &'a HeaderMap) -> Self {
        let mut read = CorsRequestHeaders {
            origin: RequestValue::Absent,
            request_method: RequestValue::Absent,
            request_headers: RequestValue::Absent,
        };
        for (name, value) in headers {
            if *name == header::ORIGIN {
                read.origin.add(value);
            } else if *name == header::ACCESS_CONTROL_REQUEST_METHOD {
                read.request_method.add(value);
            } else if *name == header::ACCESS_CONTROL_REQUEST_HEADERS {
                read.request_headers.add(value);
            }
        }
        read
    }

    /// The values a decision may echo, for [`Echoes::new`].
    pub fn echoes(&self) -> [Option<(&'a str, &'a HeaderValue)>; 3] {
        [
            self.origin.one(),
            self.request_method.one(),
            self.request_headers.one(),
        ]
    }
}

/// Every `Access-Control-Request-Headers` line joined with commas, as one list (the Fetch
/// standard's "combined" value); `None` when a line is not visible ASCII.
pub fn joined_request_headers(headers: &HeaderMap) -> Option<String> {
    let mut joined = String::new();
    for (i, value) in headers
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .enumerate()
    {
        if i > 0 {
            joined.push(',');
        }
        joined.push_str(value.to_str().ok()?);
    }
    Some(joined)
}

/// A policy's own header values (its `Access-Control-Max-Age` and `-Expose-Headers` texts),
/// made into `HeaderValue`s once, when the policy comes into force, so that no request copies
/// them.
#[derive(Debug, Clone, Default)]
pub struct PreparedValues([Option<(String, HeaderValue)>; 2]);

impl PreparedValues {
    pub fn new(policy: &Policy) -> Self {
        let texts = [
            policy.max_age.as_ref().map(|m| m.as_str()),
            policy.expose.header_value(),
        ];
        PreparedValues(texts.map(|text| {
            let text = text?;
            let value = HeaderValue::from_str(text).ok()?;
            // The first clone of a copied value turns its buffer into a shared one; done now
            // rather than on the first request.
            let _ = value.clone();
            Some((text.to_string(), value))
        }))
    }

    /// The prepared value of `which`, when `value` is the text it was prepared from (values
    /// prepared for another policy are never served for this one).
    fn get(&self, which: PolicyValue, value: &str) -> Option<HeaderValue> {
        let (text, prepared) = self.0[which as usize].as_ref()?;
        (text == value).then(|| prepared.clone())
    }
}

/// The same bytes in memory, not merely equal text: the echoes are borrowed from the request,
/// so their bytes cannot have moved.
fn same_bytes(a: &str, b: &str) -> bool {
    a.as_ptr() == b.as_ptr() && a.len() == b.len()
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

/// One of the engine's fixed texts as a value. Each is a constant, made when this crate is
/// compiled: `HeaderValue::from_static` outside a constant checks every byte at run time.
#[inline]
pub fn fixed_value(value: FixedValue) -> HeaderValue {
    const STAR: HeaderValue = HeaderValue::from_static(FixedValue::Star.as_str());
    const TRUE: HeaderValue = HeaderValue::from_static(FixedValue::True.as_str());
    const STAR_AUTHORIZATION: HeaderValue =
        HeaderValue::from_static(FixedValue::StarAuthorization.as_str());
    const PREFLIGHT_VARY: HeaderValue =
        HeaderValue::from_static(FixedValue::PreflightVary.as_str());
    match value {
        FixedValue::Star => STAR,
        FixedValue::True => TRUE,
        FixedValue::StarAuthorization => STAR_AUTHORIZATION,
        FixedValue::PreflightVary => PREFLIGHT_VARY,
    }
}

/// One engine value as a `HeaderValue`: the echoed request value, a fixed value, one of
/// `prepared`, or else a copy of `text`. `None` only for text that is not a valid header value,
/// which the engine never produces from validated configuration and parsed requests.
#[inline]
pub fn header_value(
    text: &str,
    from: ValueSource,
    echoes: &Echoes<'_>,
    prepared: &PreparedValues,
) -> Option<HeaderValue> {
    let ready = match from {
        ValueSource::Echo(which) => echoes.get(which, text),
        // The engine writes a fixed value's text only as `FixedValue::as_str` (its lines are
        // made nowhere else).
        ValueSource::Fixed(value) => {
            debug_assert_eq!(value.as_str(), text);
            Some(fixed_value(value))
        }
        ValueSource::Policy(which) => prepared.get(which, text),
        ValueSource::Made => None,
    };
    match ready {
        Some(value) => Some(value),
        None => HeaderValue::from_str(text).ok(),
    }
}

/// One line of a decision, as `http` types.
#[derive(Debug, Clone)]
pub struct WireLine<'l> {
    /// The engine's name of the header, for a server that keeps lines compactly.
    pub header: ResponseHeader,
    pub name: HeaderName,
    pub value: HeaderValue,
    /// The engine's text of the value: what `value` holds, for a server that also records it.
    pub text: &'l str,
    /// The name came before: `broken-double-origin` sends two origin lines, and the second is
    /// appended, not set.
    pub again: bool,
}

/// Sets one engine line on a response, replacing a handler's value of that name, or adds it
/// when the engine named it before (`broken-double-origin`, see [`WireLine::again`]).
#[inline]
pub fn set_line(target: &mut HeaderMap, name: HeaderName, value: HeaderValue, again: bool) {
    if again {
        target.append(name, value);
    } else {
        target.insert(name, value);
    }
}

/// Hands each line of `lines` to `emit` as `http` types.
pub fn for_each_line<'l>(
    lines: &'l CorsHeaders<'_>,
    echoes: &Echoes<'_>,
    prepared: &PreparedValues,
    mut emit: impl FnMut(WireLine<'l>),
) {
    // One bit per ResponseHeader: the names seen so far.
    let mut seen = 0u8;
    for (name, text, from) in lines.lines_with_sources() {
        let Some(value) = header_value(text, from, echoes, prepared) else {
            continue;
        };
        let bit = 1u8 << (name as u8);
        let again = seen & bit != 0;
        seen |= bit;
        emit(WireLine {
            header: name,
            name: header_name(name),
            value,
            text,
            again,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECHO_ORIGIN: ValueSource = ValueSource::Echo(EchoOf::Origin);

    #[test]
    fn echoes_share_the_request_value_and_only_the_same_bytes_match() {
        let origin = HeaderValue::from_static("http://localhost:8080");
        let text = origin.to_str().unwrap();
        let echoes = Echoes::new([Some((text, &origin)), None, None]);
        let none = PreparedValues::default();
        let echoed = header_value(text, ECHO_ORIGIN, &echoes, &none).unwrap();
        assert_eq!(echoed.as_bytes().as_ptr(), origin.as_bytes().as_ptr());
        // Equal text elsewhere is copied, not taken for the request's value.
        let copy = String::from("http://localhost:8080");
        let copied = header_value(&copy, ECHO_ORIGIN, &echoes, &none).unwrap();
        assert_eq!(copied, origin);
        assert_ne!(copied.as_bytes().as_ptr(), origin.as_bytes().as_ptr());
        // An echo the server did not keep is copied too.
        let other = ValueSource::Echo(EchoOf::RequestMethod);
        assert_eq!(header_value(text, other, &echoes, &none).unwrap(), origin);
    }

    #[test]
    fn prepared_values_serve_their_own_policy_only() {
        let input = crate::PolicyInput::from_pairs(&[
            ("CORS_MAX_AGE", "600"),
            ("CORS_EXPOSE_HEADERS", "x-secret"),
        ]);
        let policy = input.resolve("http://localhost:8080").unwrap().policy;
        let prepared = PreparedValues::new(&policy);
        let max_age = policy.max_age.as_ref().unwrap().as_str();
        let from = ValueSource::Policy(PolicyValue::MaxAge);
        let value = header_value(max_age, from, &Echoes::default(), &prepared).unwrap();
        assert_eq!(value, "600");
        // Shared with the prepared value, not copied.
        let again = header_value(max_age, from, &Echoes::default(), &prepared).unwrap();
        assert_eq!(value.as_bytes().as_ptr(), again.as_bytes().as_ptr());
        // Another policy's text is never answered with this policy's value.
        let other = crate::PolicyInput::from_pairs(&[("CORS_MAX_AGE", "60")])
            .resolve("http://localhost:8080")
            .unwrap()
            .policy;
        let text = other.max_age.as_ref().unwrap().as_str();
        assert_eq!(
            header_value(text, from, &Echoes::default(), &prepared).unwrap(),
            "60"
        );
        let expose = ValueSource::Policy(PolicyValue::ExposeHeaders);
        let text = policy.expose.header_value().unwrap();
        assert_eq!(
            header_value(text, expose, &Echoes::default(), &prepared).unwrap(),
            "x-secret"
        );
    }

    #[test]
    fn fixed_values_are_their_texts() {
        for value in [
            FixedValue::Star,
            FixedValue::True,
            FixedValue::StarAuthorization,
            FixedValue::PreflightVary,
        ] {
            assert_eq!(fixed_value(value), value.as_str());
        }
    }

    #[test]
    fn names_are_http_constants() {
        assert_eq!(
            header_name(ResponseHeader::AllowOrigin),
            header::ACCESS_CONTROL_ALLOW_ORIGIN
        );
        assert_eq!(header_name(ResponseHeader::Vary), header::VARY);
        let (none, made) = (PreparedValues::default(), ValueSource::Made);
        assert!(header_value("a\nb", made, &Echoes::default(), &none).is_none());
    }

    /// The lookup the one-pass reader replaces: `get_all` per name.
    fn by_lookup<'a>(headers: &'a HeaderMap, name: &HeaderName) -> RequestValue<'a> {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (None, _) => RequestValue::Absent,
            (Some(v), None) => match v.to_str() {
                Ok(text) => RequestValue::One(text, v),
                Err(_) => RequestValue::NotVisibleAscii,
            },
            _ => RequestValue::Several,
        }
    }

    proptest::proptest! {
        #[test]
        fn one_pass_agrees_with_a_lookup_per_name(
            lines in proptest::collection::vec((0usize..5, "[a-z:/ ,\u{e9}]{0,12}"), 0..8)
        ) {
            let names = [
                header::ORIGIN,
                header::ACCESS_CONTROL_REQUEST_METHOD,
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                header::HOST,
                HeaderName::from_static("x-other"),
            ];
            let mut headers = HeaderMap::new();
            for (name, value) in &lines {
                // "é" as its UTF-8 bytes: a value that is not visible ASCII.
                let value = HeaderValue::from_bytes(value.as_bytes()).unwrap();
                headers.append(names[*name].clone(), value);
            }
            let read = CorsRequestHeaders::read(&headers);
            proptest::prop_assert_eq!(read.origin, by_lookup(&headers, &names[0]));
            proptest::prop_assert_eq!(read.request_method, by_lookup(&headers, &names[1]));
            proptest::prop_assert_eq!(read.request_headers, by_lookup(&headers, &names[2]));
        }
    }

    #[test]
    fn several_request_header_lines_are_one_list() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("a, b"),
        );
        headers.append(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("c"),
        );
        assert_eq!(joined_request_headers(&headers).as_deref(), Some("a, b,c"));
        headers.append(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_bytes(b"\xe9").unwrap(),
        );
        assert_eq!(joined_request_headers(&headers), None);
        assert_eq!(
            CorsRequestHeaders::read(&headers).request_headers,
            RequestValue::Several
        );
    }
}
