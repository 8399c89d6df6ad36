//! Safe retries of `POST /connect/dcr` with an `Idempotency-Key` over HTTP: the replayed answer,
//! refusals of a key reused with another body or for a changed client, concurrent requests with
//! one key, the binding to the credential, the window on a `ManualClock`, the header's forms, and
//! anonymous callers' keys.

use std::sync::Arc;

use registrar_core::audit::{Action, EventFilter};
use registrar_core::initial_token::InitialTokenOptions;
use registrar_core::store::InitialAccessToken;
use registrar_core::{Clock as _, ManualClock, RegistrationMode, SystemClock};
use registrar_server::TokenOptions;
use registrar_testkit::{Backend, TestServer, TestServerBuilder, backends};
use reqwest::Response;
use serde_json::{Value, json};

use crate::{expect_error, expect_json};

backends!(
    a_retry_gets_the_same_answer_byte_for_byte_and_stores_one_client,
    the_replayed_secret_works_at_the_token_endpoint,
    the_same_key_with_another_body_is_422,
    concurrent_requests_with_one_key_register_one_client,
    the_same_key_from_another_credential_registers_another_client,
    a_key_answers_retries_only_within_the_window,
    an_anonymous_caller_needs_a_key_of_128_random_bits,
    malformed_and_repeated_keys_are_refused,
    a_retry_after_delete_or_update_hands_out_no_stale_credentials,
    a_dry_run_with_a_key_stores_no_key,
    without_a_key_or_with_the_window_off_every_request_registers,
);

const KEY: &str = "8e03978e-40d5-43e8-bc93-6894a57f9324";

/// A body with its members in one order and spacing, and the same JSON value in another.
const BODY: &str = r#"{"redirect_uris":["https://app.example.com/cb"],"client_name":"Retry App","grant_types":["authorization_code","client_credentials"],"scope":"openid email"}"#;
const SAME_BODY_REORDERED: &str = r#"{ "scope": "openid email", "grant_types": ["authorization_code", "client_credentials"],
  "client_name": "Retry App", "redirect_uris": ["https://app.example.com/cb"] }"#;

fn unlimited() -> TokenOptions {
    let mut options = TokenOptions::default();
    options.rate_limits.enabled = false;
    options
}

fn builder(backend: Backend) -> TestServerBuilder {
    TestServer::builder(backend).tokens(unlimited())
}

async fn token(server: &TestServer, max_uses: Option<u32>) -> String {
    server
        .initial_token(InitialTokenOptions {
            max_uses,
            ..InitialTokenOptions::default()
        })
        .await
}

/// `POST /connect/dcr` with the raw `body`, the token if any and each `Idempotency-Key` value.
async fn post(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    keys: &[&[u8]],
    body: &str,
) -> Response {
    let mut request = server
        .http()
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for key in keys {
        request = request.header(
            "idempotency-key",
            reqwest::header::HeaderValue::from_bytes(key).unwrap(),
        );
    }
    request.send().await.unwrap()
}

async fn register(server: &TestServer, token: Option<&str>, key: &str, body: &str) -> Response {
    post(server, "/connect/dcr", token, &[key.as_bytes()], body).await
}

