//! The transport-free side of the authorization code flow (RFC 6749 §4.1, RFC 7636, OpenID
//! Connect Core): end users and their authentication, login sessions, remembered consent,
//! authorization codes, grants with their refresh tokens, PKCE, redirect URI matching and ID
//! token claims. The server crate renders the pages and speaks HTTP; everything it decides with
//! is here.
//!
//! A grant is what one consent at `/connect/authorize` produced: the code, then the access and
//! refresh tokens issued from it. Revoking the grant (a reused code, a reused rotated refresh
//! token, RFC 7009 revocation, a client update that changes what the user consented to) revokes
//! everything issued from it: refresh tokens stop working at once, and access tokens carry the
//! grant id so introspection and userinfo refuse them.
//!
//! **Invariant:** codes, refresh tokens and session ids are stored only as `TokenHash`es;
//! passwords only as argon2id PHC strings.

mod grants;
mod id_token;
mod pkce;
mod redirect;
mod users;

pub use grants::{
    AuthorizationCode, AuthorizationStore, CodeRedemption, Consent, Grant, RefreshRotation,
    RefreshToken, Session, StoredCode,
};
pub use id_token::{ID_TOKEN_TYPE, IdTokenClaims, token_hash_claim};
pub use pkce::{PkceError, check_code_challenge, verify_code_verifier};
pub use redirect::{is_loopback_redirect, match_redirect_uri};
pub use users::{
    MAX_PASSWORD_BYTES, PasswordError, StoreUserAuthenticator, User, UserAuthenticator, UserStore,
    hash_password, verify_password,
};

#[cfg(test)]
mod tests;
