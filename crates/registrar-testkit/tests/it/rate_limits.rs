//! Rate limits over HTTP, timed by a `ManualClock`: registrations per address and per initial
//! access token, failed registration access token presentations, failed client
//! authentication per client and per source, and the counters Redis shares between instances.

use std::sync::Arc;

use registrar_core::policy::{Policies, Policy};
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::{Clock as _, ManualClock, SystemClock};
use registrar_server::{Quota, RateLimitConfig, TokenOptions};
use registrar_testkit::{Backend, TestServer, backends};
use reqwest::{Method, Response};
use serde_json::Value;

use crate::protected::support::{
    id_of, introspect, machine, manage, policy_token, post_registration, secret_of, token_of,
    token_request, uri_of, web_app,
};
use crate::{expect_error, expect_json};

backends!(
    registrations_per_address_are_limited_until_the_clock_moves,
    registrations_per_initial_token_are_limited,
    registrations_per_policy_are_limited_after_validation,
    failed_registration_token_presentations_block_the_source,
    failed_client_authentications_are_limited_per_client,
    failed_client_authentications_are_limited_per_source,
    failed_introspection_authentications_count_too,
    successful_authentications_never_count,
    disabled_limits_never_refuse,
    redis_shares_the_registration_limit_between_instances,
);

/// Quotas generous enough to stay out of the way of the one under test.
const AMPLE: Quota = Quota::new(100, 60);
/// The small quota under test: three, then one more every 20 seconds.
const THREE_A_MINUTE: Quota = Quota::new(3, 60);

/// Limits where every quota is ample, then changed by `configure`.
fn limits(configure: impl FnOnce(&mut RateLimitConfig)) -> RateLimitConfig {
    let mut config = RateLimitConfig {
        registration: AMPLE,
        initial_token: AMPLE,
        management_failure: AMPLE,
        client_auth_failure_by_client: AMPLE,
        client_auth_failure_by_source: AMPLE,
        policy_registrations: AMPLE,
        ..RateLimitConfig::default()
    };
    configure(&mut config);
    config
}

/// A server whose limits are `rate_limits`, timed by a manual clock the test moves.
async fn limited_server(
    backend: Backend,
    clock: &Arc<ManualClock>,
    rate_limits: RateLimitConfig,
) -> TestServer {
    TestServer::builder(backend)
        .clock(clock.clone())
        .tokens(TokenOptions {
            rate_limits,
            ..TokenOptions::default()
        })
        .spawn()
        .await
}

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(SystemClock.now()))
}