/// A `201`: whether it was replayed, and its body as sent.
async fn created(response: Response) -> (bool, Vec<u8>) {
    assert_eq!(response.status().as_u16(), 201, "expected 201");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let replayed = match response.headers().get("idempotent-replayed") {
        Some(value) => {
            assert_eq!(value, "true");
            true
        }
        None => false,
    };
    (replayed, response.bytes().await.unwrap().to_vec())
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

async fn client_count(server: &TestServer) -> usize {
    server.store().list_clients().await.unwrap().len()
}

async fn stored_token(server: &TestServer) -> InitialAccessToken {
    let mut tokens = server.store().list_initial_tokens().await.unwrap();
    assert_eq!(tokens.len(), 1, "the test minted one token");
    tokens.remove(0)
}

async fn a_retry_gets_the_same_answer_byte_for_byte_and_stores_one_client(backend: Backend) {
    let server = builder(backend).spawn().await;
    // Single use: the retry of a registration whose answer was lost is the case to serve.
    let token = token(&server, Some(1)).await;

    let (first_replayed, first) = created(register(&server, Some(&token), KEY, BODY).await).await;
    let (replayed, retry) =
        created(register(&server, Some(&token), KEY, SAME_BODY_REORDERED).await).await;

    assert!(!first_replayed, "the first answer is not a replay");
    assert!(replayed, "the retry says it is a replay");
    assert_eq!(
        retry, first,
        "the replay is the first answer, byte for byte"
    );
    let client = json_of(&first);
    for member in ["client_id", "client_secret", "registration_access_token"] {
        assert!(client[member].is_string(), "{member} in {client}");
    }
    assert_eq!(client_count(&server).await, 1);
    assert_eq!(stored_token(&server).await.uses, 1);
    // The replay registered nothing, so the audit trail holds one registration.
    let filter = EventFilter {
        client_id: None,
        since: None,
        limit: 100,
    };
    let events = server.stores().events().list_events(&filter).await.unwrap();
    let registrations: Vec<_> = events
        .iter()
        .filter(|event| event.action == Action::Register)
        .collect();
    assert_eq!(registrations.len(), 1, "one registration event: {events:?}");
    assert_eq!(
        registrations[0].client_id.as_deref(),
        client["client_id"].as_str()
    );
    // A used-up token still cannot register anything new with another key.
    let other_key = register(&server, Some(&token), "another-key", BODY).await;
    expect_error(other_key, 401, "invalid_token").await;
}

async fn the_replayed_secret_works_at_the_token_endpoint(backend: Backend) {
    let server = builder(backend).spawn().await;
    let token = token(&server, None).await;
    let body = r#"{"grant_types":["client_credentials"],"scope":"openid"}"#;
    created(register(&server, Some(&token), KEY, body).await).await;

    let (replayed, retry) = created(register(&server, Some(&token), KEY, body).await).await;

    assert!(replayed);
    let client = json_of(&retry);
    let issued = server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let issued = expect_json(issued, 200).await;
    assert!(issued["access_token"].is_string());
    // And the replayed registration access token manages the client.
    let read = server
        .http()
        .get(client["registration_client_uri"].as_str().unwrap())
        .bearer_auth(client["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    expect_json(read, 200).await;
}

async fn the_same_key_with_another_body_is_422(backend: Backend) {
    let server = builder(backend).spawn().await;
    let token = token(&server, None).await;
    created(register(&server, Some(&token), KEY, BODY).await).await;

    let changed = BODY.replace("Retry App", "Other App");
    let description = expect_error(
        register(&server, Some(&token), KEY, &changed).await,
        422,
        "invalid_request",
    )
    .await;

    assert!(
        description.contains("different request body"),
        "{description}"
    );
    assert_eq!(client_count(&server).await, 1);
    assert_eq!(stored_token(&server).await.uses, 1);
}

async fn concurrent_requests_with_one_key_register_one_client(backend: Backend) {
    const REQUESTS: usize = 8;
    let server = Arc::new(builder(backend).spawn().await);
    let token = token(&server, None).await;

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..REQUESTS {
        let (server, token) = (Arc::clone(&server), token.clone());
        requests.spawn(async move { register(&server, Some(&token), KEY, BODY).await });
    }
    let mut fresh = Vec::new();
    let mut replays = Vec::new();
    let mut conflicts = 0;
    while let Some(response) = requests.join_next().await {
        let response = response.unwrap();
        // Each request is answered by the one that stored first: a fresh 201 for it, a 409
        // for those that raced it, and a replay for those that came after its commit.
        match response.status().as_u16() {
            201 => match created(response).await {
                (false, body) => fresh.push(body),
                (true, body) => replays.push(body),
            },
            409 => {
                assert_eq!(response.headers()["retry-after"], "1");
                expect_error(response, 409, "invalid_request").await;
                conflicts += 1;
            }
            status => panic!("a request with the key got {status}"),
        }
    }

    assert_eq!(fresh.len(), 1, "exactly one request registers");
    assert_eq!(fresh.len() + replays.len() + conflicts, REQUESTS);
    for replay in &replays {
        assert_eq!(replay, &fresh[0], "a replay is the winner's answer");
    }
    assert_eq!(client_count(&server).await, 1);
    assert_eq!(stored_token(&server).await.uses, 1);
    // Once it settled, a retry gets the winner's answer.
    let (replayed, retry) = created(register(&server, Some(&token), KEY, BODY).await).await;
    assert!(replayed);
    assert_eq!(retry, fresh[0]);
}

async fn the_same_key_from_another_credential_registers_another_client(backend: Backend) {
    let server = builder(backend).spawn().await;
    let first_token = token(&server, None).await;
    let second_token = token(&server, None).await;

    let (_, first) = created(register(&server, Some(&first_token), KEY, BODY).await).await;
    let (replayed, second) = created(register(&server, Some(&second_token), KEY, BODY).await).await;

    assert!(!replayed, "another credential's key is another key");
    assert_ne!(json_of(&first)["client_id"], json_of(&second)["client_id"]);
    assert_eq!(client_count(&server).await, 2);
}

async fn a_key_answers_retries_only_within_the_window(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = builder(backend)
        .clock(clock.clone())
        .settings(|settings| settings.idempotency_window = 600)
        .spawn()
        .await;
    let token = token(&server, None).await;
    let (_, first) = created(register(&server, Some(&token), KEY, BODY).await).await;

    clock.advance(599);
    let (replayed, retry) = created(register(&server, Some(&token), KEY, BODY).await).await;
    assert!(replayed, "within the window");
    assert_eq!(retry, first);

    clock.advance(1);
    let purged = server
        .store()
        .purge_expired_idempotency_records(clock.now())
        .await
        .unwrap();
    assert_eq!(
        purged, 1,
        "the housekeeping purge deletes the expired record"
    );
    let (replayed, later) = created(register(&server, Some(&token), KEY, BODY).await).await;

    assert!(!replayed, "after the window the key is forgotten");
    assert_ne!(json_of(&later)["client_id"], json_of(&first)["client_id"]);
    assert_eq!(client_count(&server).await, 2);
}

async fn an_anonymous_caller_needs_a_key_of_128_random_bits(backend: Backend) {
    let server = builder(backend)
        .settings(|settings| settings.mode = RegistrationMode::Open)
        .spawn()
        .await;
    let body = r#"{"redirect_uris":["https://app.example.com/cb"]}"#;

    for short in ["retry-1", "0123456789abcdef", "AbCdEfGhIjKlMnOpQrStU"] {
        let description = expect_error(
            register(&server, None, short, body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(description.contains("128 random bits"), "{description}");
    }
    assert_eq!(client_count(&server).await, 0);

    for key in [
        KEY,
        "AbCdEfGhIjKlMnOpQrStUv",
        "0123456789abcdef0123456789abcdef",
    ] {
        let (_, first) = created(register(&server, None, key, body).await).await;
        let (replayed, retry) = created(register(&server, None, key, body).await).await;
        assert!(replayed, "{key}");
        assert_eq!(retry, first);
    }
    assert_eq!(client_count(&server).await, 3);
}

async fn malformed_and_repeated_keys_are_refused(backend: Backend) {
    let server = builder(backend).spawn().await;
    let token = token(&server, None).await;
    let too_long = "k".repeat(256);
    for keys in [
        &[&b"one"[..], &b"two"[..]][..],
        &[&b""[..]][..],
        &[too_long.as_bytes()][..],
        &[&b"two words"[..]][..],
        &[&b"\"unterminated"[..]][..],
        &[&b"\"key\";param=1"[..]][..],
        &[&b"caf\xc3\xa9"[..]][..],
    ] {
        let response = post(&server, "/connect/dcr", Some(&token), keys, BODY).await;
        expect_error(response, 400, "invalid_request").await;
    }
    assert_eq!(client_count(&server).await, 0);
    assert_eq!(stored_token(&server).await.uses, 0);

    // The structured-field string and the bare key are one key.
    let (_, first) = created(register(&server, Some(&token), "retry-1", BODY).await).await;
    let quoted = post(
        &server,
        "/connect/dcr",
        Some(&token),
        &[b"\"retry-1\""],
        BODY,
    )
    .await;
    let (replayed, retry) = created(quoted).await;
    assert!(replayed);
    assert_eq!(retry, first);
}

async fn a_retry_after_delete_or_update_hands_out_no_stale_credentials(backend: Backend) {
    let server = builder(backend).spawn().await;
    let token = token(&server, None).await;

    let (_, deleted) = created(register(&server, Some(&token), "deleted", BODY).await).await;
    let deleted = json_of(&deleted);
    let response = server
        .http()
        .delete(deleted["registration_client_uri"].as_str().unwrap())
        .bearer_auth(deleted["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let retry = register(&server, Some(&token), "deleted", BODY).await;
    let description = expect_error(retry, 422, "invalid_request").await;
    assert!(description.contains("updated or deleted"), "{description}");

    let (_, updated) = created(register(&server, Some(&token), "updated", BODY).await).await;
    let updated = json_of(&updated);
    let update = json!({
        "client_id": updated["client_id"],
        "redirect_uris": ["https://app.example.com/cb"],
        "grant_types": ["authorization_code", "client_credentials"],
        "client_name": "Renamed",
    });
    let response = server
        .http()
        .put(updated["registration_client_uri"].as_str().unwrap())
        .bearer_auth(updated["registration_access_token"].as_str().unwrap())
        .json(&update)
        .send()
        .await
        .unwrap();
    expect_json(response, 200).await;
    let retry = register(&server, Some(&token), "updated", BODY).await;
    expect_error(retry, 422, "invalid_request").await;

    // Neither retry registered anything.
    assert_eq!(client_count(&server).await, 1);
}

async fn a_dry_run_with_a_key_stores_no_key(backend: Backend) {
    let server = builder(backend).spawn().await;
    let token = token(&server, None).await;

    let dry_run = post(
        &server,
        "/connect/dcr?dry_run=true",
        Some(&token),
        &[KEY.as_bytes()],
        BODY,
    )
    .await;
    let answer = expect_json(dry_run, 200).await;
    assert!(answer.get("client_id").is_none());

    let (replayed, _) = created(register(&server, Some(&token), KEY, BODY).await).await;
    assert!(!replayed, "the dry run kept no key to replay");
    assert_eq!(client_count(&server).await, 1);
}

async fn without_a_key_or_with_the_window_off_every_request_registers(backend: Backend) {
    let server = builder(backend.clone()).spawn().await;
    let token = token(&server, None).await;
    for _ in 0..2 {
        let response = post(&server, "/connect/dcr", Some(&token), &[], BODY).await;
        assert!(!created(response).await.0);
    }
    assert_eq!(
        client_count(&server).await,
        2,
        "two installations, two clients"
    );

    let off = builder(backend)
        .settings(|settings| {
            settings.idempotency_window = 0;
            settings.mode = RegistrationMode::Open;
        })
        .spawn()
        .await;
    let body = r#"{"redirect_uris":["https://app.example.com/cb"]}"#;
    for _ in 0..2 {
        // Not even a short anonymous key is looked at: the header is ignored.
        let (replayed, _) = created(register(&off, None, "retry-1", body).await).await;
        assert!(!replayed);
    }
    assert_eq!(client_count(&off).await, 2);
}
