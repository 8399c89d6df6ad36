//! `RecordedClientStore`: a client change and its audit event as one atomic step.

use async_trait::async_trait;

use super::{ClientStore, IdempotencyRecord, RegisteredClient, TokenCheck};
use crate::audit::{AuditEvent, EventStore};
use crate::error::StoreError;
use crate::ids::ClientId;
use crate::lifecycle::ExpiryCutoffs;
use crate::secrets::TokenHash;

/// A write of [`ClientStore`], named so that it can travel with its event.
#[derive(Debug, Clone, Copy)]
pub enum ClientChange<'a> {
    /// [`ClientStore::insert_client`], or [`ClientStore::insert_client_within`] with
    /// `max_clients`.
    Insert {
        /// The client to insert.
        client: &'a RegisteredClient,
        /// The initial access token to take one use of in the same transaction.
        initial_token: Option<&'a TokenHash>,
        /// The time of the request.
        now: i64,
        /// The policy's cap, if it has one.
        max_clients: Option<u64>,
        /// The request's `Idempotency-Key` record, inserted first in the same transaction: a
        /// live record with the same key inserts nothing (`StoreError::Duplicate`).
        idempotency: Option<&'a IdempotencyRecord>,
    },
    /// [`ClientStore::replace_client`].
    Replace {
        /// The replacement, with the new registration access token's hash.
        client: &'a RegisteredClient,
        /// The token the caller presented.
        check: TokenCheck<'a>,
        /// Until when the replaced token stays valid.
        previous_valid_until: i64,
    },
    /// [`ClientStore::replace_client_keeping_token`].
    ReplaceKeepingToken {
        /// The replacement.
        client: &'a RegisteredClient,
    },
    /// [`ClientStore::delete_client`].
    Delete {
        /// The client to delete.
        client_id: &'a ClientId,
    },
    /// [`ClientStore::delete_expired_client`]: the housekeeping's delete of an expired client.
    DeleteExpired {
        /// The client to delete.
        client_id: &'a ClientId,
        /// The cut-offs it must still have expired by.
        cutoffs: &'a ExpiryCutoffs,
    },
    /// [`ClientStore::set_client_blocked`].
    SetBlocked {
        /// The client to block or unblock.
        client_id: &'a ClientId,
        /// When it was blocked; `None` unblocks it.
        blocked_at: Option<i64>,
    },
}

/// Applies `change` through the plain [`ClientStore`] method it names; returns whether it
/// applied (an insert that fails is an error, never `false`). A plain client store keeps no
/// idempotency records: `Stores::apply_recorded` sends an insert with one to the
/// [`IdempotencyStore`](super::IdempotencyStore) instead.
pub async fn apply_change<C: ClientStore + ?Sized>(
    clients: &C,
    change: ClientChange<'_>,
) -> Result<bool, StoreError> {
    match change {
        ClientChange::Insert {
            client,
            initial_token,
            now,
            max_clients: Some(max),
            ..
        } => clients
            .insert_client_within(client, initial_token, now, max)
            .await
            .map(|()| true),
        ClientChange::Insert {
            client,
            initial_token,
            now,
            max_clients: None,
            ..
        } => clients
            .insert_client(client, initial_token, now)
            .await
            .map(|()| true),
        ClientChange::Replace {
            client,
            check,
            previous_valid_until,
        } => {
            clients
                .replace_client(client, check, previous_valid_until)
                .await
        }
        ClientChange::ReplaceKeepingToken { client } => {
            clients.replace_client_keeping_token(client).await
        }
        ClientChange::Delete { client_id } => clients.delete_client(client_id).await,
        ClientChange::DeleteExpired { client_id, cutoffs } => {
            clients.delete_expired_client(client_id, cutoffs).await
        }
        ClientChange::SetBlocked {
            client_id,
            blocked_at,
        } => clients.set_client_blocked(client_id, blocked_at).await,
    }
}

/// A backend that holds clients and events, and records a change's event in the change's own
/// transaction: a committed change never lacks its event, and costs no second commit.
#[async_trait]
pub trait RecordedClientStore: ClientStore + EventStore {
    /// Applies `change` and records `event` as one atomic step: both or neither. Returns
    /// whether the change applied; when it did not (`false`, or an error), nothing is
    /// recorded. The default applies, then records: a crash in between loses the event.
    async fn apply_recorded(
        &self,
        change: ClientChange<'_>,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let applied = apply_change(self, change).await?;
        if applied {
            self.record_event(event).await?;
        }
        Ok(applied)
    }
}
