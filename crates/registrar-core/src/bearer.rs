//! `BearerAuthenticator`: how a bearer access token (a JWT, not an initial access token) becomes
//! a principal, for registration and administration with `registration.bearer_scope`.
//!
//! The pipeline only asks; the server implements it with its own signing keys and the trusted
//! token issuers' keys, which live beside the token endpoint.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::caller::Principal;
use crate::context::Services;
use crate::error::RegistrationError;

/// Verifies bearer access tokens presented at the registration and management endpoints.
#[async_trait]
pub trait BearerAuthenticator: Send + Sync + Debug {
    /// The principal `token` proves, with the scopes it carries; `None` when it proves nothing
    /// (bad signature, expired, unknown issuer, wrong audience, a deleted client's token). The
    /// pipeline then checks the scope.
    async fn authenticate(
        &self,
        token: &str,
        services: &Services,
    ) -> Result<Option<Principal>, RegistrationError>;
}

/// Whether a presented token has the shape of a compact JWS (three non-empty base64url parts),
/// which initial and registration access tokens (one base64url string) never have.
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let is_part = |part: Option<&str>| {
        part.is_some_and(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
        })
    };
    is_part(parts.next())
        && is_part(parts.next())
        && is_part(parts.next())
        && parts.next().is_none()
}
