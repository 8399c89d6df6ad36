//! Registration policies: declarative limits on what a route of registration may register.
//!
//! This module holds the policies and how a route finds its own; `validate::policy` applies
//! one to a request.
//!
//! A route of registration is how a caller came to register ([`Route`]): open registration, an
//! initial access token, a bearer token with the registration scope, a trusted software
//! statement, or the host application. Each route resolves to one [`Policy`]
//! ([`Policies::resolve`]); the policy's name is stored with the client, so the same policy
//! governs its later updates and its use of introspection.
//!
//! Two built-in policies apply where none is configured: [`OPEN_POLICY`] for open registration,
//! restrictive (no `client_credentials`, no introspection, only [`OPEN_DEFAULT_SCOPES`]), and
//! [`DEFAULT_POLICY`] for every authenticated route, which adds nothing to the server's own
//! rules. A configured policy of either name replaces the built-in one.

mod host_pattern;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use host_pattern::HostPattern;

use crate::protocol::{ApplicationType, AuthMethod, GrantType};

/// The built-in policy of open registration.
pub const OPEN_POLICY: &str = "open";
/// The built-in policy of every authenticated route without a policy of its own.
pub const DEFAULT_POLICY: &str = "default";
/// The built-in policy of Client ID Metadata Documents, when no policy is bound to `cimd`.
pub const METADATA_DOCUMENT_POLICY: &str = "cimd";
/// The scopes open registration may obtain unless a policy says otherwise.
pub const OPEN_DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A route of registration a policy can be bound to (`bind` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// Anonymous callers in open mode.
    Open,
    /// Bearer access tokens carrying `registration.bearer_scope`.
    Bearer,
    /// Software statements: of any trusted issuer, of one issuer, or of one `software_id` of
    /// one issuer.
    SoftwareStatement {
        /// The statement's issuer; `None` for any trusted issuer.
        issuer: Option<String>,
        /// The statement's `software_id`; `None` for any.
        software_id: Option<String>,
    },
    /// Client ID Metadata Documents (`cimd`): URL client ids the server resolves.
    MetadataDocument,
}

impl Binding {
    /// How specific a statement binding is: a `software_id` beats an issuer beats any issuer.
    fn statement_rank(&self, issuer: &str, software_id: Option<&str>) -> Option<u8> {
        let Self::SoftwareStatement {
            issuer: bound_issuer,
            software_id: bound_software_id,
        } = self
        else {
            return None;
        };
        match (bound_issuer.as_deref(), bound_software_id.as_deref()) {
            (None, None) => Some(0),
            (Some(bound), None) if bound == issuer => Some(1),
            (Some(bound), Some(id)) if bound == issuer && Some(id) == software_id => Some(2),
            _ => None,
        }
    }
}

impl std::fmt::Display for Binding {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Open => formatter.write_str("open"),
            Self::Bearer => formatter.write_str("bearer"),
            Self::MetadataDocument => formatter.write_str("cimd"),
            Self::SoftwareStatement {
                issuer: None,
                software_id: None,
            } => formatter.write_str("software_statement"),
            Self::SoftwareStatement {
                issuer,
                software_id,
            } => {
                write!(
                    formatter,
                    "software_statement of {}",
                    issuer.as_deref().unwrap_or("any issuer")
                )?;
                if let Some(software_id) = software_id {
                    write!(formatter, " for software_id {software_id}")?;
                }
                Ok(())
            }
        }
    }
}

/// How a caller came to register, as the policy resolution sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// Anonymous, in open mode.
    Open,
    /// An initial access token, naming its policy or not.
    InitialToken {
        /// The policy the token was minted with (`initial-token create --policy`).
        policy: Option<&'a str>,
    },
    /// A bearer token with the registration scope.
    Bearer,
    /// A software statement alone, in protected mode: one statement usually ships with every
    /// copy of the software, so without a policy bound to its issuer it gets open
    /// registration's rules.
    SoftwareStatement,
    /// The host application's own authentication.
    Host,
    /// A Client ID Metadata Document the server fetched.
    MetadataDocument,
}

impl Route<'_> {
    /// `open`, `initial_token`, `bearer`, `software_statement` or `host`: the route's name in
    /// metrics, logs, audit events and provenance.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InitialToken { .. } => "initial_token",
            Self::Bearer => "bearer",
            Self::SoftwareStatement => "software_statement",
            Self::Host => "host",
            Self::MetadataDocument => "cimd",
        }
    }
}

/// A trusted software statement that came with the request, which can select a policy bound to
/// its issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementRoute<'a> {
    /// The statement's issuer.
    pub issuer: &'a str,
    /// Its `software_id` claim.
    pub software_id: Option<&'a str>,
}

