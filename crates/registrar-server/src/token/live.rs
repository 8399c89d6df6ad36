//! Whether one of this server's access tokens is still good: signature, type, issuer, expiry,
//! a client that still exists, and, for a token of a user's grant, a grant that was not revoked;
//! for a client's own token, no RFC 7009 revocation of its `jti`.

use registrar_core::ClientId;
use registrar_core::token::{
    AccessTokenClaims, AccessTokenError, VerifyError, verify_access_token,
};

use crate::error::ApiError;
use crate::state::AppState;

/// The claims of `token` if it is live now; `None` for anything else.
pub async fn live_access_token(
    state: &AppState,
    token: &str,
) -> Result<Option<AccessTokenClaims>, ApiError> {
    let services = state.pipeline.services();
    let issuer = services.settings().issuer_id();
    let now = services.clock().now();
    let key_ring = state.tokens.key_ring.current(services).await;
    let verified = match verify_access_token(&key_ring, token, issuer, now) {
        // Another instance may have rotated to a key this one has not loaded yet.
        Err(AccessTokenError::Signature(VerifyError::UnknownKey)) => {
            let key_ring = state.tokens.key_ring.reload_for_unknown_key(services).await;
            verify_access_token(&key_ring, token, issuer, now)
        }
        other => other,
    };
    let claims = match verified {
        Ok(claims) => claims,
        Err(reason) => {
            tracing::debug!(%reason, "access token is not live");
            return Ok(None);
        }
    };
    let stores = services.stores();
    // A deleted, blocked or expired client's tokens die with it.
    let Some(client_id) = ClientId::parse(&claims.client_id) else {
        return Ok(None);
    };
    if services.usable_client(&client_id).await?.is_none() {
        return Ok(None);
    }
    match &claims.grant_id {
        Some(grant_id) => {
            let grant = stores.authorizations().get_grant(grant_id).await?;
            if !grant.is_some_and(|grant| grant.is_active(now) && grant.client_id == client_id) {
                return Ok(None);
            }
        }
        None => {
            if stores
                .authorizations()
                .is_access_token_revoked(&claims.jti)
                .await?
            {
                return Ok(None);
            }
        }
    }
    Ok(Some(claims))
}
