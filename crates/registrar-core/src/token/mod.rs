//! The transport-free core of the token endpoint: signing keys and the JWKS, RFC 9068 access
//! tokens, client assertions (RFC 7523) and the encryption of secrets that must be recoverable.
//!
//! The `client_credentials` request walks through it like this:
//!
//! 1. The client authenticates. For `private_key_jwt` and `client_secret_jwt` the caller first runs
//!    every check that needs no key: [`parse_assertion`] (form, `alg`, `iss`/`sub`, `aud`, `exp`,
//!    `jti`) names the client, which is loaded, [`ParsedAssertion::check_method`] checks its
//!    method and registered `alg`, and [`refuse_recorded_jti`] a replay. Only then does it get a
//!    key: [`ParsedAssertion::verify_with_jwks`] (its `jwks`, or its `jwks_uri` fetched; refetch
//!    once on [`AssertionError::NoMatchingKey`]) or [`ParsedAssertion::verify_with_secret`] (its
//!    secret decrypted by [`SecretCipher`], with the client_id as associated data), and
//!    [`record_assertion`] records the `jti`, refusing a replay that raced it.
//! 2. The caller builds [`AccessTokenClaims::new`] from the granted scope and lifetime and signs
//!    them with [`issue_access_token`] and the [`KeyRing`].
//! 3. Introspection runs [`verify_access_token`]; any error means `{"active": false}`.
//!
//! **Invariant:** a private signing key is stored only sealed by [`SecretCipher`], whose key is
//! not in the database, and no `Debug` output shows key material.
//!
//! **Invariant:** nothing here reads the wall clock; every check takes the injected `now`.

mod access_token;
pub(crate) mod assertion;
mod cipher;
mod error;
pub(crate) mod jwk;
pub(crate) mod jwt;
mod key_ring;
mod keys;
mod signer;
mod verifier;

pub use access_token::{
    ACCESS_TOKEN_TYPE, AccessTokenClaims, AccessTokenError, NewAccessToken, issue_access_token,
    verify_access_token,
};
pub use assertion::{
    ASYMMETRIC_ASSERTION_ALGS, AssertionCheck, AssertionError, AssertionLimits, AssertionMethod,
    AssertionRules, HMAC_ASSERTION_ALGS, ParsedAssertion, ReplayCache, VerifiedAssertion,
    parse_assertion, record_assertion, refuse_recorded_jti, unverified_header_kid,
    unverified_subject, verify_client_secret_jwt, verify_private_key_jwt,
};
pub use cipher::SecretCipher;
pub use error::TokenError;
pub use key_ring::{
    KeyRing, KeyRingConfig, KeyState, VerifiedJwt, VerifyError, active_key, active_keys,
    key_states, load_key_ring, rotate_signing_key,
};
pub use keys::{
    KeyError, SigningAlgorithm, SigningKey, SigningKeyStore, StoredSigningKey, generate_signing_key,
};

#[cfg(test)]
mod tests;
