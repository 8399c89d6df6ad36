//! Registration policies over HTTP: every rule, the built-in open and default policies, updates
//! under the policy of registration, and `?dry_run=true`.

use registrar_core::policy::{Binding, HostPattern, Policies, Policy};
use registrar_core::{ApplicationType, AuthMethod, ClientId, GrantType, RegistrationMode};
use registrar_testkit::{Backend, TestServer, backends};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::protected::keys::{jwks, keys};
use crate::protected::support::{
    BEARER_SCOPE, access_token, id_of, introspect, machine, manage, policy_token,
    post_registration, register_under, token_of, token_request, update_body, uri_of, web_app,
};
use crate::{expect_error, expect_json};

backends!(
    grant_types_rule_refuses_unlisted_grants,
    scopes_rule_refuses_unlisted_scopes,
    auth_methods_rule_refuses_unlisted_methods,
    redirect_uri_hosts_rule_allows_only_matching_hosts,
    application_types_rule_refuses_unlisted_types,
    client_credentials_can_be_refused_by_a_policy,
    max_access_token_lifetime_bounds_the_registered_and_the_default_lifetime,
    max_refresh_token_lifetime_bounds_both_refresh_lifetimes,
    policy_that_forbids_registration_is_access_denied,
    max_clients_refuses_beyond_the_cap_without_using_the_token,
    token_naming_an_unconfigured_policy_is_access_denied,
    open_policy_refuses_client_credentials_and_unlisted_scopes,
    open_clients_cannot_introspect_while_token_clients_can,
    policy_of_registration_governs_updates,
    bearer_bound_policy_applies_to_bearer_registrations,
    dry_run_answers_the_client_without_registering_it,
    dry_run_refuses_what_a_registration_refuses,
    dry_run_with_a_value_other_than_true_or_false_is_invalid_request,
);

/// The name of the one policy most tests configure.
const LIMITED: &str = "limited";

fn with_policies(policies: Vec<Policy>) -> impl FnOnce(&mut registrar_core::Settings) + Send {
    move |settings| settings.policies = Policies::new(policies).unwrap()
}

/// A server whose policy `limited` is `policy` on top of the unrestricted one.
async fn server_with(backend: Backend, policy: Policy) -> TestServer {
    TestServer::spawn_with(backend, with_policies(vec![policy])).await
}

fn limited() -> Policy {
    Policy::unrestricted(LIMITED)
}

/// Asserts a refusal by policy `name` and returns its description.
async fn refused_by(response: Response, status: u16, code: &str, name: &str) -> String {
    let description = expect_error(response, status, code).await;
    assert!(
        description.contains(&format!("policy '{name}'")),
        "the refusal names the policy: {description}"
    );
    description
}

async fn limited_registration(server: &TestServer, body: Value) -> Response {
    register_under(server, LIMITED, &body).await
}

fn with(mut body: Value, member: &str, value: Value) -> Value {
    body[member] = value;
    body
}

async fn grant_types_rule_refuses_unlisted_grants(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            grant_types: Some(vec![GrantType::AuthorizationCode]),
            ..limited()
        },
    )
    .await;
    let description = refused_by(
        limited_registration(&server, machine("openid")).await,
        400,
        "invalid_client_metadata",
        LIMITED,
    )
    .await;
    assert!(description.contains("client_credentials"), "{description}");
    let refresh = with(
        web_app(),
        "grant_types",
        json!(["authorization_code", "refresh_token"]),
    );
    let description = refused_by(
        limited_registration(&server, refresh).await,
        400,
        "invalid_client_metadata",
        LIMITED,
    )
    .await;
    assert!(description.contains("refresh_token"), "{description}");
    expect_json(limited_registration(&server, web_app()).await, 201).await;
    // The rule is the policy's: the default policy lets the same client register.
    expect_json(server.register(machine("openid")).await, 201).await;
}

async fn scopes_rule_refuses_unlisted_scopes(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            scopes: Some(vec!["openid".to_owned()]),
            ..limited()
        },
    )
    .await;
    let description = refused_by(
        limited_registration(&server, with(web_app(), "scope", json!("openid email"))).await,
        400,
        "invalid_client_metadata",
        LIMITED,
    )
    .await;
    assert!(description.contains("email"), "{description}");
    let registered = expect_json(
        limited_registration(&server, with(web_app(), "scope", json!("openid"))).await,
        201,
    )
    .await;
    assert_eq!(registered["scope"], "openid");
}

