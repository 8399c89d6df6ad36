//! What discovery promises for the code flow, and CORS for browser-hosted clients.

use registrar_testkit::{Backend, TestServer, backends};
use serde_json::Value;

backends!(
    both_documents_describe_the_code_flow,
    cors_answers_preflight_for_configured_origins_only,
);

async fn both_documents_describe_the_code_flow(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let document: Value = server.get_json(path).await;
        for (member, path) in [
            ("authorization_endpoint", "/connect/authorize"),
            ("userinfo_endpoint", "/connect/userinfo"),
            ("revocation_endpoint", "/connect/revoke"),
            ("end_session_endpoint", "/connect/logout"),
        ] {
            assert_eq!(document[member], server.url(path), "{member} in {path}");
        }
        assert_eq!(
            document["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(
            document["response_types_supported"],
            serde_json::json!(["code"])
        );
        assert_eq!(
            document["authorization_response_iss_parameter_supported"],
            true
        );
        let algs = document["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap();
        assert!(
            algs.iter().any(|alg| alg == "RS256"),
            "OIDC Discovery §3 requires RS256"
        );
        // Every advertised algorithm has a published key.
        let jwks: Value = server.get_json("/.well-known/jwks.json").await;
        for alg in algs {
            assert!(
                jwks["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|key| key["alg"] == *alg),
                "a key for {alg}"
            );
        }
        let scopes = document["scopes_supported"].as_array().unwrap();
        assert!(
            !scopes
                .iter()
                .any(|scope| scope == "registrar.configuration")
        );
        assert!(
            document
                .get("userinfo_signing_alg_values_supported")
                .is_none(),
            "userinfo is never signed"
        );
        assert!(
            document["claims_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|claim| claim == "sub")
        );
        assert_eq!(
            document["subject_types_supported"],
            serde_json::json!(["public"])
        );
    }
    // The authorization endpoint really is there.
    let response = server
        .http()
        .get(server.url("/connect/authorize"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        400,
        "an error page for a request without a client"
    );
}

async fn cors_answers_preflight_for_configured_origins_only(backend: Backend) {
    let server = TestServer::builder(backend)
        .settings(|settings| {
            settings.cors_allowed_origins = vec!["https://app.example".to_owned()];
        })
        .spawn()
        .await;
    for path in [
        "/connect/token",
        "/connect/dcr",
        "/connect/revoke",
        "/connect/userinfo",
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ] {
        let preflight = server
            .http()
            .request(reqwest::Method::OPTIONS, server.url(path))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap();
        assert!(
            preflight.status().is_success(),
            "{path}: {}",
            preflight.status()
        );
        assert_eq!(
            preflight.headers()["access-control-allow-origin"],
            "https://app.example",
            "{path}"
        );
        let other = server
            .http()
            .get(server.url("/.well-known/jwks.json"))
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert!(other.headers().get("access-control-allow-origin").is_none());
    }
    let simple = server
        .http()
        .get(server.url("/.well-known/openid-configuration"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://app.example"
    );
}
