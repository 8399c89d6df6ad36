//! One HTTP/1.1 keep-alive connection, optionally from a chosen loopback source address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::BodyExt as _;
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;

use crate::scenario::Body;

/// Hands out distinct loopback addresses, `127.{first}.0.1` onwards, which Linux routes to `lo`.
///
/// A server's per-address limits see each as another client, as they would see many hosts.
#[derive(Debug)]
pub struct SourceAddresses {
    first_octet: u8,
    next: AtomicU64,
}

impl SourceAddresses {
    /// Addresses `127.{second_octet}.x.y` and on (the third and fourth octets count up, the
    /// fourth from 1 to 254).
    pub fn starting_at(second_octet: u8) -> Self {
        Self {
            first_octet: second_octet,
            next: AtomicU64::new(0),
        }
    }

    /// The next unused address.
    pub fn next(&self) -> IpAddr {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        let fourth = 1 + index % 254;
        let third = (index / 254) % 256;
        let second = (u64::from(self.first_octet) + index / (254 * 256)) % 256;
        let octet = |value: u64| u8::try_from(value).unwrap_or(u8::MAX);
        IpAddr::V4(Ipv4Addr::new(
            127,
            octet(second),
            octet(third),
            octet(fourth),
        ))
    }
}

/// An open connection.
#[derive(Debug)]
pub struct Connection {
    sender: SendRequest<Body>,
}

impl Connection {
    /// Connects to `server`, from `source` when given.
    pub async fn open(server: SocketAddr, source: Option<IpAddr>) -> std::io::Result<Self> {
        let socket = match server {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if let Some(source) = source {
            socket.bind(SocketAddr::new(source, 0))?;
        }
        let stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        // The connection task ends when the sender is dropped or the server closes.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// Sends one request and reads its whole answer.
    pub async fn send(&mut self, request: Request<Body>) -> Result<Answer, hyper::Error> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// A whole answer: status, headers and body.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers (a `Location`, `Set-Cookie`s).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}
