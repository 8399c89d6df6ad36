//! Fixtures the checks share: random ids, client and token builders, and shorthands that fail a
//! check with the store's error.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use serde_json::json;
use tokio::sync::Barrier;

use crate::authz::{
    AuthorizationCode, AuthorizationStore, CodeRedemption, Consent, Grant, RefreshToken, Session,
    User,
};
use crate::error::StoreError;
use crate::ids::ClientId;
use crate::lifecycle::ClientState;
use crate::metadata::ClientMetadata;
use crate::secrets::{OsRandom, TokenHash, TokenHasher, random_token};
use crate::store::{
    ClientStore, InitialAccessToken, InitialAccessTokenStore, RegisteredClient, StoredSecret,
    TokenCheck,
};
use crate::token::{SigningAlgorithm, SigningKeyStore, StoredSigningKey};

/// The "now" of every check; any fixed instant does.
pub(crate) const NOW: i64 = 1_700_000_000;

/// A random id with a readable prefix, made only of unreserved characters.
pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", random_token(&OsRandom, 12))
}

pub(crate) fn client_id(prefix: &str) -> ClientId {
    ClientId::parse(&unique(prefix)).expect("random ids are valid client ids")
}

/// The hash of a fresh random credential.
pub(crate) fn token_hash() -> TokenHash {
    TokenHasher::new(b"store contract").hash(&random_token(&OsRandom, 32))
}

/// A client with a registration access token and nothing else.
pub(crate) fn minimal_client(prefix: &str) -> RegisteredClient {
    RegisteredClient {
        client_id: client_id(prefix),
        client_id_issued_at: NOW,
        secret: None,
        registration_token: Some(token_hash()),
        metadata: ClientMetadata::default(),
        initial_token_id: None,
        registered_anonymously: true,
        updated_at: NOW,
        extensions: serde_json::Map::new(),
        policy: None,
        state: ClientState::default(),
    }
}

