//! The flow as an MCP client runs it, and what follows from it: remembered consent, refresh
//! rotation with reuse detection, revocation, userinfo, introspection by a resource server,
//! grants dropped by an update, logout.

use registrar_core::authz::token_hash_claim;
use registrar_core::token::SigningAlgorithm;
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use super::support::{
    Agent, WEB_REDIRECT, add_user, authorize_url, confidential_client, exchange,
    exchange_confidential, introspect, pkce, query, refresh, register_confidential_client,
    register_public_client, tokens_for, userinfo, verified_id_token,
};
use crate::expect_error;

backends!(
    a_self_registered_public_client_completes_the_flow_and_keeps_its_session,
    remembered_consent_skips_the_pages_and_prompt_asks_again,
    a_public_loopback_client_is_asked_every_time,
    a_reused_refresh_token_revokes_the_grant,
    revocation_ends_the_grant_for_every_token,
    an_update_that_changes_the_redirect_uris_drops_consent_and_grants,
    logout_ends_the_session_and_returns_only_to_a_registered_uri,
    a_client_without_scope_gets_the_default_scope,
    id_tokens_are_signed_with_the_registered_algorithm,
    members_the_server_does_not_act_on_are_not_echoed,
);

async fn a_self_registered_public_client_completes_the_flow_and_keeps_its_session(
    backend: Backend,
) {
    let server = TestServer::spawn(backend).await;
    let discovery: Value = server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(
        discovery["authorization_endpoint"],
        server.url("/connect/authorize")
    );
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let user = add_user(&server, "alice").await;
    let client = register_public_client(&server, json!({})).await;
    assert!(
        client.get("client_secret").is_none(),
        "a public client gets no secret"
    );
    let client_id = client["client_id"].as_str().unwrap();

    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    // RFC 8252 §7.3: the port of a loopback redirect URI may differ from the registered one.
    let redirect_uri = "http://localhost:51999/callback";
    let url = authorize_url(
        &server,
        &client,
        &challenge,
        &[
            ("redirect_uri", Some(redirect_uri)),
            ("resource", Some("https://mcp.example.com/mcp")),
        ],
    );
    let redirect = agent.authorize(&url, "alice").await;
    assert_eq!(redirect.host_str(), Some("localhost"));
    assert_eq!(redirect.port(), Some(51999));
    assert_eq!(query(&redirect, "state").as_deref(), Some("state-123"));
    assert_eq!(
        query(&redirect, "iss").as_deref(),
        Some(server.url("").trim_end_matches('/')),
        "RFC 9207"
    );
    let code = query(&redirect, "code").unwrap();
    let response = exchange(&server, &client, &code, &verifier, redirect_uri).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile email offline_access");
    let access_token = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("offline_access gives a refresh token");

    let id_claims =
        verified_id_token(&server, tokens["id_token"].as_str().unwrap(), client_id).await;
    assert_eq!(id_claims["sub"], user.id.as_str());
    assert_eq!(id_claims["nonce"], "nonce-456");
    assert!(id_claims["auth_time"].as_i64().is_some());
    assert_eq!(
        id_claims["at_hash"],
        token_hash_claim(SigningAlgorithm::Rs256, access_token).as_str()
    );

    // The access token is for the resource the client named (RFC 8707), and a resource server
    // can introspect it.
    let resource_server = confidential_client(&server).await;
    let introspected = introspect(&server, &resource_server, access_token).await;
    assert_eq!(introspected["active"], true, "{introspected}");
    // For the resource, and for this server's userinfo, since openid was granted.
    let audience = introspected["aud"].as_array().unwrap();
    assert!(
        audience
            .iter()
            .any(|aud| aud == "https://mcp.example.com/mcp"),
        "{introspected}"
    );
    assert!(
        audience
            .iter()
            .any(|aud| aud == server.url("").trim_end_matches('/'))
    );
    assert_eq!(introspected["sub"], user.id.as_str());
    assert_eq!(introspected["client_id"], client_id);

    let info: Value = userinfo(&server, access_token).await.json().await.unwrap();
    assert_eq!(info["sub"], user.id.as_str());
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["email"], "alice@example.com");

    // Refresh: a new access token and a new refresh token; the old one is spent.
    let refreshed = refresh(&server, &client, refresh_token).await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    let second_refresh = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(
        second_refresh, refresh_token,
        "public clients' refresh tokens rotate"
    );
    let introspected = introspect(
        &server,
        &resource_server,
        refreshed["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(introspected["active"], true);
    // And again with the successor.
    let third = refresh(&server, &client, second_refresh).await;
    assert_eq!(third.status(), 200);
}

async fn remembered_consent_skips_the_pages_and_prompt_asks_again(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "bob").await;
    let client = register_confidential_client(&server).await;
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let first = agent
        .authorize(&authorize_url(&server, &client, &challenge, &[]), "bob")
        .await;
    let response =
        exchange_confidential(&server, &client, &query(&first, "code").unwrap(), &verifier).await;
    assert_eq!(response.status(), 200);
    // Signed in and consented: straight back to the client.
    let again = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    let redirect = again.redirect().expect("no page the second time");
    assert!(query(&redirect, "code").is_some());
    // A smaller scope is covered by the consent too.
    let narrower = agent
        .get(&authorize_url(
            &server,
            &client,
            &challenge,
            &[("scope", Some("openid"))],
        ))
        .await;
    assert!(narrower.redirect().is_some());
    // prompt=none works silently now.
    let silent = agent
        .get(&authorize_url(
            &server,
            &client,
            &challenge,
            &[("prompt", Some("none"))],
        ))
        .await;
    assert!(query(&silent.redirect().unwrap(), "code").is_some());
    // prompt=consent asks again; prompt=login asks for the password again.
    let consent = agent
        .get(&authorize_url(
            &server,
            &client,
            &challenge,
            &[("prompt", Some("consent"))],
        ))
        .await;
    assert!(consent.body.contains("id=\"allow\""));
    let login = agent
        .get(&authorize_url(
            &server,
            &client,
            &challenge,
            &[("prompt", Some("login"))],
        ))
        .await;
    assert!(login.body.contains("id=\"password\""));
    // Another browser has no session: prompt=none cannot show the login page.
    let stranger = Agent::new()
        .get(&authorize_url(
            &server,
            &client,
            &challenge,
            &[("prompt", Some("none"))],
        ))
        .await;
    let redirect = stranger.redirect().unwrap();
    assert_eq!(query(&redirect, "error").as_deref(), Some("login_required"));
    assert_eq!(query(&redirect, "state").as_deref(), Some("state-123"));
}

