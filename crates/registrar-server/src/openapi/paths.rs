//! The operations of the document: one documentation-only function per route the router
//! serves, naming the real request and response types.
//!
//! The handlers live in `routes/` and `authorize/`; their paths here are relative to the router
//! root with no base path, which `openapi::document` adds for every tag but `discovery` and
//! `health`, as `groups.rs` mounts them.

#![allow(
    dead_code,
    reason = "documentation functions: only their generated path types are used"
)]

use registrar_core::{ClientInformation, ClientMetadata};

use super::responses::{
    BodyTimeout, InvalidClient, InvalidToken, PayloadTooLarge, ServerError, TooManyRequests,
    Unavailable, UnsupportedMediaType,
};
use super::schemas::{
    ClientUpdateRequest, ConsentForm, ErrorResponse, ForbiddenCode, HealthStatus, IdempotencyCode,
    IntrospectionRequest, IntrospectionResponse, InvalidRequestCode, JwkSet, LoginForm,
    LogoutParameters, NotFoundCode, ProviderMetadata, RegistrationCode, RevocationCode,
    RevocationRequest, TokenCode, TokenRequest, TokenResponse, UserInfo, UserInfoForm,
    WebFingerResponse,
};

/// Register a client (RFC 7591 §3.1)
///
/// In `protected` mode the caller presents an initial access token or an access token with
/// `registration.bearer_scope`; in `open` mode anyone may register. `?dry_run=true` runs every
/// check and answers `200` with what would be registered, storing nothing and issuing no
/// credentials. A retry that carries the same `Idempotency-Key` from the same caller with the
/// same body within the configured window answers the original client instead of registering a
/// second one.
#[utoipa::path(
    post,
    path = "/connect/dcr",
    tag = "registration",
    params(
        ("dry_run" = Option<bool>, Query, description = "`true` validates only; any value other than `true` or `false` is `invalid_request`."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key, caller and body within the window return the original client. Anonymous callers must send at least 128 bits (a UUIDv4)."),
    ),
    request_body(content = ClientMetadata, content_type = "application/json", description = "The client metadata (RFC 7591 §2, OpenID Connect DCR 1.0 §2); language-tagged members such as `client_name#ja-Jpan-JP` are accepted, unknown members ignored."),
    security((), ("initial_access_token" = [])),
    responses(
        (status = 201, description = "Registered: the client information, with every default applied (`Cache-Control: no-store`); a retry with the same `Idempotency-Key` gets the first answer again, marked `Idempotent-Replayed: true`.", body = ClientInformation),
        (status = 200, description = "`dry_run=true`: what would be registered, without identifiers or credentials.", body = ClientMetadata),
        (status = 400, description = "The body is not one well-formed JSON object (`invalid_request`), or the metadata cannot be accepted (RFC 7591 §3.2.2).", body = ErrorResponse<RegistrationCode>),
        (status = 401, response = InvalidToken),
        (status = 403, description = "A bearer token without `registration.bearer_scope` (`insufficient_scope`, with its `WWW-Authenticate` challenge), or a policy that refuses the caller (`access_denied`).", body = ErrorResponse<ForbiddenCode>),
        (status = 408, response = BodyTimeout),
        (status = 409, description = "Another request with the same `Idempotency-Key` is being registered (`invalid_request`, with `Retry-After: 1`); the retry then gets the first answer.", body = ErrorResponse<IdempotencyCode>),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "The `Idempotency-Key` was used with a different body, or the client it registered was updated or deleted since (`invalid_request`).", body = ErrorResponse<IdempotencyCode>),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn register_client() {}

/// Read a registration (RFC 7592 §2.1)
///
/// An unknown client is `401`, not `404`, so the answer tells nothing about other clients.
#[utoipa::path(
    get,
    path = "/connect/dcr/{client_id}",
    tag = "management",
    params(("client_id" = String, Path, description = "The client's identifier.")),
    security(("registration_access_token" = [])),
    responses(
        (status = 200, description = "The client information (`Cache-Control: no-store`).", body = ClientInformation),
        (status = 400, description = "The token was sent by more than one method.", body = ErrorResponse<InvalidRequestCode>),
        (status = 401, response = InvalidToken),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn read_client() {}

/// Replace a registration (RFC 7592 §2.2)
///
/// The body is the whole metadata; what it leaves out is removed. Every successful update with
/// the client's registration access token rotates the token.
#[utoipa::path(
    put,
    path = "/connect/dcr/{client_id}",
    tag = "management",
    params(("client_id" = String, Path, description = "The client's identifier.")),
    request_body(content = ClientUpdateRequest, content_type = "application/json"),
    security(("registration_access_token" = [])),
    responses(
        (status = 200, description = "The updated client information, with a new registration access token.", body = ClientInformation),
        (status = 400, description = "Not one well-formed JSON object, a different `client_id`, a server-managed member, a different `client_secret`, or metadata that cannot be accepted.", body = ErrorResponse<RegistrationCode>),
        (status = 401, response = InvalidToken),
        (status = 403, description = "A bearer token without `registration.bearer_scope`.", body = ErrorResponse<ForbiddenCode>),
        (status = 408, response = BodyTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn update_client() {}

/// Delete a registration (RFC 7592 §2.3)
///
/// The client's grants, codes, refresh tokens and consents go with it.
#[utoipa::path(
    delete,
    path = "/connect/dcr/{client_id}",
    tag = "management",
    params(("client_id" = String, Path, description = "The client's identifier.")),
    security(("registration_access_token" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "The token was sent by more than one method.", body = ErrorResponse<InvalidRequestCode>),
        (status = 401, response = InvalidToken),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn delete_client() {}

/// Issue a token (RFC 6749 §3.2)
///
/// Grants: `client_credentials`, `authorization_code` (with its PKCE `code_verifier`) and
/// `refresh_token`. The client authenticates by its registered `token_endpoint_auth_method`:
/// `client_secret_basic` (the `Authorization` header), `client_secret_post` (`client_id` and
/// `client_secret` in the form), `private_key_jwt` and `client_secret_jwt` (a
/// `client_assertion`), or `none` (`client_id` alone, public clients). Access tokens are JWTs
/// (RFC 9068).
#[utoipa::path(
    post,
    path = "/connect/token",
    tag = "token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "The token response (`Cache-Control: no-store`, `Pragma: no-cache`).", body = TokenResponse),
        (status = 400, description = "RFC 6749 §5.2: a missing or repeated parameter, another content type than a form, a bad code or refresh token, a grant the client may not use, a scope or resource outside what it may ask for.", body = ErrorResponse<TokenCode>),
        (status = 401, response = InvalidClient),
        (status = 408, response = BodyTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn issue_token() {}

/// Introspect a token (RFC 7662)
///
/// For confidential clients whose policy allows introspection. Anything but an active access
/// token of this server is `{"active": false}`.
#[utoipa::path(
    post,
    path = "/connect/introspect",
    tag = "token",
    request_body(content = IntrospectionRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "The token's claims, or only `active: false`.", body = IntrospectionResponse),
        (status = 400, description = "A missing `token`, a repeated parameter, or another content type than a form.", body = ErrorResponse<InvalidRequestCode>),
        (status = 401, response = InvalidClient),
        (status = 403, description = "The client's policy does not allow introspection (`access_denied`).", body = ErrorResponse<ForbiddenCode>),
        (status = 408, response = BodyTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn introspect_token() {}

/// Revoke a token (RFC 7009)
///
/// Revoking a refresh token or an access token of a user's grant revokes the grant.
#[utoipa::path(
    post,
    path = "/connect/revoke",
    tag = "token",
    request_body(content = RevocationRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or the token was invalid, unknown or already revoked: the same answer (RFC 7009 §2.2)."),
        (status = 400, description = "A missing `token`, a token of another client (`unauthorized_client`), or a malformed request.", body = ErrorResponse<RevocationCode>),
        (status = 401, response = InvalidClient),
        (status = 408, response = BodyTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn revoke_token() {}

/// The signed-in user's claims (OpenID Connect Core §5.3)
///
/// The access token comes in the `Authorization` header, never in the query string.
#[utoipa::path(
    get,
    path = "/connect/userinfo",
    tag = "token",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The claims the token's scope allows.", body = UserInfo),
        (status = 400, description = "An access token in the query string.", body = ErrorResponse<InvalidRequestCode>),
        (status = 401, response = InvalidToken),
        (status = 403, description = "The token has no `openid` scope or no user (`insufficient_scope`).", body = ErrorResponse<ForbiddenCode>),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn userinfo() {}

/// The signed-in user's claims, by POST (OpenID Connect Core §5.3)
///
/// The access token comes in the `Authorization` header or in the form body (RFC 6750 §2.2),
/// never both.
#[utoipa::path(
    post,
    path = "/connect/userinfo",
    tag = "token",
    operation_id = "userinfo_post",
    request_body(content = Option<UserInfoForm>, content_type = "application/x-www-form-urlencoded"),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The claims the token's scope allows.", body = UserInfo),
        (status = 400, description = "An access token sent by two methods, or in the query string.", body = ErrorResponse<InvalidRequestCode>),
        (status = 401, response = InvalidToken),
        (status = 403, description = "The token has no `openid` scope or no user (`insufficient_scope`).", body = ErrorResponse<ForbiddenCode>),
        (status = 408, response = BodyTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn userinfo_post() {}

/// The public signing keys (RFC 7517)
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "token",
    responses(
        (status = 200, description = "The JWK Set (`Cache-Control: public, max-age=60`).", body = JwkSet),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn publish_keys() {}

/// Start an authorization (RFC 6749 §4.1.1)
///
/// A browser navigates here. PKCE `S256` is required (RFC 7636); `iss` is in every response
/// sent back (RFC 9207); `resource` names the audience (RFC 8707). Shows the login page, then
/// the consent page, unless a session and a remembered consent cover the request.
#[utoipa::path(
    get,
    path = "/connect/authorize",
    tag = "authorization",
    params(
        ("response_type" = String, Query, description = "`code`."),
        ("client_id" = String, Query),
        ("redirect_uri" = String, Query, description = "One of the client's `redirect_uris`; any port for a loopback URI."),
        ("code_challenge" = String, Query, description = "RFC 7636 §4.2."),
        ("code_challenge_method" = String, Query, description = "`S256`."),
        ("scope" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
        ("prompt" = Option<String>, Query, description = "`none`, `login` or `consent`."),
        ("max_age" = Option<u64>, Query),
        ("resource" = Option<Vec<String>>, Query, description = "RFC 8707; may repeat."),
    ),
    security((), ("session" = [])),
    responses(
        (status = 200, description = "The login or consent page.", content_type = "text/html"),
        (status = 303, description = "Back to `redirect_uri` with `code`, `state` and `iss`, or with `error`.", headers(("Location" = String))),
        (status = 400, description = "An unknown client or a `redirect_uri` it did not register: an error page, never a redirect.", content_type = "text/html"),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn authorize() {}

/// The login page's form
#[utoipa::path(
    post,
    path = "/connect/authorize/login",
    tag = "authorization",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The consent page, or the login page again after a wrong password.", content_type = "text/html"),
        (status = 303, description = "Back to `redirect_uri` with a code, when consent is remembered.", headers(("Location" = String))),
        (status = 400, description = "The authorization request it carries is no longer valid (a page), or the body is not a form without repeated parameters (JSON).", content(("text/html"), (ErrorResponse<InvalidRequestCode> = "application/json"))),
        (status = 403, description = "The CSRF token does not match.", content_type = "text/html"),
        (status = 408, response = BodyTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 429, description = "Too many failed logins from this address or for this user.", content_type = "text/html"),
        (status = 500, response = ServerError),
        (status = 503, description = "Too many sign-ins at once.", content_type = "text/html"),
    )
)]
fn login() {}

/// The consent page's form
#[utoipa::path(
    post,
    path = "/connect/authorize/consent",
    tag = "authorization",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    security(("session" = [])),
    responses(
        (status = 200, description = "The login page, when the session is gone or too old.", content_type = "text/html"),
        (status = 303, description = "Back to `redirect_uri` with a code (`allow`) or `access_denied` (`deny`).", headers(("Location" = String))),
        (status = 400, description = "No decision, or the authorization request it carries is no longer valid (a page), or the body is not a form without repeated parameters (JSON).", content(("text/html"), (ErrorResponse<InvalidRequestCode> = "application/json"))),
        (status = 403, description = "The CSRF token does not match.", content_type = "text/html"),
        (status = 408, response = BodyTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn consent() {}

/// End the session (OpenID Connect RP-Initiated Logout 1.0)
#[utoipa::path(
    get,
    path = "/connect/logout",
    tag = "authorization",
    params(
        ("id_token_hint" = Option<String>, Query),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "One the client registered."),
        ("client_id" = Option<String>, Query),
        ("state" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The confirmation page, or the signed-out page.", content_type = "text/html"),
        (status = 303, description = "Back to the registered `post_logout_redirect_uri`.", headers(("Location" = String))),
        (status = 400, description = "A malformed request, an invalid hint or an unregistered redirect.", content_type = "text/html"),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn end_session() {}

/// End the session, by POST (OpenID Connect RP-Initiated Logout 1.0)
#[utoipa::path(
    post,
    path = "/connect/logout",
    tag = "authorization",
    operation_id = "end_session_post",
    request_body(content = LogoutParameters, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The confirmation page, or the signed-out page.", content_type = "text/html"),
        (status = 303, description = "Back to the registered `post_logout_redirect_uri`.", headers(("Location" = String))),
        (status = 400, description = "A malformed request, an invalid hint or an unregistered redirect (a page), or the body is not a form without repeated parameters (JSON).", content(("text/html"), (ErrorResponse<InvalidRequestCode> = "application/json"))),
        (status = 403, description = "The confirmation form's CSRF token does not match.", content_type = "text/html"),
        (status = 408, response = BodyTimeout),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
fn end_session_post() {}

/// OpenID Connect Discovery 1.0 §4
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    tag = "discovery",
    responses(
        (status = 200, description = "The provider metadata (`Cache-Control: public, max-age=300`).", body = ProviderMetadata),
    )
)]
fn openid_configuration() {}

/// RFC 8414 §3: the same document
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "discovery",
    responses(
        (status = 200, description = "The authorization server metadata (`Cache-Control: public, max-age=300`).", body = ProviderMetadata),
    )
)]
fn authorization_server_metadata() {}

/// Issuer discovery by WebFinger (OpenID Connect Discovery 1.0 §2, RFC 7033)
#[utoipa::path(
    get,
    path = "/.well-known/webfinger",
    tag = "discovery",
    params(
        ("resource" = String, Query, description = "`acct:user@host` or a URL on the issuer's host."),
        ("rel" = Option<String>, Query, description = "`http://openid.net/specs/connect/1.0/issuer`; another value gets no links."),
    ),
    responses(
        (status = 200, description = "The issuer link.", body = WebFingerResponse, content_type = "application/jrd+json"),
        (status = 400, description = "No `resource`, or a malformed query.", body = ErrorResponse<InvalidRequestCode>),
        (status = 404, description = "The resource is on another host.", body = ErrorResponse<NotFoundCode>),
    )
)]
fn webfinger() {}

/// Liveness: the process answers
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "`ok`.", body = HealthStatus))
)]
fn healthz() {}

/// Readiness: the store answers too
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "`ready`.", body = HealthStatus),
        (status = 503, description = "`unavailable`: the store does not answer.", body = HealthStatus),
    )
)]
fn readyz() {}

/// This document
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of the routes this router serves (`Cache-Control: public, max-age=300`).", content_type = "application/json"),
    )
)]
fn openapi_document() {}