/// A client with every metadata field set, localized names, a secret and provenance.
pub(crate) fn full_client(prefix: &str) -> RegisteredClient {
    let strings = |values: &[&str]| values.iter().map(|value| (*value).to_owned()).collect();
    let text = |value: &str| Some(value.to_owned());
    let localized: BTreeMap<String, String> = [
        ("client_name#ja-Jpan-JP", "クライアント名"),
        ("client_name#fr", "Nom du client"),
        ("logo_uri#de", "https://client.example/logo-de.png"),
        ("tos_uri#en-GB", "https://client.example/tos-gb"),
        ("policy_uri#es", "https://client.example/privacidad"),
        ("client_uri#it", "https://client.example/it"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let metadata = ClientMetadata {
        redirect_uris: strings(&[
            "https://client.example/callback",
            "https://client.example/callback2?x=1",
        ]),
        token_endpoint_auth_method: text("client_secret_basic"),
        grant_types: strings(&["authorization_code", "refresh_token", "client_credentials"]),
        response_types: strings(&["code"]),
        client_name: text("Example Client \u{1F600} \"quoted\""),
        client_uri: text("https://client.example/"),
        logo_uri: text("https://client.example/logo.png"),
        scope: text("openid profile email offline_access"),
        contacts: strings(&["ops@client.example", "security@client.example"]),
        tos_uri: text("https://client.example/tos"),
        policy_uri: text("https://client.example/policy"),
        jwks_uri: text("https://client.example/jwks.json"),
        jwks: Some(json!({
            "keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]
        })),
        software_id: text("4NRB1-0XZABZI9E6-5SM3R"),
        software_version: text("2.1"),
        software_statement: text(
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIn0.c2ln",
        ),
        application_type: text("web"),
        sector_identifier_uri: text("https://client.example/sector.json"),
        subject_type: text("pairwise"),
        id_token_signed_response_alg: text("ES256"),
        id_token_encrypted_response_alg: text("RSA-OAEP-256"),
        id_token_encrypted_response_enc: text("A256GCM"),
        userinfo_signed_response_alg: text("RS256"),
        userinfo_encrypted_response_alg: text("ECDH-ES"),
        userinfo_encrypted_response_enc: text("A128CBC-HS256"),
        request_object_signing_alg: text("PS256"),
        request_object_encryption_alg: text("RSA-OAEP"),
        request_object_encryption_enc: text("A192GCM"),
        token_endpoint_auth_signing_alg: text("EdDSA"),
        default_max_age: Some(86_400),
        require_auth_time: Some(true),
        default_acr_values: strings(&["urn:mace:incommon:iap:silver", "phr"]),
        initiate_login_uri: text("https://client.example/login"),
        request_uris: strings(&["https://client.example/request.jwt#abc"]),
        post_logout_redirect_uris: strings(&["https://client.example/logged-out"]),
        frontchannel_logout_uri: text("https://client.example/fc-logout"),
        frontchannel_logout_session_required: Some(false),
        backchannel_logout_uri: text("https://client.example/bc-logout"),
        backchannel_logout_session_required: Some(true),
        access_token_lifetime: Some(3_600),
        identity_token_lifetime: Some(300),
        authorization_code_lifetime: Some(60),
        absolute_refresh_token_lifetime: Some(2_592_000),
        sliding_refresh_token_lifetime: Some(1_296_000),
        consent_lifetime: Some(u64::from(u32::MAX) + 1),
        localized,
    };
    RegisteredClient {
        client_id: client_id(prefix),
        client_id_issued_at: NOW - 86_400,
        secret: Some(StoredSecret {
            hash: token_hash(),
            expires_at: NOW + 86_400,
            encrypted: None,
        }),
        registration_token: Some(token_hash()),
        metadata,
        initial_token_id: Some(unique("token")),
        registered_anonymously: false,
        updated_at: NOW,
        extensions: json!({"x_tenant": "acme", "x_flags": {"beta": true, "tier": 3}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        policy: Some("partner".to_owned()),
        state: ClientState {
            last_used_at: Some(NOW - 3_600),
            blocked_at: Some(NOW - 60),
        },
    }
}

/// `client` as a `PUT` at `now` would leave it: new metadata, secret and registration token.
pub(crate) fn replaced(client: &RegisteredClient, now: i64) -> RegisteredClient {
    let suffix = random_token(&OsRandom, 6);
    RegisteredClient {
        secret: Some(StoredSecret {
            hash: token_hash(),
            expires_at: 0,
            encrypted: None,
        }),
        registration_token: Some(token_hash()),
        metadata: ClientMetadata {
            client_name: Some(format!("Replaced {suffix}")),
            redirect_uris: vec![format!("https://client.example/{suffix}")],
            grant_types: vec!["authorization_code".to_owned()],
            ..client.metadata.clone()
        },
        updated_at: now,
        ..client.clone()
    }
}

/// Stands in for a `SecretCipher` ciphertext; the store keeps it as opaque text.
pub(crate) fn sealed_secret() -> String {
    random_token(&OsRandom, 48)
}

/// A key as `SigningKey::seal` would store it, with a random kid and stand-in key material.
pub(crate) fn signing_key(
    algorithm: SigningAlgorithm,
    created_at: i64,
    retired_at: Option<i64>,
) -> StoredSigningKey {
    let kid = unique("kid");
    StoredSigningKey {
        public_jwk: json!({
            "kty": "stand-in",
            "x": random_token(&OsRandom, 32),
            "kid": kid,
            "alg": algorithm.as_str(),
            "use": "sig",
            "key_ops": ["verify"],
        }),
        kid,
        algorithm,
        encrypted_private_key: sealed_secret(),
        created_at,
        retired_at,
    }
}

/// An unused initial access token with a random id and hash, created a minute before [`NOW`].
pub(crate) fn initial_token(max_uses: Option<u32>, expires_at: Option<i64>) -> InitialAccessToken {
    InitialAccessToken {
        id: unique("token"),
        token_hash: token_hash(),
        created_at: NOW - 60,
        expires_at,
        max_uses,
        uses: 0,
        note: None,
        policy: Some("ci".to_owned()),
    }
}

/// The hash of the client's current registration access token.
pub(crate) fn registration_token(client: &RegisteredClient) -> TokenHash {
    client
        .registration_token
        .clone()
        .expect("fixture clients have a registration access token")
}

/// Presents `presented` at `now`.
pub(crate) fn check(presented: &TokenHash, now: i64) -> TokenCheck<'_> {
    TokenCheck { presented, now }
}

// Shorthands that fail the check with the store's error.

/// The value of a store call that must succeed.
pub(crate) fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|error| panic!("{what}: unexpected store error {error:?}"))
}

/// The stored client with that id, if any.
pub(crate) async fn get(store: &dyn ClientStore, client_id: &ClientId) -> Option<RegisteredClient> {
    ok(store.get_client(client_id).await, "get_client")
}

/// The client a registration access token finds at `now`, if any.
pub(crate) async fn find(
    store: &dyn ClientStore,
    presented: &TokenHash,
    now: i64,
) -> Option<RegisteredClient> {
    ok(
        store
            .find_client_by_registration_token(check(presented, now))
            .await,
        "find_client_by_registration_token",
    )
}

/// The stored keys whose kids are among `keys`, in the store's order.
pub(crate) async fn our_signing_keys(
    store: &dyn SigningKeyStore,
    keys: &[StoredSigningKey],
) -> Vec<StoredSigningKey> {
    ok(store.list_signing_keys().await, "list_signing_keys")
        .into_iter()
        .filter(|listed| keys.iter().any(|key| key.kid == listed.kid))
        .collect()
}

/// How many uses of a stored initial access token are taken.
pub(crate) async fn uses(store: &dyn InitialAccessTokenStore, token: &InitialAccessToken) -> u32 {
    ok(
        store.find_initial_token(&token.token_hash).await,
        "find_initial_token",
    )
    .expect("the initial token is stored")
    .uses
}

/// Initial access tokens that can register no client at [`NOW`], named, each with whether it is
/// to be stored (the unknown one is not).
pub(crate) fn unusable_initial_tokens() -> [(&'static str, InitialAccessToken, bool); 5] {
    [
        ("expiring now", initial_token(None, Some(NOW)), true),
        ("expired", initial_token(Some(5), Some(NOW - 1)), true),
        (
            "used up",
            InitialAccessToken {
                uses: 1,
                ..initial_token(Some(1), None)
            },
            true,
        ),
        ("max_uses 0", initial_token(Some(0), Some(NOW + 60)), true),
        ("unknown", initial_token(None, None), false),
    ]
}

/// A user with a random id and username, added a minute before [`NOW`], with every claim.
pub(crate) fn user(prefix: &str) -> User {
    User {
        id: unique(prefix),
        username: unique(&format!("{prefix}-name")),
        password_hash: format!(
            "$argon2id$v=19$m=19456,t=2,p=1${}",
            random_token(&OsRandom, 22)
        ),
        created_at: NOW - 60,
        name: Some("Ada Lovelace \u{1F600}".to_owned()),
        email: Some("ada@example.com".to_owned()),
        email_verified: true,
    }
}

/// A session of `user_id` with a random id, ending at `expires_at`.
pub(crate) fn session(user_id: &str, expires_at: i64) -> Session {
    Session {
        id_hash: token_hash(),
        user_id: user_id.to_owned(),
        auth_time: NOW - 30,
        expires_at,
    }
}

/// A consent of `user_id` to `client_id`, given at [`NOW`].
pub(crate) fn consent(user_id: &str, client_id: &ClientId, scopes: &[&str]) -> Consent {
    Consent {
        user_id: user_id.to_owned(),
        client_id: client_id.clone(),
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        resources: vec!["https://api.example.com/".to_owned()],
        granted_at: NOW,
        expires_at: Some(NOW + 86_400),
    }
}

/// An unrevoked grant with a random id to `client_id` from `user_id`, made at [`NOW`], whose
/// refresh tokens stop working a day later.
pub(crate) fn grant(client_id: &ClientId, user_id: &str) -> Grant {
    Grant {
        id: unique("grant"),
        client_id: client_id.clone(),
        user_id: user_id.to_owned(),
        scopes: vec!["openid".to_owned(), "offline_access".to_owned()],
        resources: vec!["https://api.example.com/".to_owned()],
        auth_time: NOW - 30,
        created_at: NOW,
        expires_at: Some(NOW + 86_400),
        revoked: false,
    }
}

/// A code of `grant` with a random hash, issued at [`NOW`] and expiring at `expires_at`.
pub(crate) fn code(grant: &Grant, expires_at: i64) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: token_hash(),
        grant_id: grant.id.clone(),
        client_id: grant.client_id.clone(),
        redirect_uri: "https://client.example/callback?x=1".to_owned(),
        code_challenge: random_token(&OsRandom, 43),
        nonce: Some(unique("nonce")),
        issued_at: NOW,
        expires_at,
    }
}

