//! Software statements (RFC 7591 §2.3) over HTTP: signed by keys the test controls, accepted
//! from trusted issuers only, merged over the body, and every way a statement is refused.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey};
use registrar_core::policy::{Binding, Policies, Policy};
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::trust::{
    IssuerKeys, StatementIssuer, StatementMode, StatementSettings, TrustedIssuer,
};
use registrar_core::{ClientId, Clock as _, ManualClock, Settings, SystemClock};
use registrar_testkit::jwks_server::JwksServer;
use registrar_testkit::{Backend, TestServer, backends};
use reqwest::Method;
use serde_json::{Value, json};

use super::keys::{TestKey, jwks, keys, sign, sign_raw, unsigned, with_claims};
use super::support::{
    id_of, manage, policy_token, post_registration, token_of, update_body, uri_of, web_app,
};
use crate::{expect_error, expect_invalid_token, expect_json};

backends!(
    accepted_statement_claims_override_the_body_and_come_back_unchanged,
    statement_of_an_untrusted_issuer_is_unapproved,
    expired_forged_and_unsafe_statements_are_invalid,
    single_use_statement_cannot_be_replayed,
    statement_headers_cannot_bring_their_own_key,
    software_ids_allow_list_approves_only_listed_software,
    require_mode_refuses_a_registration_without_a_statement,
    ignore_mode_drops_the_statement_and_its_claims,
    authorizing_statement_registers_without_a_token,
    statement_of_a_non_authorizing_issuer_needs_a_token,
    update_with_an_expired_statement_is_invalid,
    statement_bound_policy_requires_a_statement_on_every_update,
    max_age_refuses_old_statements_and_those_without_iat,
    statement_issuer_keys_are_fetched_from_its_jwks_uri,
    statement_bound_policy_refuses_an_update_with_another_issuers_statement,
    dry_run_does_not_use_up_a_single_use_statement,
);

/// The trusted software directory: one key of each algorithm.
const DIRECTORY: &str = "https://directory.example";
/// A second trusted issuer with the same keys, set up differently per test.
const SECOND: &str = "https://second.example";

fn issuer(name: &str, keys: &[&TestKey], algs: &[&str]) -> StatementIssuer {
    StatementIssuer {
        trusted: TrustedIssuer {
            issuer: name.to_owned(),
            keys: IssuerKeys::Inline(jwks(keys)),
            algs: algs.iter().map(|alg| (*alg).to_owned()).collect(),
        },
        authorizes_registration: false,
        single_use: false,
        software_ids: None,
        max_age: None,
    }
}

/// `name`, trusting the directory's keys and algorithms.
fn directory_like(name: &str) -> StatementIssuer {
    let keys = keys();
    issuer(
        name,
        &[&keys.es256, &keys.eddsa, &keys.rs256],
        &["ES256", "EdDSA", "RS256"],
    )
}

fn directory() -> StatementIssuer {
    directory_like(DIRECTORY)
}

/// Settings that treat statements as `mode` says, trusting `issuers`.
fn statements(
    mode: StatementMode,
    issuers: Vec<StatementIssuer>,
) -> impl FnOnce(&mut Settings) + Send + 'static {
    move |settings| {
        settings.software_statements = StatementSettings {
            mode,
            issuers,
            leeway: 60,
        }
    }
}

async fn accepting(backend: Backend, issuers: Vec<StatementIssuer>) -> TestServer {
    TestServer::spawn_with(backend, statements(StatementMode::Accept, issuers)).await
}

/// Claims of a statement `iss` issued at `now`, valid for ten minutes, with a fresh `jti`.
fn claims_at(iss: &str, now: i64) -> Value {
    json!({
        "iss": iss, "iat": now, "exp": now + 600,
        "jti": random_token(&OsRandom, 16), "software_id": "example-app",
    })
}

fn claims(iss: &str) -> Value {
    claims_at(iss, SystemClock.now())
}

/// A statement of the directory, signed with its ES256 key.
fn directory_statement() -> String {
    sign(&keys().es256, &claims(DIRECTORY))
}

fn with_statement(mut body: Value, statement: &str) -> Value {
    body["software_statement"] = json!(statement);
    body
}

fn client_id_of(client: &Value) -> ClientId {
    ClientId::parse(id_of(client)).unwrap()
}

