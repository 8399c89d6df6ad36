//! Discovery documents and WebFinger.

use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::expect_error;

backends!(
    discovery_documents_advertise_what_the_validator_enforces,
    webfinger_points_to_the_issuer,
    health_and_readiness_answer,
    an_issuer_with_a_path_has_its_metadata_where_rfc_8414_puts_it
);

async fn discovery_documents_advertise_what_the_validator_enforces(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let response = server.http().get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let document: Value = response.json().await.unwrap();
        assert_eq!(document["issuer"], server.url(""));
        assert_eq!(
            document["registration_endpoint"],
            server.url("/connect/dcr")
        );
        assert_eq!(
            document["scopes_supported"],
            json!(["openid", "profile", "email", "offline_access"])
        );
        assert_eq!(document["response_types_supported"], json!(["code"]));
        let methods = document["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap();
        assert!(
            methods.contains(&json!("client_secret_jwt"))
                && !methods.contains(&json!("tls_client_auth"))
        );

        // Every advertised auth method is accepted, and one that is not advertised is refused.
        for method in methods {
            let mut body = json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": method});
            if method == "private_key_jwt" {
                body["jwks_uri"] = json!("https://a.example/jwks");
            }
            assert_eq!(
                server.register(body).await.status().as_u16(),
                201,
                "{method}"
            );
        }
        for grant in document["grant_types_supported"].as_array().unwrap() {
            let body = if grant == "client_credentials" {
                json!({"grant_types": [grant]})
            } else if grant == "authorization_code" {
                json!({"redirect_uris": ["https://a.example/cb"], "grant_types": [grant]})
            } else {
                json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["authorization_code", grant]})
            };
            assert_eq!(
                server.register(body).await.status().as_u16(),
                201,
                "{grant}"
            );
        }
    }
}

async fn webfinger_points_to_the_issuer(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let host = server.address.to_string();
    let rel = "http://openid.net/specs/connect/1.0/issuer";
    let response = server
        .http()
        .get(server.url("/.well-known/webfinger"))
        .query(&[
            ("resource", format!("acct:joe@{host}")),
            ("rel", rel.to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/jrd+json");
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["subject"], format!("acct:joe@{host}"));
    assert_eq!(document["links"][0]["rel"], rel);
    assert_eq!(document["links"][0]["href"], server.url(""));

    let missing = server
        .http()
        .get(server.url("/.well-known/webfinger"))
        .send()
        .await
        .unwrap();
    expect_error(missing, 400, "invalid_request").await;
    let other_host = server
        .http()
        .get(server.url("/.well-known/webfinger"))
        .query(&[("resource", "acct:joe@elsewhere.example")])
        .send()
        .await
        .unwrap();
    expect_error(other_host, 404, "not_found").await;
}

async fn health_and_readiness_answer(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            server
                .http()
                .get(server.url(path))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200,
            "{path}"
        );
    }
}

async fn an_issuer_with_a_path_has_its_metadata_where_rfc_8414_puts_it(backend: Backend) {
    let server = TestServer::builder(backend)
        .settings(|settings| {
            let issuer = format!("{}tenant/one", settings.issuer);
            settings.issuer = issuer.parse().unwrap();
        })
        .spawn()
        .await;
    let response = server
        .http()
        .get(server.url("/.well-known/oauth-authorization-server/tenant/one"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["issuer"], server.url("/tenant/one"));
    assert_eq!(
        document["registration_endpoint"],
        server.url("/tenant/one/connect/dcr")
    );
    // The health answers, like every other, are not to be cached.
    let health = server
        .http()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["cache-control"], "no-store");
}