/// A refresh token of `grant` with a random hash, issued at [`NOW`] and expiring at
/// `expires_at`.
pub(crate) fn refresh_token(grant: &Grant, expires_at: i64) -> RefreshToken {
    RefreshToken {
        token_hash: token_hash(),
        grant_id: grant.id.clone(),
        client_id: grant.client_id.clone(),
        issued_at: NOW,
        expires_at,
    }
}

/// Stores `grant` with a first code that expires ten minutes after [`NOW`], and returns the
/// code.
pub(crate) async fn store_grant(
    store: &dyn AuthorizationStore,
    grant: &Grant,
) -> AuthorizationCode {
    let first_code = code(grant, NOW + 600);
    ok(
        store.insert_grant_with_code(grant, &first_code).await,
        "insert_grant_with_code",
    );
    first_code
}

/// Stores a refresh token of `grant` that expires an hour after [`NOW`], and returns it.
pub(crate) async fn store_refresh_token(
    store: &dyn AuthorizationStore,
    grant: &Grant,
) -> RefreshToken {
    let token = refresh_token(grant, NOW + 3_600);
    ok(
        store.insert_refresh_token(&token).await,
        "insert_refresh_token",
    );
    token
}

/// The stored grant with that id, if any.
pub(crate) async fn stored_grant(store: &dyn AuthorizationStore, grant_id: &str) -> Option<Grant> {
    ok(store.get_grant(grant_id).await, "get_grant")
}

