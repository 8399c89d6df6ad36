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
