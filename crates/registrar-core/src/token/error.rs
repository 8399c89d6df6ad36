//! The errors of the token boundary, named by their RFC 6749 §5.2 codes.

use super::keys::KeyError;
use crate::error::StoreError;

/// Everything the token and introspection endpoints can fail with.
///
/// `registrar-server` maps each variant to its HTTP response in one exhaustive `match`. No message
/// carries a credential or key material.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// RFC 6749 §5.2: a missing or repeated parameter, or an otherwise malformed request.
    #[error("{0}")]
    InvalidRequest(String),
    /// RFC 6749 §5.2: client authentication failed. `401` with `WWW-Authenticate` when the client
    /// authenticated with the `Authorization` header (`used_http_auth`), `400` otherwise.
    #[error("{description}")]
    InvalidClient {
        /// The message for `error_description`.
        description: String,
        /// Whether the client authenticated with the `Authorization` header.
        used_http_auth: bool,
    },
    /// RFC 6749 §5.2.
    #[error("{0}")]
    InvalidGrant(String),
    /// RFC 6749 §5.2: the client may not use this grant type.
    #[error("{0}")]
    UnauthorizedClient(String),
    /// RFC 6749 §5.2.
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// RFC 6749 §5.2: a scope outside the client's registered scope.
    #[error("{0}")]
    InvalidScope(String),
    /// RFC 8707 §2: a `resource` the server does not issue tokens for.
    #[error("{0}")]
    InvalidTarget(String),
    /// RFC 7009 §2.2.1: a `token_type_hint` of a type this server cannot revoke.
    #[error("{0}")]
    UnsupportedTokenType(String),
    /// The server cannot serve the request right now (RFC 6749 §4.1.2.1's code, used here too).
    #[error("the server is temporarily unable to handle the request")]
    TemporarilyUnavailable,
    /// A signing key problem; logged, never echoed to the caller.
    #[error("signing key failure: {0}")]
    Key(#[from] KeyError),
    /// A failure of the store; logged, never echoed to the caller.
    #[error("store failure: {0}")]
    Store(#[from] StoreError),
}

impl TokenError {
    /// The RFC error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidTarget(_) => "invalid_target",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Key(_) | Self::Store(_) => "server_error",
        }
    }

    /// `invalid_client` for a client that authenticated in the request body or with an assertion.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::InvalidClient {
            description: description.into(),
            used_http_auth: false,
        }
    }

    /// `invalid_client` for a client that authenticated with HTTP Basic.
    pub fn invalid_client_http(description: impl Into<String>) -> Self {
        Self::InvalidClient {
            description: description.into(),
            used_http_auth: true,
        }
    }
}
