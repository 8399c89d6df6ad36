//! Client authentication at the token endpoint as an attacker meets it: every assertion that
//! fails a check needing no key is refused before the client's `jwks_uri` is fetched, a fetch
//! failure is answered without its detail, a wrong credential gets one answer whatever the
//! client registered, keys that never verify are refused at registration, and issued secrets
//! key every HMAC algorithm offered.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use registrar_core::secrets::OsRandom;
use registrar_core::token::{SigningAlgorithm, SigningKey, generate_signing_key};
use registrar_core::{Clock as _, SystemClock};
use registrar_server::TokenOptions;
use registrar_testkit::jwks_server::JwksServer;
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_json};

backends!(
    assertions_failing_a_check_that_needs_no_key_never_fetch_the_jwks_uri,
    a_jwks_uri_that_cannot_be_fetched_is_answered_without_the_network_detail,
    wrong_credentials_get_one_answer_whatever_method_the_client_registered,
    keys_that_never_verify_are_refused_at_registration_and_update_and_skipped_when_fetched,
    issued_secrets_key_every_offered_hmac_alg,
);

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const GENERIC: &str = "client authentication failed";

fn machine(method: &str) -> Value {
    json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": method, "scope": "openid"})
}

async fn register(server: &TestServer, metadata: Value) -> Value {
    expect_json(server.register(metadata).await, 201).await
}

fn id_of(client: &Value) -> &str {
    client["client_id"].as_str().unwrap()
}

fn secret_of(client: &Value) -> &str {
    client["client_secret"].as_str().unwrap()
}

fn client_key(algorithm: SigningAlgorithm) -> SigningKey {
    generate_signing_key(algorithm, &OsRandom, SystemClock.now()).unwrap()
}

fn jwks_of(keys: &[&SigningKey]) -> Value {
    json!({"keys": keys.iter().map(|key| key.public_jwk.clone()).collect::<Vec<_>>()})
}

fn claims(server: &TestServer, client_id: &str, jti: &str) -> Value {
    let now = SystemClock.now();
    json!({"iss": client_id, "sub": client_id, "aud": server.url("/connect/token"), "iat": now, "exp": now + 60, "jti": jti})
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    let (encoding_key, algorithm) = match key.algorithm {
        SigningAlgorithm::Es256 => (
            EncodingKey::from_ec_der(&key.private_pkcs8_der),
            Algorithm::ES256,
        ),
        SigningAlgorithm::EdDsa => (
            EncodingKey::from_ed_der(&key.private_pkcs8_der),
            Algorithm::EdDSA,
        ),
        SigningAlgorithm::Rs256 => panic!("these tests sign with EC and Ed25519 keys"),
    };
    let mut header = Header::new(algorithm);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &encoding_key).unwrap()
}

fn sign_hmac(secret: &str, algorithm: Algorithm, claims: &Value) -> String {
    let key = EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&Header::new(algorithm), claims, &key).unwrap()
}

/// A JWS with any header, and a signature that verifies nothing.
fn unsigned(header: &Value, claims: &Value) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.c2lnbmF0dXJl", encode(header), encode(claims))
}

