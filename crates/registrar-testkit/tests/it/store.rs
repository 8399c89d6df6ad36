//! The store contract on every backend, one test per check on a fresh database each: SQLite
//! always, PostgreSQL when `REGISTRAR_TEST_POSTGRES` names a server.

use std::sync::Arc;

use async_trait::async_trait;
use registrar_core::audit::{AuditEvent, EventFilter, EventStore, Provenance};
use registrar_core::authz::{
    AuthorizationCode, AuthorizationStore, CodeRedemption, Consent, Grant, RefreshRotation,
    RefreshToken, Session, StoredCode, User, UserStore,
};
use registrar_core::contract::check_all;
use registrar_core::lifecycle::{ExpiredClient, ExpiryCutoffs};
use registrar_core::store::{
    ClientChange, ClientStore, ClientSummary, IdempotencyRecord, IdempotencyStore,
    InitialAccessToken, InitialAccessTokenStore, RecordedClientStore, RegisteredClient, Store,
    TokenCheck,
};
use registrar_core::token::{ReplayCache, SigningKeyStore, StoredSigningKey};
use registrar_core::{ClientId, StoreError, TokenHash};
use registrar_testkit::{Backend, TestDatabase, backends};

registrar_core::store_contract!(sqlite, async {
    store_on_new_database(Backend::Sqlite).await
});

// Without a PostgreSQL server the SQLite run stands alone.
registrar_core::store_contract!(postgres, optional async {
    match Backend::postgres() {
        Some(backend) => Some(store_on_new_database(backend).await),
        None => None,
    }
});

backends!(the_whole_suite_passes_twice_at_once_on_one_database);

/// Every check looks only at its own rows, so the suite can share a database with other tests
/// and with earlier runs: two whole runs at once on one store must both pass.
async fn the_whole_suite_passes_twice_at_once_on_one_database(backend: Backend) {
    let store = store_on_new_database(backend).await;

    // Each run is a task of its own, so that both finish before a failure of either is raised.
    let runs = [
        tokio::spawn(check_all(store.clone())),
        tokio::spawn(check_all(store.clone())),
    ];
    let mut failures = Vec::new();
    for run in runs {
        if let Err(failure) = run.await {
            failures.push(failure);
        }
    }

    if let Some(failure) = failures.into_iter().next() {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// A store opened on a new database, which it owns.
async fn store_on_new_database(backend: Backend) -> Arc<dyn Store> {
    let database = TestDatabase::create(&backend).await;
    let store = registrar_store::connect(&database.url)
        .await
        .expect("open the test store");
    Arc::new(StoreWithDatabase {
        store,
        _database: database,
    })
}

/// A store with the database it was opened on: the database lives as long as the store and goes
/// (the SQLite folder removed, the PostgreSQL database dropped) when the test lets go of it,
/// whether its check passed or not.
#[derive(Debug)]
struct StoreWithDatabase {
    store: Arc<dyn Store>,
    /// Declared after `store`, so dropped after it: no connection outlives its database.
    _database: TestDatabase,
}

#[async_trait]
impl ClientStore for StoreWithDatabase {
    async fn insert_client(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.store.insert_client(client, initial_token, now).await
    }

    async fn insert_client_within(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
        max_clients: u64,
    ) -> Result<(), StoreError> {
        self.store
            .insert_client_within(client, initial_token, now, max_clients)
            .await
    }

    async fn count_clients_with_policy(&self, policy: &str) -> Result<u64, StoreError> {
        self.store.count_clients_with_policy(policy).await
    }

    async fn replace_client_keeping_token(
        &self,
        client: &RegisteredClient,
    ) -> Result<bool, StoreError> {
        self.store.replace_client_keeping_token(client).await
    }

    async fn get_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        self.store.get_client(client_id).await
    }

    async fn find_client_by_registration_token(
        &self,
        check: TokenCheck<'_>,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        self.store.find_client_by_registration_token(check).await
    }

    async fn replace_client(
        &self,
        client: &RegisteredClient,
        check: TokenCheck<'_>,
        previous_valid_until: i64,
    ) -> Result<bool, StoreError> {
        self.store
            .replace_client(client, check, previous_valid_until)
            .await
    }

    async fn revoke_registration_token(&self, client_id: &ClientId) -> Result<(), StoreError> {
        self.store.revoke_registration_token(client_id).await
    }

    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        self.store.delete_client(client_id).await
    }

    async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError> {
        self.store.list_clients().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    async fn record_client_use(&self, client_id: &ClientId, now: i64) -> Result<(), StoreError> {
        self.store.record_client_use(client_id, now).await
    }

    async fn set_client_blocked(
        &self,
        client_id: &ClientId,
        blocked_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.store.set_client_blocked(client_id, blocked_at).await
    }

    async fn expired_clients(
        &self,
        cutoffs: &ExpiryCutoffs,
        limit: u32,
    ) -> Result<Vec<ExpiredClient>, StoreError> {
        self.store.expired_clients(cutoffs, limit).await
    }

    async fn delete_expired_client(
        &self,
        client_id: &ClientId,
        cutoffs: &ExpiryCutoffs,
    ) -> Result<bool, StoreError> {
        self.store.delete_expired_client(client_id, cutoffs).await
    }
}

#[async_trait]
impl InitialAccessTokenStore for StoreWithDatabase {
    async fn insert_initial_token(&self, token: &InitialAccessToken) -> Result<(), StoreError> {
        self.store.insert_initial_token(token).await
    }

    async fn find_initial_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<InitialAccessToken>, StoreError> {
        self.store.find_initial_token(token_hash).await
    }

    async fn list_initial_tokens(&self) -> Result<Vec<InitialAccessToken>, StoreError> {
        self.store.list_initial_tokens().await
    }

    async fn revoke_initial_token(&self, id: &str) -> Result<bool, StoreError> {
        self.store.revoke_initial_token(id).await
    }

    async fn consume_initial_token(
        &self,
        token_hash: &TokenHash,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.store.consume_initial_token(token_hash, now).await
    }
}

#[async_trait]
impl IdempotencyStore for StoreWithDatabase {
    async fn insert_client_with_idempotency_record(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
        max_clients: Option<u64>,
        record: &IdempotencyRecord,
    ) -> Result<(), StoreError> {
        self.store
            .insert_client_with_idempotency_record(client, initial_token, now, max_clients, record)
            .await
    }

    async fn find_idempotency_record(
        &self,
        key_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.store.find_idempotency_record(key_hash, now).await
    }

    async fn purge_expired_idempotency_records(&self, now: i64) -> Result<u64, StoreError> {
        self.store.purge_expired_idempotency_records(now).await
    }
}

#[async_trait]
impl SigningKeyStore for StoreWithDatabase {
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        self.store.insert_signing_key(key).await
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        self.store.list_signing_keys().await
    }

    async fn retire_signing_key(&self, kid: &str, retired_at: i64) -> Result<bool, StoreError> {
        self.store.retire_signing_key(kid, retired_at).await
    }
}

