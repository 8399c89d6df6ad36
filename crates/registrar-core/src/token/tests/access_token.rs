//! RFC 9068 access tokens: their claims, signatures checked by independent verifiers, and every
//! way verification for introspection refuses a token.

use expect_test::expect;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use super::{FixedGenerator, ISSUER, NOW, ring, server_key, sign_jwt, unsigned_jwt};
use crate::secrets::OsRandom;
use crate::token::jwt::{base64url, from_base64url};
use crate::token::{
    AccessTokenClaims, AccessTokenError, KeyRing, NewAccessToken, SigningAlgorithm, VerifyError,
    issue_access_token, verify_access_token,
};

const CLIENT_ID: &str = "client-1";
const LIFETIME: i64 = 600;

fn claims(scopes: &[&str]) -> AccessTokenClaims {
    let scopes: Vec<String> = scopes.iter().map(|scope| (*scope).to_owned()).collect();
    AccessTokenClaims::new(
        &NewAccessToken {
            issuer: ISSUER,
            client_id: CLIENT_ID,
            audience: &[],
            scopes: &scopes,
            lifetime: LIFETIME,
            now: NOW,
        },
        &OsRandom,
    )
}

fn signing_input_and_signature(token: &str) -> (String, Vec<u8>) {
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    (signing_input.to_owned(), from_base64url(signature).unwrap())
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&from_base64url(token.split('.').next().unwrap()).unwrap()).unwrap()
}

/// Verifies with `jsonwebtoken`'s own JWK parsing, from the JWKS as a resource server fetches it.
fn verify_with_jsonwebtoken_jwks(ring: &KeyRing, token: &str) -> Value {
    let jwks: JwkSet = serde_json::from_value(ring.jwks(NOW)).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[ISSUER]);
    // The fixed test time is long past; the clock is the code under test's business.
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

/// Verifies with the RustCrypto verifiers directly, from the published JWK's members.
fn verify_with_rustcrypto(ring: &KeyRing, token: &str) {
    // One `signature::Verifier` trait serves all three crates.
    use ed25519_dalek::Verifier as _;

    let jwk = &ring.jwks(NOW)["keys"][0];
    let member = |name: &str| from_base64url(jwk[name].as_str().unwrap()).unwrap();
    let (signing_input, signature) = signing_input_and_signature(token);
    let message = signing_input.as_bytes();
    match jwk["kty"].as_str().unwrap() {
        "EC" => {
            let point = p256::EncodedPoint::from_affine_coordinates(
                p256::FieldBytes::from_slice(&member("x")),
                p256::FieldBytes::from_slice(&member("y")),
                false,
            );
            let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point).unwrap();
            let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
            key.verify(message, &signature).unwrap();
        }
        "RSA" => {
            let public = rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(&member("n")),
                rsa::BigUint::from_bytes_be(&member("e")),
            )
            .unwrap();
            let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
            let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap();
            key.verify(message, &signature).unwrap();
        }
        "OKP" => {
            let bytes: [u8; 32] = member("x").try_into().unwrap();
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap();
            let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
            key.verify(message, &signature).unwrap();
        }
        other => panic!("unexpected kty {other}"),
    }
}

#[test]
fn access_tokens_verify_with_independent_verifiers_for_every_algorithm() {
    for algorithm in SigningAlgorithm::ALL {
        let key = server_key(algorithm);
        let ring = ring(&[key], algorithm);
        let claims = claims(&["openid", "profile"]);
        let token = issue_access_token(&ring, &claims).unwrap();

        let header = header_of(&token);
        assert_eq!(header["typ"], "at+jwt", "{algorithm}");
        assert_eq!(header["alg"], algorithm.as_str());
        assert_eq!(header["kid"], key.kid.as_str());

        let independent = verify_with_jsonwebtoken_jwks(&ring, &token);
        assert_eq!(independent, serde_json::to_value(&claims).unwrap());
        verify_with_rustcrypto(&ring, &token);
        assert_eq!(verify_access_token(&ring, &token, ISSUER, NOW), Ok(claims));
    }
}