async fn assertion_token(
    server: &TestServer,
    client_id: &str,
    assertion: &str,
) -> reqwest::Response {
    server
        .http()
        .post(server.url("/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap()
}

/// Token options that trust `jwks_server`, refetch on an unknown kid at once (so a refusal
/// that came too late would show as a hit), and count no failures against rate limits.
fn options_for(jwks_server: &JwksServer) -> TokenOptions {
    let mut options = jwks_server.token_options();
    options.jwks_cache.refetch_interval = Duration::ZERO;
    options.rate_limits.enabled = false;
    options
}

async fn assertions_failing_a_check_that_needs_no_key_never_fetch_the_jwks_uri(backend: Backend) {
    let key = client_key(SigningAlgorithm::Es256);
    let jwks_server = JwksServer::start(jwks_of(&[&key])).await;
    let server = TestServer::spawn_with_tokens(backend, |_| {}, options_for(&jwks_server)).await;
    let mut metadata = machine("private_key_jwt");
    metadata["jwks_uri"] = json!(jwks_server.url());
    metadata["token_endpoint_auth_signing_alg"] = json!("ES256");
    let client = register(&server, metadata).await;
    let client_id = id_of(&client);
    let now = SystemClock.now();
    let patched = |patch: Value| {
        let mut claims = claims(&server, client_id, "patched");
        for (member, value) in patch.as_object().unwrap() {
            match value {
                Value::Null => claims.as_object_mut().unwrap().remove(member),
                value => claims
                    .as_object_mut()
                    .unwrap()
                    .insert(member.clone(), value.clone()),
            };
        }
        claims
    };
    let other_key = client_key(SigningAlgorithm::EdDsa);

    let cases = [
        ("junk", "not.a.jwt".to_owned()),
        ("three parts of nothing", "e30.e30.".to_owned()),
        (
            "wrong iss",
            sign(&key, &patched(json!({"iss": "someone-else"}))),
        ),
        (
            "wrong sub",
            sign(&key, &patched(json!({"sub": "someone-else"}))),
        ),
        (
            "wrong aud",
            sign(
                &key,
                &patched(json!({"aud": "https://elsewhere.example/token"})),
            ),
        ),
        (
            "expired",
            sign(&key, &patched(json!({"iat": now - 600, "exp": now - 300}))),
        ),
        (
            "too long-lived",
            sign(&key, &patched(json!({"exp": now + 3600}))),
        ),
        ("no exp", sign(&key, &patched(json!({"exp": null})))),
        ("no jti", sign(&key, &patched(json!({"jti": null})))),
        (
            "alg none",
            unsigned(
                &json!({"alg": "none", "kid": key.kid}),
                &claims(&server, client_id, "n"),
            ),
        ),
        (
            "alg ES512",
            unsigned(
                &json!({"alg": "ES512", "kid": key.kid}),
                &claims(&server, client_id, "u"),
            ),
        ),
        // Offered for client_secret_jwt, but never for this private_key_jwt client.
        (
            "alg HS256",
            sign_hmac(
                "a-secret-of-at-least-32-bytes-long!!",
                Algorithm::HS256,
                &claims(&server, client_id, "h"),
            ),
        ),
        // Not the client's registered token_endpoint_auth_signing_alg.
        (
            "alg EdDSA",
            sign(&other_key, &claims(&server, client_id, "e")),
        ),
    ];
    for (name, assertion) in &cases {
        let response = assertion_token(&server, client_id, assertion).await;
        expect_error(response, 401, "invalid_client").await;
        assert_eq!(
            jwks_server.hits(),
            0,
            "{name} made the server fetch the jwks_uri"
        );
    }

    // A good assertion fetches the keys once.
    let once = sign(&key, &claims(&server, client_id, "once"));
    expect_json(assertion_token(&server, client_id, &once).await, 200).await;
    assert_eq!(jwks_server.hits(), 1);
    // Its jti again, with a kid the cached set lacks (which refetches at once here): refused as
    // a replay before any fetch.
    let rotated = client_key(SigningAlgorithm::Es256);
    let replayed = sign(&rotated, &claims(&server, client_id, "once"));
    let description = expect_error(
        assertion_token(&server, client_id, &replayed).await,
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(description, "the client assertion was already used");
    assert_eq!(
        jwks_server.hits(),
        1,
        "a replayed jti made the server fetch"
    );
    // A failed assertion does not use up its jti: a bad signature with a fresh jti is refused
    // (after a fetch), and the same jti then still works with a good signature.
    let forged = sign(&rotated, &claims(&server, client_id, "fresh"));
    expect_error(
        assertion_token(&server, client_id, &forged).await,
        401,
        "invalid_client",
    )
    .await;
    let genuine = sign(&key, &claims(&server, client_id, "fresh"));
    expect_json(assertion_token(&server, client_id, &genuine).await, 200).await;
}

async fn a_jwks_uri_that_cannot_be_fetched_is_answered_without_the_network_detail(
    backend: Backend,
) {
    let key = client_key(SigningAlgorithm::Es256);
    let jwks_server = JwksServer::start(jwks_of(&[&key])).await;
    // The fetcher finds the server but does not trust its certificate.
    let mut options = options_for(&jwks_server);
    options.fetch.extra_root_certificates.clear();
    let server = TestServer::spawn_with_tokens(backend, |_| {}, options).await;
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let jwks_uris = [
        ("untrusted certificate", jwks_server.url()),
        (
            "connection refused",
            format!("https://jwks.test:{closed_port}/jwks.json"),
        ),
        (
            "unknown host",
            "https://no-such-host.test/jwks.json".to_owned(),
        ),
    ];
    for (name, jwks_uri) in jwks_uris {
        let mut metadata = machine("private_key_jwt");
        metadata["jwks_uri"] = json!(jwks_uri);
        let client = register(&server, metadata).await;
        let assertion = sign(&key, &claims(&server, id_of(&client), "j"));

        let response = assertion_token(&server, id_of(&client), &assertion).await;
        let challenge = response.headers().get("www-authenticate").cloned();
        let body = response.text().await.unwrap();

        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            json!({"error": "invalid_client", "error_description": GENERIC}),
            "{name}"
        );
        assert_eq!(challenge, None, "{name}");
    }
    assert_eq!(
        jwks_server.hits(),
        0,
        "the TLS handshake failed before any request"
    );
}

/// How a token request authenticates: HTTP Basic credentials, and form parameters beside
/// `grant_type`.
struct Presented {
    name: &'static str,
    basic: Option<(String, String)>,
    form: Vec<(&'static str, String)>,
}

fn over_basic(name: &'static str, client_id: &str, secret: &str) -> Presented {
    Presented {
        name,
        basic: Some((client_id.to_owned(), secret.to_owned())),
        form: Vec::new(),
    }
}

fn in_the_body(name: &'static str, form: &[(&'static str, &str)]) -> Presented {
    Presented {
        name,
        basic: None,
        form: form
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect(),
    }
}

/// A token request's answer, to compare: status, challenge and body.
async fn answer(server: &TestServer, presented: &Presented) -> (u16, Option<String>, Value) {
    let mut form = vec![("grant_type", "client_credentials".to_owned())];
    form.extend(presented.form.iter().cloned());
    let mut request = server.http().post(server.url("/connect/token")).form(&form);
    if let Some((client_id, secret)) = &presented.basic {
        request = request.basic_auth(client_id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned());
    (status, challenge, response.json().await.unwrap())
}

async fn wrong_credentials_get_one_answer_whatever_method_the_client_registered(backend: Backend) {
    let server = TestServer::spawn_unlimited(backend).await;
    let basic = register(&server, machine("client_secret_basic")).await;
    let post = register(&server, machine("client_secret_post")).await;
    let hmac = register(&server, machine("client_secret_jwt")).await;
    let key = client_key(SigningAlgorithm::Es256);
    let mut metadata = machine("private_key_jwt");
    metadata["jwks"] = jwks_of(&[&key]);
    let private_key = register(&server, metadata).await;
    let public = register(
        &server,
        json!({"token_endpoint_auth_method": "none", "redirect_uris": ["https://app.example/cb"]}),
    )
    .await;
    let unknown = "no-such-client";
    let refusal = json!({"error": "invalid_client", "error_description": GENERIC});

    // The Authorization header: a Basic challenge (RFC 6749 §5.2 follows what the caller
    // sent), and one answer for clients of every method.
    let presented = [
        over_basic("unknown client", unknown, "x"),
        over_basic("wrong secret", id_of(&basic), "wrong-secret"),
        over_basic("client_secret_post client", id_of(&post), secret_of(&post)),
        over_basic("client_secret_jwt client", id_of(&hmac), secret_of(&hmac)),
        over_basic("private_key_jwt client", id_of(&private_key), "a-secret"),
        over_basic("none client", id_of(&public), "a-secret"),
    ];
    let challenge = Some("Basic realm=\"registrar\"".to_owned());
    for presented in &presented {
        let expected = (401, challenge.clone(), refusal.clone());
        assert_eq!(
            answer(&server, presented).await,
            expected,
            "{}",
            presented.name
        );
    }

    // A secret in the body: no challenge, and again one answer.
    let with_secret = |name, client_id, secret| {
        in_the_body(name, &[("client_id", client_id), ("client_secret", secret)])
    };
    let presented = [
        with_secret("unknown client", unknown, "x"),
        with_secret("wrong secret", id_of(&post), "wrong-secret"),
        with_secret(
            "client_secret_basic client",
            id_of(&basic),
            secret_of(&basic),
        ),
        with_secret("client_secret_jwt client", id_of(&hmac), secret_of(&hmac)),
        with_secret("private_key_jwt client", id_of(&private_key), "a-secret"),
        with_secret("none client", id_of(&public), "a-secret"),
        in_the_body("client_id alone, unknown", &[("client_id", unknown)]),
        in_the_body(
            "client_id alone, confidential",
            &[("client_id", id_of(&basic))],
        ),
    ];
    for presented in &presented {
        let expected = (401, None, refusal.clone());
        assert_eq!(
            answer(&server, presented).await,
            expected,
            "{}",
            presented.name
        );
    }

    // A well-formed assertion: whether the client is unknown, uses a secret, or signs with
    // another key or secret, the answer is the same.
    let impostor = client_key(SigningAlgorithm::Es256);
    let signed = |client_id: &str| sign(&impostor, &claims(&server, client_id, "same-jti"));
    let hmac_forged = sign_hmac(
        "not-the-secret-not-the-secret-not-the-secret-not-the-secret-not-the",
        Algorithm::HS256,
        &claims(&server, id_of(&hmac), "same-jti"),
    );
    let with_assertion = |name, client_id, assertion: &str| {
        in_the_body(
            name,
            &[
                ("client_id", client_id),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", assertion),
            ],
        )
    };
    let presented = [
        with_assertion("unknown client", unknown, &signed(unknown)),
        with_assertion(
            "client_secret_basic client",
            id_of(&basic),
            &signed(id_of(&basic)),
        ),
        with_assertion(
            "client_secret_post client",
            id_of(&post),
            &signed(id_of(&post)),
        ),
        with_assertion("none client", id_of(&public), &signed(id_of(&public))),
        with_assertion(
            "private_key_jwt client, another key",
            id_of(&private_key),
            &signed(id_of(&private_key)),
        ),
        with_assertion(
            "client_secret_jwt client, another secret",
            id_of(&hmac),
            &hmac_forged,
        ),
        with_assertion(
            "client_secret_jwt client, an EC signature",
            id_of(&hmac),
            &signed(id_of(&hmac)),
        ),
    ];
    for presented in &presented {
        let expected = (401, None, refusal.clone());
        assert_eq!(
            answer(&server, presented).await,
            expected,
            "{}",
            presented.name
        );
    }
}

async fn keys_that_never_verify_are_refused_at_registration_and_update_and_skipped_when_fetched(
    backend: Backend,
) {
    let key = client_key(SigningAlgorithm::Es256);
    // What the set at the jwks_uri holds besides the good key, under the good key's kid: none
    // of them can verify, and each is skipped.
    let p521 = json!({"kty": "EC", "crv": "P-521", "kid": key.kid,
        "x": "AFv1NDx4S38_Rb0oRdGS-LlvosUnr0H6GG5fSPQuJgMX9SKltj4OGvHyIoMhmiDH2-g1MQq0aRmOJnTKCX3Sf2-7",
        "y": "ANBb7Z6CFCTD1qTiqkekhhiawseYZ57bIArSLi2f0WLsCODmJheD0qiS4XwIEnFdsQWALLY3za3WlxobIKVNIuOA"});
    let x25519 = json!({"kty": "OKP", "crv": "X25519", "kid": key.kid,
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let big_rsa = json!({"kty": "RSA", "kid": key.kid, "e": "AQAB",
        "n": URL_SAFE_NO_PAD.encode(vec![0xc5_u8; 1024])});
    let jwks_server = JwksServer::start(json!({"keys": [
        p521.clone(), x25519.clone(), big_rsa.clone(), key.public_jwk.clone(),
    ]}))
    .await;
    let server = TestServer::spawn_with_tokens(backend, |_| {}, options_for(&jwks_server)).await;

    for (bad_key, reason) in [
        (&p521, "P-521"),
        (&x25519, "X25519"),
        (&big_rsa, "8192 bits"),
    ] {
        let mut bad_key = bad_key.clone();
        bad_key.as_object_mut().unwrap().remove("kid");
        let mut metadata = machine("private_key_jwt");
        metadata["jwks"] = json!({"keys": [key.public_jwk.clone(), bad_key]});
        let description = expect_error(
            server.register(metadata).await,
            400,
            "invalid_client_metadata",
        )
        .await;
        assert!(
            description.starts_with("jwks.keys[1] ") && description.contains(reason),
            "{description}"
        );
    }
    let mut metadata = machine("private_key_jwt");
    metadata["jwks"] = json!({"keys": [{"kty": "EC", "crv": "P-256", "use": "enc",
        "x": key.public_jwk["x"], "y": key.public_jwk["y"]}]});
    let description = expect_error(
        server.register(metadata).await,
        400,
        "invalid_client_metadata",
    )
    .await;
    assert!(
        description.contains("no key to verify private_key_jwt"),
        "{description}"
    );

    // An update is held to the same rules.
    let mut metadata = machine("private_key_jwt");
    metadata["jwks"] = jwks_of(&[&key]);
    let client = register(&server, metadata.clone()).await;
    metadata["client_id"] = client["client_id"].clone();
    metadata["jwks"] = json!({"keys": [x25519.clone()]});
    let response = server
        .http()
        .put(client["registration_client_uri"].as_str().unwrap())
        .bearer_auth(client["registration_access_token"].as_str().unwrap())
        .json(&metadata)
        .send()
        .await
        .unwrap();
    let description = expect_error(response, 400, "invalid_client_metadata").await;
    assert!(
        description.starts_with("jwks.keys[0] is an OKP key on X25519"),
        "{description}"
    );

    // Fetched from a jwks_uri, where nothing checked them, such keys are skipped.
    let mut metadata = machine("private_key_jwt");
    metadata["jwks_uri"] = json!(jwks_server.url());
    let client = register(&server, metadata).await;
    let assertion = sign(&key, &claims(&server, id_of(&client), "skip"));
    expect_json(
        assertion_token(&server, id_of(&client), &assertion).await,
        200,
    )
    .await;
}

async fn issued_secrets_key_every_offered_hmac_alg(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let discovery: Value = server.get_json("/.well-known/openid-configuration").await;
    let offered = discovery["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    let client = register(&server, machine("client_secret_jwt")).await;
    let secret = secret_of(&client);

    // RFC 7518 §3.2: the key is the secret's octets, and HS512 needs 64 of them.
    assert!(secret.len() >= 64, "a secret of {} bytes", secret.len());
    for (name, algorithm) in [
        ("HS256", Algorithm::HS256),
        ("HS384", Algorithm::HS384),
        ("HS512", Algorithm::HS512),
    ] {
        assert!(offered.contains(&json!(name)), "{name} is offered");
        let assertion = sign_hmac(secret, algorithm, &claims(&server, id_of(&client), name));
        expect_json(
            assertion_token(&server, id_of(&client), &assertion).await,
            200,
        )
        .await;
    }
}
