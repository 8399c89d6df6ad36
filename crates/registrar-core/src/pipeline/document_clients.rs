//! `Pipeline::usable_client`: a client id of either kind resolved to a client that may be used
//! now. A Client ID Metadata Document URL is fetched when its document is not fresh, checked by
//! the document rules and the validator steps under the `cimd` route, and stored as its client.

use serde_json::{Map, Value};
use url::Url;

use super::{Audited, Pipeline};
use crate::caller::Caller;
use crate::cimd::{UnusableClient, description_safe, document_rules};
use crate::context::{Operation, RegistrationContext, RequestSource};
use crate::error::{RegistrationError, StoreError};
use crate::ids::ClientId;
use crate::net::{DocumentError, is_forbidden_target};
use crate::store::RegisteredClient;
use crate::{persist, process};

fn document(reason: impl Into<String>) -> UnusableClient {
    UnusableClient::Document(description_safe(&reason.into()))
}

impl Pipeline {
    /// The client with that id if it may be used now, or why not. An issued id is read from the
    /// store ([`crate::Services::usable_client`]); a metadata document URL (with `cimd.enabled`)
    /// is resolved from its stored client while its document is fresh, else by fetching the
    /// document (one fetch per URL at a time), which must pass the document rules, the
    /// validator steps and the route's policy before its client is stored; a fetch that fails
    /// or a document that is refused is never cached. A blocked or expired client is refused as
    /// an unknown one, without fetching.
    pub async fn usable_client(
        &self,
        client_id: &ClientId,
    ) -> Result<RegisteredClient, UnusableClient> {
        if !client_id.is_metadata_document() {
            return self
                .services
                .usable_client(client_id)
                .await?
                .ok_or(UnusableClient::Unknown);
        }
        if !self.settings().metadata_documents.enabled {
            tracing::debug!(%client_id, "metadata document clients are disabled");
            return Err(UnusableClient::Unknown);
        }
        let url = client_id.as_str();
        self.check_document_url(url)?;
        if let Some(client) = self.fresh_document_client(client_id).await? {
            return Ok(client);
        }
        let turn = self.documents.fetch_turn(url);
        let _fetching = turn.lock.lock().await;
        // Another request may have fetched it while this one waited: its answer is this one's.
        if let Some(client) = self.fresh_document_client(client_id).await? {
            return Ok(client);
        }
        if let Some(reason) = self.documents.failure_since(url, &turn) {
            return Err(UnusableClient::Document(reason));
        }
        let stored = self.usable_stored(client_id).await?;
        let fetched_at = self.services.clock.now();
        let resolved = match self
            .services
            .document_source
            .fetch_client_document(url)
            .await
        {
            Ok(fetched) => match fetched.body {
                Value::Object(request) => self
                    .resolve_document(client_id, request, stored)
                    .await
                    .map(|client| (client, fetched.max_age)),
                _ => Err(document("the document is not a json object")),
            },
            Err(error) => Err(fetch_failed(client_id, error)),
        };
        match resolved {
            Ok((client, max_age)) => {
                let seconds = self.settings().metadata_documents.cache_seconds(max_age);
                let until = fetched_at.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
                self.documents.mark_fresh(url, until);
                Ok(client)
            }
            Err(UnusableClient::Document(reason)) => {
                self.documents.record_failure(url, &reason);
                Err(UnusableClient::Document(reason))
            }
            Err(error) => {
                self.documents.forget(url);
                Err(error)
            }
        }
    }

    /// The host rules of the URL itself, before anything is fetched or read.
    fn check_document_url(&self, url: &str) -> Result<(), UnusableClient> {
        let settings = self.settings();
        let Ok(parsed) = Url::parse(url) else {
            return Err(UnusableClient::Unknown);
        };
        let host = parsed.host_str().unwrap_or_default();
        if !settings.metadata_documents.permits_host(host) {
            return Err(document("documents from this host are not accepted here"));
        }
        if is_forbidden_target(&parsed, &settings.outbound_allow_hosts) {
            return Err(document(
                "the client id url names a special-use address or localhost",
            ));
        }
        Ok(())
    }