/// What redeeming the code finds.
pub(crate) async fn redeem(
    store: &dyn AuthorizationStore,
    code_hash: &TokenHash,
) -> CodeRedemption {
    ok(store.redeem_code(code_hash).await, "redeem_code")
}

/// The current refresh token with that hash at [`NOW`], if any.
pub(crate) async fn current_token(
    store: &dyn AuthorizationStore,
    token_hash: &TokenHash,
) -> Option<RefreshToken> {
    ok(
        store.find_refresh_token(token_hash, NOW).await,
        "find_refresh_token",
    )
}

/// The user's consent for the client, if any.
pub(crate) async fn stored_consent(
    store: &dyn AuthorizationStore,
    consent: &Consent,
) -> Option<Consent> {
    ok(
        store
            .find_consent(&consent.user_id, &consent.client_id)
            .await,
        "find_consent",
    )
}

/// Runs `attempt(i)` for `callers` tasks released together by a barrier, so that they race for
/// the same rows, and returns their outcomes in the order of `i`.
pub(crate) async fn race<T, F>(callers: usize, attempt: impl Fn(usize) -> F) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(callers));
    let tasks: Vec<_> = (0..callers)
        .map(|index| {
            let barrier = Arc::clone(&barrier);
            // Not polled until the task runs, so nothing starts before the barrier.
            let attempt = attempt(index);
            tokio::spawn(async move {
                barrier.wait().await;
                attempt.await
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(callers);
    for task in tasks {
        outcomes.push(task.await.expect("a racing task panicked"));
    }
    outcomes
}
