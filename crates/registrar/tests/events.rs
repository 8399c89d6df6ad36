//! Audit events on the real binary: what `serve` records and logs, and `events list` with
//! `--client`, `--since` and `--json`, on SQLite and PostgreSQL; provenance in `clients show`;
//! `clients delete` recorded. (A user agent reaches the server as visible ASCII only; the
//! table escapes what it prints as `clients list` does, which `commands.rs` tests.)

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Output;

use serde_json::{Value, json};
use support::Store;

const USER_AGENT: &str = "events-test/1.0 (cli)";

#[tokio::test]
async fn events_are_recorded_logged_and_listed_on_sqlite() {
    events_are_recorded_logged_and_listed(Store::sqlite()).await;
}

#[tokio::test]
async fn events_are_recorded_logged_and_listed_on_postgres() {
    let Some(server_url) =
        support::postgres_server_or_skip("events_are_recorded_logged_and_listed_on_postgres")
    else {
        return;
    };
    events_are_recorded_logged_and_listed(Store::postgres(&server_url).await).await;
}

fn events_json(store: &Store, arguments: &[&str]) -> Vec<Value> {
    let mut command = vec!["events", "list", "--json"];
    command.extend_from_slice(arguments);
    serde_json::from_str(&store.cli(&command, "")).unwrap()
}

/// (action, outcome, client id) of each event.
fn summary(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|event| {
            (
                event["action"].as_str().unwrap().to_owned(),
                event["outcome"].as_str().unwrap().to_owned(),
                event["client_id"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

fn triple(action: &str, outcome: &str, client_id: &str) -> (String, String, String) {
    (action.to_owned(), outcome.to_owned(), client_id.to_owned())
}

async fn events_are_recorded_logged_and_listed(store: Store) {
    let token = store
        .cli(&["initial-token", "create", "--max-uses", "2"], "")
        .trim()
        .to_owned();
    let listed = store.cli(&["initial-token", "list"], "");
    let token_id = listed
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let log = store.folder.path().join("server.log");
    let server = store.serve(&[], &[("RUST_LOG", "info")], &log).await;
    let http = reqwest::Client::new();
    let register = |name: &str| {
        http.post(server.url("/connect/dcr"))
            .bearer_auth(&token)
            .header("user-agent", USER_AGENT)
            .json(&json!({"client_name": name, "grant_types": ["client_credentials"], "software_id": "cli-app"}))
            .send()
    };
    let first: Value = register("First").await.unwrap().json().await.unwrap();
    let first_id = first["client_id"].as_str().unwrap().to_owned();
    let secret = first["client_secret"].as_str().unwrap().to_owned();
    let rat = first["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = first["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = http.get(&uri).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let issued = http
        .post(server.url("/connect/token"))
        .basic_auth(&first_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 200);
    let refused = http
        .get(&uri)
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let second: Value = register("Second").await.unwrap().json().await.unwrap();
    let second_id = second["client_id"].as_str().unwrap().to_owned();
    drop(server);

    // Every answer is a log line of its own, reads and tokens included; none holds a credential.
    let text = std::fs::read_to_string(&log).unwrap();
    let audit_lines: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == "registrar::audit")
        .collect();
    let logged: Vec<(String, String, String)> = audit_lines
        .iter()
        .map(|line| {
            (
                line["action"].as_str().unwrap_or("?").to_owned(),
                line["outcome"].as_str().unwrap_or("?").to_owned(),
                line["client_id"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        logged,
        [
            triple("register", "success", &first_id),
            triple("read", "success", &first_id),
            triple("token", "success", &first_id),
            triple("read", "refused", &first_id),
            triple("register", "success", &second_id),
        ],
        "{text}"
    );
    assert_eq!(audit_lines[0]["credential_id"], token_id.as_str());
    assert_eq!(audit_lines[0]["route"], "initial_token");
    assert_eq!(audit_lines[2]["grant_type"], "client_credentials");
    assert_eq!(audit_lines[3]["error"], "invalid_token");
    for credential in [&token, &secret, &rat] {
        assert!(
            !text.contains(credential.as_str()),
            "the log holds a credential"
        );
    }

    // Recorded: changes and refusals, oldest first; the read and the token request are not.
    let events = events_json(&store, &[]);
    assert_eq!(
        summary(&events),
        [
            triple("register", "success", &first_id),
            triple("read", "refused", &first_id),
            triple("register", "success", &second_id),
        ]
    );
    assert_eq!(events[0]["credential_id"], token_id.as_str());
    assert_eq!(events[0]["source_ip"], "127.0.0.1");
    assert_eq!(events[0]["user_agent"], USER_AGENT);
    assert_eq!(events[0]["software_id"], "cli-app");
    assert_eq!(
        summary(&events_json(&store, &["--client", &first_id])),
        [
            triple("register", "success", &first_id),
            triple("read", "refused", &first_id),
        ]
    );
    assert_eq!(events_json(&store, &["--since", "1h"]).len(), 3);
    assert_eq!(
        summary(&events_json(&store, &["--limit", "1"])),
        [triple("register", "success", &second_id)],
        "the limit keeps the newest"
    );

    // The table: a header and a line per event.
    let table = store.cli(&["events", "list"], "");
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.lines().next().unwrap().starts_with("TIME"));
    let refusal = table.lines().nth(2).unwrap();
    for part in [
        "read",
        "refused",
        first_id.as_str(),
        "invalid_token",
        "127.0.0.1",
    ] {
        assert!(refusal.contains(part), "{part} in {refusal}");
    }
    assert!(
        table.lines().nth(1).unwrap().ends_with(USER_AGENT),
        "{table}"
    );

    // Provenance, shown by `clients show` beside the metadata.
    let shown: Value =
        serde_json::from_str(&store.cli(&["clients", "show", &first_id], "")).unwrap();
    assert_eq!(shown["provenance"]["route"], "initial_token");
    assert_eq!(shown["provenance"]["credential_id"], token_id.as_str());
    assert_eq!(shown["provenance"]["software_id"], "cli-app");
    assert_eq!(shown["provenance"]["user_agent"], USER_AGENT);
    assert_eq!(shown["provenance"]["source_ip"], "127.0.0.1");

    // A delete from the command line is recorded too.
    store.cli(&["clients", "delete", &second_id], "");
    let second_events = events_json(&store, &["--client", &second_id]);
    assert_eq!(
        summary(&second_events),
        [
            triple("register", "success", &second_id),
            triple("delete", "success", &second_id),
        ]
    );
    assert_eq!(second_events[1]["route"], "cli");

    // Bad arguments are errors, with nothing on stdout.
    for arguments in [
        &["events", "list", "--since", "soon"][..],
        &["events", "list", "--client", "not a client id"][..],
    ] {
        let Output { status, stdout, .. } = store.command(arguments).output().unwrap();
        assert!(!status.success(), "{arguments:?} succeeded");
        assert!(stdout.is_empty(), "{arguments:?}");
    }
}
