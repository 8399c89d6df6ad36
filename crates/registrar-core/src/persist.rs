//! The store rules: how a processed client is inserted, replaced or deleted, as free functions
//! of the context. `steps::Persister` calls them.

use crate::caller::Caller;
use crate::context::RegistrationContext;
use crate::error::{IdempotencyError, RegistrationError, StoreError};
use crate::record;
use crate::store::{ClientChange, RegisteredClient, TokenCheck, TokenConsumption};
use crate::validate::StepResult;

/// Applies `change` with its audit event (`Stores::apply_recorded`), and notes that the event is
/// taken care of.
async fn apply(cx: &RegistrationContext, change: ClientChange<'_>) -> Result<bool, StoreError> {
    let event = record::success_event(cx);
    let applied = cx
        .services()
        .stores()
        .apply_recorded(change, &event)
        .await?;
    if applied {
        cx.mark_change_recorded();
    }
    Ok(applied)
}

/// Inserts the client the processor built. With an initial access token, one use is taken in
/// the insert's transaction, or first when the stores are separate (`Stores`); a token that ran
/// out meanwhile inserts nothing and is `invalid_token`. With an `Idempotency-Key` record in the
/// context, the record is inserted in the same transaction, and a key another request stored
/// first inserts nothing and is `409`.
pub async fn insert_client(cx: &RegistrationContext) -> StepResult {
    let Some(client) = cx.client() else {
        return Err(not_processed());
    };
    let stores = cx.services().stores();
    let initial_token = match cx.caller() {
        Caller::InitialAccessToken { token_hash, .. } => Some(token_hash),
        _ => None,
    };
    let max_clients = cx.policy().and_then(|policy| policy.max_clients);
    let insert = |initial_token| ClientChange::Insert {
        client,
        initial_token,
        now: cx.now(),
        max_clients,
        idempotency: cx.idempotency_record(),
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
            apply(cx, insert(None)).await
        }
        (initial_token, _) => apply(cx, insert(initial_token)).await,
    };
    match inserted {
        Ok(_) => Ok(()),
        // Another request used the token's last use between the caller's check and the insert.
        Err(StoreError::InitialTokenRejected) => Err(RegistrationError::InvalidToken),
        Err(StoreError::PolicyFull) => Err(policy_full(cx)),
        // Another request with the same key won the record's primary key.
        Err(StoreError::Duplicate("idempotency_key")) => Err(RegistrationError::IdempotencyKey(
            IdempotencyError::InProgress,
        )),
        Err(error) => Err(error.into()),
    }
}

fn policy_full(cx: &RegistrationContext) -> RegistrationError {
    let (name, max) = cx
        .policy()
        .map(|policy| (policy.name.as_str(), policy.max_clients.unwrap_or(0)))
        .unwrap_or_default();
    RegistrationError::AccessDenied(format!(
        "policy '{name}' allows at most {max} clients, and holds that many"
    ))
}

/// A dry run stores nothing, but says whether the policy's cap would refuse the client.
pub async fn check_capacity(cx: &RegistrationContext) -> StepResult {
    let Some(policy) = cx.policy() else {
        return Ok(());
    };
    let Some(max) = policy.max_clients else {
        return Ok(());
    };
    let count = cx
        .services()
        .stores()
        .clients()
        .count_clients_with_policy(&policy.name)
        .await?;
    if count >= max {
        return Err(policy_full(cx));
    }
    Ok(())
}

/// RFC 7592 §2.2: replaces the stored client and rotates its registration access token, as a
/// compare-and-set on the token the caller presented; of two concurrent updates one wins, the
/// other is `invalid_token`.
pub async fn replace_client(cx: &RegistrationContext) -> StepResult {
    let Some(client) = cx.client() else {
        return Err(not_processed());
    };
    if cx.caller().is_administrator() {
        // RFC 7592 leaves administrators out; their update must not rotate the client's token.
        let replaced = apply(cx, ClientChange::ReplaceKeepingToken { client }).await?;
        if !replaced {
            return Err(RegistrationError::InvalidToken);
        }
        return drop_outdated_grants(cx, client).await;
    }
    let Caller::Client { token_hash, .. } = cx.caller() else {
        return Err(RegistrationError::InvalidToken);
    };
    let check = TokenCheck {
        presented: token_hash,
        now: cx.now(),
    };
    let grace = i64::try_from(cx.settings().registration_token_grace).unwrap_or(i64::MAX);
    let change = ClientChange::Replace {
        client,
        check,
        previous_valid_until: cx.now().saturating_add(grace),
    };
    let replaced = apply(cx, change).await?;
    if !replaced {
        return Err(RegistrationError::InvalidToken);
    }
    drop_outdated_grants(cx, client).await
}

/// Users consented to a client as it then presented itself: when an update changes where its
/// codes go, what it is called, its logo or its scope, that consent and every grant made on it
/// are dropped, and users are asked again.
async fn drop_outdated_grants(cx: &RegistrationContext, client: &RegisteredClient) -> StepResult {
    let Some(current) = cx.current() else {
        return Ok(());
    };
    let (before, after) = (&current.metadata, &client.metadata);
    let changed = before.redirect_uris != after.redirect_uris
        || before.client_name != after.client_name
        || before.logo_uri != after.logo_uri
        || before.scope != after.scope
        || before.localized != after.localized;
    if changed {
        cx.services()
            .stores()
            .authorizations()
            .revoke_client_grants(&client.client_id)
            .await?;
    }
    Ok(())
}

/// Stores what a refetched Client ID Metadata Document made of its client, keeping its standing.
/// Grants made under the document as it was are revoked when it changed where codes go, how
/// the client presents itself (as for an update) or the keys it authenticates with: before the
/// replacement, so a failure in between leaves the old document stored and no grant of it
/// alive, and after it, for a grant made in between. Returns false when the client was deleted
/// meanwhile.
pub async fn replace_document_client(cx: &RegistrationContext) -> Result<bool, RegistrationError> {
    let Some(client) = cx.client() else {
        return Err(not_processed());
    };
    let keys_changed = cx
        .current()
        .is_some_and(|current| crate::cimd::keys_changed(&current.metadata, &client.metadata));
    let revoke = || async {
        if keys_changed {
            cx.services()
                .stores()
                .authorizations()
                .revoke_client_grants(&client.client_id)
                .await?;
        }
        drop_outdated_grants(cx, client).await
    };
    revoke().await?;
    let replaced = apply(cx, ClientChange::ReplaceKeepingToken { client }).await?;
    // Again once the new document is stored: a grant made in between was made under the old one.
    revoke().await?;
    Ok(replaced)
}

/// RFC 7592 §2.3: deletes the client with its secret and tokens.
pub async fn delete_client(cx: &RegistrationContext) -> StepResult {
    let Some(client_id) = cx.client_id() else {
        return Err(RegistrationError::InvalidToken);
    };
    if !apply(cx, ClientChange::Delete { client_id }).await? {
        return Err(RegistrationError::InvalidToken);
    }
    // The SQL backends delete the grants with the client; a separate authorization store
    // (`Stores::with_authorizations`) learns it here.
    cx.services()
        .stores()
        .authorizations()
        .revoke_client_grants(client_id)
        .await?;
    Ok(())
}

fn not_processed() -> RegistrationError {
    RegistrationError::Store(StoreError::Backend(
        "the store step needs the client the processor builds".to_owned(),
    ))
}
