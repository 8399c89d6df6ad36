//! Graceful shutdown of the real binary: on SIGTERM or SIGINT it stops accepting connections,
//! lets a request in flight finish within `shutdown_grace_period`, closes the store and exits
//! with status 0; what the request registered is there after a restart.
//!
//! A request is held in flight deterministically with `Expect: 100-continue`: hyper sends
//! `100 Continue` only once the router reads the body, so the request is inside the server,
//! and it cannot finish before the test sends the rest of the body.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, Store};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long the server may take to exit once its last request is done.
const EXIT_WITHIN: Duration = Duration::from_secs(20);
/// How long the listener may stay open after the signal.
const REFUSED_WITHIN: Duration = Duration::from_secs(10);
/// A bound on every socket read and write of the test.
const IO_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn sigterm_lets_an_in_flight_registration_finish_on_sqlite() {
    in_flight_registration_finishes(&Store::sqlite(), "TERM").await;
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_registration_finish_on_postgres() {
    let Some(server_url) = support::postgres_server_or_skip(
        "sigterm_lets_an_in_flight_registration_finish_on_postgres",
    ) else {
        return;
    };
    in_flight_registration_finishes(&Store::postgres(&server_url).await, "TERM").await;
}

#[tokio::test]
async fn sigint_lets_an_in_flight_registration_finish() {
    in_flight_registration_finishes(&Store::sqlite(), "INT").await;
}

/// The registration is started, `signal` sent, and only once the server refuses new
/// connections is the body completed: the answer must still be `201`, the exit status 0, and
/// the client readable after a restart.
async fn in_flight_registration_finishes(store: &Store, signal: &str) {
    let log = store.folder.path().join("server.log");
    let initial_token = store
        .cli(&["initial-token", "create", "--max-uses", "1"], "")
        .trim_end()
        .to_owned();
    let mut server = store.serve(&[], &[], &log).await;

    let body = json!({
        "client_name": "registered while shutting down",
        "redirect_uris": ["https://app.example/callback"],
    })
    .to_string();
    let held = HeldRequest::start(&server, &initial_token, body.as_bytes()).await;
    server.signal(signal);
    wait_until_refused(&server).await;
    let (status, response) = held.finish().await;
    assert_eq!(status, 201, "{response}");
    let registered: Value = serde_json::from_str(&response).unwrap();
    let exit = server.exit_status(EXIT_WITHIN).await;
    assert!(
        exit.success(),
        "exited with {exit}:\n{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("registrar stopped"), "{log_text}");
    if store.database.starts_with("sqlite:") {
        // The store was closed, not abandoned: the write-ahead log was merged into the database
        // file (and emptied, or removed by the last connection to close).
        let wal = store.folder.path().join("registrar.db-wal");
        assert!(store.folder.path().join("registrar.db").exists());
        let left = std::fs::metadata(&wal).map_or(0, |metadata| metadata.len());
        assert_eq!(
            left, 0,
            "the write-ahead log is left with {left} bytes: the store was not closed"
        );
    }

    let server = store.serve(&[], &[], &log).await;
    let client_id = registered["client_id"].as_str().unwrap();
    let read = reqwest::Client::new()
        .get(server.url(&format!("/connect/dcr/{client_id}")))
        .bearer_auth(registered["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let stored: Value = read.json().await.unwrap();
    assert_eq!(stored["client_name"], "registered while shutting down");
}

#[tokio::test]
async fn a_request_still_in_flight_after_the_grace_period_does_not_hold_up_the_exit() {
    let store = Store::sqlite();
    let config = store.file("registrar.toml", "shutdown_grace_period = 1\n");
    let config = config.to_str().unwrap();
    let log = store.folder.path().join("server.log");
    let initial_token = store
        .cli(&["--config", config, "initial-token", "create"], "")
        .trim_end()
        .to_owned();
    let mut server = store.serve(&["--config", config], &[], &log).await;

    // Never completed: the body stays one half short.
    let body = br#"{"redirect_uris":["https://app.example/callback"]}"#;
    let mut held = HeldRequest::start(&server, &initial_token, body).await;
    server.signal("TERM");
    let signalled = Instant::now();
    let exit = server.exit_status(EXIT_WITHIN).await;
    let waited = signalled.elapsed();
    assert!(exit.success(), "exited with {exit}");
    // The request had its grace period: the server did not exit before it ran out.
    assert!(waited >= Duration::from_secs(1), "exited after {waited:?}");
    // And it was cut off without an answer.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(IO_WITHIN, held.stream.read_to_end(&mut answer))
        .await
        .unwrap();
    assert!(
        read.is_err() || answer.is_empty(),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// A registration whose head and first half of the body are sent, and that the server has
/// begun reading.
struct HeldRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl HeldRequest {
    async fn start(server: &Server, initial_token: &str, body: &[u8]) -> Self {
        let mut stream = TcpStream::connect(server.address()).await.unwrap();
        let head = format!(
            "POST /connect/dcr HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {initial_token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
            server.address(),
            body.len(),
        );
        let (first, rest) = body.split_at(body.len() / 2);
        within(stream.write_all(head.as_bytes())).await.unwrap();
        // The server asks for the body only once the router reads it.
        let mut interim = Vec::new();
        while !interim.ends_with(b"\r\n\r\n") {
            let mut byte = [0_u8];
            assert_eq!(within(stream.read(&mut byte)).await.unwrap(), 1);
            interim.push(byte[0]);
        }
        assert!(
            interim.starts_with(b"HTTP/1.1 100 "),
            "{}",
            String::from_utf8_lossy(&interim)
        );
        within(stream.write_all(first)).await.unwrap();
        Self {
            stream,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest of the body; the status and body of the answer.
    async fn finish(mut self) -> (u16, String) {
        within(self.stream.write_all(&self.rest)).await.unwrap();
        let mut answer = Vec::new();
        within(self.stream.read_to_end(&mut answer)).await.unwrap();
        let answer = String::from_utf8(answer).unwrap();
        let status = answer
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

/// Polls until a new connection is refused: the server has stopped accepting.
async fn wait_until_refused(server: &Server) {
    let deadline = Instant::now() + REFUSED_WITHIN;
    loop {
        match TcpStream::connect(server.address()).await {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => return,
            // Accepted by the kernel into the backlog just before the listener closed.
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(error) => panic!("connecting failed otherwise: {error}"),
            Ok(_accepted) => {}
        }
        assert!(
            Instant::now() < deadline,
            "still accepting connections {REFUSED_WITHIN:?} after the signal"
        );
        // Polling the listener: the next attempt follows shortly.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn within<T>(future: impl Future<Output = std::io::Result<T>>) -> std::io::Result<T> {
    tokio::time::timeout(IO_WITHIN, future)
        .await
        .expect("the socket did not answer in time")
}
