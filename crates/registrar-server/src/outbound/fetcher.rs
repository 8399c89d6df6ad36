//! The one HTTP client that fetches client-supplied URLs: https only, no redirects, no
//! special-use addresses, bounded in time and size.

use std::error::Error;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use registrar_core::net::{AllowedHost, is_special_use};
use reqwest::dns::Resolve;
use reqwest::header::ACCEPT;
use reqwest::redirect::Policy;
use reqwest::{Certificate, Client, StatusCode};
use url::{Host, Url};

use super::resolver::{AddressFilter, ForbiddenAddress, GuardedResolver, SystemResolver};

/// Sent on every fetch, so that a client's server sees who asks and nothing about the host.
const USER_AGENT: &str = "registrar";

/// Why a fetch failed. Messages never carry the response body: it is attacker-controlled and
/// may end up in an error response or a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL does not parse, has no host, or carries a user name or password.
    #[error("the url is not an absolute url, or it carries credentials")]
    InvalidUrl,
    /// The URL's scheme is not `https`.
    #[error("only https urls are fetched")]
    NotHttps,
    /// The host is a special-use address, or resolves only to special-use addresses.
    #[error("the host is or resolves to a special-use address")]
    ForbiddenAddress,
    /// Security.md §3, CVE-2026-4366: a redirect can lead anywhere, so it is an error.
    #[error("the server answered with a redirect, which is not followed")]
    Redirect,
    /// The server answered with a status other than `200`, and not a redirect.
    #[error("the server answered with status {0}, not 200")]
    Status(u16),
    /// The body is over [`FetchConfig::max_bytes`].
    #[error("the response is larger than allowed")]
    TooLarge,
    /// The fetch took longer than [`FetchConfig::total_timeout`] or the connect timeout.
    #[error("the fetch took too long")]
    Timeout,
    /// The body is not JSON.
    #[error("the response is not json")]
    InvalidJson,
    /// The JSON is not a JWK Set: an object whose `keys` is an array of objects (RFC 7517 §5).
    #[error("the document is not a jwk set with a keys array of objects")]
    InvalidJwks,
    /// Resolution, connection or TLS failed, or the HTTP client could not be built.
    #[error("network error: {0}")]
    Network(String),
}

impl FetchError {
    /// The outcome label of `registrar_outbound_fetches_total`: one of a bounded set.
    pub(crate) fn metric_label(&self) -> &'static str {
        match self {
            Self::InvalidUrl | Self::NotHttps => "refused_url",
            Self::ForbiddenAddress => "refused_address",
            Self::Redirect | Self::Status(_) => "status",
            Self::TooLarge => "too_large",
            Self::Timeout => "timeout",
            Self::InvalidJson | Self::InvalidJwks => "invalid",
            Self::Network(_) => "network",
        }
    }
}

/// How a [`Fetcher`] behaves; the default is what production uses (security.md §5 decision 3).
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// How long the TCP connect may take.
    pub connect_timeout: Duration,
    /// How long the whole fetch may take: resolution, connect, TLS, headers and body.
    pub total_timeout: Duration,
    /// The largest body accepted, counted while streaming.
    pub max_bytes: usize,
    /// Trusted in addition to the built-in web PKI roots (`outbound.extra_ca_file`; see
    /// [`root_certificates_from_pem`](super::root_certificates_from_pem)).
    pub extra_root_certificates: Vec<Certificate>,
    /// `host:port` exceptions to the special-use filter (`outbound.allow_hosts`): a URL whose
    /// host and port (explicit, or 443) are listed may connect to any address its name resolves
    /// to, loopback and private ones included. Every other URL keeps the filter. For development
    /// machines and test fixtures on loopback; each entry is one service the operator vouches
    /// for.
    pub allow_hosts: Vec<AllowedHost>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_secs(3),
            max_bytes: 64 * 1024,
            extra_root_certificates: Vec::new(),
            allow_hosts: Vec::new(),
        }
    }
}

