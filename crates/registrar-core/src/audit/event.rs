//! `AuditEvent` and its parts, as stored, logged and listed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// RFC 7591 registration.
    Register,
    /// `?dry_run=true`: validated, nothing stored; logged only.
    DryRun,
    /// RFC 7592 read; logged only.
    Read,
    /// RFC 7592 update.
    Update,
    /// RFC 7592 delete, or `registrar clients delete`.
    Delete,
    /// The housekeeping's delete of a client that outlived a `lifecycle.*` TTL (the route names
    /// the setting).
    Expire,
    /// `registrar clients block`.
    Block,
    /// `registrar clients unblock`.
    Unblock,
}

impl Action {
    /// The name stored and logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::DryRun => "dry_run",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Expire => "expire",
            Self::Block => "block",
            Self::Unblock => "unblock",
        }
    }

    /// The action of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Register,
            Self::DryRun,
            Self::Read,
            Self::Update,
            Self::Delete,
            Self::Expire,
            Self::Block,
            Self::Unblock,
        ]
        .into_iter()
        .find(|action| action.as_str() == name)
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done as asked.
    Success,
    /// Answered with an error of the request or the caller (`4xx`).
    Refused,
    /// Answered `server_error`: the store failed.
    Failed,
}

impl Outcome {
    /// The name stored and logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }

    /// The outcome of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Success, Self::Refused, Self::Failed]
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
    }
}

/// One member an update added (`old` is `None`), removed (`new` is `None`) or changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataChange {
    /// The metadata or extension member's name.
    pub member: String,
    /// Its value before the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// Its value after the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// One audit event. Text that came from the caller (the user agent, a client id in the path) is
/// clipped to [`clip`]'s bound, so that a stored event has a bounded size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The store's sequence number; `None` until stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// When the request was handled, in seconds since the epoch (the pipeline's clock).
    pub time: i64,
    /// What was asked.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
    /// The client concerned: the one registered, or the one named by a management request.
    pub client_id: Option<String>,
    /// How the caller came: for a registration its route (`open`, `initial_token`, `bearer`,
    /// `software_statement`, `host`); for management `registration_access_token` or `bearer`
    /// (an administrator); `cli` for the command line.
    pub route: Option<String>,
    /// The public handle of the credential presented: an initial access token's id, a bearer
    /// token's or host principal's subject, a software statement's `software_id`. Never the
    /// token.
    pub credential_id: Option<String>,
    /// Who vouched for the credential: a bearer token's or software statement's issuer.
    pub credential_issuer: Option<String>,
    /// The client's `software_id` metadata, if any.
    pub software_id: Option<String>,
    /// The source address (the peer, or the trusted proxy header's).
    pub source_ip: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The RFC error code a refusal was answered with.
    pub error: Option<String>,
    /// For an update, the members it added, removed or changed, in name order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<MetadataChange>,
}

/// How a client was registered, kept for as long as the client is: from its registration's
/// event, which the retention of events may purge long before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// When it was registered, in seconds since the epoch.
    pub registered_at: i64,
    /// The route of registration ([`AuditEvent::route`]).
    pub route: Option<String>,
    /// The credential's public handle ([`AuditEvent::credential_id`]).
    pub credential_id: Option<String>,
    /// The credential's issuer ([`AuditEvent::credential_issuer`]).
    pub credential_issuer: Option<String>,
    /// The `software_id` registered.
    pub software_id: Option<String>,
    /// The source address of the registration.
    pub source_ip: Option<String>,
    /// The user agent of the registration.
    pub user_agent: Option<String>,
}

impl Provenance {
    /// The provenance a registration's event records.
    pub fn of(event: &AuditEvent) -> Self {
        Self {
            registered_at: event.time,
            route: event.route.clone(),
            credential_id: event.credential_id.clone(),
            credential_issuer: event.credential_issuer.clone(),
            software_id: event.software_id.clone(),
            source_ip: event.source_ip.clone(),
            user_agent: event.user_agent.clone(),
        }
    }
}

/// The most characters kept of text a caller chose (a user agent, a subject, an id).
pub const MAX_TEXT_CHARS: usize = 256;

/// `text` cut to [`MAX_TEXT_CHARS`] characters.
pub fn clip(text: &str) -> String {
    text.chars().take(MAX_TEXT_CHARS).collect()
}
