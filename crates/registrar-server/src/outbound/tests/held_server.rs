//! An https server on 127.0.0.1 that tells the test when each request arrives and holds every
//! answer until the test releases them: for counting the fetches in flight without sleeping.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::support::{FakeResolver, TEST_HOST};
use crate::outbound::{AllowedHost, FetchConfig};

#[derive(Debug)]
pub(super) struct HeldServer {
    addr: SocketAddr,
    certificate: reqwest::Certificate,
    /// The path of each request, as its head arrives.
    arrivals: mpsc::UnboundedReceiver<String>,
    release: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl HeldServer {
    /// Answers every request with `body` once [`release`](Self::release) was called.
    pub(super) async fn spawn(body: &'static str) -> Self {
        let certified = rcgen::generate_simple_self_signed(vec![TEST_HOST.to_owned()])
            .expect("certificate generates");
        let certificate_der = certified.cert.der().clone();
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let tls_config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![certificate_der.clone()], key_der)
            .expect("server certificate");
        let acceptor = TlsAcceptor::from(Arc::new(tls_config));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("test server binds");
        let addr = listener.local_addr().expect("test server address");
        let (arrived, arrivals) = mpsc::unbounded_channel();
        let (release, released) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, arrived, mut released) =
                    (acceptor.clone(), arrived.clone(), released.clone());
                connections.spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buffer = [0_u8; 1024];
                    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                        match tls.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => head.extend_from_slice(&buffer[..read]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                    let _ = arrived.send(path);
                    if released.wait_for(|released| *released).await.is_err() {
                        return;
                    }
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self {
            addr,
            certificate: reqwest::Certificate::from_der(&certificate_der)
                .expect("certificate parses"),
            arrivals,
            release,
            tasks,
        }
    }

    /// `https://jwks.test:PORT{path}`.
    pub(super) fn url(&self, path: &str) -> String {
        format!("https://{TEST_HOST}:{}{path}", self.addr.port())
    }

    /// Waits for the next request to arrive and returns its path.
    pub(super) async fn next_arrival(&mut self) -> String {
        self.arrivals.recv().await.expect("the server is running")
    }

    /// The paths of the requests that arrived and were not yet taken by `next_arrival`.
    pub(super) fn pending_arrivals(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.arrivals.try_recv().ok()).collect()
    }

    /// Lets every held request, and every later one, be answered.
    pub(super) fn release(&self) {
        self.release.send_replace(true);
    }

    /// Trusts this server and may connect to loopback; the total timeout is far longer than
    /// any test holds a request.
    pub(super) fn fetch_config(&self) -> FetchConfig {
        FetchConfig {
            total_timeout: std::time::Duration::from_secs(10),
            extra_root_certificates: vec![self.certificate.clone()],
            allow_hosts: vec![
                AllowedHost::parse(&format!("{TEST_HOST}:{}", self.addr.port()))
                    .expect("allow-list entry"),
            ],
            ..FetchConfig::default()
        }
    }

    /// A resolver that sends [`TEST_HOST`] here.
    pub(super) fn resolver(&self) -> Arc<FakeResolver> {
        Arc::new(FakeResolver::default().answer(TEST_HOST, &[self.addr.ip()]))
    }
}

impl Drop for HeldServer {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}
