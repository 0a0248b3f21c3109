//! `lab-health`: the healthcheck probe of CORS Lab's Docker image.
//!
//! Docker runs a container's healthcheck *inside* that container, with the programs its image
//! holds. The lab's runtime image is a minimal base plus the lab's binaries: it has no curl or
//! wget, and it may have no shell at all (`distroless`-style bases). So the image carries its
//! own probe — this program: one raw HTTP/1.1 `GET` over [`std::net::TcpStream`], bounded by a
//! timeout, using nothing but the standard library.
//!
//! ```text
//! lab-health http://127.0.0.1:9090/_lab/health        # the API
//! lab-health --timeout 2 http://127.0.0.1:8080/healthz   # an origin, 2 s in all
//! ```
//!
//! Exit status, as Docker's `HEALTHCHECK` expects: **0** when the server answered with a 2xx
//! status, **1** for anything else — no answer, a timeout, another status, and also a bad
//! command line (Docker reserves 2, so it is never used). One line on stdout says what
//! happened; `docker inspect` shows it in the container's health log.
//!
//! Only `http://` URLs are understood (the probe talks to the server in its own container, over
//! loopback); the host may be an IP address, `[v6]` or a name. The timeout (default 3 s) covers
//! name lookup, connecting, sending and reading the status line together.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: lab-health [--timeout SECONDS] http://HOST[:PORT][/PATH]\n\
    GETs the URL; exit 0 on a 2xx answer, 1 otherwise (Docker healthcheck convention).";

/// The longest status line read before giving up on an answer.
const MAX_STATUS_LINE: usize = 8 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, timeout) = match parse_args(&args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            println!("lab-health: {e}\n{USAGE}");
            return ExitCode::from(1);
        }
    };
    match probe(&url, timeout) {
        Ok(status) if (200..300).contains(&status) => {
            println!("healthy: {} answered {status}", url.display);
            ExitCode::SUCCESS
        }
        Ok(status) => {
            println!("unhealthy: {} answered {status}", url.display);
            ExitCode::from(1)
        }
        Err(e) => {
            println!("unhealthy: {}: {e}", url.display);
            ExitCode::from(1)
        }
    }
}

/// A parsed `http://` URL.
#[derive(Debug, PartialEq, Eq)]
struct Url {
    /// Host as written, without brackets (`127.0.0.1`, `::1`, `localhost`).
    host: String,
    port: u16,
    /// Path and query, starting with `/`.
    path: String,
    /// The URL as given, for messages.
    display: String,
}

/// `Ok(None)` means `--help`.
fn parse_args(args: &[String]) -> Result<Option<(Url, Duration)>, String> {
    let mut timeout = Duration::from_secs(3);
    let mut url = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--timeout" => {
                let value = rest.next().ok_or("--timeout needs a number of seconds")?;
                timeout = parse_timeout(value)?;
            }
            other if other.starts_with("--timeout=") => {
                timeout = parse_timeout(&other["--timeout=".len()..])?;
            }
            other if url.is_none() => url = Some(parse_url(other)?),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let url = url.ok_or("missing the URL to probe")?;
    Ok(Some((url, timeout)))
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "--timeout {text:?}: expected seconds, more than 0 and at most 3600"
        )),
    }
}

fn parse_url(text: &str) -> Result<Url, String> {
    let rest = text
        .strip_prefix("http://")
        .ok_or_else(|| format!("{text:?}: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    let path = path.split('#').next().unwrap_or("/").to_string();
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{text:?}: unclosed '[' in the host"))?;
        match after {
            "" => (host, None),
            p if p.starts_with(':') => (host, Some(&p[1..])),
            _ => return Err(format!("{text:?}: unexpected text after ']'")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains('@') {
        return Err(format!("{text:?}: expected http://HOST[:PORT][/PATH]"));
    }
    let port = match port {
        None => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{text:?}: bad port {p:?}"))?,
    };
    Ok(Url {
        host: host.to_string(),
        port,
        path,
        display: text.to_string(),
    })
}

/// Sends the GET and returns the status code, all within `timeout`.
fn probe(url: &Url, timeout: Duration) -> Result<u16, String> {
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("no answer within {timeout:?}"))
    };
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", url.host))?
        .collect();
    let mut last_error = format!("{} resolves to no address", url.host);
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, left()?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = format!("cannot connect to {addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last_error)?;
    let host_header = if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: lab-health\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path
    );
    stream
        .set_write_timeout(Some(left()?))
        .and_then(|_| stream.write_all(request.as_bytes()))
        .map_err(|e| format!("sending the request: {e}"))?;
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = received.windows(2).position(|w| w == b"\r\n") {
            return parse_status_line(&received[..end]);
        }
        if received.len() > MAX_STATUS_LINE {
            return Err("the answer's status line is too long".into());
        }
        stream
            .set_read_timeout(Some(left()?))
            .map_err(|e| format!("reading the answer: {e}"))?;
        match stream.read(&mut buf) {
            Ok(0) if received.is_empty() => {
                return Err("the connection closed without an answer".into())
            }
            Ok(0) => return parse_status_line(&received),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!("no answer within {timeout:?}"))
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the answer: {e}")),
        }
    }
}