async fn auth_methods_rule_refuses_unlisted_methods(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            auth_methods: Some(vec![AuthMethod::PrivateKeyJwt]),
            ..limited()
        },
    )
    .await;
    // The default method, client_secret_basic, is not listed.
    let description = refused_by(
        limited_registration(&server, web_app()).await,
        400,
        "invalid_client_metadata",
        LIMITED,
    )
    .await;
    assert!(description.contains("client_secret_basic"), "{description}");
    let mut key_client = machine("openid");
    key_client["token_endpoint_auth_method"] = json!("private_key_jwt");
    key_client["jwks"] = jwks(&[&keys().es256]);
    expect_json(limited_registration(&server, key_client).await, 201).await;
}

async fn redirect_uri_hosts_rule_allows_only_matching_hosts(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            redirect_uri_hosts: Some(vec![HostPattern::parse("*.example.com").unwrap()]),
            ..limited()
        },
    )
    .await;
    for (uris, index) in [
        (json!(["https://example.com/cb"]), 0),
        (json!(["https://app.example.org/cb"]), 0),
        (
            json!([
                "https://app.example.com/cb",
                "https://evil.example.com.attacker.test/cb"
            ]),
            1,
        ),
    ] {
        let description = refused_by(
            limited_registration(&server, with(web_app(), "redirect_uris", uris.clone())).await,
            400,
            "invalid_redirect_uri",
            LIMITED,
        )
        .await;
        assert!(
            description.contains(&format!("redirect_uris[{index}]")),
            "{uris}: {description}"
        );
    }
    let uris = json!([
        "https://app.example.com/cb",
        "https://deep.sub.example.com/cb"
    ]);
    expect_json(
        limited_registration(&server, with(web_app(), "redirect_uris", uris)).await,
        201,
    )
    .await;
    // A client without redirects has no host to check.
    expect_json(limited_registration(&server, machine("openid")).await, 201).await;
}

async fn application_types_rule_refuses_unlisted_types(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            application_types: Some(vec![ApplicationType::Native]),
            ..limited()
        },
    )
    .await;
    // Omitted, the type is web.
    for body in [web_app(), with(web_app(), "application_type", json!("web"))] {
        let description = refused_by(
            limited_registration(&server, body).await,
            400,
            "invalid_client_metadata",
            LIMITED,
        )
        .await;
        assert!(
            description.contains("application_type web"),
            "{description}"
        );
    }
    let native = json!({
        "redirect_uris": ["http://127.0.0.1:8400/callback"],
        "application_type": "native",
        "token_endpoint_auth_method": "none",
    });
    expect_json(limited_registration(&server, native).await, 201).await;
}

async fn client_credentials_can_be_refused_by_a_policy(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            allow_client_credentials: false,
            ..limited()
        },
    )
    .await;
    let description = refused_by(
        limited_registration(&server, machine("openid")).await,
        400,
        "invalid_client_metadata",
        LIMITED,
    )
    .await;
    assert!(description.contains("client_credentials"), "{description}");
    expect_json(limited_registration(&server, web_app()).await, 201).await;
}

