//! Client lifecycle over HTTP on a `ManualClock`: uses recorded at most once per granularity,
//! unused and inactive clients refused like unknown ones (`invalid_client` at the token endpoint,
//! `401 invalid_token` at management) and then deleted by the housekeeping with an `expire`
//! event; blocked clients refused everywhere, their tokens dead, until unblocked, and never
//! deleted by a TTL.

use std::sync::Arc;

use registrar_core::audit::{Action, EventFilter, Outcome};
use registrar_core::lifecycle::LifecycleSettings;
use registrar_core::store::ClientChange;
use registrar_core::{ClientId, Clock as _, ManualClock, SystemClock};
use registrar_server::housekeeping::expire_clients;
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::authorization::support::{
    add_user, authorize_url, exchange, pkce, refresh, register_public_client, tokens_for,
};
use crate::{expect_error, expect_json};

backends!(
    unused_clients_expire_and_are_deleted_with_an_event,
    inactive_clients_expire_after_their_last_recorded_use,
    blocked_clients_are_refused_everywhere_until_unblocked,
    a_public_client_is_used_when_it_gets_a_token,
);

const HOUR: u64 = 3_600;

async fn server_with(
    backend: Backend,
    lifecycle: LifecycleSettings,
) -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::builder(backend)
        .settings(move |settings| settings.lifecycle = lifecycle)
        .clock(clock.clone())
        .spawn()
        .await;
    (server, clock)
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap()
}

async fn register_machine(server: &TestServer) -> Value {
    expect_json(
        server
            .register(json!({"grant_types": ["client_credentials"], "scope": "openid"}))
            .await,
        201,
    )
    .await
}

fn client_id(client: &Value) -> ClientId {
    ClientId::parse(client["client_id"].as_str().unwrap()).unwrap()
}

