//! `GET /connect/authorize` and the two forms it shows, `POST /connect/authorize/login` and
//! `POST /connect/authorize/consent`. Each form carries the raw authorization request, which is
//! checked again in full when the form comes back, so nothing a form returns is trusted that the
//! first request did not pass.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use registrar_core::authz::{
    AuthorizationCode, Consent, Grant, Session, User, is_loopback_redirect,
};
use registrar_core::secrets::random_token;
use registrar_core::{GrantType, Services};
use url::Url;

use super::cookies::{
    SESSION_COOKIE, csrf_for, csrf_matches, random_value, read_cookie, session_hash, set_cookie,
};
use super::pages::{ConsentPage, LoginPage, describe_scope, error_page, render};
use super::request::{AuthorizationRequest, AuthorizeError, parse_request};
use crate::error::{ApiError, sanitize_description};
use crate::rate_limit::{LimitKind, ip_key};
use crate::routes::limits::ClientAddress;
use crate::state::AppState;
use crate::token::Form;

pub(crate) fn routes(base: &str) -> Router<AppState> {
    Router::new()
        .route(&format!("{base}/connect/authorize"), get(authorize))
        .route(&format!("{base}/connect/authorize/login"), post(login))
        .route(&format!("{base}/connect/authorize/consent"), post(consent))
}

/// How recent a login must be for the consent form of a `prompt=login` request.
const FRESH_LOGIN_SECONDS: i64 = 600;

/// A logged-in user.
struct SignedIn {
    session: Session,
    user: User,
}

/// RFC 6749 §4.1.1.
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let request = match parse_request(&state, &query).await {
        Ok(request) => request,
        Err(error) => return refuse(&state, error),
    };
    match signed_in(&state, &headers).await {
        Ok(signed_in) => proceed(&state, &headers, &request, signed_in, false).await,
        Err(error) => error.into_response(),
    }
}

/// The login form.
pub async fn login(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    form: Result<Form, ApiError>,
) -> Response {
    let (form, request) = match posted(&state, &headers, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let services = state.pipeline.services();
    let username = form.get("username").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    let limits = &state.rate_limits;
    let source = address.0.map(ip_key);
    let user_key = username.to_lowercase();
    let mut limited = None;
    if let Some(source) = &source {
        limited = limits
            .failures_exceeded(LimitKind::LoginFailureBySource, source)
            .await
            .err();
    }
    if limited.is_none() {
        limited = limits
            .failures_exceeded(LimitKind::LoginFailureByUser, &user_key)
            .await
            .err();
    }
    if let Some(limited) = limited {
        let message = limited.to_string();
        return login_page(
            &state,
            &headers,
            &request,
            StatusCode::TOO_MANY_REQUESTS,
            username,
            Some(&message),
        );
    }
    let Ok(_permit) = state.login_permits.clone().try_acquire_owned() else {
        return login_page(
            &state,
            &headers,
            &request,
            StatusCode::SERVICE_UNAVAILABLE,
            username,
            Some("Too many sign-ins at once. Try again in a moment."),
        );
    };
    let user = match state.users.authenticate(username, password).await {
        Ok(user) => user,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let Some(user) = user else {
        if let Some(source) = &source {
            limits
                .record_failure(LimitKind::LoginFailureBySource, source)
                .await;
        }
        limits
            .record_failure(LimitKind::LoginFailureByUser, &user_key)
            .await;
        return login_page(
            &state,
            &headers,
            &request,
            StatusCode::OK,
            username,
            Some("The username or password is not right."),
        );
    };
    let now = services.clock().now();
    let session_id = random_value(services);
    let lifetime = i64::try_from(services.settings().lifetimes.session).unwrap_or(i64::MAX);
    let session = Session {
        id_hash: session_hash(services, &session_id),
        user_id: user.id.clone(),
        auth_time: now,
        expires_at: now.saturating_add(lifetime),
    };
    if let Err(error) = services
        .stores()
        .authorizations()
        .insert_session(&session)
        .await
    {
        return ApiError::from(error).into_response();
    }
    let mut response = proceed(
        &state,
        &headers,
        &request,
        Some(SignedIn { session, user }),
        true,
    )
    .await;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(services, SESSION_COOKIE, &session_id, lifetime),
    );
    response
}

/// The consent form.
pub async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form, ApiError>,
) -> Response {
    let (form, request) = match posted(&state, &headers, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let services = state.pipeline.services();
    let signed_in = match signed_in(&state, &headers).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => return login_page(&state, &headers, &request, StatusCode::OK, "", None),
        Err(error) => return error.into_response(),
    };
    // The login the request demanded must still hold when the form comes back.
    let now = services.clock().now();
    let age = now.saturating_sub(signed_in.session.auth_time);
    let too_old = request
        .max_age
        .is_some_and(|max_age| age > i64::try_from(max_age).unwrap_or(i64::MAX))
        || (request.prompt_login && age > FRESH_LOGIN_SECONDS);
    if too_old {
        return login_page(&state, &headers, &request, StatusCode::OK, "", None);
    }
    match form.get("decision") {
        Some("allow") => {}
        Some("deny") => {
            return redirect_error(
                &state,
                &request.redirect_uri,
                request.state.as_deref(),
                "access_denied",
                "the user denied the request",
            );
        }
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The form was incomplete: choose Allow or Deny.",
            );
        }
    }
    let limits = &services.settings().lifetimes;
    let lifetime = request
        .client
        .metadata
        .consent_lifetime
        .unwrap_or(limits.default_consent)
        .min(limits.max_consent);
    let remembered = Consent {
        user_id: signed_in.user.id.clone(),
        client_id: request.client.client_id.clone(),
        scopes: request.scopes.clone(),
        resources: request.resources.clone(),
        granted_at: now,
        expires_at: Some(now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX))),
    };
    if let Err(error) = services
        .stores()
        .authorizations()
        .upsert_consent(&remembered)
        .await
    {
        return ApiError::from(error).into_response();
    }
    issue_code(&state, &request, &signed_in).await
}

