//! Discovery: OpenID Connect Discovery 1.0, RFC 8414 and WebFinger (RFC 7033).
//!
//! Every supported value comes from `Settings`, the same values the validator enforces.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use registrar_core::token::SigningAlgorithm;
use registrar_core::{AuthMethod, Settings};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// The discovery routes for an issuer whose path is `issuer_path` (`""` at the host root).
/// RFC 8414 §3 inserts the issuer's path after `/.well-known/oauth-authorization-server`; the
/// unsuffixed paths are served too, for a router mounted at the issuer's path (or behind a
/// proxy that strips it), where OpenID Connect Discovery §4 puts its document.
pub(crate) fn routes(issuer_path: &str) -> Router<AppState> {
    let mut router = Router::new()
        .route("/.well-known/openid-configuration", get(provider_metadata))
        .route(
            "/.well-known/oauth-authorization-server",
            get(provider_metadata),
        )
        .route("/.well-known/webfinger", get(webfinger));
    if !issuer_path.is_empty() {
        router = router.route(
            &format!("/.well-known/oauth-authorization-server{issuer_path}"),
            get(provider_metadata),
        );
    }
    router
}

/// The provider metadata document, built from the settings. Every value is one the server
/// acts on: nothing is advertised that a request could not use.
pub fn metadata_document(settings: &Settings) -> Value {
    let mut document = json!({
        "issuer": settings.issuer_id(),
        "authorization_endpoint": settings.authorization_endpoint(),
        "token_endpoint": settings.token_endpoint(),
        "userinfo_endpoint": settings.userinfo_endpoint(),
        "jwks_uri": settings.jwks_uri(),
        "registration_endpoint": settings.registration_endpoint(),
        "introspection_endpoint": settings.introspection_endpoint(),
        "revocation_endpoint": settings.revocation_endpoint(),
        "end_session_endpoint": settings.end_session_endpoint(),
        "scopes_supported": settings.scopes,
        "response_types_supported": settings.response_types,
        "response_modes_supported": ["query"],
        "grant_types_supported": settings.grant_types,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": settings.token_endpoint_auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": settings.assertion_signing_algs(),
        "introspection_endpoint_auth_methods_supported": confidential_methods(settings),
        "introspection_endpoint_auth_signing_alg_values_supported": settings.assertion_signing_algs(),
        "revocation_endpoint_auth_methods_supported": settings.token_endpoint_auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": settings.assertion_signing_algs(),
        "subject_types_supported": settings.subject_types,
        "id_token_signing_alg_values_supported": id_token_algorithms(settings),
        "claims_supported": CLAIMS_SUPPORTED,
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    });
    // draft-ietf-oauth-client-id-metadata-document §6: present only when URL client ids work.
    if settings.metadata_documents.enabled {
        document["client_id_metadata_document_supported"] = Value::Bool(true);
    }
    document
}

/// The claims of ID tokens and userinfo.
const CLAIMS_SUPPORTED: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "name",
    "preferred_username",
    "email",
    "email_verified",
];

/// The ID token algorithms the key ring keeps a key for: the configured names it can sign with.
fn id_token_algorithms(settings: &Settings) -> Vec<&str> {
    settings
        .id_token_signing_algs
        .iter()
        .map(String::as_str)
        .filter(|name| SigningAlgorithm::parse(name).is_some())
        .collect()
}

/// Introspection needs an authenticated client, so `none` is left out.
fn confidential_methods(settings: &Settings) -> Vec<AuthMethod> {
    settings
        .token_endpoint_auth_methods
        .iter()
        .copied()
        .filter(|method| *method != AuthMethod::None)
        .collect()
}

/// Discovery documents are public and change only with configuration, so caches may keep them
/// briefly.
async fn provider_metadata(State(state): State<AppState>) -> Response {
    let mut response = Json(metadata_document(state.pipeline.settings())).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

#[derive(Debug, Deserialize)]
struct WebFingerQuery {
    resource: Option<String>,
    rel: Option<String>,
}

const ISSUER_REL: &str = "http://openid.net/specs/connect/1.0/issuer";

/// The host a WebFinger resource names: `acct:user@host` or an `https://host/...` URL.
fn resource_host(resource: &str) -> Option<String> {
    if let Some(account) = resource.strip_prefix("acct:") {
        let (_, host) = account.rsplit_once('@')?;
        return Some(host.to_ascii_lowercase());
    }
    let url = url::Url::parse(resource).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// OpenID Connect Discovery 1.0 §2: which issuer serves a user or URL on this host.
async fn webfinger(
    State(state): State<AppState>,
    query: Result<Query<WebFingerQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) =
        query.map_err(|_| ApiError::InvalidRequest("the query string is malformed".to_owned()))?;
    let Some(resource) = query.resource else {
        return Err(ApiError::InvalidRequest(
            "the resource parameter is required".to_owned(),
        ));
    };
    let settings = state.pipeline.settings();
    let issuer_host = settings
        .issuer
        .host_str()
        .map(|host| match settings.issuer.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_ascii_lowercase(),
        });
    if resource_host(&resource).is_none() || resource_host(&resource) != issuer_host {
        return Err(ApiError::NotFound);
    }
    let links = match query.rel.as_deref() {
        None | Some(ISSUER_REL) => vec![json!({
            "rel": ISSUER_REL,
            "href": settings.issuer.as_str().trim_end_matches('/'),
        })],
        Some(_) => Vec::new(),
    };
    let mut response = Json(json!({ "subject": resource, "links": links })).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jrd+json"),
    );
    Ok(response)
}
