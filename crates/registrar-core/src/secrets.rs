//! Random credentials and their keyed hashes.
//!
//! Every credential Registrar issues (client secret, registration access token, initial access
//! token) carries at least 256 random bits (client secrets 512, to key every HMAC algorithm of
//! `client_secret_jwt` with a key of full length), so a fast keyed hash (HMAC-SHA-256) is
//! enough: no slow KDF, which would turn every authenticated request into a CPU cost an attacker
//! can multiply.
//! The key lives outside the database, so a stolen database alone cannot even confirm a guess.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Where randomness comes from; injected so tests can make it predictable.
pub trait SecretGenerator: Send + Sync + fmt::Debug {
    /// Fills `bytes` with random bytes fit for credentials.
    fn fill(&self, bytes: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl SecretGenerator for OsRandom {
    fn fill(&self, bytes: &mut [u8]) {
        // Without an entropy source no credential can be issued safely, so this is fatal.
        #[allow(clippy::expect_used)]
        getrandom::fill(bytes).expect("the operating system's random source failed");
    }
}

/// `bytes` random bytes, base64url without padding: only `[A-Za-z0-9-_]`.
pub fn random_token(generator: &dyn SecretGenerator, bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    generator.fill(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The stored form of a credential: HMAC-SHA-256 under the server's hashing key.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The hash as 64 lowercase hex digits, the form the stores keep.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Reads the form [`to_hex`](Self::to_hex) writes; `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(index * 2..index * 2 + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// Constant-time equality, so the time taken reveals nothing about how much matched.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not a secret, but there is no reason to spread it through logs either.
        formatter.write_str("TokenHash(..)")
    }
}

/// Hashes credentials under a key derived from the server's secret key.
#[derive(Clone)]
pub struct TokenHasher {
    key: [u8; 32],
}

impl TokenHasher {
    /// Derives the hashing key from the server secret, so one configured secret serves every
    /// purpose and each purpose still gets its own key.
    pub fn new(server_secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(server_secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(b"registrar credential hashing v1");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// The keyed hash of a credential, to store or look it up by.
    pub fn hash(&self, credential: &str) -> TokenHash {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(credential.as_bytes());
        TokenHash(mac.finalize().into_bytes().into())
    }

    /// Whether `credential` hashes to `stored`, compared in constant time.
    pub fn verify(&self, credential: &str, stored: &TokenHash) -> bool {
        self.hash(credential).matches(stored)
    }
}

impl fmt::Debug for TokenHasher {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("TokenHasher(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trips_through_hex_and_depends_on_the_key() {
        let hasher = TokenHasher::new(b"key one");
        let hash = hasher.hash("token");
        assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash.clone()));
        assert!(hasher.verify("token", &hash));
        assert!(!hasher.verify("token2", &hash));
        assert!(!TokenHasher::new(b"key two").verify("token", &hash));
    }

    #[test]
    fn random_tokens_use_only_unreserved_characters() {
        let token = random_token(&OsRandom, 32);
        assert_eq!(token.len(), 43);
        assert!(crate::ids::is_unreserved(&token));
        assert_ne!(token, random_token(&OsRandom, 32));
    }
}

/// A credential in clear, as issued once to its holder. Its `Debug` never shows the value, so it
/// cannot leak into logs by accident.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value in clear; only for sending it to its holder or hashing it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(..)")
    }
}