/// A posted page form: from this server's page (the CSRF token), with the authorization
/// request it carries checked again in full.
async fn posted(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form, ApiError>,
) -> Result<(Form, AuthorizationRequest), Response> {
    let form = form.map_err(IntoResponse::into_response)?;
    if !csrf_matches(state.pipeline.services(), headers, form.get("csrf_token")) {
        return Err(csrf_refused());
    }
    let raw = form.get("authorization_request").unwrap_or_default();
    let request = parse_request(state, raw)
        .await
        .map_err(|error| refuse(state, error))?;
    Ok((form, request))
}

/// The user behind the request's session cookie, if the session and the user still exist.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<SignedIn>, ApiError> {
    let Some(session_id) = read_cookie(state.pipeline.services(), headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let services = state.pipeline.services();
    let now = services.clock().now();
    let Some(session) = services
        .stores()
        .authorizations()
        .find_session(&session_hash(services, &session_id), now)
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = state.users.find(&session.user_id).await? else {
        return Ok(None);
    };
    Ok(Some(SignedIn { session, user }))
}

/// After the request is checked: log in if needed, ask for consent if needed, else issue the
/// code. `fresh_login` is set right after the login form, which satisfies `prompt=login` and
/// `max_age`.
async fn proceed(
    state: &AppState,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    signed_in: Option<SignedIn>,
    fresh_login: bool,
) -> Response {
    let now = state.pipeline.services().clock().now();
    let too_old = |session: &Session| {
        request.max_age.is_some_and(|max_age| {
            now.saturating_sub(session.auth_time) > i64::try_from(max_age).unwrap_or(i64::MAX)
        })
    };
    let signed_in = match signed_in {
        Some(signed_in)
            if fresh_login || !(request.prompt_login || too_old(&signed_in.session)) =>
        {
            signed_in
        }
        _ if request.prompt_none => {
            return redirect_error(
                state,
                &request.redirect_uri,
                request.state.as_deref(),
                "login_required",
                "the user is not signed in",
            );
        }
        _ => return login_page(state, headers, request, StatusCode::OK, "", None),
    };
    let consent = match state
        .pipeline
        .services()
        .stores()
        .authorizations()
        .find_consent(&signed_in.user.id, &request.client.client_id)
        .await
    {
        Ok(consent) => consent,
        Err(error) => return ApiError::from(error).into_response(),
    };
    // RFC 8252 §8.6: remembered consent approves silently only a client whose identity is
    // assured: a confidential client, or one whose code can only reach its own https host. A
    // public client on loopback could be any program on the device claiming its client_id.
    let identity_assured = request.client.metadata.auth_method_name() != "none"
        || request.redirect_uri.starts_with("https://");
    let remembered = identity_assured
        && consent.is_some_and(|consent| consent.covers(&request.scopes, &request.resources, now));
    if !remembered || request.prompt_consent {
        if request.prompt_none {
            return redirect_error(
                state,
                &request.redirect_uri,
                request.state.as_deref(),
                "consent_required",
                "the user has not consented to this request",
            );
        }
        return consent_page(state, headers, request, &signed_in.user);
    }
    issue_code(state, request, &signed_in).await
}

