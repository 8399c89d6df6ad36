//! Clients that send too slowly or not at all lose their connection in bounded time instead of
//! holding it until the request timeout (slow loris, a `Content-Length` that never arrives).

use std::time::Duration;

use registrar_server::RouterOptions;
use registrar_server::serve::ServeOptions;
use registrar_testkit::{Backend, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far above the server's bounds below: reaching it means the server never gave up.
const GUARD: Duration = Duration::from_secs(10);

async fn server() -> TestServer {
    TestServer::builder(Backend::Sqlite)
        .router_options(RouterOptions {
            body_read_timeout: Duration::from_millis(300),
            ..RouterOptions::default()
        })
        .serve_options(ServeOptions {
            header_read_timeout: Duration::from_millis(300),
            ..ServeOptions::default()
        })
        .spawn()
        .await
}

/// Everything the server sends until it closes the connection.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(GUARD, async {
        let mut buffer = [0_u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(count) => received.extend_from_slice(&buffer[..count]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_408_and_the_connection_closed() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let head = "POST /connect/dcr HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"redirect_uris\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408 "), "answer: {answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "answer: {answer}"
    );
    assert!(
        answer.contains("\"error\":\"invalid_request\""),
        "answer: {answer}"
    );
}

#[tokio::test]
async fn headers_that_never_finish_lose_the_connection() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream
        .write_all(b"POST /connect/dcr HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    // hyper closes the connection, with a 408 or without an answer.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408 "),
        "answer: {answer}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    // The first request is answered; then the connection, idle, is closed.
    assert!(answer.starts_with("HTTP/1.1 200 "), "answer: {answer}");
}
