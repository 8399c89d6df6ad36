//! Client assertions: tables of `private_key_jwt` and `client_secret_jwt` cases, one row each, and
//! the replay cache.

use expect_test::{Expect, expect};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::{
    ISSUER, MemoryReplayCache, NOW, TOKEN_ENDPOINT, client_key, patched, sign_jwt, unsigned_jwt,
};
use crate::token::{
    ASYMMETRIC_ASSERTION_ALGS, AssertionCheck, AssertionError, AssertionLimits, AssertionMethod,
    AssertionRules, HMAC_ASSERTION_ALGS, SigningAlgorithm, SigningKey, VerifiedAssertion,
    parse_assertion, record_assertion, refuse_recorded_jti, unverified_header_kid,
    unverified_subject, verify_client_secret_jwt, verify_private_key_jwt,
};

const CLIENT_ID: &str = "client-1";
/// As long as the secrets Registrar issues: 86 characters, 64 random bytes.
const CLIENT_SECRET: &str =
    "bXlfY2xpZW50X3NlY3JldF93aXRoXzUxMl9yYW5kb21fYml0c19zbyB0aGF0IGl0IGtleXMgSFM1MTIgd2VsbA";

fn audiences() -> Vec<String> {
    vec![ISSUER.to_owned(), TOKEN_ENDPOINT.to_owned()]
}

fn allowed_algs() -> Vec<String> {
    ASYMMETRIC_ASSERTION_ALGS
        .iter()
        .chain(HMAC_ASSERTION_ALGS.iter())
        .map(|alg| (*alg).to_owned())
        .collect()
}

/// The claims of a good assertion, valid for a minute.
fn good_claims() -> Value {
    json!({
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": TOKEN_ENDPOINT,
        "iat": NOW,
        "exp": NOW + 60,
        "jti": "jti-1",
    })
}

/// The client's JWK Set: its public key of every algorithm.
fn client_jwks() -> Value {
    let keys: Vec<&Value> = SigningAlgorithm::ALL
        .iter()
        .map(|algorithm| &client_key(*algorithm).public_jwk)
        .collect();
    json!({ "keys": keys })
}

/// Everything an assertion is checked against; rows change one thing.
struct Case {
    registered_alg: Option<&'static str>,
    allowed_algs: Vec<String>,
    jwks: Value,
    now: i64,
}

impl Default for Case {
    fn default() -> Self {
        Self {
            registered_alg: None,
            allowed_algs: allowed_algs(),
            jwks: client_jwks(),
            now: NOW,
        }
    }
}

fn render(result: Result<VerifiedAssertion, AssertionError>) -> String {
    match result {
        Ok(verified) => format!(
            "ok: jti {}, keep until NOW+{}",
            verified.jti,
            verified.expires_at - NOW
        ),
        Err(error) => error.to_string(),
    }
}

fn verify_as_private_key_jwt(assertion: &str, case: &Case) -> String {
    let audiences = audiences();
    let check = AssertionCheck {
        client_id: CLIENT_ID,
        audiences: &audiences,
        allowed_algs: &case.allowed_algs,
        registered_alg: case.registered_alg,
        now: case.now,
        limits: AssertionLimits::default(),
    };
    render(verify_private_key_jwt(assertion, &case.jwks, &check))
}

fn verify_as_client_secret_jwt(assertion: &str, secret: &str, case: &Case) -> String {
    let audiences = audiences();
    let check = AssertionCheck {
        client_id: CLIENT_ID,
        audiences: &audiences,
        allowed_algs: &case.allowed_algs,
        registered_alg: case.registered_alg,
        now: case.now,
        limits: AssertionLimits::default(),
    };
    render(verify_client_secret_jwt(
        assertion,
        secret.as_bytes(),
        &check,
    ))
}

/// An assertion signed by the client's `algorithm` key, its header (`alg`, `kid`, `typ`) and
/// claims patched; `null` in a patch removes a member.
fn signed_by(key: &SigningKey, header_patch: &Value, claims_patch: &Value) -> String {
    let header = json!({ "alg": key.algorithm.as_str(), "kid": key.kid, "typ": "JWT" });
    sign_jwt(
        &patched(header, header_patch),
        &patched(good_claims(), claims_patch),
        &key.encoding_key().unwrap(),
        key.algorithm.jwt_algorithm(),
    )
}