/// RFC 8252 §8.6: any program on the device can claim a public client's id and a loopback
/// port, so remembered consent never approves such a client silently.
async fn a_public_loopback_client_is_asked_every_time(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "hana").await;
    let client = register_public_client(&server, json!({})).await;
    let agent = Agent::new();
    let (_, challenge) = pkce();
    agent
        .authorize(&authorize_url(&server, &client, &challenge, &[]), "hana")
        .await;
    let again = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    assert!(
        again.body.contains("id=\"allow\""),
        "asked again: {}",
        again.body
    );
    let silent = agent
        .get(&authorize_url(
            &server,
            &client,
            &challenge,
            &[("prompt", Some("none"))],
        ))
        .await;
    assert_eq!(
        query(&silent.redirect().unwrap(), "error").as_deref(),
        Some("consent_required")
    );
}

async fn a_reused_refresh_token_revokes_the_grant(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "carol").await;
    let client = register_public_client(&server, json!({})).await;
    let tokens = tokens_for(&server, &client, "carol").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let rotated: Value = refresh(&server, &client, first).await.json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap();
    // The spent token comes back: someone copied it. The whole grant goes.
    let description =
        expect_error(refresh(&server, &client, first).await, 400, "invalid_grant").await;
    assert!(description.contains("revoked"), "{description}");
    expect_error(
        refresh(&server, &client, second).await,
        400,
        "invalid_grant",
    )
    .await;
    let resource_server = confidential_client(&server).await;
    let introspected = introspect(
        &server,
        &resource_server,
        rotated["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        introspected["active"], false,
        "access tokens of the grant die with it"
    );
}

