//! `GET /metrics` as a library user mounts it: Registrar's recorder, the series a registration,
//! a dry run, a refusal and token requests leave, and the client gauge counted from the store at
//! most every `ClientGauge::MAX_AGE` seconds of the injected clock.
//!
//! The recorder is global, and other tests of this binary count into it at the same time: the
//! registrations and the gauge are read under a policy of this test's own, the shared series by
//! how much they grew. `crates/registrar/tests/metrics.rs` checks exact values in a process of
//! its own.

use std::sync::Arc;

use prometheus_parse::{Scrape, Value as Sample};
use registrar_core::initial_token::InitialTokenOptions;
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::{Clock as _, ManualClock, Policies, Policy, SystemClock};
use registrar_server::RouterOptions;
use registrar_server::metrics::{ClientGauge, install_recorder};
use registrar_testkit::document_server::{Document, DocumentServer};
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_json};

backends!(
    metrics_count_registrations_tokens_and_clients_under_their_policy,
    outbound_fetches_are_counted_by_document_and_outcome,
);

/// The value of the counter or gauge `name` with exactly `labels`; 0 when it has none yet.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name && sample.labels.len() == labels.len())
        .find(|sample| {
            labels
                .iter()
                .all(|(label, value)| sample.labels.get(label) == Some(value))
        })
        .map_or(0.0, |sample| match sample.value {
            Sample::Counter(value) | Sample::Gauge(value) | Sample::Untyped(value) => value,
            Sample::Histogram(_) | Sample::Summary(_) => panic!("{name} is not a number"),
        })
}

