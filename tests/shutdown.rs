//! The real `cors-lab` process stops cleanly on SIGTERM and on Ctrl-C (SIGINT): an in-flight
//! request still gets its answer, the live event stream is closed, and the process exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts the lab on ports the OS picks and returns the API's listen address.
fn start() -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cors-lab"))
        .env("LAB_TRUSTED_LISTEN", "127.0.0.1:0")
        .env("LAB_UNTRUSTED_LISTEN", "127.0.0.1:0")
        .env("LAB_API_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.trim_start().starts_with("API") {
            let addr = line
                .rsplit("listening on ")
                .next()
                .unwrap()
                .trim_end_matches(')');
            return (child, addr.to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the lab printed no API line");
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process, failing (and killing it) if it hangs.
fn wait_exit(child: &mut Child) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the lab did not exit within 10 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads until the server closes the connection; panics if it stays open for 10 s.
async fn read_to_end(mut stream: TcpStream) -> String {
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
        .await
        .expect("the server closed the connection")
        .expect("reading");
    String::from_utf8_lossy(&buf).into_owned()
}

async fn stops_cleanly_on(signal_name: &str) {
    let (mut child, api) = start();

    let mut events = TcpStream::connect(&api).await.unwrap();
    events
        .write_all(format!("GET /_lab/events HTTP/1.1\r\nHost: {api}\r\n\r\n").as_bytes())
        .await
        .unwrap();

    // One exchange the live stream must deliver before it closes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut first = TcpStream::connect(&api).await.unwrap();
    first
        .write_all(
            format!(
                "GET /api/items?run=before HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    assert!(read_to_end(first).await.starts_with("HTTP/1.1 200"));

    // A request whose body is only half sent when the signal arrives.
    let mut in_flight = TcpStream::connect(&api).await.unwrap();
    in_flight
        .write_all(
            format!(
                "POST /api/echo HTTP/1.1\r\nHost: {api}\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    signal(&child, signal_name);
    tokio::time::sleep(Duration::from_millis(100)).await;
    in_flight.write_all(b"world").await.unwrap();
    let answer = read_to_end(in_flight).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the in-flight request finished: {answer}"
    );
    assert!(answer.contains("\"body_bytes\":10"), "{answer}");

    let stream = read_to_end(events).await;
    assert!(stream.starts_with("HTTP/1.1 200"), "{stream}");
    assert!(
        stream.contains("event: entry"),
        "the stream was live until the end: {stream}"
    );

    let (status, took) = wait_exit(&mut child);
    assert!(status.success(), "exit status {status:?}");
    println!("{signal_name}: exited {took:?} after the last request finished");

    assert!(
        TcpStream::connect(&api).await.is_err(),
        "the port is closed after exit"
    );
}

#[tokio::test]
async fn sigterm_drains_and_exits_zero() {
    stops_cleanly_on("TERM").await;
}

#[tokio::test]
async fn ctrl_c_drains_and_exits_zero() {
    stops_cleanly_on("INT").await;
}
