//! The token endpoint, introspection and the JWKS over HTTP: register, get a token with each
//! auth method, verify it with an independent JWS implementation, and every refusal.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openidconnect::JsonWebKey as _;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use registrar_core::secrets::OsRandom;
use registrar_core::token::{
    SigningAlgorithm, SigningKey, generate_signing_key, rotate_signing_key,
};
use std::sync::Arc;

use registrar_core::{Clock as _, ManualClock, SystemClock};
use registrar_server::TokenOptions;
use registrar_testkit::jwks_server::JwksServer;
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_json};

backends!(
    client_secret_basic_and_post_get_tokens_verifiable_against_the_published_jwks,
    private_key_jwt_with_registered_jwks_gets_a_token,
    private_key_jwt_with_jwks_uri_fetches_the_keys_and_follows_their_rotation,
    client_secret_jwt_gets_a_token_with_an_hmac_assertion,
    bad_client_credentials_get_invalid_client,
    bad_assertions_get_invalid_client,
    grant_and_scope_rules_get_their_rfc_errors,
    deleted_client_can_no_longer_get_or_introspect_tokens,
    introspection_reports_active_tokens_and_nothing_about_others,
    key_rotation_keeps_old_tokens_verifiable,
);

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn register(server: &TestServer, metadata: Value) -> Value {
    expect_json(server.register(metadata).await, 201).await
}

fn machine(method: &str) -> Value {
    json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": method, "scope": "openid email"})
}

fn id_of(client: &Value) -> &str {
    client["client_id"].as_str().unwrap()
}

fn secret_of(client: &Value) -> &str {
    client["client_secret"].as_str().unwrap()
}

