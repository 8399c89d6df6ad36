//! RFC 7592 over HTTP: read, update, delete, token rotation and every refusal.

use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_invalid_token, expect_json};

backends!(
    read_returns_the_registration_without_rotating_the_token,
    update_replaces_metadata_and_rotates_the_token,
    update_issues_or_removes_the_secret_when_the_auth_method_changes,
    update_refuses_forbidden_members_and_foreign_secrets,
    update_runs_the_same_validation_as_registration,
    delete_invalidates_everything,
    wrong_missing_and_foreign_tokens_get_the_same_401,
    token_of_another_client_is_revoked,
    concurrent_updates_with_one_token_leave_exactly_one_winner,
    grace_period_keeps_the_previous_token_for_a_while,
);

struct Registered {
    body: Value,
    uri: String,
    token: String,
}

async fn register(server: &TestServer, metadata: Value) -> Registered {
    let body = expect_json(server.register(metadata).await, 201).await;
    Registered {
        uri: body["registration_client_uri"].as_str().unwrap().to_owned(),
        token: body["registration_access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        body,
    }
}

fn app() -> Value {
    json!({"redirect_uris": ["https://app.example.com/cb"], "client_name": "App", "contacts": ["a@example.com"]})
}

/// The update body RFC 7592 §2.2 asks for: the metadata plus the client id.
fn update_body(client: &Registered, metadata: Value) -> Value {
    let mut body = metadata;
    body["client_id"] = client.body["client_id"].clone();
    body
}

async fn get(server: &TestServer, uri: &str, token: &str) -> reqwest::Response {
    server
        .http()
        .get(uri)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn put(server: &TestServer, uri: &str, token: &str, body: &Value) -> reqwest::Response {
    server
        .http()
        .put(uri)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn delete(server: &TestServer, uri: &str, token: &str) -> reqwest::Response {
    server
        .http()
        .delete(uri)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn read_returns_the_registration_without_rotating_the_token(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, app()).await;
    for _ in 0..2 {
        let read = expect_json(get(&server, &client.uri, &client.token).await, 200).await;
        for member in [
            "client_id",
            "client_id_issued_at",
            "client_secret_expires_at",
            "registration_client_uri",
            "registration_access_token",
            "redirect_uris",
            "client_name",
            "contacts",
            "grant_types",
            "token_endpoint_auth_method",
        ] {
            assert_eq!(read[member], client.body[member], "{member}");
        }
        // The secret is stored only as a hash, so it cannot be shown again.
        assert!(read.get("client_secret").is_none());
    }
}

async fn update_replaces_metadata_and_rotates_the_token(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, app()).await;
    let update = update_body(
        &client,
        json!({"redirect_uris": ["https://app.example.com/new-cb", "https://app.example.com/second"], "client_name": "Renamed"}),
    );
    let updated = expect_json(put(&server, &client.uri, &client.token, &update).await, 200).await;
    assert_eq!(updated["client_id"], client.body["client_id"]);
    assert_eq!(
        updated["client_id_issued_at"],
        client.body["client_id_issued_at"]
    );
    assert_eq!(updated["client_name"], "Renamed");
    assert_eq!(
        updated["redirect_uris"],
        json!([
            "https://app.example.com/new-cb",
            "https://app.example.com/second"
        ])
    );
    // Omitted members are cleared; defaults are applied again.
    assert!(updated.get("contacts").is_none());
    assert_eq!(updated["grant_types"], json!(["authorization_code"]));
    // The secret is kept, not re-issued.
    assert!(updated.get("client_secret").is_none());
    assert_eq!(updated["client_secret_expires_at"], 0);
    let new_token = updated["registration_access_token"].as_str().unwrap();
    assert_ne!(new_token, client.token);

    expect_invalid_token(get(&server, &client.uri, &client.token).await).await;
    let read = expect_json(get(&server, &client.uri, new_token).await, 200).await;
    assert_eq!(read["client_name"], "Renamed");
    assert!(read.get("contacts").is_none());
    // The same secret still verifies against the stored hash.
    let client_id =
        registrar_core::ClientId::parse(client.body["client_id"].as_str().unwrap()).unwrap();
    let stored = server
        .store()
        .get_client(&client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(server.pipeline.services().hasher().verify(
        client.body["client_secret"].as_str().unwrap(),
        &stored.secret.unwrap().hash
    ));

    // Sending the current secret back is allowed (RFC 7592 §2.2).
    let mut with_secret = update_body(&client, app());
    with_secret["client_secret"] = client.body["client_secret"].clone();
    expect_json(
        put(&server, &client.uri, new_token, &with_secret).await,
        200,
    )
    .await;
}

async fn update_issues_or_removes_the_secret_when_the_auth_method_changes(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, app()).await;
    let mut public = update_body(&client, app());
    public["token_endpoint_auth_method"] = json!("none");
    let updated = expect_json(put(&server, &client.uri, &client.token, &public).await, 200).await;
    assert!(updated.get("client_secret").is_none());
    assert!(updated.get("client_secret_expires_at").is_none());
    let client_id =
        registrar_core::ClientId::parse(client.body["client_id"].as_str().unwrap()).unwrap();
    assert!(
        server
            .store()
            .get_client(&client_id)
            .await
            .unwrap()
            .unwrap()
            .secret
            .is_none()
    );

    let token = updated["registration_access_token"].as_str().unwrap();
    let mut confidential = update_body(&client, app());
    confidential["token_endpoint_auth_method"] = json!("client_secret_post");
    let updated = expect_json(put(&server, &client.uri, token, &confidential).await, 200).await;
    let new_secret = updated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, client.body["client_secret"].as_str().unwrap());
    assert_eq!(updated["client_secret_expires_at"], 0);
    let stored = server
        .store()
        .get_client(&client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        server
            .pipeline
            .services()
            .hasher()
            .verify(new_secret, &stored.secret.unwrap().hash)
    );
}

async fn update_refuses_forbidden_members_and_foreign_secrets(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, app()).await;
    let mut cases = Vec::new();
    for (member, value) in [
        ("registration_access_token", json!(client.token)),
        ("registration_client_uri", json!(client.uri)),
        ("client_secret_expires_at", json!(0)),
        (
            "client_id_issued_at",
            client.body["client_id_issued_at"].clone(),
        ),
        ("client_secret", json!("a-secret-of-my-own-choosing")),
        ("client_id", json!("another-client")),
    ] {
        let mut body = update_body(&client, app());
        body[member] = value;
        cases.push((member, body));
    }
    let mut missing_id = app();
    missing_id["client_name"] = json!("No id");
    cases.push(("client_id", missing_id));
    for (member, body) in cases {
        let description = expect_error(
            put(&server, &client.uri, &client.token, &body).await,
            400,
            "invalid_client_metadata",
        )
        .await;
        assert!(description.contains(member), "{member}: {description}");
    }
    // None of the refused updates changed anything or rotated the token.
    let read = expect_json(get(&server, &client.uri, &client.token).await, 200).await;
    assert_eq!(read["client_name"], "App");
}