async fn accepted_statement_claims_override_the_body_and_come_back_unchanged(backend: Backend) {
    let server = accepting(backend, vec![directory()]).await;
    let keys = keys();
    for key in [&keys.es256, &keys.eddsa, &keys.rs256] {
        let mut signed = claims(DIRECTORY);
        signed["client_name"] = json!(format!("Signed Name {:?}", key.algorithm));
        signed["software_id"] = json!("signed-app");
        signed["redirect_uris"] = json!(["https://signed.example.com/cb"]);
        // Members only the server sets are never taken from a statement.
        signed["client_id"] = json!("chosen-by-the-statement");
        let statement = sign(key, &signed);
        let body = json!({
            "redirect_uris": ["https://body.example.com/cb"],
            "client_name": "Body Name",
            "software_id": "body-app",
            "contacts": ["ops@example.com"],
            "software_statement": statement,
        });
        let registered = expect_json(server.register(body).await, 201).await;
        assert_eq!(
            registered["client_name"], signed["client_name"],
            "{}",
            key.kid
        );
        assert_eq!(registered["software_id"], "signed-app");
        assert_eq!(
            registered["redirect_uris"],
            json!(["https://signed.example.com/cb"])
        );
        assert_eq!(registered["contacts"], json!(["ops@example.com"]));
        assert_eq!(registered["software_statement"], statement);
        assert_ne!(registered["client_id"], "chosen-by-the-statement");
        // The registration keeps the merged values and the statement.
        let read = expect_json(
            manage(
                &server,
                Method::GET,
                uri_of(&registered),
                token_of(&registered),
                None,
            )
            .await,
            200,
        )
        .await;
        assert_eq!(read["client_name"], signed["client_name"]);
        assert_eq!(read["software_statement"], statement);
    }
}

async fn statement_of_an_untrusted_issuer_is_unapproved(backend: Backend) {
    let server = accepting(backend, vec![directory()]).await;
    let keys = keys();
    for statement in [
        sign(&keys.attacker, &claims("https://stranger.example")),
        // Signed by a key the server trusts, but for another issuer.
        sign(&keys.es256, &claims("https://stranger.example")),
    ] {
        let description = expect_error(
            server.register(with_statement(web_app(), &statement)).await,
            400,
            "unapproved_software_statement",
        )
        .await;
        assert!(
            description.contains("'https://stranger.example'"),
            "{description}"
        );
    }
    assert!(server.store().list_clients().await.unwrap().is_empty());
}

async fn expired_forged_and_unsafe_statements_are_invalid(backend: Backend) {
    let only_es256 = issuer(SECOND, &[&keys().es256], &["ES256"]);
    let server = accepting(backend, vec![directory(), only_es256]).await;
    let keys = keys();
    let now = SystemClock.now();
    let es256_header = json!({"alg": "ES256", "kid": keys.es256.kid});
    let with = |patch: Value| {
        let mut claims = claims(DIRECTORY);
        for (name, value) in patch.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    };
    let good = directory_statement();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            sign(
                &keys.es256,
                &with(json!({"iat": now - 7200, "exp": now - 3600})),
            ),
            "expired",
        ),
        (
            "not yet valid",
            sign(&keys.es256, &with(json!({"nbf": now + 3600}))),
            "not valid yet",
        ),
        (
            "issued in the future",
            sign(&keys.es256, &with(json!({"iat": now + 3600}))),
            "future",
        ),
        (
            "alg the issuer does not use",
            sign(&keys.eddsa, &claims(SECOND)),
            "alg",
        ),
        (
            "asymmetric alg not listed for the issuer",
            sign_raw(
                &json!({"alg": "PS256", "kid": keys.rs256.kid}),
                &claims(DIRECTORY),
                &keys.rs256.encoding_key,
                Algorithm::PS256,
            ),
            "alg",
        ),
        (
            "alg none without a signature",
            unsigned(&json!({"alg": "none"}), &claims(DIRECTORY), ""),
            "alg none",
        ),
        (
            "alg none with a signature",
            unsigned(
                &json!({"alg": "none", "kid": keys.es256.kid}),
                &claims(DIRECTORY),
                "c2lnbmF0dXJl",
            ),
            "alg none",
        ),
        (
            "HMAC keyed with the public key",
            sign_raw(
                &json!({"alg": "HS256", "kid": keys.es256.kid}),
                &claims(DIRECTORY),
                &EncodingKey::from_secret(&keys.es256.public_key_der),
                Algorithm::HS256,
            ),
            "HMAC",
        ),
        (
            "HMAC keyed with the public JWK",
            sign_raw(
                &json!({"alg": "HS256", "kid": keys.es256.kid}),
                &claims(DIRECTORY),
                &EncodingKey::from_secret(keys.es256.public_jwk.to_string().as_bytes()),
                Algorithm::HS256,
            ),
            "HMAC",
        ),
        (
            "claims changed after signing",
            with_claims(&good, &with(json!({"software_id": "tampered-app"}))),
            "signature",
        ),
        (
            "signed by another key under the trusted kid",
            sign_raw(
                &es256_header,
                &claims(DIRECTORY),
                &keys.attacker.encoding_key,
                Algorithm::ES256,
            ),
            "signature",
        ),
        (
            "crit header",
            sign_raw(
                &json!({"alg": "ES256", "kid": keys.es256.kid, "crit": ["exp"], "exp": now + 600}),
                &claims(DIRECTORY),
                &keys.es256.encoding_key,
                Algorithm::ES256,
            ),
            "crit",
        ),
        ("not a JWT", "not-a-jwt".to_owned(), "not a signed jwt"),
    ];
    for (case, statement, reason) in cases {
        let response = server.register(with_statement(web_app(), &statement)).await;
        assert_eq!(response.status().as_u16(), 400, "{case}");
        let description = expect_error(response, 400, "invalid_software_statement").await;
        assert!(description.contains(reason), "{case}: {description}");
    }
    assert!(server.store().list_clients().await.unwrap().is_empty());
    // The same server takes a good statement: the refusals above were about the statements.
    expect_json(server.register(with_statement(web_app(), &good)).await, 201).await;
}