async fn post_form(server: &TestServer, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    server
        .http()
        .post(server.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn basic_token(
    server: &TestServer,
    client: &Value,
    form: &[(&str, &str)],
) -> reqwest::Response {
    server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(id_of(client), Some(secret_of(client)))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Verifies a JWT with the JWKS fetched over HTTP, using the `openidconnect` crate's JWS code
/// rather than the library Registrar signs with; returns header and claims.
async fn verify_independently(server: &TestServer, token: &str) -> (Value, Value) {
    let jwks: CoreJsonWebKeySet = server.get_json("/.well-known/jwks.json").await;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let algorithm = match header["alg"].as_str().unwrap() {
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "EdDSA" => CoreJwsSigningAlgorithm::EdDsa,
        other => panic!("unexpected alg {other}"),
    };
    let kid = header["kid"].as_str().unwrap();
    let key = jwks
        .keys()
        .iter()
        .find(|key| key.key_id().map(|id| id.as_str()) == Some(kid))
        .unwrap_or_else(|| panic!("kid {kid} is not in the published JWKS"));
    let message = format!("{}.{}", parts[0], parts[1]);
    key.verify_signature(&algorithm, message.as_bytes(), &signature)
        .expect("the signature verifies against the published key");
    (header, claims)
}

async fn client_credentials_token(response: reqwest::Response) -> (String, Value) {
    let pragma = response.headers().get("pragma").cloned();
    let body = expect_json(response, 200).await;
    assert_eq!(pragma.unwrap(), "no-cache");
    assert_eq!(body["token_type"], "Bearer");
    (body["access_token"].as_str().unwrap().to_owned(), body)
}

async fn client_secret_basic_and_post_get_tokens_verifiable_against_the_published_jwks(
    backend: Backend,
) {
    let server = TestServer::spawn(backend).await;
    let basic = register(&server, machine("client_secret_basic")).await;
    let (token, body) = client_credentials_token(
        basic_token(&server, &basic, &[("grant_type", "client_credentials")]).await,
    )
    .await;
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid email");
    let (header, claims) = verify_independently(&server, &token).await;
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["iss"], server.url(""));
    assert_eq!(claims["sub"], id_of(&basic));
    assert_eq!(claims["client_id"], id_of(&basic));
    assert_eq!(claims["aud"], server.url(""));
    assert_eq!(claims["scope"], "openid email");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!((SystemClock.now() - claims["iat"].as_i64().unwrap()).abs() < 60);
    assert!(claims["jti"].as_str().unwrap().len() >= 22);

    let post = register(&server, machine("client_secret_post")).await;
    let response = post_form(
        &server,
        "/connect/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id_of(&post)),
            ("client_secret", secret_of(&post)),
            ("scope", "email"),
        ],
    )
    .await;
    let (token, body) = client_credentials_token(response).await;
    assert_eq!(body["scope"], "email");
    let (_, claims) = verify_independently(&server, &token).await;
    assert_eq!(claims["client_id"], id_of(&post));
    assert_eq!(claims["scope"], "email");

    // Discovery names the endpoints that just worked.
    let discovery: Value = server.get_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["token_endpoint"], server.url("/connect/token"));
    assert_eq!(discovery["jwks_uri"], server.url("/.well-known/jwks.json"));
    assert_eq!(
        discovery["introspection_endpoint"],
        server.url("/connect/introspect")
    );
    let methods = discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    for method in [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
    ] {
        assert!(methods.contains(&json!(method)), "{method}");
    }
    let algs = discovery["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("ES256")) && algs.contains(&json!("HS256")));
}

/// A client key pair: the private key to sign assertions, the public JWK to register.
fn client_key(algorithm: SigningAlgorithm) -> SigningKey {
    generate_signing_key(algorithm, &OsRandom, SystemClock.now()).unwrap()
}

fn encoding_key(key: &SigningKey) -> (EncodingKey, Algorithm) {
    match key.algorithm {
        SigningAlgorithm::Es256 => (
            EncodingKey::from_ec_der(&key.private_pkcs8_der),
            Algorithm::ES256,
        ),
        SigningAlgorithm::EdDsa => (
            EncodingKey::from_ed_der(&key.private_pkcs8_der),
            Algorithm::EdDSA,
        ),
        SigningAlgorithm::Rs256 => {
            panic!("the tests sign client assertions with EC and Ed25519 keys")
        }
    }
}

fn assertion_claims(server: &TestServer, client_id: &str, jti: &str) -> Value {
    let now = SystemClock.now();
    json!({"iss": client_id, "sub": client_id, "aud": server.url("/connect/token"), "iat": now, "exp": now + 60, "jti": jti})
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    let (encoding_key, algorithm) = encoding_key(key);
    let mut header = Header::new(algorithm);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &encoding_key).unwrap()
}

