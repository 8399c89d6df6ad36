//! The store rules: how a processed client is inserted, replaced or deleted, as free functions
//! of the context. `steps::Persister` calls them.

use crate::caller::Caller;
use crate::context::RegistrationContext;
use crate::error::{RegistrationError, StoreError};
use crate::store::{TokenCheck, TokenConsumption};
use crate::validate::StepResult;

/// Inserts the client the processor built. With an initial access token, one use is taken in
/// the insert's transaction, or first when the stores are separate (`Stores`); a token that ran
/// out meanwhile inserts nothing and is `invalid_token`.
pub async fn insert_client(cx: &RegistrationContext) -> StepResult {
    let Some(client) = cx.client() else {
        return Err(not_processed());
    };
    let stores = cx.services().stores();
    let initial_token = match cx.caller() {
        Caller::InitialAccessToken { token_hash, .. } => Some(token_hash),
        Caller::Anonymous | Caller::Client { .. } | Caller::Principal(_) => None,
    };
    let inserted = match (initial_token, stores.token_consumption()) {
        (Some(token_hash), TokenConsumption::BeforeInsert) => {
            if !stores
                .initial_tokens()
                .consume_initial_token(token_hash, cx.now())
                .await?
            {
                return Err(RegistrationError::InvalidToken);
            }
            stores.clients().insert_client(client, None, cx.now()).await
        }
        (initial_token, _) => {
            stores
                .clients()
                .insert_client(client, initial_token, cx.now())
                .await
        }
    };
    match inserted {
        Ok(()) => Ok(()),
        // Another request used the token's last use between the caller's check and the insert.
        Err(StoreError::InitialTokenRejected) => Err(RegistrationError::InvalidToken),
        Err(error) => Err(error.into()),
    }
}

/// RFC 7592 §2.2: replaces the stored client and rotates its registration access token, as a
/// compare-and-set on the token the caller presented; of two concurrent updates one wins, the
/// other is `invalid_token`.
pub async fn replace_client(cx: &RegistrationContext) -> StepResult {
    let Some(client) = cx.client() else {
        return Err(not_processed());
    };
    let Caller::Client { token_hash, .. } = cx.caller() else {
        return Err(RegistrationError::InvalidToken);
    };
    let check = TokenCheck {
        presented: token_hash,
        now: cx.now(),
    };
    let grace = i64::try_from(cx.settings().registration_token_grace).unwrap_or(i64::MAX);
    let replaced = cx
        .services()
        .stores()
        .clients()
        .replace_client(client, check, cx.now().saturating_add(grace))
        .await?;
    if !replaced {
        return Err(RegistrationError::InvalidToken);
    }
    Ok(())
}

/// RFC 7592 §2.3: deletes the client with its secret and tokens.
pub async fn delete_client(cx: &RegistrationContext) -> StepResult {
    let Some(client_id) = cx.client_id() else {
        return Err(RegistrationError::InvalidToken);
    };
    if !cx
        .services()
        .stores()
        .clients()
        .delete_client(client_id)
        .await?
    {
        return Err(RegistrationError::InvalidToken);
    }
    Ok(())
}

fn not_processed() -> RegistrationError {
    RegistrationError::Store(StoreError::Backend(
        "the store step needs the client the processor builds".to_owned(),
    ))
}
