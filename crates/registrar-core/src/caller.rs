//! `Caller`: who is registering or managing a client, decided before any metadata is read.

use crate::ids::ClientId;
use crate::secrets::TokenHash;

/// Who is calling, as established before the body is read.
///
/// New protections add variants (bearer tokens issued by trusted issuers, for instance), so
/// matches outside this crate need a wildcard arm.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Caller {
    /// No credential, in open mode.
    Anonymous,
    /// A holder of a usable initial access token.
    InitialAccessToken {
        /// The token's public handle (`registrar initial-token list`), never the token.
        id: String,
        /// The token's hash, with which the store takes one use on registration.
        token_hash: TokenHash,
        /// The policy the token was minted with; `None` for the default policy.
        policy: Option<String>,
    },
    /// A registered client managing itself with its registration access token (RFC 7592).
    Client {
        /// The client the token belongs to.
        client_id: ClientId,
        /// The hash of the registration access token presented; an update rotates the token
        /// only while this is still the current one.
        token_hash: TokenHash,
        /// Whether the client was registered without an initial access token; the rules of
        /// open registration then apply to its updates too.
        registered_anonymously: bool,
    },
    /// A caller authenticated by the application Registrar is mounted in (its own session,
    /// API key or bearer token layer).
    Principal(Principal),
    /// The holder of a bearer access token carrying `registration.bearer_scope`, issued by this
    /// server or a trusted issuer: it may register, and as an administrator read, update and
    /// delete any client.
    Bearer(Principal),
    /// In protected mode, no token but a software statement whose trusted issuer authorizes
    /// registrations on its own (`authorizes_registration`); the pipeline makes this caller
    /// once the statement step accepted the statement.
    SoftwareStatement {
        /// The statement's issuer.
        issuer: String,
        /// Its `software_id` claim.
        software_id: Option<String>,
    },
    /// No caller at all: the server resolving a Client ID Metadata Document it fetched from
    /// `url`, the client's id. Anonymous: whoever controls the URL wrote the document.
    MetadataDocument {
        /// The document's URL.
        url: String,
    },
}

/// An authenticated subject that is not a registered client managing itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who it is, in the authenticator's terms (a user name, a service account, a `sub`).
    pub subject: String,
    /// The scopes or roles it was granted.
    pub scopes: Vec<String>,
    /// Who vouched for it: a token issuer, or `None` for the host application itself.
    pub issuer: Option<String>,
}

impl Principal {
    /// A principal the host application authenticated, with no scopes.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            scopes: Vec::new(),
            issuer: None,
        }
    }

    /// Whether the principal was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }
}

impl Caller {
    /// Whether the caller proved nothing about itself; rules for open registration apply, on
    /// update as on create.
    pub fn is_anonymous(&self) -> bool {
        match self {
            Self::Anonymous | Self::MetadataDocument { .. } => true,
            Self::InitialAccessToken { .. }
            | Self::Principal(_)
            | Self::Bearer(_)
            | Self::SoftwareStatement { .. } => false,
            Self::Client {
                registered_anonymously,
                ..
            } => *registered_anonymously,
        }
    }

    /// The id of the initial access token the caller presented, for provenance.
    pub fn initial_token_id(&self) -> Option<&str> {
        match self {
            Self::InitialAccessToken { id, .. } => Some(id),
            Self::Anonymous
            | Self::Client { .. }
            | Self::Principal(_)
            | Self::Bearer(_)
            | Self::SoftwareStatement { .. }
            | Self::MetadataDocument { .. } => None,
        }
    }

    /// Whether the caller manages clients as an administrator (a bearer token with the
    /// registration scope), not as the client itself.
    pub fn is_administrator(&self) -> bool {
        matches!(self, Self::Bearer(_))
    }
}