/// Stores a grant and its code, and sends the code to the client (RFC 6749 §4.1.2, RFC 9207).
async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    signed_in: &SignedIn,
) -> Response {
    let services = state.pipeline.services();
    let settings = services.settings();
    let limits = &settings.lifetimes;
    let metadata = &request.client.metadata;
    let now = services.clock().now();
    // OIDC Core §11: for an OpenID request, refresh tokens only with offline_access; for plain
    // OAuth, whenever the client registered the grant.
    let issues_refresh = metadata.has_grant_type(GrantType::RefreshToken)
        && (!request.is_openid() || request.scopes.iter().any(|scope| scope == "offline_access"));
    let absolute = metadata
        .absolute_refresh_token_lifetime
        .unwrap_or(limits.default_absolute_refresh_token)
        .min(limits.max_absolute_refresh_token);
    let grant = Grant {
        id: random_token(services.generator().as_ref(), 16),
        client_id: request.client.client_id.clone(),
        user_id: signed_in.user.id.clone(),
        scopes: request.scopes.clone(),
        resources: request.resources.clone(),
        auth_time: signed_in.session.auth_time,
        created_at: now,
        expires_at: issues_refresh
            .then(|| now.saturating_add(i64::try_from(absolute).unwrap_or(i64::MAX))),
        revoked: false,
    };
    let code = random_value(services);
    let code_lifetime = metadata
        .authorization_code_lifetime
        .unwrap_or(limits.default_authorization_code)
        .min(limits.max_authorization_code);
    let stored = AuthorizationCode {
        code_hash: code_hash(services, &code),
        grant_id: grant.id.clone(),
        client_id: request.client.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        issued_at: now,
        expires_at: now.saturating_add(i64::try_from(code_lifetime).unwrap_or(i64::MAX)),
    };
    if let Err(error) = services
        .stores()
        .authorizations()
        .insert_grant_with_code(&grant, &stored)
        .await
    {
        return ApiError::from(error).into_response();
    }
    let mut parameters = vec![("code", code.as_str())];
    if let Some(request_state) = &request.state {
        parameters.push(("state", request_state));
    }
    redirect_to(state, &request.redirect_uri, &parameters)
}

/// The hash an authorization code is stored under.
pub fn code_hash(services: &Services, code: &str) -> registrar_core::TokenHash {
    services.hasher().hash(&format!("code {code}"))
}

/// A `303` to the client's redirect URI with `parameters` and `iss` added to its query.
fn redirect_to(state: &AppState, redirect_uri: &str, parameters: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The redirect URI of this request is malformed.",
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in parameters {
            query.append_pair(name, value);
        }
        // RFC 9207 §2: every authorization response names the issuer.
        query.append_pair("iss", state.pipeline.settings().issuer_id());
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => {
            response.headers_mut().insert(header::LOCATION, location);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "The redirect URI of this request is malformed.",
        ),
    }
}