/// A `private_key_jwt` row with the default case.
fn check(algorithm: SigningAlgorithm, header_patch: Value, claims_patch: Value, expected: Expect) {
    let assertion = signed_by(client_key(algorithm), &header_patch, &claims_patch);
    expected.assert_eq(&verify_as_private_key_jwt(&assertion, &Case::default()));
}

/// A `private_key_jwt` row: ES256, the claims patched.
fn check_claims(claims_patch: Value, expected: Expect) {
    check(SigningAlgorithm::Es256, json!({}), claims_patch, expected);
}

/// A `private_key_jwt` row: ES256, the header patched.
fn check_header(header_patch: Value, expected: Expect) {
    check(SigningAlgorithm::Es256, header_patch, json!({}), expected);
}

/// A `private_key_jwt` row with a changed case.
fn check_with(case: Case, assertion: &str, expected: Expect) {
    expected.assert_eq(&verify_as_private_key_jwt(assertion, &case));
}

fn hmac_assertion(
    alg: Algorithm,
    secret: &str,
    header_patch: &Value,
    claims_patch: &Value,
) -> String {
    let header = json!({ "alg": format!("{alg:?}"), "typ": "JWT" });
    sign_jwt(
        &patched(header, header_patch),
        &patched(good_claims(), claims_patch),
        &EncodingKey::from_secret(secret.as_bytes()),
        alg,
    )
}

/// A `client_secret_jwt` row: signed with `signing_secret`, verified with [`CLIENT_SECRET`].
fn check_hmac(alg: Algorithm, signing_secret: &str, case: Case, expected: Expect) {
    let assertion = hmac_assertion(alg, signing_secret, &json!({}), &json!({}));
    expected.assert_eq(&verify_as_client_secret_jwt(
        &assertion,
        CLIENT_SECRET,
        &case,
    ));
}

// Good assertions.

