//! Header names, and the header lists CORS exchanges.
//!
//! A preflight names the non-safelisted headers the actual request will carry in
//! `Access-Control-Request-Headers` (lower case, sorted, comma-separated); the server answers
//! with `Access-Control-Allow-Headers`. Header names are case-insensitive.
//!
//! Some headers can never be set by script (*forbidden request headers*: `Cookie`, `Origin`,
//! `Sec-*`, `Proxy-*`, …); allowing them in a policy is always a mistake. `Set-Cookie` can never
//! be read by script, so exposing it is a mistake too.
//!
//! The request list is attacker-controlled, so it is parsed lazily, without allocating, and
//! with a bound on the number of elements: a value of ten thousand commas costs a few
//! microseconds, not memory (rs/cors#170 is the cautionary tale).

use crate::method::{is_tchar, is_token};

/// Most header names a preflight may list before the engine stops reading and refuses.
pub const MAX_REQUEST_HEADERS: usize = 64;

/// Most comma-separated elements, empty ones included, the engine reads: browsers never send
/// empty elements, so a list of hundreds of commas is refused early instead of walked.
pub const MAX_REQUEST_ELEMENTS: usize = 2 * MAX_REQUEST_HEADERS;

/// Longest `Access-Control-Request-Headers` value the engine reads.
pub const MAX_REQUEST_HEADERS_LEN: usize = 4096;

/// Forbidden request headers (Fetch standard), lower case; `proxy-*` and `sec-*` are prefixes.
const FORBIDDEN_REQUEST: [&str; 21] = [
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "access-control-request-private-network",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Why a header name cannot be in a policy's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderNameProblem {
    NotAToken,
    Forbidden,
    AccessControl,
}

/// Checks a name for `CORS_ALLOW_HEADERS`: a token that script is allowed to set.
pub fn check_request_header_name(name: &str) -> Result<(), HeaderNameProblem> {
    if !is_token(name) {
        return Err(HeaderNameProblem::NotAToken);
    }
    if name
        .get(..15)
        .is_some_and(|p| p.eq_ignore_ascii_case("access-control-"))
    {
        return Err(HeaderNameProblem::AccessControl);
    }
    if is_forbidden_request_header(name) {
        return Err(HeaderNameProblem::Forbidden);
    }
    Ok(())
}

/// Is `name` a forbidden request-header (Fetch standard), one that script cannot set? A
/// browser drops it from a script's request without a word.
pub fn is_forbidden_request_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    FORBIDDEN_REQUEST.contains(&lower.as_str())
        || lower.starts_with("proxy-")
        || lower.starts_with("sec-")
        || lower == "via"
}

/// Checks a name for `CORS_EXPOSE_HEADERS`: a token that is not `Set-Cookie`.
pub fn check_exposed_header_name(name: &str) -> Result<(), HeaderNameProblem> {
    if !is_token(name) {
        return Err(HeaderNameProblem::NotAToken);
    }
    if name.eq_ignore_ascii_case("set-cookie") || name.eq_ignore_ascii_case("set-cookie2") {
        return Err(HeaderNameProblem::Forbidden);
    }
    Ok(())
}

/// One problem met while reading an `Access-Control-Request-Headers` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderListError {
    TooLong(usize),
    TooMany,
    NotAToken,
}

/// Walks a comma-separated list of header names without allocating. Empty elements (as in
/// `a,,b` or a trailing comma) are skipped, as the Fetch standard's list parsing does;
/// whitespace around elements is trimmed. Each name is handed to `visit`; the walk stops at the
/// first `Err` of `visit`, or with an error when the list is too long, has too many names or
/// elements, or has a name that is not a token.
pub fn for_each_name<'a, E>(
    list: &'a str,
    mut visit: impl FnMut(&'a str) -> Result<(), E>,
) -> Result<Result<(), E>, HeaderListError> {
    if list.len() > MAX_REQUEST_HEADERS_LEN {
        return Err(HeaderListError::TooLong(list.len()));
    }
    let bytes = list.as_bytes();
    let is_space = |i: usize| i < bytes.len() && matches!(bytes[i], b' ' | b'\t');
    let (mut at, mut elements, mut count) = (0, 0, 0);
    // One element per turn, in one pass over its bytes: spaces, a token, spaces, then a comma
    // or the end. Anything else in the element makes it a non-token.
    loop {
        // Empty elements (`a,,b`): nothing to look at but the count. A flood of commas is the
        // hostile case, so a run of them is counted eight at a time, up to the cap.
        let empties = match bytes.get(at) {
            Some(b',') => comma_run(&bytes[at..], MAX_REQUEST_ELEMENTS + 1 - elements),
            _ => 0,
        };
        at += empties;
        elements += empties + 1;
        if elements > MAX_REQUEST_ELEMENTS {
            return Err(HeaderListError::TooMany);
        }
        while is_space(at) {
            at += 1;
        }
        let first = at;
        while at < bytes.len() && is_tchar(bytes[at]) {
            at += 1;
        }
        let last = at;
        while is_space(at) {
            at += 1;
        }
        let ends_here = at == bytes.len() || bytes[at] == b',';
        // An element with anything but spaces in it is a name (or not a token).
        if first < last || !ends_here {
            count += 1;
            if count > MAX_REQUEST_HEADERS {
                return Err(HeaderListError::TooMany);
            }
            if !ends_here {
                return Err(HeaderListError::NotAToken);
            }
            // On ASCII boundaries (a comma, a space, a tab, a token byte), so a `str`.
            if let Err(e) = visit(&list[first..last]) {
                return Ok(Err(e));
            }
        }
        if at == bytes.len() {
            return Ok(Ok(()));
        }
        at += 1; // the comma
    }
}

