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
//! It keeps the first request (in `-v` output only) and the first final response: an interim
//! `1xx` head (`100 Continue`) is skipped. The final responses after it — curl `-L` following
//! redirects — are counted, not read: the browser checks each of them, against a different
//! request, and from a cross-origin redirect on with `Origin: null`.

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

/// Reads curl's output.
pub fn read(text: &str) -> Result<Transcript, TranscriptError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect();
    let verbose = lines
        .iter()
        .any(|(_, l)| l.strip_prefix("< ").is_some_and(|r| status_of(r).is_some()));

    let mut request: Option<RequestHead> = None;
    let mut in_request = false;
    let mut responses: Vec<ResponseHead> = Vec::new();
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
        match side {
            Side::Request => {
                if content.is_empty() {
                    in_request = false;
                } else if in_request {
                    let head = request.as_mut().expect("in a request head");
                    head.headers.push(header_line(number, content)?);
                } else if request.is_none() {
                    let mut words = content.split(' ');
                    let (Some(method), Some(target)) = (words.next(), words.next()) else {
                        continue;
                    };
                    request = Some(RequestHead {
                        method: method.to_string(),
                        target: target.to_string(),
                        headers: Vec::new(),
                    });
                    in_request = true;
                }
                // A later request (after a redirect) is not read.
            }
            Side::Response => {
                if let Some(status) = status_of(content) {
                    responses.push(ResponseHead {
                        status,
                        headers: Vec::new(),
                    });
                    in_response = true;
                } else if content.is_empty() {
                    in_response = false;
                } else if in_response {
                    let head = responses.last_mut().expect("in a response head");
                    head.headers.push(header_line(number, content)?);
                }
                // Otherwise a body line.
            }
        }
    }
    let mut finals = responses.into_iter().filter(|r| r.status >= 200);
    let response = finals.next().ok_or(TranscriptError::NoStatusLine)?;
    Ok(Transcript {
        request,
        response,
        later_responses: finals.count(),
    })
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