#[async_trait]
impl ReplayCache for StoreWithDatabase {
    async fn record_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.store.record_jti(client_id, jti, expires_at).await
    }

    async fn is_jti_recorded(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.store.is_jti_recorded(client_id, jti, expires_at).await
    }
}

#[async_trait]
impl UserStore for StoreWithDatabase {
    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        self.store.insert_user(user).await
    }

    async fn find_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.store.find_user_by_username(username).await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.store.get_user(id).await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.store.list_users().await
    }

    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError> {
        self.store.set_password(username, password_hash).await
    }

    async fn remove_user(&self, username: &str) -> Result<bool, StoreError> {
        self.store.remove_user(username).await
    }
}

#[async_trait]
impl AuthorizationStore for StoreWithDatabase {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        self.store.insert_session(session).await
    }

    async fn find_session(
        &self,
        id_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<Session>, StoreError> {
        self.store.find_session(id_hash, now).await
    }

    async fn delete_session(&self, id_hash: &TokenHash) -> Result<(), StoreError> {
        self.store.delete_session(id_hash).await
    }

    async fn upsert_consent(&self, consent: &Consent) -> Result<(), StoreError> {
        self.store.upsert_consent(consent).await
    }

    async fn find_consent(
        &self,
        user_id: &str,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        self.store.find_consent(user_id, client_id).await
    }

    async fn insert_grant_with_code(
        &self,
        grant: &Grant,
        code: &AuthorizationCode,
    ) -> Result<(), StoreError> {
        self.store.insert_grant_with_code(grant, code).await
    }

    async fn redeem_code(&self, code_hash: &TokenHash) -> Result<CodeRedemption, StoreError> {
        self.store.redeem_code(code_hash).await
    }

    async fn find_code(&self, code_hash: &TokenHash) -> Result<Option<StoredCode>, StoreError> {
        self.store.find_code(code_hash).await
    }

    async fn get_grant(&self, grant_id: &str) -> Result<Option<Grant>, StoreError> {
        self.store.get_grant(grant_id).await
    }

    async fn revoke_grant(&self, grant_id: &str) -> Result<bool, StoreError> {
        self.store.revoke_grant(grant_id).await
    }

    async fn revoke_client_grants(&self, client_id: &ClientId) -> Result<(), StoreError> {
        self.store.revoke_client_grants(client_id).await
    }

    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError> {
        self.store.insert_refresh_token(token).await
    }

    async fn find_refresh_token(
        &self,
        token_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<RefreshToken>, StoreError> {
        self.store.find_refresh_token(token_hash, now).await
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &TokenHash,
        successor: &RefreshToken,
        now: i64,
    ) -> Result<RefreshRotation, StoreError> {
        self.store
            .rotate_refresh_token(old_hash, successor, now)
            .await
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        self.store.revoke_access_token(jti, expires_at).await
    }

    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        self.store.is_access_token_revoked(jti).await
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.store.purge_expired(now).await
    }
}

#[async_trait]
impl EventStore for StoreWithDatabase {
    async fn record_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.store.record_event(event).await
    }

    async fn record_refusal(&self, event: &AuditEvent, keep: u64) -> Result<(), StoreError> {
        self.store.record_refusal(event, keep).await
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<AuditEvent>, StoreError> {
        self.store.list_events(filter).await
    }

    async fn purge_events(&self, before: i64) -> Result<u64, StoreError> {
        self.store.purge_events(before).await
    }

    async fn client_provenance(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<Provenance>, StoreError> {
        self.store.client_provenance(client_id).await
    }
}

#[async_trait]
impl RecordedClientStore for StoreWithDatabase {
    async fn apply_recorded(
        &self,
        change: ClientChange<'_>,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        self.store.apply_recorded(change, event).await
    }
}
