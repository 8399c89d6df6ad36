//! A client's https documents for tests (a `jwks_uri`, a `sector_identifier_uri`, a Client ID
//! Metadata Document): a server on
//! 127.0.0.1 with a self-signed certificate for its name and for `127.0.0.1`, answering each
//! path with a canned response and counting requests, and the fetcher options that trust it,
//! resolve its name to it and let the outbound allow-list reach it.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use registrar_server::TokenOptions;
use registrar_server::outbound::{AllowedHost, FetchConfig};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// What the server answers for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Document {
    /// `200` with `value` as JSON.
    pub fn json(value: &Value) -> Self {
        Self::bytes("200 OK", value.to_string().into_bytes())
    }

    /// `200` with `body` as it is, typed as JSON.
    pub fn bytes(status_line: &str, body: Vec<u8>) -> Self {
        Self {
            status_line: status_line.to_owned(),
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body,
        }
    }

    /// `status_line` (`404 Not Found`) with an empty body.
    pub fn status(status_line: &str) -> Self {
        Self::bytes(status_line, Vec::new())
    }

    /// The same answer with one more header (`cache-control`, say).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `302 Found` to `location`.
    pub fn redirect(location: &str) -> Self {
        let mut document = Self::status("302 Found");
        document
            .headers
            .push(("location".to_owned(), location.to_owned()));
        document
    }

    fn response(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {}\r\n", self.status_line);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut response = head.into_bytes();
        response.extend_from_slice(&self.body);
        response
    }
}

/// Serves a [`Document`] per path (`404` for any other) over https on a loopback port.
#[derive(Debug)]
pub struct DocumentServer {
    host: String,
    address: SocketAddr,
    certificate: reqwest::Certificate,
    certificate_pem: String,
    documents: Arc<Mutex<HashMap<String, Document>>>,
    requests: Arc<Mutex<Vec<String>>>,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl DocumentServer {
    /// Serves nothing yet, at `https://{host}:PORT` and `https://127.0.0.1:PORT`, until dropped.
    pub async fn start(host: &str) -> Self {
        let certified =
            rcgen::generate_simple_self_signed(vec![host.to_owned(), "127.0.0.1".to_owned()])
                .expect("a self-signed certificate");
        let certificate_der = certified.cert.der().clone();
        let certificate_pem = pem("CERTIFICATE", &certificate_der);
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let tls = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certificate_der.clone()], key)
            .expect("server certificate");
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let documents = Arc::new(Mutex::new(HashMap::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(AtomicUsize::new(0));
        let served = (documents.clone(), requests.clone(), hits.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let (documents, requests, hits) =
                    (served.0.clone(), served.1.clone(), served.2.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buffer = [0_u8; 1024];
                    while !head.windows(4).any(|window| window == b"\r\n\r\n")
                        && head.len() < 16 * 1024
                    {
                        match tls.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => head.extend_from_slice(&buffer[..read]),
                        }
                    }
                    hits.fetch_add(1, Ordering::SeqCst);
                    let head = String::from_utf8_lossy(&head).into_owned();
                    // `GET /path HTTP/1.1`: the path is the second word of the request line.
                    let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                    requests.lock().expect("requests lock").push(path.clone());
                    let document = documents
                        .lock()
                        .expect("documents lock")
                        .get(&path)
                        .cloned();
                    let response = document
                        .unwrap_or_else(|| Document::status("404 Not Found"))
                        .response();
                    let _ = tls.write_all(&response).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self {
            host: host.to_owned(),
            address,
            certificate: reqwest::Certificate::from_der(&certificate_der).expect("certificate"),
            certificate_pem,
            documents,
            requests,
            hits,
            task,
        }
    }

    /// Answers `path` with `document` from now on.
    pub fn serve(&self, path: &str, document: Document) {
        self.documents
            .lock()
            .expect("documents lock")
            .insert(path.to_owned(), document);
    }

    /// `https://{host}:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}:{}{path}", self.host, self.address.port())
    }

    /// `https://127.0.0.1:PORT{path}`, the same server by its address.
    pub fn ip_url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.address.port())
    }

    /// The server's self-signed certificate in PEM, what an operator's `outbound.extra_ca_file`
    /// would hold to trust it.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// How many requests the server has received.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// The paths requested so far, in order.
    pub fn requested_paths(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// `{host}:PORT` and `127.0.0.1:PORT`: what an operator lists in `outbound.allow_hosts` for
    /// this server, which lives on loopback.
    pub fn allow_hosts(&self) -> Vec<AllowedHost> {
        [self.host.as_str(), "127.0.0.1"]
            .iter()
            .map(|host| {
                AllowedHost::parse(&format!("{host}:{}", self.address.port()))
                    .expect("allow-list entry")
            })
            .collect()
    }

    /// Token options whose fetcher trusts this server, finds it at its name, and may reach it
    /// through the allow-list ([`DocumentServer::allow_hosts`]), the way an operator's
    /// `[outbound]` section would.
    pub fn token_options(&self) -> TokenOptions {
        TokenOptions {
            fetch: FetchConfig {
                extra_root_certificates: vec![self.certificate.clone()],
                allow_hosts: self.allow_hosts(),
                ..FetchConfig::default()
            },
            resolver: Some(Arc::new(FixedResolver {
                host: self.host.clone(),
                address: self.address,
            })),
            ..TokenOptions::default()
        }
    }
}

impl Drop for DocumentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// RFC 7468 text encoding: base64 in lines of 64 between the labels.
fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// Resolves the server's name to it and nothing else.
#[derive(Debug)]
struct FixedResolver {
    host: String,
    address: SocketAddr,
}

impl Resolve for FixedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let address = (name.as_str() == self.host).then_some(self.address);
        Box::pin(async move {
            let Some(address) = address else {
                return Err("no such host".into());
            };
            let addresses: Addrs = Box::new(std::iter::once(address));
            Ok(addresses)
        })
    }
}
