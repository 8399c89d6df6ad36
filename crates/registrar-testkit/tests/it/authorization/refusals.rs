//! What the authorization endpoint, its pages and the token endpoint refuse, each with the
//! error its RFC names, and where it may be sent: never to an unregistered redirect URI.

use std::sync::Arc;

use registrar_core::{Clock as _, ManualClock};
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use super::support::{
    Agent, PASSWORD, add_user, authorize_url, exchange, pkce, query, register_public_client,
};
use crate::expect_error;

backends!(
    pkce_is_required_and_only_s256,
    a_wrong_verifier_or_redirect_uri_does_not_redeem_the_code,
    a_reused_code_revokes_what_it_issued,
    an_expired_code_is_refused,
    untrusted_clients_and_redirect_uris_get_a_page_never_a_redirect,
    forms_without_the_csrf_token_are_refused,
    hostile_client_metadata_is_rendered_inert,
    deny_returns_access_denied,
    wrong_passwords_are_throttled,
    scope_and_resource_are_checked,
    control_characters_are_refused_before_anything_stores_them,
);

fn redirect_error(page: &super::support::Page) -> (String, Option<String>) {
    let redirect = page
        .redirect()
        .unwrap_or_else(|| panic!("a redirect, got {} {}", page.status, page.body));
    assert_eq!(
        redirect.host_str(),
        Some("localhost"),
        "only to the registered redirect URI"
    );
    (
        query(&redirect, "error").expect("an error"),
        query(&redirect, "state"),
    )
}

async fn pkce_is_required_and_only_s256(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    for overrides in [
        vec![("code_challenge", None), ("code_challenge_method", None)],
        vec![("code_challenge_method", None)],
        vec![("code_challenge_method", Some("plain"))],
        vec![("code_challenge", Some("too-short"))],
    ] {
        let page = agent
            .get(&authorize_url(&server, &client, &challenge, &overrides))
            .await;
        let (error, state) = redirect_error(&page);
        assert_eq!(error, "invalid_request", "{overrides:?}");
        assert_eq!(state.as_deref(), Some("state-123"));
    }
}

async fn a_wrong_verifier_or_redirect_uri_does_not_redeem_the_code(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "alice").await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let redirect_uri = "http://localhost:33418/callback";
    let other = register_public_client(&server, json!({})).await;
    for (presenter, wrong_verifier, wrong_redirect_uri) in [
        (&client, pkce().0, redirect_uri),
        (&client, verifier.clone(), "http://localhost:33419/callback"),
        (&client, String::new(), redirect_uri),
        // The code of another client is refused too.
        (&other, verifier.clone(), redirect_uri),
    ] {
        let redirect = agent
            .authorize(&authorize_url(&server, &client, &challenge, &[]), "alice")
            .await;
        let code = query(&redirect, "code").unwrap();
        let response = exchange(
            &server,
            presenter,
            &code,
            &wrong_verifier,
            wrong_redirect_uri,
        )
        .await;
        expect_error(response, 400, "invalid_grant").await;
        // A refused attempt does not spend the code: whoever holds a leaked code without its
        // verifier cannot burn it, and the real client still redeems it.
        let tokens = exchange(&server, &client, &code, &verifier, redirect_uri).await;
        assert_eq!(
            tokens.status(),
            200,
            "the real redemption after a refused one"
        );
    }
}

