//! PKCE (RFC 7636) with `S256` only: `plain` gives no protection once the request leaks, and
//! OAuth 2.1 and the MCP authorization spec require S256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why an authorization request's PKCE parameters are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// No `code_challenge`: every client must use PKCE.
    #[error("code_challenge is required: this server requires PKCE with S256 for every client")]
    Missing,
    /// A method other than S256 (or none, which means `plain`).
    #[error("code_challenge_method must be S256; plain is not accepted")]
    Method,
    /// Not 43 base64url characters, the length of an encoded SHA-256 digest.
    #[error("code_challenge must be the base64url encoding of a SHA-256 digest (43 characters)")]
    Malformed,
}

/// Checks the `code_challenge` and `code_challenge_method` of an authorization request.
/// RFC 7636 §4.3: an absent method means `plain`, which is refused.
pub fn check_code_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<(), PkceError> {
    let challenge = challenge.ok_or(PkceError::Missing)?;
    if method != Some("S256") {
        return Err(PkceError::Method);
    }
    let well_formed = challenge.len() == 43
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|digest| digest.len() == 32);
    if !well_formed {
        return Err(PkceError::Malformed);
    }
    Ok(())
}

/// Whether `verifier` is a well-formed code verifier (RFC 7636 §4.1: 43 to 128 unreserved
/// characters) whose S256 transform is `challenge`, compared in constant time.
pub fn verify_code_verifier(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
    if !well_formed {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}
