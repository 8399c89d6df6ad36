//! Signing keys: algorithms, generation, thumbprints, sealing, the ring's choice of key, and
//! rotation through a store.

use expect_test::expect;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde_json::{Value, json};

use super::{FixedGenerator, MAX_LIFETIME, MemoryKeyStore, NOW, cipher, config, server_key};
use crate::secrets::OsRandom;
use crate::token::jwk::PublicKey;
use crate::token::signer::PrivateKey;
use crate::token::{
    KeyError, KeyRing, KeyState, SecretCipher, SigningAlgorithm, SigningKey, SigningKeyStore,
    StoredSigningKey, VerifyError, generate_signing_key, key_states, load_key_ring,
    rotate_signing_key,
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
    let first = load_key_ring(&store, &cipher(), config, &OsRandom, NOW)
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
    let before = load_key_ring(&store, &cipher(), config, &OsRandom, NOW)
        .await
        .unwrap();
    let old_token = before
        .sign("at+jwt", &json!({ "exp": NOW + MAX_LIFETIME }))
        .unwrap();

    let rotated_at = NOW + 10;
    let created = rotate_signing_key(
        &store,
        &cipher(),
        SigningAlgorithm::Es256,
        &OsRandom,
        rotated_at,
    )
    .await
    .unwrap();
    let after = load_key_ring(&store, &cipher(), config, &OsRandom, rotated_at)
        .await
        .unwrap();
    assert_eq!(after.active_kid(), created.kid);
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
        config,
        &OsRandom,
        NOW,
    )
    .await
    .unwrap();
    let error = load_key_ring(&store, &cipher(), config, &OsRandom, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "server_error");
    rotate_signing_key(
        &store,
        &cipher(),
        SigningAlgorithm::Es256,
        &OsRandom,
        NOW + 1,
    )
    .await
    .unwrap();
    load_key_ring(&store, &cipher(), config, &OsRandom, NOW + 1)
        .await
        .unwrap();
}