async fn token_request(server: &TestServer, client: &Value) -> reqwest::Response {
    server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

async fn access_token(server: &TestServer, client: &Value) -> String {
    let body = expect_json(token_request(server, client).await, 200).await;
    body["access_token"].as_str().unwrap().to_owned()
}

async fn read(server: &TestServer, client: &Value) -> reqwest::Response {
    server
        .http()
        .get(client["registration_client_uri"].as_str().unwrap())
        .bearer_auth(client["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
}

async fn introspect(server: &TestServer, by: &Value, token: &str) -> Value {
    let response = server
        .http()
        .post(server.url("/connect/introspect"))
        .basic_auth(
            by["client_id"].as_str().unwrap(),
            by["client_secret"].as_str(),
        )
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    expect_json(response, 200).await
}

async fn last_used_at(server: &TestServer, client: &Value) -> Option<i64> {
    server
        .stores()
        .clients()
        .get_client(&client_id(client))
        .await
        .unwrap()
        .expect("the client is stored")
        .state
        .last_used_at
}

async fn is_stored(server: &TestServer, client: &Value) -> bool {
    server
        .stores()
        .clients()
        .get_client(&client_id(client))
        .await
        .unwrap()
        .is_some()
}

/// (route, client id) of every `expire` event, oldest first.
async fn expire_events(server: &TestServer) -> Vec<(String, String)> {
    let filter = EventFilter {
        client_id: None,
        since: None,
        limit: 1_000,
    };
    let mut events = server.stores().events().list_events(&filter).await.unwrap();
    events.reverse();
    events
        .into_iter()
        .filter(|event| event.action == Action::Expire)
        .map(|event| {
            assert_eq!(event.outcome, Outcome::Success);
            (event.route.unwrap(), event.client_id.unwrap())
        })
        .collect()
}

async fn set_blocked(server: &TestServer, client: &Value, blocked_at: Option<i64>) {
    let id = client_id(client);
    let event = registrar_core::audit::AuditEvent {
        id: None,
        time: server.clock.now(),
        action: if blocked_at.is_some() {
            Action::Block
        } else {
            Action::Unblock
        },
        outcome: Outcome::Success,
        client_id: Some(id.as_str().to_owned()),
        route: Some("cli".to_owned()),
        credential_id: None,
        credential_issuer: None,
        software_id: None,
        source_ip: None,
        user_agent: None,
        error: None,
        changes: Vec::new(),
    };
    let change = ClientChange::SetBlocked {
        client_id: &id,
        blocked_at,
    };
    assert!(
        server
            .stores()
            .apply_recorded(change, &event)
            .await
            .unwrap()
    );
}

async fn unused_clients_expire_and_are_deleted_with_an_event(backend: Backend) {
    let lifecycle = LifecycleSettings {
        unused_ttl: 24 * HOUR,
        inactive_ttl: 0,
    };
    let (server, clock) = server_with(backend, lifecycle).await;
    let used = register_machine(&server).await;
    let unused = register_machine(&server).await;
    assert_eq!(
        last_used_at(&server, &used).await,
        None,
        "a registration is not a use"
    );
    access_token(&server, &used).await;
    assert_eq!(last_used_at(&server, &used).await, Some(clock.now()));

    // A second before the TTL the unused client still works; nothing is deleted.
    clock.advance(seconds(24 * HOUR) - 1);
    assert_eq!(expire_clients(&server.pipeline).await.unwrap(), 0);
    expect_json(read(&server, &unused).await, 200).await;
    // That read was a use: register another to outlive the TTL.
    let unused = register_machine(&server).await;
    clock.advance(seconds(24 * HOUR));

    // Expired: refused as an unknown client would be, everywhere.
    expect_error(token_request(&server, &unused).await, 401, "invalid_client").await;
    let refused = read(&server, &unused).await;
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    expect_error(refused, 401, "invalid_token").await;
    // The used client is not touched by the unused TTL.
    access_token(&server, &used).await;

    assert_eq!(expire_clients(&server.pipeline).await.unwrap(), 1);
    assert!(!is_stored(&server, &unused).await);
    assert!(is_stored(&server, &used).await);
    assert_eq!(
        expire_events(&server).await,
        [(
            "lifecycle.unused_ttl".to_owned(),
            unused["client_id"].as_str().unwrap().to_owned()
        )]
    );
    assert_eq!(
        expire_clients(&server.pipeline).await.unwrap(),
        0,
        "a second run finds nothing"
    );
}

async fn inactive_clients_expire_after_their_last_recorded_use(backend: Backend) {
    // 40 minutes: uses are written every 100 seconds at most.
    let lifecycle = LifecycleSettings {
        unused_ttl: 0,
        inactive_ttl: 2_400,
    };
    assert_eq!(lifecycle.use_granularity(), 100);
    let (server, clock) = server_with(backend, lifecycle).await;
    let client = register_machine(&server).await;
    let started = clock.now();
    access_token(&server, &client).await;
    assert_eq!(last_used_at(&server, &client).await, Some(started));

    // Within the granularity a use writes nothing; after it, one write.
    clock.advance(50);
    access_token(&server, &client).await;
    assert_eq!(
        last_used_at(&server, &client).await,
        Some(started),
        "a use within the granularity is not written"
    );
    clock.advance(50);
    access_token(&server, &client).await;
    assert_eq!(last_used_at(&server, &client).await, Some(started + 100));
    // A management read with the registration access token is a use too.
    clock.advance(200);
    expect_json(read(&server, &client).await, 200).await;
    let last_use = started + 300;
    assert_eq!(last_used_at(&server, &client).await, Some(last_use));

    // Nothing for a whole TTL after the last use: expired.
    clock.advance(1);
    let other = register_machine(&server).await;
    clock.advance(2_399);
    assert_eq!(clock.now(), last_use + 2_400);
    expect_error(token_request(&server, &client).await, 401, "invalid_client").await;
    expect_error(read(&server, &client).await, 401, "invalid_token").await;
    // The client registered later is still within its TTL.
    access_token(&server, &other).await;

    assert_eq!(expire_clients(&server.pipeline).await.unwrap(), 1);
    assert!(!is_stored(&server, &client).await);
    assert!(is_stored(&server, &other).await);
    assert_eq!(
        expire_events(&server).await,
        [(
            "lifecycle.inactive_ttl".to_owned(),
            client["client_id"].as_str().unwrap().to_owned()
        )]
    );
}

async fn blocked_clients_are_refused_everywhere_until_unblocked(backend: Backend) {
    let lifecycle = LifecycleSettings {
        unused_ttl: HOUR,
        inactive_ttl: 0,
    };
    let (server, clock) = server_with(backend, lifecycle).await;
    let client = register_machine(&server).await;
    let resource_server = register_machine(&server).await;
    let token = access_token(&server, &client).await;
    assert_eq!(
        introspect(&server, &resource_server, &token).await["active"],
        true
    );

    set_blocked(&server, &client, Some(clock.now())).await;
    expect_error(token_request(&server, &client).await, 401, "invalid_client").await;
    expect_error(read(&server, &client).await, 401, "invalid_token").await;
    assert_eq!(
        introspect(&server, &resource_server, &token).await,
        json!({"active": false}),
        "a blocked client's tokens stop working"
    );

    set_blocked(&server, &client, None).await;
    access_token(&server, &client).await;
    expect_json(read(&server, &client).await, 200).await;
    assert_eq!(
        introspect(&server, &resource_server, &token).await["active"],
        true
    );

    // A blocked client outlives its TTL: the operator decides what becomes of it.
    let blocked = register_machine(&server).await;
    set_blocked(&server, &blocked, Some(clock.now())).await;
    clock.advance(seconds(2 * HOUR));
    assert_eq!(expire_clients(&server.pipeline).await.unwrap(), 0);
    assert!(is_stored(&server, &blocked).await);
    let events = server
        .stores()
        .events()
        .list_events(&EventFilter {
            client_id: Some(client_id(&client)),
            since: None,
            limit: 10,
        })
        .await
        .unwrap();
    let actions: Vec<(Action, Outcome)> = events
        .iter()
        .rev()
        .map(|event| (event.action, event.outcome))
        .collect();
    assert_eq!(
        actions,
        [
            (Action::Register, Outcome::Success),
            (Action::Block, Outcome::Success),
            (Action::Read, Outcome::Refused),
            (Action::Unblock, Outcome::Success),
        ],
        "blocks are audit events, and so is the refused read"
    );
}

async fn a_public_client_is_used_when_it_gets_a_token(backend: Backend) {
    let (server, clock) = server_with(backend, LifecycleSettings::default()).await;
    add_user(&server, "alice").await;
    let client = register_public_client(&server, json!({})).await;
    let idle = register_public_client(&server, json!({})).await;

    // Naming a public client proves nothing: a refused exchange is not its use.
    let (verifier, _) = pkce();
    expect_error(
        exchange(
            &server,
            &idle,
            "not-a-code",
            &verifier,
            "http://localhost:33418/callback",
        )
        .await,
        400,
        "invalid_grant",
    )
    .await;
    assert_eq!(last_used_at(&server, &idle).await, None);

    let tokens = tokens_for(&server, &client, "alice").await;
    assert_eq!(last_used_at(&server, &client).await, Some(clock.now()));

    // Blocked: the authorization endpoint does not know it, and its refresh token is refused.
    set_blocked(&server, &client, Some(clock.now())).await;
    let (_, challenge) = pkce();
    let page = server
        .http()
        .get(authorize_url(&server, &client, &challenge, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("not registered"));
    expect_error(
        refresh(&server, &client, tokens["refresh_token"].as_str().unwrap()).await,
        401,
        "invalid_client",
    )
    .await;
}
