//! The SSRF rule at registration over HTTP: URLs the server or a browser fetches may not name a
//! special-use address or localhost, on registration and on update, unless the operator's
//! allow-list names their `host:port`.

use registrar_core::net::AllowedHost;
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_json};

backends!(
    registration_refuses_special_use_hosts_in_every_fetched_member,
    update_refuses_special_use_hosts_and_keeps_the_registration,
    the_allow_list_admits_its_host_and_port_only,
);

fn app() -> Value {
    json!({"redirect_uris": ["https://app.example.com/cb"], "client_name": "App"})
}

fn with_member(member: &str, value: Value) -> Value {
    let mut body = app();
    body[member] = value;
    body
}

/// The members and spellings each registration below tries.
fn special_use_members() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "jwks_uri",
            json!("https://169.254.169.254/latest/meta-data"),
            "jwks_uri",
        ),
        ("jwks_uri", json!("https://2130706433/jwks"), "jwks_uri"),
        (
            "jwks_uri",
            json!("https://[::ffff:7f00:1]/jwks"),
            "jwks_uri",
        ),
        (
            "sector_identifier_uri",
            json!("https://0x7f.1/sector.json"),
            "sector_identifier_uri",
        ),
        (
            "backchannel_logout_uri",
            json!("https://10.0.0.1/logout"),
            "backchannel_logout_uri",
        ),
        (
            "request_uris",
            json!(["https://[::1]/request"]),
            "request_uris[0]",
        ),
        (
            "initiate_login_uri",
            json!("https://LOCALHOST./login"),
            "initiate_login_uri",
        ),
        (
            "logo_uri",
            json!("https://a.localhost/logo.png"),
            "logo_uri",
        ),
        ("client_uri", json!("https://192.168.1.1/"), "client_uri"),
        (
            "policy_uri",
            json!("https://[fe80::1]/policy"),
            "policy_uri",
        ),
        ("tos_uri", json!("https://0177.0.0.1/tos"), "tos_uri"),
        ("tos_uri#fr", json!("https://127.1/cgu"), "tos_uri#fr"),
    ]
}

async fn registration_refuses_special_use_hosts_in_every_fetched_member(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    for (member, value, named) in special_use_members() {
        let response = server.register(with_member(member, value.clone())).await;

        let description = expect_error(response, 400, "invalid_client_metadata").await;

        assert_eq!(
            description,
            format!("{named} must not point at a loopback, private or other special-use address"),
            "{member}: {value}"
        );
    }
    // The same registration with a public host is fine, so the host is what was refused.
    let body = with_member("jwks_uri", json!("https://client.example/jwks"));
    expect_json(server.register(body).await, 201).await;
}

async fn update_refuses_special_use_hosts_and_keeps_the_registration(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let registered = expect_json(server.register(app()).await, 201).await;
    let uri = registered["registration_client_uri"].as_str().unwrap();
    let token = registered["registration_access_token"].as_str().unwrap();
    for (member, value, named) in special_use_members() {
        let mut body = with_member(member, value.clone());
        body["client_id"] = registered["client_id"].clone();

        let response = server
            .http()
            .put(uri)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();

        let description = expect_error(response, 400, "invalid_client_metadata").await;
        assert_eq!(
            description,
            format!("{named} must not point at a loopback, private or other special-use address"),
            "{member}: {value}"
        );
    }
    // Nothing was stored, and the token was not rotated by the refusals.
    let read = server
        .http()
        .get(uri)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let read = expect_json(read, 200).await;
    for (member, _, _) in special_use_members() {
        assert!(read.get(member).is_none(), "{member} in {read}");
    }
}

async fn the_allow_list_admits_its_host_and_port_only(backend: Backend) {
    let server = TestServer::builder(backend)
        .settings(|settings| {
            settings.outbound_allow_hosts = ["127.0.0.1:8443", "localhost:443"]
                .iter()
                .map(|entry| AllowedHost::parse(entry).unwrap())
                .collect();
        })
        .spawn()
        .await;
    for (member, value) in [
        ("jwks_uri", json!("https://127.0.0.1:8443/jwks")),
        ("jwks_uri", json!("https://0x7f000001:8443/jwks")),
        ("logo_uri", json!("https://localhost/logo.png")),
        ("request_uris", json!(["https://LOCALHOST.:443/request"])),
    ] {
        let response = server.register(with_member(member, value.clone())).await;
        let registered = expect_json(response, 201).await;
        assert!(
            registered.get(member).is_some() || member == "request_uris",
            "{member}"
        );
    }
    for (member, value) in [
        ("jwks_uri", json!("https://127.0.0.1:8444/jwks")),
        ("jwks_uri", json!("https://127.0.0.1/jwks")),
        ("jwks_uri", json!("https://127.0.0.2:8443/jwks")),
        ("logo_uri", json!("https://localhost:8443/logo.png")),
        ("logo_uri", json!("https://a.localhost/logo.png")),
    ] {
        let response = server.register(with_member(member, value.clone())).await;
        let description = expect_error(response, 400, "invalid_client_metadata").await;
        assert!(description.starts_with(member), "{value}: {description}");
    }
}