async fn max_access_token_lifetime_bounds_the_registered_and_the_default_lifetime(
    backend: Backend,
) {
    let server = server_with(
        backend,
        Policy {
            max_access_token_lifetime: Some(600),
            ..limited()
        },
    )
    .await;
    let description = refused_by(
        limited_registration(
            &server,
            with(machine("openid"), "access_token_lifetime", json!(601)),
        )
        .await,
        400,
        "invalid_client_metadata",
        LIMITED,
    )
    .await;
    assert!(
        description.contains("access_token_lifetime"),
        "{description}"
    );
    let at_max = expect_json(
        limited_registration(
            &server,
            with(machine("openid"), "access_token_lifetime", json!(600)),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(at_max["access_token_lifetime"], 600);
    // Omitted, the default of an hour is capped to the policy's maximum, and tokens follow it.
    let defaulted = expect_json(limited_registration(&server, machine("openid")).await, 201).await;
    assert_eq!(defaulted["access_token_lifetime"], 600);
    let token = expect_json(
        token_request(
            &server,
            id_of(&defaulted),
            defaulted["client_secret"].as_str().unwrap(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(token["expires_in"], 600);
    // Under the default policy the default is the server's.
    let unlimited = expect_json(server.register(machine("openid")).await, 201).await;
    assert_eq!(unlimited["access_token_lifetime"], 3600);
}

async fn max_refresh_token_lifetime_bounds_both_refresh_lifetimes(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            max_refresh_token_lifetime: Some(3600),
            ..limited()
        },
    )
    .await;
    let refreshing = with(
        web_app(),
        "grant_types",
        json!(["authorization_code", "refresh_token"]),
    );
    for member in [
        "absolute_refresh_token_lifetime",
        "sliding_refresh_token_lifetime",
    ] {
        let description = refused_by(
            limited_registration(&server, with(refreshing.clone(), member, json!(3601))).await,
            400,
            "invalid_client_metadata",
            LIMITED,
        )
        .await;
        assert!(description.contains(member), "{description}");
    }
    let mut at_max = with(refreshing, "absolute_refresh_token_lifetime", json!(3600));
    at_max["sliding_refresh_token_lifetime"] = json!(3600);
    expect_json(limited_registration(&server, at_max).await, 201).await;
}

async fn policy_that_forbids_registration_is_access_denied(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            allow_registration: false,
            ..limited()
        },
    )
    .await;
    refused_by(
        limited_registration(&server, web_app()).await,
        403,
        "access_denied",
        LIMITED,
    )
    .await;
    assert!(server.store().list_clients().await.unwrap().is_empty());
}

/// The uses of the one initial access token minted with `policy`.
async fn uses_of_token_with_policy(server: &TestServer, policy: &str) -> u32 {
    let tokens = server.store().list_initial_tokens().await.unwrap();
    let mut matching = tokens
        .iter()
        .filter(|token| token.policy.as_deref() == Some(policy));
    let token = matching.next().expect("a token with that policy");
    assert!(matching.next().is_none(), "one token with that policy");
    token.uses
}

async fn max_clients_refuses_beyond_the_cap_without_using_the_token(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            max_clients: Some(2),
            ..limited()
        },
    )
    .await;
    let token = policy_token(&server, Some(LIMITED), Some(5)).await;
    let first = expect_json(
        post_registration(&server, Some(&token), &web_app()).await,
        201,
    )
    .await;
    expect_json(
        post_registration(&server, Some(&token), &web_app()).await,
        201,
    )
    .await;
    let description = refused_by(
        post_registration(&server, Some(&token), &web_app()).await,
        403,
        "access_denied",
        LIMITED,
    )
    .await;
    assert!(description.contains('2'), "{description}");
    assert_eq!(server.store().list_clients().await.unwrap().len(), 2);
    assert_eq!(uses_of_token_with_policy(&server, LIMITED).await, 2);
    // The cap counts the clients the policy holds now: after a deletion there is room again.
    let deleted = manage(
        &server,
        Method::DELETE,
        uri_of(&first),
        token_of(&first),
        None,
    )
    .await;
    assert_eq!(deleted.status().as_u16(), 204);
    expect_json(
        post_registration(&server, Some(&token), &web_app()).await,
        201,
    )
    .await;
    assert_eq!(uses_of_token_with_policy(&server, LIMITED).await, 3);
    // Clients of other policies do not count.
    expect_json(server.register(web_app()).await, 201).await;
}

async fn token_naming_an_unconfigured_policy_is_access_denied(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    expect_error(
        register_under(&server, "retired", &web_app()).await,
        403,
        "access_denied",
    )
    .await;
    assert!(server.store().list_clients().await.unwrap().is_empty());
    assert_eq!(uses_of_token_with_policy(&server, "retired").await, 0);
}

fn open_with_phone_scope(settings: &mut registrar_core::Settings) {
    settings.mode = RegistrationMode::Open;
    // A scope the server offers, but not the open policy.
    settings.scopes.push("phone".to_owned());
}