fn sign_hmac(secret: &str, algorithm: Algorithm, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn assertion_token(
    server: &TestServer,
    client_id: &str,
    assertion: &str,
) -> reqwest::Response {
    post_form(
        server,
        "/connect/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    .await
}

fn jwks_of(keys: &[&SigningKey]) -> Value {
    json!({"keys": keys.iter().map(|key| key.public_jwk.clone()).collect::<Vec<_>>()})
}

async fn private_key_jwt_with_registered_jwks_gets_a_token(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    for algorithm in [SigningAlgorithm::Es256, SigningAlgorithm::EdDsa] {
        let key = client_key(algorithm);
        let mut metadata = machine("private_key_jwt");
        metadata["jwks"] = jwks_of(&[&key]);
        let client = register(&server, metadata).await;
        assert!(client.get("client_secret").is_none());
        let assertion = sign(
            &key,
            &assertion_claims(&server, id_of(&client), &format!("jti-{algorithm}")),
        );
        let (token, _) =
            client_credentials_token(assertion_token(&server, id_of(&client), &assertion).await)
                .await;
        let (_, claims) = verify_independently(&server, &token).await;
        assert_eq!(claims["sub"], id_of(&client));
        // The issuer is an accepted audience too (RFC 7523 §3), and client_id may be left out.
        let mut claims = assertion_claims(&server, id_of(&client), "with-issuer-audience");
        claims["aud"] = json!(server.url(""));
        let response = post_form(
            &server,
            "/connect/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &sign(&key, &claims)),
            ],
        )
        .await;
        client_credentials_token(response).await;
    }
}

async fn private_key_jwt_with_jwks_uri_fetches_the_keys_and_follows_their_rotation(
    backend: Backend,
) {
    let first_key = client_key(SigningAlgorithm::Es256);
    let jwks_server = JwksServer::start(jwks_of(&[&first_key])).await;
    let mut options = jwks_server.token_options();
    // Refetch on an unknown kid at once, rather than at most every 10 s.
    options.jwks_cache.refetch_interval = std::time::Duration::ZERO;
    let server = TestServer::spawn_with_tokens(backend, |_| {}, options).await;
    let mut metadata = machine("private_key_jwt");
    metadata["jwks_uri"] = json!(jwks_server.url());
    let client = register(&server, metadata).await;
    let assertion = sign(
        &first_key,
        &assertion_claims(&server, id_of(&client), "uri-1"),
    );
    client_credentials_token(assertion_token(&server, id_of(&client), &assertion).await).await;
    assert_eq!(jwks_server.hits(), 1);
    // Cached: a second token needs no fetch.
    let assertion = sign(
        &first_key,
        &assertion_claims(&server, id_of(&client), "uri-2"),
    );
    client_credentials_token(assertion_token(&server, id_of(&client), &assertion).await).await;
    assert_eq!(jwks_server.hits(), 1);
    // The client rotates its keys; an assertion with the new kid makes the server fetch again.
    let second_key = client_key(SigningAlgorithm::Es256);
    jwks_server.set_jwks(jwks_of(&[&second_key]));
    let assertion = sign(
        &second_key,
        &assertion_claims(&server, id_of(&client), "uri-3"),
    );
    client_credentials_token(assertion_token(&server, id_of(&client), &assertion).await).await;
    assert_eq!(jwks_server.hits(), 2);
}

async fn client_secret_jwt_gets_a_token_with_an_hmac_assertion(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, machine("client_secret_jwt")).await;
    let secret = secret_of(&client);
    let assertion = sign_hmac(
        secret,
        Algorithm::HS256,
        &assertion_claims(&server, id_of(&client), "hmac-1"),
    );
    let (token, _) =
        client_credentials_token(assertion_token(&server, id_of(&client), &assertion).await).await;
    verify_independently(&server, &token).await;
    // The secret is stored encrypted for this method, and hashed as for every method.
    let client_id = registrar_core::ClientId::parse(id_of(&client)).unwrap();
    let stored = server
        .store()
        .get_client(&client_id)
        .await
        .unwrap()
        .unwrap()
        .secret
        .unwrap();
    assert!(
        stored
            .encrypted
            .as_deref()
            .is_some_and(|sealed| !sealed.contains(secret))
    );
    // A wrong secret does not verify.
    let forged = sign_hmac(
        "not-the-secret-at-all-not-the-secret-at-all",
        Algorithm::HS256,
        &assertion_claims(&server, id_of(&client), "hmac-2"),
    );
    expect_error(
        assertion_token(&server, id_of(&client), &forged).await,
        401,
        "invalid_client",
    )
    .await;
}

