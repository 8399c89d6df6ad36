//! `GET|POST /connect/userinfo` (OpenID Connect Core §5.3): the claims of the user an access
//! token was issued for, as its scope allows.

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, Method};
use axum::routing::get;
use axum::{Json, Router};
use registrar_core::RegistrationError;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::Bearer;
use crate::state::AppState;
use crate::token::Form;
use crate::token::live::live_access_token;

pub(crate) fn routes(base: &str) -> Router<AppState> {
    Router::new().route(
        &format!("{base}/connect/userinfo"),
        get(userinfo).post(userinfo),
    )
}

fn invalid_request(description: &str) -> ApiError {
    ApiError::InvalidRequest(description.to_owned())
}

/// The access token of the request: the `Authorization` header, or for `POST` the form body
/// (RFC 6750 §2.2); never the query string, and never two at once (RFC 6750 §2).
async fn presented_token(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    bearer: Bearer,
    request: Request,
) -> Result<String, ApiError> {
    let in_query = query.is_some_and(|query| {
        url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token")
    });
    if in_query {
        return Err(invalid_request(
            "send the access token in the Authorization header, not in the query string",
        ));
    }
    let in_body = if *method == Method::POST && headers.contains_key("content-type") {
        let form =
            <Form as axum::extract::FromRequest<AppState>>::from_request(request, state).await?;
        form.get("access_token").map(str::to_owned)
    } else {
        None
    };
    match (bearer.token(), in_body) {
        (Some(_), Some(_)) => Err(invalid_request(
            "the access token must be sent by one method only",
        )),
        (Some(token), None) => Ok(token.to_owned()),
        (None, Some(token)) => Ok(token),
        (None, None) => Err(RegistrationError::InvalidToken.into()),
    }
}

/// OIDC Core §5.3.2.
pub async fn userinfo(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    bearer: Result<Bearer, ApiError>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let bearer = bearer?;
    let token =
        presented_token(&state, &method, &headers, query.as_deref(), bearer, request).await?;
    let Some(claims) = live_access_token(&state, &token).await? else {
        return Err(RegistrationError::InvalidToken.into());
    };
    // A token for another resource is not for userinfo: its resource server must not be able
    // to replay it here (RFC 8707, RFC 9068 §4).
    let issuer = state.pipeline.settings().issuer_id();
    if !claims.aud.iter().any(|audience| audience == issuer) {
        return Err(RegistrationError::InvalidToken.into());
    }
    if claims.grant_id.is_none() || !claims.scopes().any(|scope| scope == "openid") {
        return Err(RegistrationError::InsufficientScope {
            scope: "openid".to_owned(),
        }
        .into());
    }
    let Some(user) = state.users.find(&claims.sub).await? else {
        return Err(RegistrationError::InvalidToken.into());
    };
    let mut body = json!({ "sub": user.id });
    if claims.scopes().any(|scope| scope == "profile") {
        body["preferred_username"] = json!(user.username);
        if let Some(name) = &user.name {
            body["name"] = json!(name);
        }
    }
    if claims.scopes().any(|scope| scope == "email")
        && let Some(email) = &user.email
    {
        body["email"] = json!(email);
        body["email_verified"] = json!(user.email_verified);
    }
    Ok(Json(body))
}
