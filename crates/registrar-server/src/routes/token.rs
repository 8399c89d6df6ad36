//! `POST /connect/token`: the `client_credentials` grant (RFC 6749 §4.4) here, the
//! `authorization_code` and `refresh_token` grants in `token::grants`; JWT access tokens
//! (RFC 9068).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use registrar_core::audit::{clip, count_event};
use registrar_core::token::{AccessTokenClaims, NewAccessToken, TokenError, issue_access_token};
use registrar_core::{AuthMethod, GrantType};
use serde_json::json;

use crate::error::ApiError;
use crate::metrics::http::ErrorCode;
use crate::metrics::record;
use crate::routes::limits::{ClientAddress, authenticate_client_limited};
use crate::state::AppState;
use crate::token::{AuthenticatedClient, Form, grants, record_use};

pub(crate) fn routes(base: &str) -> Router<AppState> {
    Router::new().route(&format!("{base}/connect/token"), post(issue_token))
}

/// The granted scope: the requested one if the client registered every value of it, else the
/// registered scope (RFC 6749 §3.3).
fn granted_scope(requested: Option<&str>, registered: &[&str]) -> Result<Vec<String>, TokenError> {
    let Some(requested) = requested else {
        return Ok(registered.iter().map(|scope| (*scope).to_owned()).collect());
    };
    let mut granted = Vec::new();
    for value in requested.split(' ') {
        if value.is_empty() {
            return Err(TokenError::InvalidRequest(
                "scope must be scope values separated by single spaces".to_owned(),
            ));
        }
        if !registered.contains(&value) {
            return Err(TokenError::InvalidScope(format!(
                "the scope {value} is not registered for this client"
            )));
        }
        if !granted.iter().any(|scope: &String| scope == value) {
            granted.push(value.to_owned());
        }
    }
    Ok(granted)
}

/// RFC 6749 §4.4.2 and §5.1. Every answer is counted in the token metrics and is an audit
/// event in the log (target `registrar::audit`, action `token`), never a database write.
pub async fn issue_token(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    form: Result<Form, ApiError>,
) -> Response {
    let grant_type = form.as_ref().ok().and_then(|form| form.get("grant_type"));
    // Bounded: a grant type this server knows, else `unsupported`; empty when there is none.
    let grant_label = grant_type.map_or("", |grant_type| {
        GrantType::parse(grant_type).map_or("unsupported", GrantType::as_str)
    });
    let grant_type = grant_type.map(clip);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(clip);
    let source_ip = address.0;
    let mut client_id = None;
    let (response, error) =
        match answer_token_request(&state, address, &headers, form, &mut client_id).await {
            Ok((response, method)) => {
                record::token_issued(grant_label, method.as_str());
                (response, None)
            }
            Err(error) => {
                let response = error.into_response();
                let code = response
                    .extensions()
                    .get::<ErrorCode>()
                    .map_or("", |ErrorCode(code)| code);
                record::token_refused(grant_label, code);
                (response, Some(code))
            }
        };
    let outcome = if error.is_none() {
        "success"
    } else {
        "refused"
    };
    count_event("token", outcome);
    tracing::info!(
        target: "registrar::audit",
        action = "token",
        outcome,
        client_id = client_id.as_deref(),
        grant_type = grant_type.as_deref(),
        source_ip = source_ip.map(|ip| ip.to_string()).as_deref(),
        user_agent = user_agent.as_deref(),
        error,
        "audit event"
    );
    response
}

/// The token response and the method the client authenticated with; `client_id` gets the
/// client once it authenticated.
async fn answer_token_request(
    state: &AppState,
    address: ClientAddress,
    headers: &HeaderMap,
    form: Result<Form, ApiError>,
    client_id: &mut Option<String>,
) -> Result<(Response, AuthMethod), ApiError> {
    let form = form?;
    let pipeline = &state.pipeline;
    let Some(grant_type) = form.get("grant_type") else {
        return Err(TokenError::InvalidRequest("grant_type is required".to_owned()).into());
    };
    let authenticated = authenticate_client_limited(state, address, headers, &form).await?;
    let method = authenticated.method;
    *client_id = Some(authenticated.client.client_id.as_str().to_owned());
    let response = grant(state, &authenticated, grant_type, &form).await?;
    // A public client proved nothing by naming itself: its use is the token it got.
    if method == AuthMethod::None {
        record_use(pipeline, &authenticated.client).await;
    }
    Ok((response, method))
}

