//! Once in a real headless Chromium: a person signs in and consents on the pages as they are
//! rendered, and an MCP-style public client (no `application_type`, `none`, a
//! `http://localhost:PORT/callback` redirect URI) gets its code and tokens. The login and
//! consent pages are kept as screenshots in `target/screenshots/`, on a desktop window and on a
//! phone's.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::get;
use registrar_testkit::browser::Browser;
use registrar_testkit::{Backend, TestServer};
use serde_json::{Value, json};

use super::support::{PASSWORD, add_user, authorize_url, exchange, pkce, query, refresh};

/// The client's loopback callback: it records the query the browser brought back.
async fn callback_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = Router::new()
        .route(
            "/callback",
            get(
                |State(received): State<Arc<Mutex<Vec<String>>>>, RawQuery(query): RawQuery| async move {
                    received.lock().unwrap().push(query.unwrap_or_default());
                    Html("<!doctype html><title>Done</title><h1 id=done>You can return to the app</h1>")
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_and_consents_in_a_real_browser() {
    let Some(browser) =
        Browser::start_or_skip("a_person_signs_in_and_consents_in_a_real_browser").await
    else {
        return;
    };
    let server = TestServer::spawn(Backend::Sqlite).await;
    add_user(&server, "alice").await;
    let (port, received) = callback_server().await;
    let redirect_uri = format!("http://localhost:{port}/callback");
    let response = server
        .register(json!({
            "client_name": "Example MCP client",
            "logo_uri": "https://client.example/logo.png",
            "client_uri": "https://client.example/",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": "openid profile offline_access",
        }))
        .await;
    assert_eq!(response.status(), 201);
    let client: Value = response.json().await.unwrap();
    assert_eq!(
        client["application_type"], "web",
        "the default, for a client that sent none"
    );

    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &server,
        &client,
        &challenge,
        &[
            ("redirect_uri", Some(&redirect_uri)),
            ("scope", Some("openid profile offline_access")),
            ("resource", Some("https://mcp.example.com/mcp")),
        ],
    );
    browser.goto(&url).await.unwrap();
    assert_eq!(browser.text("h1").await.unwrap(), "Sign in");
    browser.screenshot("login").await.unwrap();
    browser.set_window_size(390, 844).await.unwrap();
    browser.screenshot("login-phone").await.unwrap();
    browser.set_window_size(1000, 1000).await.unwrap();

    // A wrong password first: the page says so and keeps the username.
    browser.fill("#username", "alice").await.unwrap();
    browser.fill("#password", "not the password").await.unwrap();
    browser.click("#sign-in").await.unwrap();
    assert_eq!(
        browser.text("#login-error").await.unwrap(),
        "The username or password is not right."
    );
    browser.fill("#password", PASSWORD).await.unwrap();
    browser.click("#sign-in").await.unwrap();

    assert_eq!(
        browser.text("#client-name").await.unwrap(),
        "Example MCP client"
    );
    assert_eq!(browser.text("#redirect-host").await.unwrap(), "localhost");
    assert!(
        browser
            .text("#unverified")
            .await
            .unwrap()
            .contains("has not verified")
    );
    assert!(
        browser
            .text("#localhost-warning")
            .await
            .unwrap()
            .contains("localhost")
    );
    let scopes = browser.text("#scopes").await.unwrap();
    assert!(
        scopes.contains("profile") && scopes.contains("offline_access"),
        "{scopes}"
    );
    assert!(
        browser
            .text("#resources")
            .await
            .unwrap()
            .contains("https://mcp.example.com/mcp")
    );
    browser.screenshot("consent").await.unwrap();
    browser.set_window_size(390, 844).await.unwrap();
    browser.screenshot("consent-phone").await.unwrap();
    browser.click("#allow").await.unwrap();

    assert_eq!(
        browser.text("#done").await.unwrap(),
        "You can return to the app"
    );
    let landed = browser.current_url().await.unwrap();
    assert_eq!(landed.host_str(), Some("localhost"));
    assert_eq!(landed.port(), Some(port));
    let queries = received.lock().unwrap().clone();
    assert_eq!(
        queries.len(),
        1,
        "the callback was called once: {queries:?}"
    );
    let code = query(&landed, "code").expect("a code in the redirect");
    assert_eq!(query(&landed, "state").as_deref(), Some("state-123"));

    let tokens = exchange(&server, &client, &code, &verifier, &redirect_uri).await;
    assert_eq!(tokens.status(), 200);
    let tokens: Value = tokens.json().await.unwrap();
    assert!(tokens["id_token"].is_string());
    let refreshed = refresh(&server, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        refreshed.status(),
        200,
        "the session lives on with the refresh token"
    );
    browser.close().await.unwrap();
}