/// How many commas `bytes` starts with, counting at most `limit`: eight at a time while whole
/// words of commas fit under it (a word is one comparison), then one by one.
fn comma_run(bytes: &[u8], limit: usize) -> usize {
    const EIGHT_COMMAS: u64 = u64::from_ne_bytes([b','; 8]);
    let mut n = 0;
    while n + 8 <= limit {
        match bytes[n..].first_chunk::<8>() {
            Some(word) if u64::from_ne_bytes(*word) == EIGHT_COMMAS => n += 8,
            _ => break,
        }
    }
    while n < limit && bytes.get(n) == Some(&b',') {
        n += 1;
    }
    n
}

/// True when the list holds no names at all (empty, or only commas and spaces).
pub fn is_blank_list(list: &str) -> bool {
    list.bytes().all(|b| b == b',' || b == b' ' || b == b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &str) -> Result<Vec<&str>, HeaderListError> {
        let mut out = Vec::new();
        for_each_name(list, |n| {
            out.push(n);
            Ok::<(), ()>(())
        })?
        .unwrap();
        Ok(out)
    }

    #[test]
    fn parses_lists_with_ows_and_empty_elements() {
        assert_eq!(
            names("content-type,x-token").unwrap(),
            ["content-type", "x-token"]
        );
        assert_eq!(names(" a ,, b ,").unwrap(), ["a", "b"]);
        assert_eq!(names("").unwrap(), Vec::<&str>::new());
        assert!(is_blank_list(" , ,") && !is_blank_list("a"));
    }

    #[test]
    fn bounded_on_hostile_input() {
        let commas = ",".repeat(MAX_REQUEST_ELEMENTS - 1);
        assert_eq!(names(&commas).unwrap(), Vec::<&str>::new());
        let commas = ",".repeat(4000);
        assert_eq!(names(&commas), Err(HeaderListError::TooMany));
        let commas = ",".repeat(10_000);
        assert_eq!(names(&commas), Err(HeaderListError::TooLong(10_000)));
        let many = vec!["x"; MAX_REQUEST_HEADERS + 1].join(",");
        assert_eq!(names(&many), Err(HeaderListError::TooMany));
        assert_eq!(names("a b"), Err(HeaderListError::NotAToken));
        assert_eq!(names("a;b"), Err(HeaderListError::NotAToken));
    }

    /// The walk as first written, with `str::split` and `trim_matches`: the byte scan must
    /// give the same names and the same errors.
    fn names_by_split(list: &str) -> Result<Vec<&str>, HeaderListError> {
        if list.len() > MAX_REQUEST_HEADERS_LEN {
            return Err(HeaderListError::TooLong(list.len()));
        }
        let mut out = Vec::new();
        for (i, element) in list.split(',').enumerate() {
            if i >= MAX_REQUEST_ELEMENTS {
                return Err(HeaderListError::TooMany);
            }
            let name = element.trim_matches([' ', '\t']);
            if name.is_empty() {
                continue;
            }
            if out.len() == MAX_REQUEST_HEADERS {
                return Err(HeaderListError::TooMany);
            }
            if !name.bytes().all(is_tchar) {
                return Err(HeaderListError::NotAToken);
            }
            out.push(name);
        }
        Ok(out)
    }

    proptest::proptest! {
        #[test]
        fn byte_scan_agrees_with_split(list in "[a-cA ,\t;é-]{0,300}") {
            proptest::prop_assert_eq!(names(&list), names_by_split(&list));
        }

        #[test]
        fn byte_scan_agrees_with_split_on_comma_floods(list in "[,a \t]{100,600}") {
            proptest::prop_assert_eq!(names(&list), names_by_split(&list));
        }

        /// Runs of commas that end on either side of the cap of elements, and of the words of
        /// eight the walk counts them in.
        #[test]
        fn byte_scan_agrees_with_split_around_the_cap(
            list in ",{0,20}[a ;]{0,2},{100,140}[a ;]{0,2},{0,20}"
        ) {
            proptest::prop_assert_eq!(names(&list), names_by_split(&list));
        }
    }

    #[test]
    fn stops_at_first_refusal() {
        let mut seen = 0;
        let r = for_each_name("a,b,c", |n| {
            seen += 1;
            if n == "b" {
                Err(n)
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Ok(Err("b")));
        assert_eq!(seen, 2);
    }

    #[test]
    fn request_header_names() {
        assert_eq!(check_request_header_name("X-Token"), Ok(()));
        assert_eq!(check_request_header_name("Content-Type"), Ok(()));
        assert_eq!(check_request_header_name("authorization"), Ok(()));
        for f in [
            "Cookie",
            "Host",
            "Sec-Fetch-Mode",
            "Proxy-Authorization",
            "Origin",
            "Via",
        ] {
            assert_eq!(
                check_request_header_name(f),
                Err(HeaderNameProblem::Forbidden),
                "{f}"
            );
        }
        assert_eq!(
            check_request_header_name("Access-Control-Allow-Origin"),
            Err(HeaderNameProblem::AccessControl)
        );
        assert_eq!(
            check_request_header_name("x token"),
            Err(HeaderNameProblem::NotAToken)
        );
        assert_eq!(
            check_exposed_header_name("Set-Cookie"),
            Err(HeaderNameProblem::Forbidden)
        );
        assert_eq!(check_exposed_header_name("X-Secret"), Ok(()));
    }
}
