//! The contract run on `MemoryStore`, a store in memory that keeps to it, and on flawed copies of
//! it, which the checks must catch.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use crate::audit::{Action, AuditEvent, EventFilter, EventStore, Outcome, Provenance};
use crate::authz::{
    AuthorizationCode, AuthorizationStore, CodeRedemption, Consent, Grant, RefreshRotation,
    RefreshToken, Session, StoredCode, User, UserStore,
};
use crate::error::StoreError;
use crate::ids::ClientId;
use crate::lifecycle::{ExpiredClient, Expiry, ExpiryCutoffs};
use crate::secrets::TokenHash;
use crate::store::{
    ClientStore, ClientSummary, IdempotencyRecord, IdempotencyStore, InitialAccessToken,
    InitialAccessTokenStore, RecordedClientStore, RegisteredClient, TokenCheck,
};
use crate::token::{ReplayCache, SigningKeyStore, StoredSigningKey};

crate::store_contract!(memory, async { Arc::new(MemoryStore::default()) });

// The trait macros on their own, as a store of one trait would call them.
crate::client_store_contract!(memory_clients, async {
    Arc::new(MemoryStore::default()) as Arc<dyn ClientStore>
});
crate::initial_token_store_contract!(memory_initial_tokens, optional async {
    Some(Arc::new(MemoryStore::default()))
});
crate::signing_key_store_contract!(memory_signing_keys, async {
    Arc::new(MemoryStore::default())
});
crate::user_store_contract!(memory_users, async { Arc::new(MemoryStore::default()) });
crate::authorization_store_contract!(memory_authorizations, async {
    Arc::new(MemoryStore::default())
});
// A factory that yields no store skips every test, as a PostgreSQL run without a server does.
crate::replay_cache_contract!(absent_replay_cache, optional async {
    None::<Arc<MemoryStore>>
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_in_sequence_on_one_memory_store() {
    let store = Arc::new(MemoryStore::default());

    super::check_all(store.clone()).await;
    super::check_all(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_drops_extensions_fails_the_round_trip() {
    let store = Arc::new(MemoryStore::with_flaws(Flaws {
        drops_extensions: true,
        ..Flaws::default()
    }));

    let failure = panic_of(async move {
        super::clients::clients_round_trip(store.as_ref()).await;
    })
    .await;

    assert!(
        failure.contains("must read back exactly as inserted"),
        "unexpected failure: {failure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumption_that_checks_then_takes_fails_the_concurrency_check() {
    let store = Arc::new(MemoryStore::with_flaws(Flaws {
        checks_then_takes: true,
        ..Flaws::default()
    }));

    let failure = panic_of(
        super::initial_tokens::concurrent_consumptions_succeed_exactly_max_uses_times(store),
    )
    .await;

    assert!(
        failure.contains("must succeed exactly 3 times"),
        "unexpected failure: {failure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumption_that_ignores_expiry_fails_the_refusal_check() {
    let store = Arc::new(MemoryStore::with_flaws(Flaws {
        ignores_expiry: true,
        ..Flaws::default()
    }));

    let failure = panic_of(async move {
        super::initial_tokens::consume_initial_token_refuses_unusable_tokens_changing_nothing(
            store.as_ref(),
        )
        .await;
    })
    .await;

    assert!(
        failure.contains("expiring now initial token: consume_initial_token must refuse"),
        "unexpected failure: {failure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redemption_that_checks_then_marks_fails_the_concurrency_check() {
    let store = Arc::new(MemoryStore::with_flaws(Flaws {
        checks_then_takes: true,
        ..Flaws::default()
    }));

    let failure =
        panic_of(super::authorizations::concurrent_redemptions_have_one_winner(store)).await;

    assert!(
        failure.contains("must have exactly one Redeemed"),
        "unexpected failure: {failure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_that_checks_then_marks_fails_the_concurrency_check() {
    let store = Arc::new(MemoryStore::with_flaws(Flaws {
        checks_then_takes: true,
        ..Flaws::default()
    }));

    let failure = panic_of(super::authorizations::concurrent_rotations_have_one_winner(
        store,
    ))
    .await;

    assert!(
        failure.contains("must have exactly one Rotated"),
        "unexpected failure: {failure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_that_keeps_the_clients_grants_fails_the_cascade_check() {
    let store = Arc::new(MemoryStore::with_flaws(Flaws {
        keeps_grants_of_deleted: true,
        ..Flaws::default()
    }));

    let failure = panic_of(async move {
        super::backend::delete_client_deletes_what_was_granted_to_it(store.as_ref()).await;
    })
    .await;

    assert!(
        failure.contains("a deleted client's grants must be deleted with it"),
        "unexpected failure: {failure}"
    );
}

/// Runs a check that must fail, on a task of its own, and returns its panic message.
async fn panic_of(check: impl Future<Output = ()> + Send + 'static) -> String {
    let Err(failure) = tokio::spawn(check).await else {
        panic!("the check passed on a flawed store");
    };
    let payload = failure.into_panic();
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|message| (*message).to_owned())
            .unwrap_or_default(),
    }
}

/// Ways to break `MemoryStore`, each of which some check must catch.
#[derive(Debug, Default, Clone, Copy)]
struct Flaws {
    /// Stores clients without their extension members.
    drops_extensions: bool,
    /// Checks that a token is usable (an initial access token, a code, a refresh token), lets go
    /// of the lock, and only then takes the use.
    checks_then_takes: bool,
    /// Deletes a client, or removes a user, and keeps their grants.
    keeps_grants_of_deleted: bool,
    /// Takes uses of expired tokens.
    ignores_expiry: bool,
}

/// Every store trait in memory, behind one lock, so that each method is one atomic step.
#[derive(Debug, Default)]
struct MemoryStore {
    state: Mutex<State>,
    flaws: Flaws,
    cap_lock: tokio::sync::Mutex<()>,
    key_lock: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    /// In insertion order, so that clients issued at the same time list in a stable order.
    clients: Vec<StoredClient>,
    initial_tokens: Vec<InitialAccessToken>,
    signing_keys: Vec<StoredSigningKey>,
    jtis: HashSet<(String, String)>,
    users: Vec<User>,
    sessions: Vec<Session>,
    consents: Vec<Consent>,
    grants: Vec<Grant>,
    /// Each with whether it was redeemed.
    codes: Vec<(AuthorizationCode, bool)>,
    /// Each with whether it was rotated.
    refresh_tokens: Vec<(RefreshToken, bool)>,
    /// Revoked access tokens' jtis, until when.
    revoked_jtis: HashMap<String, i64>,
    idempotency_records: Vec<IdempotencyRecord>,
    /// Audit events, oldest first, with their ids.
    events: Vec<AuditEvent>,
    next_event_id: i64,
    provenance: HashMap<String, Provenance>,
}

#[derive(Debug)]
struct StoredClient {
    client: RegisteredClient,
    /// The replaced registration access token and until when it still works.
    previous_token: Option<(TokenHash, i64)>,
}

impl StoredClient {
    fn answers_to(&self, check: TokenCheck<'_>) -> bool {
        let current = self.client.registration_token.as_ref() == Some(check.presented);
        let previous = self
            .previous_token
            .as_ref()
            .is_some_and(|(token, valid_until)| {
                token == check.presented && check.now < *valid_until
            });
        current || previous
    }
}

impl MemoryStore {
    fn with_flaws(flaws: Flaws) -> Self {
        Self {
            state: Mutex::default(),
            flaws,
            cap_lock: tokio::sync::Mutex::new(()),
            key_lock: tokio::sync::Mutex::new(()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("no check panics while holding the lock")
    }

    /// Whether the token may be used at `now`, as this store (flaws included) judges it.
    fn is_usable(&self, token: &InitialAccessToken, now: i64) -> bool {
        if self.flaws.ignores_expiry {
            return token.max_uses.is_none_or(|max_uses| token.uses < max_uses);
        }
        token.is_usable(now)
    }
}

impl State {
    fn client_mut(&mut self, client_id: &ClientId) -> Option<&mut StoredClient> {
        self.clients
            .iter_mut()
            .find(|stored| &stored.client.client_id == client_id)
    }

    fn initial_token_mut(&mut self, token_hash: &TokenHash) -> Option<&mut InitialAccessToken> {
        self.initial_tokens
            .iter_mut()
            .find(|token| &token.token_hash == token_hash)
    }

    /// Whether the grant exists and is active at `now`.
    fn grant_is_active(&self, grant_id: &str, now: i64) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.id == grant_id && grant.is_active(now))
    }

    /// Whether the refresh token is current at `now`: unused, unexpired, of an active grant.
    fn is_current(&self, token: &RefreshToken, used: bool, now: i64) -> bool {
        !used && now < token.expires_at && self.grant_is_active(&token.grant_id, now)
    }

    /// Revokes the grants `which` selects, deleting their refresh tokens and unused codes.
    fn revoke_grants(&mut self, which: impl Fn(&Grant) -> bool) -> usize {
        let mut revoked_ids = HashSet::new();
        for grant in self.grants.iter_mut().filter(|grant| which(grant)) {
            grant.revoked = true;
            revoked_ids.insert(grant.id.clone());
        }
        self.refresh_tokens
            .retain(|(token, _)| !revoked_ids.contains(&token.grant_id));
        self.codes
            .retain(|(code, used)| *used || !revoked_ids.contains(&code.grant_id));
        revoked_ids.len()
    }

    /// Deletes the grants `which` selects, with their codes and refresh tokens; returns how many
    /// rows went.
    fn forget_grants(&mut self, which: impl Fn(&Grant) -> bool) -> usize {
        let forgotten: HashSet<String> = self
            .grants
            .iter()
            .filter(|grant| which(grant))
            .map(|grant| grant.id.clone())
            .collect();
        let before = self.grants.len() + self.codes.len() + self.refresh_tokens.len();
        self.grants.retain(|grant| !forgotten.contains(&grant.id));
        self.codes
            .retain(|(code, _)| !forgotten.contains(&code.grant_id));
        self.refresh_tokens
            .retain(|(token, _)| !forgotten.contains(&token.grant_id));
        before - (self.grants.len() + self.codes.len() + self.refresh_tokens.len())
    }
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn insert_client(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.client_mut(&client.client_id).is_some() {
            return Err(StoreError::Duplicate("client_id"));
        }
        if client.registration_token.is_some()
            && state
                .clients
                .iter()
                .any(|stored| stored.client.registration_token == client.registration_token)
        {
            return Err(StoreError::Duplicate("registration_token"));
        }
        if let Some(token_hash) = initial_token {
            let usable = state
                .initial_tokens
                .iter()
                .any(|token| &token.token_hash == token_hash && self.is_usable(token, now));
            if !usable {
                return Err(StoreError::InitialTokenRejected);
            }
            if let Some(token) = state.initial_token_mut(token_hash) {
                token.uses += 1;
            }
        }
        let mut client = client.clone();
        if self.flaws.drops_extensions {
            client.extensions.clear();
        }
        state.clients.push(StoredClient {
            client,
            previous_token: None,
        });
        Ok(())
    }

    async fn insert_client_within(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
        max_clients: u64,
    ) -> Result<(), StoreError> {
        // One lock around the count and the insert, as a backend's transaction would be.
        let _turn = self.cap_lock.lock().await;
        if let Some(policy) = &client.policy
            && self.count_clients_with_policy(policy).await? >= max_clients
        {
            return Err(StoreError::PolicyFull);
        }
        self.insert_client(client, initial_token, now).await
    }

    async fn count_clients_with_policy(&self, policy: &str) -> Result<u64, StoreError> {
        let count = self
            .state()
            .clients
            .iter()
            .filter(|stored| stored.client.policy.as_deref() == Some(policy))
            .count();
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }

    async fn replace_client_keeping_token(
        &self,
        client: &RegisteredClient,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(stored) = state.client_mut(&client.client_id) else {
            return Ok(false);
        };
        let token = stored.client.registration_token.clone();
        stored.client = RegisteredClient {
            registration_token: token,
            state: stored.client.state,
            ..client.clone()
        };
        Ok(true)
    }

    async fn get_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        Ok(self
            .state()
            .client_mut(client_id)
            .map(|stored| stored.client.clone()))
    }

    async fn find_client_by_registration_token(
        &self,
        check: TokenCheck<'_>,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        Ok(self
            .state()
            .clients
            .iter()
            .find(|stored| stored.answers_to(check))
            .map(|stored| stored.client.clone()))
    }

    async fn replace_client(
        &self,
        client: &RegisteredClient,
        check: TokenCheck<'_>,
        previous_valid_until: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(stored) = state.client_mut(&client.client_id) else {
            return Ok(false);
        };
        if !stored.answers_to(check) {
            return Ok(false);
        }
        // As the SQL backends do, a replacement changes what a `PUT` may change and keeps the
        // client's identity and provenance.
        stored.previous_token = match stored.client.registration_token.take() {
            Some(replaced) if previous_valid_until > check.now => {
                Some((replaced, previous_valid_until))
            }
            _ => None,
        };
        stored.client = RegisteredClient {
            client_id: stored.client.client_id.clone(),
            client_id_issued_at: stored.client.client_id_issued_at,
            initial_token_id: stored.client.initial_token_id.clone(),
            registered_anonymously: stored.client.registered_anonymously,
            state: stored.client.state,
            ..client.clone()
        };
        Ok(true)
    }

    async fn revoke_registration_token(&self, client_id: &ClientId) -> Result<(), StoreError> {
        if let Some(stored) = self.state().client_mut(client_id) {
            stored.client.registration_token = None;
            stored.previous_token = None;
        }
        Ok(())
    }

    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        let mut state = self.state();
        let before = state.clients.len();
        state
            .clients
            .retain(|stored| &stored.client.client_id != client_id);
        if !self.flaws.keeps_grants_of_deleted {
            state.forget_grants(|grant| &grant.client_id == client_id);
            state
                .consents
                .retain(|consent| &consent.client_id != client_id);
        }
        state.provenance.remove(client_id.as_str());
        Ok(state.clients.len() < before)
    }

    async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError> {
        let state = self.state();
        let mut clients: Vec<&RegisteredClient> =
            state.clients.iter().map(|stored| &stored.client).collect();
        clients.sort_by_key(|client| client.client_id_issued_at);
        Ok(clients
            .into_iter()
            .map(|client| ClientSummary {
                client_id: client.client_id.clone(),
                client_name: client.metadata.client_name.clone(),
                client_id_issued_at: client.client_id_issued_at,
                grant_types: client.metadata.grant_types.clone(),
                state: client.state,
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn record_client_use(&self, client_id: &ClientId, now: i64) -> Result<(), StoreError> {
        if let Some(stored) = self.state().client_mut(client_id) {
            let last = &mut stored.client.state.last_used_at;
            *last = Some(last.map_or(now, |last| last.max(now)));
        }
        Ok(())
    }

    async fn set_client_blocked(
        &self,
        client_id: &ClientId,
        blocked_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(stored) = state.client_mut(client_id) else {
            return Ok(false);
        };
        stored.client.state.blocked_at = blocked_at;
        Ok(true)
    }

    async fn expired_clients(
        &self,
        cutoffs: &ExpiryCutoffs,
        limit: u32,
    ) -> Result<Vec<ExpiredClient>, StoreError> {
        let state = self.state();
        let mut expired: Vec<(&RegisteredClient, Expiry)> = state
            .clients
            .iter()
            .filter(|stored| stored.client.state.blocked_at.is_none())
            .filter_map(|stored| {
                let client = &stored.client;
                let expiry = cutoffs.expiry(client.client_id_issued_at, &client.state)?;
                Some((client, expiry))
            })
            .collect();
        expired.sort_by_key(|(client, _)| {
            (
                client.client_id_issued_at,
                client.client_id.as_str().to_owned(),
            )
        });
        Ok(expired
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(client, expiry)| ExpiredClient {
                client_id: client.client_id.clone(),
                expiry,
            })
            .collect())
    }

    async fn delete_expired_client(
        &self,
        client_id: &ClientId,
        cutoffs: &ExpiryCutoffs,
    ) -> Result<bool, StoreError> {
        let still_expired = self.state().client_mut(client_id).is_some_and(|stored| {
            let client = &stored.client;
            client.state.blocked_at.is_none()
                && cutoffs
                    .expiry(client.client_id_issued_at, &client.state)
                    .is_some()
        });
        if !still_expired {
            return Ok(false);
        }
        self.delete_client(client_id).await
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn insert_client_with_idempotency_record(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
        max_clients: Option<u64>,
        record: &IdempotencyRecord,
    ) -> Result<(), StoreError> {
        // One lock around the key check and the insert, as a backend's transaction would be.
        let _turn = self.key_lock.lock().await;
        let live = self
            .state()
            .idempotency_records
            .iter()
            .any(|stored| stored.key_hash == record.key_hash && stored.expires_at > now);
        if live {
            return Err(StoreError::Duplicate("idempotency_key"));
        }
        match max_clients {
            Some(max) => {
                self.insert_client_within(client, initial_token, now, max)
                    .await?;
            }
            None => self.insert_client(client, initial_token, now).await?,
        }
        let mut state = self.state();
        state
            .idempotency_records
            .retain(|stored| stored.key_hash != record.key_hash);
        state.idempotency_records.push(record.clone());
        Ok(())
    }

    async fn find_idempotency_record(
        &self,
        key_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self
            .state()
            .idempotency_records
            .iter()
            .find(|stored| &stored.key_hash == key_hash && stored.expires_at > now)
            .cloned())
    }

    async fn purge_expired_idempotency_records(&self, now: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.idempotency_records.len();
        state
            .idempotency_records
            .retain(|stored| stored.expires_at > now);
        Ok(u64::try_from(before - state.idempotency_records.len()).unwrap_or(u64::MAX))
    }
}

#[async_trait]
impl InitialAccessTokenStore for MemoryStore {
    async fn insert_initial_token(&self, token: &InitialAccessToken) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .initial_tokens
            .iter()
            .any(|stored| stored.id == token.id)
        {
            return Err(StoreError::Duplicate("initial_token_id"));
        }
        if state.initial_token_mut(&token.token_hash).is_some() {
            return Err(StoreError::Duplicate("initial_token_hash"));
        }
        state.initial_tokens.push(token.clone());
        Ok(())
    }

    async fn find_initial_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<InitialAccessToken>, StoreError> {
        Ok(self.state().initial_token_mut(token_hash).cloned())
    }

    async fn list_initial_tokens(&self) -> Result<Vec<InitialAccessToken>, StoreError> {
        Ok(self.state().initial_tokens.clone())
    }

    async fn revoke_initial_token(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        let before = state.initial_tokens.len();
        state.initial_tokens.retain(|token| token.id != id);
        Ok(state.initial_tokens.len() < before)
    }

    async fn consume_initial_token(
        &self,
        token_hash: &TokenHash,
        now: i64,
    ) -> Result<bool, StoreError> {
        if self.flaws.checks_then_takes {
            let usable = self
                .state()
                .initial_token_mut(token_hash)
                .is_some_and(|token| self.is_usable(token, now));
            if !usable {
                return Ok(false);
            }
            // Long enough for every caller the check's barrier releases to check first.
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Some(token) = self.state().initial_token_mut(token_hash) {
                token.uses += 1;
            }
            return Ok(true);
        }
        let mut state = self.state();
        match state.initial_token_mut(token_hash) {
            Some(token) if self.is_usable(token, now) => {
                token.uses += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl SigningKeyStore for MemoryStore {
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .signing_keys
            .iter()
            .any(|stored| stored.kid == key.kid)
        {
            return Err(StoreError::Duplicate("kid"));
        }
        state.signing_keys.push(key.clone());
        Ok(())
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        let mut keys = self.state().signing_keys.clone();
        // The contract lists keys by `created_at`, then kid, as the SQL backends do.
        keys.sort_by(|left, right| {
            (left.created_at, &left.kid).cmp(&(right.created_at, &right.kid))
        });
        Ok(keys)
    }

    async fn retire_signing_key(&self, kid: &str, retired_at: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state
            .signing_keys
            .iter_mut()
            .find(|key| key.kid == kid && key.retired_at.is_none())
        {
            Some(key) => {
                key.retired_at = Some(retired_at);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[async_trait]
impl ReplayCache for MemoryStore {
    async fn record_jti(
        &self,
        client_id: &str,
        jti: &str,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .jtis
            .insert((client_id.to_owned(), jti.to_owned())))
    }

    async fn is_jti_recorded(
        &self,
        client_id: &str,
        jti: &str,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .jtis
            .contains(&(client_id.to_owned(), jti.to_owned())))
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.users.iter().any(|stored| stored.id == user.id) {
            return Err(StoreError::Duplicate("user_id"));
        }
        if state
            .users
            .iter()
            .any(|stored| stored.username == user.username)
        {
            return Err(StoreError::Duplicate("username"));
        }
        state.users.push(user.clone());
        Ok(())
    }

    async fn find_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .state()
            .users
            .iter()
            .find(|user| user.username == username)
            .cloned())
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .state()
            .users
            .iter()
            .find(|user| user.id == id)
            .cloned())
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let mut users = self.state().users.clone();
        users
            .sort_by(|left, right| (left.created_at, &left.id).cmp(&(right.created_at, &right.id)));
        Ok(users)
    }

    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(user) = state
            .users
            .iter_mut()
            .find(|user| user.username == username)
        else {
            return Ok(false);
        };
        password_hash.clone_into(&mut user.password_hash);
        let user_id = user.id.clone();
        state.sessions.retain(|session| session.user_id != user_id);
        state.revoke_grants(|grant| grant.user_id == user_id);
        Ok(true)
    }

    async fn remove_user(&self, username: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(position) = state
            .users
            .iter()
            .position(|user| user.username == username)
        else {
            return Ok(false);
        };
        let user_id = state.users.remove(position).id;
        state.sessions.retain(|session| session.user_id != user_id);
        state.consents.retain(|consent| consent.user_id != user_id);
        if !self.flaws.keeps_grants_of_deleted {
            state.forget_grants(|grant| grant.user_id == user_id);
        }
        Ok(true)
    }
}

#[async_trait]
impl AuthorizationStore for MemoryStore {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .sessions
            .iter()
            .any(|stored| stored.id_hash == session.id_hash)
        {
            return Err(StoreError::Duplicate("session_id"));
        }
        state.sessions.push(session.clone());
        Ok(())
    }

    async fn find_session(
        &self,
        id_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<Session>, StoreError> {
        Ok(self
            .state()
            .sessions
            .iter()
            .find(|session| &session.id_hash == id_hash && now < session.expires_at)
            .cloned())
    }

    async fn delete_session(&self, id_hash: &TokenHash) -> Result<(), StoreError> {
        self.state()
            .sessions
            .retain(|session| &session.id_hash != id_hash);
        Ok(())
    }

    async fn upsert_consent(&self, consent: &Consent) -> Result<(), StoreError> {
        let mut state = self.state();
        state.consents.retain(|stored| {
            stored.user_id != consent.user_id || stored.client_id != consent.client_id
        });
        state.consents.push(consent.clone());
        Ok(())
    }

    async fn find_consent(
        &self,
        user_id: &str,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        Ok(self
            .state()
            .consents
            .iter()
            .find(|consent| consent.user_id == user_id && &consent.client_id == client_id)
            .cloned())
    }

    async fn insert_grant_with_code(
        &self,
        grant: &Grant,
        code: &AuthorizationCode,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.grants.iter().any(|stored| stored.id == grant.id) {
            return Err(StoreError::Duplicate("grant_id"));
        }
        if state
            .codes
            .iter()
            .any(|(stored, _)| stored.code_hash == code.code_hash)
        {
            return Err(StoreError::Duplicate("authorization_code"));
        }
        state.grants.push(grant.clone());
        state.codes.push((code.clone(), false));
        Ok(())
    }

    async fn find_code(&self, code_hash: &TokenHash) -> Result<Option<StoredCode>, StoreError> {
        Ok(self
            .state()
            .codes
            .iter()
            .find(|(code, _)| &code.code_hash == code_hash)
            .map(|(code, used)| StoredCode {
                code: code.clone(),
                used: *used,
            }))
    }

    async fn redeem_code(&self, code_hash: &TokenHash) -> Result<CodeRedemption, StoreError> {
        if self.flaws.checks_then_takes {
            let found = self
                .state()
                .codes
                .iter()
                .find(|(code, _)| &code.code_hash == code_hash)
                .cloned();
            return Ok(match found {
                Some((code, false)) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    for (stored, used) in &mut self.state().codes {
                        if &stored.code_hash == code_hash {
                            *used = true;
                        }
                    }
                    CodeRedemption::Redeemed(code)
                }
                Some((code, true)) => CodeRedemption::AlreadyUsed {
                    grant_id: code.grant_id,
                },
                None => CodeRedemption::Unknown,
            });
        }
        let mut state = self.state();
        let Some((code, used)) = state
            .codes
            .iter_mut()
            .find(|(code, _)| &code.code_hash == code_hash)
        else {
            return Ok(CodeRedemption::Unknown);
        };
        if *used {
            return Ok(CodeRedemption::AlreadyUsed {
                grant_id: code.grant_id.clone(),
            });
        }
        *used = true;
        Ok(CodeRedemption::Redeemed(code.clone()))
    }

    async fn get_grant(&self, grant_id: &str) -> Result<Option<Grant>, StoreError> {
        Ok(self
            .state()
            .grants
            .iter()
            .find(|grant| grant.id == grant_id)
            .cloned())
    }

    async fn revoke_grant(&self, grant_id: &str) -> Result<bool, StoreError> {
        Ok(self.state().revoke_grants(|grant| grant.id == grant_id) > 0)
    }

    async fn revoke_client_grants(&self, client_id: &ClientId) -> Result<(), StoreError> {
        let mut state = self.state();
        state.revoke_grants(|grant| &grant.client_id == client_id);
        state
            .consents
            .retain(|consent| &consent.client_id != client_id);
        Ok(())
    }

    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .refresh_tokens
            .iter()
            .any(|(stored, _)| stored.token_hash == token.token_hash)
        {
            return Err(StoreError::Duplicate("refresh_token"));
        }
        state.refresh_tokens.push((token.clone(), false));
        Ok(())
    }

    async fn find_refresh_token(
        &self,
        token_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<RefreshToken>, StoreError> {
        let state = self.state();
        Ok(state
            .refresh_tokens
            .iter()
            .find(|(token, used)| {
                &token.token_hash == token_hash && state.is_current(token, *used, now)
            })
            .map(|(token, _)| token.clone()))
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &TokenHash,
        successor: &RefreshToken,
        now: i64,
    ) -> Result<RefreshRotation, StoreError> {
        let current = |state: &State| {
            state
                .refresh_tokens
                .iter()
                .find(|(token, _)| &token.token_hash == old_hash)
                .cloned()
        };
        if self.flaws.checks_then_takes {
            let found = current(&self.state());
            let is_current = found
                .as_ref()
                .is_some_and(|(token, used)| self.state().is_current(token, *used, now));
            if is_current {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let mut state = self.state();
            return Ok(match found {
                Some((old, _)) if is_current => {
                    for (stored, used) in &mut state.refresh_tokens {
                        if &stored.token_hash == old_hash {
                            *used = true;
                        }
                    }
                    state.refresh_tokens.push((successor.clone(), false));
                    RefreshRotation::Rotated(old)
                }
                Some((old, true)) => RefreshRotation::Reused {
                    grant_id: old.grant_id,
                },
                _ => RefreshRotation::Unknown,
            });
        }
        let mut state = self.state();
        let Some((old, used)) = current(&state) else {
            return Ok(RefreshRotation::Unknown);
        };
        if used {
            return Ok(RefreshRotation::Reused {
                grant_id: old.grant_id,
            });
        }
        if !state.is_current(&old, used, now) {
            return Ok(RefreshRotation::Unknown);
        }
        if state
            .refresh_tokens
            .iter()
            .any(|(stored, _)| stored.token_hash == successor.token_hash)
        {
            return Err(StoreError::Duplicate("refresh_token"));
        }
        for (stored, used) in &mut state.refresh_tokens {
            if stored.token_hash == old.token_hash {
                *used = true;
            }
        }
        state.refresh_tokens.push((successor.clone(), false));
        Ok(RefreshRotation::Rotated(old))
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        let mut state = self.state();
        let until = state
            .revoked_jtis
            .entry(jti.to_owned())
            .or_insert(expires_at);
        *until = (*until).max(expires_at);
        Ok(())
    }

    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.state().revoked_jtis.contains_key(jti))
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let mut purged = state.forget_grants(|grant| {
            (grant.revoked && grant.created_at < now)
                || grant.expires_at.is_some_and(|expires_at| expires_at <= now)
        });
        let before = state.sessions.len()
            + state.codes.len()
            + state.refresh_tokens.len()
            + state.revoked_jtis.len();
        state.sessions.retain(|session| session.expires_at > now);
        state.codes.retain(|(code, _)| code.expires_at > now);
        state
            .refresh_tokens
            .retain(|(token, _)| token.expires_at > now);
        state.revoked_jtis.retain(|_, expires_at| *expires_at > now);
        purged += before
            - (state.sessions.len()
                + state.codes.len()
                + state.refresh_tokens.len()
                + state.revoked_jtis.len());
        Ok(u64::try_from(purged).unwrap_or(u64::MAX))
    }
}

impl State {
    fn push_event(&mut self, event: &AuditEvent) {
        self.next_event_id += 1;
        self.events.push(AuditEvent {
            id: Some(self.next_event_id),
            ..event.clone()
        });
    }
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn record_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut state = self.state();
        state.push_event(event);
        match (event.outcome, event.action, &event.client_id) {
            (Outcome::Success, Action::Register, Some(client_id)) => {
                state
                    .provenance
                    .insert(client_id.clone(), Provenance::of(event));
            }
            (Outcome::Success, Action::Delete | Action::Expire, Some(client_id)) => {
                state.provenance.remove(client_id);
            }
            _ => {}
        }
        Ok(())
    }

    async fn record_refusal(&self, event: &AuditEvent, keep: u64) -> Result<(), StoreError> {
        if keep == 0 {
            return Ok(());
        }
        let mut state = self.state();
        state.push_event(event);
        let refusals = state
            .events
            .iter()
            .filter(|event| event.outcome != Outcome::Success)
            .count();
        let mut excess = refusals.saturating_sub(usize::try_from(keep).unwrap_or(usize::MAX));
        state.events.retain(|event| {
            if excess > 0 && event.outcome != Outcome::Success {
                excess -= 1;
                return false;
            }
            true
        });
        Ok(())
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let state = self.state();
        let mut events: Vec<AuditEvent> =
            state
                .events
                .iter()
                .filter(|event| {
                    filter.client_id.as_ref().is_none_or(|client_id| {
                        event.client_id.as_deref() == Some(client_id.as_str())
                    }) && filter.since.is_none_or(|since| event.time >= since)
                })
                .cloned()
                .collect();
        events.sort_by_key(|event| std::cmp::Reverse((event.time, event.id)));
        events.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
        Ok(events)
    }

    async fn purge_events(&self, before: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let count = state.events.len();
        state.events.retain(|event| event.time >= before);
        Ok(u64::try_from(count - state.events.len()).unwrap_or(u64::MAX))
    }

    async fn client_provenance(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<Provenance>, StoreError> {
        Ok(self.state().provenance.get(client_id.as_str()).cloned())
    }
}

// The default: apply, then record. Each is atomic under the lock, which is enough in memory.
impl RecordedClientStore for MemoryStore {}
