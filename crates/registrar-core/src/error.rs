//! The errors of the registration boundary, named by their RFC 7591/7592/6750 codes.

/// Everything registration, read, update and delete can fail with.
///
/// `registrar-server` maps each variant to its HTTP response in one exhaustive `match`.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// RFC 7591 §3.2.2.
    #[error("{0}")]
    InvalidRedirectUri(String),
    /// RFC 7591 §3.2.2.
    #[error("{0}")]
    InvalidClientMetadata(String),
    /// RFC 7591 §3.2.2.
    #[error("{0}")]
    InvalidSoftwareStatement(String),
    /// RFC 7591 §3.2.2.
    #[error("{0}")]
    UnapprovedSoftwareStatement(String),
    /// RFC 6750 §3.1; also an unknown client at the management endpoint (RFC 7592 §2).
    /// The description is the same in every case so that it reveals nothing.
    #[error("the access token is missing, invalid, expired or used up")]
    InvalidToken,
    /// RFC 6750 §3.1: a valid bearer token without the scope registration needs; `403`.
    #[error("the access token lacks the scope {scope}")]
    InsufficientScope {
        /// The scope the request needs (`registration.bearer_scope`).
        scope: String,
    },
    /// The caller is known but may not do this (a policy forbids the route, or its cap is
    /// reached); `403 access_denied`.
    #[error("{0}")]
    AccessDenied(String),
    /// A limit of the deployment applies for now (RFC 6585 §4: `429` with `Retry-After`).
    #[error("{description}")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after: u64,
        /// What was limited.
        description: String,
    },
    /// An `Idempotency-Key` that cannot be honoured; `invalid_request`, with the status its
    /// kind says.
    #[error("{0}")]
    IdempotencyKey(IdempotencyError),
    /// A failure of the store; logged, never echoed to the caller.
    #[error("store failure: {0}")]
    Store(#[from] StoreError),
}

/// Why a registration's `Idempotency-Key` was refused (draft-ietf-httpapi-idempotency-key-header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    /// The key is malformed, or too short to be unguessable for an anonymous caller; `400`.
    #[error("{0}")]
    Malformed(String),
    /// Another request with the key is being processed, or stored its client a moment ago;
    /// `409`: a retry gets its answer.
    #[error("another request with this Idempotency-Key is being processed; retry it later")]
    InProgress,
    /// The key was used with another body, or its client changed or went since; `422`: a retry
    /// with this key can never succeed.
    #[error("{0}")]
    Reused(String),
}

impl RegistrationError {
    /// The RFC error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRedirectUri(_) => "invalid_redirect_uri",
            Self::InvalidClientMetadata(_) => "invalid_client_metadata",
            Self::InvalidSoftwareStatement(_) => "invalid_software_statement",
            Self::UnapprovedSoftwareStatement(_) => "unapproved_software_statement",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::AccessDenied(_) => "access_denied",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::IdempotencyKey(_) => "invalid_request",
            Self::Store(_) => "server_error",
        }
    }

    pub(crate) fn metadata(description: impl Into<String>) -> Self {
        Self::InvalidClientMetadata(description.into())
    }

    pub(crate) fn redirect(description: impl Into<String>) -> Self {
        Self::InvalidRedirectUri(description.into())
    }
}

/// A failure of a store backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was violated; the name says which.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// The policy's `max_clients` is reached; raised inside the insert transaction, so the count
    /// and the insert are one atomic step.
    #[error("the policy holds its maximum number of clients")]
    PolicyFull,
    /// The initial access token could not be consumed: unknown, expired, revoked or used up.
    /// Raised inside the insert transaction, so the check and the use are one atomic step.
    #[error("the initial access token is no longer usable")]
    InitialTokenRejected,
    /// The backend cannot be reached or is out of connections.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else the backend reported.
    #[error("{0}")]
    Backend(String),
}

/// Why a [`crate::Pipeline`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// No server secret was given.
    #[error("a server secret is required: it keys every credential hash")]
    MissingServerSecret,
    /// The server secret is too short to key the credential hashes safely.
    #[error("the server secret must be at least {minimum} bytes, not {actual}")]
    ShortServerSecret {
        /// The shortest accepted.
        minimum: usize,
        /// The length given.
        actual: usize,
    },
}
