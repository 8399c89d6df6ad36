//! Bad input at the registration endpoint: every case gets its RFC error, never a 5xx.

use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_json};

backends!(
    malformed_bodies_are_invalid_request,
    wrong_content_type_is_415_and_oversized_body_is_413,
    wrong_method_is_405_with_allow,
    bad_metadata_names_the_field_with_the_rfc_code,
    no_input_makes_the_server_fail,
    text_limits_and_control_characters_are_refused_on_register_and_update,
    a_token_in_the_header_and_the_query_is_invalid_request,
    a_recognised_member_sent_as_null_is_refused_on_register_and_update,
);

async fn token(server: &TestServer) -> String {
    server.initial_token(Default::default()).await
}

async fn malformed_bodies_are_invalid_request(backend: Backend) {
    let server = TestServer::spawn_unlimited(backend).await;
    let token = token(&server).await;
    let client = expect_json(
        server
            .register(json!({"redirect_uris": ["https://a.example/cb"]}))
            .await,
        201,
    )
    .await;
    let deep = format!("{}1{}", "{\"a\":".repeat(100), "}".repeat(100));
    let bom = format!(
        "\u{feff}{}",
        r#"{"redirect_uris":["https://a.example/cb"]}"#
    );
    let mut invalid_utf8 = br#"{"client_name":""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe]);
    invalid_utf8.extend_from_slice(br#"","redirect_uris":["https://a.example/cb"]}"#);
    let bodies: Vec<(Vec<u8>, &str)> = [
        ("{", "not valid JSON"),
        ("", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ("null", "must be a JSON object"),
        ("\"text\"", "must be a JSON object"),
        (
            r#"{"redirect_uris":["https://a.example/cb"],"redirect_uris":["https://b.example/cb"]}"#,
            "duplicate member 'redirect_uris'",
        ),
        (deep.as_str(), "nesting"),
        ("{\"client_name\":\"\\ud800\"}", "not valid JSON"),
        (r#"{"a":1} trailing"#, "not valid JSON"),
        (bom.as_str(), "not valid JSON"),
    ]
    .into_iter()
    .map(|(body, fragment)| (body.as_bytes().to_vec(), fragment))
    .chain([(invalid_utf8, "not valid JSON")])
    .collect();
    let management = client["registration_client_uri"].as_str().unwrap();
    let management_token = client["registration_access_token"].as_str().unwrap();
    for (body, fragment) in bodies {
        // The same on registration and on update.
        for request in [
            server
                .http()
                .post(server.url("/connect/dcr"))
                .bearer_auth(&token),
            server.http().put(management).bearer_auth(management_token),
        ] {
            let response = request
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            // RFC 6749 §5.2: a malformed request; the description keeps to its characters.
            let description = expect_error(response, 400, "invalid_request").await;
            let shown = String::from_utf8_lossy(&body);
            assert!(description.contains(fragment), "{shown:?} → {description}");
            assert!(
                description
                    .bytes()
                    .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
                "{description:?}"
            );
        }
    }
}

async fn wrong_content_type_is_415_and_oversized_body_is_413(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let token = token(&server).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
    ] {
        let mut request = server
            .http()
            .post(server.url("/connect/dcr"))
            .bearer_auth(&token)
            .body(r#"{"redirect_uris":["https://a.example/cb"]}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        expect_error(request.send().await.unwrap(), 415, "invalid_request").await;
    }
    // Parameters on the media type are fine.
    let with_charset = server
        .http()
        .post(server.url("/connect/dcr"))
        .bearer_auth(&token)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"redirect_uris":["https://a.example/cb"]}"#)
        .send()
        .await
        .unwrap();
    expect_json(with_charset, 201).await;

    let huge =
        json!({"redirect_uris": ["https://a.example/cb"], "client_name": "x".repeat(70 * 1024)});
    let response = server
        .http()
        .post(server.url("/connect/dcr"))
        .bearer_auth(&token)
        .json(&huge)
        .send()
        .await
        .unwrap();
    expect_error(response, 413, "invalid_request").await;
}

async fn wrong_method_is_405_with_allow(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    for (method, path, allowed) in [
        (reqwest::Method::GET, "/connect/dcr", "POST"),
        (reqwest::Method::PUT, "/connect/dcr", "POST"),
        (
            reqwest::Method::POST,
            "/connect/dcr/some-client",
            "GET,HEAD,PUT,DELETE",
        ),
    ] {
        let response = server
            .http()
            .request(method.clone(), server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        let allow = response.headers()["allow"]
            .to_str()
            .unwrap()
            .replace(' ', "");
        assert_eq!(allow, allowed, "{method} {path}");
    }
    let response = server
        .http()
        .get(server.url("/nowhere"))
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "not_found").await;
}

async fn bad_metadata_names_the_field_with_the_rfc_code(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    for (body, code, field) in [
        (
            json!({"redirect_uris": ["https://a.example/cb#frag"]}),
            "invalid_redirect_uri",
            "redirect_uris[0]",
        ),
        (
            json!({"redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
            "redirect_uris[0]",
        ),
        (
            json!({"redirect_uris": ["http://app.example.com/cb"]}),
            "invalid_redirect_uri",
            "redirect_uris[0]",
        ),
        (json!({}), "invalid_redirect_uri", "redirect_uris"),
        // RFC 7591 §3.2.2: whatever is wrong with redirect_uris is invalid_redirect_uri.
        (
            json!({"redirect_uris": "https://a.example/cb"}),
            "invalid_redirect_uri",
            "redirect_uris",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "client_name": 3}),
            "invalid_client_metadata",
            "client_name",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "scope": "openid admin"}),
            "invalid_client_metadata",
            "scope",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["password"]}),
            "invalid_client_metadata",
            "grant_types",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "tls_client_auth"}),
            "invalid_client_metadata",
            "token_endpoint_auth_method",
        ),
        (
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
            "invalid_client_metadata",
            "token_endpoint_auth_method",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "jwks_uri": "https://a.example/j", "jwks": {"keys": []}}),
            "invalid_client_metadata",
            "jwks",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "contacts": ["not an email"]}),
            "invalid_client_metadata",
            "contacts[0]",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "logo_uri": "http://a.example/logo.png"}),
            "invalid_client_metadata",
            "logo_uri",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "access_token_lifetime": 999_999_999}),
            "invalid_client_metadata",
            "access_token_lifetime",
        ),
    ] {
        let description = expect_error(server.register(body.clone()).await, 400, code).await;
        assert!(description.starts_with(field), "{body} → {description}");
    }
}