    /// The stored client while its document is fresh.
    async fn fresh_document_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, UnusableClient> {
        let now = self.services.clock.now();
        if !self.documents.is_fresh(client_id.as_str(), now) {
            return Ok(None);
        }
        self.usable_stored(client_id).await
    }

    /// The stored client, `None` if there is none; a blocked or expired one is refused.
    async fn usable_stored(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, UnusableClient> {
        let Some(client) = self.services.stores.clients().get_client(client_id).await? else {
            return Ok(None);
        };
        let standing = client.standing(&self.settings().lifecycle, self.services.clock.now());
        if !standing.is_active() {
            tracing::debug!(%client_id, reason = standing.reason(), "the client may not be used");
            return Err(UnusableClient::Unknown);
        }
        Ok(Some(client))
    }

    /// Runs a fetched document through the rules as a registration (first seen) or as an
    /// update of its stored client, audited like one, and stores its client.
    async fn resolve_document(
        &self,
        client_id: &ClientId,
        request: Map<String, Value>,
        stored: Option<RegisteredClient>,
    ) -> Result<RegisteredClient, UnusableClient> {
        let operation = match stored {
            Some(_) => Operation::Update,
            None => Operation::Register,
        };
        let caller = Caller::MetadataDocument {
            url: client_id.as_str().to_owned(),
        };
        let mut cx = self.context(operation, caller, RequestSource::default(), request, stored);
        let result = self.run_document(&mut cx, client_id).await;
        match self.answer(operation, Audited::Context(&cx), result).await {
            Ok(client) => Ok(client),
            Err(RegistrationError::Store(error)) => Err(UnusableClient::Store(error)),
            Err(error) => {
                tracing::info!(%client_id, %error, "a client metadata document was refused");
                Err(document(error.to_string()))
            }
        }
    }

    async fn run_document(
        &self,
        cx: &mut RegistrationContext,
        client_id: &ClientId,
    ) -> Result<RegisteredClient, RegistrationError> {
        document_rules(cx)?;
        self.steps.validator.validate(cx).await?;
        Self::ensure_policy(cx)?;
        // A document seen for the first time is a registration, within the route's limits.
        if cx.current().is_none()
            && let Some(admission) = &self.admission
        {
            admission.admit(cx).await?;
        }
        cx.set_client_id(client_id.clone());
        process::apply_defaults(cx);
        process::build_document_client(cx)?;
        match cx.operation() {
            Operation::Register => match persist::insert_client(cx).await {
                Ok(()) => {}
                // Another instance stored the same document a moment ago (the one fetch per
                // URL is per instance): its client is this one.
                Err(RegistrationError::Store(StoreError::Duplicate(_))) => {
                    cx.mark_change_recorded();
                    return self
                        .services
                        .stores
                        .clients()
                        .get_client(client_id)
                        .await?
                        .ok_or_else(|| {
                            RegistrationError::Store(StoreError::Backend(
                                "the document client was stored and is gone".to_owned(),
                            ))
                        });
                }
                Err(error) => return Err(error),
            },
            _ => {
                if !persist::replace_document_client(cx).await? {
                    return Err(RegistrationError::AccessDenied(
                        "the client was deleted while its document was fetched".to_owned(),
                    ));
                }
            }
        }
        cx.client().cloned().ok_or_else(|| {
            RegistrationError::Store(StoreError::Backend(
                "the document client was not built".to_owned(),
            ))
        })
    }
}

/// What the client is told about a fetch that failed: its own server's status or a refusal
/// about the document; anything about the network stays in the log.
fn fetch_failed(client_id: &ClientId, error: DocumentError) -> UnusableClient {
    match error {
        DocumentError::Unavailable => document("this server cannot fetch documents"),
        DocumentError::Status(status) => {
            document(format!("its server answered with status {status}, not 200"))
        }
        DocumentError::Refused(reason) => document(reason),
        DocumentError::Failed(detail) => {
            tracing::warn!(%client_id, %detail, "cannot fetch a client metadata document");
            document("it could not be fetched")
        }
    }
}
