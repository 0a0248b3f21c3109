//! A server's answer as curl prints it.
//!
//! To check a server the lab cannot be the origin of — the learner's own API, in production —
//! the learner runs curl with the browser's request headers and hands the lab what curl
//! printed. The lab never contacts that server. This module reads the text:
//!
//! * `curl -i` (or `-I`): the response's status line and header lines, then the body;
//! * `curl -v` / `curl -sv … 2>&1`: the request after `> `, the response after `< `, and curl's
//!   own remarks after `* ` (skipped), in any order with the body.
//!
//! A text may hold several exchanges: the learner ran curl for the preflight and then for the
//! request itself, and pasted both. A final answer that is not a redirect ends an exchange; a
//! request head or a status line after it starts the next one ([`read_all`]; [`read`] keeps
//! the first and counts the rest). After a redirect, a request for where its `Location`
//! points is curl `-L` following it, in the same exchange; a request elsewhere starts the next. In each exchange it keeps the request (in `-v` output only)
//! and the first final response: an interim `1xx` head (`100 Continue`) is skipped. The final
//! responses after a redirect — curl `-L` following it — are counted, not read: the browser
//! checks each of them, against a different request, and from a cross-origin redirect on with
//! `Origin: null`.

use std::fmt;

use crate::browser;
use crate::method::is_token;

/// A header line as curl printed it: the name as written, the value without surrounding
/// whitespace.
pub type HeaderLine = (String, String);

/// The request curl sent (`-v` only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub headers: Vec<HeaderLine>,
}

/// A response's status and header lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub headers: Vec<HeaderLine>,
}

/// What the text shows of one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    pub request: Option<RequestHead>,
    pub response: ResponseHead,
    /// Final responses after the first (redirects curl followed).
    pub later_responses: usize,
    /// Exchanges after this one in the text (another curl run), which [`read`] counts and
    /// [`read_all`] returns; 0 in what `read_all` returns.
    pub later_exchanges: usize,
}

impl RequestHead {
    /// All values of a request header, joined with `, `; `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        browser::header(&self.headers, name)
    }
}

impl ResponseHead {
    /// All values of a response header, joined with `, `; `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        browser::header(&self.headers, name)
    }
}

/// Why a text could not be read. Lines count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptError {
    /// No `HTTP/… NNN` status line of a final response anywhere.
    NoStatusLine,
    /// A line inside a head that is not `Name: value` with a token name.
    BadHeaderLine { line: usize, text: String },
}

impl fmt::Display for TranscriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TranscriptError::NoStatusLine => f.write_str(
                "no response status line such as 'HTTP/1.1 204 No Content' or 'HTTP/2 204': \
                 paste what `curl -i` or `curl -sv … 2>&1` printed, status line included",
            ),
            TranscriptError::BadHeaderLine { line, text } => write!(
                f,
                "line {line}, '{}', is not a header line 'Name: value'",
                text.chars().take(80).collect::<String>()
            ),
        }
    }
}

impl std::error::Error for TranscriptError {}

/// The status of a status line `HTTP/<version> <3 digits>[ reason]`.
fn status_of(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("HTTP/")?;
    let (version, rest) = rest.split_once(' ')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let code = rest.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit())
        || !matches!(rest.as_bytes().get(3), None | Some(b' '))
    {
        return None;
    }
    code.parse().ok().filter(|s| (100..600).contains(s))
}

fn header_line(number: usize, text: &str) -> Result<HeaderLine, TranscriptError> {
    match text.split_once(':') {
        Some((name, value)) if is_token(name) => Ok((name.to_string(), value.trim().to_string())),
        _ => Err(TranscriptError::BadHeaderLine {
            line: number,
            text: text.to_string(),
        }),
    }
}

/// Which head a line belongs to, in `-v` output.
enum Side {
    Request,
    Response,
}

/// One exchange while it is read.
#[derive(Default)]
struct Exchange {
    request: Option<RequestHead>,
    responses: Vec<ResponseHead>,
}

impl Exchange {
    /// The last final (not `1xx`) answer read, and whether it is a redirect.
    fn last_final(&self) -> Option<(&ResponseHead, bool)> {
        let last = self.responses.iter().rev().find(|r| r.status >= 200)?;
        Some((last, (300..400).contains(&last.status)))
    }

    /// A final answer that is not a redirect: what follows belongs to another exchange.
    fn is_done(&self) -> bool {
        self.last_final().is_some_and(|(_, redirect)| !redirect)
    }

    /// Where the last final answer redirects to, when it is a redirect (`""` without a
    /// `Location`).
    fn redirect(&self) -> Option<String> {
        let (last, redirect) = self.last_final()?;
        redirect.then(|| last.header("location").unwrap_or_default())
    }

    fn finish(self) -> Option<Transcript> {
        let mut finals = self.responses.into_iter().filter(|r| r.status >= 200);
        let response = finals.next()?;
        Some(Transcript {
            request: self.request,
            response,
            later_responses: finals.count(),
            later_exchanges: 0,
        })
    }
}