/// Fetches JSON documents from client-supplied https URLs (`jwks_uri`,
/// `sector_identifier_uri`) without letting a client aim Registrar at internal services.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// Connects only to addresses `permits` accepts.
    client: Client,
    /// Connects to any address; used only for URLs whose `host:port` is in `allow_hosts`, and
    /// built only when that list is not empty.
    allowed_client: Option<Client>,
    allow_hosts: Arc<[AllowedHost]>,
    permits: AddressFilter,
    max_bytes: usize,
    total_timeout: Duration,
}

impl Fetcher {
    /// A fetcher that resolves names through the operating system.
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        Self::with_resolver(config, Arc::new(SystemResolver))
    }

    /// A fetcher that resolves names through `resolver`; the special-use filter still applies
    /// to its answers, except for the `host:port`s of [`FetchConfig::allow_hosts`].
    pub fn with_resolver(
        config: FetchConfig,
        resolver: Arc<dyn Resolve>,
    ) -> Result<Self, FetchError> {
        Self::with_address_filter(config, resolver, |ip| !is_special_use(ip))
    }

    /// A fetcher with its own idea of a permitted address; tests use it to allow one loopback
    /// address and refuse another.
    pub(super) fn with_address_filter(
        config: FetchConfig,
        resolver: Arc<dyn Resolve>,
        permits: AddressFilter,
    ) -> Result<Self, FetchError> {
        let client = build_client(&config, Arc::clone(&resolver), permits)?;
        // A second client rather than a per-name exception in the resolver: the resolver sees
        // only the name, while an entry names a host and a port.
        let allowed_client = match config.allow_hosts.is_empty() {
            true => None,
            false => Some(build_client(&config, resolver, |_| true)?),
        };
        Ok(Self {
            client,
            allowed_client,
            allow_hosts: config.allow_hosts.into(),
            permits,
            max_bytes: config.max_bytes,
            total_timeout: config.total_timeout,
        })
    }

    /// Fetches `url` and parses its body as JSON.
    ///
    /// Only a `200` answer is accepted; the body is read up to the configured cap.
    pub async fn fetch_json(&self, url: &str) -> Result<serde_json::Value, FetchError> {
        self.fetch_json_within(url, self.max_bytes)
            .await
            .map(|fetched| fetched.json)
    }

    /// Fetches `url` as [`Fetcher::fetch_json`] does, with a byte cap of at most `max_bytes`
    /// (never above the configured one), and reads how long the answer may be cached.
    pub async fn fetch_json_within(
        &self,
        url: &str,
        max_bytes: usize,
    ) -> Result<Fetched, FetchError> {
        let (url, client) = self.check_url(url)?;
        let fetched = self.fetch_body(client, url, max_bytes.min(self.max_bytes));
        let (body, max_age) = match tokio::time::timeout(self.total_timeout, fetched).await {
            Ok(body) => body?,
            Err(_elapsed) => return Err(FetchError::Timeout),
        };
        // serde_json's recursion limit (128) bounds the work on deeply nested input.
        let json = serde_json::from_slice(&body).map_err(|_| FetchError::InvalidJson)?;
        Ok(Fetched { json, max_age })
    }

    /// Checks what can be checked before sending, and picks the client: the unfiltered one for
    /// an allowed `host:port`, else the filtered one. A domain is checked when it is resolved;
    /// an IP literal never is, so it is checked here.
    fn check_url(&self, url: &str) -> Result<(Url, &Client), FetchError> {
        // The url crate parses like browsers: `https://2130706433/` and `https://0x7f.1/` are
        // 127.0.0.1 here, and reqwest connects to the serialised form.
        let url = Url::parse(url).map_err(|_| FetchError::InvalidUrl)?;
        if url.scheme() != "https" {
            return Err(FetchError::NotHttps);
        }
        // Credentials in the URL would be sent to the client's server as Basic authentication.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::InvalidUrl);
        }
        if let Some(allowed_client) = &self.allowed_client
            && self.allow_hosts.iter().any(|allowed| allowed.matches(&url))
        {
            return Ok((url, allowed_client));
        }
        let literal = match url.host() {
            None => return Err(FetchError::InvalidUrl),
            Some(Host::Domain(_)) => return Ok((url, &self.client)),
            Some(Host::Ipv4(ipv4)) => IpAddr::V4(ipv4),
            Some(Host::Ipv6(ipv6)) => IpAddr::V6(ipv6),
        };
        if !(self.permits)(literal) {
            return Err(FetchError::ForbiddenAddress);
        }
        Ok((url, &self.client))
    }

    async fn fetch_body(
        &self,
        client: &Client,
        url: Url,
        max_bytes: usize,
    ) -> Result<(Vec<u8>, Option<u64>), FetchError> {
        let mut response = client
            .get(url)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect);
        }
        if status != StatusCode::OK {
            return Err(FetchError::Status(status.as_u16()));
        }
        let max_age = cache_lifetime(response.headers());
        let cap = u64::try_from(max_bytes).unwrap_or(u64::MAX);
        if response.content_length().is_some_and(|length| length > cap) {
            return Err(FetchError::TooLarge);
        }
        // Content-Length may be absent (chunked encoding), so count while reading too.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if chunk.len() > max_bytes - body.len() {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, max_age))
    }
}