async fn scrape(server: &TestServer) -> Scrape {
    let response = server
        .http()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

async fn metrics_count_registrations_tokens_and_clients_under_their_policy(backend: Backend) {
    let handle = install_recorder().unwrap();
    // A second server in the same process shares the recorder.
    install_recorder().unwrap();
    let policy = format!("metrics_{}", random_token(&OsRandom, 6));
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let configured = policy.clone();
    let server = TestServer::builder(backend)
        .clock(clock.clone())
        .settings(move |settings| {
            settings.policies = Policies::new(vec![Policy::unrestricted(&configured)]).unwrap();
        })
        .router_options(RouterOptions {
            metrics: Some(handle),
            ..RouterOptions::default()
        })
        .spawn()
        .await;
    let token = server
        .initial_token(InitialTokenOptions {
            policy: Some(policy.clone()),
            ..InitialTokenOptions::default()
        })
        .await;
    let register = |body: Value, query: &'static str| {
        server
            .http()
            .post(format!("{}{query}", server.url("/connect/dcr")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let registration = |outcome: &'static str| {
        [
            ("route_of_registration", "initial_token"),
            ("policy", policy.as_str()),
            ("outcome", outcome),
        ]
    };
    let refused_request = [
        ("route", "/connect/dcr"),
        ("method", "POST"),
        ("status", "400"),
        ("error", "invalid_redirect_uri"),
    ];
    let bad_secret = [
        ("grant_type", "client_credentials"),
        ("error", "invalid_client"),
    ];

    let before = scrape(&server).await;
    assert_eq!(
        value(&before, "registrar_clients", &[("policy", &policy)]),
        0.0
    );
    let machine = json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic"});
    let client = expect_json(register(machine.clone(), "").await.unwrap(), 201).await;
    expect_json(register(machine, "?dry_run=true").await.unwrap(), 200).await;
    let fragment = json!({"redirect_uris": ["https://app.example/cb#fragment"]});
    expect_error(
        register(fragment, "").await.unwrap(),
        400,
        "invalid_redirect_uri",
    )
    .await;
    let token_request = |secret: &str| {
        server
            .http()
            .post(server.url("/connect/token"))
            .basic_auth(client["client_id"].as_str().unwrap(), Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    expect_json(
        token_request(client["client_secret"].as_str().unwrap())
            .await
            .unwrap(),
        200,
    )
    .await;
    expect_error(token_request("wrong").await.unwrap(), 401, "invalid_client").await;

    let after = scrape(&server).await;
    let registrations = "registrar_registrations_total";
    assert_eq!(value(&after, registrations, &registration("created")), 1.0);
    assert_eq!(value(&after, registrations, &registration("dry_run")), 1.0);
    assert_eq!(value(&after, registrations, &registration("refused")), 1.0);
    let grew = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert!(grew("registrar_http_requests_total", &refused_request) >= 1.0);
    assert!(
        grew(
            "registrar_tokens_issued_total",
            &[
                ("grant_type", "client_credentials"),
                ("auth_method", "client_secret_basic"),
            ]
        ) >= 1.0
    );
    assert!(grew("registrar_token_requests_refused_total", &bad_secret) >= 1.0);
    let durations = after
        .samples
        .iter()
        .find(|sample| {
            sample.metric == "registrar_http_request_duration_seconds"
                && sample.labels.get("route") == Some("/connect/token")
        })
        .expect("the token endpoint's latency histogram");
    let Sample::Histogram(buckets) = &durations.value else {
        panic!("not a histogram: {durations:?}");
    };
    let bounds: Vec<f64> = buckets.iter().map(|bucket| bucket.less_than).collect();
    assert_eq!(bounds.first(), Some(&0.0005));
    assert!(bounds.contains(&10.0), "{bounds:?}");
    assert!(buckets.last().unwrap().count >= 2.0, "{buckets:?}");

    // The gauge is the count of the first scrape until it is ClientGauge::MAX_AGE seconds old.
    assert_eq!(
        value(&after, "registrar_clients", &[("policy", &policy)]),
        0.0
    );
    clock.advance(ClientGauge::MAX_AGE);
    let counted = scrape(&server).await;
    assert_eq!(
        value(&counted, "registrar_clients", &[("policy", &policy)]),
        1.0
    );
    let deleted = server
        .http()
        .delete(client["registration_client_uri"].as_str().unwrap())
        .bearer_auth(client["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    clock.advance(ClientGauge::MAX_AGE);
    let emptied = scrape(&server).await;
    assert_eq!(
        value(&emptied, "registrar_clients", &[("policy", &policy)]),
        0.0,
        "a policy whose last client went counts 0"
    );
    assert!(
        emptied
            .samples
            .iter()
            .any(|sample| sample.metric == "registrar_clients"
                && sample.labels.get("policy") == Some(policy.as_str())),
        "the gauge of an emptied policy is still there"
    );
}

async fn outbound_fetches_are_counted_by_document_and_outcome(backend: Backend) {
    let documents = DocumentServer::start("sector.test").await;
    let server = TestServer::builder(backend)
        .tokens(documents.token_options())
        .router_options(RouterOptions {
            metrics: Some(install_recorder().unwrap()),
            ..RouterOptions::default()
        })
        .spawn()
        .await;
    let callback = "https://app.example.com/cb";
    documents.serve("/sector.json", Document::json(&json!([callback])));
    documents.serve("/missing.json", Document::status("404 Not Found"));
    let fetches = |outcome: &'static str| [("document", "sector_identifier"), ("outcome", outcome)];
    let metadata = |path: &str| json!({"redirect_uris": [callback], "sector_identifier_uri": documents.url(path)});

    let before = scrape(&server).await;
    expect_json(server.register(metadata("/sector.json")).await, 201).await;
    expect_error(
        server.register(metadata("/missing.json")).await,
        400,
        "invalid_client_metadata",
    )
    .await;
    let after = scrape(&server).await;
    let name = "registrar_outbound_fetches_total";
    let grew =
        |outcome| value(&after, name, &fetches(outcome)) - value(&before, name, &fetches(outcome));
    assert!(grew("ok") >= 1.0, "a document fetched");
    assert!(grew("status") >= 1.0, "a 404 answer");
    assert_eq!(documents.hits(), 2);
}
