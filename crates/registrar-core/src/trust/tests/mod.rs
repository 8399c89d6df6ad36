//! Tests of trusted-issuer JWTs: software statements, external bearer tokens and the shared
//! helpers. Keys are generated here with the RustCrypto crates, independently of the code under
//! test, and tokens are signed with `jsonwebtoken`.

mod bearer;
mod issuer;
mod statement;

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::quote::quoted;
use super::{IssuerKeys, KeySource, TrustedIssuer, looks_like_jwt};
use crate::error::StoreError;
use crate::token::ReplayCache;

pub(super) const NOW: i64 = 1_700_000_000;
pub(super) const ISSUER: &str = "https://directory.example";
pub(super) const JWKS_URI: &str = "https://directory.example/jwks.json";

fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The operating system's randomness, as the `rand_core` 0.6 generator the key crates take.
struct OsRng;

impl rand_core::RngCore for OsRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, destination: &mut [u8]) {
        getrandom::fill(destination).unwrap();
    }

    fn try_fill_bytes(&mut self, destination: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(destination);
        Ok(())
    }
}

impl rand_core::CryptoRng for OsRng {}

/// A key pair: the public JWK (with its kid) and the private key `jsonwebtoken` signs with.
pub(super) struct TestKey {
    pub(super) algorithm: Algorithm,
    pub(super) kid: String,
    pub(super) public_jwk: Value,
    pub(super) encoding_key: EncodingKey,
    /// The public key's own encoding (SPKI, PEM for RSA, DER otherwise), which an
    /// algorithm-confusion attacker would use as an HMAC secret.
    pub(super) public_key_bytes: Vec<u8>,
}

fn es256_key(kid: &str) -> TestKey {
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    let secret = p256::SecretKey::random(&mut OsRng);
    let point = secret.public_key().to_encoded_point(false);
    TestKey {
        algorithm: Algorithm::ES256,
        kid: kid.to_owned(),
        public_jwk: json!({
            "kty": "EC", "crv": "P-256", "kid": kid,
            "x": base64url(point.x().unwrap()), "y": base64url(point.y().unwrap()),
        }),
        encoding_key: EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes()),
        public_key_bytes: secret.public_key().to_public_key_der().unwrap().into_vec(),
    }
}

fn rs256_key(kid: &str) -> TestKey {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
    use rsa::traits::PublicKeyParts as _;
    let private = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
    TestKey {
        algorithm: Algorithm::RS256,
        kid: kid.to_owned(),
        public_jwk: json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": base64url(&private.n().to_bytes_be()), "e": base64url(&private.e().to_bytes_be()),
        }),
        encoding_key: EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes()),
        public_key_bytes: private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
            .into_bytes(),
    }
}

fn eddsa_key(kid: &str) -> TestKey {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    let mut seed = [0_u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let signing_key = ed25519_dalek::SigningKey::from_bytes(&seed);
    TestKey {
        algorithm: Algorithm::EdDSA,
        kid: kid.to_owned(),
        public_jwk: json!({
            "kty": "OKP", "crv": "Ed25519", "kid": kid,
            "x": base64url(signing_key.verifying_key().as_bytes()),
        }),
        encoding_key: EncodingKey::from_ed_der(signing_key.to_pkcs8_der().unwrap().as_bytes()),
        public_key_bytes: signing_key
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .into_vec(),
    }
}

/// Every key the tests use, generated once: RSA generation is slow in a debug build.
pub(super) struct Keys {
    /// The trusted issuer's keys, one of each algorithm.
    pub(super) es256: TestKey,
    pub(super) rs256: TestKey,
    pub(super) eddsa: TestKey,
    /// The key the issuer rotates to, not yet in its published set.
    pub(super) rotated: TestKey,
    /// Someone else's key.
    pub(super) attacker: TestKey,
}

pub(super) fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        es256: es256_key("es256-1"),
        rs256: rs256_key("rs256-1"),
        eddsa: eddsa_key("eddsa-1"),
        rotated: es256_key("es256-2"),
        attacker: es256_key("attacker-1"),
    })
}

/// A JWK Set of these keys.
pub(super) fn jwks(keys: &[&TestKey]) -> Value {
    let keys: Vec<&Value> = keys.iter().map(|key| &key.public_jwk).collect();
    json!({ "keys": keys })
}

/// The issuer's published set: one key of each algorithm.
pub(super) fn issuer_jwks() -> Value {
    let keys = keys();
    jwks(&[&keys.es256, &keys.rs256, &keys.eddsa])
}

/// The trusted issuer with its keys inline.
pub(super) fn trusted_issuer() -> TrustedIssuer {
    TrustedIssuer {
        issuer: ISSUER.to_owned(),
        keys: IssuerKeys::Inline(issuer_jwks()),
        algs: vec!["ES256".to_owned(), "RS256".to_owned(), "EdDSA".to_owned()],
    }
}

/// Signs `claims` with `key` through `jsonwebtoken::encode`: header `alg`, `kid`, `typ`.
pub(super) fn signed(key: &TestKey, typ: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(key.algorithm);
    header.kid = Some(key.kid.clone());
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key.encoding_key).unwrap()
}

