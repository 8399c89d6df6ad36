//! The official MCP TypeScript SDK's OAuth client (`@modelcontextprotocol/sdk`, pinned in
//! `tests/mcp-sdk/package.json`) against the real server: `tests/mcp-sdk/flow.mjs` discovers,
//! registers a public client, authorizes with PKCE and a resource, plays the user on the login and
//! consent pages, redeems the code and refreshes, with the SDK's own functions one by one and then
//! through its `auth()` orchestrator; `tests/mcp-sdk/cimd.mjs` runs `auth()` with a provider whose
//! `clientMetadataUrl` is a Client ID Metadata Document this test serves, so the SDK uses the URL
//! as its client id instead of registering. The tests check what the scripts report against the
//! store, the document server, the published keys, introspection and userinfo.
//!
//! `.ci/run` installs the SDK with `npm ci`. Without `node` or the installed SDK the test skips,
//! printing why, except under `CI`, where it fails, as the browser test does.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use registrar_core::{ClientId, RegistrationMode};
use registrar_testkit::document_server::{Document, DocumentServer};
use registrar_testkit::{Backend, TestServer};
use serde_json::{Value, json};
use tokio::process::Command;

use super::support::{
    PASSWORD, add_user, confidential_client, introspect, userinfo, verified_id_token,
};

/// The resource the SDK asks a token for: an MCP server's URL, as `auth()` derives it.
const MCP_SERVER: &str = "https://mcp.example.com/mcp";
/// The host of the client's metadata document URL in the CIMD test; the fetcher resolves it to
/// the test's document server.
const DOCUMENT_HOST: &str = "mcp-client.example";
/// Where the SDK's provider in `cimd.mjs` says it listens, as its document registers; nothing
/// listens there, the script reads the redirect instead.
const DOCUMENT_REDIRECT_URI: &str = "http://localhost:33419/callback";
/// Bounds a hung `node`: the whole flow takes about a second.
const FLOW_TIMEOUT: Duration = Duration::from_secs(120);