async fn single_use_statement_cannot_be_replayed(backend: Backend) {
    let once = StatementIssuer {
        single_use: true,
        ..directory_like(SECOND)
    };
    let server = accepting(backend, vec![directory(), once]).await;
    let keys = keys();
    let single = sign(&keys.es256, &claims(SECOND));
    expect_json(
        server.register(with_statement(web_app(), &single)).await,
        201,
    )
    .await;
    let description = expect_error(
        server.register(with_statement(web_app(), &single)).await,
        400,
        "invalid_software_statement",
    )
    .await;
    assert!(description.contains("already used"), "{description}");
    // A single-use issuer's statements must carry a jti.
    let mut without_jti = claims(SECOND);
    without_jti.as_object_mut().unwrap().remove("jti");
    let description = expect_error(
        server
            .register(with_statement(web_app(), &sign(&keys.es256, &without_jti)))
            .await,
        400,
        "invalid_software_statement",
    )
    .await;
    assert!(description.contains("jti"), "{description}");
    // The directory's statements may be presented again.
    let reusable = directory_statement();
    for _ in 0..2 {
        expect_json(
            server.register(with_statement(web_app(), &reusable)).await,
            201,
        )
        .await;
    }
    assert_eq!(server.store().list_clients().await.unwrap().len(), 3);
}

async fn statement_headers_cannot_bring_their_own_key(backend: Backend) {
    let keys = keys();
    let attacker_keys = JwksServer::start(jwks(&[&keys.attacker])).await;
    let server = TestServer::builder(backend)
        .tokens(attacker_keys.token_options())
        .settings(statements(StatementMode::Accept, vec![directory()]))
        .spawn()
        .await;
    let jku = attacker_keys.url();
    for header in [
        json!({"alg": "ES256", "kid": keys.attacker.kid, "jku": jku}),
        json!({"alg": "ES256", "kid": keys.es256.kid, "jku": jku}),
        json!({"alg": "ES256", "jwk": keys.attacker.public_jwk}),
        json!({"alg": "ES256", "kid": keys.attacker.kid, "jwk": keys.attacker.public_jwk}),
        json!({"alg": "ES256", "kid": keys.es256.kid, "jwk": keys.attacker.public_jwk}),
    ] {
        let statement = sign_raw(
            &header,
            &claims(DIRECTORY),
            &keys.attacker.encoding_key,
            Algorithm::ES256,
        );
        let response = server.register(with_statement(web_app(), &statement)).await;
        assert_eq!(response.status().as_u16(), 400, "{header}");
        expect_error(response, 400, "invalid_software_statement").await;
    }
    assert_eq!(attacker_keys.hits(), 0, "the jku was never fetched");
    assert!(server.store().list_clients().await.unwrap().is_empty());
}