/// Signs `header.claims` exactly as given with `encoding_key` as `algorithm`, whatever the header
/// says: for headers `jsonwebtoken::encode` would not write.
pub(super) fn signed_raw(
    header: &Value,
    claims: &Value,
    encoding_key: &EncodingKey,
    algorithm: Algorithm,
) -> String {
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), encoding_key, algorithm).unwrap();
    format!("{signing_input}.{signature}")
}

/// Parts given as text, each base64url-encoded, joined by dots.
pub(super) fn encoded_parts(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|part| base64url(part.as_bytes()))
        .collect::<Vec<_>>()
        .join(".")
}

/// `base` with each member of `patch` set, or removed where the patch says `null`.
pub(super) fn patched(base: Value, patch: &Value) -> Value {
    let (Value::Object(mut members), Value::Object(changes)) = (base, patch.clone()) else {
        panic!("both are objects");
    };
    for (name, value) in changes {
        match value {
            Value::Null => members.remove(&name),
            value => members.insert(name, value),
        };
    }
    Value::Object(members)
}

/// RFC 6749 §5.2: `error_description` is `%x20-21 / %x23-5B / %x5D-7E`.
pub(super) fn assert_description_charset(description: &str) {
    assert!(
        description
            .bytes()
            .all(|byte| matches!(byte, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
        "not an RFC 6749 error_description: {description}"
    );
}

/// A key source serving one set at a time, which a test swaps, and remembering every request.
#[derive(Debug, Default)]
pub(super) struct SwappableKeySource {
    set: Mutex<Value>,
    calls: Mutex<Vec<(String, Option<String>)>>,
}

impl SwappableKeySource {
    pub(super) fn new(set: Value) -> Self {
        Self {
            set: Mutex::new(set),
            calls: Mutex::default(),
        }
    }

    /// What the issuer publishes from now on.
    pub(super) fn swap(&self, set: Value) {
        *self.set.lock().unwrap() = set;
    }

    /// Every `(uri, kid)` asked for so far.
    pub(super) fn calls(&self) -> Vec<(String, Option<String>)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl KeySource for SwappableKeySource {
    async fn jwk_set(&self, uri: &str, kid: Option<&str>) -> Result<Value, String> {
        self.calls
            .lock()
            .unwrap()
            .push((uri.to_owned(), kid.map(str::to_owned)));
        if uri != JWKS_URI {
            return Err(format!("no \"set\" at {uri}\n"));
        }
        Ok(self.set.lock().unwrap().clone())
    }
}

/// An in-memory replay cache that also remembers each `expires_at` it was given.
#[derive(Debug, Default)]
pub(super) struct MemoryReplayCache {
    seen: Mutex<HashSet<(String, String)>>,
    recorded: Mutex<Vec<(String, String, i64)>>,
}

impl MemoryReplayCache {
    /// Every `(key, jti, expires_at)` recorded so far.
    pub(super) fn recorded(&self) -> Vec<(String, String, i64)> {
        self.recorded.lock().unwrap().clone()
    }
}

#[async_trait]
impl ReplayCache for MemoryReplayCache {
    async fn record_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.recorded
            .lock()
            .unwrap()
            .push((client_id.to_owned(), jti.to_owned(), expires_at));
        Ok(self
            .seen
            .lock()
            .unwrap()
            .insert((client_id.to_owned(), jti.to_owned())))
    }

    async fn is_jti_recorded(
        &self,
        client_id: &str,
        jti: &str,
        _: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .seen
            .lock()
            .unwrap()
            .contains(&(client_id.to_owned(), jti.to_owned())))
    }
}

/// A replay cache whose backend is down.
#[derive(Debug)]
pub(super) struct FailingReplayCache;

#[async_trait]
impl ReplayCache for FailingReplayCache {
    async fn record_jti(&self, _: &str, _: &str, _: i64) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("connection refused".to_owned()))
    }

    async fn is_jti_recorded(&self, _: &str, _: &str, _: i64) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("connection refused".to_owned()))
    }
}

#[test]
fn looks_like_jwt_wants_three_non_empty_base64url_parts() {
    let cases = [
        ("eyJh.eyJi.c2ln", true),
        ("a-_9.B.c", true),
        ("a.b", false),
        ("a.b.c.d", false),
        ("a.b.c.d.e", false),
        ("a..c", false),
        (".b.c", false),
        ("a.b.", false),
        ("a.b=.c", false),
        ("a.b+/.c", false),
        ("a b.c.d", false),
        ("", false),
        ("opaque-initial-access-token", false),
        ("{\"alg\":\"none\"}", false),
    ];
    for (token, expected) in cases {
        assert_eq!(looks_like_jwt(token), expected, "{token}");
    }
}

#[test]
fn quoting_keeps_printable_ascii_and_replaces_the_rest() {
    assert_eq!(quoted("https://issuer.example"), "'https://issuer.example'");
    assert_eq!(quoted("a\"b\\c'd\ne\u{7f}f\u{e9}"), "'a?b?c?d?e?f?'");
    assert_eq!(quoted(&"x".repeat(64)), format!("'{}'", "x".repeat(64)));
    assert_eq!(quoted(&"x".repeat(65)), format!("'{}...'", "x".repeat(64)));
    assert_eq!(quoted(""), "''");
}