#[test]
fn access_tokens_are_the_bytes_jsonwebtoken_signs_for_every_algorithm() {
    // PKCS#1 v1.5 and Ed25519 are deterministic, so a second implementation signing the same
    // header and claims with the same key must produce the same token. ECDSA with `ring` draws a
    // fresh nonce for each signature, so ES256 tokens share only the signing input, and each
    // signature verifies.
    for algorithm in SigningAlgorithm::ALL {
        let key = server_key(algorithm);
        let ring = ring(&[key], algorithm);
        let claims = claims(&["openid"]);
        let mut header = Header::new(algorithm.jwt_algorithm());
        header.typ = Some("at+jwt".to_owned());
        header.kid = Some(key.kid.clone());
        let by_jsonwebtoken =
            jsonwebtoken::encode(&header, &claims, &key.encoding_key().unwrap()).unwrap();

        let token = issue_access_token(&ring, &claims).unwrap();
        let again = issue_access_token(&ring, &claims).unwrap();

        match algorithm {
            SigningAlgorithm::Es256 => {
                let (signing_input, _) = signing_input_and_signature(&token);
                assert_eq!(
                    signing_input_and_signature(&by_jsonwebtoken).0,
                    signing_input
                );
                assert_eq!(signing_input_and_signature(&again).0, signing_input);
                assert_ne!(token, again, "a fresh nonce for each signature");
                for token in [&token, &again] {
                    verify_with_rustcrypto(&ring, token);
                }
            }
            SigningAlgorithm::Rs256 | SigningAlgorithm::EdDsa => {
                assert_eq!(token, by_jsonwebtoken, "{algorithm}");
                assert_eq!(token, again, "{algorithm}");
            }
        }
    }
}

