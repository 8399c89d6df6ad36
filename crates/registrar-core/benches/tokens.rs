//! Benchmarks of the credential and token hot paths: `TokenHasher`, `issue_access_token` and
//! `verify_access_token` with an ES256, RS256 and EdDSA key ring, and `verify_private_key_jwt`.
//! `sign_primitive` signs the same bytes with the bare `ring` key pairs (ES256, RS256) and
//! `ed25519-dalek` key (EdDSA) the ring signs with, parsed once: the floor
//! under `issue_access_token`, whose ring also keeps its key parsed, so the difference is the
//! claims' JSON and base64url.
//!
//! Run with `cargo bench -p registrar-core --bench tokens`; `docs/benchmarks.md` has figures.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{EncodingKey, Header};
use registrar_core::TokenHasher;
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::token::{
    ASYMMETRIC_ASSERTION_ALGS, AccessTokenClaims, AssertionCheck, AssertionLimits, KeyRing,
    KeyRingConfig, NewAccessToken, SecretCipher, SigningAlgorithm, generate_signing_key,
    issue_access_token, verify_access_token, verify_private_key_jwt,
};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::json;

/// A fixed "now", as the tests use: nothing here reads the wall clock.
const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://issuer.example";
const TOKEN_ENDPOINT: &str = "https://issuer.example/connect/token";
const CLIENT_ID: &str = "bench-client-0123456789abcdef";
const SERVER_SECRET: &[u8] = b"bench server secret, 32 bytes or more";

/// Short runs, so that both core benchmarks finish in about a minute on two cores.
fn configured() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

/// A ring holding one fresh key of `algorithm`, sealed and loaded as the server does at start.
fn key_ring(algorithm: SigningAlgorithm) -> KeyRing {
    let cipher = SecretCipher::new(SERVER_SECRET);
    let stored = generate_signing_key(algorithm, &OsRandom, NOW)
        .expect("generate a signing key")
        .seal(&cipher);
    let config = KeyRingConfig {
        algorithm,
        id_token_algorithms: Vec::new(),
        max_access_token_lifetime: 3_600,
    };
    KeyRing::new(&[stored], &cipher, config).expect("build the key ring")
}

/// The claims the token endpoint issues to a `client_credentials` client with two scopes.
fn claims() -> AccessTokenClaims {
    let scopes = ["openid".to_owned(), "email".to_owned()];
    AccessTokenClaims::new(
        &NewAccessToken {
            issuer: ISSUER,
            client_id: CLIENT_ID,
            audience: &[],
            scopes: &scopes,
            lifetime: 3_600,
            now: NOW,
        },
        &OsRandom,
    )
}

fn token_hasher(criterion: &mut Criterion) {
    let hasher = TokenHasher::new(SERVER_SECRET);
    // A credential as issued: 256 random bits, base64url.
    let credential = random_token(&OsRandom, 32);
    let stored = hasher.hash(&credential);
    let mut group = criterion.benchmark_group("token_hasher");
    group.bench_function("hash", |bencher| {
        bencher.iter(|| hasher.hash(black_box(&credential)))
    });
    group.bench_function("verify", |bencher| {
        bencher.iter(|| hasher.verify(black_box(&credential), &stored))
    });
    group.finish();
}

fn access_tokens(criterion: &mut Criterion) {
    let claims = claims();
    let mut issue = criterion.benchmark_group("issue_access_token");
    let mut issued = Vec::new();
    for algorithm in SigningAlgorithm::ALL {
        let ring = key_ring(algorithm);
        issue.bench_function(algorithm.as_str(), |bencher| {
            bencher.iter(|| issue_access_token(&ring, black_box(&claims)))
        });
        let token = issue_access_token(&ring, &claims).expect("sign an access token");
        issued.push((algorithm, ring, token));
    }
    issue.finish();

    // The same signing input, signed with each key parsed once.
    let (_, _, token) = &issued[0];
    let signing_input = token
        .rsplit_once('.')
        .map(|(signing_input, _)| signing_input.as_bytes().to_vec())
        .expect("a signed jwt");
    let mut primitive = criterion.benchmark_group("sign_primitive");
    let random = SystemRandom::new();
    let es256 = generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW).expect("a key");
    let es256 = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &es256.private_pkcs8_der,
        &random,
    )
    .expect("P-256");
    primitive.bench_function("ES256", |bencher| {
        bencher.iter(|| es256.sign(&random, black_box(&signing_input)))
    });
    let rs256 = generate_signing_key(SigningAlgorithm::Rs256, &OsRandom, NOW).expect("a key");
    let rs256 = RsaKeyPair::from_pkcs8(&rs256.private_pkcs8_der).expect("RSA");
    let mut signature = vec![0; rs256.public().modulus_len()];
    primitive.bench_function("RS256", |bencher| {
        bencher.iter(|| {
            rs256.sign(
                &RSA_PKCS1_SHA256,
                &random,
                black_box(&signing_input),
                &mut signature,
            )
        })
    });
    let eddsa = generate_signing_key(SigningAlgorithm::EdDsa, &OsRandom, NOW).expect("a key");
    let eddsa = {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        ed25519_dalek::SigningKey::from_pkcs8_der(&eddsa.private_pkcs8_der).expect("Ed25519")
    };
    primitive.bench_function("EdDSA", |bencher| {
        use ed25519_dalek::Signer as _;
        bencher.iter(|| eddsa.sign(black_box(&signing_input)))
    });
    primitive.finish();

    let mut verify = criterion.benchmark_group("verify_access_token");
    for (algorithm, ring, token) in &issued {
        // A token that fails to verify would measure the early exit, not the work.
        verify_access_token(ring, token, ISSUER, NOW).expect("the issued token verifies");
        verify.bench_function(algorithm.as_str(), |bencher| {
            bencher.iter(|| verify_access_token(ring, black_box(token), ISSUER, NOW))
        });
    }
    verify.finish();
}

fn client_assertion(criterion: &mut Criterion) {
    // The client's key pair; the server knows only the public half, from the client's `jwks`.
    let client_key =
        generate_signing_key(SigningAlgorithm::Es256, &OsRandom, NOW).expect("generate a key");
    let jwks = json!({ "keys": [client_key.public_jwk] });
    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(client_key.kid.clone());
    let assertion_claims = json!({
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": TOKEN_ENDPOINT,
        "iat": NOW,
        "exp": NOW + 60,
        "jti": random_token(&OsRandom, 16),
    });
    let assertion = jsonwebtoken::encode(
        &header,
        &assertion_claims,
        &EncodingKey::from_ec_der(&client_key.private_pkcs8_der),
    )
    .expect("sign the client assertion");
    let audiences = [ISSUER.to_owned(), TOKEN_ENDPOINT.to_owned()];
    let allowed_algs: Vec<String> = ASYMMETRIC_ASSERTION_ALGS
        .iter()
        .map(|alg| (*alg).to_owned())
        .collect();
    let check = AssertionCheck {
        client_id: CLIENT_ID,
        audiences: &audiences,
        allowed_algs: &allowed_algs,
        registered_alg: None,
        now: NOW,
        limits: AssertionLimits::default(),
    };
    verify_private_key_jwt(&assertion, &jwks, &check).expect("the assertion verifies");
    criterion.bench_function("verify_private_key_jwt/ES256", |bencher| {
        bencher.iter(|| verify_private_key_jwt(black_box(&assertion), &jwks, &check))
    });
}

criterion_group! {
    name = benches;
    config = configured();
    targets = token_hasher, access_tokens, client_assertion
}
criterion_main!(benches);
