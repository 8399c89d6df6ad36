//! Minting initial access tokens, for the CLI and for tests.

use crate::error::StoreError;
use crate::secrets::{Secret, SecretGenerator, TokenHasher, random_token};
use crate::store::{InitialAccessToken, InitialAccessTokenStore};

/// What `registrar initial-token create` asks for.
#[derive(Debug, Clone, Default)]
pub struct InitialTokenOptions {
    /// Lifetime in seconds; `None` means the token does not expire.
    pub expires_in: Option<u64>,
    /// How many clients the token may register; `None` means no limit.
    pub max_uses: Option<u32>,
    /// A note for whoever lists tokens later.
    pub note: Option<String>,
    /// The policy the clients it registers get; the caller checks that it is configured.
    pub policy: Option<String>,
}

/// Stores a new initial access token and returns it in clear, the only time it is visible.
pub async fn mint_initial_token(
    store: &dyn InitialAccessTokenStore,
    generator: &dyn SecretGenerator,
    hasher: &TokenHasher,
    now: i64,
    options: InitialTokenOptions,
) -> Result<(Secret, InitialAccessToken), StoreError> {
    let token = Secret::new(random_token(generator, 32));
    let record = InitialAccessToken {
        id: random_token(generator, 9),
        token_hash: hasher.hash(token.expose()),
        created_at: now,
        expires_at: options
            .expires_in
            .map(|seconds| now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX))),
        max_uses: options.max_uses,
        uses: 0,
        note: options.note,
        policy: options.policy,
    };
    store.insert_initial_token(&record).await?;
    Ok((token, record))
}
