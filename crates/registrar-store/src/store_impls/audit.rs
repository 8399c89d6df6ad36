//! `EventStore` and `RecordedClientStore`, written once and implemented for each backend by
//! `impl_audit_traits!`, which `impl_store_traits!` calls.
//!
//! A change's event is written by `record_in` inside the change's own transaction
//! (`apply_with` in `store_impls`), so the commit that makes the change durable makes its event
//! durable too, and costs no second one. A refusal is inserted with the deletion of the oldest
//! refusals beyond the bound, in one transaction.

/// Implements `EventStore` and `RecordedClientStore` for `$store` on the sqlx database
/// `$database`, mapping every sqlx error with `$store_error`; what the store must provide is
/// listed at `impl_store_traits!`.
macro_rules! impl_audit_traits {
    ($store:ident, $database:ty, $store_error:path) => {
        // An unnamed constant scopes these imports, so that they clash with none of the backend's.
        const _: () = {
            use async_trait::async_trait;
            use registrar_core::audit::{
                Action, AuditEvent, EventFilter, EventStore, Outcome, Provenance,
            };
            use registrar_core::error::StoreError;
            use registrar_core::ids::ClientId;
            use registrar_core::store::{ClientChange, RecordedClientStore};

            use $crate::prepared::{PreparedChange, PreparedWrite};
            use $crate::queries::audit;
            use $crate::rows::{EventRow, ProvenanceRow};

            impl $store {
                /// Writes `event` within `transaction`: a registration's with the client's
                /// provenance, a delete's without it.
                async fn record_in(
                    connection: &mut <$database as sqlx::Database>::Connection,
                    event: &AuditEvent,
                ) -> Result<(), StoreError> {
                    audit::insert_event(EventRow::from_event(event)?)
                        .execute(&mut *connection)
                        .await
                        .map_err($store_error)?;
                    let (Outcome::Success, Some(client_id)) = (event.outcome, &event.client_id)
                    else {
                        return Ok(());
                    };
                    let statement = match event.action {
                        Action::Register => {
                            audit::upsert_provenance(ProvenanceRow::from_event(client_id, event))
                        }
                        Action::Delete | Action::Expire => {
                            audit::delete_provenance(client_id.clone())
                        }
                        Action::DryRun
                        | Action::Read
                        | Action::Update
                        | Action::Block
                        | Action::Unblock => return Ok(()),
                    };
                    statement
                        .execute(&mut *connection)
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }
            }

            #[async_trait]
            impl EventStore for $store {
                async fn record_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
                    let write = PreparedWrite {
                        change: PreparedChange::EventOnly,
                        event: Some(event.clone()),
                    };
                    self.commit_write(write).await.map(|_| ())
                }

                async fn record_refusal(
                    &self,
                    event: &AuditEvent,
                    keep: u64,
                ) -> Result<(), StoreError> {
                    if keep == 0 {
                        return Ok(());
                    }
                    let change = PreparedChange::Refusal {
                        row: EventRow::from_event(event)?,
                        keep: i64::try_from(keep).unwrap_or(i64::MAX),
                    };
                    self.commit_write(PreparedWrite::of(change))
                        .await
                        .map(|_| ())
                }

                async fn list_events(
                    &self,
                    filter: &EventFilter,
                ) -> Result<Vec<AuditEvent>, StoreError> {
                    let since = filter.since.unwrap_or(i64::MIN);
                    let limit = i64::from(filter.limit);
                    let rows = match &filter.client_id {
                        Some(client_id) => {
                            audit::list_client_events(client_id.as_str().to_owned(), since, limit)
                                .fetch_all(self.reader())
                                .await
                        }
                        None => {
                            audit::list_events(since, limit)
                                .fetch_all(self.reader())
                                .await
                        }
                    }
                    .map_err($store_error)?;
                    rows.into_iter().map(EventRow::into_event).collect()
                }

                async fn purge_events(&self, before: i64) -> Result<u64, StoreError> {
                    let purged = audit::purge_events(before)
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(purged.rows_affected())
                }

                async fn client_provenance(
                    &self,
                    client_id: &ClientId,
                ) -> Result<Option<Provenance>, StoreError> {
                    let row = audit::get_provenance(client_id.as_str().to_owned())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?;
                    Ok(row.map(ProvenanceRow::into_provenance))
                }
            }

            #[async_trait]
            impl RecordedClientStore for $store {
                async fn apply_recorded(
                    &self,
                    change: ClientChange<'_>,
                    event: &AuditEvent,
                ) -> Result<bool, StoreError> {
                    self.apply_with(change, Some(event)).await
                }
            }
        };
    };
}

pub(crate) use impl_audit_traits;
