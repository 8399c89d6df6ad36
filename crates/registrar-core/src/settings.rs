//! What this server supports and allows: the one source of truth for the validator and for
//! discovery, so the two can never disagree.

use url::Url;

use crate::lifecycle::LifecycleSettings;
use crate::net::AllowedHost;
use crate::policy::{HostPattern, Policies};
use crate::protocol::{AuthMethod, GrantType};

use crate::token::{ASYMMETRIC_ASSERTION_ALGS, HMAC_ASSERTION_ALGS, SigningAlgorithm};
use crate::trust::{StatementMode, StatementSettings, TokenIssuer};

/// The default of `registration.bearer_scope`.
pub const DEFAULT_BEARER_SCOPE: &str = "registrar.configuration";

/// Who may register (`registration.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistrationMode {
    /// An initial access token (or, later, an authorized bearer token) is required.
    #[default]
    Protected,
    /// Anyone may register; client-only grants are then refused (see `validate::grant_types`).
    Open,
}

/// Upper bounds and defaults for the lifetime extensions, in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifetimeLimits {
    /// The `access_token_lifetime` a client gets when it asks for none.
    pub default_access_token: u64,
    /// The largest `access_token_lifetime` (`tokens.max_access_token_lifetime`).
    pub max_access_token: u64,
    /// The largest `identity_token_lifetime`.
    pub max_identity_token: u64,
    /// The largest `authorization_code_lifetime`.
    pub max_authorization_code: u64,
    /// The largest `absolute_refresh_token_lifetime`.
    pub max_absolute_refresh_token: u64,
    /// The largest `sliding_refresh_token_lifetime`.
    pub max_sliding_refresh_token: u64,
    /// The largest `consent_lifetime`.
    pub max_consent: u64,
    /// The `identity_token_lifetime` of a client that registered none.
    pub default_identity_token: u64,
    /// The `authorization_code_lifetime` of a client that registered none: 60 s, as codes are
    /// redeemed at once (RFC 6749 §4.1.2 recommends at most ten minutes).
    pub default_authorization_code: u64,
    /// The `absolute_refresh_token_lifetime` of a client that registered none.
    pub default_absolute_refresh_token: u64,
    /// The `sliding_refresh_token_lifetime` of a client that registered none.
    pub default_sliding_refresh_token: u64,
    /// The `consent_lifetime` of a client that registered none.
    pub default_consent: u64,
    /// How long a login session lasts.
    pub session: u64,
}

impl Default for LifetimeLimits {
    fn default() -> Self {
        Self {
            default_access_token: 3_600,
            max_access_token: 86_400,
            max_identity_token: 3_600,
            max_authorization_code: 600,
            max_absolute_refresh_token: 30 * 86_400,
            max_sliding_refresh_token: 30 * 86_400,
            max_consent: 365 * 86_400,
            default_identity_token: 300,
            default_authorization_code: 60,
            default_absolute_refresh_token: 30 * 86_400,
            default_sliding_refresh_token: 14 * 86_400,
            default_consent: 90 * 86_400,
            session: 8 * 3_600,
        }
    }
}

/// What audit events are kept (`audit.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSettings {
    /// How long events are kept, in seconds (`audit.retention`); the server's housekeeping
    /// purges older ones. 0 keeps them for ever.
    pub retention: u64,
    /// How many refusals are kept at most (`audit.max_refusals`): each refusal recorded drops
    /// the oldest beyond this many, so a flood of bad requests cannot fill the disk. 0 records
    /// refusals in the log only.
    pub max_refusals: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            retention: 90 * 24 * 60 * 60,
            max_refusals: 10_000,
        }
    }
}

