//! `clients block` and `clients unblock` on the real binary, against a running server: the
//! block takes effect at the next request (no cache stands between them), `clients show` gives
//! the client's last use and block, and both are audit events. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Output;

use serde_json::{Value, json};
use support::Store;

#[tokio::test]
async fn clients_block_and_unblock_a_running_servers_client_on_sqlite() {
    block_and_unblock(Store::sqlite()).await;
}

#[tokio::test]
async fn clients_block_and_unblock_a_running_servers_client_on_postgres() {
    let Some(server_url) = support::postgres_server_or_skip(
        "clients_block_and_unblock_a_running_servers_client_on_postgres",
    ) else {
        return;
    };
    block_and_unblock(Store::postgres(&server_url).await).await;
}

/// The STATE column of `clients list` for `client_id`.
fn listed_state(store: &Store, client_id: &str) -> String {
    let list = store.cli(&["clients", "list"], "");
    let header = list.lines().next().unwrap_or_default();
    assert!(header.contains("STATE"), "{list}");
    let row = list
        .lines()
        .find(|line| line.starts_with(client_id))
        .unwrap_or_else(|| panic!("{client_id} is not listed: {list}"));
    row.split_whitespace().nth(3).unwrap_or_default().to_owned()
}

async fn block_and_unblock(store: Store) {
    let token = store
        .cli(&["initial-token", "create"], "")
        .trim()
        .to_owned();
    let log = store.folder.path().join("server.log");
    let server = store.serve(&[], &[], &log).await;
    let http = reqwest::Client::new();
    let client: Value = http
        .post(server.url("/connect/dcr"))
        .bearer_auth(&token)
        .json(&json!({"grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let secret = client["client_secret"].as_str().unwrap().to_owned();
    let rat = client["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = client["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let token_status = || async {
        http.post(server.url("/connect/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .status()
    };
    let read_status = || async {
        http.get(&uri)
            .bearer_auth(&rat)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(token_status().await, 200);
    let shown: Value =
        serde_json::from_str(&store.cli(&["clients", "show", &client_id], "")).unwrap();
    assert!(shown["last_used_at"].is_i64(), "{shown}");
    assert!(shown.get("blocked_at").is_none());

    store.cli(&["clients", "block", &client_id], "");
    assert_eq!(
        token_status().await,
        401,
        "a blocked client cannot authenticate"
    );
    assert_eq!(read_status().await, 401, "nor manage itself");
    let shown: Value =
        serde_json::from_str(&store.cli(&["clients", "show", &client_id], "")).unwrap();
    assert!(shown["blocked_at"].is_i64(), "{shown}");
    assert_eq!(listed_state(&store, &client_id), "blocked");

    store.cli(&["clients", "unblock", &client_id], "");
    assert_eq!(listed_state(&store, &client_id), "active");
    assert_eq!(token_status().await, 200);
    assert_eq!(read_status().await, 200);

    let events: Vec<Value> =
        serde_json::from_str(&store.cli(&["events", "list", "--json", "--client", &client_id], ""))
            .unwrap();
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|event| {
            (
                event["action"].as_str().unwrap(),
                event["route"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("register", "initial_token"),
            ("block", "cli"),
            ("read", "registration_access_token"),
            ("unblock", "cli"),
        ]
    );

    for arguments in [
        &["clients", "block", "no-such-client"][..],
        &["clients", "unblock", "no-such-client"][..],
    ] {
        let Output { status, stderr, .. } = store.command(arguments).output().unwrap();
        assert!(!status.success(), "{arguments:?} succeeded");
        assert!(
            String::from_utf8_lossy(&stderr).contains("no client has the id no-such-client"),
            "{arguments:?}"
        );
    }
}