async fn update_runs_the_same_validation_as_registration(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, app()).await;
    let mut fragment = update_body(&client, app());
    fragment["redirect_uris"] = json!(["https://app.example.com/cb#x"]);
    expect_error(
        put(&server, &client.uri, &client.token, &fragment).await,
        400,
        "invalid_redirect_uri",
    )
    .await;
    let mut scope = update_body(&client, app());
    scope["scope"] = json!("admin");
    expect_error(
        put(&server, &client.uri, &client.token, &scope).await,
        400,
        "invalid_client_metadata",
    )
    .await;
    let malformed = server
        .http()
        .put(&client.uri)
        .bearer_auth(&client.token)
        .header("content-type", "application/json")
        .body("[1]")
        .send()
        .await
        .unwrap();
    expect_error(malformed, 400, "invalid_request").await;
    let form = server
        .http()
        .put(&client.uri)
        .bearer_auth(&client.token)
        .body("a=b")
        .send()
        .await
        .unwrap();
    expect_error(form, 415, "invalid_request").await;
    // An unauthenticated caller gets 401 before the body is looked at.
    let unauthenticated = server
        .http()
        .put(&client.uri)
        .bearer_auth("wrong")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    expect_invalid_token(unauthenticated).await;
}

async fn delete_invalidates_everything(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, app()).await;
    let response = delete(&server, &client.uri, &client.token).await;
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(response.headers()["cache-control"], "no-store");
    expect_invalid_token(get(&server, &client.uri, &client.token).await).await;
    expect_invalid_token(
        put(
            &server,
            &client.uri,
            &client.token,
            &update_body(&client, app()),
        )
        .await,
    )
    .await;
    expect_invalid_token(delete(&server, &client.uri, &client.token).await).await;
    let client_id =
        registrar_core::ClientId::parse(client.body["client_id"].as_str().unwrap()).unwrap();
    assert!(
        server
            .store()
            .get_client(&client_id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn wrong_missing_and_foreign_tokens_get_the_same_401(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register(&server, app()).await;
    let unknown_uri = server.url("/connect/dcr/no-such-client");
    let mut bodies = Vec::new();
    for (uri, token) in [
        (client.uri.as_str(), Some("wrong-token")),
        (client.uri.as_str(), None),
        (unknown_uri.as_str(), Some(client.token.as_str())),
        (unknown_uri.as_str(), Some("wrong-token")),
    ] {
        for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
            let mut request = server.http().request(method, uri);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer error=\"invalid_token\""
            );
            assert_eq!(response.status().as_u16(), 401);
            bodies.push(response.text().await.unwrap());
        }
    }
    // No client enumeration: every failure reads the same.
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "{bodies:?}"
    );
    // The token query parameter is never read.
    let in_query = server
        .http()
        .get(format!("{}?access_token={}", client.uri, client.token))
        .send()
        .await
        .unwrap();
    expect_invalid_token(in_query).await;
}

