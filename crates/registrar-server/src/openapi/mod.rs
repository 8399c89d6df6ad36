//! `GET {base}/openapi.json`: the OpenAPI 3.1 document of the routes a router serves,
//! generated from the wire types (`ToSchema`) and the documented operations (`paths.rs`), then
//! fitted to the settings: the base path, the issuer as the server, the RFC 8414 path of an
//! issuer with a path, and only the route groups served.

mod paths;
mod responses;
mod schemas;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use registrar_core::{ClientInformation, ClientMetadata, Settings};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{OpenApi as Document, PathItem};

use crate::state::AppState;

use schemas::{
    ErrorResponse, ForbiddenCode, IdempotencyCode, InvalidClientCode, InvalidRequestCode,
    InvalidTokenCode, NotFoundCode, RateLimitCode, RegistrationCode, RevocationCode,
    ServerErrorCode, TokenCode, UnavailableCode,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Registrar",
        description = "OAuth 2.0 and OpenID Connect Dynamic Client Registration (RFC 7591, RFC 7592), with the token, authorization, introspection, revocation, userinfo and discovery endpoints of the clients it registers.\n\nEvery error of the JSON endpoints is `{\"error\", \"error_description\"}` (RFC 6749 §5.2, RFC 7591 §3.2.2). Any route answers `405` with `Allow` for another method, and unknown paths answer `404` `not_found`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        paths::register_client,
        paths::read_client,
        paths::update_client,
        paths::delete_client,
        paths::issue_token,
        paths::introspect_token,
        paths::revoke_token,
        paths::userinfo,
        paths::userinfo_post,
        paths::publish_keys,
        paths::authorize,
        paths::login,
        paths::consent,
        paths::end_session,
        paths::end_session_post,
        paths::openid_configuration,
        paths::authorization_server_metadata,
        paths::webfinger,
        paths::healthz,
        paths::readyz,
        paths::openapi_document,
    ),
    components(
        schemas(
            ClientMetadata,
            ClientInformation,
            ErrorResponse<RegistrationCode>,
            ErrorResponse<InvalidRequestCode>,
            ErrorResponse<InvalidTokenCode>,
            ErrorResponse<ForbiddenCode>,
            ErrorResponse<TokenCode>,
            ErrorResponse<RevocationCode>,
            ErrorResponse<InvalidClientCode>,
            ErrorResponse<RateLimitCode>,
            ErrorResponse<UnavailableCode>,
            ErrorResponse<ServerErrorCode>,
            ErrorResponse<NotFoundCode>,
            ErrorResponse<IdempotencyCode>,
            ErrorResponse<String>,
        ),
        responses(
            responses::InvalidToken,
            responses::InvalidClient,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::BodyTimeout,
            responses::TooManyRequests,
            responses::Unavailable,
            responses::ServerError,
        ),
    ),
    tags(
        (name = "registration", description = "RFC 7591 registration."),
        (name = "management", description = "RFC 7592 management, with the client's registration access token."),
        (name = "token", description = "The token side: token, introspection, revocation, userinfo, JWKS."),
        (name = "authorization", description = "The pages a person uses: authorization with login and consent, logout."),
        (name = "discovery", description = "OpenID Connect Discovery, RFC 8414 metadata, WebFinger."),
        (name = "health", description = "Liveness and readiness."),
        (name = "openapi", description = "This document."),
    ),
)]
struct ApiDoc;

/// Which route groups a document describes (the router's `RouteGroups`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Served {
    /// Registration and management.
    pub(crate) registration: bool,
    /// The token side, the pages and discovery.
    pub(crate) authorization: bool,
}

/// Tags whose routes are mounted where their specifications put them, not under the base path.
const UNPREFIXED_TAGS: [&str; 2] = ["discovery", "health"];

/// Whether the routes of `tag` are served.
fn is_served(tag: &str, served: Served) -> bool {
    match tag {
        "registration" | "management" => served.registration,
        "token" | "authorization" | "discovery" => served.authorization,
        _ => true,
    }
}

/// The tag of a path item: every operation of one path has the same.
fn tag_of(item: &PathItem) -> &str {
    [&item.get, &item.put, &item.post, &item.delete]
        .into_iter()
        .flatten()
        .find_map(|operation| operation.tags.as_ref()?.first())
        .map_or("", String::as_str)
}

/// The document for a router with `settings` that serves `served`.
pub(crate) fn document(settings: &Settings, served: Served) -> Document {
    let mut document = ApiDoc::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document.servers = Some(vec![Server::new(settings.issuer_id())]);
    let base = settings.base_path();
    let issuer_path = settings.issuer_path();
    let mut paths = std::mem::take(&mut document.paths.paths);
    paths.retain(|_, item| is_served(tag_of(item), served));
    for (path, item) in paths {
        let tag = tag_of(&item).to_owned();
        if path == "/.well-known/oauth-authorization-server" && !issuer_path.is_empty() {
            // RFC 8414 §3: also after the issuer's path, one operation id per operation.
            let mut suffixed = item.clone();
            if let Some(operation) = suffixed.get.as_mut() {
                operation.operation_id =
                    Some("authorization_server_metadata_for_issuer_path".to_owned());
            }
            document
                .paths
                .paths
                .insert(format!("{path}{issuer_path}"), suffixed);
        }
        let path = if UNPREFIXED_TAGS.contains(&tag.as_str()) {
            path
        } else {
            format!("{base}{path}")
        };
        document.paths.paths.insert(path, item);
    }
    add_security_schemes(&mut document);
    document
}

fn add_security_schemes(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    let bearer = |description: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description))
                .build(),
        )
    };
    components.add_security_scheme(
        "initial_access_token",
        bearer("An initial access token (`registrar initial-token create`), or an access token with `registration.bearer_scope`. Required in `protected` mode, unless an accepted software statement authorizes the registration."),
    );
    components.add_security_scheme(
        "registration_access_token",
        bearer("The `registration_access_token` of the client's registration, or an administrator's access token with `registration.bearer_scope`."),
    );
    components.add_security_scheme(
        "access_token",
        bearer("An access token this server issued for a user's grant with the `openid` scope."),
    );
    components.add_security_scheme(
        "client_secret_basic",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some("`client_secret_basic` (RFC 6749 §2.3.1): the form-encoded `client_id` and `client_secret`. Clients registered for another method authenticate in the form body instead."))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::authorize::cookies::SESSION_COOKIE,
            "The session cookie the login form sets.",
        ))),
    );
}

/// `GET {base}/openapi.json`, serving `document` as it was built.
pub(crate) fn routes(base: &str, document: &Document) -> Router<AppState> {
    // The document is plain data, so encoding cannot fail; an empty object keeps the route.
    let body = Bytes::from(serde_json::to_vec(document).unwrap_or_else(|_| b"{}".to_vec()));
    Router::new().route(
        &format!("{base}/openapi.json"),
        get(move || std::future::ready(serve(body.clone()))),
    )
}

/// The document changes only with the configuration, so caches may keep it briefly, as the
/// discovery documents.
fn serve(body: Bytes) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests;