/// Asserts a `429 too_many_requests` with a `Retry-After` of whole seconds, at least 1 and
/// at most the quota's period.
async fn expect_too_many(response: Response) {
    let retry_after = response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse::<u64>()
        .expect("Retry-After in whole seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let description = expect_error(response, 429, "too_many_requests").await;
    assert!(description.contains("too many"), "{description}");
}

async fn register_machine(server: &TestServer) -> Value {
    expect_json(server.register(machine("openid")).await, 201).await
}

async fn wrong_secret(server: &TestServer, client_id: &str) -> Response {
    token_request(server, client_id, "not-the-secret").await
}

async fn right_secret(server: &TestServer, client: &Value) -> Response {
    token_request(server, id_of(client), secret_of(client)).await
}

async fn registrations_per_address_are_limited_until_the_clock_moves(backend: Backend) {
    let clock = manual_clock();
    let server = limited_server(
        backend,
        &clock,
        limits(|config| config.registration = THREE_A_MINUTE),
    )
    .await;
    for _ in 0..3 {
        expect_json(server.register(web_app()).await, 201).await;
    }
    expect_too_many(server.register(web_app()).await).await;
    // Counted before the token is looked at, so a request without one is refused the same.
    expect_too_many(post_registration(&server, None, &web_app()).await).await;
    assert_eq!(server.store().list_clients().await.unwrap().len(), 3);
    clock.advance(60);
    expect_json(server.register(web_app()).await, 201).await;
}

async fn registrations_per_initial_token_are_limited(backend: Backend) {
    let clock = manual_clock();
    let server = limited_server(
        backend,
        &clock,
        limits(|config| config.initial_token = THREE_A_MINUTE),
    )
    .await;
    let busy = policy_token(&server, None, None).await;
    for _ in 0..3 {
        expect_json(
            post_registration(&server, Some(&busy), &web_app()).await,
            201,
        )
        .await;
    }
    expect_too_many(post_registration(&server, Some(&busy), &web_app()).await).await;
    // Another token from the same address is not limited by the first one's count.
    let other = policy_token(&server, None, None).await;
    expect_json(
        post_registration(&server, Some(&other), &web_app()).await,
        201,
    )
    .await;
    clock.advance(60);
    expect_json(
        post_registration(&server, Some(&busy), &web_app()).await,
        201,
    )
    .await;
}

async fn registrations_per_policy_are_limited_after_validation(backend: Backend) {
    let clock = manual_clock();
    let server = TestServer::builder(backend)
        .clock(clock.clone())
        .tokens(TokenOptions {
            rate_limits: limits(|config| config.policy_registrations = THREE_A_MINUTE),
            ..TokenOptions::default()
        })
        .settings(|settings| {
            settings.policies = Policies::new(vec![Policy::unrestricted("partners")]).unwrap();
        })
        .spawn()
        .await;
    let partners = policy_token(&server, Some("partners"), None).await;
    for _ in 0..3 {
        expect_json(
            post_registration(&server, Some(&partners), &web_app()).await,
            201,
        )
        .await;
    }
    // Another token of the same policy shares its count.
    let more_partners = policy_token(&server, Some("partners"), None).await;
    expect_too_many(post_registration(&server, Some(&more_partners), &web_app()).await).await;
    // Counted once the request is valid: an invalid one is refused for what it is.
    let invalid = serde_json::json!({"redirect_uris": ["https://app.example.com/cb#fragment"]});
    expect_error(
        post_registration(&server, Some(&partners), &invalid).await,
        400,
        "invalid_redirect_uri",
    )
    .await;
    // A dry run is neither counted nor refused.
    let dry_run = server
        .http()
        .post(server.url("/connect/dcr?dry_run=true"))
        .bearer_auth(&partners)
        .json(&web_app())
        .send()
        .await
        .unwrap();
    expect_json(dry_run, 200).await;
    // Other policies are not limited by this one's count.
    expect_json(server.register(web_app()).await, 201).await;
    assert_eq!(server.store().list_clients().await.unwrap().len(), 4);
    // The refused registration took no use of its token.
    let mut partner_token_uses: Vec<u32> = server
        .store()
        .list_initial_tokens()
        .await
        .unwrap()
        .iter()
        .filter(|token| token.policy.as_deref() == Some("partners"))
        .map(|token| token.uses)
        .collect();
    partner_token_uses.sort_unstable();
    assert_eq!(partner_token_uses, [0, 3]);
    clock.advance(60);
    expect_json(
        post_registration(&server, Some(&more_partners), &web_app()).await,
        201,
    )
    .await;
}

async fn failed_registration_token_presentations_block_the_source(backend: Backend) {
    let clock = manual_clock();
    let server = limited_server(
        backend,
        &clock,
        limits(|config| config.management_failure = THREE_A_MINUTE),
    )
    .await;
    let client = expect_json(server.register(web_app()).await, 201).await;
    for attempt in 0..3 {
        let wrong = format!("wrong-token-{attempt}");
        let response = manage(&server, Method::GET, uri_of(&client), &wrong, None).await;
        expect_error(response, 401, "invalid_token").await;
    }
    expect_too_many(manage(&server, Method::GET, uri_of(&client), "wrong-token", None).await).await;
    // While the source is blocked, even the right token is refused.
    expect_too_many(
        manage(
            &server,
            Method::GET,
            uri_of(&client),
            token_of(&client),
            None,
        )
        .await,
    )
    .await;
    expect_too_many(
        manage(
            &server,
            Method::DELETE,
            uri_of(&client),
            token_of(&client),
            None,
        )
        .await,
    )
    .await;
    clock.advance(60);
    expect_json(
        manage(
            &server,
            Method::GET,
            uri_of(&client),
            token_of(&client),
            None,
        )
        .await,
        200,
    )
    .await;
}

async fn failed_client_authentications_are_limited_per_client(backend: Backend) {
    let clock = manual_clock();
    let server = limited_server(
        backend,
        &clock,
        limits(|config| config.client_auth_failure_by_client = THREE_A_MINUTE),
    )
    .await;
    let target = register_machine(&server).await;
    let bystander = register_machine(&server).await;
    for _ in 0..3 {
        expect_error(
            wrong_secret(&server, id_of(&target)).await,
            401,
            "invalid_client",
        )
        .await;
    }
    expect_too_many(wrong_secret(&server, id_of(&target)).await).await;
    expect_too_many(right_secret(&server, &target).await).await;
    // Another client from the same address is not blocked.
    expect_json(right_secret(&server, &bystander).await, 200).await;
    clock.advance(60);
    expect_json(right_secret(&server, &target).await, 200).await;
}

async fn failed_client_authentications_are_limited_per_source(backend: Backend) {
    let clock = manual_clock();
    let server = limited_server(
        backend,
        &clock,
        limits(|config| config.client_auth_failure_by_source = THREE_A_MINUTE),
    )
    .await;
    let first = register_machine(&server).await;
    let second = register_machine(&server).await;
    let honest = register_machine(&server).await;
    // Three failures, each for a different client (one of them unknown).
    for client_id in [id_of(&first), id_of(&second), "no-such-client"] {
        expect_error(
            wrong_secret(&server, client_id).await,
            401,
            "invalid_client",
        )
        .await;
    }
    // The address is blocked, for every client and at both endpoints.
    expect_too_many(right_secret(&server, &honest).await).await;
    expect_too_many(introspect(&server, &honest, "any-token").await).await;
    clock.advance(60);
    expect_json(right_secret(&server, &honest).await, 200).await;
}

async fn failed_introspection_authentications_count_too(backend: Backend) {
    let clock = manual_clock();
    let server = limited_server(
        backend,
        &clock,
        limits(|config| config.client_auth_failure_by_client = THREE_A_MINUTE),
    )
    .await;
    let resource_server = register_machine(&server).await;
    let mut impostor = resource_server.clone();
    impostor["client_secret"] = "not-the-secret".into();
    for _ in 0..3 {
        expect_error(
            introspect(&server, &impostor, "any-token").await,
            401,
            "invalid_client",
        )
        .await;
    }
    expect_too_many(introspect(&server, &resource_server, "any-token").await).await;
    // The count is the client's, whichever endpoint it failed at.
    expect_too_many(right_secret(&server, &resource_server).await).await;
    clock.advance(60);
    let answer = expect_json(
        introspect(&server, &resource_server, "any-token").await,
        200,
    )
    .await;
    assert_eq!(answer["active"], false);
}

async fn successful_authentications_never_count(backend: Backend) {
    let clock = manual_clock();
    let two = Quota::new(2, 60);
    let server = limited_server(
        backend,
        &clock,
        limits(|config| {
            config.client_auth_failure_by_client = two;
            config.client_auth_failure_by_source = two;
            config.management_failure = two;
        }),
    )
    .await;
    let client = register_machine(&server).await;
    for _ in 0..6 {
        let token = expect_json(right_secret(&server, &client).await, 200).await;
        let token = token["access_token"].as_str().unwrap();
        expect_json(introspect(&server, &client, token).await, 200).await;
        expect_json(
            manage(
                &server,
                Method::GET,
                uri_of(&client),
                token_of(&client),
                None,
            )
            .await,
            200,
        )
        .await;
    }
    // Every quota is still whole: two failures pass as failures, the third is refused.
    for _ in 0..2 {
        expect_error(
            wrong_secret(&server, id_of(&client)).await,
            401,
            "invalid_client",
        )
        .await;
        expect_error(
            manage(&server, Method::GET, uri_of(&client), "wrong-token", None).await,
            401,
            "invalid_token",
        )
        .await;
    }
    expect_too_many(wrong_secret(&server, id_of(&client)).await).await;
    expect_too_many(manage(&server, Method::GET, uri_of(&client), "wrong-token", None).await).await;
}

async fn disabled_limits_never_refuse(backend: Backend) {
    let clock = manual_clock();
    let one = Quota::new(1, 60);
    let server = limited_server(
        backend,
        &clock,
        limits(|config| {
            config.enabled = false;
            config.registration = one;
            config.initial_token = one;
            config.management_failure = one;
            config.client_auth_failure_by_client = one;
            config.client_auth_failure_by_source = one;
        }),
    )
    .await;
    let token = policy_token(&server, None, None).await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        let body = machine("openid");
        clients.push(expect_json(post_registration(&server, Some(&token), &body).await, 201).await);
    }
    let client = &clients[0];
    for _ in 0..4 {
        expect_error(
            wrong_secret(&server, id_of(client)).await,
            401,
            "invalid_client",
        )
        .await;
        expect_error(
            manage(&server, Method::GET, uri_of(client), "wrong-token", None).await,
            401,
            "invalid_token",
        )
        .await;
    }
    expect_json(right_secret(&server, client).await, 200).await;
}

async fn redis_shares_the_registration_limit_between_instances(backend: Backend) {
    let Some(redis_url) = std::env::var("REGISTRAR_TEST_REDIS")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        eprintln!("note: REGISTRAR_TEST_REDIS is not set; the shared limit is not tested");
        return;
    };
    let clock = manual_clock();
    let prefix = format!("registrar-it:{}", random_token(&OsRandom, 12));
    let shared = limits(|config| {
        config.registration = THREE_A_MINUTE;
        config.redis_url = Some(redis_url);
        config.redis_prefix = prefix;
    });
    let first = limited_server(backend.clone(), &clock, shared.clone()).await;
    let second = limited_server(backend, &clock, shared).await;
    for _ in 0..3 {
        expect_json(first.register(web_app()).await, 201).await;
    }
    expect_too_many(second.register(web_app()).await).await;
    expect_too_many(first.register(web_app()).await).await;
    assert!(second.store().list_clients().await.unwrap().is_empty());
    clock.advance(60);
    expect_json(second.register(web_app()).await, 201).await;
}