/// One policy: limits on top of the server's own rules. `None` means "no limit beyond the
/// server's".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The name it is configured under (`policies.NAME`).
    pub name: String,
    /// The routes it governs.
    pub bind: Vec<Binding>,
    /// Whether the route may register at all; `false` answers `403`.
    pub allow_registration: bool,
    /// Grant types a client may register.
    pub grant_types: Option<Vec<GrantType>>,
    /// Scope values a client may register.
    pub scopes: Option<Vec<String>>,
    /// `token_endpoint_auth_method` values a client may register.
    pub auth_methods: Option<Vec<AuthMethod>>,
    /// Host patterns every redirect URI must match.
    pub redirect_uri_hosts: Option<Vec<HostPattern>>,
    /// Application types a client may register.
    pub application_types: Option<Vec<ApplicationType>>,
    /// Whether a client may register the `client_credentials` grant.
    pub allow_client_credentials: bool,
    /// Whether a client may register `registration.bearer_scope`, and so manage clients.
    pub allow_registration_scope: bool,
    /// Whether the client may introspect tokens (RFC 7662 §4).
    pub allow_introspection: bool,
    /// How many clients the policy may hold at once.
    pub max_clients: Option<u64>,
    /// The longest `access_token_lifetime` a client may register, in seconds.
    pub max_access_token_lifetime: Option<u64>,
    /// The longest refresh token lifetimes (absolute and sliding) a client may register.
    pub max_refresh_token_lifetime: Option<u64>,
    /// Whether a client of this policy must present a valid software statement on every update,
    /// as on registration. Set for policies bound to statements.
    pub requires_software_statement: bool,
}

impl Policy {
    /// A policy that adds no limit to the server's rules, bound to nothing.
    pub fn unrestricted(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            bind: Vec::new(),
            allow_registration: true,
            grant_types: None,
            scopes: None,
            auth_methods: None,
            redirect_uri_hosts: None,
            application_types: None,
            allow_client_credentials: true,
            allow_registration_scope: false,
            allow_introspection: true,
            max_clients: None,
            max_access_token_lifetime: None,
            max_refresh_token_lifetime: None,
            requires_software_statement: false,
        }
    }

    /// The built-in policy of open registration: anyone can register, so nothing that hands out
    /// tokens without a user (`client_credentials`), no introspection, and only the scopes of
    /// [`OPEN_DEFAULT_SCOPES`].
    pub fn open_default() -> Self {
        Self {
            bind: vec![Binding::Open],
            scopes: Some(OPEN_DEFAULT_SCOPES.map(str::to_owned).to_vec()),
            allow_client_credentials: false,
            allow_introspection: false,
            ..Self::unrestricted(OPEN_POLICY)
        }
    }

    /// The built-in policy of metadata documents: open registration's built-in limits, whatever
    /// the configured `open` policy allows, since a document is written by whoever controls a
    /// URL, in any registration mode.
    pub fn metadata_document_default() -> Self {
        Self {
            bind: vec![Binding::MetadataDocument],
            ..Self::open_default()
        }
        .named(METADATA_DOCUMENT_POLICY)
    }

    fn named(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// Whether a statement of `issuer` for `software_id` would select this policy: what an
    /// update of one of its clients must present.
    pub fn binds_statement(&self, issuer: &str, software_id: Option<&str>) -> bool {
        self.bind
            .iter()
            .any(|binding| binding.statement_rank(issuer, software_id).is_some())
    }

    /// Whether the policy governs statements, so updates must present one too.
    fn is_statement_bound(&self) -> bool {
        self.bind
            .iter()
            .any(|binding| matches!(binding, Binding::SoftwareStatement { .. }))
    }
}

/// Why a set of policies is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Two policies are bound to the same route.
    #[error("policies {first} and {second} are both bound to {binding}")]
    Conflict {
        /// The route.
        binding: String,
        /// One policy.
        first: String,
        /// The other.
        second: String,
    },
    /// A policy's name is empty or not made of `[A-Za-z0-9._-]`.
    #[error("the policy name {0:?} must be letters, digits, '.', '_' or '-'")]
    BadName(String),
    /// The built-in open policy cannot be bound elsewhere, nor another policy be named open
    /// without governing open registration.
    #[error("{0}")]
    Invalid(String),
}

/// Every policy by name, with the built-in ones filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies {
    by_name: BTreeMap<String, Arc<Policy>>,
}

impl Default for Policies {
    fn default() -> Self {
        let mut by_name = BTreeMap::new();
        for policy in [Policy::open_default(), Policy::unrestricted(DEFAULT_POLICY)] {
            by_name.insert(policy.name.clone(), Arc::new(policy));
        }
        Self { by_name }
    }
}

/// Whether `name` can name a policy: it appears in errors and on the command line.
pub fn is_policy_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

