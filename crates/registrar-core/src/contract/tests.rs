//! The contract run on `MemoryStore`, a store in memory that keeps to it, and on flawed copies of
//! it, which the checks must catch.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::ids::ClientId;
use crate::secrets::TokenHash;
use crate::store::{
    ClientStore, ClientSummary, InitialAccessToken, InitialAccessTokenStore, RegisteredClient,
    TokenCheck,
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
    /// Checks that a token is usable, lets go of the lock, and only then takes the use.
    checks_then_takes: bool,
    /// Takes uses of expired tokens.
    ignores_expiry: bool,
}

/// Every store trait in memory, behind one lock, so that each method is one atomic step.
#[derive(Debug, Default)]
struct MemoryStore {
    state: Mutex<State>,
    flaws: Flaws,
    cap_lock: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    /// In insertion order, so that clients issued at the same time list in a stable order.
    clients: Vec<StoredClient>,
    initial_tokens: Vec<InitialAccessToken>,
    signing_keys: Vec<StoredSigningKey>,
    jtis: HashSet<(String, String)>,
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
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
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
}
