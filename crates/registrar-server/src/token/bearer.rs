//! The server's `BearerAuthenticator`: access tokens this server issued (RFC 9068), and those of
//! the trusted external issuers of `registration.trusted_token_issuers`, become principals the
//! pipeline checks for `registration.bearer_scope`.

use std::sync::Arc;

use async_trait::async_trait;
use registrar_core::token::{AccessTokenError, VerifyError, verify_access_token};
use registrar_core::trust::verify_bearer_token;
use registrar_core::{BearerAuthenticator, ClientId, Principal, RegistrationError, Services};

use super::TokenService;

/// Seconds of clock skew tolerated on external issuers' tokens.
const EXTERNAL_LEEWAY: i64 = 60;

/// Verifies bearer tokens with the server's signing keys, then with the trusted issuers' keys.
#[derive(Debug)]
pub struct ServerBearer {
    tokens: Arc<TokenService>,
}

impl ServerBearer {
    /// An authenticator over the server's key ring and outbound fetcher.
    pub fn new(tokens: Arc<TokenService>) -> Self {
        Self { tokens }
    }

    /// RFC 9068 §4 for one of this server's own tokens: signature, type, issuer, expiry, an
    /// audience that names this server, and a client that still exists.
    async fn own_token(
        &self,
        token: &str,
        services: &Services,
    ) -> Result<Option<Principal>, RegistrationError> {
        let issuer = services.settings().issuer_id();
        let now = services.clock().now();
        let key_ring = self.tokens.key_ring.current(services).await;
        let verified = match verify_access_token(&key_ring, token, issuer, now) {
            // Another instance may have rotated to a key this one has not loaded yet.
            Err(AccessTokenError::Signature(VerifyError::UnknownKey)) => {
                let key_ring = self.tokens.key_ring.reload_for_unknown_key(services).await;
                verify_access_token(&key_ring, token, issuer, now)
            }
            other => other,
        };
        let Ok(claims) = verified else {
            return Ok(None);
        };
        // Only a client's own token administers registrations: a token a user delegated to a
        // client (the authorization code flow) never does, whatever scope it carries.
        if !claims.aud.iter().any(|audience| audience == issuer) || !claims.is_client_token() {
            return Ok(None);
        }
        // A deleted, blocked or expired client's tokens die with it, and so does the registration scope of a
        // client that no longer has it or whose policy no longer allows it.
        let Some(client_id) = ClientId::parse(&claims.client_id) else {
            return Ok(None);
        };
        let Some(client) = services.usable_client(&client_id).await? else {
            return Ok(None);
        };
        // Revoked at /connect/revoke (RFC 7009): an administrator's leaked token must stop at once.
        if services
            .stores()
            .authorizations()
            .is_access_token_revoked(&claims.jti)
            .await?
        {
            return Ok(None);
        }
        let settings = services.settings();
        let policy = client.policy_in(&settings.policies);
        let still_granted = policy.allow_registration_scope
            && client
                .metadata
                .scopes()
                .any(|scope| scope == settings.bearer_scope);
        let scopes = claims
            .scopes()
            .filter(|scope| *scope != settings.bearer_scope || still_granted)
            .map(str::to_owned)
            .collect();
        Ok(Some(Principal {
            subject: claims.sub.clone(),
            scopes,
            issuer: Some(claims.iss),
        }))
    }
}

#[async_trait]
impl BearerAuthenticator for ServerBearer {
    async fn authenticate(
        &self,
        token: &str,
        services: &Services,
    ) -> Result<Option<Principal>, RegistrationError> {
        if let Some(principal) = self.own_token(token, services).await? {
            return Ok(Some(principal));
        }
        let issuers = &services.settings().trusted_token_issuers;
        if issuers.is_empty() {
            return Ok(None);
        }
        let verified = verify_bearer_token(
            token,
            issuers,
            services.key_source().as_ref(),
            services.clock().now(),
            EXTERNAL_LEEWAY,
        )
        .await;
        // An issuer that signs software statements too could have one, with `aud`, `exp` and a
        // `scope` claim, presented as a bearer token: its access tokens must say what they are.
        let signs_statements = |issuer: &str| {
            services
                .settings()
                .software_statements
                .issuers
                .iter()
                .any(|statement_issuer| statement_issuer.trusted.issuer == issuer)
        };
        match verified {
            Ok(bearer) if !bearer.typed_as_access_token && signs_statements(&bearer.issuer) => {
                tracing::debug!(
                    issuer = %bearer.issuer,
                    "bearer token refused: its issuer signs software statements, and it is not typed at+jwt"
                );
                Ok(None)
            }
            Ok(bearer) => Ok(Some(Principal {
                subject: bearer.subject,
                scopes: bearer.scopes,
                issuer: Some(bearer.issuer),
            })),
            Err(reason) => {
                tracing::debug!(%reason, "bearer token refused");
                Ok(None)
            }
        }
    }
}