async fn token_of_another_client_is_revoked(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let first = register(&server, app()).await;
    let second = register(&server, app()).await;
    // RFC 7592 §2.1: a valid token used for another client is revoked.
    expect_invalid_token(get(&server, &second.uri, &first.token).await).await;
    expect_invalid_token(get(&server, &first.uri, &first.token).await).await;
    expect_json(get(&server, &second.uri, &second.token).await, 200).await;
}

async fn concurrent_updates_with_one_token_leave_exactly_one_winner(backend: Backend) {
    // Eleven losers present a token that no longer works: more failures than the limit.
    let server = TestServer::spawn_unlimited(backend).await;
    let client = register(&server, app()).await;
    let handles: Vec<_> = (0..12)
        .map(|index| {
            let request = server
                .http()
                .put(&client.uri)
                .bearer_auth(&client.token)
                .json(&update_body(&client, json!({"redirect_uris": ["https://app.example.com/cb"], "client_name": format!("Name {index}")})))
                .send();
            tokio::spawn(request)
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = 0;
    for handle in handles {
        let response = handle.await.unwrap().unwrap();
        match response.status().as_u16() {
            200 => winners.push(response.json::<Value>().await.unwrap()),
            401 => losers += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((winners.len(), losers), (1, 11));
    let winner = &winners[0];
    let new_token = winner["registration_access_token"].as_str().unwrap();
    expect_invalid_token(get(&server, &client.uri, &client.token).await).await;
    let read = expect_json(get(&server, &client.uri, new_token).await, 200).await;
    assert_eq!(read["client_name"], winner["client_name"]);
}

async fn grace_period_keeps_the_previous_token_for_a_while(backend: Backend) {
    let server =
        TestServer::spawn_with(backend, |settings| settings.registration_token_grace = 60).await;
    let client = register(&server, app()).await;
    let updated = expect_json(
        put(
            &server,
            &client.uri,
            &client.token,
            &update_body(&client, app()),
        )
        .await,
        200,
    )
    .await;
    let new_token = updated["registration_access_token"].as_str().unwrap();
    // Within the grace period both tokens work.
    expect_json(get(&server, &client.uri, &client.token).await, 200).await;
    expect_json(get(&server, &client.uri, new_token).await, 200).await;
}