/// The server's registration settings and capabilities.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer identifier; every endpoint URL is derived from it.
    pub issuer: Url,
    /// Who may register (`registration.mode`).
    pub mode: RegistrationMode,
    /// The scopes a client may register (`scopes`).
    pub scopes: Vec<String>,
    /// The grant types a client may register; discovery lists them.
    pub grant_types: Vec<GrantType>,
    /// The response types a client may register; discovery lists them.
    pub response_types: Vec<String>,
    /// The `token_endpoint_auth_method` values a client may register; discovery lists them.
    pub token_endpoint_auth_methods: Vec<AuthMethod>,
    /// Algorithms accepted for `private_key_jwt` client assertions.
    pub asymmetric_signing_algs: Vec<String>,
    /// The algorithm access tokens are signed with (`tokens.signing_alg`).
    pub token_signing_alg: SigningAlgorithm,
    /// Algorithms this server can sign ID tokens and userinfo responses with.
    pub id_token_signing_algs: Vec<String>,
    /// The `subject_type` values a client may register; discovery lists them.
    pub subject_types: Vec<String>,
    /// Lifetime of issued client secrets in seconds; 0 means they never expire.
    pub client_secret_lifetime: u64,
    /// How long a rotated registration access token stays valid; 0 means not at all.
    pub registration_token_grace: u64,
    /// How long, in seconds, a registration with an `Idempotency-Key` answers retries with the
    /// same key (`registration.idempotency_window`, default a day); 0 ignores the header.
    pub idempotency_window: u64,
    /// Bounds and defaults for the lifetime members a client may register.
    pub lifetimes: LifetimeLimits,
    /// The scope a bearer access token needs to register and manage clients
    /// (`registration.bearer_scope`); never in `scopes`, granted only under a policy that allows
    /// it.
    pub bearer_scope: String,
    /// The registration policies, built-in ones included.
    pub policies: Policies,
    /// How software statements are treated and whose are trusted (`software_statement.*`).
    pub software_statements: StatementSettings,
    /// External issuers whose access tokens may carry `bearer_scope`
    /// (`registration.trusted_token_issuers`).
    pub trusted_token_issuers: Vec<TokenIssuer>,
    /// The scope registered for a client that sends none (`default_scopes`, RFC 7591 §2); a
    /// subset of `scopes`, never `offline_access` or the bearer scope
    /// ([`Settings::check_default_scopes`]).
    pub default_scopes: Vec<String>,
    /// The RFC 8707 resource indicators tokens may be issued for (`resources`); `None` accepts
    /// any absolute https URI without a fragment, as MCP clients name servers the authorization
    /// server cannot know in advance.
    pub resources: Option<Vec<String>>,
    /// Origins allowed to call discovery, registration, token, revocation, userinfo and JWKS
    /// from a browser (`cors.allowed_origins`); `*` allows any.
    pub cors_allowed_origins: Vec<String>,
    /// `host:port` exceptions to the special-use host rules (`outbound.allow_hosts`): a
    /// registered URL may point at such a host, and the fetcher may connect to its special-use
    /// addresses. Empty by default; for development machines and test fixtures on loopback.
    pub outbound_allow_hosts: Vec<AllowedHost>,
    /// What audit events are kept.
    pub audit: AuditSettings,
    /// When unused and inactive clients expire (`lifecycle.*`); off by default.
    pub lifecycle: LifecycleSettings,
    /// Client ID Metadata Documents (`cimd.*`): https URLs as client ids.
    pub metadata_documents: MetadataDocumentSettings,
    /// The path under the issuer where the registration and token route groups are mounted,
    /// `""` or `/segments` without a trailing slash; see [`Settings::set_base_path`].
    base_path: String,
}

/// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): which URL
/// client ids are resolved, and how long a fetched document is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataDocumentSettings {
    /// Whether an https URL is accepted as a client id (`cimd.enabled`, on by default: MCP
    /// clients identify themselves this way rather than register).
    pub enabled: bool,
    /// Hosts whose documents are used (`cimd.allowed_hosts`, default `*`: any public https
    /// host, since MCP clients come from anywhere and the consent page names the host).
    pub allowed_hosts: Vec<HostPattern>,
    /// Hosts whose documents are never used, whatever `allowed_hosts` says (`cimd.denied_hosts`).
    pub denied_hosts: Vec<HostPattern>,
    /// The shortest time a fetched document is reused, in seconds, whatever its `Cache-Control`
    /// says: a `no-store` document must not make every authorization request a fetch.
    pub min_cache_seconds: u64,
    /// The longest, in seconds: a changed document is seen within this time.
    pub max_cache_seconds: u64,
    /// How many documents' freshness is remembered; beyond it the least recently used one is
    /// fetched again when next needed.
    pub max_cached_documents: usize,
}

impl Default for MetadataDocumentSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            allowed_hosts: vec![HostPattern::any()],
            denied_hosts: Vec::new(),
            min_cache_seconds: 5 * 60,
            max_cache_seconds: 24 * 60 * 60,
            max_cached_documents: 10_000,
        }
    }
}

