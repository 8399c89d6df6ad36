//! ID token claims (OpenID Connect Core §2) and the `at_hash` / `c_hash` half-hash (§3.1.3.6).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use crate::token::SigningAlgorithm;

/// The `typ` header of an ID token: plain `JWT`, which every relying party library accepts (an
/// access token's `at+jwt` keeps the two from being confused).
pub const ID_TOKEN_TYPE: &str = "JWT";

/// The claims of an ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// The issuer identifier.
    pub iss: String,
    /// The user's subject identifier.
    pub sub: String,
    /// The client it is for: its `client_id` alone (OIDC Core §2).
    pub aud: String,
    /// The client, again, as the authorized party.
    pub azp: String,
    /// When it expires, seconds since the epoch.
    pub exp: i64,
    /// When it was issued, seconds since the epoch.
    pub iat: i64,
    /// When the user authenticated, seconds since the epoch.
    pub auth_time: i64,
    /// The authorization request's `nonce`, unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The left half of the hash of the access token issued with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The session id, for RP-initiated logout's `id_token_hint` round trip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// OIDC Core §3.1.3.6: base64url of the left-most half of the hash of `token`, with the hash of
/// the ID token's `alg` (SHA-256 for RS256 and ES256; SHA-512 for EdDSA over Ed25519, as
/// OpenID Connect's errata and every library that supports it use).
pub fn token_hash_claim(algorithm: SigningAlgorithm, token: &str) -> String {
    match algorithm {
        SigningAlgorithm::Es256 | SigningAlgorithm::Rs256 => {
            let digest = Sha256::digest(token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..16])
        }
        SigningAlgorithm::EdDsa => {
            let digest = Sha512::digest(token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..32])
        }
    }
}