async fn software_ids_allow_list_approves_only_listed_software(backend: Backend) {
    let listed = StatementIssuer {
        software_ids: Some(vec!["approved-app".to_owned()]),
        ..directory()
    };
    let server = accepting(backend, vec![listed]).await;
    let key = &keys().es256;
    let mut approved = claims(DIRECTORY);
    approved["software_id"] = json!("approved-app");
    expect_json(
        server
            .register(with_statement(web_app(), &sign(key, &approved)))
            .await,
        201,
    )
    .await;
    let mut other = claims(DIRECTORY);
    other["software_id"] = json!("other-app");
    let mut anonymous = claims(DIRECTORY);
    anonymous.as_object_mut().unwrap().remove("software_id");
    for (case, statement) in [("other-app", other), ("no software_id", anonymous)] {
        let response = server
            .register(with_statement(web_app(), &sign(key, &statement)))
            .await;
        assert_eq!(response.status().as_u16(), 400, "{case}");
        expect_error(response, 400, "unapproved_software_statement").await;
    }
    assert_eq!(server.store().list_clients().await.unwrap().len(), 1);
}

async fn require_mode_refuses_a_registration_without_a_statement(backend: Backend) {
    let server = TestServer::spawn_with(
        backend,
        statements(StatementMode::Require, vec![directory()]),
    )
    .await;
    let description = expect_error(
        server.register(web_app()).await,
        400,
        "invalid_software_statement",
    )
    .await;
    assert!(description.contains("required"), "{description}");
    let mut not_a_string = web_app();
    not_a_string["software_statement"] = json!(42);
    expect_error(
        server.register(not_a_string).await,
        400,
        "invalid_software_statement",
    )
    .await;
    assert!(server.store().list_clients().await.unwrap().is_empty());
    let statement = directory_statement();
    let registered = expect_json(
        server.register(with_statement(web_app(), &statement)).await,
        201,
    )
    .await;
    assert_eq!(registered["software_statement"], statement);
}