async fn bad_client_credentials_get_invalid_client(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let basic = register(&server, machine("client_secret_basic")).await;
    let form = [("grant_type", "client_credentials")];
    // Wrong secret, over HTTP Basic: 401 with a Basic challenge.
    let response = server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(id_of(&basic), Some("wrong-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"registrar\""
    );
    expect_error(response, 401, "invalid_client").await;
    // Unknown client: the same answer.
    let response = server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth("no-such-client", Some("x"))
        .form(&form)
        .send()
        .await
        .unwrap();
    expect_error(response, 401, "invalid_client").await;
    // The right secret with the wrong method: the answer does not name the registered one.
    let response = post_form(
        &server,
        "/connect/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id_of(&basic)),
            ("client_secret", secret_of(&basic)),
        ],
    )
    .await;
    let description = expect_error(response, 401, "invalid_client").await;
    assert_eq!(description, "client authentication failed");
    // No credentials at all.
    expect_error(
        post_form(&server, "/connect/token", &form).await,
        401,
        "invalid_client",
    )
    .await;
    // Two methods at once.
    let response = server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(id_of(&basic), Some(secret_of(&basic)))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", secret_of(&basic)),
            ("client_id", id_of(&basic)),
        ])
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_request").await;
    // Malformed Basic headers never make a 5xx.
    for header in ["Basic", "Basic !!!", "Basic Zm9v", "Bearer x", "Basic w6k="] {
        let response = server
            .http()
            .post(server.url("/connect/token"))
            .header("authorization", header)
            .form(&form)
            .send()
            .await
            .unwrap();
        expect_error(response, 401, "invalid_client").await;
    }
    // An expired secret, on a clock the test moves.
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let expiring = TestServer::builder(Backend::Sqlite)
        .settings(|settings| settings.client_secret_lifetime = 60)
        .clock(clock.clone())
        .spawn()
        .await;
    let client = register(&expiring, machine("client_secret_basic")).await;
    let expires_at = client["client_secret_expires_at"].as_i64().unwrap();
    assert_eq!(expires_at, clock.now() + 60);
    basic_token(&expiring, &client, &form)
        .await
        .error_for_status()
        .unwrap();
    clock.advance(60);
    let description = expect_error(
        basic_token(&expiring, &client, &form).await,
        401,
        "invalid_client",
    )
    .await;
    assert!(description.contains("expired"), "{description}");
}

async fn bad_assertions_get_invalid_client(backend: Backend) {
    // More bad assertions for one client than the failure limit lets through.
    let server = TestServer::spawn_unlimited(backend).await;
    let key = client_key(SigningAlgorithm::Es256);
    let mut metadata = machine("private_key_jwt");
    metadata["jwks"] = jwks_of(&[&key]);
    let client = register(&server, metadata).await;
    let client_id = id_of(&client);
    let now = SystemClock.now();

    let mut expired = assertion_claims(&server, client_id, "expired");
    expired["iat"] = json!(now - 600);
    expired["exp"] = json!(now - 300);
    let mut far_future = assertion_claims(&server, client_id, "far-future");
    far_future["exp"] = json!(now + 3600);
    let mut wrong_audience = assertion_claims(&server, client_id, "wrong-aud");
    wrong_audience["aud"] = json!("https://elsewhere.example/token");
    let mut wrong_issuer = assertion_claims(&server, client_id, "wrong-iss");
    wrong_issuer["iss"] = json!("someone-else");
    let mut no_jti = assertion_claims(&server, client_id, "x");
    no_jti.as_object_mut().unwrap().remove("jti");
    let other_key = client_key(SigningAlgorithm::Es256);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(assertion_claims(&server, client_id, "none").to_string());
    let unsigned = format!("{header}.{payload}.");
    // Alg confusion: HS256 keyed with the registered public key.
    let public_key_bytes = key.public_jwk.to_string();
    let confused = sign_hmac(
        &public_key_bytes,
        Algorithm::HS256,
        &assertion_claims(&server, client_id, "confused"),
    );
    for (name, assertion) in [
        ("expired", sign(&key, &expired)),
        ("far future", sign(&key, &far_future)),
        ("wrong audience", sign(&key, &wrong_audience)),
        ("wrong issuer", sign(&key, &wrong_issuer)),
        ("no jti", sign(&key, &no_jti)),
        (
            "other key",
            sign(&other_key, &assertion_claims(&server, client_id, "other")),
        ),
        ("alg none", unsigned),
        ("hs256 for private_key_jwt", confused),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let response = assertion_token(&server, client_id, &assertion).await;
        assert_eq!(response.status().as_u16(), 401, "{name}");
        expect_error(response, 401, "invalid_client").await;
    }
    // Replay: the same jti twice.
    let assertion = sign(&key, &assertion_claims(&server, client_id, "once"));
    client_credentials_token(assertion_token(&server, client_id, &assertion).await).await;
    let description = expect_error(
        assertion_token(&server, client_id, &assertion).await,
        401,
        "invalid_client",
    )
    .await;
    assert!(description.contains("already used"), "{description}");
    // A wrong assertion type.
    let response = post_form(
        &server,
        "/connect/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:other"),
            (
                "client_assertion",
                &sign(&key, &assertion_claims(&server, client_id, "t")),
            ),
        ],
    )
    .await;
    expect_error(response, 401, "invalid_client").await;
}

