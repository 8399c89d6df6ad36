//! Audit events over HTTP: every create, update, delete and refusal is recorded with who, how
//! and from where; reads and token requests are not; refusals are bounded; no event holds a
//! secret or token.

use registrar_core::ClientId;
use registrar_core::audit::{Action, AuditEvent, EventFilter, Outcome};
use registrar_core::initial_token::InitialTokenOptions;
use registrar_server::TokenOptions;
use registrar_server::rate_limit::Quota;
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_json};

backends!(
    changes_and_refusals_are_recorded_and_reads_and_tokens_are_not,
    refusals_are_bounded_by_max_refusals,
    refusals_before_the_pipeline_are_recorded_and_rate_limits_only_logged,
);

const USER_AGENT: &str = "audit-test/1.0 (x11; like nothing)";

async fn all_events(server: &TestServer) -> Vec<AuditEvent> {
    let filter = EventFilter {
        client_id: None,
        since: None,
        limit: 10_000,
    };
    let mut events = server.stores().events().list_events(&filter).await.unwrap();
    events.reverse();
    events
}

/// (action, outcome, client id, route, error) of an event.
type Summary = (Action, Outcome, Option<String>, String, Option<String>);

/// The summary of each event, oldest first.
fn summary(events: &[AuditEvent]) -> Vec<Summary> {
    events
        .iter()
        .map(|event| {
            (
                event.action,
                event.outcome,
                event.client_id.clone(),
                event.route.clone().unwrap_or_default(),
                event.error.clone(),
            )
        })
        .collect()
}