impl MetadataDocumentSettings {
    /// Whether documents at `host` may be used: allowed and not denied.
    pub fn permits_host(&self, host: &str) -> bool {
        self.allowed_hosts
            .iter()
            .any(|pattern| pattern.matches(host))
            && !self
                .denied_hosts
                .iter()
                .any(|pattern| pattern.matches(host))
    }

    /// How long a document whose server sent `max_age` is reused, within the bounds.
    pub fn cache_seconds(&self, max_age: Option<u64>) -> u64 {
        let max = self.max_cache_seconds.max(self.min_cache_seconds);
        max_age
            .unwrap_or(self.min_cache_seconds)
            .clamp(self.min_cache_seconds, max)
    }
}

/// `registration.idempotency_window` unless configured: a day, as the idempotency key draft
/// suggests for the time a key is kept.
pub const DEFAULT_IDEMPOTENCY_WINDOW: u64 = 24 * 60 * 60;

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

impl Settings {
    /// The defaults of INTERFACE.md for the given issuer.
    pub fn new(issuer: Url) -> Self {
        Self {
            issuer,
            mode: RegistrationMode::Protected,
            scopes: strings(&["openid", "profile", "email", "offline_access"]),
            grant_types: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            response_types: strings(&["code"]),
            token_endpoint_auth_methods: vec![
                AuthMethod::ClientSecretBasic,
                AuthMethod::ClientSecretPost,
                AuthMethod::ClientSecretJwt,
                AuthMethod::PrivateKeyJwt,
                AuthMethod::None,
            ],
            asymmetric_signing_algs: strings(&ASYMMETRIC_ASSERTION_ALGS),
            token_signing_alg: SigningAlgorithm::Es256,
            id_token_signing_algs: strings(&["RS256", "ES256", "EdDSA"]),
            subject_types: strings(&["public"]),
            client_secret_lifetime: 0,
            registration_token_grace: 0,
            idempotency_window: DEFAULT_IDEMPOTENCY_WINDOW,
            lifetimes: LifetimeLimits::default(),
            bearer_scope: DEFAULT_BEARER_SCOPE.to_owned(),
            policies: Policies::default(),
            software_statements: StatementSettings::default(),
            trusted_token_issuers: Vec::new(),
            default_scopes: strings(&["openid"]),
            resources: None,
            cors_allowed_origins: Vec::new(),
            outbound_allow_hosts: Vec::new(),
            audit: AuditSettings::default(),
            lifecycle: LifecycleSettings::default(),
            metadata_documents: MetadataDocumentSettings::default(),
            base_path: String::new(),
        }
    }

    /// Mounts the registration and token route groups under `path` (such as `/registrar`):
    /// their routes, `registration_client_uri` and the endpoint URLs in discovery all follow.
    /// The discovery documents stay where RFC 8414 §3 and RFC 7033 put them.
    /// Refuses a path with a query, a fragment, `//`, dot segments or characters that need
    /// encoding.
    pub fn set_base_path(&mut self, path: &str) -> Result<(), String> {
        let trimmed = path.trim_end_matches('/');
        let well_formed = trimmed.is_empty()
            || (trimmed.starts_with('/')
                && trimmed[1..].split('/').all(|segment| {
                    !segment.is_empty()
                        && segment != "."
                        && segment != ".."
                        && crate::ids::is_unreserved(segment)
                }));
        if !well_formed {
            return Err(format!(
                "the base path {path:?} must be empty or /segments of unreserved characters"
            ));
        }
        self.base_path = trimmed.to_owned();
        Ok(())
    }

    /// Where the route groups are mounted: `""` or `/segments`.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The path of the issuer URL without a trailing slash (`""` for a host-root issuer), which
    /// RFC 8414 §3 inserts after `/.well-known/oauth-authorization-server`.
    pub fn issuer_path(&self) -> &str {
        self.issuer.path().trim_end_matches('/')
    }

    /// An endpoint URL: `{issuer}{base_path}/{path}` with exactly one slash between parts.
    pub fn endpoint(&self, path: &str) -> String {
        format!(
            "{}{}/{}",
            self.issuer.as_str().trim_end_matches('/'),
            self.base_path,
            path.trim_start_matches('/')
        )
    }

    /// RFC 7591 §3: where clients register.
    pub fn registration_endpoint(&self) -> String {
        self.endpoint("connect/dcr")
    }