async fn revocation_ends_the_grant_for_every_token(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "dave").await;
    let client = register_public_client(&server, json!({})).await;
    let tokens = tokens_for(&server, &client, "dave").await;
    let client_id = client["client_id"].as_str().unwrap();
    let revoke = |token: String| {
        let server = &server;
        async move {
            server
                .http()
                .post(server.url("/connect/revoke"))
                .form(&[
                    ("client_id", client_id),
                    ("token", token.as_str()),
                    ("token_type_hint", "refresh_token"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        revoke(tokens["refresh_token"].as_str().unwrap().to_owned())
            .await
            .status(),
        200
    );
    expect_error(
        refresh(&server, &client, tokens["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    )
    .await;
    let status = userinfo(&server, tokens["access_token"].as_str().unwrap())
        .await
        .status();
    assert_eq!(
        status, 401,
        "the access token of a revoked grant is refused"
    );
    // Revoking an unknown token is not an error (RFC 7009 §2.2).
    assert_eq!(revoke("not-a-token".to_owned()).await.status(), 200);
    // Another client may not revoke this client's tokens.
    let other = register_public_client(&server, json!({})).await;
    let fresh = tokens_for(&server, &client, "dave").await;
    let response = server
        .http()
        .post(server.url("/connect/revoke"))
        .form(&[
            ("client_id", other["client_id"].as_str().unwrap()),
            ("token", fresh["access_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "unauthorized_client").await;
    assert_eq!(
        userinfo(&server, fresh["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

async fn an_update_that_changes_the_redirect_uris_drops_consent_and_grants(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "erin").await;
    let client = register_confidential_client(&server).await;
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let redirect = agent
        .authorize(&authorize_url(&server, &client, &challenge, &[]), "erin")
        .await;
    let code = query(&redirect, "code").unwrap();
    let tokens: Value = exchange_confidential(&server, &client, &code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    let refresh_with_secret = |refresh_token: String| {
        let server = &server;
        let client = &client;
        async move {
            server
                .http()
                .post(server.url("/connect/token"))
                .basic_auth(
                    client["client_id"].as_str().unwrap(),
                    client["client_secret"].as_str(),
                )
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    // A confidential client's refresh token does not rotate: it works again and again.
    assert_eq!(
        refresh_with_secret(refresh_token.clone()).await.status(),
        200
    );
    assert_eq!(
        refresh_with_secret(refresh_token.clone()).await.status(),
        200
    );
    // Consent is remembered: no page.
    let page = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    assert!(page.redirect().is_some());

    let mut metadata = client.clone();
    let object = metadata.as_object_mut().unwrap();
    for member in [
        "registration_access_token",
        "registration_client_uri",
        "client_id_issued_at",
        "client_secret_expires_at",
    ] {
        object.remove(member);
    }
    object.insert(
        "redirect_uris".to_owned(),
        json!([WEB_REDIRECT, "https://app.example.com/other"]),
    );
    let updated = server
        .http()
        .put(client["registration_client_uri"].as_str().unwrap())
        .bearer_auth(client["registration_access_token"].as_str().unwrap())
        .json(&metadata)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200, "{}", updated.text().await.unwrap());
    expect_error(
        refresh_with_secret(refresh_token).await,
        400,
        "invalid_grant",
    )
    .await;
    // Consent is asked again.
    let page = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    assert!(page.body.contains("id=\"allow\""), "{}", page.body);
}

async fn logout_ends_the_session_and_returns_only_to_a_registered_uri(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "frank").await;
    let client = register_public_client(
        &server,
        json!({"post_logout_redirect_uris": ["http://localhost:33418/signed-out"]}),
    )
    .await;
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let redirect = agent
        .authorize(&authorize_url(&server, &client, &challenge, &[]), "frank")
        .await;
    let tokens: Value = exchange(
        &server,
        &client,
        &query(&redirect, "code").unwrap(),
        &verifier,
        "http://localhost:33418/callback",
    )
    .await
    .json()
    .await
    .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let logout = |redirect: &str| {
        let mut url = url::Url::parse(&server.url("/connect/logout")).unwrap();
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", redirect)
            .append_pair("state", "bye");
        url.to_string()
    };
    // Not registered: an error page, never a redirect.
    let refused = agent.get(&logout("https://evil.example/")).await;
    assert_eq!(refused.status, 400);
    assert!(refused.location.is_none());
    // Without a hint, even a registered URI needs the user's confirmation first: logout must
    // not be a redirector for any self-registered client.
    let mut hintless = url::Url::parse(&server.url("/connect/logout")).unwrap();
    hintless
        .query_pairs_mut()
        .append_pair("client_id", client["client_id"].as_str().unwrap())
        .append_pair(
            "post_logout_redirect_uri",
            "http://localhost:33418/signed-out",
        );
    let asked = Agent::new().get(hintless.as_str()).await;
    assert_eq!(asked.status, 200);
    assert!(asked.location.is_none());
    assert!(asked.body.contains("id=\"confirm\""));
    let done = agent
        .get(&logout("http://localhost:33418/signed-out"))
        .await;
    let back = done.redirect().expect("back to the client");
    assert_eq!(back.path(), "/signed-out");
    assert_eq!(query(&back, "state").as_deref(), Some("bye"));
    // The session is over: the login page again.
    let page = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    assert!(page.body.contains("id=\"password\""));
    // A logout link without a hint asks first.
    let agent = Agent::new();
    agent
        .authorize(&authorize_url(&server, &client, &challenge, &[]), "frank")
        .await;
    let confirm = agent.get(&server.url("/connect/logout")).await;
    assert!(confirm.body.contains("id=\"confirm\""), "{}", confirm.body);
    let page = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    assert!(
        !page.body.contains("id=\"password\""),
        "still signed in until confirmed"
    );
    let signed_out = agent.submit(&confirm, &[]).await;
    assert_eq!(signed_out.status, 200);
    let page = agent
        .get(&authorize_url(&server, &client, &challenge, &[]))
        .await;
    assert!(page.body.contains("id=\"password\""));
}

async fn a_client_without_scope_gets_the_default_scope(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let response = server
        .register(json!({
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .await;
    let client: Value = response.json().await.unwrap();
    assert_eq!(
        client["scope"], "openid",
        "RFC 7591 §2: the default scope is echoed"
    );
    let token = server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
}

async fn id_tokens_are_signed_with_the_registered_algorithm(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    add_user(&server, "gina").await;
    for alg in ["ES256", "EdDSA", "RS256"] {
        let client =
            register_public_client(&server, json!({"id_token_signed_response_alg": alg})).await;
        assert_eq!(client["id_token_signed_response_alg"], alg);
        let tokens = tokens_for(&server, &client, "gina").await;
        let header = jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
        assert_eq!(
            format!("{:?}", header.alg).to_uppercase(),
            alg.to_uppercase()
        );
        let jwks: Value = server.get_json("/.well-known/jwks.json").await;
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|key| key["kid"] == header.kid.as_deref().unwrap() && key["alg"] == alg),
            "the {alg} key is published"
        );
    }
}

async fn members_the_server_does_not_act_on_are_not_echoed(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let client = register_public_client(
        &server,
        json!({
            "userinfo_signed_response_alg": "RS256",
            "request_object_signing_alg": "RS256",
            "frontchannel_logout_uri": "https://client.example/logout",
            "backchannel_logout_uri": "https://client.example/backchannel",
            "default_acr_values": ["urn:mace:incommon:iap:silver"],
            "require_auth_time": true,
            "default_max_age": 3600,
        }),
    )
    .await;
    for member in [
        "userinfo_signed_response_alg",
        "request_object_signing_alg",
        "frontchannel_logout_uri",
        "backchannel_logout_uri",
        "default_acr_values",
    ] {
        assert!(
            client.get(member).is_none(),
            "{member} is not honoured, so not echoed: {client}"
        );
    }
    // What the server does act on stays.
    assert_eq!(client["require_auth_time"], true);
    assert_eq!(client["default_max_age"], 3600);
}