async fn changes_and_refusals_are_recorded_and_reads_and_tokens_are_not(backend: Backend) {
    let server = TestServer::spawn_unlimited(backend).await;
    let http = server.http();
    let token = server
        .initial_token(InitialTokenOptions {
            max_uses: Some(5),
            note: Some("audit".to_owned()),
            ..InitialTokenOptions::default()
        })
        .await;
    let token_id = server
        .stores()
        .initial_tokens()
        .list_initial_tokens()
        .await
        .unwrap()[0]
        .id
        .clone();
    let endpoint = server.url("/connect/dcr");

    // A registration, with a software_id that its provenance keeps.
    let registered = expect_json(
        http.post(&endpoint)
            .bearer_auth(&token)
            .header("user-agent", USER_AGENT)
            .json(&json!({
                "grant_types": ["client_credentials"],
                "client_name": "Old name",
                "software_id": "audit-app",
                "scope": "openid",
            }))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let secret = registered["client_secret"].as_str().unwrap().to_owned();
    let first_rat = registered["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = registered["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(all_events(&server).await.len(), 1);

    // A read and a token request cost no write.
    expect_json(
        http.get(&uri).bearer_auth(&first_rat).send().await.unwrap(),
        200,
    )
    .await;
    expect_json(
        http.post(server.url("/connect/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        all_events(&server).await.len(),
        1,
        "reads and token requests record nothing"
    );

    // An update: one member changed, one added.
    let updated = expect_json(
        http.put(&uri)
            .bearer_auth(&first_rat)
            .json(&json!({
                "client_id": client_id,
                "grant_types": ["client_credentials"],
                "client_name": "New name",
                "software_id": "audit-app",
                "scope": "openid",
                "client_uri": "https://app.example.com/",
            }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let second_rat = updated["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Refusals: a registration with bad metadata, a management request with the old token.
    expect_error(
        http.post(&endpoint)
            .bearer_auth(&token)
            .json(&json!({"redirect_uris": ["https://app.example.com/cb#fragment"]}))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_redirect_uri",
    )
    .await;
    expect_error(
        http.delete(&uri)
            .bearer_auth(&first_rat)
            .send()
            .await
            .unwrap(),
        401,
        "invalid_token",
    )
    .await;

    // Provenance, while the client is registered.
    let stored_id = ClientId::parse(&client_id).unwrap();
    let provenance = server
        .stores()
        .events()
        .client_provenance(&stored_id)
        .await
        .unwrap()
        .expect("a registered client has its provenance");
    assert_eq!(provenance.route.as_deref(), Some("initial_token"));
    assert_eq!(provenance.credential_id.as_deref(), Some(token_id.as_str()));
    assert_eq!(provenance.software_id.as_deref(), Some("audit-app"));
    assert_eq!(provenance.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(provenance.user_agent.as_deref(), Some(USER_AGENT));

    let deleted = http
        .delete(&uri)
        .bearer_auth(&second_rat)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let events = all_events(&server).await;
    let client = Some(client_id.clone());
    let text = |value: &str| Some(value.to_owned());
    assert_eq!(
        summary(&events),
        [
            (
                Action::Register,
                Outcome::Success,
                client.clone(),
                "initial_token".to_owned(),
                None
            ),
            (
                Action::Update,
                Outcome::Success,
                client.clone(),
                "registration_access_token".to_owned(),
                None
            ),
            (
                Action::Register,
                Outcome::Refused,
                None,
                "initial_token".to_owned(),
                text("invalid_redirect_uri")
            ),
            (
                Action::Delete,
                Outcome::Refused,
                client.clone(),
                "registration_access_token".to_owned(),
                text("invalid_token")
            ),
            (
                Action::Delete,
                Outcome::Success,
                client.clone(),
                "registration_access_token".to_owned(),
                None
            ),
        ]
    );
    let registration = &events[0];
    assert_eq!(
        registration.credential_id.as_deref(),
        Some(token_id.as_str())
    );
    assert_eq!(registration.software_id.as_deref(), Some("audit-app"));
    assert_eq!(registration.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(registration.user_agent.as_deref(), Some(USER_AGENT));
    assert_eq!(events[2].credential_id.as_deref(), Some(token_id.as_str()));
    assert_eq!(events[3].source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        events[3].credential_id, None,
        "a registration access token has no handle"
    );

    let changes: Vec<(&str, Option<Value>, Option<Value>)> = events[1]
        .changes
        .iter()
        .map(|change| {
            (
                change.member.as_str(),
                change.old.clone(),
                change.new.clone(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                "client_name",
                Some(json!("Old name")),
                Some(json!("New name"))
            ),
            ("client_uri", None, Some(json!("https://app.example.com/"))),
        ]
    );

    // The client is gone, and so is its provenance; the events stay.
    assert_eq!(
        server
            .stores()
            .events()
            .client_provenance(&stored_id)
            .await
            .unwrap(),
        None
    );
    let serialized = serde_json::to_string(&events).unwrap();
    for credential in [&token, &secret, &first_rat, &second_rat] {
        assert!(
            !serialized.contains(credential.as_str()),
            "an event holds a credential"
        );
    }
}

async fn refusals_are_bounded_by_max_refusals(backend: Backend) {
    let mut options = TokenOptions::default();
    options.rate_limits.enabled = false;
    let server = TestServer::builder(backend)
        .tokens(options)
        .settings(|settings| settings.audit.max_refusals = 3)
        .spawn()
        .await;
    let registered = expect_json(
        server
            .register(json!({"client_name": "Kept", "grant_types": ["client_credentials"]}))
            .await,
        201,
    )
    .await;

    // Protected mode, no token: each is refused before any metadata is read.
    for _ in 0..7 {
        expect_error(
            server
                .http()
                .post(server.url("/connect/dcr"))
                .json(&json!({"client_name": "Flood"}))
                .send()
                .await
                .unwrap(),
            401,
            "invalid_token",
        )
        .await;
    }

    let events = all_events(&server).await;
    let refusals: Vec<&AuditEvent> = events
        .iter()
        .filter(|event| event.outcome == Outcome::Refused)
        .collect();
    assert_eq!(refusals.len(), 3, "at most max_refusals refusals are kept");
    assert!(
        refusals
            .iter()
            .all(|event| event.route.as_deref() == Some("open"))
    );
    assert_eq!(
        events
            .iter()
            .filter(|event| event.outcome == Outcome::Success)
            .map(|event| event.client_id.clone())
            .collect::<Vec<_>>(),
        [registered["client_id"].as_str().map(str::to_owned)],
        "a change's event is never dropped for refusals"
    );
}

/// What the server refuses before the pipeline sees a request (a malformed header, parameter
/// or body) is an event like the pipeline's refusals; a rate-limited request is logged and
/// counted but not stored, so a flood the limiter absorbs costs no write.
async fn refusals_before_the_pipeline_are_recorded_and_rate_limits_only_logged(backend: Backend) {
    let mut options = TokenOptions::default();
    options.rate_limits.registration = Quota::new(5, 3600);
    options.rate_limits.initial_token = Quota::new(1000, 1);
    let server = TestServer::builder(backend).tokens(options).spawn().await;
    let http = server.http();
    let token = server.initial_token(InitialTokenOptions::default()).await;
    let endpoint = server.url("/connect/dcr");

    let registered = expect_json(
        http.post(&endpoint)
            .bearer_auth(&token)
            .json(&json!({"grant_types": ["client_credentials"]}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let uri = registered["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_owned();

    // An authorized caller's body that is not JSON, and one that is not an object.
    expect_error(
        http.post(&endpoint)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("user-agent", USER_AGENT)
            .body("{not json")
            .send()
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    let unsupported = http
        .post(&endpoint)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), 415);
    // A malformed Authorization header, and a dry_run that is neither true nor false.
    expect_error(
        http.post(&endpoint)
            .header("authorization", "Bearer not a b64token")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        401,
        "invalid_token",
    )
    .await;
    expect_error(
        http.post(format!("{endpoint}?dry_run=yes"))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    // A management request without a token.
    expect_error(http.get(&uri).send().await.unwrap(), 401, "invalid_token").await;
    let stored_before_limit = all_events(&server).await.len();

    // The registration limit (5 an hour) is spent by the five registrations above; the rest are 429.
    for _ in 0..3 {
        let limited = http
            .post(&endpoint)
            .bearer_auth(&token)
            .json(&json!({"grant_types": ["client_credentials"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(limited.status(), 429);
    }

    let events = all_events(&server).await;
    assert_eq!(
        events.len(),
        stored_before_limit,
        "a rate-limited request stores no event"
    );
    let refused = |action, client: Option<&str>, route: &str, error: &str| -> Summary {
        (
            action,
            Outcome::Refused,
            client.map(str::to_owned),
            route.to_owned(),
            Some(error.to_owned()),
        )
    };
    let refusals: Vec<Summary> = summary(&events).into_iter().skip(1).collect();
    assert_eq!(
        refusals,
        [
            refused(Action::Register, None, "initial_token", "invalid_request"),
            refused(Action::Register, None, "initial_token", "invalid_request"),
            refused(Action::Register, None, "initial_token", "invalid_token"),
            refused(Action::Register, None, "initial_token", "invalid_request"),
            refused(
                Action::Read,
                Some(&client_id),
                "registration_access_token",
                "invalid_token"
            ),
        ]
    );
    assert_eq!(events[1].user_agent.as_deref(), Some(USER_AGENT));
    assert_eq!(events[1].source_ip.as_deref(), Some("127.0.0.1"));
}