async fn grant_and_scope_rules_get_their_rfc_errors(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, machine("client_secret_basic")).await;
    let description = expect_error(
        basic_token(
            &server,
            &client,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "openid profile"),
            ],
        )
        .await,
        400,
        "invalid_scope",
    )
    .await;
    assert!(description.contains("profile"), "{description}");
    expect_error(
        basic_token(&server, &client, &[("grant_type", "password")]).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    expect_error(
        basic_token(&server, &client, &[]).await,
        400,
        "invalid_request",
    )
    .await;
    let repeated = server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(id_of(&client), Some(secret_of(&client)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    expect_error(repeated, 400, "invalid_request").await;
    let json_body = server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(id_of(&client), Some(secret_of(&client)))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    expect_error(json_body, 400, "invalid_request").await;
    // A client registered without the client_credentials grant.
    let web = register(
        &server,
        json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["authorization_code"]}),
    )
    .await;
    expect_error(
        basic_token(&server, &web, &[("grant_type", "client_credentials")]).await,
        400,
        "unauthorized_client",
    )
    .await;
    // A public client cannot use the grant.
    let public = register(
        &server,
        json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "none"}),
    )
    .await;
    let response = post_form(
        &server,
        "/connect/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id_of(&public)),
        ],
    )
    .await;
    expect_error(response, 400, "unauthorized_client").await;
    // The client's own access_token_lifetime applies.
    let mut short = machine("client_secret_basic");
    short["access_token_lifetime"] = json!(120);
    let short = register(&server, short).await;
    let (_, body) = client_credentials_token(
        basic_token(&server, &short, &[("grant_type", "client_credentials")]).await,
    )
    .await;
    assert_eq!(body["expires_in"], 120);
}

async fn deleted_client_can_no_longer_get_or_introspect_tokens(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, machine("client_secret_basic")).await;
    let resource_server = register(&server, machine("client_secret_basic")).await;
    let (token, _) = client_credentials_token(
        basic_token(&server, &client, &[("grant_type", "client_credentials")]).await,
    )
    .await;
    let response = server
        .http()
        .delete(client["registration_client_uri"].as_str().unwrap())
        .bearer_auth(client["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    expect_error(
        basic_token(&server, &client, &[("grant_type", "client_credentials")]).await,
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(
        introspection(&server, &resource_server, &token).await,
        json!({"active": false})
    );
    // The deleted client itself can no longer authenticate to introspect.
    expect_error(
        introspect(&server, &client, &token).await,
        401,
        "invalid_client",
    )
    .await;
}

async fn introspect(server: &TestServer, client: &Value, token: &str) -> reqwest::Response {
    server
        .http()
        .post(server.url("/connect/introspect"))
        .basic_auth(id_of(client), Some(secret_of(client)))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

/// The introspection response for `token`, asked by `client` over HTTP Basic.
async fn introspection(server: &TestServer, client: &Value, token: &str) -> Value {
    expect_json(introspect(server, client, token).await, 200).await
}

async fn introspection_reports_active_tokens_and_nothing_about_others(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::builder(backend)
        .clock(clock.clone())
        .spawn()
        .await;
    let client = register(&server, machine("client_secret_basic")).await;
    let resource_server = register(&server, machine("client_secret_basic")).await;
    let (token, _) = client_credentials_token(
        basic_token(&server, &client, &[("grant_type", "client_credentials")]).await,
    )
    .await;
    let active = introspection(&server, &resource_server, &token).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], id_of(&client));
    assert_eq!(active["sub"], id_of(&client));
    assert_eq!(active["scope"], "openid email");
    assert_eq!(active["iss"], server.url(""));
    assert_eq!(active["token_type"], "Bearer");
    assert!(active["exp"].as_i64().unwrap() > SystemClock.now());

    let mut tampered = token.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    let foreign_key = client_key(SigningAlgorithm::Es256);
    let (foreign_encoding, _) = encoding_key(&foreign_key);
    let mut foreign_header = Header::new(Algorithm::ES256);
    foreign_header.kid = Some(foreign_key.kid.clone());
    foreign_header.typ = Some("at+jwt".to_owned());
    let (_, claims) = verify_independently(&server, &token).await;
    let foreign = jsonwebtoken::encode(&foreign_header, &claims, &foreign_encoding).unwrap();
    for inactive in [tampered.as_str(), "garbage", "a.b.c", foreign.as_str()] {
        assert_eq!(
            introspection(&server, &resource_server, inactive).await,
            json!({"active": false}),
            "{inactive}"
        );
    }
    // An expired token.
    let mut short = machine("client_secret_basic");
    short["access_token_lifetime"] = json!(1);
    let short = register(&server, short).await;
    let (short_token, _) = client_credentials_token(
        basic_token(&server, &short, &[("grant_type", "client_credentials")]).await,
    )
    .await;
    assert_eq!(
        introspection(&server, &resource_server, &short_token).await["active"],
        true
    );
    clock.advance(1);
    assert_eq!(
        introspection(&server, &resource_server, &short_token).await,
        json!({"active": false})
    );
    // Introspection needs client authentication and a token parameter.
    let anonymous = post_form(&server, "/connect/introspect", &[("token", &token)]).await;
    expect_error(anonymous, 401, "invalid_client").await;
    let missing = server
        .http()
        .post(server.url("/connect/introspect"))
        .basic_auth(id_of(&resource_server), Some(secret_of(&resource_server)))
        .form(&[("other", "x")])
        .send()
        .await
        .unwrap();
    expect_error(missing, 400, "invalid_request").await;
}