/// The folder of `flow.mjs`, when `node` and its installed SDK are there to run it; `None`
/// (after saying why) when they are not and `CI` is unset.
async fn sdk_folder_or_skip(test: &str) -> Option<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp-sdk");
    let missing = match Command::new("node").arg("--version").output().await {
        Err(error) => Some(format!("node is not on PATH ({error})")),
        Ok(output) if !output.status.success() => Some("node --version failed".to_owned()),
        Ok(_)
            if !folder
                .join("node_modules/@modelcontextprotocol/sdk/package.json")
                .is_file() =>
        {
            Some(format!(
                "the MCP SDK is not installed (run npm ci in {})",
                folder.display()
            ))
        }
        Ok(_) => None,
    };
    match missing {
        None => Some(folder),
        Some(reason) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping {test}: {reason}");
            None
        }
        Some(reason) => panic!("{test} needs node and the MCP SDK: {reason}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_typescript_sdk_registers_authorizes_and_refreshes() {
    let test = "the_mcp_typescript_sdk_registers_authorizes_and_refreshes";
    let Some(folder) = sdk_folder_or_skip(test).await else {
        return;
    };
    // The SDK's registerClient sends no initial access token: MCP clients register openly.
    let server = TestServer::builder(Backend::Sqlite)
        .settings(|settings| settings.mode = RegistrationMode::Open)
        .spawn()
        .await;
    let user = add_user(&server, "alice").await;
    let issuer = server.url("").trim_end_matches('/').to_owned();

    let summary = run_script(
        &folder,
        "flow.mjs",
        &[issuer.as_str(), "alice", PASSWORD, MCP_SERVER],
    )
    .await;

    // Discovery: the SDK found the RFC 8414 document first, and its OpenID Connect fallback
    // accepts the other one.
    assert_eq!(summary["issuer"], issuer.as_str());
    assert_eq!(
        summary["discovery"][0]["url"],
        format!("{issuer}/.well-known/oauth-authorization-server")
    );
    assert_eq!(summary["discovery"][0]["status"], 200);
    assert_eq!(summary["oidc_discovery"]["issuer"], issuer.as_str());

    // Registration: an anonymous public client, stored as the SDK sent it.
    let client_id = summary["client"]["client_id"].as_str().unwrap();
    let stored = server
        .store()
        .get_client(&ClientId::parse(client_id).unwrap())
        .await
        .unwrap()
        .expect("the SDK's client is stored");
    assert!(stored.registered_anonymously);
    assert!(stored.secret.is_none());
    assert_eq!(
        stored.metadata.token_endpoint_auth_method.as_deref(),
        Some("none")
    );
    assert_eq!(
        stored.metadata.grant_types,
        ["authorization_code", "refresh_token"]
    );
    assert_eq!(
        serde_json::to_value(&stored.metadata.redirect_uris).unwrap(),
        summary["client"]["redirect_uris"]
    );

    // The authorization request the SDK built: PKCE S256, the resource, and prompt=consent
    // because offline_access was asked for.
    let authorization = &summary["authorization"];
    assert_eq!(authorization["code_challenge_method"], "S256");
    assert_eq!(authorization["resource"], MCP_SERVER);
    assert_eq!(authorization["prompt"], "consent");
    assert_eq!(summary["callback"]["iss"], issuer.as_str(), "RFC 9207");
    // A registered client has no host to name on the consent page: only its own claims.
    assert_eq!(summary["consent"]["client_name"], "MCP TypeScript SDK flow");
    assert_eq!(summary["consent"]["client_host"], Value::Null);

    // The tokens: an ID token that verifies against the published keys, access tokens for the
    // MCP server that a resource server can introspect and that userinfo accepts.
    let tokens = &summary["tokens"];
    let id_claims =
        verified_id_token(&server, tokens["id_token"].as_str().unwrap(), client_id).await;
    assert_eq!(id_claims["sub"], user.id.as_str());
    assert_eq!(tokens["scope"], "openid offline_access");

    let refreshed = &summary["refreshed"];
    assert_ne!(
        refreshed["refresh_token"], tokens["refresh_token"],
        "rotated"
    );
    let resource_server = confidential_client(&server).await;
    for access_token in [&tokens["access_token"], &refreshed["access_token"]] {
        let introspected =
            introspect(&server, &resource_server, access_token.as_str().unwrap()).await;
        assert_eq!(introspected["active"], true, "{introspected}");
        assert!(for_mcp_server(&introspected), "{introspected}");
        assert_eq!(introspected["sub"], user.id.as_str());
        assert_eq!(introspected["client_id"], client_id);
    }
    let info: Value = userinfo(&server, refreshed["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], user.id.as_str());

    // The SDK read Registrar's refusal of an unknown refresh token as its InvalidGrantError.
    assert_eq!(summary["refusal"]["error"], "invalid_grant");

    // auth(), from the MCP server's RFC 9728 metadata: a client of its own, and tokens for the
    // MCP server again, refreshed without sending the user back.
    let orchestrated = &summary["orchestrated"];
    let orchestrated_client_id = orchestrated["client"]["client_id"].as_str().unwrap();
    assert_ne!(orchestrated_client_id, client_id);
    assert!(
        server
            .store()
            .get_client(&ClientId::parse(orchestrated_client_id).unwrap())
            .await
            .unwrap()
            .is_some_and(|client| client.registered_anonymously)
    );
    assert_eq!(orchestrated["authorization"]["resource"], MCP_SERVER);
    let introspected = introspect(
        &server,
        &resource_server,
        orchestrated["refreshed"]["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(introspected["active"], true, "{introspected}");
    assert!(for_mcp_server(&introspected), "{introspected}");
    assert_eq!(introspected["client_id"], orchestrated_client_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_typescript_sdk_uses_a_client_id_metadata_document() {
    let test = "the_mcp_typescript_sdk_uses_a_client_id_metadata_document";
    let Some(folder) = sdk_folder_or_skip(test).await else {
        return;
    };
    let documents = DocumentServer::start(DOCUMENT_HOST).await;
    let client_id = serve_client_document(&documents);
    // The default registration mode (an initial access token is required), so an SDK that
    // fell back to registering would be refused rather than pass unnoticed.
    let server = TestServer::builder(Backend::Sqlite)
        .tokens(documents.token_options())
        .spawn()
        .await;
    let user = add_user(&server, "alice").await;
    let issuer = server.url("").trim_end_matches('/').to_owned();

    let summary = run_script(
        &folder,
        "cimd.mjs",
        &[
            issuer.as_str(),
            "alice",
            PASSWORD,
            client_id.as_str(),
            DOCUMENT_REDIRECT_URI,
            MCP_SERVER,
            "document",
        ],
    )
    .await;

    // auth() took the URL as its client id because discovery said it may, and never asked the
    // registration endpoint, nor anything but Registrar and the MCP server's metadata.
    assert_eq!(summary["issuer"], issuer.as_str());
    assert_eq!(summary["client_id_metadata_document_supported"], true);
    assert_eq!(summary["client"]["client_id"], client_id.as_str());
    let registration_endpoint = summary["registration_endpoint"].as_str().unwrap();
    let requests = summary["requests"].as_array().unwrap();
    assert!(
        requests.iter().all(|request| {
            request["url"] != registration_endpoint && request.get("refused").is_none()
        }),
        "{requests:?}"
    );
    // The code, then the refresh: the only requests that send anything.
    let posted: Vec<&str> = requests
        .iter()
        .filter(|request| request["method"] == "POST")
        .map(|request| request["url"].as_str().unwrap())
        .collect();
    let token_endpoint = format!("{issuer}/connect/token");
    assert_eq!(posted, [token_endpoint.as_str(), token_endpoint.as_str()]);

    // Registrar fetched the document once: the authorization request resolved it, and the
    // token requests that followed used it while fresh.
    assert_eq!(documents.requested_paths(), ["/oauth/client.json"]);
    assert_eq!(documents.hits(), 1);

    // The authorization request named the URL, with PKCE and the resource; the consent page
    // named the host the document came from, and the document's name.
    let authorization = &summary["authorization"];
    assert_eq!(authorization["client_id"], client_id.as_str());
    assert_eq!(authorization["redirect_uri"], DOCUMENT_REDIRECT_URI);
    assert_eq!(authorization["code_challenge_method"], "S256");
    assert_eq!(authorization["resource"], MCP_SERVER);
    assert_eq!(summary["consent"]["client_host"], DOCUMENT_HOST);
    assert_eq!(
        summary["consent"]["client_name"],
        "Example MCP client (metadata document)"
    );
    assert_eq!(summary["callback"]["iss"], issuer.as_str(), "RFC 9207");

    // The only client in the store is the document's, stored as the document says, with no
    // secret and no registration access token.
    let clients = server.store().list_clients().await.unwrap();
    let listed: Vec<&str> = clients
        .iter()
        .map(|client| client.client_id.as_str())
        .collect();
    assert_eq!(listed, [client_id.as_str()]);
    let stored = server
        .store()
        .get_client(&ClientId::parse(&client_id).unwrap())
        .await
        .unwrap()
        .expect("the document's client is stored");
    assert!(stored.secret.is_none());
    assert!(stored.registration_token.is_none());
    assert_eq!(
        stored.metadata.token_endpoint_auth_method.as_deref(),
        Some("none")
    );
    assert_eq!(
        serde_json::to_value(&stored.metadata.redirect_uris).unwrap(),
        json!([DOCUMENT_REDIRECT_URI])
    );

    // The tokens are the URL's: the ID token verifies for it as audience, the access token
    // names it as its client and the MCP server as its audience.
    let tokens = &summary["tokens"];
    let id_claims =
        verified_id_token(&server, tokens["id_token"].as_str().unwrap(), &client_id).await;
    assert_eq!(id_claims["sub"], user.id.as_str());
    assert_eq!(tokens["scope"], "openid offline_access");
    for claims in [
        &summary["access_token_claims"],
        &summary["refreshed_access_token_claims"],
    ] {
        assert_eq!(claims["client_id"], client_id.as_str(), "{claims}");
        assert!(for_mcp_server(claims), "{claims}");
    }

    // auth() refreshed as the URL client; a resource server sees the refreshed token as its.
    let refreshed = &summary["refreshed"];
    assert_ne!(
        refreshed["refresh_token"], tokens["refresh_token"],
        "rotated"
    );
    let resource_server = confidential_client(&server).await;
    let introspected = introspect(
        &server,
        &resource_server,
        refreshed["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["client_id"], client_id.as_str());
    assert_eq!(introspected["sub"], user.id.as_str());
    assert_eq!(documents.hits(), 1, "introspection fetched nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_typescript_sdk_registers_when_metadata_documents_are_disabled() {
    let test = "the_mcp_typescript_sdk_registers_when_metadata_documents_are_disabled";
    let Some(folder) = sdk_folder_or_skip(test).await else {
        return;
    };
    let documents = DocumentServer::start(DOCUMENT_HOST).await;
    let client_id = serve_client_document(&documents);
    // Everything the first test had, and open registration for the SDK's fallback, but
    // `cimd.enabled = false`.
    let server = TestServer::builder(Backend::Sqlite)
        .settings(|settings| {
            settings.mode = RegistrationMode::Open;
            settings.metadata_documents.enabled = false;
        })
        .tokens(documents.token_options())
        .spawn()
        .await;
    add_user(&server, "alice").await;
    let issuer = server.url("").trim_end_matches('/').to_owned();

    let summary = run_script(
        &folder,
        "cimd.mjs",
        &[
            issuer.as_str(),
            "alice",
            PASSWORD,
            client_id.as_str(),
            DOCUMENT_REDIRECT_URI,
            MCP_SERVER,
            "registration",
        ],
    )
    .await;

    // Discovery did not advertise metadata documents, so the SDK registered the metadata of
    // its provider, and Registrar never fetched the document.
    assert_eq!(
        summary["client_id_metadata_document_supported"],
        Value::Null
    );
    let registered_id = summary["client"]["client_id"].as_str().unwrap();
    assert_ne!(registered_id, client_id);
    assert_eq!(documents.hits(), 0);
    let clients = server.store().list_clients().await.unwrap();
    let listed: Vec<&str> = clients
        .iter()
        .map(|client| client.client_id.as_str())
        .collect();
    assert_eq!(listed, [registered_id]);
    assert_eq!(
        clients[0].client_name.as_deref(),
        Some("MCP TypeScript SDK (not registered)")
    );
    assert_eq!(summary["consent"]["client_host"], Value::Null);
    assert_eq!(
        summary["access_token_claims"]["client_id"], registered_id,
        "the registered client's tokens"
    );

    // And a URL client id is as unknown as any unregistered one.
    let page = server
        .http()
        .get(server.url("/connect/authorize"))
        .query(&[
            ("client_id", client_id.as_str()),
            ("redirect_uri", DOCUMENT_REDIRECT_URI),
            ("response_type", "code"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    let status = page.status();
    let body = page.text().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("the client is not registered here"), "{body}");
    assert_eq!(documents.hits(), 0);
}

/// Serves, at `/oauth/client.json` on `documents`, the metadata document of a public MCP client
/// whose `client_id` is that URL, and returns the URL.
fn serve_client_document(documents: &DocumentServer) -> String {
    let client_id = documents.url("/oauth/client.json");
    documents.serve(
        "/oauth/client.json",
        Document::json(&json!({
            "client_id": client_id,
            "client_name": "Example MCP client (metadata document)",
            "redirect_uris": [DOCUMENT_REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": "openid offline_access",
        })),
    );
    client_id
}

/// Runs `script` in `folder` with `arguments` and returns the JSON summary it printed; panics
/// with its stderr when it fails.
async fn run_script(folder: &Path, script: &str, arguments: &[&str]) -> Value {
    let run = Command::new("node")
        .arg(script)
        .args(arguments)
        .current_dir(folder)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(FLOW_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("{script} finishes"))
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}): {stderr}",
        output.status
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{script} printed no JSON summary ({error}): {stderr}"))
}

/// Whether an introspected token is for the MCP server: its `aud` names it (beside the issuer,
/// which an OpenID grant's tokens name too, for userinfo).
fn for_mcp_server(introspected: &Value) -> bool {
    match &introspected["aud"] {
        Value::String(audience) => audience == MCP_SERVER,
        Value::Array(audiences) => audiences.iter().any(|audience| audience == MCP_SERVER),
        _ => false,
    }
}