async fn ignore_mode_drops_the_statement_and_its_claims(backend: Backend) {
    let server = TestServer::spawn_with(
        backend,
        statements(StatementMode::Ignore, vec![directory()]),
    )
    .await;
    let mut signed = claims(DIRECTORY);
    signed["client_name"] = json!("Signed Name");
    signed["software_id"] = json!("signed-app");
    let statement = sign(&keys().es256, &signed);
    let registered = expect_json(
        server.register(with_statement(web_app(), &statement)).await,
        201,
    )
    .await;
    assert_eq!(registered["client_name"], "Web App");
    assert!(registered.get("software_id").is_none(), "{registered}");
    assert!(
        registered.get("software_statement").is_none(),
        "{registered}"
    );
    let read = expect_json(
        manage(
            &server,
            Method::GET,
            uri_of(&registered),
            token_of(&registered),
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(read.get("software_statement").is_none(), "{read}");
    // Unread, so not even a malformed one is refused.
    expect_json(
        server
            .register(with_statement(web_app(), "not-a-jwt"))
            .await,
        201,
    )
    .await;
}

async fn authorizing_statement_registers_without_a_token(backend: Backend) {
    let authorizing = StatementIssuer {
        authorizes_registration: true,
        ..directory()
    };
    let server = accepting(backend, vec![authorizing, directory_like(SECOND)]).await;
    let registered = expect_json(
        post_registration(
            &server,
            None,
            &with_statement(web_app(), &directory_statement()),
        )
        .await,
        201,
    )
    .await;
    // The client it made manages itself as any other.
    expect_json(
        manage(
            &server,
            Method::GET,
            uri_of(&registered),
            token_of(&registered),
            None,
        )
        .await,
        200,
    )
    .await;
    // Without a statement, or with one of an issuer that only vouches for metadata, a request
    // without a token is still unauthorized.
    expect_invalid_token(post_registration(&server, None, &web_app()).await).await;
    // With neither, no rule runs: an invalid body is not reported to an unauthorized caller.
    let invalid = json!({"redirect_uris": ["https://app.example.com/cb#fragment"]});
    expect_invalid_token(post_registration(&server, None, &invalid).await).await;
    let vouching = sign(&keys().es256, &claims(SECOND));
    expect_invalid_token(
        post_registration(&server, None, &with_statement(web_app(), &vouching)).await,
    )
    .await;
    assert_eq!(server.store().list_clients().await.unwrap().len(), 1);
    // With an initial access token, that statement is fine.
    expect_json(
        server.register(with_statement(web_app(), &vouching)).await,
        201,
    )
    .await;
}

async fn statement_of_a_non_authorizing_issuer_needs_a_token(backend: Backend) {
    let server = accepting(backend, vec![directory()]).await;
    let statement = directory_statement();
    expect_invalid_token(
        post_registration(&server, None, &with_statement(web_app(), &statement)).await,
    )
    .await;
    assert!(server.store().list_clients().await.unwrap().is_empty());
    expect_json(
        server.register(with_statement(web_app(), &statement)).await,
        201,
    )
    .await;
}

async fn update_with_an_expired_statement_is_invalid(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::builder(backend)
        .clock(clock.clone())
        .settings(statements(StatementMode::Accept, vec![directory()]))
        .spawn()
        .await;
    let statement = sign(&keys().es256, &claims_at(DIRECTORY, clock.now()));
    let client = expect_json(
        server.register(with_statement(web_app(), &statement)).await,
        201,
    )
    .await;
    clock.advance(3600);
    let mut update = update_body(&client, with_statement(web_app(), &statement));
    update["client_name"] = json!("Renamed");
    let description = expect_error(
        manage(
            &server,
            Method::PUT,
            uri_of(&client),
            token_of(&client),
            Some(&update),
        )
        .await,
        400,
        "invalid_software_statement",
    )
    .await;
    assert!(description.contains("expired"), "{description}");
    // Refused before anything changed: the token still works and the name is the old one.
    let read = expect_json(
        manage(
            &server,
            Method::GET,
            uri_of(&client),
            token_of(&client),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(read["client_name"], "Web App");
    // Outside a statement-bound policy an update may leave the statement out.
    let without = update_body(&client, web_app());
    let updated = expect_json(
        manage(
            &server,
            Method::PUT,
            uri_of(&client),
            token_of(&client),
            Some(&without),
        )
        .await,
        200,
    )
    .await;
    assert!(updated.get("software_statement").is_none(), "{updated}");
}

/// A server trusting `issuers`, whose policy `partners` is bound to the directory's statements.
async fn partners_server(backend: Backend, issuers: Vec<StatementIssuer>) -> TestServer {
    TestServer::builder(backend)
        .settings(statements(StatementMode::Accept, issuers))
        .settings(|settings| {
            settings.policies = Policies::new(vec![Policy {
                bind: vec![Binding::SoftwareStatement {
                    issuer: Some(DIRECTORY.to_owned()),
                    software_id: None,
                }],
                ..Policy::unrestricted("partners")
            }])
            .unwrap();
        })
        .spawn()
        .await
}

async fn statement_bound_policy_requires_a_statement_on_every_update(backend: Backend) {
    let server = partners_server(backend, vec![directory()]).await;
    let partner = expect_json(
        server
            .register(with_statement(web_app(), &directory_statement()))
            .await,
        201,
    )
    .await;
    let stored = server
        .store()
        .get_client(&client_id_of(&partner))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.policy.as_deref(), Some("partners"));

    let description = expect_error(
        manage(
            &server,
            Method::PUT,
            uri_of(&partner),
            token_of(&partner),
            Some(&update_body(&partner, web_app())),
        )
        .await,
        400,
        "invalid_software_statement",
    )
    .await;
    assert!(description.contains("policy 'partners'"), "{description}");
    let with_fresh = update_body(&partner, with_statement(web_app(), &directory_statement()));
    let updated = expect_json(
        manage(
            &server,
            Method::PUT,
            uri_of(&partner),
            token_of(&partner),
            Some(&with_fresh),
        )
        .await,
        200,
    )
    .await;
    assert_ne!(
        updated["registration_access_token"],
        partner["registration_access_token"]
    );

    // A client registered without a statement is not bound, and updates without one.
    let plain = expect_json(server.register(web_app()).await, 201).await;
    let stored = server
        .store()
        .get_client(&client_id_of(&plain))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.policy.as_deref(), Some("default"));
    expect_json(
        manage(
            &server,
            Method::PUT,
            uri_of(&plain),
            token_of(&plain),
            Some(&update_body(&plain, web_app())),
        )
        .await,
        200,
    )
    .await;
}

/// A dry run stores nothing, the jti of a single-use issuer's statement included: the real
/// registration that follows may still use the statement.
async fn dry_run_does_not_use_up_a_single_use_statement(backend: Backend) {
    let once = StatementIssuer {
        single_use: true,
        ..directory()
    };
    let server = accepting(backend, vec![once]).await;
    let statement = directory_statement();
    let body = with_statement(web_app(), &statement);
    let token = policy_token(&server, None, Some(1)).await;
    let dry_run = server
        .http()
        .post(server.url("/connect/dcr?dry_run=true"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let answer = expect_json(dry_run, 200).await;
    assert_eq!(answer["software_statement"], statement);
    // Nothing was registered, so the statement must still register the client for real.
    expect_json(post_registration(&server, Some(&token), &body).await, 201).await;
}

/// The policy `partners` governs clients registered with the directory's statements, and asks
/// every update for a statement that would select it: one of another trusted issuer is refused,
/// and none of its claims (a new `software_id` and `client_name`) reach the partner client.
async fn statement_bound_policy_refuses_an_update_with_another_issuers_statement(backend: Backend) {
    let server = partners_server(backend, vec![directory(), directory_like(SECOND)]).await;
    let partner = expect_json(
        server
            .register(with_statement(web_app(), &directory_statement()))
            .await,
        201,
    )
    .await;
    let mut foreign = claims(SECOND);
    foreign["software_id"] = json!("different-app");
    foreign["client_name"] = json!("Taken over");
    let update = update_body(
        &partner,
        with_statement(web_app(), &sign(&keys().es256, &foreign)),
    );
    let response = manage(
        &server,
        Method::PUT,
        uri_of(&partner),
        token_of(&partner),
        Some(&update),
    )
    .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(
        [
            "invalid_software_statement",
            "unapproved_software_statement"
        ]
        .contains(&body["error"].as_str().unwrap()),
        "{body}"
    );
    let read = expect_json(
        manage(
            &server,
            Method::GET,
            uri_of(&partner),
            token_of(&partner),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(read["software_id"], "example-app");
}

async fn max_age_refuses_old_statements_and_those_without_iat(backend: Backend) {
    let fresh_only = StatementIssuer {
        max_age: Some(300),
        ..directory()
    };
    let server = accepting(backend, vec![fresh_only]).await;
    let key = &keys().es256;
    let now = SystemClock.now();
    let mut old = claims(DIRECTORY);
    old["iat"] = json!(now - 600);
    let mut undated = claims(DIRECTORY);
    undated.as_object_mut().unwrap().remove("iat");
    for (case, statement, reason) in [("old", old, "older than 300"), ("no iat", undated, "iat")] {
        let response = server
            .register(with_statement(web_app(), &sign(key, &statement)))
            .await;
        assert_eq!(response.status().as_u16(), 400, "{case}");
        let description = expect_error(response, 400, "invalid_software_statement").await;
        assert!(description.contains(reason), "{case}: {description}");
    }
    let mut recent = claims(DIRECTORY);
    recent["iat"] = json!(now - 200);
    expect_json(
        server
            .register(with_statement(web_app(), &sign(key, &recent)))
            .await,
        201,
    )
    .await;
}

async fn statement_issuer_keys_are_fetched_from_its_jwks_uri(backend: Backend) {
    let keys = keys();
    let directory_keys = JwksServer::start(jwks(&[&keys.es256])).await;
    let published = StatementIssuer {
        trusted: TrustedIssuer {
            issuer: DIRECTORY.to_owned(),
            keys: IssuerKeys::Uri(directory_keys.url()),
            algs: vec!["ES256".to_owned()],
        },
        ..directory()
    };
    let server = TestServer::builder(backend)
        .tokens(directory_keys.token_options())
        .settings(statements(StatementMode::Accept, vec![published]))
        .spawn()
        .await;
    expect_json(
        server
            .register(with_statement(web_app(), &directory_statement()))
            .await,
        201,
    )
    .await;
    assert!(
        directory_keys.hits() >= 1,
        "the directory's keys were fetched"
    );
    let forged = sign_raw(
        &json!({"alg": "ES256", "kid": keys.es256.kid}),
        &claims(DIRECTORY),
        &keys.attacker.encoding_key,
        Algorithm::ES256,
    );
    expect_error(
        server.register(with_statement(web_app(), &forged)).await,
        400,
        "invalid_software_statement",
    )
    .await;
}