/// A JSON document fetched, with how long its server lets it be cached.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    /// The parsed body.
    pub json: serde_json::Value,
    /// `Cache-Control: max-age` in seconds, `0` for `no-store` or `no-cache`, `None` without
    /// either (RFC 9111 §5.2.2).
    pub max_age: Option<u64>,
}

/// How long a response may be reused by its `Cache-Control` header: `no-store` and `no-cache`
/// mean not at all, else `max-age` less the `Age` it has spent in caches on the way (RFC 9111
/// §4.2.3; a malformed value counts as absent).
fn cache_lifetime(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let age = headers
        .get(reqwest::header::AGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(0);
    directive_max_age(headers).map(|max_age| max_age.saturating_sub(age))
}

fn directive_max_age(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let mut max_age = None;
    for value in headers.get_all(reqwest::header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for directive in value.split(',') {
            let directive = directive.trim().to_ascii_lowercase();
            if directive == "no-store" || directive == "no-cache" {
                return Some(0);
            }
            if let Some(seconds) = directive.strip_prefix("max-age=") {
                max_age = seconds.trim_matches('"').parse::<u64>().ok().or(max_age);
            }
        }
    }
    max_age
}

/// The https-only, redirect-free, proxy-free client whose resolver keeps only the addresses
/// `permits` accepts.
fn build_client(
    config: &FetchConfig,
    resolver: Arc<dyn Resolve>,
    permits: AddressFilter,
) -> Result<Client, FetchError> {
    let mut builder = Client::builder()
        .use_rustls_tls()
        .dns_resolver(Arc::new(GuardedResolver::new(resolver, permits)))
        .https_only(true)
        .redirect(Policy::none())
        .no_proxy()
        .connect_timeout(config.connect_timeout)
        .timeout(config.total_timeout)
        .user_agent(USER_AGENT)
        .http1_only()
        // Fetches are rare and go to client-chosen hosts: keeping idle connections to them
        // only holds sockets open for whoever registers many clients.
        .pool_max_idle_per_host(0);
    for certificate in &config.extra_root_certificates {
        builder = builder.add_root_certificate(certificate.clone());
    }
    builder
        .build()
        .map_err(|error| FetchError::Network(format!("cannot build the http client: {error}")))
}

/// Turns a reqwest error into a [`FetchError`], finding the resolver's refusal in its chain.
fn classify(error: reqwest::Error) -> FetchError {
    let refused = error_chain(&error).any(|cause| cause.is::<ForbiddenAddress>());
    if refused {
        return FetchError::ForbiddenAddress;
    }
    if error.is_timeout() {
        return FetchError::Timeout;
    }
    // The caller knows the URL; the message says only what went wrong.
    let error = error.without_url();
    let causes: Vec<String> = error_chain(&error).map(ToString::to_string).collect();
    FetchError::Network(causes.join(": "))
}

fn error_chain<'a>(
    error: &'a (dyn Error + 'static),
) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |&cause| cause.source())
}
