//! `GET|POST /connect/logout`: OpenID Connect RP-Initiated Logout 1.0. The session ends at once
//! for a request with a valid `id_token_hint` of the signed-in user; otherwise the user confirms
//! on a page first, so a link on another site cannot sign them out. The user is sent back only
//! to a `post_logout_redirect_uri` the client registered, never anywhere else.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use registrar_core::ClientId;
use registrar_core::authz::{ID_TOKEN_TYPE, IdTokenClaims};
use url::Url;

use super::cookies::{
    SESSION_COOKIE, csrf_for, csrf_matches, read_cookie, session_hash, set_cookie,
};
use super::pages::{Confirm, MessagePage, error_page, render};
use super::request::Parameters;
use crate::error::ApiError;
use crate::state::AppState;
use crate::token::Form;

pub(crate) fn routes(base: &str) -> Router<AppState> {
    Router::new().route(
        &format!("{base}/connect/logout"),
        get(end_session).post(end_session),
    )
}

/// What the logout request asked for, once checked.
struct LogoutRequest {
    /// The `sub` of a valid `id_token_hint`.
    hinted_subject: Option<String>,
    /// A registered `post_logout_redirect_uri`.
    redirect: Option<String>,
    state: Option<String>,
}

/// RP-Initiated Logout §2 and §3.
pub async fn end_session(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    form: Result<Form, ApiError>,
) -> Response {
    let services = state.pipeline.services();
    let (raw, confirmed) = if method == Method::POST {
        let form = match form {
            Ok(form) => form,
            Err(error) => return error.into_response(),
        };
        // The confirmation form carries a CSRF token and the original request (which may be
        // empty); a relying party's own POST carries neither.
        if form.get("csrf_token").is_some() {
            if !csrf_matches(services, &headers, form.get("csrf_token")) {
                return error_page(
                    StatusCode::FORBIDDEN,
                    "This form was not sent by this server, or it expired.",
                );
            }
            (
                form.get("logout_request").unwrap_or_default().to_owned(),
                true,
            )
        } else {
            (form_as_query(&form), false)
        }
    } else {
        (query.unwrap_or_default(), false)
    };
    let request = match check(&state, &raw).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let session_id = read_cookie(state.pipeline.services(), &headers, SESSION_COOKIE);
    let session = match &session_id {
        Some(session_id) => match services
            .stores()
            .authorizations()
            .find_session(&session_hash(services, session_id), services.clock().now())
            .await
        {
            Ok(session) => session,
            Err(error) => return ApiError::from(error).into_response(),
        },
        None => None,
    };
    // A valid hint of the signed-in user (or of anyone, when nobody is signed in) proves the
    // user's own client asked. Without one the user confirms first, both to end a session and
    // to be sent anywhere: otherwise any self-registered client's logout URI would be an open
    // redirector (RFC 9700 §4.11.2).
    let hint_matches = request.hinted_subject.as_ref().is_some_and(|subject| {
        session
            .as_ref()
            .is_none_or(|session| session.user_id == *subject)
    });
    let nothing_to_confirm = session.is_none() && request.redirect.is_none();
    if !(confirmed || hint_matches || nothing_to_confirm) {
        return confirm_page(&state, &headers, &raw);
    }
    if let (Some(session_id), Some(_)) = (&session_id, &session)
        && let Err(error) = services
            .stores()
            .authorizations()
            .delete_session(&session_hash(services, session_id))
            .await
    {
        return ApiError::from(error).into_response();
    }
    let mut response = match &request.redirect {
        Some(redirect) => redirect_back(redirect, request.state.as_deref()),
        None => render(
            StatusCode::OK,
            &MessagePage {
                title: "Signed out",
                message: "You are signed out. You can close this window.",
                confirm: None,
            },
        ),
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(services, SESSION_COOKIE, "", 0),
    );
    response
}

/// A POSTed logout request as a query string, so both methods are checked the same way.
fn form_as_query(form: &Form) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for name in [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
    ] {
        if let Some(value) = form.get(name) {
            query.append_pair(name, value);
        }
    }
    query.finish()
}

async fn check(state: &AppState, raw: &str) -> Result<LogoutRequest, Response> {
    let refuse = |message: &str| error_page(StatusCode::BAD_REQUEST, message);
    let parameters = Parameters::parse(raw).map_err(|message| refuse(&message))?;
    let services = state.pipeline.services();
    let mut client_id = parameters.get("client_id").map(str::to_owned);
    let mut hinted_subject = None;
    if let Some(hint) = parameters.get("id_token_hint") {
        let key_ring = state.tokens.key_ring.current(services).await;
        // The signature and issuer only: an expired ID token still names its user and client
        // (RP-Initiated Logout §2).
        let claims = key_ring
            .verify::<IdTokenClaims>(hint, services.clock().now())
            .ok()
            // Only an ID token: an access token must not pass for a hint.
            .filter(|verified| verified.typ.as_deref() == Some(ID_TOKEN_TYPE))
            .map(|verified| verified.claims)
            .filter(|claims| claims.iss == services.settings().issuer_id())
            .ok_or_else(|| refuse("The id_token_hint is not an ID token issued by this server."))?;
        if client_id
            .as_ref()
            .is_some_and(|client_id| *client_id != claims.aud)
        {
            return Err(refuse(
                "The client_id is not the audience of the id_token_hint.",
            ));
        }
        client_id = Some(claims.aud);
        hinted_subject = Some(claims.sub);
    }
    let client = match client_id.as_deref().and_then(ClientId::parse) {
        Some(client_id) => services
            .usable_client(&client_id)
            .await
            .map_err(|error| ApiError::from(error).into_response())?,
        None => None,
    };
    let redirect = match parameters.get("post_logout_redirect_uri") {
        Some(uri) => {
            let registered = client.as_ref().is_some_and(|client| {
                client
                    .metadata
                    .post_logout_redirect_uris
                    .iter()
                    .any(|registered| registered == uri)
            });
            if !registered {
                return Err(refuse(
                    "The post_logout_redirect_uri is not registered for this client.",
                ));
            }
            Some(uri.to_owned())
        }
        None => None,
    };
    Ok(LogoutRequest {
        hinted_subject,
        redirect,
        state: parameters.get("state").map(str::to_owned),
    })
}

fn confirm_page(state: &AppState, headers: &HeaderMap, raw: &str) -> Response {
    let services = state.pipeline.services();
    let (token, cookie) = csrf_for(services, headers);
    let action = services.settings().end_session_endpoint();
    let mut response = render(
        StatusCode::OK,
        &MessagePage {
            title: "Sign out?",
            message: "An application asked to sign you out of this server.",
            confirm: Some(Confirm {
                action: &action,
                csrf_token: &token,
                request: raw,
                label: "Sign out",
            }),
        },
    );
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn redirect_back(uri: &str, request_state: Option<&str>) -> Response {
    let Ok(mut url) = Url::parse(uri) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The post_logout_redirect_uri is malformed.",
        );
    };
    if let Some(request_state) = request_state {
        url.query_pairs_mut().append_pair("state", request_state);
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