/// RFC 6749 §4.1.2.1: an error sent back to the client.
fn redirect_error(
    state: &AppState,
    redirect_uri: &str,
    request_state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let description = sanitize_description(description);
    let mut parameters = vec![
        ("error", error),
        ("error_description", description.as_str()),
    ];
    if let Some(request_state) = request_state {
        parameters.push(("state", request_state));
    }
    redirect_to(state, redirect_uri, &parameters)
}

fn refuse(state: &AppState, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Page(message) => error_page(StatusCode::BAD_REQUEST, &message),
        AuthorizeError::Redirect {
            redirect_uri,
            state: request_state,
            error,
            description,
        } => redirect_error(
            state,
            &redirect_uri,
            request_state.as_deref(),
            error,
            &description,
        ),
        AuthorizeError::Server(error) => error.into_response(),
    }
}

fn csrf_refused() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "This form was not sent by this server, or it expired. Go back to the application and start again.",
    )
}

fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The scopes as the consent page lists them; a plain OAuth request that will get a refresh
/// token says so too, as `offline_access` would (OIDC Core §11).
fn shown_scopes(request: &AuthorizationRequest) -> Vec<(String, &'static str)> {
    let mut shown: Vec<(String, &'static str)> = request
        .scopes
        .iter()
        .map(|scope| (scope.clone(), describe_scope(scope)))
        .collect();
    if !request.is_openid()
        && request
            .client
            .metadata
            .has_grant_type(GrantType::RefreshToken)
        && !request.scopes.iter().any(|scope| scope == "offline_access")
    {
        shown.push((
            "offline access".to_owned(),
            describe_scope("offline_access"),
        ));
    }
    shown
}

/// A display URI of the client, if it is https: nothing else is linked or loaded.
fn https(uri: &Option<String>) -> Option<&str> {
    uri.as_deref()
        .filter(|uri| Url::parse(uri).is_ok_and(|url| url.scheme() == "https"))
}

fn display_name(request: &AuthorizationRequest) -> &str {
    request
        .client
        .metadata
        .client_name
        .as_deref()
        .unwrap_or(request.client.client_id.as_str())
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Response {
    let (csrf_token, cookie) = csrf_for(state.pipeline.services(), headers);
    let action = state
        .pipeline
        .settings()
        .endpoint("connect/authorize/login");
    let page = LoginPage {
        client_name: display_name(request),
        action: &action,
        csrf_token: &csrf_token,
        authorization_request: &request.raw,
        username,
        error,
    };
    with_cookie(render(status, &page), cookie)
}

fn consent_page(
    state: &AppState,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    user: &User,
) -> Response {
    let (csrf_token, cookie) = csrf_for(state.pipeline.services(), headers);
    let action = state
        .pipeline
        .settings()
        .endpoint("connect/authorize/consent");
    let metadata = &request.client.metadata;
    let mut links = Vec::new();
    for (label, uri) in [
        ("Website", &metadata.client_uri),
        ("Privacy policy", &metadata.policy_uri),
        ("Terms of service", &metadata.tos_uri),
    ] {
        if let Some(uri) = https(uri) {
            links.push((label, uri));
        }
    }
    let redirect_host = Url::parse(&request.redirect_uri)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    let all_localhost = !metadata.redirect_uris.is_empty()
        && metadata.redirect_uris.iter().all(|uri| {
            Url::parse(uri)
                .is_ok_and(|url| is_loopback_redirect(&url) || url.host_str() == Some("localhost"))
        });
    let client_id = &request.client.client_id;
    let client_host = client_id
        .is_metadata_document()
        .then(|| Url::parse(client_id.as_str()).ok())
        .flatten()
        .and_then(|url| url.host_str().map(str::to_owned));
    let page = ConsentPage {
        client_name: display_name(request),
        logo_uri: https(&metadata.logo_uri),
        client_host: client_host.as_deref(),
        username: &user.username,
        redirect_host: &redirect_host,
        all_localhost,
        scopes: shown_scopes(request),
        resources: &request.resources,
        links,
        action: &action,
        csrf_token: &csrf_token,
        authorization_request: &request.raw,
    };
    with_cookie(render(StatusCode::OK, &page), cookie)
}
