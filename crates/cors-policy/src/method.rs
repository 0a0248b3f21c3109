//! HTTP method names as CORS sees them.
//!
//! * `GET`, `HEAD` and `POST` are **CORS-safelisted**: a request using one of them (and only
//!   safelisted headers) is sent without a preflight.
//! * Browsers upper-case only `DELETE GET HEAD OPTIONS POST PUT` when script writes them in
//!   another case; any other method is sent exactly as written, and
//!   `Access-Control-Allow-Methods` is compared case-sensitively. So `fetch(url, {method: "patch"})`
//!   sends `patch`, which a server allowing `PATCH` refuses.
//! * `CONNECT`, `TRACE` and `TRACK` are forbidden: browsers never send them.

/// The CORS-safelisted methods (Fetch standard).
pub const SAFELISTED: [&str; 3] = ["GET", "HEAD", "POST"];

/// Methods a browser normalizes to upper case.
pub const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// Methods a browser refuses to send (compared case-insensitively).
pub const FORBIDDEN: [&str; 3] = ["CONNECT", "TRACE", "TRACK"];

/// Is `method` CORS-safelisted? (Exact, case-sensitive: browsers have already normalized it.)
pub fn is_safelisted(method: &str) -> bool {
    // The names as literals rather than `SAFELISTED.contains`: each is then compared as a few
    // bytes in registers instead of by a call to `memcmp`.
    matches!(method, "GET" | "HEAD" | "POST")
}

/// Is `method` forbidden in browsers?
pub fn is_forbidden(method: &str) -> bool {
    FORBIDDEN.iter().any(|f| f.eq_ignore_ascii_case(method))
}

/// What a browser puts on the wire for a method written by script: the six well-known
/// methods are upper-cased, any other is left as written.
pub fn normalize(method: &str) -> String {
    match NORMALIZED.iter().find(|m| m.eq_ignore_ascii_case(method)) {
        Some(m) => (*m).to_string(),
        None => method.to_string(),
    }
}

/// RFC 9110 `token`: the characters a method or header name may use.
pub fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_tchar)
}

/// `tchar` of RFC 9110: a letter, a digit or one of ``!#$%&'*+-.^_`|~``.
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[b as usize]
}

/// [`is_tchar`] as a table: it runs on every byte of every requested method and header name.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safelisted_is_the_list_exactly() {
        let others = ["get", "Post", "PUT", "DELETE", "OPTIONS", "GETS", "HEA", ""];
        assert!(SAFELISTED.iter().all(|m| is_safelisted(m)));
        assert!(others.iter().all(|m| !is_safelisted(m)));
    }

    #[test]
    fn tchar_table_is_the_rfc_set() {
        let by_rule = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        for b in 0..=255u8 {
            assert_eq!(is_tchar(b), by_rule(b), "byte {b}");
        }
    }

    #[test]
    fn safelisted_is_exact() {
        assert!(is_safelisted("GET") && is_safelisted("HEAD") && is_safelisted("POST"));
        assert!(!is_safelisted("PUT"));
        assert!(
            !is_safelisted("get"),
            "browsers send GET; a lower-case get is not what they send"
        );
    }

    #[test]
    fn forbidden_ignores_case() {
        assert!(is_forbidden("TRACE") && is_forbidden("connect") && is_forbidden("Track"));
        assert!(!is_forbidden("PATCH"));
    }

    #[test]
    fn only_six_methods_are_upper_cased() {
        assert_eq!(normalize("put"), "PUT");
        assert_eq!(normalize("delete"), "DELETE");
        assert_eq!(normalize("patch"), "patch");
        assert_eq!(normalize("PATCH"), "PATCH");
    }

    #[test]
    fn tokens() {
        assert!(is_token("PATCH") && is_token("x-token") && is_token("M-SEARCH"));
        assert!(!is_token("") && !is_token("GET POST") && !is_token("a,b") && !is_token("é"));
    }
}
