//! `SecretCipher`: authenticated encryption of the few secrets that must be stored recoverable
//! (`client_secret_jwt` client secrets and private signing keys), under a key that is not in the
//! database.
//!
//! XChaCha20-Poly1305 with a random 192-bit nonce: nonces can be drawn at random for any number of
//! messages without a realistic chance of repeating, so no counter has to be kept in the store.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::jwt::{base64url, from_base64url};
use crate::secrets::{OsRandom, SecretGenerator};

/// The first byte of every sealed value, so a later format can be told apart.
const VERSION: u8 = 1;
const NONCE_LENGTH: usize = 24;
const TAG_LENGTH: usize = 16;

/// Encrypts and decrypts stored secrets. `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretCipher {
    key: [u8; 32],
}

impl SecretCipher {
    /// Derives the encryption key from the server secret with its own label, so it is unrelated
    /// to the credential hashing key `TokenHasher::new` derives from the same secret.
    pub fn new(server_secret: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(server_secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(b"registrar secret encryption v1");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn aead(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.key))
    }

    /// Seals `plaintext`, bound to `associated_data` (a client_id, a kid), as base64url of
    /// `version ‖ nonce ‖ ciphertext ‖ tag`.
    ///
    /// The nonce always comes from the operating system, never from an injected generator: a
    /// predictable generator repeating a nonce would expose the plaintexts.
    pub fn encrypt(&self, plaintext: &[u8], associated_data: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LENGTH];
        OsRandom.fill(&mut nonce);
        let aad = bound_associated_data(associated_data);
        let ciphertext = self
            .aead()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 seals up to 256 GiB"));
        let mut sealed = Vec::with_capacity(1 + NONCE_LENGTH + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        base64url(&sealed)
    }

    /// The plaintext of a value sealed by [`SecretCipher::encrypt`] under the same server secret
    /// and associated data; `None` when anything differs or was altered.
    pub fn decrypt(&self, sealed: &str, associated_data: &[u8]) -> Option<Vec<u8>> {
        let bytes = from_base64url(sealed)?;
        let (version, rest) = bytes.split_first()?;
        if *version != VERSION || rest.len() < NONCE_LENGTH + TAG_LENGTH {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LENGTH);
        let aad = bound_associated_data(associated_data);
        self.aead()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .ok()
    }
}

/// The version byte is authenticated too, so a sealed value cannot be relabelled as another
/// format.
fn bound_associated_data(associated_data: &[u8]) -> Vec<u8> {
    let mut bound = Vec::with_capacity(1 + associated_data.len());
    bound.push(VERSION);
    bound.extend_from_slice(associated_data);
    bound
}

impl fmt::Debug for SecretCipher {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SecretCipher(..)")
    }
}
