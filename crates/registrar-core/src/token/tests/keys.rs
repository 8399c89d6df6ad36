//! Signing keys: algorithms, generation, thumbprints, sealing, the ring's choice of key, and
//! rotation through a store.

use async_trait::async_trait;
use expect_test::expect;
use jsonwebtoken::jwk::{Jwk, JwkSet, ThumbprintHash};
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Value, json};

use super::{
    FixedGenerator, MAX_LIFETIME, MemoryKeyStore, NOW, cipher, config, config_with, server_key,
};
use crate::error::StoreError;
use crate::secrets::OsRandom;
use crate::token::jwk::PublicKey;
use crate::token::signer::PrivateKey;
use crate::token::{
    KeyError, KeyRing, KeyRingConfig, KeyState, SecretCipher, SigningAlgorithm, SigningKey,
    SigningKeyStore, StoredSigningKey, VerifyError, active_keys, generate_signing_key, key_states,
    load_key_ring, rotate_signing_key,
};

#[test]
fn signing_algorithms_parse_their_jwa_names_only() {
    for algorithm in SigningAlgorithm::ALL {
        assert_eq!(SigningAlgorithm::parse(algorithm.as_str()), Some(algorithm));
    }
    for name in ["es256", "EDDSA", "HS256", "none", "PS256", ""] {
        assert_eq!(SigningAlgorithm::parse(name), None, "{name}");
    }
}

