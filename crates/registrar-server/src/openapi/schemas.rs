//! Schemas of the bodies the handlers build as JSON values (token, introspection, userinfo,
//! JWKS, discovery, WebFinger, health, errors) and of the form bodies they read.
//!
//! Nothing constructs these types: they describe, for the OpenAPI document, what the handlers
//! write with `json!` and read with `token::Form`. `tests/it/openapi.rs` in registrar-testkit
//! validates live responses against them, and the closed ones (`deny_unknown_fields`) fail it
//! when a handler adds a member they do not list.

#![allow(
    dead_code,
    reason = "documentation types: only their schemas are used, never a value"
)]

use serde::Serialize;
use utoipa::ToSchema;

use registrar_core::AuthMethod;

/// The error JSON of RFC 6749 §5.2 and RFC 7591 §3.2.2, with the codes one response can carry.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorResponse<C> {
    /// The error code.
    error: C,
    /// A human-readable explanation, in the characters RFC 6749 §5.2 allows
    /// (`%x20-21 / %x23-5B / %x5D-7E`: printable ASCII without `"` and `\`).
    #[schema(pattern = r"^[ !#-\[\]-~]*$", max_length = 515)]
    error_description: String,
}

/// Declares the code sets of error responses: each an enum whose schema lists its wire codes.
macro_rules! error_codes {
    ($($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? })+) => {
        $(
            $(#[$meta])*
            #[derive(Serialize, ToSchema)]
            #[serde(rename_all = "snake_case")]
            pub(crate) enum $name {
                $($variant,)+
            }
        )+
    };
}

error_codes! {
    /// RFC 7591 §3.2.2: a registration or update request that cannot be accepted.
    RegistrationCode {
        InvalidRequest,
        InvalidRedirectUri,
        InvalidClientMetadata,
        InvalidSoftwareStatement,
        UnapprovedSoftwareStatement,
    }
    /// A malformed request: body, content type, parameters.
    InvalidRequestCode { InvalidRequest }
    /// RFC 6750 §3.1: a missing, wrong, expired or used-up bearer token.
    InvalidTokenCode { InvalidToken }
    /// A valid token or client that may not do this: `insufficient_scope` (RFC 6750 §3.1) or a
    /// policy's `access_denied`.
    ForbiddenCode { InsufficientScope, AccessDenied }
    /// RFC 6749 §5.2, and RFC 8707 §2's `invalid_target`.
    TokenCode {
        InvalidRequest,
        InvalidGrant,
        UnauthorizedClient,
        UnsupportedGrantType,
        InvalidScope,
        InvalidTarget,
    }
    /// RFC 7009 §2.2.1.
    RevocationCode { InvalidRequest, UnauthorizedClient, UnsupportedTokenType }
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClientCode { InvalidClient }
    /// A rate limit applies.
    RateLimitCode { TooManyRequests }
    /// The store is unavailable or the request took too long.
    UnavailableCode { TemporarilyUnavailable }
    /// An unexpected failure; the detail is logged, never sent.
    ServerErrorCode { ServerError }
    /// Nothing is here.
    NotFoundCode { NotFound }
    /// A retry with an `Idempotency-Key` that cannot be answered.
    IdempotencyCode { InvalidRequest }
}

/// The one `token_type` this server issues (RFC 6750).
#[derive(Serialize, ToSchema)]
pub(crate) enum BearerType {
    Bearer,
}

/// RFC 6749 §5.1, with OpenID Connect Core §3.1.3.3's `id_token`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenResponse {
    /// A JWT access token (RFC 9068).
    access_token: String,
    token_type: BearerType,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// The granted scope, space-separated; absent when empty.
    #[schema(nullable = false)]
    scope: Option<String>,
    /// For `authorization_code` and `refresh_token` grants that allow one; rotated on use for
    /// public clients.
    #[schema(nullable = false)]
    refresh_token: Option<String>,
    /// For a grant whose scope has `openid`.
    #[schema(nullable = false)]
    id_token: Option<String>,
}

/// How a client authenticates in the form body (RFC 6749 §2.3.1, RFC 7523 §2.2). A client
/// registered for `client_secret_basic` sends the `Authorization` header instead; one
/// registered for `none` sends only `client_id`. Exactly one method per request.
#[derive(Serialize, ToSchema)]
pub(crate) struct ClientAuthentication {
    /// The client, for `client_secret_post` and `none` (optional with an assertion).
    #[schema(nullable = false)]
    client_id: Option<String>,
    /// `client_secret_post`.
    #[schema(nullable = false)]
    client_secret: Option<String>,
    /// `private_key_jwt` and `client_secret_jwt`: always
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    #[schema(nullable = false)]
    client_assertion_type: Option<AssertionType>,
    /// The signed JWT (RFC 7523 §3).
    #[schema(nullable = false)]
    client_assertion: Option<String>,
}

