//! `GET /metrics` of the real binary, in a process of its own, so every value is exact: what a
//! registration, a refused one, a token and a bad client secret leave in each series; the
//! latency histogram; `/metrics` on `listen` by default, or only on `metrics.listen`, which
//! stops with the server on SIGTERM; and a bad `metrics.listen` stops the start.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use prometheus_parse::{Scrape, Value as Sample};
use serde_json::{Value, json};
use support::{Server, Store, free_port};

const EXIT_WITHIN: Duration = Duration::from_secs(20);

async fn scrape(http: &reqwest::Client, url: &str) -> Scrape {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

/// The value of the counter or gauge `name` with exactly `labels`; 0 when there is none.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<_> = scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name && sample.labels.len() == labels.len())
        .filter(|sample| {
            labels
                .iter()
                .all(|(label, value)| sample.labels.get(label) == Some(value))
        })
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} twice: {found:?}");
    found.first().map_or(0.0, |sample| match sample.value {
        Sample::Counter(value) | Sample::Gauge(value) | Sample::Untyped(value) => value,
        Sample::Histogram(_) | Sample::Summary(_) => panic!("{name} is not a number"),
    })
}

fn request(
    route: &'static str,
    status: &'static str,
    error: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("route", route),
        ("method", "POST"),
        ("status", status),
        ("error", error),
    ]
}

#[tokio::test]
async fn metrics_count_registrations_and_tokens_on_sqlite() {
    metrics_count_registrations_and_tokens(&Store::sqlite()).await;
}

#[tokio::test]
async fn metrics_count_registrations_and_tokens_on_postgres() {
    let Some(server_url) =
        support::postgres_server_or_skip("metrics_count_registrations_and_tokens_on_postgres")
    else {
        return;
    };
    metrics_count_registrations_and_tokens(&Store::postgres(&server_url).await).await;
}

