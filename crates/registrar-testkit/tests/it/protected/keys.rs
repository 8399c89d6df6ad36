//! Signing keys the tests control, made with the RustCrypto crates rather than the code under
//! test, and the JWTs signed with them (`jsonwebtoken`): software statements and the access
//! tokens of external issuers.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand_core::OsRng;
use serde_json::{Value, json};

/// A key pair: the public JWK to trust, the private key to sign with.
pub(crate) struct TestKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: String,
    pub(crate) public_jwk: Value,
    pub(crate) encoding_key: EncodingKey,
    /// The public key's SPKI DER, which an algorithm-confusion attacker uses as an HMAC secret.
    pub(crate) public_key_der: Vec<u8>,
}

/// Every key the tests use, made once: RSA generation is slow in a debug build.
pub(crate) struct Keys {
    pub(crate) es256: TestKey,
    pub(crate) eddsa: TestKey,
    pub(crate) rs256: TestKey,
    /// A key no configuration trusts.
    pub(crate) attacker: TestKey,
}

pub(crate) fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        es256: es256_key("es256-1"),
        eddsa: eddsa_key("eddsa-1"),
        rs256: rs256_key("rs256-1"),
        attacker: es256_key("attacker-1"),
    })
}

fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
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
        public_key_der: secret.public_key().to_public_key_der().unwrap().into_vec(),
    }
}

fn eddsa_key(kid: &str) -> TestKey {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    use rand_core::RngCore as _;
    let mut seed = [0_u8; 32];
    OsRng.fill_bytes(&mut seed);
    let signing_key = ed25519_dalek::SigningKey::from_bytes(&seed);
    TestKey {
        algorithm: Algorithm::EdDSA,
        kid: kid.to_owned(),
        public_jwk: json!({
            "kty": "OKP", "crv": "Ed25519", "kid": kid,
            "x": base64url(signing_key.verifying_key().as_bytes()),
        }),
        encoding_key: EncodingKey::from_ed_der(signing_key.to_pkcs8_der().unwrap().as_bytes()),
        public_key_der: signing_key
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .into_vec(),
    }
}

fn rs256_key(kid: &str) -> TestKey {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::EncodePublicKey as _;
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
        public_key_der: private
            .to_public_key()
            .to_public_key_der()
            .unwrap()
            .into_vec(),
    }
}

/// A JWK Set of the public keys.
pub(crate) fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.public_jwk.clone()).collect::<Vec<_>>() })
}

/// `claims` signed by `key`, with `alg` and `kid` in the header.
pub(crate) fn sign(key: &TestKey, claims: &Value) -> String {
    let mut header = Header::new(key.algorithm);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding_key).unwrap()
}

/// `claims` signed as an RFC 9068 access token (`typ: at+jwt`).
pub(crate) fn sign_access_token(key: &TestKey, claims: &Value) -> String {
    let mut header = Header::new(key.algorithm);
    header.kid = Some(key.kid.clone());
    header.typ = Some("at+jwt".to_owned());
    jsonwebtoken::encode(&header, claims, &key.encoding_key).unwrap()
}

/// `header.claims` exactly as given, signed with `key` as `algorithm` whatever the header says:
/// for headers `jsonwebtoken::encode` would not write.
pub(crate) fn sign_raw(
    header: &Value,
    claims: &Value,
    key: &EncodingKey,
    algorithm: Algorithm,
) -> String {
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, algorithm).unwrap();
    format!("{signing_input}.{signature}")
}

/// `header.claims.signature` with the signature given as text: for unsigned JWTs.
pub(crate) fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    )
}

/// The payload of `jwt` replaced by `claims`, keeping header and signature: a forged statement
/// whose signature no longer matches.
pub(crate) fn with_claims(jwt: &str, claims: &Value) -> String {
    let parts: Vec<&str> = jwt.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        base64url(claims.to_string().as_bytes()),
        parts[2]
    )
}
