//! The `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6) and `refresh_token` (RFC 6749 §6)
//! grants, and the tokens they issue: an RFC 9068 access token on the user's grant, a rotating
//! refresh token, and an OpenID Connect ID token when `openid` was granted.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use registrar_core::authz::{
    CodeRedemption, Grant, ID_TOKEN_TYPE, IdTokenClaims, RefreshRotation, RefreshToken, User,
    token_hash_claim, verify_code_verifier,
};
use registrar_core::secrets::random_token;
use registrar_core::store::RegisteredClient;
use registrar_core::token::{
    AccessTokenClaims, NewAccessToken, SigningAlgorithm, TokenError, issue_access_token,
};
use registrar_core::{AuthMethod, GrantType, Services, TokenHash};
use serde_json::json;

use super::{AuthenticatedClient, Form};
use crate::authorize::flow::code_hash;
use crate::error::ApiError;
use crate::state::AppState;

/// The hash a refresh token is stored under.
pub fn refresh_hash(services: &Services, token: &str) -> TokenHash {
    services.hasher().hash(&format!("refresh {token}"))
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// RFC 6749 §4.1.3.
pub async fn authorization_code(
    state: &AppState,
    authenticated: &AuthenticatedClient,
    form: &Form,
) -> Result<Response, ApiError> {
    let client = &authenticated.client;
    if !client.metadata.has_grant_type(GrantType::AuthorizationCode) {
        return Err(TokenError::UnauthorizedClient(
            "the client is not registered for the authorization_code grant".to_owned(),
        )
        .into());
    }
    let Some(code) = form.get("code") else {
        return Err(TokenError::InvalidRequest("code is required".to_owned()).into());
    };
    let services = state.pipeline.services();
    let authorizations = services.stores().authorizations();
    let now = services.clock().now();
    let code_hash = code_hash(services, code);
    let invalid = |description: &str| TokenError::InvalidGrant(description.to_owned());
    // Every check runs before the code is spent: someone holding a leaked code without its
    // verifier, or another client, must not burn it (the real client's redemption would then
    // look like a replay and revoke the grant).
    let Some(stored) = authorizations.find_code(&code_hash).await? else {
        return Err(invalid("the code is not valid").into());
    };
    if stored.used {
        return Err(code_reused(state, client, &stored.code.grant_id).await);
    }
    let code = stored.code;
    if code.client_id != client.client_id {
        return Err(invalid("the code was issued to another client").into());
    }
    if now >= code.expires_at {
        return Err(invalid("the code expired").into());
    }
    if form.get("redirect_uri") != Some(code.redirect_uri.as_str()) {
        return Err(invalid("redirect_uri must be the one of the authorization request").into());
    }
    let Some(verifier) = form.get("code_verifier") else {
        return Err(invalid("code_verifier is required (PKCE)").into());
    };
    if !verify_code_verifier(verifier, &code.code_challenge) {
        return Err(invalid("the code_verifier does not match the code_challenge").into());
    }
    // The compare-and-set: of concurrent redemptions that all passed the checks, one wins.
    let code = match authorizations.redeem_code(&code_hash).await? {
        CodeRedemption::Redeemed(code) => code,
        CodeRedemption::AlreadyUsed { grant_id } => {
            return Err(code_reused(state, client, &grant_id).await);
        }
        CodeRedemption::Unknown => return Err(invalid("the code is not valid").into()),
    };
    let (grant, user) = live_grant(state, &code.grant_id, client).await?;
    let resources = narrowed_resources(form, &grant)?;
    let refresh = if grant.expires_at.is_some() {
        Some(new_refresh_token(services, client, &grant))
    } else {
        None
    };
    if let Some((_, stored)) = &refresh {
        authorizations.insert_refresh_token(stored).await?;
    }
    respond(
        state,
        client,
        &grant,
        &user,
        &grant.scopes,
        &resources,
        code.nonce.as_deref(),
        refresh.map(|(token, _)| token),
    )
    .await
}

/// RFC 6749 §4.1.2: a code used twice was stolen or replayed; everything issued from it goes.
async fn code_reused(state: &AppState, client: &RegisteredClient, grant_id: &str) -> ApiError {
    let authorizations = state.pipeline.services().stores().authorizations();
    if let Err(error) = authorizations.revoke_grant(grant_id).await {
        return error.into();
    }
    tracing::warn!(client_id = %client.client_id, "authorization code reused; its grant is revoked");
    TokenError::InvalidGrant(
        "the code was already used; every token issued from it is revoked".to_owned(),
    )
    .into()
}

/// RFC 6749 §6. Public clients get a new refresh token each time and the old one is spent; a
/// spent one presented again revokes the grant (OAuth 2.0 Security BCP §4.14.2). Confidential
/// clients, whose refresh tokens are bound to their credentials, keep theirs.
pub async fn refresh_token(
    state: &AppState,
    authenticated: &AuthenticatedClient,
    form: &Form,
) -> Result<Response, ApiError> {
    let client = &authenticated.client;
    if !client.metadata.has_grant_type(GrantType::RefreshToken) {
        return Err(TokenError::UnauthorizedClient(
            "the client is not registered for the refresh_token grant".to_owned(),
        )
        .into());
    }
    let Some(presented) = form.get("refresh_token") else {
        return Err(TokenError::InvalidRequest("refresh_token is required".to_owned()).into());
    };
    let services = state.pipeline.services();
    let authorizations = services.stores().authorizations();
    let now = services.clock().now();
    let presented_hash = refresh_hash(services, presented);
    let invalid = || TokenError::InvalidGrant("the refresh token is not valid".to_owned());
    let (stored, successor) = if authenticated.method == AuthMethod::None {
        let Some(current) = authorizations
            .find_refresh_token(&presented_hash, now)
            .await?
        else {
            // Spent (rotated) tokens are still known to the store: rotating one reports reuse.
            if let RefreshRotation::Reused { grant_id } = authorizations
                .rotate_refresh_token(&presented_hash, &placeholder(services, client), now)
                .await?
            {
                authorizations.revoke_grant(&grant_id).await?;
                tracing::warn!(client_id = %client.client_id, "refresh token reused; its grant is revoked");
                return Err(TokenError::InvalidGrant(
                    "the refresh token was already used; the grant is revoked".to_owned(),
                )
                .into());
            }
            return Err(invalid().into());
        };
        if current.client_id != client.client_id {
            return Err(invalid().into());
        }
        let Some(grant) = authorizations.get_grant(&current.grant_id).await? else {
            return Err(invalid().into());
        };
        let (token, successor) = new_refresh_token(services, client, &grant);
        match authorizations
            .rotate_refresh_token(&presented_hash, &successor, now)
            .await?
        {
            RefreshRotation::Rotated(old) => (old, Some(token)),
            RefreshRotation::Reused { grant_id } => {
                // A concurrent request rotated it first: one of the two is a replay.
                authorizations.revoke_grant(&grant_id).await?;
                return Err(TokenError::InvalidGrant(
                    "the refresh token was already used; the grant is revoked".to_owned(),
                )
                .into());
            }
            RefreshRotation::Unknown => return Err(invalid().into()),
        }
    } else {
        let Some(current) = authorizations
            .find_refresh_token(&presented_hash, now)
            .await?
        else {
            return Err(invalid().into());
        };
        (current, None)
    };
    if stored.client_id != client.client_id {
        return Err(invalid().into());
    }
    let (grant, user) = live_grant(state, &stored.grant_id, client).await?;
    let scopes = narrowed_scopes(form, &grant)?;
    let resources = narrowed_resources(form, &grant)?;
    respond(
        state, client, &grant, &user, &scopes, &resources, None, successor,
    )
    .await
}

/// A successor that is never stored: it is passed only for a token that is not current at
/// `now`, which rotation never replaces (and it is born expired, and its hash is of no token).
fn placeholder(services: &Services, client: &RegisteredClient) -> RefreshToken {
    let now = services.clock().now();
    RefreshToken {
        token_hash: services.hasher().hash("refresh-placeholder"),
        grant_id: String::new(),
        client_id: client.client_id.clone(),
        issued_at: now,
        expires_at: now,
    }
}

/// The grant, active and the client's, with its user, who must still exist.
async fn live_grant(
    state: &AppState,
    grant_id: &str,
    client: &RegisteredClient,
) -> Result<(Grant, User), ApiError> {
    let services = state.pipeline.services();
    let now = services.clock().now();
    let invalid = || TokenError::InvalidGrant("the grant was revoked or expired".to_owned());
    let Some(grant) = services
        .stores()
        .authorizations()
        .get_grant(grant_id)
        .await?
    else {
        return Err(invalid().into());
    };
    if !grant.is_active(now) || grant.client_id != client.client_id {
        return Err(invalid().into());
    }
    let Some(user) = state.users.find(&grant.user_id).await? else {
        return Err(invalid().into());
    };
    Ok((grant, user))
}

/// RFC 6749 §6: a refresh may ask for less scope, never more.
fn narrowed_scopes(form: &Form, grant: &Grant) -> Result<Vec<String>, TokenError> {
    let Some(requested) = form.get("scope") else {
        return Ok(grant.scopes.clone());
    };
    let mut scopes: Vec<String> = Vec::new();
    for value in requested.split(' ').filter(|value| !value.is_empty()) {
        if !grant.scopes.iter().any(|scope| scope == value) {
            return Err(TokenError::InvalidScope(format!(
                "the scope {value} was not granted"
            )));
        }
        if !scopes.iter().any(|scope| scope == value) {
            scopes.push(value.to_owned());
        }
    }
    Ok(scopes)
}

/// RFC 8707 §2.2: a token request may name one of the granted resources, to get a token for it
/// alone; anything not granted is `invalid_target`.
fn narrowed_resources(form: &Form, grant: &Grant) -> Result<Vec<String>, TokenError> {
    match form.get("resource") {
        None => Ok(grant.resources.clone()),
        Some(resource) if grant.resources.iter().any(|granted| granted == resource) => {
            Ok(vec![resource.to_owned()])
        }
        Some(_) => Err(TokenError::InvalidTarget(
            "the resource was not part of the authorization".to_owned(),
        )),
    }
}

/// A new refresh token of `grant`: its sliding lifetime, capped by the grant's absolute one.
fn new_refresh_token(
    services: &Services,
    client: &RegisteredClient,
    grant: &Grant,
) -> (String, RefreshToken) {
    let limits = &services.settings().lifetimes;
    let now = services.clock().now();
    let sliding = client
        .metadata
        .sliding_refresh_token_lifetime
        .unwrap_or(limits.default_sliding_refresh_token)
        .min(limits.max_sliding_refresh_token);
    let mut expires_at = now.saturating_add(seconds(sliding));
    if let Some(absolute) = grant.expires_at {
        expires_at = expires_at.min(absolute);
    }
    let token = random_token(services.generator().as_ref(), 32);
    let stored = RefreshToken {
        token_hash: refresh_hash(services, &token),
        grant_id: grant.id.clone(),
        client_id: client.client_id.clone(),
        issued_at: now,
        expires_at,
    };
    (token, stored)
}

/// The token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[allow(clippy::too_many_arguments)]
async fn respond(
    state: &AppState,
    client: &RegisteredClient,
    grant: &Grant,
    user: &User,
    scopes: &[String],
    resources: &[String],
    nonce: Option<&str>,
    refresh_token: Option<String>,
) -> Result<Response, ApiError> {
    let services = state.pipeline.services();
    let settings = services.settings();
    let limits = &settings.lifetimes;
    let now = services.clock().now();
    let lifetime = seconds(
        client
            .metadata
            .access_token_lifetime
            .unwrap_or(limits.default_access_token)
            .min(limits.max_access_token),
    );
    // An OpenID grant's token is also for this server's userinfo endpoint, which accepts only
    // tokens whose audience names the issuer (RFC 9068 §4); without resources the issuer is the
    // audience anyway.
    let openid = scopes.iter().any(|scope| scope == "openid");
    let mut audience = resources.to_vec();
    if openid && !audience.is_empty() {
        audience.push(settings.issuer_id().to_owned());
    }
    let claims = AccessTokenClaims::new(
        &NewAccessToken {
            issuer: settings.issuer_id(),
            client_id: client.client_id.as_str(),
            audience: &audience,
            scopes,
            lifetime,
            now,
        },
        services.generator().as_ref(),
    )
    .for_user(&user.id, &grant.id, grant.auth_time);
    let key_ring = state.tokens.key_ring.current(services).await;
    let access_token = issue_access_token(&key_ring, &claims).map_err(TokenError::from)?;
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
    });
    if !scopes.is_empty() {
        body["scope"] = json!(scopes.join(" "));
    }
    if let Some(refresh_token) = refresh_token {
        body["refresh_token"] = json!(refresh_token);
    }
    if openid {
        let algorithm = client
            .metadata
            .id_token_signed_response_alg
            .as_deref()
            .and_then(SigningAlgorithm::parse)
            .unwrap_or(SigningAlgorithm::Rs256);
        let id_lifetime = seconds(
            client
                .metadata
                .identity_token_lifetime
                .unwrap_or(limits.default_identity_token)
                .min(limits.max_identity_token),
        );
        let id_claims = IdTokenClaims {
            iss: settings.issuer_id().to_owned(),
            sub: user.id.clone(),
            aud: client.client_id.as_str().to_owned(),
            azp: client.client_id.as_str().to_owned(),
            exp: now.saturating_add(id_lifetime),
            iat: now,
            auth_time: grant.auth_time,
            nonce: nonce.map(str::to_owned),
            at_hash: Some(token_hash_claim(algorithm, &access_token)),
            sid: None,
        };
        let id_token = key_ring
            .sign_with(algorithm, ID_TOKEN_TYPE, &id_claims)
            .map_err(TokenError::from)?;
        body["id_token"] = json!(id_token);
    }
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