async fn metrics_count_registrations_and_tokens(store: &Store) {
    let token = store.cli(&["initial-token", "create", "--max-uses", "5"], "");
    let log = store.folder.path().join("server.log");
    let server = store.serve(&[], &[], &log).await;
    let http = reqwest::Client::new();
    let register = |body: Value| {
        http.post(server.url("/connect/dcr"))
            .bearer_auth(token.trim())
            .json(&body)
            .send()
    };
    let machine = json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic"});
    let created = register(machine).await.unwrap();
    assert_eq!(created.status(), 201);
    let client: Value = created.json().await.unwrap();
    // A type error, refused before the policy step: counted under the policy of its route.
    let refused = register(json!({"grant_types": "client_credentials"}))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let token_request = |secret: &str| {
        http.post(server.url("/connect/token"))
            .basic_auth(client["client_id"].as_str().unwrap(), Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let issued = token_request(client["client_secret"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(issued.status(), 200);
    assert_eq!(token_request("wrong").await.unwrap().status(), 401);
    let unknown = http
        .get(server.url(&format!(
            "/connect/dcr/{}/x",
            client["client_id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let metrics = scrape(&http, &server.url("/metrics")).await;
    let registration = |outcome| {
        [
            ("route_of_registration", "initial_token"),
            ("policy", "default"),
            ("outcome", outcome),
        ]
    };
    let registrations = "registrar_registrations_total";
    assert_eq!(
        value(&metrics, registrations, &registration("created")),
        1.0
    );
    assert_eq!(
        value(&metrics, registrations, &registration("refused")),
        1.0
    );
    assert_eq!(
        value(&metrics, registrations, &registration("dry_run")),
        0.0
    );
    // Audit events: the registration and its refusal, the token issued and the one refused.
    let events = "registrar_audit_events_total";
    for (action, outcome) in [
        ("register", "success"),
        ("register", "refused"),
        ("token", "success"),
        ("token", "refused"),
    ] {
        assert_eq!(
            value(
                &metrics,
                events,
                &[("action", action), ("outcome", outcome)]
            ),
            1.0,
            "{action} {outcome}"
        );
    }
    let requests = "registrar_http_requests_total";
    assert_eq!(
        value(&metrics, requests, &request("/connect/dcr", "201", "")),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            requests,
            &request("/connect/dcr", "400", "invalid_client_metadata")
        ),
        1.0
    );
    assert_eq!(
        value(&metrics, requests, &request("/connect/token", "200", "")),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            requests,
            &request("/connect/token", "401", "invalid_client")
        ),
        1.0
    );
    // An unknown path is one label, never the path with its client id.
    assert_eq!(
        value(
            &metrics,
            requests,
            &[
                ("route", "unmatched"),
                ("method", "GET"),
                ("status", "404"),
                ("error", "not_found"),
            ]
        ),
        1.0
    );
    let client_id = client["client_id"].as_str().unwrap();
    assert!(
        metrics.samples.iter().all(|sample| sample
            .labels
            .values()
            .all(|label| !label.contains(client_id))),
        "no label holds a client id"
    );
    assert_eq!(
        value(
            &metrics,
            "registrar_tokens_issued_total",
            &[
                ("grant_type", "client_credentials"),
                ("auth_method", "client_secret_basic"),
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            "registrar_token_requests_refused_total",
            &[
                ("grant_type", "client_credentials"),
                ("error", "invalid_client"),
            ]
        ),
        1.0
    );
    assert_eq!(
        value(&metrics, "registrar_clients", &[("policy", "default")]),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            "registrar_http_request_duration_seconds_count",
            &[("route", "/connect/dcr")]
        ),
        2.0
    );
    let histogram = metrics
        .samples
        .iter()
        .find(|sample| {
            sample.metric == "registrar_http_request_duration_seconds"
                && sample.labels.get("route") == Some("/connect/token")
        })
        .expect("the latency histogram of the token endpoint");
    let Sample::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {histogram:?}");
    };
    assert_eq!(buckets.len(), 15, "14 bounds and +Inf: {buckets:?}");
    assert_eq!(buckets[0].less_than, 0.0005);
    assert_eq!(buckets[13].less_than, 10.0);
    assert_eq!(buckets[14].count, 2.0);
    assert!(
        metrics.docs.contains_key("registrar_registrations_total"),
        "series carry their help text"
    );
}

/// A config file with `[metrics] listen` on a free port, and that address.
fn metrics_config(store: &Store) -> (std::path::PathBuf, String) {
    let address = format!("127.0.0.1:{}", free_port());
    let config = store.file(
        "registrar.toml",
        &format!("[metrics]\nlisten = \"{address}\"\n"),
    );
    (config, address)
}

#[tokio::test]
async fn metrics_listen_serves_metrics_there_only_and_stops_with_the_server() {
    let store = Store::sqlite();
    let (config, address) = metrics_config(&store);
    let log = store.folder.path().join("server.log");
    let mut server: Server = store
        .serve(&["--config", config.to_str().unwrap()], &[], &log)
        .await;
    let http = reqwest::Client::new();
    let main = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404, "not on the main listener");
    let metrics = scrape(&http, &format!("http://{address}/metrics")).await;
    // The readiness probes of the test support, on the main listener.
    assert!(
        value(
            &metrics,
            "registrar_http_requests_total",
            &[
                ("route", "/readyz"),
                ("method", "GET"),
                ("status", "200"),
                ("error", ""),
            ]
        ) >= 1.0
    );
    assert_eq!(
        value(
            &metrics,
            "registrar_http_requests_total",
            &[
                ("route", "unmatched"),
                ("method", "GET"),
                ("status", "404"),
                ("error", "not_found"),
            ]
        ),
        1.0,
        "the main listener's 404 for /metrics"
    );
    let elsewhere = http
        .get(format!("http://{address}/connect/dcr"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        404,
        "the metrics listener serves nothing else"
    );

    server.signal("TERM");
    assert!(server.exit_status(EXIT_WITHIN).await.success());
    assert!(
        std::net::TcpStream::connect(&address).is_err(),
        "the metrics listener is closed"
    );
}

#[test]
fn a_bad_metrics_listen_stops_the_start() {
    let store = Store::sqlite();
    let cases = [
        (
            "[metrics]\nlisten = \"localhost:9100\"\n",
            "metrics.listen: \"localhost:9100\" is not an address such as 127.0.0.1:9100",
        ),
        (
            "[metrics]\nlisten = \"127.0.0.1:8080\"\n",
            "metrics.listen: 127.0.0.1:8080 is also listen",
        ),
        ("[metrics]\nport = 9100\n", "unknown field `port`"),
    ];
    for (text, expected) in cases {
        let config = store.file("bad.toml", text);
        let output = store
            .command(&[
                "serve",
                "--listen",
                "127.0.0.1:8080",
                "--config",
                config.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{text} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
}

#[tokio::test]
async fn a_metrics_listen_address_in_use_stops_the_start() {
    let store = Store::sqlite();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let config = store.file(
        "registrar.toml",
        &format!("[metrics]\nlisten = \"{address}\"\n"),
    );
    let output = store
        .command(&[
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--config",
            config.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("metrics.listen: cannot listen on {address}")),
        "{stderr}"
    );
}