/// Whether a request for `target` (curl's request line: a path, or an absolute URL) goes where
/// `location` points; an empty `location` is taken to.
fn leads_to(location: &str, target: &str) -> bool {
    let path = match location.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => location,
    };
    location.is_empty() || target == location || target == path
}

/// Reads the first exchange of curl's output; the ones after it are counted in
/// [`Transcript::later_exchanges`].
pub fn read(text: &str) -> Result<Transcript, TranscriptError> {
    let mut all = read_all(text)?.into_iter();
    let mut first = all.next().ok_or(TranscriptError::NoStatusLine)?;
    first.later_exchanges = all.count();
    Ok(first)
}

/// Reads every exchange of curl's output, in order; at least one.
pub fn read_all(text: &str) -> Result<Vec<Transcript>, TranscriptError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect();
    let verbose = lines
        .iter()
        .any(|(_, l)| l.strip_prefix("< ").is_some_and(|r| status_of(r).is_some()));

    let mut exchanges = vec![Exchange::default()];
    let mut in_request = false;
    let mut skipping = false; // the request head of a redirect hop
    let mut in_response = false;
    for &(number, line) in &lines {
        // In `-v` output every head line carries its side's marker; in `-i` output the heads
        // are the lines from a status line to the next empty one.
        let (side, content) = if verbose {
            match line.as_bytes().first() {
                Some(b'>') => (
                    Side::Request,
                    line[1..].strip_prefix(' ').unwrap_or(&line[1..]),
                ),
                Some(b'<') => (
                    Side::Response,
                    line[1..].strip_prefix(' ').unwrap_or(&line[1..]),
                ),
                _ => continue,
            }
        } else {
            (Side::Response, line)
        };
        let current = exchanges.last_mut().expect("one exchange at least");
        match side {
            Side::Request => {
                if content.is_empty() {
                    in_request = false;
                    skipping = false;
                } else if in_request {
                    let head = current.request.as_mut().expect("in a request head");
                    head.headers.push(header_line(number, content)?);
                } else if !skipping {
                    let mut words = content.split(' ');
                    let (Some(method), Some(target)) = (words.next(), words.next()) else {
                        continue;
                    };
                    let fresh = current.request.is_none() && current.responses.is_empty();
                    // After a redirect, curl -L asks where it points; a request elsewhere is
                    // another curl run.
                    let redirect = current.redirect();
                    let next_run = current.is_done()
                        || redirect.as_deref().is_some_and(|to| !leads_to(to, target));
                    if !fresh && !next_run {
                        // curl -L's request after a redirect: the same exchange, not read.
                        skipping = redirect.is_some();
                        continue;
                    }
                    let request = Some(RequestHead {
                        method: method.to_string(),
                        target: target.to_string(),
                        headers: Vec::new(),
                    });
                    if next_run {
                        exchanges.push(Exchange {
                            request,
                            responses: Vec::new(),
                        });
                        // The last answer's head is over: its lines are not the new one's.
                        in_response = false;
                    } else {
                        current.request = request;
                    }
                    in_request = true;
                }
                // Otherwise the rest of a request curl -L sent after a redirect.
            }
            Side::Response => {
                if let Some(status) = status_of(content) {
                    // In `-i` output, a status line after a final answer that is not a
                    // redirect is another curl run's.
                    if !verbose && current.is_done() {
                        exchanges.push(Exchange::default());
                    }
                    let current = exchanges.last_mut().expect("one exchange at least");
                    current.responses.push(ResponseHead {
                        status,
                        headers: Vec::new(),
                    });
                    in_response = true;
                } else if content.is_empty() {
                    in_response = false;
                } else if in_response {
                    let head = current.responses.last_mut().expect("in a response head");
                    head.headers.push(header_line(number, content)?);
                }
                // Otherwise a body line.
            }
        }
    }
    let read: Vec<Transcript> = exchanges.into_iter().filter_map(Exchange::finish).collect();
    match read.is_empty() {
        true => Err(TranscriptError::NoStatusLine),
        false => Ok(read),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_curl_i_output_and_skips_the_body() {
        let text = "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: https://app.example.com\r\nvary: origin\r\n\r\n{\"a\": 1}\nHTTP: not a head\n";
        let t = read(text).unwrap();
        assert_eq!(t.request, None);
        assert_eq!(t.response.status, 204);
        assert_eq!(
            t.response.header("access-control-allow-origin").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(t.response.headers.len(), 2);
        assert_eq!(t.later_responses, 0);
    }

    #[test]
    fn reads_curl_v_output_with_both_sides() {
        let text = "\
*   Trying 127.0.0.1:9090...
* Connected to localhost (127.0.0.1) port 9090 (#0)
> OPTIONS /api/items/1 HTTP/1.1
> Host: localhost:9090
> Origin: http://localhost:8080
> Access-Control-Request-Method: PUT
>
< HTTP/1.1 204 No Content
< access-control-allow-origin: http://localhost:8080
< access-control-allow-methods: GET, PUT
< access-control-allow-methods: POST
<
* Connection #0 to host localhost left intact
";
        let t = read(text).unwrap();
        let request = t.request.as_ref().unwrap();
        assert_eq!(
            (request.method.as_str(), request.target.as_str()),
            ("OPTIONS", "/api/items/1")
        );
        assert_eq!(
            request.header("origin").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(t.response.status, 204);
        assert_eq!(
            t.response.header("Access-Control-Allow-Methods").as_deref(),
            Some("GET, PUT, POST"),
            "lines of one name are combined"
        );
    }

    #[test]
    fn skips_interim_heads_and_counts_redirects() {
        let text = "HTTP/1.1 100 Continue\n\nHTTP/2 301\nlocation: /b\n\nHTTP/2 200\naccess-control-allow-origin: *\n\n";
        let t = read(text).unwrap();
        assert_eq!(t.response.status, 301);
        assert_eq!(t.later_responses, 1);
    }

    #[test]
    fn a_second_curl_run_is_another_exchange_a_redirect_is_not() {
        let both = "\
> OPTIONS /orders HTTP/1.1
> Origin: https://app.example.com
> Access-Control-Request-Method: PUT
>
< HTTP/1.1 204 No Content
< access-control-allow-origin: https://app.example.com
<
* Connection #0 left intact
> PUT /orders HTTP/1.1
> Origin: https://app.example.com
>
< HTTP/1.1 200 OK
< content-type: application/json
<
{}";
        let all = read_all(both).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].request.as_ref().unwrap().method, "OPTIONS");
        assert_eq!(all[0].response.status, 204);
        assert_eq!(all[1].request.as_ref().unwrap().method, "PUT");
        assert_eq!(
            all[1].response.header("content-type").as_deref(),
            Some("application/json")
        );
        assert!(all
            .iter()
            .all(|t| t.later_responses == 0 && t.later_exchanges == 0));
        let first = read(both).unwrap();
        assert_eq!((first.response.status, first.later_exchanges), (204, 1));

        // curl -L: the request after a redirect belongs to the same exchange.
        let followed = "\
> GET /a HTTP/1.1
> Origin: https://app.example.com
>
< HTTP/1.1 302 Found
< location: /b
<
* Issue another request to this URL: 'http://localhost/b'
> GET /b HTTP/1.1
> Origin: https://app.example.com
>
< HTTP/1.1 200 OK
<
";
        let all = read_all(followed).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].response.status, all[0].later_responses), (302, 1));
        assert_eq!(all[0].request.as_ref().unwrap().target, "/a");

        // A redirect curl did not follow, then another run elsewhere: two exchanges.
        let not_followed = followed.replace("> GET /b", "> PUT /c");
        let all = read_all(&not_followed).unwrap();
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!((all[0].response.status, all[0].later_responses), (302, 0));
        assert_eq!(all[1].request.as_ref().unwrap().target, "/c");
        assert!(leads_to("https://api.example.com/b?x=1", "/b?x=1"));
        assert!(leads_to("https://api.example.com", "/"));
        assert!(leads_to("/b", "/b") && !leads_to("/b", "/c"));

        // Two curl -i runs: the second status line after a final answer.
        let two = "HTTP/1.1 204\r\nvary: origin\r\n\r\nHTTP/1.1 200 OK\r\nx-a: 1\r\n\r\nbody\n";
        let all = read_all(two).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].response.status, all[1].response.status), (204, 200));
        assert_eq!(all[1].request, None);
    }

    /// Found by the `curl_answer` fuzz target: a response header line after the next request
    /// line once belonged to no head, and the reader panicked.
    #[test]
    fn a_response_line_after_the_next_request_line_is_no_header() {
        let found = "x-token\0\n< HTTP/.. 262\n>\n< true:...=TP\n>H\x000 00<r\n< HTTP:*/.h\n>,,H:4";
        assert!(matches!(
            read_all(found),
            Err(TranscriptError::BadHeaderLine { line: 7, .. })
        ));
        let text = found.strip_suffix("\n>,,H:4").unwrap();
        let all = read_all(text).unwrap();
        assert_eq!(all.len(), 1, "the second exchange has no answer: {all:?}");
        assert_eq!(all[0].response.status, 262);
        assert_eq!(
            all[0].response.headers,
            [("true".to_string(), "...=TP".to_string())]
        );
    }

    #[test]
    fn refuses_text_without_a_status_line_or_with_a_broken_header() {
        assert_eq!(
            read("Access-Control-Allow-Origin: *\n"),
            Err(TranscriptError::NoStatusLine)
        );
        assert_eq!(read(""), Err(TranscriptError::NoStatusLine));
        assert_eq!(
            read("HTTP/1.1 100 Continue\n\n"),
            Err(TranscriptError::NoStatusLine)
        );
        assert_eq!(
            read("HTTP/1.1 200 OK\nBad Header: x\n"),
            Err(TranscriptError::BadHeaderLine {
                line: 2,
                text: "Bad Header: x".into()
            })
        );
        assert_eq!(status_of("HTTP/1.1 2000"), None);
        assert_eq!(status_of("HTTP/x 200"), None);
        assert_eq!(status_of("HTTP/1.1 099"), None);
    }
}