    /// RFC 7592 §3: where a client manages its registration.
    pub fn registration_client_uri(&self, client_id: &crate::ClientId) -> String {
        // An issued id needs no encoding; a metadata document URL is one path segment encoded.
        if client_id.is_metadata_document() {
            let encoded: String =
                url::form_urlencoded::byte_serialize(client_id.as_str().as_bytes()).collect();
            return self.endpoint(&format!("connect/dcr/{encoded}"));
        }
        self.endpoint(&format!("connect/dcr/{client_id}"))
    }

    /// Where clients get access tokens (RFC 6749 §3.2).
    pub fn token_endpoint(&self) -> String {
        self.endpoint("connect/token")
    }

    /// Where access tokens are introspected (RFC 7662 §2).
    pub fn introspection_endpoint(&self) -> String {
        self.endpoint("connect/introspect")
    }

    /// Where end users authorize clients (RFC 6749 §3.1).
    pub fn authorization_endpoint(&self) -> String {
        self.endpoint("connect/authorize")
    }

    /// OpenID Connect Core §5.3.
    pub fn userinfo_endpoint(&self) -> String {
        self.endpoint("connect/userinfo")
    }

    /// RFC 7009.
    pub fn revocation_endpoint(&self) -> String {
        self.endpoint("connect/revoke")
    }

    /// OpenID Connect RP-Initiated Logout 1.0.
    pub fn end_session_endpoint(&self) -> String {
        self.endpoint("connect/logout")
    }

    /// Why `default_scopes` is unusable, if it is: every value must be in `scopes`, and neither
    /// `offline_access` (refresh tokens are asked for, never defaulted) nor the bearer scope
    /// (which only a policy grants) may be.
    pub fn check_default_scopes(&self) -> Result<(), String> {
        for scope in &self.default_scopes {
            if scope == "offline_access" || *scope == self.bearer_scope {
                return Err(format!("default_scopes may not contain {scope}"));
            }
            if !self.scopes.contains(scope) {
                return Err(format!("default_scopes: {scope} is not in scopes"));
            }
        }
        Ok(())
    }

    /// Whether `resource` may be named in an authorization or token request (RFC 8707 §2): on
    /// the configured list, or with no list, any [`is_resource_indicator`].
    pub fn accepts_resource(&self, resource: &str) -> bool {
        match &self.resources {
            Some(allowed) => allowed.iter().any(|allowed| allowed == resource),
            None => is_resource_indicator(resource),
        }
    }

    /// Where the server publishes the public keys its access tokens are signed with.
    pub fn jwks_uri(&self) -> String {
        self.endpoint(".well-known/jwks.json")
    }

    /// The issuer as it appears in tokens and discovery: without a trailing slash.
    pub fn issuer_id(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }

    /// The algorithms accepted in client assertions: the asymmetric ones for `private_key_jwt`,
    /// and HMAC ones when `client_secret_jwt` is offered. Discovery and the token endpoint both
    /// read this list.
    pub fn assertion_signing_algs(&self) -> Vec<String> {
        let mut algs = self.asymmetric_signing_algs.clone();
        if self.supports_auth_method(AuthMethod::ClientSecretJwt) {
            algs.extend(HMAC_ASSERTION_ALGS.iter().map(|alg| (*alg).to_owned()));
        }
        algs
    }

    /// Whether some trusted software statement issuer authorizes registrations on its own, so
    /// that protected mode reads the body of a request without a token.
    pub fn statements_authorize(&self) -> bool {
        self.software_statements.mode != StatementMode::Ignore
            && self
                .software_statements
                .issuers
                .iter()
                .any(|issuer| issuer.authorizes_registration)
    }

    /// Whether clients may register `token_endpoint_auth_method` `method`.
    pub fn supports_auth_method(&self, method: AuthMethod) -> bool {
        self.token_endpoint_auth_methods.contains(&method)
    }
}

/// An RFC 8707 §2 resource indicator Registrar accepts: an absolute URI with a host and without
/// a fragment, `https`, or `http` on a loopback host (`127.0.0.1`, `[::1]`, `localhost`), where
/// an MCP server in development listens (`http://localhost:3000/mcp`) and no certificate can be
/// had; a token naming it is good only on that machine.
pub fn is_resource_indicator(resource: &str) -> bool {
    let Ok(url) = Url::parse(resource) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(address)) => address == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(address)) => address == std::net::Ipv6Addr::LOCALHOST,
        None => return false,
    };
    url.fragment().is_none() && (url.scheme() == "https" || (url.scheme() == "http" && loopback))
}