async fn open_policy_refuses_client_credentials_and_unlisted_scopes(backend: Backend) {
    let server = TestServer::spawn_with(backend, open_with_phone_scope).await;
    let description = refused_by(
        post_registration(&server, None, &machine("openid")).await,
        400,
        "invalid_client_metadata",
        "open",
    )
    .await;
    assert!(description.contains("client_credentials"), "{description}");
    let description = refused_by(
        post_registration(
            &server,
            None,
            &with(web_app(), "scope", json!("openid phone")),
        )
        .await,
        400,
        "invalid_client_metadata",
        "open",
    )
    .await;
    assert!(description.contains("phone"), "{description}");
    let all_open_scopes = with(
        web_app(),
        "scope",
        json!("openid profile email offline_access"),
    );
    expect_json(
        post_registration(&server, None, &all_open_scopes).await,
        201,
    )
    .await;
    // With an initial access token the default policy applies: both are fine.
    expect_json(
        server
            .register(with(web_app(), "scope", json!("openid phone")))
            .await,
        201,
    )
    .await;
    expect_json(server.register(machine("openid")).await, 201).await;
}

async fn open_clients_cannot_introspect_while_token_clients_can(backend: Backend) {
    let server = TestServer::spawn_with(backend, |settings| {
        settings.mode = RegistrationMode::Open;
    })
    .await;
    let anonymous = expect_json(post_registration(&server, None, &web_app()).await, 201).await;
    assert!(anonymous["client_secret"].is_string());
    let resource_server = expect_json(server.register(web_app()).await, 201).await;
    let machine_client = expect_json(server.register(machine("openid")).await, 201).await;
    let token = access_token(&server, &machine_client).await;
    refused_by(
        introspect(&server, &anonymous, &token).await,
        403,
        "access_denied",
        "open",
    )
    .await;
    let active = expect_json(introspect(&server, &resource_server, &token).await, 200).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], id_of(&machine_client));
}