async fn a_reused_code_revokes_what_it_issued(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "bob").await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let redirect = agent
        .authorize(&authorize_url(&server, &client, &challenge, &[]), "bob")
        .await;
    let code = query(&redirect, "code").unwrap();
    let redirect_uri = "http://localhost:33418/callback";
    let tokens: Value = exchange(&server, &client, &code, &verifier, redirect_uri)
        .await
        .json()
        .await
        .unwrap();
    let description = expect_error(
        exchange(&server, &client, &code, &verifier, redirect_uri).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(description.contains("already used"), "{description}");
    let userinfo = server
        .http()
        .get(server.url("/connect/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        userinfo.status(),
        401,
        "tokens issued from a reused code are revoked"
    );
    let refreshed =
        super::support::refresh(&server, &client, tokens["refresh_token"].as_str().unwrap()).await;
    expect_error(refreshed, 400, "invalid_grant").await;
}

async fn an_expired_code_is_refused(backend: Backend) {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let server = TestServer::builder(backend)
        .clock(clock.clone())
        .spawn()
        .await;
    add_user(&server, "carol").await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let redirect = agent
        .authorize(&authorize_url(&server, &client, &challenge, &[]), "carol")
        .await;
    let code = query(&redirect, "code").unwrap();
    clock.advance(61);
    assert!(clock.now() > 1_800_000_060);
    let description = expect_error(
        exchange(
            &server,
            &client,
            &code,
            &verifier,
            "http://localhost:33418/callback",
        )
        .await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(description.contains("expired"), "{description}");
}

async fn untrusted_clients_and_redirect_uris_get_a_page_never_a_redirect(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    for overrides in [
        vec![("client_id", Some("unknown-client"))],
        vec![("client_id", None)],
        vec![("redirect_uri", None)],
        vec![("redirect_uri", Some("https://evil.example/callback"))],
        vec![(
            "redirect_uri",
            Some("http://localhost.evil.example:33418/callback"),
        )],
        vec![(
            "redirect_uri",
            Some("http://localhost:33418/callback/../evil"),
        )],
        vec![(
            "redirect_uri",
            Some("http://localhost:33418/callback#fragment"),
        )],
        vec![(
            "redirect_uri",
            Some("http://localhost:33418/callback?extra=1"),
        )],
        vec![(
            "redirect_uri",
            Some("http://attacker@localhost:33418/callback"),
        )],
        // A repeated parameter makes the request ambiguous before the redirect URI is known.
        vec![("state", Some("a")), ("state", Some("b"))],
    ] {
        let mut url = authorize_url(&server, &client, &challenge, &overrides);
        if overrides.len() == 2 {
            url.push_str("&state=again");
        }
        let page = agent.get(&url).await;
        assert_eq!(page.status, 400, "{overrides:?}: {}", page.body);
        assert!(page.location.is_none(), "{overrides:?}: never redirected");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(page.headers["x-frame-options"], "DENY");
    }
}

async fn forms_without_the_csrf_token_are_refused(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "dave").await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    let login = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    let request = login.hidden("authorization_request").unwrap();
    let action = login.form_action().unwrap();
    for csrf in [None, Some("wrong"), Some("")] {
        let mut form = vec![
            ("authorization_request", request.as_str()),
            ("username", "dave"),
            ("password", PASSWORD),
        ];
        if let Some(csrf) = csrf {
            form.push(("csrf_token", csrf));
        }
        let page = agent.post(&action, &form).await;
        assert_eq!(page.status, 403, "{csrf:?}");
    }
    // A post from another site's page fails even with the right token (Origin check).
    let csrf = login.hidden("csrf_token").unwrap();
    let response = agent
        .http
        .post(&action)
        .header("origin", "https://evil.example")
        .form(&[
            ("authorization_request", request.as_str()),
            ("csrf_token", csrf.as_str()),
            ("username", "dave"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // A token is bound to its browser's cookie: another browser's token fails.
    let other = Agent::new();
    let other_login = other
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    let foreign = other_login.hidden("csrf_token").unwrap();
    let page = agent
        .post(
            &action,
            &[
                ("authorization_request", request.as_str()),
                ("csrf_token", foreign.as_str()),
                ("username", "dave"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    // And the consent form the same way.
    let consent = agent
        .submit(&login, &[("username", "dave"), ("password", PASSWORD)])
        .await;
    let page = agent
        .post(
            &consent.form_action().unwrap(),
            &[
                ("authorization_request", request.as_str()),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
}

async fn hostile_client_metadata_is_rendered_inert(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "erin").await;
    let client = register_public_client(
        &server,
        json!({
            "client_name": "<script>alert(1)</script><img src=x onerror=alert(2)>",
            "logo_uri": "https://logo.example/a.png\"onload=\"alert(3)",
            "client_uri": "https://client.example/?q=<b>",
        }),
    )
    .await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    let login = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    assert!(!login.body.contains("<script>alert"), "{}", login.body);
    assert!(login.body.contains("&#60;script&#62;") || login.body.contains("&lt;script&gt;"));
    let consent = agent
        .submit(&login, &[("username", "erin"), ("password", PASSWORD)])
        .await;
    assert!(!consent.body.contains("<script>alert"));
    assert!(!consent.body.contains("<img src=x"));
    assert!(!consent.body.contains("\"onload=\""), "{}", consent.body);
    assert!(
        consent.body.contains("id=\"unverified\""),
        "marked as self-asserted"
    );
    assert!(
        consent.body.contains("id=\"localhost-warning\""),
        "every redirect URI is on localhost"
    );
    let policy = consent.headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("default-src 'none'"),
        "no script may run: {policy}"
    );
}

async fn deny_returns_access_denied(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "frank").await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    let login = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    let consent = agent
        .submit(&login, &[("username", "frank"), ("password", PASSWORD)])
        .await;
    let denied = agent.submit(&consent, &[("decision", "deny")]).await;
    let (error, state) = redirect_error(&denied);
    assert_eq!(error, "access_denied");
    assert_eq!(state.as_deref(), Some("state-123"));
    // Nothing was remembered: the next request asks again.
    let again = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    assert!(again.body.contains("id=\"allow\""));
}

async fn wrong_passwords_are_throttled(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "grace").await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    let login = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    let wrong = agent
        .submit(&login, &[("username", "grace"), ("password", "wrong")])
        .await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("id=\"login-error\""));
    // An unknown user reads the same.
    let unknown = agent
        .submit(&login, &[("username", "nobody"), ("password", "wrong")])
        .await;
    assert!(
        unknown
            .body
            .contains("The username or password is not right.")
    );
    // The default limit is 5 failures per user in 300 s.
    for _ in 0..4 {
        agent
            .submit(&login, &[("username", "grace"), ("password", "wrong")])
            .await;
    }
    let limited = agent
        .submit(&login, &[("username", "grace"), ("password", PASSWORD)])
        .await;
    assert_eq!(limited.status, 429, "{}", limited.body);
}

async fn scope_and_resource_are_checked(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register_public_client(&server, json!({"scope": "openid"})).await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    for (overrides, expected) in [
        (vec![("scope", Some("openid email"))], "invalid_scope"),
        (
            vec![("resource", Some("http://mcp.example.com/"))],
            "invalid_target",
        ),
        (
            vec![("resource", Some("https://mcp.example.com/#x"))],
            "invalid_target",
        ),
        (
            vec![("resource", Some("http://127.0.0.2:3000/mcp"))],
            "invalid_target",
        ),
        (
            vec![("response_type", Some("token"))],
            "unsupported_response_type",
        ),
        (vec![("response_type", None)], "invalid_request"),
        (vec![("prompt", Some("none login"))], "invalid_request"),
        (vec![("request", Some("eyJ.e30."))], "request_not_supported"),
    ] {
        let mut overrides = overrides;
        if !overrides.iter().any(|(name, _)| *name == "scope") {
            overrides.insert(0, ("scope", Some("openid")));
        }
        let page = agent
            .get(&authorize_url(&server, &client, &challenge, &overrides))
            .await;
        let (error, _) = redirect_error(&page);
        assert_eq!(error, expected, "{overrides:?}");
    }
    // An MCP server in development listens on http on a loopback host: a resource indicator too,
    // so the person is asked to sign in instead of the client getting invalid_target.
    let page = agent
        .get(&authorize_url(
            &server,
            &client,
            &challenge,
            &[
                ("scope", Some("openid")),
                ("resource", Some("http://localhost:3000/mcp")),
            ],
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.redirect().is_none(), "{}", page.body);
    let machine = server
        .register(json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic"}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    let mut url = authorize_url(&server, &machine, &challenge, &[]);
    url = url.replace("redirect_uri=http%3A%2F%2Flocalhost%3A33418%2Fcallback", "");
    let page = agent.get(&url).await;
    assert_eq!(
        page.status, 400,
        "a client without redirect URIs gets a page"
    );
}

/// A NUL would make PostgreSQL fail (a 500) where a value is stored (`nonce`, `state`,
/// `resource`, a username looked up, an assertion's `jti`); every control character is refused
/// first, with the endpoint's own error.
async fn control_characters_are_refused_before_anything_stores_them(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "ivy").await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    for (name, value) in [
        ("nonce", "a\u{0}b"),
        ("state", "x\u{1b}[31m"),
        ("resource", "https://mcp.example.com/\u{0}"),
    ] {
        let page = agent
            .get(&authorize_url(
                &server,
                &client,
                &challenge,
                &[(name, Some(value))],
            ))
            .await;
        assert_eq!(page.status, 400, "{name}: {}", page.body);
        assert!(page.location.is_none());
    }
    let login = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    let page = agent
        .submit(&login, &[("username", "ivy\u{0}"), ("password", PASSWORD)])
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    let token = server
        .http()
        .post(server.url("/connect/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("refresh_token", "abc\u{0}"),
        ])
        .send()
        .await
        .unwrap();
    expect_error(token, 400, "invalid_request").await;
}
