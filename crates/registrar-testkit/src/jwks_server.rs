//! A client's `jwks_uri` for tests: an https server on 127.0.0.1 with a self-signed certificate,
//! and the fetcher options that trust it and resolve its name to it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use registrar_server::TokenOptions;
use registrar_server::outbound::FetchConfig;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The host name the certificate is for; the test resolver maps it to the server.
pub const JWKS_HOST: &str = "jwks.test";

/// Serves one JWK Set at any path, counting requests.
#[derive(Debug)]
pub struct JwksServer {
    address: SocketAddr,
    certificate: reqwest::Certificate,
    jwks: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    /// Serves `jwks` over https on a new loopback port until dropped.
    pub async fn start(jwks: Value) -> Self {
        let certified = rcgen::generate_simple_self_signed(vec![JWKS_HOST.to_owned()])
            .expect("a self-signed certificate");
        let certificate_der = certified.cert.der().clone();
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
        let jwks = Arc::new(Mutex::new(jwks));
        let hits = Arc::new(AtomicUsize::new(0));
        let (served_jwks, served_hits) = (jwks.clone(), hits.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, jwks, hits) =
                    (acceptor.clone(), served_jwks.clone(), served_hits.clone());
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
                    let body = jwks.lock().expect("jwks lock").to_string();
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
            address,
            certificate: reqwest::Certificate::from_der(&certificate_der).expect("certificate"),
            jwks,
            hits,
            task,
        }
    }

    /// `https://jwks.test:PORT/jwks.json`.
    pub fn url(&self) -> String {
        format!("https://{JWKS_HOST}:{}/jwks.json", self.address.port())
    }

    /// Replaces the served set, as a client rotating its keys does.
    pub fn set_jwks(&self, jwks: Value) {
        *self.jwks.lock().expect("jwks lock") = jwks;
    }

    /// How many requests the server has received.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Token options whose fetcher trusts this server and finds it at `jwks.test`. Only tests
    /// may allow special-use (here loopback) addresses.
    pub fn token_options(&self) -> TokenOptions {
        TokenOptions {
            fetch: FetchConfig {
                extra_root_certificates: vec![self.certificate.clone()],
                allow_special_use_addresses: true,
                ..FetchConfig::default()
            },
            resolver: Some(Arc::new(FixedResolver(self.address))),
            ..TokenOptions::default()
        }
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Resolves `jwks.test` to the server and nothing else.
#[derive(Debug)]
struct FixedResolver(SocketAddr);

impl Resolve for FixedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let address = (name.as_str() == JWKS_HOST).then_some(self.0);
        Box::pin(async move {
            let Some(address) = address else {
                return Err("no such host".into());
            };
            let addresses: Addrs = Box::new(std::iter::once(address));
            Ok(addresses)
        })
    }
}