async fn policy_of_registration_governs_updates(backend: Backend) {
    let server = TestServer::spawn_with(backend, |settings| {
        settings.mode = RegistrationMode::Open;
        settings.policies = Policies::new(vec![Policy {
            allow_client_credentials: false,
            ..limited()
        }])
        .unwrap();
    })
    .await;
    let both_grants = json!(["authorization_code", "client_credentials"]);
    let limited_client = expect_json(limited_registration(&server, web_app()).await, 201).await;
    let anonymous = expect_json(post_registration(&server, None, &web_app()).await, 201).await;
    for (client, policy) in [(&limited_client, LIMITED), (&anonymous, "open")] {
        let update = update_body(client, with(web_app(), "grant_types", both_grants.clone()));
        let description = refused_by(
            manage(
                &server,
                Method::PUT,
                uri_of(client),
                token_of(client),
                Some(&update),
            )
            .await,
            400,
            "invalid_client_metadata",
            policy,
        )
        .await;
        assert!(description.contains("client_credentials"), "{description}");
        let within = update_body(client, with(web_app(), "client_name", json!("Renamed")));
        let updated = expect_json(
            manage(
                &server,
                Method::PUT,
                uri_of(client),
                token_of(client),
                Some(&within),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(updated["client_name"], "Renamed");
    }
    // A client of the default policy may add the grant.
    let default_client = expect_json(server.register(web_app()).await, 201).await;
    let update = update_body(&default_client, with(web_app(), "grant_types", both_grants));
    let updated = expect_json(
        manage(
            &server,
            Method::PUT,
            uri_of(&default_client),
            token_of(&default_client),
            Some(&update),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        updated["grant_types"],
        json!(["authorization_code", "client_credentials"])
    );
}

async fn bearer_bound_policy_applies_to_bearer_registrations(backend: Backend) {
    let server = TestServer::spawn_with(
        backend,
        with_policies(vec![
            Policy {
                allow_registration_scope: true,
                ..Policy::unrestricted("admin")
            },
            Policy {
                bind: vec![Binding::Bearer],
                scopes: Some(vec!["openid".to_owned()]),
                ..Policy::unrestricted("bearers")
            },
        ]),
    )
    .await;
    let admin = expect_json(
        register_under(&server, "admin", &machine(BEARER_SCOPE)).await,
        201,
    )
    .await;
    let bearer = access_token(&server, &admin).await;
    let email = with(web_app(), "scope", json!("openid email"));
    let description = refused_by(
        post_registration(&server, Some(&bearer), &email).await,
        400,
        "invalid_client_metadata",
        "bearers",
    )
    .await;
    assert!(description.contains("email"), "{description}");
    let registered = expect_json(
        post_registration(
            &server,
            Some(&bearer),
            &with(web_app(), "scope", json!("openid")),
        )
        .await,
        201,
    )
    .await;
    let stored = server
        .store()
        .get_client(&ClientId::parse(id_of(&registered)).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.policy.as_deref(), Some("bearers"));
    // Initial access tokens are not governed by it.
    expect_json(server.register(email).await, 201).await;
}

async fn dry_run(server: &TestServer, query: &str, token: &str, body: &Value) -> Response {
    server
        .http()
        .post(server.url(&format!("/connect/dcr?{query}")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn dry_run_answers_the_client_without_registering_it(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let token = policy_token(&server, None, Some(1)).await;
    let answer = expect_json(
        dry_run(&server, "dry_run=true", &token, &web_app()).await,
        200,
    )
    .await;
    assert_eq!(
        answer["redirect_uris"],
        json!(["https://app.example.com/cb"])
    );
    assert_eq!(answer["client_name"], "Web App");
    // The defaults a registration would get.
    assert_eq!(answer["grant_types"], json!(["authorization_code"]));
    assert_eq!(answer["response_types"], json!(["code"]));
    assert_eq!(answer["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(answer["application_type"], "web");
    assert_eq!(answer["access_token_lifetime"], 3600);
    for member in [
        "client_id",
        "client_id_issued_at",
        "client_secret",
        "client_secret_expires_at",
        "registration_access_token",
        "registration_client_uri",
    ] {
        assert!(answer.get(member).is_none(), "{member} in {answer}");
    }
    assert!(server.store().list_clients().await.unwrap().is_empty());
    let tokens = server.store().list_initial_tokens().await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].uses, 0);
    // The single use is still there for the real registration, and then gone.
    let registered = expect_json(
        post_registration(&server, Some(&token), &web_app()).await,
        201,
    )
    .await;
    assert!(registered["client_id"].is_string());
    expect_error(
        dry_run(&server, "dry_run=false", &token, &web_app()).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(server.store().list_clients().await.unwrap().len(), 1);
}

async fn dry_run_refuses_what_a_registration_refuses(backend: Backend) {
    let server = server_with(
        backend,
        Policy {
            allow_client_credentials: false,
            max_clients: Some(1),
            ..limited()
        },
    )
    .await;
    let token = policy_token(&server, Some(LIMITED), Some(10)).await;
    let dry: Value = {
        let response = dry_run(&server, "dry_run=true", &token, &machine("openid")).await;
        assert_eq!(response.status().as_u16(), 400);
        response.json().await.unwrap()
    };
    let real: Value = {
        let response = post_registration(&server, Some(&token), &machine("openid")).await;
        assert_eq!(response.status().as_u16(), 400);
        response.json().await.unwrap()
    };
    assert_eq!(dry, real);
    assert_eq!(dry["error"], "invalid_client_metadata");
    // A full policy refuses a dry run as it refuses a registration.
    expect_json(
        post_registration(&server, Some(&token), &web_app()).await,
        201,
    )
    .await;
    refused_by(
        dry_run(&server, "dry_run=true", &token, &web_app()).await,
        403,
        "access_denied",
        LIMITED,
    )
    .await;
    assert_eq!(server.store().list_clients().await.unwrap().len(), 1);
}

async fn dry_run_with_a_value_other_than_true_or_false_is_invalid_request(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let token = policy_token(&server, None, Some(1)).await;
    for query in [
        "dry_run=maybe",
        "dry_run=",
        "dry_run=TRUE",
        "dry_run=true&dry_run=1",
    ] {
        let description = expect_error(
            dry_run(&server, query, &token, &web_app()).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(description.contains("dry_run"), "{query}: {description}");
    }
    assert!(server.store().list_clients().await.unwrap().is_empty());
    assert_eq!(
        server.store().list_initial_tokens().await.unwrap()[0].uses,
        0
    );
}