#[test]
fn private_key_jwt_accepts_each_algorithm() {
    check_claims(json!({}), expect!["ok: jti jti-1, keep until NOW+90"]);
    check(
        SigningAlgorithm::Rs256,
        json!({}),
        json!({}),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    check(
        SigningAlgorithm::EdDsa,
        json!({}),
        json!({}),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
}

#[test]
fn private_key_jwt_accepts_every_rsa_alg_with_an_rsa_key() {
    let key = client_key(SigningAlgorithm::Rs256);
    // The registered key names RS256; without its `alg`, it may verify any RSA alg.
    let jwks = json!({ "keys": [patched(key.public_jwk.clone(), &json!({ "alg": null }))] });
    let results: Vec<String> = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ]
    .into_iter()
    .map(|alg| {
        let header = json!({ "alg": format!("{alg:?}"), "kid": key.kid });
        let assertion = sign_jwt(&header, &good_claims(), &key.encoding_key().unwrap(), alg);
        let case = Case {
            jwks: jwks.clone(),
            ..Case::default()
        };
        format!("{alg:?}: {}", verify_as_private_key_jwt(&assertion, &case))
    })
    .collect();
    expect![[r#"
        [
            "RS256: ok: jti jti-1, keep until NOW+90",
            "RS384: ok: jti jti-1, keep until NOW+90",
            "RS512: ok: jti jti-1, keep until NOW+90",
            "PS256: ok: jti jti-1, keep until NOW+90",
            "PS384: ok: jti jti-1, keep until NOW+90",
            "PS512: ok: jti jti-1, keep until NOW+90",
        ]
    "#]]
    .assert_debug_eq(&results);
}

#[test]
fn private_key_jwt_accepts_es384_with_a_p384_key() {
    use ring::signature::{ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

    // `jsonwebtoken` signs, `ring` verifies: two implementations.
    let random = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &random).unwrap();
    let key_pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &random)
            .unwrap();
    // The uncompressed point: 0x04, then x and y of 48 bytes each.
    let (x, y) = key_pair.public_key().as_ref()[1..].split_at(48);
    let base64url = crate::token::jwt::base64url;
    let jwk =
        json!({ "kty": "EC", "crv": "P-384", "x": base64url(x), "y": base64url(y), "kid": "p384" });
    let header = json!({ "alg": "ES384", "kid": "p384" });
    let key = EncodingKey::from_ec_der(pkcs8.as_ref());
    let assertion = sign_jwt(&header, &good_claims(), &key, Algorithm::ES384);
    let case = || Case {
        jwks: json!({ "keys": [jwk] }),
        ..Case::default()
    };
    check_with(
        case(),
        &assertion,
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    let tampered = base64url(
        patched(good_claims(), &json!({ "jti": "jti-2" }))
            .to_string()
            .as_bytes(),
    );
    let mut parts: Vec<&str> = assertion.split('.').collect();
    parts[1] = &tampered;
    check_with(
        case(),
        &parts.join("."),
        expect!["the client assertion signature does not verify"],
    );
}

#[test]
fn private_key_jwt_skips_rsa_keys_outside_2048_to_4096_bits() {
    let assertion = signed_by(
        client_key(SigningAlgorithm::Rs256),
        &json!({ "kid": null }),
        &json!({}),
    );
    // Only the size of a modulus matters here: it is refused before any verifier sees it.
    let rsa_key = |bits: usize| {
        let mut modulus = vec![0xc5_u8; bits / 8];
        modulus[0] = 0xff;
        json!({ "kty": "RSA", "n": crate::token::jwt::base64url(&modulus), "e": "AQAB" })
    };
    check_with(
        Case {
            jwks: json!({ "keys": [rsa_key(1024), rsa_key(4104), rsa_key(8192)] }),
            ..Case::default()
        },
        &assertion,
        expect!["no key in the client's jwks fits the client assertion's kid and alg"],
    );
}

#[test]
fn private_key_jwt_without_kid_tries_the_keys_that_fit_the_alg() {
    check_header(
        json!({ "kid": null }),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    check(
        SigningAlgorithm::EdDsa,
        json!({ "kid": null, "typ": null }),
        json!({}),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
}

#[test]
fn private_key_jwt_accepts_the_issuer_or_the_token_endpoint_as_audience() {
    check_claims(
        json!({ "aud": ISSUER }),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    check_claims(
        json!({ "aud": ["https://elsewhere", ISSUER] }),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    check_claims(
        json!({ "aud": "https://elsewhere" }),
        expect!["the client assertion's aud must name this server's issuer or token endpoint"],
    );
    check_claims(
        json!({ "aud": [] }),
        expect!["the client assertion's aud must name this server's issuer or token endpoint"],
    );
    check_claims(
        json!({ "aud": null }),
        expect!["the client assertion's aud must name this server's issuer or token endpoint"],
    );
    check_claims(
        json!({ "aud": "https://issuer.example/" }),
        expect!["the client assertion's aud must name this server's issuer or token endpoint"],
    );
}

#[test]
fn private_key_jwt_accepts_the_registered_alg_only() {
    let assertion = signed_by(client_key(SigningAlgorithm::Rs256), &json!({}), &json!({}));
    check_with(
        Case {
            registered_alg: Some("RS256"),
            ..Case::default()
        },
        &assertion,
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    check_with(
        Case {
            registered_alg: Some("ES256"),
            ..Case::default()
        },
        &assertion,
        expect![
            "the client assertion's alg RS256 is not the registered token_endpoint_auth_signing_alg ES256"
        ],
    );
    check_with(
        Case {
            allowed_algs: vec!["ES256".to_owned()],
            ..Case::default()
        },
        &assertion,
        expect!["the client assertion's alg RS256 is not accepted by this server"],
    );
}

// The subject and issuer.

#[test]
fn private_key_jwt_needs_iss_and_sub_to_be_the_client_id() {
    check_claims(
        json!({ "iss": "client-2" }),
        expect!["the client assertion's iss and sub must both be the client_id"],
    );
    check_claims(
        json!({ "sub": "client-2" }),
        expect!["the client assertion's iss and sub must both be the client_id"],
    );
    check_claims(
        json!({ "iss": "client-2", "sub": "client-2" }),
        expect!["the client assertion's iss and sub must both be the client_id"],
    );
    check_claims(
        json!({ "sub": null }),
        expect!["the client assertion's sub must be the client_id"],
    );
}

// Time.

#[test]
fn private_key_jwt_needs_a_short_unexpired_exp() {
    check_claims(
        json!({ "exp": null }),
        expect!["the client assertion has no exp"],
    );
    check_claims(
        json!({ "exp": "tomorrow" }),
        expect!["the client assertion's exp is not a number"],
    );
    check_claims(
        json!({ "iat": NOW - 100, "exp": NOW - 31 }),
        expect!["the client assertion has expired"],
    );
    check_claims(
        json!({ "iat": NOW - 100, "exp": NOW - 30 }),
        expect!["the client assertion has expired"],
    );
    check_claims(
        json!({ "iat": NOW - 100, "exp": NOW - 29 }),
        expect!["ok: jti jti-1, keep until NOW+1"],
    );
    check_claims(
        json!({ "exp": NOW + 300 }),
        expect!["ok: jti jti-1, keep until NOW+330"],
    );
    check_claims(
        json!({ "exp": NOW + 301 }),
        expect!["the client assertion must expire within 300 seconds"],
    );
    check_claims(
        json!({ "iat": null, "exp": NOW + 3_600 }),
        expect!["the client assertion must expire within 300 seconds"],
    );
    check_claims(
        json!({ "iat": NOW - 3_000, "exp": NOW + 60 }),
        expect!["the client assertion must expire within 300 seconds"],
    );
    check_claims(
        json!({ "exp": 1_700_000_060.75 }),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
}

#[test]
fn private_key_jwt_refuses_assertions_from_the_future() {
    check_claims(
        json!({ "nbf": NOW + 30 }),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    check_claims(
        json!({ "nbf": NOW + 31 }),
        expect!["the client assertion is not valid yet (nbf)"],
    );
    check_claims(
        json!({ "iat": NOW + 31, "exp": NOW + 90 }),
        expect!["the client assertion was issued in the future (iat)"],
    );
    check_claims(
        json!({ "iat": NOW + 20, "exp": NOW + 320 }),
        expect!["ok: jti jti-1, keep until NOW+350"],
    );
}

#[test]
fn private_key_jwt_needs_a_jti() {
    check_claims(
        json!({ "jti": null }),
        expect!["the client assertion has no jti"],
    );
    check_claims(
        json!({ "jti": 7 }),
        expect!["the client assertion has no jti"],
    );
    check_claims(
        json!({ "jti": "" }),
        expect![
            "the client assertion's jti must have 1 to 256 characters and no control characters"
        ],
    );
    check_claims(
        json!({ "jti": "j".repeat(257) }),
        expect![
            "the client assertion's jti must have 1 to 256 characters and no control characters"
        ],
    );
    check_claims(
        json!({ "jti": "jti\u{0}1" }),
        expect![
            "the client assertion's jti must have 1 to 256 characters and no control characters"
        ],
    );
}

// Keys and algorithms.

#[test]
fn private_key_jwt_refuses_a_kid_the_client_did_not_register() {
    check_header(
        json!({ "kid": "rotated-away" }),
        expect!["no key in the client's jwks fits the client assertion's kid and alg"],
    );
    // The kid of the client's Ed25519 key with alg ES256: the key does not fit the alg.
    let ed_kid = client_key(SigningAlgorithm::EdDsa).kid.clone();
    check_header(
        json!({ "kid": ed_kid }),
        expect!["no key in the client's jwks fits the client assertion's kid and alg"],
    );
    let assertion = signed_by(client_key(SigningAlgorithm::Es256), &json!({}), &json!({}));
    check_with(
        Case {
            jwks: json!({ "keys": [] }),
            ..Case::default()
        },
        &assertion,
        expect!["no key in the client's jwks fits the client assertion's kid and alg"],
    );
    check_with(
        Case {
            jwks: json!("not a jwk set"),
            ..Case::default()
        },
        &assertion,
        expect!["no key in the client's jwks fits the client assertion's kid and alg"],
    );
}

#[test]
fn private_key_jwt_uses_only_keys_whose_alg_use_and_key_ops_allow_it() {
    let assertion = signed_by(client_key(SigningAlgorithm::Es256), &json!({}), &json!({}));
    let jwk = client_key(SigningAlgorithm::Es256).public_jwk.clone();
    for (patch, expected) in [
        (
            json!({ "use": "enc" }),
            expect!["no key in the client's jwks fits the client assertion's kid and alg"],
        ),
        (
            json!({ "alg": "ES384" }),
            expect!["no key in the client's jwks fits the client assertion's kid and alg"],
        ),
        (
            json!({ "key_ops": ["encrypt"] }),
            expect!["no key in the client's jwks fits the client assertion's kid and alg"],
        ),
        (
            json!({ "key_ops": ["verify"], "use": null, "alg": null }),
            expect!["ok: jti jti-1, keep until NOW+90"],
        ),
    ] {
        let jwks = json!({ "keys": [patched(jwk.clone(), &patch)] });
        check_with(
            Case {
                jwks,
                ..Case::default()
            },
            &assertion,
            expected,
        );
    }
}

#[test]
fn private_key_jwt_skips_malformed_keys_without_panicking() {
    // jsonwebtoken would slice 32 bytes out of a shorter Ed25519 key.
    let assertion = signed_by(
        client_key(SigningAlgorithm::EdDsa),
        &json!({ "kid": null }),
        &json!({}),
    );
    let short = json!({ "kty": "OKP", "crv": "Ed25519", "x": "AAAA" });
    check_with(
        Case {
            jwks: json!({ "keys": [short] }),
            ..Case::default()
        },
        &assertion,
        expect!["no key in the client's jwks fits the client assertion's kid and alg"],
    );
    let mut with_good = client_jwks();
    with_good["keys"].as_array_mut().unwrap().insert(0, short);
    check_with(
        Case {
            jwks: with_good,
            ..Case::default()
        },
        &assertion,
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
}

#[test]
fn private_key_jwt_refuses_a_signature_by_another_key() {
    // Signed with the server's key but naming the client's kid.
    let impostor = super::server_key(SigningAlgorithm::Es256);
    let header = json!({ "alg": "ES256", "kid": client_key(SigningAlgorithm::Es256).kid });
    let assertion = sign_jwt(
        &header,
        &good_claims(),
        &impostor.encoding_key().unwrap(),
        Algorithm::ES256,
    );
    check_with(
        Case::default(),
        &assertion,
        expect!["the client assertion signature does not verify"],
    );
}

#[test]
fn private_key_jwt_refuses_tampered_claims() {
    let assertion = signed_by(client_key(SigningAlgorithm::Es256), &json!({}), &json!({}));
    let mut parts: Vec<String> = assertion.split('.').map(str::to_owned).collect();
    let claims = patched(good_claims(), &json!({ "exp": NOW + 120 }));
    parts[1] = crate::token::jwt::base64url(claims.to_string().as_bytes());
    check_with(
        Case::default(),
        &parts.join("."),
        expect!["the client assertion signature does not verify"],
    );
}

#[test]
fn private_key_jwt_refuses_alg_none() {
    let claims = good_claims();
    let kid = client_key(SigningAlgorithm::Es256).kid.clone();
    for signature in ["", "c2lnbmF0dXJl"] {
        let assertion = unsigned_jwt(&json!({ "alg": "none", "kid": kid }), &claims, signature);
        check_with(
            Case::default(),
            &assertion,
            expect!["an unsigned client assertion (alg none) is not accepted"],
        );
    }
    let assertion = unsigned_jwt(&json!({ "alg": "NONE" }), &claims, "");
    check_with(
        Case::default(),
        &assertion,
        expect!["the client assertion's alg is not supported"],
    );
}

#[test]
fn private_key_jwt_refuses_hmac_keyed_with_the_public_key() {
    // Algorithm confusion: whatever bytes of the public key an attacker uses as the HMAC key,
    // the method fixes the key type, so the assertion is refused before any key is touched.
    let key = client_key(SigningAlgorithm::Rs256);
    let header = json!({ "alg": "HS256", "kid": key.kid });
    let spellings = [
        key.public_jwk.to_string().into_bytes(),
        crate::token::jwt::from_base64url(key.public_jwk["n"].as_str().unwrap()).unwrap(),
    ];
    for public_bytes in spellings {
        let assertion = sign_jwt(
            &header,
            &good_claims(),
            &EncodingKey::from_secret(&public_bytes),
            Algorithm::HS256,
        );
        check_with(
            Case::default(),
            &assertion,
            expect!["private_key_jwt needs an asymmetric alg; an HMAC alg is not accepted"],
        );
    }
}

#[test]
fn private_key_jwt_refuses_critical_header_extensions() {
    check_header(
        json!({ "crit": ["exp"], "exp": NOW }),
        expect!["the client assertion's crit header names extensions this server does not support"],
    );
    check_header(
        json!({ "crit": ["b64"], "b64": false }),
        expect!["the client assertion's crit header names extensions this server does not support"],
    );
}

#[test]
fn private_key_jwt_refuses_malformed_assertions() {
    for malformed in ["", "abc", "a.b", "a.b.c.d.e", "e30.e30.", "!!!.e30.sig"] {
        check_with(
            Case::default(),
            malformed,
            expect!["the client assertion is not a well-formed signed jwt"],
        );
    }
    let huge = format!("{}.e30.sig", "a".repeat(20_000));
    check_with(
        Case::default(),
        &huge,
        expect!["the client assertion is not a well-formed signed jwt"],
    );
}

// client_secret_jwt.

#[test]
fn client_secret_jwt_accepts_hmac_with_the_client_secret() {
    check_hmac(
        Algorithm::HS256,
        CLIENT_SECRET,
        Case::default(),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    check_hmac(
        Algorithm::HS512,
        CLIENT_SECRET,
        Case::default(),
        expect!["ok: jti jti-1, keep until NOW+90"],
    );
    check_hmac(
        Algorithm::HS256,
        "another secret",
        Case::default(),
        expect!["the client assertion signature does not verify"],
    );
    check_hmac(
        Algorithm::HS384,
        CLIENT_SECRET,
        Case {
            registered_alg: Some("HS256"),
            ..Case::default()
        },
        expect![
            "the client assertion's alg HS384 is not the registered token_endpoint_auth_signing_alg HS256"
        ],
    );
    check_hmac(
        Algorithm::HS256,
        CLIENT_SECRET,
        Case {
            allowed_algs: vec!["ES256".to_owned()],
            ..Case::default()
        },
        expect!["the client assertion's alg HS256 is not accepted by this server"],
    );
}

#[test]
fn client_secret_jwt_needs_a_secret_as_long_as_the_hash() {
    // RFC 7518 §3.2; 43 characters is what a secret of 256 random bits was issued as.
    for (length, alg, expected) in [
        (
            43,
            Algorithm::HS256,
            expect!["ok: jti jti-1, keep until NOW+90"],
        ),
        (
            31,
            Algorithm::HS256,
            expect![
                "the client secret is shorter than the 32 bytes HS256 needs (RFC 7518 section 3.2)"
            ],
        ),
        (
            43,
            Algorithm::HS384,
            expect![
                "the client secret is shorter than the 48 bytes HS384 needs (RFC 7518 section 3.2)"
            ],
        ),
        (
            48,
            Algorithm::HS384,
            expect!["ok: jti jti-1, keep until NOW+90"],
        ),
        (
            63,
            Algorithm::HS512,
            expect![
                "the client secret is shorter than the 64 bytes HS512 needs (RFC 7518 section 3.2)"
            ],
        ),
        (
            64,
            Algorithm::HS512,
            expect!["ok: jti jti-1, keep until NOW+90"],
        ),
    ] {
        let secret = &CLIENT_SECRET[..length];
        let assertion = hmac_assertion(alg, secret, &json!({}), &json!({}));
        expected.assert_eq(&verify_as_client_secret_jwt(
            &assertion,
            secret,
            &Case::default(),
        ));
    }
}

#[test]
fn client_secret_jwt_checks_the_same_claims() {
    let expired = hmac_assertion(
        Algorithm::HS256,
        CLIENT_SECRET,
        &json!({}),
        &json!({ "iat": NOW - 200, "exp": NOW - 60 }),
    );
    expect!["the client assertion has expired"].assert_eq(&verify_as_client_secret_jwt(
        &expired,
        CLIENT_SECRET,
        &Case::default(),
    ));
    let no_jti = hmac_assertion(
        Algorithm::HS256,
        CLIENT_SECRET,
        &json!({}),
        &json!({ "jti": null }),
    );
    expect!["the client assertion has no jti"].assert_eq(&verify_as_client_secret_jwt(
        &no_jti,
        CLIENT_SECRET,
        &Case::default(),
    ));
    let crit = hmac_assertion(
        Algorithm::HS256,
        CLIENT_SECRET,
        &json!({ "crit": ["x"] }),
        &json!({}),
    );
    expect!["the client assertion's crit header names extensions this server does not support"]
        .assert_eq(&verify_as_client_secret_jwt(
            &crit,
            CLIENT_SECRET,
            &Case::default(),
        ));
}

#[test]
fn client_secret_jwt_refuses_asymmetric_algs_none_and_an_empty_secret() {
    let signed = signed_by(client_key(SigningAlgorithm::Es256), &json!({}), &json!({}));
    expect!["client_secret_jwt needs an HMAC alg (HS256, HS384 or HS512)"].assert_eq(
        &verify_as_client_secret_jwt(&signed, CLIENT_SECRET, &Case::default()),
    );
    let none = unsigned_jwt(&json!({ "alg": "none" }), &good_claims(), "");
    expect!["an unsigned client assertion (alg none) is not accepted"].assert_eq(
        &verify_as_client_secret_jwt(&none, CLIENT_SECRET, &Case::default()),
    );
    let keyed_empty = hmac_assertion(Algorithm::HS256, "", &json!({}), &json!({}));
    expect!["the client has no secret to verify the assertion"].assert_eq(
        &verify_as_client_secret_jwt(&keyed_empty, "", &Case::default()),
    );
}

// Unverified peeks and the replay cache.

#[test]
fn unverified_helpers_read_kid_and_sub_without_verifying() {
    let key = client_key(SigningAlgorithm::Es256);
    let assertion = signed_by(key, &json!({}), &json!({}));
    assert_eq!(unverified_header_kid(&assertion), Some(key.kid.clone()));
    assert_eq!(unverified_subject(&assertion).as_deref(), Some(CLIENT_ID));
    let forged = unsigned_jwt(&json!({ "alg": "ES256" }), &json!({ "sub": "anyone" }), "");
    assert_eq!(unverified_subject(&forged).as_deref(), Some("anyone"));
    assert_eq!(unverified_header_kid(&forged), None);
    assert_eq!(
        unverified_subject(&unsigned_jwt(&json!({}), &json!({ "sub": 1 }), "")),
        None
    );
    assert_eq!(unverified_subject("garbage"), None);
}

#[tokio::test]
async fn a_replayed_jti_is_refused() {
    let cache = MemoryReplayCache::default();
    let verified = VerifiedAssertion {
        jti: "jti-1".to_owned(),
        expires_at: NOW + 90,
    };
    record_assertion(&cache, CLIENT_ID, &verified)
        .await
        .unwrap();
    let error = record_assertion(&cache, CLIENT_ID, &verified)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_client");
    expect!["the client assertion was already used"].assert_eq(&error.to_string());
    // Another client may use the same jti.
    record_assertion(&cache, "client-2", &verified)
        .await
        .unwrap();
}

// The checks in order: everything that needs no key first.

fn rules(audiences: &[String], allowed_algs: &[String]) -> AssertionRules<'static> {
    // Leaked for the test's length: the rules only borrow.
    AssertionRules {
        audiences: Vec::leak(audiences.to_vec()),
        allowed_algs: Vec::leak(allowed_algs.to_vec()),
        now: NOW,
        limits: AssertionLimits::default(),
    }
}

#[test]
fn parse_assertion_checks_the_claims_without_any_key() {
    let rules = rules(&audiences(), &allowed_algs());
    // Signed by a key the client never registered: parsing needs no key, so it passes.
    let impostor = super::server_key(SigningAlgorithm::Es256);
    let kid = client_key(SigningAlgorithm::Es256).kid.clone();
    let header = json!({ "alg": "ES256", "kid": kid });
    let forged = sign_jwt(
        &header,
        &good_claims(),
        &impostor.encoding_key().unwrap(),
        Algorithm::ES256,
    );

    let parsed = parse_assertion(&forged, &rules).unwrap();

    assert_eq!(parsed.client_id(), CLIENT_ID);
    assert_eq!(parsed.kid(), Some(kid.as_str()));
    assert_eq!(parsed.alg(), "ES256");
    assert_eq!(parsed.jti(), "jti-1");
    assert_eq!(parsed.expires_at(), NOW + 90);
    let debug = format!("{parsed:?}");
    assert!(
        !debug.contains(&forged),
        "the token stays out of Debug: {debug}"
    );
    expect!["the client assertion signature does not verify"].assert_eq(
        &parsed
            .verify_with_jwks(&client_jwks(), None)
            .unwrap_err()
            .to_string(),
    );
}

#[test]
fn parse_assertion_refuses_what_no_client_could_send() {
    let rules = rules(&audiences(), &["ES256".to_owned()]);
    let key = client_key(SigningAlgorithm::Es256);
    let refusal = |assertion: &str| match parse_assertion(assertion, &rules) {
        Ok(_) => "parsed".to_owned(),
        Err(error) => error.to_string(),
    };
    for (assertion, expected) in [
        (
            "junk".to_owned(),
            expect!["the client assertion is not a well-formed signed jwt"],
        ),
        (
            signed_by(client_key(SigningAlgorithm::EdDsa), &json!({}), &json!({})),
            expect!["the client assertion's alg EdDSA is not accepted by this server"],
        ),
        (
            signed_by(key, &json!({ "alg": "ES512" }), &json!({})),
            expect!["the client assertion's alg is not supported"],
        ),
        (
            signed_by(key, &json!({}), &json!({ "iss": "client-2" })),
            expect!["the client assertion's iss and sub must both be the client_id"],
        ),
        (
            signed_by(key, &json!({}), &json!({ "aud": "https://elsewhere" })),
            expect!["the client assertion's aud must name this server's issuer or token endpoint"],
        ),
        (
            signed_by(
                key,
                &json!({}),
                &json!({ "iat": NOW - 400, "exp": NOW - 100 }),
            ),
            expect!["the client assertion has expired"],
        ),
        (
            signed_by(key, &json!({}), &json!({ "jti": null })),
            expect!["the client assertion has no jti"],
        ),
    ] {
        expected.assert_eq(&refusal(&assertion));
    }
}

#[test]
fn check_method_keeps_each_method_to_its_family_and_the_registered_alg() {
    let rules = rules(&audiences(), &allowed_algs());
    let signed = signed_by(client_key(SigningAlgorithm::Es256), &json!({}), &json!({}));
    let hmac = hmac_assertion(Algorithm::HS256, CLIENT_SECRET, &json!({}), &json!({}));
    let signed = parse_assertion(&signed, &rules).unwrap();
    let hmac = parse_assertion(&hmac, &rules).unwrap();
    let render = |result: Result<(), AssertionError>| match result {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.to_string(),
    };

    expect!["ok"].assert_eq(&render(
        signed.check_method(AssertionMethod::PrivateKeyJwt, Some("ES256")),
    ));
    expect!["client_secret_jwt needs an HMAC alg (HS256, HS384 or HS512)"].assert_eq(&render(
        signed.check_method(AssertionMethod::ClientSecretJwt, None),
    ));
    expect!["the client assertion's alg ES256 is not the registered token_endpoint_auth_signing_alg EdDSA"]
        .assert_eq(&render(
            signed.check_method(AssertionMethod::PrivateKeyJwt, Some("EdDSA")),
        ));
    expect!["private_key_jwt needs an asymmetric alg; an HMAC alg is not accepted"].assert_eq(
        &render(hmac.check_method(AssertionMethod::PrivateKeyJwt, None)),
    );
    expect!["ok"].assert_eq(&render(
        hmac.check_method(AssertionMethod::ClientSecretJwt, None),
    ));
}

#[tokio::test]
async fn refuse_recorded_jti_records_nothing() {
    let cache = MemoryReplayCache::default();
    let rules = rules(&audiences(), &allowed_algs());
    let assertion = signed_by(client_key(SigningAlgorithm::Es256), &json!({}), &json!({}));
    let parsed = parse_assertion(&assertion, &rules).unwrap();

    refuse_recorded_jti(&cache, &parsed).await.unwrap();
    refuse_recorded_jti(&cache, &parsed).await.unwrap();
    let verified = parsed.verify_with_jwks(&client_jwks(), None).unwrap();
    record_assertion(&cache, CLIENT_ID, &verified)
        .await
        .unwrap();
    let error = refuse_recorded_jti(&cache, &parsed).await.unwrap_err();

    assert_eq!(error.code(), "invalid_client");
    expect!["the client assertion was already used"].assert_eq(&error.to_string());
}
