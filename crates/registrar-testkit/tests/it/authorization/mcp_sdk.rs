//! The official MCP TypeScript SDK's OAuth client (`@modelcontextprotocol/sdk`, pinned in
//! `tests/mcp-sdk/package.json`) against the real server: `tests/mcp-sdk/flow.mjs` discovers,
//! registers a public client, authorizes with PKCE and a resource, plays the user on the login and
//! consent pages, redeems the code and refreshes, with the SDK's own functions one by one and then
//! through its `auth()` orchestrator; this test checks what it reports against the store, the
//! published keys, introspection and userinfo.
//!
//! `.ci/run` installs the SDK with `npm ci`. Without `node` or the installed SDK the test skips,
//! printing why, except under `CI`, where it fails, as the browser test does.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use registrar_core::{ClientId, RegistrationMode};
use registrar_testkit::{Backend, TestServer};
use serde_json::Value;
use tokio::process::Command;

use super::support::{
    PASSWORD, add_user, confidential_client, introspect, userinfo, verified_id_token,
};

/// The resource the SDK asks a token for: an MCP server's URL, as `auth()` derives it.
const MCP_SERVER: &str = "https://mcp.example.com/mcp";
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

    let run = Command::new("node")
        .arg("flow.mjs")
        .args([issuer.as_str(), "alice", PASSWORD, MCP_SERVER])
        .current_dir(&folder)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(FLOW_TIMEOUT, run)
        .await
        .expect("flow.mjs finishes")
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "flow.mjs failed ({}): {stderr}",
        output.status
    );
    let summary: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("flow.mjs printed no JSON summary ({error}): {stderr}"));

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

/// Whether an introspected token is for the MCP server: its `aud` names it (beside the issuer,
/// which an OpenID grant's tokens name too, for userinfo).
fn for_mcp_server(introspected: &Value) -> bool {
    match &introspected["aud"] {
        Value::String(audience) => audience == MCP_SERVER,
        Value::Array(audiences) => audiences.iter().any(|audience| audience == MCP_SERVER),
        _ => false,
    }
}