impl Policies {
    /// The configured policies on top of the built-in ones; refuses bad names and two policies
    /// bound to one route.
    pub fn new(configured: Vec<Policy>) -> Result<Self, PolicyError> {
        let mut policies = Self::default();
        for mut policy in configured {
            if !is_policy_name(&policy.name) {
                return Err(PolicyError::BadName(policy.name));
            }
            if policy.name == OPEN_POLICY && !policy.bind.contains(&Binding::Open) {
                policy.bind.push(Binding::Open);
            }
            if policy.is_statement_bound() {
                policy.requires_software_statement = true;
            }
            policies
                .by_name
                .insert(policy.name.clone(), Arc::new(policy));
        }
        // A configured policy bound to open replaces the built-in one as open's policy.
        let open_taken = policies
            .by_name
            .values()
            .any(|policy| policy.name != OPEN_POLICY && policy.bind.contains(&Binding::Open));
        if open_taken
            && let Some(open) = policies.by_name.get(OPEN_POLICY)
            && **open == Policy::open_default()
        {
            policies.by_name.remove(OPEN_POLICY);
        }
        policies.check_conflicts()?;
        Ok(policies)
    }

    fn check_conflicts(&self) -> Result<(), PolicyError> {
        let mut seen: Vec<(&Binding, &str)> = Vec::new();
        for policy in self.by_name.values() {
            for binding in &policy.bind {
                if let Some((_, first)) = seen.iter().find(|(bound, _)| *bound == binding) {
                    return Err(PolicyError::Conflict {
                        binding: binding.to_string(),
                        first: (*first).to_owned(),
                        second: policy.name.clone(),
                    });
                }
                seen.push((binding, &policy.name));
            }
        }
        Ok(())
    }

    /// The policy named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Policy>> {
        self.by_name.get(name)
    }

    /// Every policy, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Policy>> {
        self.by_name.values()
    }

    fn bound_to(&self, binding: &Binding) -> Option<&Arc<Policy>> {
        self.by_name
            .values()
            .find(|policy| policy.bind.contains(binding))
    }

    fn fallback(&self, name: &str) -> Arc<Policy> {
        self.by_name
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::new(Policy::unrestricted(name)))
    }

    /// The policy of a registration: the one an initial access token names or the one bound to
    /// bearer tokens, else the one bound to the statement's issuer (most specific first), else
    /// the one bound to open registration, else the built-in one (`open` for open registration
    /// and statements alone, `default` for the rest). `None` when a token names a policy that is no longer configured: such a
    /// token registers nothing rather than falling back to looser rules.
    pub fn resolve(
        &self,
        route: Route<'_>,
        statement: Option<StatementRoute<'_>>,
    ) -> Option<Arc<Policy>> {
        if let Route::InitialToken { policy: Some(name) } = route {
            return self.by_name.get(name).cloned();
        }
        // A bearer token's own policy too: a statement attached to the request cannot lift it.
        if route == Route::Bearer
            && let Some(policy) = self.bound_to(&Binding::Bearer)
        {
            return Some(policy.clone());
        }
        if let Some(statement) = statement {
            let bound = self
                .by_name
                .values()
                .filter_map(|policy| {
                    let rank = policy
                        .bind
                        .iter()
                        .filter_map(|binding| {
                            binding.statement_rank(statement.issuer, statement.software_id)
                        })
                        .max()?;
                    Some((rank, policy))
                })
                .max_by_key(|(rank, _)| *rank);
            if let Some((_, policy)) = bound {
                return Some(policy.clone());
            }
        }
        Some(match route {
            Route::Open | Route::SoftwareStatement => self.open_policy(),
            Route::Bearer => self
                .bound_to(&Binding::Bearer)
                .cloned()
                .unwrap_or_else(|| self.fallback(DEFAULT_POLICY)),
            Route::InitialToken { .. } | Route::Host => self.fallback(DEFAULT_POLICY),
            Route::MetadataDocument => self.metadata_document_policy(),
        })
    }

    /// The policy a stored client was registered under: its name as stored, or for a client
    /// registered before policies existed, the built-in one of its route. A name no longer
    /// configured falls back the same way, never to looser rules than open registration's.
    pub fn for_client(&self, name: Option<&str>, registered_anonymously: bool) -> Arc<Policy> {
        if let Some(policy) = name.and_then(|name| self.by_name.get(name)) {
            return policy.clone();
        }
        if name == Some(METADATA_DOCUMENT_POLICY) {
            return Arc::new(Policy::metadata_document_default());
        }
        // A client whose policy was removed gets open's rules: the safe side.
        if name.is_none() && !registered_anonymously {
            return self.fallback(DEFAULT_POLICY);
        }
        self.open_policy()
    }

    /// The policy of metadata documents: the one bound to `cimd`, else the built-in one, never
    /// the configured `open` policy.
    pub fn metadata_document_policy(&self) -> Arc<Policy> {
        self.bound_to(&Binding::MetadataDocument)
            .cloned()
            .unwrap_or_else(|| Arc::new(Policy::metadata_document_default()))
    }

    /// The policy of open registration: the one bound to it, else the built-in one.
    fn open_policy(&self) -> Arc<Policy> {
        self.bound_to(&Binding::Open)
            .cloned()
            .unwrap_or_else(|| Arc::new(Policy::open_default()))
    }
}
