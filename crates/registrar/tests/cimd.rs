//! A Client ID Metadata Document client on the real binary, configured as an operator would: the
//! document is served over https on loopback by a test server whose self-signed certificate
//! `outbound.extra_ca_file` trusts and whose address `outbound.allow_hosts` lists. The client is
//! resolved at `/connect/authorize`, listed and shown by `registrar clients` as a document
//! client with its fetch time, blocked and unblocked there, and `cimd.enabled = false` turns it
//! all off.

#![allow(clippy::unwrap_used)]

mod support;

use registrar_testkit::document_server::{Document, DocumentServer};
use serde_json::{Value, json};
use support::Store;

const PATH: &str = "/mcp/client.json";
const REDIRECT: &str = "http://localhost:33418/callback";

/// The `[outbound]` an operator writes for `documents`, and `extra` sections after it.
fn config(store: &Store, documents: &DocumentServer, extra: &str) -> String {
    let ca = store.file("document-ca.pem", documents.certificate_pem());
    let port = documents.ip_url("").rsplit(':').next().unwrap().to_owned();
    let text = format!(
        "[outbound]\nallow_hosts = [\"127.0.0.1:{port}\"]\nextra_ca_file = {ca:?}\n{extra}"
    );
    store
        .file("registrar.toml", &text)
        .to_str()
        .unwrap()
        .to_owned()
}

/// The OpenID Connect discovery document of the server at `base`.
async fn discovery(base: &str) -> Value {
    reqwest::get(format!("{base}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// What the authorization endpoint answers a browser for the client id `url`.
async fn authorize_status(base: &str, url: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}/connect/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", url),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "s"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_document_client_is_resolved_listed_shown_and_blocked_through_the_binary() {
    let store = Store::sqlite();
    let documents = DocumentServer::start("mcp-client.test").await;
    let url = documents.ip_url(PATH);
    documents.serve(
        PATH,
        Document::json(&json!({
            "client_id": url,
            "client_name": "Binary MCP client",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
        })),
    );
    let config = config(&store, &documents, "");
    let log = store.folder.path().join("server.log");
    let server = store.serve(&["--config", &config], &[], &log).await;
    let discovery = discovery(&server.base).await;
    assert_eq!(discovery["client_id_metadata_document_supported"], true);

    let (status, body) = authorize_status(&server.base, &url).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("id=\"password\""), "the login page: {body}");
    assert_eq!(documents.hits(), 1);

    let list = store.cli(&["--config", &config, "clients", "list"], "");
    let header: Vec<&str> = list.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "CLIENT_ID",
            "CREATED",
            "GRANT_TYPES",
            "STATE",
            "KIND",
            "NAME"
        ]
    );
    let row: Vec<&str> = list
        .lines()
        .find(|line| line.starts_with(&url))
        .unwrap_or_else(|| panic!("{url} is not listed: {list}"))
        .split_whitespace()
        .collect();
    assert_eq!(row[3..], ["active", "document", "Binary", "MCP", "client"]);
    let shown: Value =
        serde_json::from_str(&store.cli(&["--config", &config, "clients", "show", &url], ""))
            .unwrap();
    assert_eq!(shown["metadata_document"]["url"], url);
    assert!(shown["metadata_document"]["fetched_at"].is_i64(), "{shown}");
    assert!(shown.get("registration_client_uri").is_none(), "{shown}");
    assert_eq!(shown["token_endpoint_auth_method"], "none");

    store.cli(&["--config", &config, "clients", "block", &url], "");
    let (status, body) = authorize_status(&server.base, &url).await;
    assert_eq!(status, 400);
    assert!(body.contains("the client is not registered here"), "{body}");
    store.cli(&["--config", &config, "clients", "unblock", &url], "");
    let (status, _) = authorize_status(&server.base, &url).await;
    assert_eq!(status, 200);
    assert_eq!(documents.hits(), 1, "the document was fresh all along");
}

#[tokio::test]
async fn cimd_enabled_false_turns_document_clients_off() {
    let store = Store::sqlite();
    let documents = DocumentServer::start("mcp-client.test").await;
    let url = documents.ip_url(PATH);
    documents.serve(
        PATH,
        Document::json(&json!({"client_id": url, "redirect_uris": [REDIRECT]})),
    );
    let config = config(&store, &documents, "[cimd]\nenabled = false\n");
    let log = store.folder.path().join("server.log");
    let server = store.serve(&["--config", &config], &[], &log).await;
    let discovery = discovery(&server.base).await;
    assert!(
        discovery
            .get("client_id_metadata_document_supported")
            .is_none()
    );
    let (status, _) = authorize_status(&server.base, &url).await;
    assert_eq!(status, 400);
    assert_eq!(documents.hits(), 0);
}
