//! RFC 7591 registration over HTTP: the client information response, initial access tokens and
//! open mode.

use registrar_core::initial_token::InitialTokenOptions;
use registrar_core::store::InitialAccessToken;
use registrar_core::{Clock as _, RegistrationMode};
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_invalid_token, expect_json};

fn is_unreserved(text: &str) -> bool {
    registrar_core::ids::is_unreserved(text)
}

backends!(
    registration_returns_the_full_client_information_response,
    registration_drops_unknown_members_and_keeps_language_tags,
    registration_without_a_secret_for_public_and_key_clients,
    registration_requires_a_valid_initial_access_token,
    initial_access_token_limited_to_n_uses_yields_exactly_n_registrations_under_concurrency,
    open_mode_registers_without_a_token_but_refuses_client_credentials,
    registered_client_is_stored_with_hashed_credentials_only,
);

async fn registration_returns_the_full_client_information_response(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let before = registrar_core::SystemClock.now();
    let response = server
        .register(json!({
            "redirect_uris": ["https://app.example.com/cb"],
            "client_name": "Example App",
            "scope": "openid email",
            "contacts": ["ops@example.com"],
        }))
        .await;
    let body = expect_json(response, 201).await;

    let client_id = body["client_id"].as_str().unwrap();
    assert!(
        client_id.len() >= 22 && is_unreserved(client_id),
        "{client_id}"
    );
    let secret = body["client_secret"].as_str().unwrap();
    assert!(
        secret.len() >= 86 && is_unreserved(secret),
        "secret of 512 bits, enough to key HS512"
    );
    assert_eq!(body["client_secret_expires_at"], 0);
    let issued_at = body["client_id_issued_at"].as_i64().unwrap();
    assert!((before..before + 60).contains(&issued_at));
    assert!(body["registration_access_token"].as_str().unwrap().len() >= 43);
    assert_eq!(
        body["registration_client_uri"],
        server.url(&format!("/connect/dcr/{client_id}"))
    );
    // Sent values come back, and so do the defaults the server applied.
    assert_eq!(body["redirect_uris"], json!(["https://app.example.com/cb"]));
    assert_eq!(body["client_name"], "Example App");
    assert_eq!(body["scope"], "openid email");
    assert_eq!(body["contacts"], json!(["ops@example.com"]));
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(body["grant_types"], json!(["authorization_code"]));
    assert_eq!(body["response_types"], json!(["code"]));
    assert_eq!(body["application_type"], "web");
    assert_eq!(body["subject_type"], "public");
    assert_eq!(body["id_token_signed_response_alg"], "RS256");
    assert_eq!(body["access_token_lifetime"], 3600);

    // Two registrations never share an id or a secret.
    let second = expect_json(
        server
            .register(json!({"redirect_uris": ["https://app.example.com/cb"]}))
            .await,
        201,
    )
    .await;
    assert_ne!(second["client_id"], body["client_id"]);
    assert_ne!(second["client_secret"], body["client_secret"]);
}

async fn registration_drops_unknown_members_and_keeps_language_tags(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let body = expect_json(
        server
            .register(json!({
                "redirect_uris": ["https://app.example.com/cb"],
                "client_name": "Example",
                "client_name#ja-Jpan-JP": "クライアント名",
                "logo_uri#fr": "https://app.example.com/logo-fr.png",
                "x_unknown": {"nested": true},
                "client_id": "chosen-by-caller",
                "client_secret": "chosen-secret",
                "client_secret_expires_at": 1,
                "software_statement": "ignored.by.default",
            }))
            .await,
        201,
    )
    .await;
    assert_eq!(body["client_name#ja-Jpan-JP"], "クライアント名");
    assert_eq!(body["logo_uri#fr"], "https://app.example.com/logo-fr.png");
    assert!(body.get("x_unknown").is_none());
    assert!(body.get("software_statement").is_none());
    assert_ne!(body["client_id"], "chosen-by-caller");
    assert_ne!(body["client_secret"], "chosen-secret");
    assert_eq!(body["client_secret_expires_at"], 0);
}

async fn registration_without_a_secret_for_public_and_key_clients(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let public = expect_json(
        server
            .register(json!({
                "redirect_uris": ["http://127.0.0.1:8400/callback"],
                "token_endpoint_auth_method": "none",
                "application_type": "native",
            }))
            .await,
        201,
    )
    .await;
    assert!(public.get("client_secret").is_none());
    assert!(public.get("client_secret_expires_at").is_none());
    assert_eq!(public["token_endpoint_auth_method"], "none");

    let key_client = expect_json(
        server
            .register(json!({
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": "https://partner.example.com/jwks.json",
            }))
            .await,
        201,
    )
    .await;
    assert!(key_client.get("client_secret").is_none());
    assert_eq!(key_client["grant_types"], json!(["client_credentials"]));
    assert!(key_client.get("response_types").is_none());
    assert!(key_client.get("redirect_uris").is_none());
}