/// `HTTP/1.1 200 OK` → 200.
fn parse_status_line(line: &[u8]) -> Result<u16, String> {
    let text = String::from_utf8_lossy(line);
    let mut parts = text.split(' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/") || code.len() != 3 {
        return Err(format!("not an HTTP answer: {:?}", text.trim_end()));
    }
    code.parse::<u16>()
        .map_err(|_| format!("not an HTTP status: {:?}", text.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn url(text: &str) -> Url {
        parse_url(text).unwrap()
    }

    #[test]
    fn urls() {
        let u = url("http://127.0.0.1:9090/_lab/health");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 9090, "/_lab/health")
        );
        let u = url("http://localhost");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("localhost", 80, "/")
        );
        let u = url("http://[::1]:8080?x=1#frag");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 8080, "/?x=1")
        );
        for bad in [
            "https://127.0.0.1/",
            "127.0.0.1:80",
            "http://:80/",
            "http://h:0/",
            "http://h:99999/",
            "http://[::1/",
            "http://user@h/",
        ] {
            assert!(parse_url(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn args() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (_, t) = parse_args(&s(&["--timeout", "0.5", "http://h/"]))
            .unwrap()
            .unwrap();
        assert_eq!(t, Duration::from_millis(500));
        assert!(parse_args(&s(&["--help"])).unwrap().is_none());
        assert!(parse_args(&s(&[])).is_err());
        assert!(parse_args(&s(&["--timeout", "-1", "http://h/"])).is_err());
        assert!(parse_args(&s(&["http://h/", "http://h/"])).is_err());
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 204 No Content"), Ok(204));
        assert_eq!(parse_status_line(b"HTTP/1.0 503"), Ok(503));
        assert!(parse_status_line(b"SSH-2.0-OpenSSH").is_err());
    }

    /// Serves one canned answer on a loopback port and probes it.
    fn probe_answer(answer: &'static [u8]) -> Result<u16, String> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let n = s.read(&mut request).unwrap();
            let head = String::from_utf8_lossy(&request[..n]).to_string();
            let _ = s.write_all(answer);
            head
        });
        let result = probe(
            &url(&format!("http://127.0.0.1:{port}/healthz")),
            Duration::from_secs(5),
        );
        let head = server.join().unwrap();
        assert!(head.starts_with("GET /healthz HTTP/1.1\r\n"), "{head}");
        assert!(
            head.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
            "{head}"
        );
        result
    }

    #[test]
    fn probes_a_server() {
        assert_eq!(
            probe_answer(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
            Ok(200)
        );
        assert_eq!(probe_answer(b"HTTP/1.1 500 Oops\r\n\r\n"), Ok(500));
        assert!(probe_answer(b"").is_err());
    }

    #[test]
    fn times_out_on_a_silent_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let result = probe(
            &url(&format!("http://127.0.0.1:{port}/")),
            Duration::from_millis(300),
        );
        assert!(result.unwrap_err().contains("no answer within"));
        assert!(started.elapsed() < Duration::from_secs(3));
        drop(listener);
    }

    #[test]
    fn refused_connection_is_unhealthy() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let result = probe(
            &url(&format!("http://127.0.0.1:{port}/")),
            Duration::from_secs(2),
        );
        assert!(result.unwrap_err().contains("cannot connect"));
    }
}