#[test]
fn access_tokens_have_exactly_typ_alg_and_kid_and_a_fixed_size_signature() {
    let shapes: Vec<String> = SigningAlgorithm::ALL
        .iter()
        .map(|algorithm| {
            let ring = ring(&[server_key(*algorithm)], *algorithm);
            let token = issue_access_token(&ring, &claims(&[])).unwrap();
            let header_json = from_base64url(token.split('.').next().unwrap()).unwrap();
            let (_, signature) = signing_input_and_signature(&token);
            format!(
                "{algorithm}: {} {} signature bytes",
                String::from_utf8(header_json)
                    .unwrap()
                    .replace(ring.active_kid(), "{kid}"),
                signature.len()
            )
        })
        .collect();
    // RFC 7518 §3.4: an ES256 signature is R and S as 32 bytes each, not DER.
    expect![[r#"
        [
            "ES256: {\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":\"{kid}\"} 64 signature bytes",
            "RS256: {\"typ\":\"at+jwt\",\"alg\":\"RS256\",\"kid\":\"{kid}\"} 256 signature bytes",
            "EdDSA: {\"typ\":\"at+jwt\",\"alg\":\"EdDSA\",\"kid\":\"{kid}\"} 64 signature bytes",
        ]
    "#]]
    .assert_debug_eq(&shapes);
}

#[test]
fn access_token_claims_follow_rfc_9068() {
    let scopes = ["openid".to_owned(), "email".to_owned()];
    let claims = AccessTokenClaims::new(
        &NewAccessToken {
            issuer: ISSUER,
            client_id: CLIENT_ID,
            audience: &[],
            scopes: &scopes,
            lifetime: LIFETIME,
            now: NOW,
        },
        &FixedGenerator(0x11),
    );
    expect![[r#"{"iss":"https://issuer.example","sub":"client-1","client_id":"client-1","aud":"https://issuer.example","scope":"openid email","iat":1700000000,"exp":1700000600,"jti":"EREREREREREREREREREREQ"}"#]]
        .assert_eq(&serde_json::to_string(&claims).unwrap());
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["openid", "email"]);
}

#[test]
fn access_token_jti_has_128_random_bits() {
    let first = claims(&[]).jti;
    assert_eq!(from_base64url(&first).unwrap().len(), 16);
    assert_ne!(first, claims(&[]).jti);
}

#[test]
fn access_token_omits_an_empty_scope_and_lists_several_audiences() {
    let audience = ["https://api.one".to_owned(), "https://api.two".to_owned()];
    let claims = AccessTokenClaims::new(
        &NewAccessToken {
            issuer: ISSUER,
            client_id: CLIENT_ID,
            audience: &audience,
            scopes: &[],
            lifetime: LIFETIME,
            now: NOW,
        },
        &FixedGenerator(0),
    );
    let json = serde_json::to_value(&claims).unwrap();
    assert_eq!(json.get("scope"), None);
    assert_eq!(json["aud"], json!(["https://api.one", "https://api.two"]));
    let round_trip: AccessTokenClaims = serde_json::from_value(json).unwrap();
    assert_eq!(round_trip, claims);
}

fn es256_ring() -> KeyRing {
    ring(
        &[server_key(SigningAlgorithm::Es256)],
        SigningAlgorithm::Es256,
    )
}

fn replace_part(token: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = part;
    parts.join(".")
}

#[test]
fn tampered_access_tokens_are_refused() {
    let ring = es256_ring();
    let claims = claims(&["openid"]);
    let token = issue_access_token(&ring, &claims).unwrap();

    let mut more_scope = claims.clone();
    more_scope.scope = "openid email".to_owned();
    let payload = base64url(serde_json::to_string(&more_scope).unwrap().as_bytes());
    let altered_payload = replace_part(&token, 1, &payload);
    assert_eq!(
        verify_access_token(&ring, &altered_payload, ISSUER, NOW),
        Err(AccessTokenError::Signature(VerifyError::BadSignature))
    );

    let (_, mut signature) = signing_input_and_signature(&token);
    signature[10] ^= 1;
    let altered_signature = replace_part(&token, 2, &base64url(&signature));
    assert_eq!(
        verify_access_token(&ring, &altered_signature, ISSUER, NOW),
        Err(AccessTokenError::Signature(VerifyError::BadSignature))
    );

    for malformed in ["", "a.b", "a.b.c.d.e", "not a token"] {
        assert_eq!(
            verify_access_token(&ring, malformed, ISSUER, NOW),
            Err(AccessTokenError::Signature(VerifyError::Malformed)),
            "{malformed}"
        );
    }
}

#[test]
fn access_tokens_naming_an_unknown_kid_are_refused() {
    let ring = es256_ring();
    let token = issue_access_token(&ring, &claims(&[])).unwrap();
    let mut header = header_of(&token);
    header["kid"] = json!("another-kid");
    let renamed = replace_part(&token, 0, &base64url(header.to_string().as_bytes()));
    assert_eq!(
        verify_access_token(&ring, &renamed, ISSUER, NOW),
        Err(AccessTokenError::Signature(VerifyError::UnknownKey))
    );

    // A token from another server's key, even one of the same algorithm.
    let other = KeyRing::new(
        &[
            crate::token::generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW)
                .unwrap()
                .seal(&super::cipher()),
        ],
        &super::cipher(),
        super::config(SigningAlgorithm::Es256),
    )
    .unwrap();
    let foreign = issue_access_token(&other, &claims(&[])).unwrap();
    assert_eq!(
        verify_access_token(&ring, &foreign, ISSUER, NOW),
        Err(AccessTokenError::Signature(VerifyError::UnknownKey))
    );
}

#[test]
fn access_tokens_with_another_alg_than_their_key_are_refused() {
    let ring = es256_ring();
    let key = server_key(SigningAlgorithm::Es256);
    let claims = serde_json::to_value(claims(&[])).unwrap();

    // HMAC keyed with the public key: the classic algorithm confusion.
    let header = json!({ "alg": "HS256", "typ": "at+jwt", "kid": key.kid });
    let public_key_bytes = key.public_jwk.to_string();
    let confused = sign_jwt(
        &header,
        &claims,
        &EncodingKey::from_secret(public_key_bytes.as_bytes()),
        Algorithm::HS256,
    );
    assert_eq!(
        verify_access_token(&ring, &confused, ISSUER, NOW),
        Err(AccessTokenError::Signature(VerifyError::BadSignature))
    );

    let none = unsigned_jwt(
        &json!({ "alg": "none", "typ": "at+jwt", "kid": key.kid }),
        &claims,
        "",
    );
    assert_eq!(
        verify_access_token(&ring, &none, ISSUER, NOW),
        Err(AccessTokenError::Signature(VerifyError::BadSignature))
    );
}

#[test]
fn access_tokens_expire_at_exp() {
    let ring = es256_ring();
    let claims = claims(&[]);
    let token = issue_access_token(&ring, &claims).unwrap();
    assert!(verify_access_token(&ring, &token, ISSUER, claims.exp - 1).is_ok());
    assert_eq!(
        verify_access_token(&ring, &token, ISSUER, claims.exp),
        Err(AccessTokenError::Expired)
    );
}

#[test]
fn access_tokens_need_the_at_jwt_type_and_this_issuer() {
    let ring = es256_ring();
    let claims = claims(&[]);
    let id_token_like = ring.sign("JWT", &claims).unwrap();
    assert_eq!(
        verify_access_token(&ring, &id_token_like, ISSUER, NOW),
        Err(AccessTokenError::WrongType)
    );
    let media_type = ring.sign("application/AT+JWT", &claims).unwrap();
    assert!(verify_access_token(&ring, &media_type, ISSUER, NOW).is_ok());

    let token = issue_access_token(&ring, &claims).unwrap();
    assert_eq!(
        verify_access_token(&ring, &token, "https://other.example", NOW),
        Err(AccessTokenError::WrongIssuer)
    );
}
