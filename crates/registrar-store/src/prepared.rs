//! A client change (or another write of the SQLite writer's: a use, a refusal) and its audit
//! event as owned rows, ready to run on any connection: what
//! `apply_with` hands to the backend, which runs it in a transaction of its own (PostgreSQL) or
//! in the SQLite writer's next group commit (`group_commit`), on another task than the request's.

use registrar_core::audit::AuditEvent;
use registrar_core::error::StoreError;
use registrar_core::lifecycle::ExpiryCutoffs;
use registrar_core::store::ClientChange;

use crate::queries::Replacement;
use crate::rows::{ClientRow, EventRow, IdempotencyRow};

/// [`ClientChange`] with every row built and nothing borrowed.
#[derive(Debug)]
pub(crate) enum PreparedChange {
    Insert {
        row: ClientRow,
        /// The policy whose lock the insert takes, and its cap.
        cap: Option<(String, u64)>,
        /// The hex hash of the initial access token to take a use of.
        initial_token: Option<String>,
        now: i64,
        idempotency: Option<IdempotencyRow>,
    },
    Replace(Replacement),
    ReplaceKeepingToken(ClientRow),
    Delete(String),
    DeleteExpired {
        client_id: String,
        cutoffs: ExpiryCutoffs,
    },
    SetBlocked {
        client_id: String,
        blocked_at: Option<i64>,
    },
    /// A use of the client (`ClientStore::record_client_use`); always applies.
    RecordUse {
        client_id: String,
        now: i64,
    },
    /// A refusal's event with the pruning of refusals past `keep`; always applies.
    Refusal {
        row: EventRow,
        keep: i64,
    },
    /// Nothing but the write's event (`EventStore::record_event`).
    EventOnly,
}

impl PreparedChange {
    pub(crate) fn from_change(change: ClientChange<'_>) -> Result<Self, StoreError> {
        Ok(match change {
            ClientChange::Insert {
                client,
                initial_token,
                now,
                max_clients,
                idempotency,
            } => Self::Insert {
                row: ClientRow::from_client(client)?,
                cap: client.policy.clone().zip(max_clients),
                initial_token: initial_token.map(|hash| hash.to_hex()),
                now,
                idempotency: idempotency.map(IdempotencyRow::from_record),
            },
            ClientChange::Replace {
                client,
                check,
                previous_valid_until,
            } => Self::Replace(Replacement {
                row: ClientRow::from_client(client)?,
                presented: check.presented.to_hex(),
                now: check.now,
                previous_valid_until,
            }),
            ClientChange::ReplaceKeepingToken { client } => {
                Self::ReplaceKeepingToken(ClientRow::from_client(client)?)
            }
            ClientChange::Delete { client_id } => Self::Delete(client_id.as_str().to_owned()),
            ClientChange::DeleteExpired { client_id, cutoffs } => Self::DeleteExpired {
                client_id: client_id.as_str().to_owned(),
                cutoffs: *cutoffs,
            },
            ClientChange::SetBlocked {
                client_id,
                blocked_at,
            } => Self::SetBlocked {
                client_id: client_id.as_str().to_owned(),
                blocked_at,
            },
        })
    }
}

/// A change with the audit event that commits with it when it applies.
#[derive(Debug)]
pub(crate) struct PreparedWrite {
    pub(crate) change: PreparedChange,
    pub(crate) event: Option<AuditEvent>,
}

impl PreparedWrite {
    /// A write of this crate's own that no [`ClientChange`] names.
    pub(crate) fn of(change: PreparedChange) -> Self {
        Self {
            change,
            event: None,
        }
    }

    pub(crate) fn new(
        change: ClientChange<'_>,
        event: Option<&AuditEvent>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            change: PreparedChange::from_change(change)?,
            event: event.cloned(),
        })
    }
}
