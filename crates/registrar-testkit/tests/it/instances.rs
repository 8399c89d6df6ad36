//! Two Registrar instances with separate pools on one database, as behind a load balancer:
//! every invariant must hold across them.

use registrar_core::initial_token::InitialTokenOptions;
use registrar_server::TokenOptions;
use registrar_testkit::{Backend, TestDatabase, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_invalid_token, expect_json};

backends!(two_instances_on_one_database_behave_as_one);

/// Instance B on A's database, with A's issuer, as two instances behind one public URL.
async fn second_instance(a: &TestServer) -> TestServer {
    let store = registrar_store::connect(&a.database.url)
        .await
        .expect("second pool");
    let issuer = a.pipeline.settings().issuer.clone();
    TestServer::spawn_on(
        TestDatabase::shared(&a.database.url),
        store,
        move |settings| {
            settings.issuer = issuer;
        },
    )
    .await
}

fn on(server: &TestServer, uri: &str) -> String {
    // Management URIs name the shared issuer (A); send them to the instance under test.
    let path = &uri[uri.find("/connect/").expect("a management URI")..];
    server.url(path)
}

async fn two_instances_on_one_database_behave_as_one(backend: Backend) {
    let a = TestServer::spawn(backend).await;
    let b = second_instance(&a).await;

    // Keys created by the first instance are used by the second.
    let jwks_a: Value = a.get_json("/.well-known/jwks.json").await;
    let jwks_b: Value = b.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks_a, jwks_b);

    // Register on A; read, update and get a token on B.
    let client = expect_json(
        a.register(json!({"grant_types": ["client_credentials"], "scope": "openid"}))
            .await,
        201,
    )
    .await;
    let client_id = client["client_id"].as_str().unwrap();
    let uri = client["registration_client_uri"].as_str().unwrap();
    let token = client["registration_access_token"].as_str().unwrap();
    let read = expect_json(
        b.http()
            .get(on(&b, uri))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(read["client_id"], client_id);
    let update = json!({"client_id": client_id, "grant_types": ["client_credentials"], "scope": "openid", "client_name": "Renamed on B"});
    let updated = expect_json(
        b.http()
            .put(on(&b, uri))
            .bearer_auth(token)
            .json(&update)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let new_token = updated["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    expect_invalid_token(
        a.http()
            .get(on(&a, uri))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let read_on_a = expect_json(
        a.http()
            .get(on(&a, uri))
            .bearer_auth(&new_token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(read_on_a["client_name"], "Renamed on B");

    let secret = client["client_secret"].as_str().unwrap();
    let issued = expect_json(
        b.http()
            .post(b.url("/connect/token"))
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let access_token = issued["access_token"].as_str().unwrap();
    let resource_server = expect_json(
        a.register(json!({"grant_types": ["client_credentials"]}))
            .await,
        201,
    )
    .await;
    let introspect = |server: &TestServer| {
        server
            .http()
            .post(server.url("/connect/introspect"))
            .basic_auth(
                resource_server["client_id"].as_str().unwrap(),
                Some(resource_server["client_secret"].as_str().unwrap()),
            )
            .form(&[("token", access_token)])
            .send()
    };
    assert_eq!(
        expect_json(introspect(&a).await.unwrap(), 200).await["active"],
        true
    );

    // An initial access token limited to 4 uses, hit on both instances at once: exactly 4.
    let initial = a
        .initial_token(InitialTokenOptions {
            max_uses: Some(4),
            ..Default::default()
        })
        .await;
    let requests: Vec<_> = (0..20)
        .map(|index| {
            let server = if index % 2 == 0 { &a } else { &b };
            tokio::spawn(
                server
                    .http()
                    .post(server.url("/connect/dcr"))
                    .bearer_auth(&initial)
                    .json(&json!({"redirect_uris": ["https://app.example.com/cb"]}))
                    .send(),
            )
        })
        .collect();
    let mut created = 0;
    for request in requests {
        match request.await.unwrap().unwrap().status().as_u16() {
            201 => created += 1,
            401 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(created, 4);

    // Concurrent updates with one token on both instances: exactly one wins.
    let puts: Vec<_> = (0..10)
        .map(|index| {
            let server = if index % 2 == 0 { &a } else { &b };
            tokio::spawn(
                server
                    .http()
                    .put(on(server, uri))
                    .bearer_auth(&new_token)
                    .json(&update)
                    .send(),
            )
        })
        .collect();
    let mut winners = Vec::new();
    for put in puts {
        let response = put.await.unwrap().unwrap();
        match response.status().as_u16() {
            200 => winners.push(response.json::<Value>().await.unwrap()),
            401 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1);
    let last_token = winners[0]["registration_access_token"].as_str().unwrap();

    // Deleted on B, refused by A at once: management, token endpoint and introspection.
    let deleted = b
        .http()
        .delete(on(&b, uri))
        .bearer_auth(last_token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    expect_invalid_token(
        a.http()
            .get(on(&a, uri))
            .bearer_auth(last_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let refused = a
        .http()
        .post(a.url("/connect/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(
        expect_json(introspect(&a).await.unwrap(), 200).await,
        json!({"active": false})
    );
}

backends!(instances_starting_together_migrate_once_and_sign_with_one_key);

/// Two instances starting at the same moment on an empty database: both migrate without error,
/// and once each has reloaded its keys (every minute by default, at once here) both sign with the
/// same key and publish the same set. Each may have created a first key; the newest wins
/// everywhere and the other stays published.
async fn instances_starting_together_migrate_once_and_sign_with_one_key(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let url = database.url.clone();
    let (store_a, store_b) = tokio::join!(
        registrar_store::connect(&url),
        registrar_store::connect(&url)
    );
    let (store_a, store_b) = (store_a.expect("first pool"), store_b.expect("second pool"));
    let reload_always = || TokenOptions {
        key_reload_interval: Some(0),
        ..TokenOptions::default()
    };
    let (a, b) = tokio::join!(
        TestServer::spawn_with_options(database, store_a, |_| {}, reload_always()),
        TestServer::spawn_with_options(
            TestDatabase::shared(&url),
            store_b,
            |_| {},
            reload_always()
        )
    );
    let active_kid = |server: &TestServer| {
        let state = server.state.clone();
        async move {
            let ring = state
                .tokens
                .key_ring
                .current(state.pipeline.services())
                .await;
            ring.active_kid().to_owned()
        }
    };
    assert_eq!(active_kid(&a).await, active_kid(&b).await);
    let jwks = |server: &TestServer| {
        server
            .http()
            .get(server.url("/.well-known/jwks.json"))
            .send()
    };
    let jwks_a: Value = jwks(&a).await.unwrap().json().await.unwrap();
    let jwks_b: Value = jwks(&b).await.unwrap().json().await.unwrap();
    assert_eq!(jwks_a, jwks_b);
}