fn member_names(jwk: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = jwk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn generated_keys_publish_only_public_members_with_kid_alg_and_use() {
    let shapes: Vec<String> = SigningAlgorithm::ALL
        .iter()
        .map(|algorithm| {
            let key = server_key(*algorithm);
            assert_eq!(key.public_jwk["kid"], key.kid.as_str());
            assert_eq!(key.public_jwk["alg"], algorithm.as_str());
            assert_eq!(key.public_jwk["use"], "sig");
            format!("{algorithm}: {}", member_names(&key.public_jwk).join(" "))
        })
        .collect();
    expect![[r#"
        [
            "ES256: alg crv kid kty use x y",
            "RS256: alg e kid kty n use",
            "EdDSA: alg crv kid kty use x",
        ]
    "#]]
    .assert_debug_eq(&shapes);
}

#[test]
fn generated_rsa_keys_have_2048_bits() {
    let n = server_key(SigningAlgorithm::Rs256).public_jwk["n"]
        .as_str()
        .unwrap();
    // 256 bytes are 342 base64url characters without padding.
    assert_eq!(n.len(), 342);
}

#[test]
fn kid_is_the_rfc_7638_thumbprint_as_jsonwebtoken_computes_it() {
    for algorithm in SigningAlgorithm::ALL {
        let key = server_key(algorithm);
        let jwk: Jwk = serde_json::from_value(key.public_jwk.clone()).unwrap();
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
            key.kid,
            "{algorithm}"
        );
    }
}

#[test]
fn thumbprint_matches_the_rfc_7638_example() {
    // RFC 7638 §3.1.
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    let key = PublicKey::from_jwk(jwk.as_object().unwrap()).unwrap();
    assert_eq!(
        key.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn key_generation_draws_from_the_injected_generator() {
    let first = generate_signing_key(SigningAlgorithm::EdDsa, &FixedGenerator(7), NOW).unwrap();
    let second = generate_signing_key(SigningAlgorithm::EdDsa, &FixedGenerator(7), NOW).unwrap();
    let other = generate_signing_key(SigningAlgorithm::EdDsa, &FixedGenerator(8), NOW).unwrap();
    assert_eq!(first, second);
    assert_ne!(first.kid, other.kid);
    let p256 = generate_signing_key(SigningAlgorithm::Es256, &FixedGenerator(9), NOW).unwrap();
    assert_eq!(
        p256,
        generate_signing_key(SigningAlgorithm::Es256, &FixedGenerator(9), NOW).unwrap()
    );
}

#[test]
fn debug_output_never_shows_private_key_material() {
    let key = server_key(SigningAlgorithm::Es256);
    let stored = key.seal(&cipher());
    let key_debug = format!("{key:?}");
    let stored_debug = format!("{stored:?}");
    assert!(
        key_debug.contains(r#"private_pkcs8_der: "..""#),
        "{key_debug}"
    );
    assert!(
        stored_debug.contains(r#"encrypted_private_key: "..""#),
        "{stored_debug}"
    );
    assert!(!stored_debug.contains(&stored.encrypted_private_key));
    let ring = KeyRing::new(&[stored], &cipher(), config(SigningAlgorithm::Es256)).unwrap();
    let ring_debug = format!("{ring:?}");
    // Eight bytes of the private key's DER as `Debug` would print them.
    let fragment = format!("{:?}", &key.private_pkcs8_der[40..48]);
    let fragment = fragment.trim_matches(['[', ']']);
    for debug in [&key_debug, &stored_debug, &ring_debug] {
        assert!(!debug.contains(fragment), "{debug}");
    }
}

#[test]
fn parsed_private_keys_show_only_their_algorithm_in_debug_output() {
    let debug: Vec<String> = SigningAlgorithm::ALL
        .iter()
        .map(|algorithm| format!("{:?}", PrivateKey::parse(server_key(*algorithm)).unwrap()))
        .collect();
    expect![[r#"
        [
            "PrivateKey(Es256, ..)",
            "PrivateKey(Rs256, ..)",
            "PrivateKey(EdDsa, ..)",
        ]
    "#]]
    .assert_debug_eq(&debug);
}

#[test]
fn sealed_keys_unseal_to_the_same_key() {
    for algorithm in SigningAlgorithm::ALL {
        let key = server_key(algorithm);
        let stored = key.seal(&cipher());
        assert_eq!(&SigningKey::unseal(&stored, &cipher()).unwrap(), key);
    }
}

#[test]
fn sealed_keys_do_not_unseal_with_another_secret_or_kid() {
    let key = server_key(SigningAlgorithm::Es256);
    let stored = key.seal(&cipher());
    let undecryptable = KeyError::Undecryptable {
        kid: key.kid.clone(),
    };
    assert_eq!(
        SigningKey::unseal(&stored, &SecretCipher::new(b"another secret")),
        Err(undecryptable)
    );
    // The kid is the associated data, so a sealed key cannot be moved to another row.
    let other = server_key(SigningAlgorithm::EdDsa).seal(&cipher());
    let moved = StoredSigningKey {
        encrypted_private_key: other.encrypted_private_key,
        ..stored
    };
    assert_eq!(
        SigningKey::unseal(&moved, &cipher()),
        Err(KeyError::Undecryptable {
            kid: key.kid.clone()
        })
    );
}

#[test]
fn unsealing_checks_that_the_public_jwk_belongs_to_the_private_key() {
    let key = server_key(SigningAlgorithm::Es256);
    let mut stored = key.seal(&cipher());
    let other = generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW).unwrap();
    stored.public_jwk = other.public_jwk;
    let error = SigningKey::unseal(&stored, &cipher()).unwrap_err();
    assert!(matches!(error, KeyError::Malformed { .. }), "{error:?}");
}

#[test]
fn key_ring_needs_an_active_key_of_the_configured_algorithm() {
    let cipher = cipher();
    assert_eq!(
        KeyRing::new(&[], &cipher, config(SigningAlgorithm::Es256)).unwrap_err(),
        KeyError::NoActiveKey(SigningAlgorithm::Es256)
    );
    let ec_only = [server_key(SigningAlgorithm::Es256).seal(&cipher)];
    assert_eq!(
        KeyRing::new(&ec_only, &cipher, config(SigningAlgorithm::EdDsa)).unwrap_err(),
        KeyError::NoActiveKey(SigningAlgorithm::EdDsa)
    );
    let mut retired = server_key(SigningAlgorithm::Es256).seal(&cipher);
    retired.retired_at = Some(NOW);
    assert_eq!(
        KeyRing::new(&[retired], &cipher, config(SigningAlgorithm::Es256)).unwrap_err(),
        KeyError::NoActiveKey(SigningAlgorithm::Es256)
    );
}

#[test]
fn key_ring_refuses_a_stored_public_key_whose_kid_is_not_its_thumbprint() {
    let cipher = cipher();
    let active = server_key(SigningAlgorithm::Es256).seal(&cipher);
    let mut standby = server_key(SigningAlgorithm::EdDsa).seal(&cipher);
    standby.kid = "chosen-by-an-attacker".to_owned();
    let error =
        KeyRing::new(&[active, standby], &cipher, config(SigningAlgorithm::Es256)).unwrap_err();
    expect!["signing key chosen-by-an-attacker is malformed: the kid is not the thumbprint of the public jwk"]
        .assert_eq(&error.to_string());
}

#[test]
fn the_newest_non_retired_key_of_the_configured_algorithm_signs() {
    let cipher = cipher();
    let older = generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW - 100).unwrap();
    let newer = generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW - 10).unwrap();
    let mut newest_retired =
        generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW - 1).unwrap();
    newest_retired.retired_at = Some(NOW);
    let other_algorithm = generate_signing_key(SigningAlgorithm::EdDsa, &OsRandom, NOW).unwrap();
    let stored: Vec<StoredSigningKey> = [&older, &newer, &newest_retired, &other_algorithm]
        .iter()
        .map(|key| key.seal(&cipher))
        .collect();
    let ring = KeyRing::new(&stored, &cipher, config(SigningAlgorithm::Es256)).unwrap();
    assert_eq!(ring.active_kid(), newer.kid);

    let states: Vec<(&str, &str)> = key_states(&stored, &config(SigningAlgorithm::Es256), NOW)
        .into_iter()
        .map(|(key, state)| {
            let name = [&older, &newer, &newest_retired, &other_algorithm]
                .iter()
                .zip(["older", "newer", "newest_retired", "other_algorithm"])
                .find(|(candidate, _)| candidate.kid == key.kid)
                .map(|(_, name)| name)
                .unwrap();
            (name, state.as_str())
        })
        .collect();
    expect![[r#"
        [
            (
                "other_algorithm",
                "standby",
            ),
            (
                "newest_retired",
                "retired",
            ),
            (
                "newer",
                "active",
            ),
            (
                "older",
                "standby",
            ),
        ]
    "#]]
    .assert_debug_eq(&states);
}

#[tokio::test]
async fn first_load_creates_one_key_and_later_loads_reuse_it() {
    let store = MemoryKeyStore::default();
    let config = config(SigningAlgorithm::Es256);
    let first = load_key_ring(&store, &cipher(), config.clone(), &OsRandom, NOW)
        .await
        .unwrap();
    let second = load_key_ring(&store, &cipher(), config, &OsRandom, NOW + 60)
        .await
        .unwrap();
    assert_eq!(first.active_kid(), second.active_kid());
    let stored = store.list_signing_keys().await.unwrap();
    assert_eq!(stored.len(), 1);
    // The store holds the private key only sealed.
    let plain = SigningKey::unseal(&stored[0], &cipher()).unwrap();
    assert!(
        !stored[0]
            .encrypted_private_key
            .contains(&crate::token::jwt::base64url(&plain.private_pkcs8_der))
    );
}

#[tokio::test]
async fn changing_the_configured_algorithm_creates_a_key_and_keeps_the_old_one_published() {
    let store = MemoryKeyStore::default();
    let ec = load_key_ring(
        &store,
        &cipher(),
        config(SigningAlgorithm::Es256),
        &OsRandom,
        NOW,
    )
    .await
    .unwrap();
    let ed = load_key_ring(
        &store,
        &cipher(),
        config(SigningAlgorithm::EdDsa),
        &OsRandom,
        NOW,
    )
    .await
    .unwrap();
    assert_ne!(ec.active_kid(), ed.active_kid());
    let jwks = ed.jwks(NOW);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [ed.active_kid(), ec.active_kid()]);
}

#[tokio::test]
async fn rotation_keeps_the_old_public_key_published_until_its_tokens_expire() {
    let store = MemoryKeyStore::default();
    let config = config(SigningAlgorithm::Es256);
    let before = load_key_ring(&store, &cipher(), config.clone(), &OsRandom, NOW)
        .await
        .unwrap();
    let old_token = before
        .sign("at+jwt", &json!({ "exp": NOW + MAX_LIFETIME }))
        .unwrap();

    let rotated_at = NOW + 10;
    let created = rotate_signing_key(&store, &cipher(), &config, &OsRandom, rotated_at)
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    let after = load_key_ring(&store, &cipher(), config.clone(), &OsRandom, rotated_at)
        .await
        .unwrap();
    assert_eq!(after.active_kid(), created[0].kid);
    assert_ne!(after.active_kid(), before.active_kid());
    assert_eq!(store.list_signing_keys().await.unwrap().len(), 2);

    let kids_at = |now: i64| -> Vec<String> {
        after.jwks(now)["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|jwk| jwk["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let last_published = rotated_at + MAX_LIFETIME - 1;
    assert_eq!(
        kids_at(rotated_at),
        [after.active_kid(), before.active_kid()]
    );
    assert_eq!(
        kids_at(last_published),
        [after.active_kid(), before.active_kid()]
    );
    assert_eq!(kids_at(last_published + 1), [after.active_kid()]);

    // Tokens the old key signed still verify with the new ring while it is published.
    let verified = after.verify::<Value>(&old_token, last_published).unwrap();
    assert_eq!(verified.kid, before.active_kid());
    assert_eq!(
        after
            .verify::<Value>(&old_token, last_published + 1)
            .unwrap_err(),
        VerifyError::UnknownKey
    );

    let stored = store.list_signing_keys().await.unwrap();
    let state_of = |now: i64| -> Vec<KeyState> {
        key_states(&stored, &config, now)
            .into_iter()
            .map(|(_, state)| state)
            .collect()
    };
    assert_eq!(state_of(rotated_at), [KeyState::Active, KeyState::Retired]);
    assert_eq!(
        state_of(last_published + 1),
        [KeyState::Active, KeyState::Expired]
    );
}

#[tokio::test]
async fn rotation_does_not_need_the_old_keys_to_decrypt() {
    // A lost secret key is recovered from by rotating: the old private keys are never decrypted.
    let store = MemoryKeyStore::default();
    let config = config(SigningAlgorithm::Es256);
    load_key_ring(
        &store,
        &SecretCipher::new(b"lost secret"),
        config.clone(),
        &OsRandom,
        NOW,
    )
    .await
    .unwrap();
    let error = load_key_ring(&store, &cipher(), config.clone(), &OsRandom, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "server_error");
    rotate_signing_key(&store, &cipher(), &config, &OsRandom, NOW + 1)
        .await
        .unwrap();
    load_key_ring(&store, &cipher(), config, &OsRandom, NOW + 1)
        .await
        .unwrap();
}

/// Every algorithm, ES256 signing access tokens: the default settings' set.
fn every_algorithm() -> KeyRingConfig {
    config_with(
        SigningAlgorithm::Es256,
        &[
            SigningAlgorithm::Rs256,
            SigningAlgorithm::Es256,
            SigningAlgorithm::EdDsa,
        ],
    )
}

fn kids_of(jwks: &Value) -> Vec<&str> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap())
        .collect()
}

#[test]
fn the_ring_algorithms_are_the_access_token_one_first_then_each_id_token_one_once() {
    assert_eq!(
        every_algorithm().algorithms(),
        [
            SigningAlgorithm::Es256,
            SigningAlgorithm::Rs256,
            SigningAlgorithm::EdDsa
        ]
    );
    assert_eq!(
        config(SigningAlgorithm::EdDsa).algorithms(),
        [SigningAlgorithm::EdDsa]
    );
}

#[test]
fn each_algorithm_of_the_ring_has_its_newest_non_retired_key_active() {
    let cipher = cipher();
    let ec_older = generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW - 100).unwrap();
    let ec_newer = generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW - 50).unwrap();
    let rsa = server_key(SigningAlgorithm::Rs256).clone();
    let ed_older = generate_signing_key(SigningAlgorithm::EdDsa, &OsRandom, NOW - 90).unwrap();
    let mut ed_newest_retired =
        generate_signing_key(SigningAlgorithm::EdDsa, &OsRandom, NOW - 1).unwrap();
    ed_newest_retired.retired_at = Some(NOW);
    let named = [
        (&ec_older, "ec_older"),
        (&ec_newer, "ec_newer"),
        (&rsa, "rsa"),
        (&ed_older, "ed_older"),
        (&ed_newest_retired, "ed_newest_retired"),
    ];
    let stored: Vec<StoredSigningKey> = named.iter().map(|(key, _)| key.seal(&cipher)).collect();
    let ring = KeyRing::new(&stored, &cipher, every_algorithm()).unwrap();

    assert_eq!(ring.active_kid(), ec_newer.kid);
    assert_eq!(
        ring.active_kid_for(SigningAlgorithm::Es256),
        Some(ec_newer.kid.as_str())
    );
    assert_eq!(
        ring.active_kid_for(SigningAlgorithm::Rs256),
        Some(rsa.kid.as_str())
    );
    assert_eq!(
        ring.active_kid_for(SigningAlgorithm::EdDsa),
        Some(ed_older.kid.as_str())
    );
    assert_eq!(
        ring.signing_algorithms(),
        [
            SigningAlgorithm::Es256,
            SigningAlgorithm::Rs256,
            SigningAlgorithm::EdDsa
        ]
    );
    let active: Vec<&str> = active_keys(&stored, &every_algorithm())
        .into_iter()
        .map(|key| key.kid.as_str())
        .collect();
    assert_eq!(active, [&ec_newer.kid, &rsa.kid, &ed_older.kid]);

    // The access token key leads the JWKS, though keys of other algorithms are newer.
    let jwks = ring.jwks(NOW);
    assert_eq!(kids_of(&jwks)[0], ec_newer.kid);
    assert_eq!(kids_of(&jwks).len(), named.len());

    let name_of = |kid: &str| {
        named
            .iter()
            .find(|(key, _)| key.kid == kid)
            .map(|(_, name)| *name)
            .unwrap()
    };
    let states: Vec<(&str, &str)> = key_states(&stored, &every_algorithm(), NOW)
        .into_iter()
        .map(|(key, state)| (name_of(&key.kid), state.as_str()))
        .collect();
    expect![[r#"
        [
            (
                "rsa",
                "active",
            ),
            (
                "ed_newest_retired",
                "retired",
            ),
            (
                "ec_newer",
                "active",
            ),
            (
                "ed_older",
                "active",
            ),
            (
                "ec_older",
                "standby",
            ),
        ]
    "#]]
    .assert_debug_eq(&states);
}

#[test]
fn keys_created_at_the_same_second_are_chosen_by_kid_whatever_the_listing_order() {
    let cipher = cipher();
    let first = generate_signing_key(SigningAlgorithm::EdDsa, &FixedGenerator(1), NOW).unwrap();
    let second = generate_signing_key(SigningAlgorithm::EdDsa, &FixedGenerator(2), NOW).unwrap();
    let greater = std::cmp::max(&first.kid, &second.kid);
    let config = config_with(SigningAlgorithm::Es256, &[SigningAlgorithm::EdDsa]);
    let access = server_key(SigningAlgorithm::Es256).seal(&cipher);
    for order in [[&first, &second], [&second, &first]] {
        let mut stored = vec![access.clone()];
        stored.extend(order.iter().map(|key| key.seal(&cipher)));
        let ring = KeyRing::new(&stored, &cipher, config.clone()).unwrap();
        assert_eq!(
            ring.active_kid_for(SigningAlgorithm::EdDsa),
            Some(greater.as_str())
        );
    }
}

/// Verifies a JWS with `jsonwebtoken` and the ring's JWKS, as a relying party would.
fn verify_with_jsonwebtoken_jwks(ring: &KeyRing, token: &str) -> Value {
    let jwks: JwkSet = serde_json::from_value(ring.jwks(NOW)).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[test]
fn sign_with_signs_with_the_active_key_of_that_algorithm() {
    let cipher = cipher();
    let stored: Vec<StoredSigningKey> = SigningAlgorithm::ALL
        .iter()
        .map(|algorithm| server_key(*algorithm).seal(&cipher))
        .collect();
    let ring = KeyRing::new(&stored, &cipher, every_algorithm()).unwrap();
    let claims = json!({ "iss": "https://issuer.example", "nonce": "n-0S6_WzA2Mj" });
    for algorithm in SigningAlgorithm::ALL {
        let token = ring.sign_with(algorithm, "JWT", &claims).unwrap();
        let header = crate::token::jwt::header(&token).unwrap();
        assert_eq!(header.alg, algorithm.as_str());
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.kid.as_deref(), ring.active_kid_for(algorithm));
        let verified = ring.verify::<Value>(&token, NOW).unwrap();
        assert_eq!(verified.kid, server_key(algorithm).kid);
        assert_eq!(verified.claims, claims);
        assert_eq!(verify_with_jsonwebtoken_jwks(&ring, &token), claims);
    }
    // `sign` keeps signing with the access token algorithm.
    let access_token = ring.sign("at+jwt", &claims).unwrap();
    let header = crate::token::jwt::header(&access_token).unwrap();
    assert_eq!(header.alg, "ES256");
    assert_eq!(header.kid.as_deref(), Some(ring.active_kid()));
}

/// `key` with its private key as a PKCS#8 document that leaves out the public key, which RFC 5915
/// and RFC 5958 allow and `ring` refuses for P-256.
fn without_public_key(key: &SigningKey) -> SigningKey {
    let private_pkcs8_der = match key.algorithm {
        SigningAlgorithm::Es256 => {
            use p256::pkcs8::DecodePrivateKey as _;
            let secret = p256::SecretKey::from_pkcs8_der(&key.private_pkcs8_der).unwrap();
            // PrivateKeyInfo { version 0, { id-ecPublicKey, prime256v1 }, ECPrivateKey {
            // version 1, the 32-byte scalar } }: RFC 5208 around RFC 5915, with no [1] publicKey.
            let mut der = vec![
                0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27,
                0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20,
            ];
            der.extend_from_slice(&secret.to_bytes());
            der
        }
        SigningAlgorithm::EdDsa => {
            use ed25519_dalek::pkcs8::{
                DecodePrivateKey as _, EncodePrivateKey as _, KeypairBytes,
            };
            let secret = ed25519_dalek::SigningKey::from_pkcs8_der(&key.private_pkcs8_der).unwrap();
            // A version 1 document: only the seed.
            let bytes = KeypairBytes {
                secret_key: secret.to_bytes(),
                public_key: None,
            };
            bytes.to_pkcs8_der().unwrap().as_bytes().to_vec()
        }
        SigningAlgorithm::Rs256 => panic!("an RSA PKCS#8 document always holds the public key"),
    };
    SigningKey {
        private_pkcs8_der,
        ..key.clone()
    }
}

#[test]
fn stored_keys_without_the_public_key_in_their_pkcs8_document_still_sign() {
    let cipher = cipher();
    for algorithm in [SigningAlgorithm::Es256, SigningAlgorithm::EdDsa] {
        let key = without_public_key(server_key(algorithm));
        assert!(key.private_pkcs8_der.len() < server_key(algorithm).private_pkcs8_der.len());
        // The P-256 document is what the fallback exists for: `ring` alone refuses it.
        if algorithm == SigningAlgorithm::Es256 {
            let parsed_by_ring = ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &key.private_pkcs8_der,
                &ring::rand::SystemRandom::new(),
            );
            assert!(parsed_by_ring.is_err());
        }
        let stored = key.seal(&cipher);
        assert_eq!(SigningKey::unseal(&stored, &cipher).unwrap(), key);
        let ring = KeyRing::new(&[stored], &cipher, config(algorithm)).unwrap();
        let claims = json!({ "iss": "https://issuer.example" });
        let token = ring.sign("JWT", &claims).unwrap();
        assert_eq!(verify_with_jsonwebtoken_jwks(&ring, &token), claims);
        assert_eq!(ring.verify::<Value>(&token, NOW).unwrap().claims, claims);
    }
}

#[test]
fn a_private_key_that_ring_refuses_is_malformed() {
    // An RSA PKCS#8 document whose inner key is cut short: the `rsa` crate and `ring` both
    // refuse it, and the ring names the key.
    let key = server_key(SigningAlgorithm::Rs256);
    let truncated = SigningKey {
        private_pkcs8_der: key.private_pkcs8_der[..key.private_pkcs8_der.len() - 1].to_vec(),
        ..key.clone()
    };
    let error = PrivateKey::parse(&truncated).unwrap_err();
    assert!(matches!(&error, KeyError::Malformed { kid, .. } if kid == &key.kid));
    expect![
        "signing key {kid} is malformed: ring refuses the RS256 PKCS#8 private key: InvalidEncoding"
    ]
    .assert_eq(&error.to_string().replace(&key.kid, "{kid}"));
}

#[test]
fn sign_with_refuses_an_algorithm_the_ring_has_no_active_key_of() {
    let cipher = cipher();
    // An RS256 key is stored but the ring does not sign with RS256; EdDSA has no key yet.
    let stored = [
        server_key(SigningAlgorithm::Es256).seal(&cipher),
        server_key(SigningAlgorithm::Rs256).seal(&cipher),
    ];
    let config = config_with(SigningAlgorithm::Es256, &[SigningAlgorithm::EdDsa]);
    let ring = KeyRing::new(&stored, &cipher, config.clone()).unwrap();
    assert_eq!(ring.signing_algorithms(), [SigningAlgorithm::Es256]);
    assert_eq!(ring.active_kid_for(SigningAlgorithm::EdDsa), None);
    for algorithm in [SigningAlgorithm::EdDsa, SigningAlgorithm::Rs256] {
        assert_eq!(
            ring.sign_with(algorithm, "JWT", &json!({})).unwrap_err(),
            KeyError::NoActiveKey(algorithm)
        );
    }
    let states: Vec<KeyState> = key_states(&stored, &config, NOW)
        .into_iter()
        .map(|(_, state)| state)
        .collect();
    assert!(states.contains(&KeyState::Standby), "{states:?}");
    // Without an access token key there is no ring at all.
    assert_eq!(
        KeyRing::new(
            &stored[1..],
            &cipher,
            config_with(SigningAlgorithm::Es256, &[SigningAlgorithm::Rs256])
        )
        .unwrap_err(),
        KeyError::NoActiveKey(SigningAlgorithm::Es256)
    );
}

#[tokio::test]
async fn first_load_creates_a_key_of_every_algorithm_of_the_ring() {
    let store = MemoryKeyStore::default();
    let ring = load_key_ring(&store, &cipher(), every_algorithm(), &OsRandom, NOW)
        .await
        .unwrap();
    let stored = store.list_signing_keys().await.unwrap();
    let algorithms: Vec<SigningAlgorithm> = stored.iter().map(|key| key.algorithm).collect();
    assert_eq!(algorithms, every_algorithm().algorithms());
    assert_eq!(ring.signing_algorithms(), every_algorithm().algorithms());
    assert_eq!(kids_of(&ring.jwks(NOW))[0], ring.active_kid());

    let again = load_key_ring(&store, &cipher(), every_algorithm(), &OsRandom, NOW + 60)
        .await
        .unwrap();
    assert_eq!(store.list_signing_keys().await.unwrap().len(), 3);
    for algorithm in SigningAlgorithm::ALL {
        assert_eq!(
            again.active_kid_for(algorithm),
            ring.active_kid_for(algorithm)
        );
    }
}

#[tokio::test]
async fn loading_creates_keys_only_for_the_algorithms_that_have_none() {
    let store = MemoryKeyStore::default();
    let ec = server_key(SigningAlgorithm::Es256);
    store.insert_signing_key(&ec.seal(&cipher())).await.unwrap();
    let config = config_with(SigningAlgorithm::Es256, &[SigningAlgorithm::EdDsa]);
    let ring = load_key_ring(&store, &cipher(), config, &OsRandom, NOW)
        .await
        .unwrap();
    assert_eq!(ring.active_kid(), ec.kid);
    let stored = store.list_signing_keys().await.unwrap();
    let algorithms: Vec<SigningAlgorithm> = stored.iter().map(|key| key.algorithm).collect();
    assert_eq!(
        algorithms,
        [SigningAlgorithm::Es256, SigningAlgorithm::EdDsa]
    );
    assert_eq!(
        ring.active_kid_for(SigningAlgorithm::EdDsa),
        Some(stored[1].kid.as_str())
    );
}

#[tokio::test]
async fn rotation_replaces_the_key_of_every_algorithm_and_retires_every_old_one() {
    let store = MemoryKeyStore::default();
    let config = config_with(SigningAlgorithm::Es256, &[SigningAlgorithm::EdDsa]);
    // A key of an algorithm the ring no longer signs with is retired as well.
    let rsa = server_key(SigningAlgorithm::Rs256);
    store
        .insert_signing_key(&rsa.seal(&cipher()))
        .await
        .unwrap();
    let before = load_key_ring(&store, &cipher(), config.clone(), &OsRandom, NOW)
        .await
        .unwrap();
    let old_id_token = before
        .sign_with(SigningAlgorithm::EdDsa, "JWT", &json!({}))
        .unwrap();

    let rotated_at = NOW + 10;
    let created = rotate_signing_key(&store, &cipher(), &config, &OsRandom, rotated_at)
        .await
        .unwrap();
    let created_algorithms: Vec<SigningAlgorithm> =
        created.iter().map(|key| key.algorithm).collect();
    assert_eq!(created_algorithms, config.algorithms());

    let stored = store.list_signing_keys().await.unwrap();
    assert_eq!(stored.len(), 5);
    for key in &stored {
        let is_new = created.iter().any(|created| created.kid == key.kid);
        assert_eq!(key.retired_at.is_none(), is_new, "{key:?}");
    }
    let after = load_key_ring(&store, &cipher(), config.clone(), &OsRandom, rotated_at)
        .await
        .unwrap();
    assert_eq!(store.list_signing_keys().await.unwrap().len(), 5);
    assert_eq!(after.active_kid(), created[0].kid);
    assert_eq!(
        after.active_kid_for(SigningAlgorithm::EdDsa),
        Some(created[1].kid.as_str())
    );
    // What the old keys signed still verifies while they are published.
    let verified = after.verify::<Value>(&old_id_token, rotated_at).unwrap();
    assert_eq!(
        Some(verified.kid.as_str()),
        before.active_kid_for(SigningAlgorithm::EdDsa)
    );
    let states: Vec<KeyState> = key_states(&stored, &config, rotated_at)
        .into_iter()
        .map(|(_, state)| state)
        .collect();
    assert_eq!(
        states,
        [
            KeyState::Active,
            KeyState::Active,
            KeyState::Retired,
            KeyState::Retired,
            KeyState::Retired
        ]
    );
}

/// A store that yields before every operation, so that concurrent rotations interleave.
#[derive(Debug, Default)]
struct YieldingKeyStore(MemoryKeyStore);

#[async_trait]
impl SigningKeyStore for YieldingKeyStore {
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.0.insert_signing_key(key).await
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        tokio::task::yield_now().await;
        self.0.list_signing_keys().await
    }

    async fn retire_signing_key(&self, kid: &str, retired_at: i64) -> Result<bool, StoreError> {
        tokio::task::yield_now().await;
        self.0.retire_signing_key(kid, retired_at).await
    }
}

#[tokio::test]
async fn of_two_concurrent_rotations_a_new_key_of_every_algorithm_survives() {
    let store = YieldingKeyStore::default();
    let cipher = cipher();
    let config = config_with(SigningAlgorithm::Es256, &[SigningAlgorithm::EdDsa]);
    load_key_ring(&store, &cipher, config.clone(), &OsRandom, NOW)
        .await
        .unwrap();
    let (first, second) = tokio::join!(
        rotate_signing_key(&store, &cipher, &config, &OsRandom, NOW + 1),
        rotate_signing_key(&store, &cipher, &config, &OsRandom, NOW + 1),
    );
    let created: Vec<StoredSigningKey> =
        first.unwrap().into_iter().chain(second.unwrap()).collect();
    let stored = store.list_signing_keys().await.unwrap();
    for algorithm in config.algorithms() {
        let survivors = stored
            .iter()
            .filter(|key| key.algorithm == algorithm && key.retired_at.is_none())
            .count();
        assert!(survivors >= 1, "{algorithm}");
    }
    // Every key that is not retired is one the rotations created.
    for key in stored.iter().filter(|key| key.retired_at.is_none()) {
        assert!(
            created.iter().any(|created| created.kid == key.kid),
            "{key:?}"
        );
    }
    load_key_ring(&store, &cipher, config, &OsRandom, NOW + 1)
        .await
        .unwrap();
}