/// RFC 7523 §2.2.
#[derive(Serialize, ToSchema)]
pub(crate) enum AssertionType {
    #[serde(rename = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")]
    JwtBearer,
}

/// `grant_type=client_credentials` (RFC 6749 §4.4.2).
#[derive(Serialize, ToSchema)]
pub(crate) enum ClientCredentialsGrantType {
    #[serde(rename = "client_credentials")]
    ClientCredentials,
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3).
#[derive(Serialize, ToSchema)]
pub(crate) enum AuthorizationCodeGrantType {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
}

/// `grant_type=refresh_token` (RFC 6749 §6).
#[derive(Serialize, ToSchema)]
pub(crate) enum RefreshTokenGrantType {
    #[serde(rename = "refresh_token")]
    RefreshToken,
}

/// A client's own token, no user involved (RFC 6749 §4.4.2).
#[derive(Serialize, ToSchema)]
pub(crate) struct ClientCredentialsRequest {
    grant_type: ClientCredentialsGrantType,
    /// Within the registered scope; the registered scope when absent.
    #[schema(nullable = false)]
    scope: Option<String>,
    /// RFC 8707: one of the configured `resources`.
    #[schema(nullable = false)]
    resource: Option<String>,
    #[serde(flatten)]
    client: ClientAuthentication,
}

/// Redeems a code (RFC 6749 §4.1.3) with its PKCE verifier (RFC 7636 §4.5).
#[derive(Serialize, ToSchema)]
pub(crate) struct AuthorizationCodeRequest {
    grant_type: AuthorizationCodeGrantType,
    code: String,
    /// The `redirect_uri` of the authorization request.
    redirect_uri: String,
    code_verifier: String,
    /// RFC 8707: within the resources of the grant.
    #[schema(nullable = false)]
    resource: Option<String>,
    #[serde(flatten)]
    client: ClientAuthentication,
}

/// Uses a refresh token (RFC 6749 §6).
#[derive(Serialize, ToSchema)]
pub(crate) struct RefreshTokenRequest {
    grant_type: RefreshTokenGrantType,
    refresh_token: String,
    /// Within the scope of the grant.
    #[schema(nullable = false)]
    scope: Option<String>,
    #[schema(nullable = false)]
    resource: Option<String>,
    #[serde(flatten)]
    client: ClientAuthentication,
}

/// The token request, form-encoded, by grant type. No parameter may appear twice.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum TokenRequest {
    ClientCredentials(ClientCredentialsRequest),
    AuthorizationCode(AuthorizationCodeRequest),
    RefreshToken(RefreshTokenRequest),
}

/// RFC 7662 §2.1, authenticated like a token request.
#[derive(Serialize, ToSchema)]
pub(crate) struct IntrospectionRequest {
    /// An access token.
    token: String,
    #[schema(nullable = false)]
    token_type_hint: Option<String>,
    #[serde(flatten)]
    client: ClientAuthentication,
}

/// RFC 7009 §2.1, authenticated like a token request.
#[derive(Serialize, ToSchema)]
pub(crate) struct RevocationRequest {
    /// An access or refresh token of the client.
    token: String,
    /// Only orders the lookups: `access_token` or `refresh_token`.
    #[schema(nullable = false)]
    token_type_hint: Option<String>,
    #[serde(flatten)]
    client: ClientAuthentication,
}

/// One audience as a string, several as an array (RFC 7519 §4.1.3).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

/// RFC 7662 §2.2: the claims of an active token, or only `"active": false` for anything else.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IntrospectionResponse {
    active: bool,
    #[schema(nullable = false)]
    client_id: Option<String>,
    #[schema(nullable = false)]
    token_type: Option<BearerType>,
    #[schema(nullable = false)]
    exp: Option<i64>,
    #[schema(nullable = false)]
    iat: Option<i64>,
    #[schema(nullable = false)]
    sub: Option<String>,
    #[schema(nullable = false)]
    aud: Option<Audience>,
    #[schema(nullable = false)]
    iss: Option<String>,
    #[schema(nullable = false)]
    jti: Option<String>,
    /// Space-separated; absent when empty.
    #[schema(nullable = false)]
    scope: Option<String>,
    /// For a token issued on a user's grant.
    #[schema(nullable = false)]
    auth_time: Option<i64>,
}

/// OpenID Connect Core §5.3.2: the claims the token's scope allows.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserInfo {
    sub: String,
    /// With `profile`.
    #[schema(nullable = false)]
    preferred_username: Option<String>,
    /// With `profile`, when the user has one.
    #[schema(nullable = false)]
    name: Option<String>,
    /// With `email`, when the user has one.
    #[schema(nullable = false)]
    email: Option<String>,
    #[schema(nullable = false)]
    email_verified: Option<bool>,
}