async fn registration_requires_a_valid_initial_access_token(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let body = json!({"redirect_uris": ["https://app.example.com/cb"]});
    let post = || server.http().post(server.url("/connect/dcr")).json(&body);

    expect_invalid_token(post().send().await.unwrap()).await;
    expect_invalid_token(post().bearer_auth("not-a-real-token").send().await.unwrap()).await;
    for header in [
        &b"Bearer"[..],
        b"Bearer ",
        b"Basic Zm9vOmJhcg==",
        b"Bearer a b",
        b"Bearer a,b",
        b"Bearer ====",
        b"Bearer \xff\xfe",
    ] {
        let value = reqwest::header::HeaderValue::from_bytes(header).unwrap();
        let response = post().header("authorization", value).send().await.unwrap();
        expect_invalid_token(response).await;
    }
    let twice = post()
        .header("authorization", "Bearer one")
        .header("authorization", "Bearer two")
        .send()
        .await
        .unwrap();
    expect_invalid_token(twice).await;
    // A token in the query or the body is not a bearer token (RFC 6750 §2.2, §2.3).
    let token = server.initial_token(InitialTokenOptions::default()).await;
    let in_query = server
        .http()
        .post(server.url(&format!("/connect/dcr?access_token={token}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_invalid_token(in_query).await;

    // Used up.
    let single_use = server
        .initial_token(InitialTokenOptions {
            max_uses: Some(1),
            ..Default::default()
        })
        .await;
    expect_json(post().bearer_auth(&single_use).send().await.unwrap(), 201).await;
    expect_invalid_token(post().bearer_auth(&single_use).send().await.unwrap()).await;

    // Expired: written straight to the store with an expiry in the past.
    let expired = "expired-initial-access-token-value-0123456789abcdef";
    server
        .store()
        .insert_initial_token(&InitialAccessToken {
            id: "expired".to_owned(),
            token_hash: server.pipeline.services().hasher().hash(expired),
            created_at: 1,
            expires_at: Some(2),
            max_uses: None,
            uses: 0,
            note: None,
            policy: None,
        })
        .await
        .unwrap();
    expect_invalid_token(post().bearer_auth(expired).send().await.unwrap()).await;

    // Revoked.
    let revocable = server.initial_token(InitialTokenOptions::default()).await;
    let record = server
        .store()
        .find_initial_token(&server.pipeline.services().hasher().hash(&revocable))
        .await
        .unwrap()
        .unwrap();
    assert!(
        server
            .store()
            .revoke_initial_token(&record.id)
            .await
            .unwrap()
    );
    expect_invalid_token(post().bearer_auth(&revocable).send().await.unwrap()).await;

    // The token is checked before the body: an unauthorized caller learns nothing from it.
    let unauthorized_bad_body = server
        .http()
        .post(server.url("/connect/dcr"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_invalid_token(unauthorized_bad_body).await;
}

async fn initial_access_token_limited_to_n_uses_yields_exactly_n_registrations_under_concurrency(
    backend: Backend,
) {
    let server = TestServer::spawn(backend).await;
    let token = server
        .initial_token(InitialTokenOptions {
            max_uses: Some(5),
            ..Default::default()
        })
        .await;
    let requests = (0..25).map(|_| {
        server
            .http()
            .post(server.url("/connect/dcr"))
            .bearer_auth(&token)
            .json(&json!({"redirect_uris": ["https://app.example.com/cb"]}))
            .send()
    });
    let responses = futures_join_all(requests).await;
    let mut created = 0;
    let mut refused = 0;
    for response in responses {
        match response.unwrap().status().as_u16() {
            201 => created += 1,
            401 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((created, refused), (5, 20));
    assert_eq!(server.store().list_clients().await.unwrap().len(), 5);
    let record = server
        .store()
        .find_initial_token(&server.pipeline.services().hasher().hash(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.uses, 5);
}

async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}

async fn open_mode_registers_without_a_token_but_refuses_client_credentials(backend: Backend) {
    let server =
        TestServer::spawn_with(backend, |settings| settings.mode = RegistrationMode::Open).await;
    let post = |body: Value| {
        server
            .http()
            .post(server.url("/connect/dcr"))
            .json(&body)
            .send()
    };
    expect_json(
        post(json!({"redirect_uris": ["https://app.example.com/cb"]}))
            .await
            .unwrap(),
        201,
    )
    .await;
    let description = expect_error(
        post(json!({"grant_types": ["client_credentials"]}))
            .await
            .unwrap(),
        400,
        "invalid_client_metadata",
    )
    .await;
    assert!(description.contains("client_credentials"), "{description}");
    // A token that is present must be valid, even in open mode.
    let wrong = server
        .http()
        .post(server.url("/connect/dcr"))
        .bearer_auth("wrong")
        .json(&json!({"redirect_uris": ["https://app.example.com/cb"]}))
        .send()
        .await
        .unwrap();
    expect_invalid_token(wrong).await;
    // With an initial access token, client_credentials is allowed in open mode too.
    expect_json(
        server
            .register(json!({"grant_types": ["client_credentials"]}))
            .await,
        201,
    )
    .await;
}

async fn registered_client_is_stored_with_hashed_credentials_only(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let body = expect_json(
        server
            .register(json!({"redirect_uris": ["https://app.example.com/cb"]}))
            .await,
        201,
    )
    .await;
    let client_id = registrar_core::ClientId::parse(body["client_id"].as_str().unwrap()).unwrap();
    let stored = server
        .store()
        .get_client(&client_id)
        .await
        .unwrap()
        .unwrap();
    let hasher = server.pipeline.services().hasher();
    let secret = body["client_secret"].as_str().unwrap();
    let token = body["registration_access_token"].as_str().unwrap();
    assert!(hasher.verify(secret, &stored.secret.unwrap().hash));
    assert!(hasher.verify(token, &stored.registration_token.unwrap()));
    let stored_json = serde_json::to_string(&stored.metadata).unwrap();
    assert!(!stored_json.contains(secret) && !stored_json.contains(token));
}
