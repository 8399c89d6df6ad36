//! Test doubles: a fake resolver, an https server on 127.0.0.1 that answers with canned bytes,
//! and a canary listener that tells whether anything connected to it.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::outbound::{AllowedHost, FetchConfig};

/// The name every test server is reached by, through [`FakeResolver`].
pub(super) const TEST_HOST: &str = "jwks.test";

/// No test server task lives longer than this, whatever the client does.
const SERVER_TASK_LIMIT: Duration = Duration::from_secs(10);

/// Answers each name with a list of answers in turn, repeating the last; counts its calls.
#[derive(Debug, Default)]
pub(super) struct FakeResolver {
    answers: Mutex<HashMap<String, VecDeque<Vec<IpAddr>>>>,
    calls: AtomicUsize,
}

impl FakeResolver {
    /// Adds the next answer for `host`.
    pub(super) fn answer(self, host: &str, ips: &[IpAddr]) -> Self {
        self.answers
            .lock()
            .expect("resolver lock")
            .entry(host.to_owned())
            .or_default()
            .push_back(ips.to_vec());
        self
    }

    pub(super) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Resolve for FakeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = {
            let mut answers = self.answers.lock().expect("resolver lock");
            match answers.get_mut(name.as_str()) {
                Some(queue) if queue.len() > 1 => queue.pop_front(),
                Some(queue) => queue.front().cloned(),
                None => None,
            }
        };
        Box::pin(async move {
            let Some(ips) = answer else {
                return Err("no such host".into());
            };
            // Port 0 is replaced by the URL's port.
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// What the test server does once it has read a request head.
#[derive(Debug, Clone)]
pub(super) enum Reply {
    /// Writes these bytes and closes.
    Bytes(Vec<u8>),
    /// Says nothing until the client gives up.
    Stall,
    /// Writes the head, then one body byte every `interval`.
    Trickle { head: Vec<u8>, interval: Duration },
}

/// A full HTTP/1.1 response with a Content-Length.
pub(super) fn response(status_line: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut bytes = format!("HTTP/1.1 {status_line}\r\n");
    for (name, value) in headers {
        bytes.push_str(&format!("{name}: {value}\r\n"));
    }
    bytes.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    Reply::Bytes(bytes.into_bytes())
}

/// A `200` JSON response.
pub(super) fn ok_json(body: &str) -> Reply {
    response("200 OK", &[("content-type", "application/json")], body)
}

/// A `200` response in chunked encoding, which carries no Content-Length.
pub(super) fn chunked(body: &[u8], chunk_size: usize) -> Reply {
    let mut bytes =
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    for chunk in body.chunks(chunk_size) {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    Reply::Bytes(bytes)
}

/// An https server on 127.0.0.1 with a fresh self-signed certificate for [`TEST_HOST`].
#[derive(Debug)]
pub(super) struct TlsServer {
    addr: SocketAddr,
    certificate: reqwest::Certificate,
    requests: Arc<Mutex<Vec<String>>>,
    tasks: JoinSet<()>,
}

impl TlsServer {
    /// Serves `reply(n)` to the `n`th request (from 0).
    pub(super) async fn spawn(reply: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        let certified =
            rcgen::generate_simple_self_signed(vec![TEST_HOST.to_owned(), "127.0.0.1".to_owned()])
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
        let certificate =
            reqwest::Certificate::from_der(&certificate_der).expect("certificate parses");
        let acceptor = TlsAcceptor::from(Arc::new(tls_config));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("test server binds");
        let addr = listener.local_addr().expect("test server address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(reply);
        let mut tasks = JoinSet::new();
        let accepted_requests = Arc::clone(&requests);
        tasks.spawn(async move {
            // The connections live in this set, so dropping the server ends them all.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let connection = serve(
                    acceptor.clone(),
                    stream,
                    Arc::clone(&reply),
                    Arc::clone(&accepted_requests),
                );
                connections.spawn(async move {
                    let _ = tokio::time::timeout(SERVER_TASK_LIMIT, connection).await;
                });
            }
        });
        Self {
            addr,
            certificate,
            requests,
            tasks,
        }
    }

    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://jwks.test:PORT{path}`.
    pub(super) fn url(&self, path: &str) -> String {
        format!("https://{TEST_HOST}:{}{path}", self.addr.port())
    }

    /// The request heads received so far.
    pub(super) fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// A configuration that trusts this server and lets `jwks.test:PORT` (only) connect to
    /// loopback through the allow-list, as an operator would, with short timeouts.
    pub(super) fn fetch_config(&self) -> FetchConfig {
        FetchConfig {
            connect_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_secs(2),
            extra_root_certificates: vec![self.certificate.clone()],
            allow_hosts: vec![self.allowed(TEST_HOST)],
            ..FetchConfig::default()
        }
    }

    /// `host:PORT` of this server, as an allow-list entry.
    pub(super) fn allowed(&self, host: &str) -> AllowedHost {
        AllowedHost::parse(&format!("{host}:{}", self.addr.port())).expect("allow-list entry")
    }

    /// A resolver that sends [`TEST_HOST`] here.
    pub(super) fn resolver(&self) -> Arc<FakeResolver> {
        Arc::new(FakeResolver::default().answer(TEST_HOST, &[self.addr.ip()]))
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

async fn serve(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    reply: Arc<impl Fn(usize) -> Reply>,
    requests: Arc<Mutex<Vec<String>>>,
) {
    let Ok(mut tls) = acceptor.accept(stream).await else {
        return;
    };
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return;
        }
        match tls.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let index = {
        let mut requests = requests.lock().expect("requests lock");
        requests.push(String::from_utf8_lossy(&head).into_owned());
        requests.len() - 1
    };
    match reply(index) {
        Reply::Bytes(bytes) => {
            let _ = tls.write_all(&bytes).await;
            let _ = tls.shutdown().await;
        }
        Reply::Stall => tokio::time::sleep(SERVER_TASK_LIMIT).await,
        Reply::Trickle { head, interval } => {
            if tls.write_all(&head).await.is_err() {
                return;
            }
            for _ in 0..100 {
                if tls.write_all(b" ").await.is_err() || tls.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(interval).await;
            }
        }
    }
}

/// A listener on 127.0.0.1 that nothing should connect to.
#[derive(Debug)]
pub(super) struct Canary {
    listener: TcpListener,
}

impl Canary {
    pub(super) async fn bind() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("canary binds");
        Self { listener }
    }

    pub(super) fn port(&self) -> u16 {
        self.listener.local_addr().expect("canary address").port()
    }

    /// Whether a connection is waiting. The kernel completes a connection before the client's
    /// connect returns, so after a fetch has failed any connection it made is already queued.
    pub(super) async fn was_contacted(&self) -> bool {
        tokio::time::timeout(Duration::from_millis(100), self.listener.accept())
            .await
            .is_ok()
    }
}
