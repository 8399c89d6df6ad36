//! What is limited ([`LimitKind`]) and the refusal a limited caller gets ([`Limited`]).

use std::fmt;

/// One rate limit: what is counted, and per which key.
///
/// [`RateLimits::check`](super::RateLimits::check) suits the kinds that count every request;
/// [`failures_exceeded`](super::RateLimits::failures_exceeded) and
/// [`record_failure`](super::RateLimits::record_failure) suit the kinds that count failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Requests to `POST /connect/dcr`, per client IP address; counted with `check`.
    Registration,
    /// Registrations per initial access token id; counted with `check`.
    InitialToken,
    /// Failed registration access token presentations (RFC 7592), per source IP address;
    /// counted with `record_failure`.
    ManagementFailure,
    /// Failed client authentications at the token and introspection endpoints, per `client_id`;
    /// counted with `record_failure`.
    ClientAuthFailureByClient,
    /// Failed client authentications at the token and introspection endpoints, per source IP
    /// address; counted with `record_failure`.
    ClientAuthFailureBySource,
    /// Registrations per registration policy name; counted with `check`.
    PolicyRegistrations,
    /// Failed logins on the login page, per username (password guessing against one account);
    /// counted with `record_failure`.
    LoginFailureByUser,
    /// Failed logins on the login page, per source IP address (password spraying); counted with
    /// `record_failure`.
    LoginFailureBySource,
}

impl LimitKind {
    /// Every kind, in declaration order.
    pub const ALL: [LimitKind; 8] = [
        LimitKind::Registration,
        LimitKind::InitialToken,
        LimitKind::ManagementFailure,
        LimitKind::ClientAuthFailureByClient,
        LimitKind::ClientAuthFailureBySource,
        LimitKind::PolicyRegistrations,
        LimitKind::LoginFailureByUser,
        LimitKind::LoginFailureBySource,
    ];

    /// The kind's stable name: its configuration field and the middle of its Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Registration => "registration",
            LimitKind::InitialToken => "initial_token",
            LimitKind::ManagementFailure => "management_failure",
            LimitKind::ClientAuthFailureByClient => "client_auth_failure_by_client",
            LimitKind::ClientAuthFailureBySource => "client_auth_failure_by_source",
            LimitKind::PolicyRegistrations => "policy_registrations",
            LimitKind::LoginFailureByUser => "login_failure_by_user",
            LimitKind::LoginFailureBySource => "login_failure_by_source",
        }
    }

    /// What was too many, as the refusal says it.
    fn counted(self) -> &'static str {
        match self {
            LimitKind::Registration => "registration requests from this address",
            LimitKind::InitialToken => "registrations with this initial access token",
            LimitKind::ManagementFailure => {
                "failed registration access token presentations from this address"
            }
            LimitKind::ClientAuthFailureByClient => "failed authentications of this client",
            LimitKind::ClientAuthFailureBySource => {
                "failed client authentications from this address"
            }
            LimitKind::PolicyRegistrations => "registrations under this policy",
            LimitKind::LoginFailureByUser => "failed logins for this user",
            LimitKind::LoginFailureBySource => "failed logins from this address",
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A refusal: the key has used its quota for `kind`.
///
/// The HTTP layer answers 429 with `Retry-After: retry_after_seconds` (RFC 6585 §4).
/// The message uses only characters RFC 6749 §5.2 allows in `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// The limit that refused.
    pub kind: LimitKind,
    /// Whole seconds until the key may try again; at least 1.
    pub retry_after_seconds: u64,
}

impl fmt::Display for Limited {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.retry_after_seconds == 1 {
            "second"
        } else {
            "seconds"
        };
        write!(
            formatter,
            "too many {}; retry after {} {unit}",
            self.kind.counted(),
            self.retry_after_seconds
        )
    }
}

impl std::error::Error for Limited {}
