//! What the fuzz targets share: a runtime for the async steps, the fixed time and signing keys,
//! and the check every error response must pass.

use std::future::Future;
use std::sync::LazyLock;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse as _;
use registrar_core::secrets::SecretGenerator;
use registrar_core::token::{
    KeyRing, KeyRingConfig, SecretCipher, SigningAlgorithm, generate_signing_key,
};
use serde_json::Value;

use crate::error::ApiError;

/// The time of every request and check, in seconds since the epoch.
pub(super) const NOW: i64 = 1_700_000_000;

/// The server secret of the fuzz pipeline and of the fixture keys' cipher.
pub(super) const SERVER_SECRET: &[u8] = b"the fuzz targets' server secret, 32 bytes or more";

/// Fills with a fixed pattern, so the fixture keys and their kids are the same in every run and
/// corpus inputs can name them. Only ever a fuzz fixture, never a source of credentials.
#[derive(Debug)]
struct FixedPattern;

impl SecretGenerator for FixedPattern {
    fn fill(&self, bytes: &mut [u8]) {
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = (index as u8).wrapping_mul(31).wrapping_add(7);
        }
    }
}

/// An Ed25519 and a P-256 key: a client's keys for its assertions, a trusted issuer's for its
/// software statements.
pub(super) static FIXTURE_KEYS: LazyLock<KeyRing> = LazyLock::new(|| {
    let cipher = SecretCipher::new(SERVER_SECRET);
    let keys: Vec<_> = [SigningAlgorithm::EdDsa, SigningAlgorithm::Es256]
        .into_iter()
        .map(|algorithm| {
            generate_signing_key(algorithm, &FixedPattern, NOW)
                .expect("a fuzz signing key")
                .seal(&cipher)
        })
        .collect();
    let config = KeyRingConfig {
        algorithm: SigningAlgorithm::EdDsa,
        id_token_algorithms: vec![SigningAlgorithm::Es256],
        max_access_token_lifetime: 3_600,
    };
    KeyRing::new(&keys, &cipher, config).expect("the fuzz key ring")
});

/// `claims` as a compact JWS signed with the fixture's Ed25519 key: what lets the fuzzer reach
/// the checks behind a signature it could never forge.
pub(super) fn sign(claims: &Value) -> String {
    FIXTURE_KEYS
        .sign_with(SigningAlgorithm::EdDsa, "JWT", claims)
        .expect("the fixture key signs any JSON")
}

thread_local! {
    /// One runtime per thread for the whole run: building one per input would cost more than the
    /// code under test.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime");
}

/// Runs `future` to completion on the thread's runtime.
pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// RFC 6749 §5.2: `error` and `error_description` use only `%x20-21 / %x23-5B / %x5D-7E`.
pub(super) fn within_rfc_6749_characters(text: &str) -> bool {
    text.bytes()
        .all(|byte| matches!(byte, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// An error response as the client sees it.
pub(super) struct ErrorAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub code: String,
}

/// Turns `error` into its HTTP response, as every handler does, and checks it: a JSON body
/// with `error` one of `allowed` (with its status) and a non-empty `error_description` within
/// RFC 6749 §5.2's characters. Panics with what is wrong otherwise.
pub(super) fn check_error(error: ApiError, allowed: &[(StatusCode, &str)]) -> ErrorAnswer {
    let shown = format!("{error:?}");
    let response = error.into_response();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
        .expect("an error body is in memory");
    let body: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|parse_error| panic!("{shown}: the error body is not JSON: {parse_error}"));
    let code = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{shown}: the error body has no error code: {body}"));
    let description = body["error_description"]
        .as_str()
        .unwrap_or_else(|| panic!("{shown}: the error body has no error_description: {body}"));
    assert!(
        allowed.iter().any(
            |(allowed_status, allowed_code)| *allowed_status == status && *allowed_code == code
        ),
        "{shown}: answered {status} {code}, expected one of {allowed:?}"
    );
    assert!(
        !description.trim().is_empty(),
        "{shown}: the error_description is empty"
    );
    assert!(
        within_rfc_6749_characters(code) && within_rfc_6749_characters(description),
        "{shown}: the error or error_description has characters outside RFC 6749 section 5.2: {body}"
    );
    ErrorAnswer {
        status,
        headers,
        code: code.to_owned(),
    }
}