/// The response of the grant `grant_type` to an authenticated client.
async fn grant(
    state: &AppState,
    authenticated: &AuthenticatedClient,
    grant_type: &str,
    form: &Form,
) -> Result<Response, ApiError> {
    let pipeline = &state.pipeline;
    match GrantType::parse(grant_type) {
        Some(GrantType::ClientCredentials) => {}
        Some(GrantType::AuthorizationCode) => {
            return grants::authorization_code(state, authenticated, form).await;
        }
        Some(GrantType::RefreshToken) => {
            return grants::refresh_token(state, authenticated, form).await;
        }
        _ => {
            return Err(TokenError::UnsupportedGrantType(format!(
                "the grant type {grant_type} is not supported; this server issues authorization_code, refresh_token and client_credentials"
            ))
            .into());
        }
    }
    // RFC 8707 §2: the token's audience; without one, this server. No user stands behind this
    // token, so it names only a configured resource, never any URL a client picks.
    let audience: Vec<String> = match form.get("resource") {
        Some(resource)
            if pipeline.settings().resources.is_some()
                && pipeline.settings().accepts_resource(resource) =>
        {
            vec![resource.to_owned()]
        }
        Some(_) => {
            return Err(TokenError::InvalidTarget(
                "resource must be one of the resources this server is configured to issue client_credentials tokens for".to_owned(),
            )
            .into());
        }
        None => Vec::new(),
    };
    let client = &authenticated.client;
    if !client.metadata.has_grant_type(GrantType::ClientCredentials)
        || authenticated.method == AuthMethod::None
    {
        return Err(TokenError::UnauthorizedClient(
            "the client is not registered for the client_credentials grant".to_owned(),
        )
        .into());
    }
    let settings = pipeline.settings();
    // The client's policy as configured now: one tightened or removed since the registration
    // takes effect at once (a removed one falls back to open registration's rules).
    let policy = client.policy_in(&settings.policies);
    if !policy.allow_client_credentials {
        return Err(TokenError::UnauthorizedClient(format!(
            "policy '{}' does not allow the client_credentials grant",
            policy.name
        ))
        .into());
    }
    let registered: Vec<&str> = client
        .metadata
        .scopes()
        .filter(|scope| *scope != settings.bearer_scope || policy.allow_registration_scope)
        .collect();
    let scopes = granted_scope(form.get("scope"), &registered)?;
    let lifetime = client
        .metadata
        .access_token_lifetime
        .unwrap_or(settings.lifetimes.default_access_token)
        .min(settings.lifetimes.max_access_token);
    let lifetime = i64::try_from(lifetime).unwrap_or(i64::MAX);
    let claims = AccessTokenClaims::new(
        &NewAccessToken {
            issuer: settings.issuer_id(),
            client_id: client.client_id.as_str(),
            audience: &audience,
            scopes: &scopes,
            lifetime,
            now: pipeline.services().clock().now(),
        },
        pipeline.services().generator().as_ref(),
    );
    let key_ring = state.tokens.key_ring.current(pipeline.services()).await;
    let access_token = issue_access_token(&key_ring, &claims).map_err(TokenError::from)?;
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
    });
    if !scopes.is_empty() {
        body["scope"] = json!(scopes.join(" "));
    }
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::granted_scope;

    #[test]
    fn requested_scope_must_be_within_the_registered_scope() {
        let registered = ["openid", "email"];
        assert_eq!(
            granted_scope(None, &registered).unwrap(),
            ["openid", "email"]
        );
        assert_eq!(
            granted_scope(Some("email"), &registered).unwrap(),
            ["email"]
        );
        assert_eq!(
            granted_scope(Some("email email"), &registered).unwrap(),
            ["email"]
        );
        assert_eq!(
            granted_scope(Some("profile"), &registered)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
        assert_eq!(
            granted_scope(Some("email  openid"), &registered)
                .unwrap_err()
                .code(),
            "invalid_request"
        );
        assert!(granted_scope(None, &[]).unwrap().is_empty());
    }
}