async fn no_input_makes_the_server_fail(backend: Backend) {
    // 180 requests from one address, most of them refused: more than the limits allow.
    let server = TestServer::spawn_unlimited(backend).await;
    let token = token(&server).await;
    // A deterministic spread of odd bodies; each must get a 201 or a 4xx.
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1e308),
        json!(""),
        json!("\u{0}"),
        json!([]),
        json!({}),
        json!([null]),
        json!(["\u{202e}"]),
        json!(u64::MAX),
        json!("x".repeat(300)),
    ];
    let fields = [
        "redirect_uris",
        "grant_types",
        "response_types",
        "jwks",
        "jwks_uri",
        "scope",
        "contacts",
        "token_endpoint_auth_method",
        "client_name#",
        "client_name#en",
        "default_max_age",
        "require_auth_time",
        "post_logout_redirect_uris",
        "request_uris",
        "application_type",
    ];
    let mut statuses = std::collections::BTreeMap::new();
    for field in fields {
        for value in &values {
            let mut body = json!({"redirect_uris": ["https://a.example/cb"]});
            body[field] = value.clone();
            let response = server
                .http()
                .post(server.url("/connect/dcr"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(
                status == 201 || (400..500).contains(&status),
                "{body} → {status}"
            );
            *statuses.entry(status).or_insert(0) += 1;
        }
    }
    assert!(
        statuses.contains_key(&201) && statuses.contains_key(&400),
        "{statuses:?}"
    );
}

/// Long text, long or many redirect URIs, and control or bidi characters were registered, and a
/// NUL in `client_name` was a 500 on PostgreSQL; each is refused on registration and update.
async fn text_limits_and_control_characters_are_refused_on_register_and_update(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let long_uri = format!("https://a.example/{}", "p".repeat(2_031));
    let many: Vec<String> = (0..1_000)
        .map(|index| format!("https://a.example/{index}"))
        .collect();
    let cases = [
        (
            json!({"client_name": "n".repeat(20_000)}),
            "invalid_client_metadata",
        ),
        (json!({"client_name": "a\u{0}b"}), "invalid_client_metadata"),
        (
            json!({"client_name": "evil\u{202e}gnp.exe"}),
            "invalid_client_metadata",
        ),
        (
            json!({"software_id": "x\u{1b}]0;owned\u{7}"}),
            "invalid_client_metadata",
        ),
        (json!({"redirect_uris": [long_uri]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": many}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": "https://a.example/cb"}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": [""]}), "invalid_redirect_uri"),
        (json!({"grant_types": []}), "invalid_client_metadata"),
    ];
    for (extra, code) in &cases {
        let mut body = json!({"redirect_uris": ["https://a.example/cb"]});
        for (name, value) in extra.as_object().unwrap() {
            body[name] = value.clone();
        }
        expect_error(server.register(body).await, 400, code).await;
    }
    // The same on update.
    let client = expect_json(
        server
            .register(json!({"redirect_uris": ["https://a.example/cb"]}))
            .await,
        201,
    )
    .await;
    let (extra, code) = &cases[1];
    let mut body = json!({
        "client_id": client["client_id"],
        "redirect_uris": ["https://a.example/cb"],
    });
    for (name, value) in extra.as_object().unwrap() {
        body[name] = value.clone();
    }
    let response = server
        .http()
        .put(client["registration_client_uri"].as_str().unwrap())
        .bearer_auth(client["registration_access_token"].as_str().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(response, 400, code).await;
}

/// RFC 6750 §2: one method only. A token in the header and the query is a malformed request, on
/// registration and management alike.
async fn a_token_in_the_header_and_the_query_is_invalid_request(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let token = token(&server).await;
    let response = server
        .http()
        .post(server.url("/connect/dcr?access_token=other"))
        .bearer_auth(&token)
        .json(&json!({"redirect_uris": ["https://a.example/cb"]}))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_request").await;
    let client = expect_json(
        server
            .register(json!({"redirect_uris": ["https://a.example/cb"]}))
            .await,
        201,
    )
    .await;
    let uri = client["registration_client_uri"].as_str().unwrap();
    let registration_token = client["registration_access_token"].as_str().unwrap();
    let response = server
        .http()
        .get(format!("{uri}?access_token={registration_token}"))
        .bearer_auth(registration_token)
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_request").await;
    // The header alone still works.
    let response = server
        .http()
        .get(uri)
        .bearer_auth(registration_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// `jwks: null` beside `private_key_jwt` was dropped silently and the client registered without
/// keys; a recognised member sent as `null` is refused, on registration and update.
async fn a_recognised_member_sent_as_null_is_refused_on_register_and_update(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    for (member, code) in [
        ("jwks", "invalid_client_metadata"),
        ("client_name", "invalid_client_metadata"),
        ("redirect_uris", "invalid_redirect_uri"),
    ] {
        let mut body = json!({"redirect_uris": ["https://a.example/cb"]});
        body[member] = Value::Null;
        let description = expect_error(server.register(body).await, 400, code).await;
        assert!(description.starts_with(member), "{description}");
    }
    let client = expect_json(
        server
            .register(json!({"redirect_uris": ["https://a.example/cb"], "client_name": "Kept"}))
            .await,
        201,
    )
    .await;
    let response = server
        .http()
        .put(client["registration_client_uri"].as_str().unwrap())
        .bearer_auth(client["registration_access_token"].as_str().unwrap())
        .json(&json!({
            "client_id": client["client_id"],
            "redirect_uris": ["https://a.example/cb"],
            "client_name": null,
        }))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_client_metadata").await;
}
