//! Crash safety: the real binary is killed with SIGKILL while registrations are in flight, then
//! started again on the same store; every registration it had answered `201` must still be
//! there, readable with its registration access token, and its secret must still work.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, Store};
use tokio::sync::{Mutex, Notify};

/// Concurrent registering tasks.
const TASKS: usize = 16;
/// The server is killed once this many registrations were answered `201`.
const KILL_AFTER: usize = 150;
/// At most this many registrations per task, so the load is bounded whatever happens.
const MAX_PER_TASK: usize = 40;

/// Rate limits off: 16 tasks on one address register far faster than the default allows.
const CONFIG: &str = "[rate_limits]\nenabled = false\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_201_survives_sigkill_on_sqlite() {
    every_201_survives_sigkill(Store::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_201_survives_sigkill_on_postgres() {
    let Some(server_url) =
        support::postgres_server_or_skip("every_201_survives_sigkill_on_postgres")
    else {
        return;
    };
    every_201_survives_sigkill(Store::postgres(&server_url).await).await;
}

/// A registration the server answered `201`, with the credentials it returned.
#[derive(Debug)]
struct Acknowledged {
    client_id: String,
    client_name: String,
    client_secret: String,
    registration_access_token: String,
}

async fn every_201_survives_sigkill(store: Store) {
    let config = store.file("registrar.toml", CONFIG);
    let config = config.to_str().unwrap();
    let log = store.folder.path().join("server.log");
    let initial_token = store
        .cli(
            &[
                "--config",
                config,
                "initial-token",
                "create",
                "--max-uses",
                "1000",
                "--expires-in",
                "1h",
            ],
            "",
        )
        .trim_end()
        .to_owned();
    let mut server = store.serve(&["--config", config], &[], &log).await;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::<Acknowledged>::new()));
    let enough = Arc::new(Notify::new());
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (http, acknowledged, enough, in_flight) = (
            http.clone(),
            acknowledged.clone(),
            enough.clone(),
            in_flight.clone(),
        );
        let (endpoint, initial_token) = (server.url("/connect/dcr"), initial_token.clone());
        tasks.push(tokio::spawn(async move {
            for number in 0..MAX_PER_TASK {
                let client_name = format!("crash test {task}-{number}");
                in_flight.fetch_add(1, Ordering::SeqCst);
                let answer = register(&http, &endpoint, &initial_token, &client_name).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                // Once the server is gone every request fails: the task is done.
                let Some(registered) = answer else { return };
                let mut acknowledged = acknowledged.lock().await;
                acknowledged.push(Acknowledged {
                    client_id: registered["client_id"].as_str().unwrap().to_owned(),
                    client_name,
                    client_secret: registered["client_secret"].as_str().unwrap().to_owned(),
                    registration_access_token: registered["registration_access_token"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                });
                if acknowledged.len() >= KILL_AFTER {
                    enough.notify_one();
                }
            }
        }));
    }
    // A request that is certainly in flight at the kill, whatever the tasks are doing: its
    // headers promise a body that never comes.
    let mut unfinished =
        std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    let partial = format!(
        "POST /connect/dcr HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {initial_token}\r\n\
         content-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"client_name\": \"never"
    );
    unfinished.write_all(partial.as_bytes()).unwrap();

    tokio::time::timeout(Duration::from_secs(30), enough.notified())
        .await
        .unwrap_or_else(|_| panic!("{KILL_AFTER} registrations were not answered within 30 s"));
    let cut_off = in_flight.load(Ordering::SeqCst);
    server.kill();
    for task in tasks {
        task.await.unwrap();
    }
    drop(unfinished);
    let acknowledged = Arc::try_unwrap(acknowledged).unwrap().into_inner();
    assert!(acknowledged.len() >= KILL_AFTER, "{}", acknowledged.len());
    eprintln!(
        "killed after {} registrations, with {cut_off} more in flight",
        acknowledged.len()
    );

    let server = store.serve(&["--config", config], &[], &log).await;
    let checked = acknowledged.len();
    check_every_registration(&http, &server, acknowledged).await;
    eprintln!("all {checked} read back, and their secrets work");
    // The store is whole: registering goes on where it stopped.
    let registered = register(
        &http,
        &server.url("/connect/dcr"),
        &initial_token,
        "after the crash",
    )
    .await;
    assert!(registered.is_some(), "registering after the restart failed");
}

/// `Some(client information)` for a `201`; `None` when the request failed on the way (the
/// server was killed). Any other answer is a failure of the test.
async fn register(
    http: &reqwest::Client,
    endpoint: &str,
    initial_token: &str,
    client_name: &str,
) -> Option<Value> {
    let response = http
        .post(endpoint)
        .bearer_auth(initial_token)
        .json(&json!({
            "client_name": client_name,
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.bytes().await.ok()?;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    Some(serde_json::from_slice(&body).unwrap())
}

/// Reads back every acknowledged registration (RFC 7592) and uses its secret at the token
/// endpoint, `TASKS` at a time.
async fn check_every_registration(
    http: &reqwest::Client,
    server: &Server,
    acknowledged: Vec<Acknowledged>,
) {
    let mut checks = tokio::task::JoinSet::new();
    for client in acknowledged {
        if checks.len() == TASKS {
            checks.join_next().await.unwrap().unwrap();
        }
        let (http, management) = (
            http.clone(),
            server.url(&format!("/connect/dcr/{}", client.client_id)),
        );
        let token_endpoint = server.url("/connect/token");
        checks.spawn(async move {
            let read = http
                .get(management)
                .bearer_auth(&client.registration_access_token)
                .send()
                .await
                .unwrap();
            assert_eq!(read.status().as_u16(), 200, "reading {client:?}");
            let read: Value = read.json().await.unwrap();
            assert_eq!(read["client_id"], client.client_id.as_str());
            assert_eq!(read["client_name"], client.client_name.as_str());

            let token = http
                .post(token_endpoint)
                .basic_auth(&client.client_id, Some(&client.client_secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            assert_eq!(token.status().as_u16(), 200, "token for {client:?}");
            let token: Value = token.json().await.unwrap();
            assert!(token["access_token"].is_string(), "{token}");
        });
    }
    while let Some(check) = checks.join_next().await {
        check.unwrap();
    }
}