async fn key_rotation_keeps_old_tokens_verifiable(backend: Backend) {
    let options = TokenOptions {
        key_reload_interval: Some(0),
        ..TokenOptions::default()
    };
    let server = TestServer::spawn_with_tokens(backend, |_| {}, options).await;
    let client = register(&server, machine("client_secret_basic")).await;
    let resource_server = register(&server, machine("client_secret_basic")).await;
    let (old_token, _) = client_credentials_token(
        basic_token(&server, &client, &[("grant_type", "client_credentials")]).await,
    )
    .await;
    let (old_header, _) = verify_independently(&server, &old_token).await;

    let key_config = server
        .state
        .tokens
        .key_ring
        .current(server.pipeline.services())
        .await
        .config()
        .clone();
    let rotated = rotate_signing_key(
        server.store().as_ref(),
        server.pipeline.services().cipher(),
        &key_config,
        &OsRandom,
        SystemClock.now(),
    )
    .await
    .unwrap();
    // Every algorithm got a new key; the first is the access token key.
    assert_eq!(rotated.len(), key_config.algorithms().len());
    assert_eq!(rotated[0].algorithm, SigningAlgorithm::Es256);
    let rotated = &rotated[0];
    let (new_token, _) = client_credentials_token(
        basic_token(&server, &client, &[("grant_type", "client_credentials")]).await,
    )
    .await;
    let (new_header, _) = verify_independently(&server, &new_token).await;
    assert_eq!(new_header["kid"], rotated.kid);
    assert_ne!(new_header["kid"], old_header["kid"]);
    // The old key is still published, so the old token still verifies, independently and by
    // introspection.
    verify_independently(&server, &old_token).await;
    assert_eq!(
        introspection(&server, &resource_server, &old_token).await["active"],
        true
    );
    let jwks: Value = server.get_json("/.well-known/jwks.json").await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_header["kid"].as_str().unwrap()) && kids.contains(&rotated.kid.as_str())
    );
    for key in jwks["keys"].as_array().unwrap() {
        assert!(key.get("d").is_none(), "no private members are published");
        assert_eq!(key["use"], "sig");
    }
}