/// A public signing key (RFC 7517 §4).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Jwk {
    /// `EC`, `RSA` or `OKP`.
    kty: String,
    kid: String,
    /// `ES256`, `RS256` or `EdDSA`.
    alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    key_use: String,
    /// `P-256` or `Ed25519`.
    #[schema(nullable = false)]
    crv: Option<String>,
    #[schema(nullable = false)]
    x: Option<String>,
    #[schema(nullable = false)]
    y: Option<String>,
    #[schema(nullable = false)]
    n: Option<String>,
    #[schema(nullable = false)]
    e: Option<String>,
}

/// RFC 7517 §5: the active keys, and retired keys whose tokens may still be live.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JwkSet {
    keys: Vec<Jwk>,
}

/// OpenID Connect Discovery 1.0 §3 and RFC 8414 §2: one document at both addresses. Every value
/// is one the server acts on.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    registration_endpoint: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    end_session_endpoint: String,
    scopes_supported: Vec<String>,
    response_types_supported: Vec<String>,
    response_modes_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    code_challenge_methods_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<AuthMethod>,
    token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    introspection_endpoint_auth_methods_supported: Vec<AuthMethod>,
    introspection_endpoint_auth_signing_alg_values_supported: Vec<String>,
    revocation_endpoint_auth_methods_supported: Vec<AuthMethod>,
    revocation_endpoint_auth_signing_alg_values_supported: Vec<String>,
    subject_types_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    claims_supported: Vec<String>,
    prompt_values_supported: Vec<String>,
    authorization_response_iss_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    claims_parameter_supported: bool,
    /// Present, `true`, when `cimd.enabled`: an https URL is accepted as a client id.
    client_id_metadata_document_supported: Option<bool>,
}

/// RFC 7033 §4.4: the JSON Resource Descriptor.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebFingerResponse {
    /// The `resource` asked about.
    subject: String,
    /// The issuer link, unless another `rel` was asked for.
    links: Vec<WebFingerLink>,
}

/// A WebFinger link (RFC 7033 §4.4.4).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebFingerLink {
    /// `http://openid.net/specs/connect/1.0/issuer`.
    rel: String,
    /// The issuer.
    href: String,
}

/// `/healthz` and `/readyz`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HealthStatus {
    status: HealthState,
}

/// `ok` from `/healthz`; `ready` or `unavailable` from `/readyz`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HealthState {
    Ok,
    Ready,
    Unavailable,
}

/// The update of RFC 7592 §2.2: the whole metadata, which may repeat the client's `client_id`
/// and its current `client_secret`; server-managed members are refused.
#[derive(Serialize, ToSchema)]
pub(crate) struct ClientUpdateRequest {
    /// Must equal the client's identifier when present.
    #[schema(nullable = false)]
    client_id: Option<String>,
    /// Must equal the current secret when present.
    #[schema(nullable = false)]
    client_secret: Option<String>,
    #[serde(flatten)]
    metadata: registrar_core::ClientMetadata,
}

/// The login form the page posts (`application/x-www-form-urlencoded`).
#[derive(Serialize, ToSchema)]
pub(crate) struct LoginForm {
    /// The CSRF token of the page, matched against its cookie.
    csrf_token: String,
    /// The raw query of the authorization request, checked again in full.
    authorization_request: String,
    username: String,
    password: String,
}

/// The consent form the page posts (`application/x-www-form-urlencoded`).
#[derive(Serialize, ToSchema)]
pub(crate) struct ConsentForm {
    csrf_token: String,
    authorization_request: String,
    decision: ConsentDecision,
}

/// What the user chose on the consent page.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConsentDecision {
    Allow,
    Deny,
}

/// The userinfo request's form body (RFC 6750 §2.2), instead of the `Authorization` header.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserInfoForm {
    access_token: String,
}

/// RP-Initiated Logout 1.0 §2, as a query or a form; the confirmation form adds `csrf_token`.
#[derive(Serialize, ToSchema)]
pub(crate) struct LogoutParameters {
    #[schema(nullable = false)]
    id_token_hint: Option<String>,
    #[schema(nullable = false)]
    post_logout_redirect_uri: Option<String>,
    #[schema(nullable = false)]
    client_id: Option<String>,
    #[schema(nullable = false)]
    state: Option<String>,
    /// The confirmation page's form only: its CSRF token.
    #[schema(nullable = false)]
    csrf_token: Option<String>,
    /// The confirmation page's form only: the original request's query.
    #[schema(nullable = false)]
    logout_request: Option<String>,
}
