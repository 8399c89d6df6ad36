//! Bearer access tokens with `registration.bearer_scope`: they register, and administer any
//! client over RFC 7592, whoever issued them among the trusted; every other token is refused.

use std::sync::Arc;

use registrar_core::policy::{Policies, Policy};
use registrar_core::trust::{IssuerKeys, TokenIssuer, TrustedIssuer};
use registrar_core::{Clock as _, ManualClock, RegistrationMode, Settings, SystemClock};
use registrar_testkit::jwks_server::JwksServer;
use registrar_testkit::{Backend, TestDatabase, TestServer, backends};
use reqwest::Method;
use serde_json::{Value, json};

use super::keys::{TestKey, jwks, keys, sign, sign_access_token};
use super::support::{
    BEARER_SCOPE, access_token, machine, manage, post_registration, register_under, token_of,
    update_body, uri_of, web_app,
};
use crate::{expect_error, expect_invalid_token, expect_json};

backends!(
    bearer_with_the_registration_scope_registers_and_administers_other_clients,
    administrator_update_keeps_the_clients_own_registration_token,
    bearer_without_the_registration_scope_gets_insufficient_scope,
    bearer_of_a_deleted_client_is_invalid,
    bearer_is_refused_once_it_expires,
    bearer_is_refused_once_revoked,
    trusted_issuer_with_inline_keys_registers_only_with_its_audience,
    trusted_issuer_with_a_jwks_uri_registers_with_fetched_keys,
    registration_scope_needs_a_policy_that_allows_it,
    a_tightened_or_removed_policy_takes_the_registration_scope_away,
    an_issuer_of_statements_too_must_type_its_access_tokens,
);

/// The policy an administrator client is registered under.
const ADMIN_POLICY: &str = "admin";
/// An external authorization server whose tokens are trusted.
const IDP: &str = "https://idp.example";
/// The audience its tokens must name to be accepted here.
const AUDIENCE: &str = "https://registrar.example/api";

fn allow_admins(settings: &mut Settings) {
    settings.policies = Policies::new(vec![Policy {
        allow_registration_scope: true,
        ..Policy::unrestricted(ADMIN_POLICY)
    }])
    .unwrap();
}

/// A client holding the registration scope, and an access token of it.
async fn administrator(server: &TestServer) -> (Value, String) {
    let admin = expect_json(
        register_under(server, ADMIN_POLICY, &machine(BEARER_SCOPE)).await,
        201,
    )
    .await;
    assert_eq!(admin["scope"], BEARER_SCOPE);
    let token = access_token(server, &admin).await;
    (admin, token)
}

async fn bearer_with_the_registration_scope_registers_and_administers_other_clients(
    backend: Backend,
) {
    let server = TestServer::spawn_with(backend, allow_admins).await;
    let (_, bearer) = administrator(&server).await;
    let registered = expect_json(
        post_registration(&server, Some(&bearer), &web_app()).await,
        201,
    )
    .await;
    assert!(registered["client_secret"].is_string());
    assert!(registered["registration_access_token"].is_string());

    let other = expect_json(server.register(web_app()).await, 201).await;
    let read = expect_json(
        manage(&server, Method::GET, uri_of(&other), &bearer, None).await,
        200,
    )
    .await;
    assert_eq!(read["client_id"], other["client_id"]);
    assert_eq!(read["client_name"], "Web App");
    assert!(
        read.get("registration_access_token").is_none(),
        "the administrator is not shown the client's token: {read}"
    );

    let update = update_body(
        &other,
        json!({"redirect_uris": ["https://app.example.com/new"], "client_name": "Renamed by admin"}),
    );
    let updated = expect_json(
        manage(&server, Method::PUT, uri_of(&other), &bearer, Some(&update)).await,
        200,
    )
    .await;
    assert_eq!(updated["client_name"], "Renamed by admin");
    assert!(
        updated.get("registration_access_token").is_none(),
        "{updated}"
    );

    let deleted = manage(&server, Method::DELETE, uri_of(&other), &bearer, None).await;
    assert_eq!(deleted.status().as_u16(), 204);
    expect_invalid_token(
        manage(&server, Method::GET, uri_of(&other), token_of(&other), None).await,
    )
    .await;
    // An unknown client looks the same to an administrator as to anyone.
    let unknown = server.url("/connect/dcr/no-such-client");
    expect_invalid_token(manage(&server, Method::GET, &unknown, &bearer, None).await).await;
}

async fn administrator_update_keeps_the_clients_own_registration_token(backend: Backend) {
    let server = TestServer::spawn_with(backend, allow_admins).await;
    let (_, bearer) = administrator(&server).await;
    let other = expect_json(server.register(web_app()).await, 201).await;
    let update = update_body(
        &other,
        json!({"redirect_uris": ["https://app.example.com/cb"], "client_name": "Renamed by admin"}),
    );
    expect_json(
        manage(&server, Method::PUT, uri_of(&other), &bearer, Some(&update)).await,
        200,
    )
    .await;
    // The client's own token was not rotated: it still reads, and sees the admin's change.
    let read = expect_json(
        manage(&server, Method::GET, uri_of(&other), token_of(&other), None).await,
        200,
    )
    .await;
    assert_eq!(read["client_name"], "Renamed by admin");
    assert_eq!(
        read["registration_access_token"],
        other["registration_access_token"]
    );
    // And it can still update itself, which rotates it as usual.
    let own_update = update_body(&other, web_app());
    let own = expect_json(
        manage(
            &server,
            Method::PUT,
            uri_of(&other),
            token_of(&other),
            Some(&own_update),
        )
        .await,
        200,
    )
    .await;
    assert_ne!(
        own["registration_access_token"],
        other["registration_access_token"]
    );
}

async fn expect_insufficient_scope(response: reqwest::Response) {
    assert_eq!(
        response.headers()["www-authenticate"],
        format!("Bearer error=\"insufficient_scope\", scope=\"{BEARER_SCOPE}\"")
    );
    expect_error(response, 403, "insufficient_scope").await;
}

async fn bearer_without_the_registration_scope_gets_insufficient_scope(backend: Backend) {
    let server = TestServer::spawn_with(backend, allow_admins).await;
    let reader = expect_json(server.register(machine("openid")).await, 201).await;
    let bearer = access_token(&server, &reader).await;
    expect_insufficient_scope(post_registration(&server, Some(&bearer), &web_app()).await).await;
    // Nor can it administer a client as a bearer, not even the one it belongs to.
    let uri = uri_of(&reader);
    expect_insufficient_scope(manage(&server, Method::GET, uri, &bearer, None).await).await;
    expect_insufficient_scope(manage(&server, Method::DELETE, uri, &bearer, None).await).await;
    assert_eq!(server.store().list_clients().await.unwrap().len(), 1);
}

async fn bearer_of_a_deleted_client_is_invalid(backend: Backend) {
    let server = TestServer::spawn_with(backend, allow_admins).await;
    let (admin, bearer) = administrator(&server).await;
    expect_json(
        post_registration(&server, Some(&bearer), &web_app()).await,
        201,
    )
    .await;
    let deleted = manage(
        &server,
        Method::DELETE,
        uri_of(&admin),
        token_of(&admin),
        None,
    )
    .await;
    assert_eq!(deleted.status().as_u16(), 204);
    expect_invalid_token(post_registration(&server, Some(&bearer), &web_app()).await).await;
}

/// RFC 7009: a leaked administrator's token stops administering as soon as it is revoked.
async fn bearer_is_refused_once_revoked(backend: Backend) {
    let server = TestServer::spawn_with(backend, allow_admins).await;
    let (admin, bearer) = administrator(&server).await;
    expect_json(
        post_registration(&server, Some(&bearer), &web_app()).await,
        201,
    )
    .await;
    let revoked = server
        .http()
        .post(server.url("/connect/revoke"))
        .basic_auth(
            admin["client_id"].as_str().unwrap(),
            admin["client_secret"].as_str(),
        )
        .form(&[("token", bearer.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    expect_invalid_token(post_registration(&server, Some(&bearer), &web_app()).await).await;
}

async fn bearer_is_refused_once_it_expires(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::builder(backend)
        .clock(clock.clone())
        .settings(allow_admins)
        .spawn()
        .await;
    let (_, bearer) = administrator(&server).await;
    // The default access token lifetime is an hour: valid until its last second.
    clock.advance(3599);
    expect_json(
        post_registration(&server, Some(&bearer), &web_app()).await,
        201,
    )
    .await;
    clock.advance(1);
    expect_invalid_token(post_registration(&server, Some(&bearer), &web_app()).await).await;
}

/// The claims of an access token `iss` issues for `aud` with `scope`, valid for five minutes.
fn external_claims(iss: &str, aud: &str, scope: &str) -> Value {
    let now = SystemClock.now();
    json!({
        "iss": iss, "sub": "ops-robot", "client_id": "ops-robot", "aud": aud,
        "iat": now, "exp": now + 300, "jti": format!("{iss}-{scope}-{aud}"), "scope": scope,
    })
}

fn trusted_idp(keys: IssuerKeys) -> TokenIssuer {
    TokenIssuer {
        trusted: TrustedIssuer {
            issuer: IDP.to_owned(),
            keys,
            algs: vec!["ES256".to_owned()],
        },
        audience: vec![AUDIENCE.to_owned()],
    }
}

fn idp_token(key: &TestKey, iss: &str, aud: &str, scope: &str) -> String {
    sign_access_token(key, &external_claims(iss, aud, scope))
}

async fn trusted_issuer_with_inline_keys_registers_only_with_its_audience(backend: Backend) {
    let keys = keys();
    let server = TestServer::spawn_with(backend, |settings| {
        settings.trusted_token_issuers =
            vec![trusted_idp(IssuerKeys::Inline(jwks(&[&keys.es256])))];
    })
    .await;
    let scope = format!("openid {BEARER_SCOPE}");
    let good = idp_token(&keys.es256, IDP, AUDIENCE, &scope);
    expect_json(
        post_registration(&server, Some(&good), &web_app()).await,
        201,
    )
    .await;
    // Its tokens administer clients too.
    let other = expect_json(server.register(web_app()).await, 201).await;
    expect_json(
        manage(&server, Method::GET, uri_of(&other), &good, None).await,
        200,
    )
    .await;

    let mut refused = vec![
        (
            "wrong audience",
            idp_token(&keys.es256, IDP, "https://elsewhere.example", &scope),
        ),
        (
            "untrusted issuer",
            idp_token(
                &keys.attacker,
                "https://rogue-idp.example",
                AUDIENCE,
                &scope,
            ),
        ),
        (
            "trusted issuer name, foreign key",
            idp_token(&keys.attacker, IDP, AUDIENCE, &scope),
        ),
    ];
    // Claiming the kid of the trusted key does not make the attacker's signature verify.
    let mut forged = external_claims(IDP, AUDIENCE, &scope);
    forged["sub"] = json!("intruder");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(keys.es256.kid.clone());
    refused.push((
        "trusted kid, foreign key",
        jsonwebtoken::encode(&header, &forged, &keys.attacker.encoding_key).unwrap(),
    ));
    for (case, token) in refused {
        let response = post_registration(&server, Some(&token), &web_app()).await;
        assert_eq!(response.status().as_u16(), 401, "{case}");
        expect_invalid_token(response).await;
    }
    // Trusted and for this server, but without the scope.
    let openid_only = idp_token(&keys.es256, IDP, AUDIENCE, "openid");
    expect_insufficient_scope(post_registration(&server, Some(&openid_only), &web_app()).await)
        .await;
    // Two registrations went through: the bearer's and the one with an initial access token.
    assert_eq!(server.store().list_clients().await.unwrap().len(), 2);
}

async fn trusted_issuer_with_a_jwks_uri_registers_with_fetched_keys(backend: Backend) {
    let keys = keys();
    let idp_keys = JwksServer::start(jwks(&[&keys.es256])).await;
    let uri = idp_keys.url();
    let server = TestServer::builder(backend)
        .tokens(idp_keys.token_options())
        .settings(move |settings| {
            settings.trusted_token_issuers = vec![trusted_idp(IssuerKeys::Uri(uri))];
        })
        .spawn()
        .await;
    assert_eq!(idp_keys.hits(), 0);
    let scope = BEARER_SCOPE;
    let good = idp_token(&keys.es256, IDP, AUDIENCE, scope);
    expect_json(
        post_registration(&server, Some(&good), &web_app()).await,
        201,
    )
    .await;
    assert!(idp_keys.hits() >= 1, "the issuer's keys were fetched");
    let wrong_audience = idp_token(&keys.es256, IDP, "https://elsewhere.example", scope);
    expect_invalid_token(post_registration(&server, Some(&wrong_audience), &web_app()).await).await;
    let foreign = idp_token(&keys.attacker, IDP, AUDIENCE, scope);
    expect_invalid_token(post_registration(&server, Some(&foreign), &web_app()).await).await;
    assert_eq!(server.store().list_clients().await.unwrap().len(), 1);
}

async fn registration_scope_needs_a_policy_that_allows_it(backend: Backend) {
    let server = TestServer::spawn_with(backend, |settings| {
        settings.mode = RegistrationMode::Open;
    })
    .await;
    let mut body = web_app();
    body["scope"] = json!(format!("openid {BEARER_SCOPE}"));
    let description = expect_error(
        post_registration(&server, None, &body).await,
        400,
        "invalid_client_metadata",
    )
    .await;
    assert!(description.contains("policy 'open'"), "{description}");
    assert!(description.contains(BEARER_SCOPE), "{description}");
    // The default policy of initial access tokens does not allow it either.
    let description =
        expect_error(server.register(body).await, 400, "invalid_client_metadata").await;
    assert!(description.contains("policy 'default'"), "{description}");
    assert!(server.store().list_clients().await.unwrap().is_empty());
}

/// Another instance on `server`'s database, with its issuer and the policies `policies` makes:
/// the operator's configuration after a change.
async fn reconfigured(server: &TestServer, policies: fn() -> Policies) -> TestServer {
    let store = registrar_store::connect(&server.database.url)
        .await
        .expect("a second pool");
    let issuer = server.pipeline.settings().issuer.clone();
    TestServer::spawn_on(
        TestDatabase::shared(&server.database.url),
        store,
        move |settings| {
            settings.issuer = issuer;
            settings.policies = policies();
        },
    )
    .await
}

/// The client's policy as configured now governs the token endpoint and bearer tokens: once the
/// policy no longer allows the registration scope, neither a token issued before nor a new one
/// administers anything; once the policy is gone, the client gets open registration's rules and
/// no `client_credentials` token at all.
async fn a_tightened_or_removed_policy_takes_the_registration_scope_away(backend: Backend) {
    let server = TestServer::spawn_with(backend, allow_admins).await;
    let (admin, bearer) = administrator(&server).await;
    let tightened = reconfigured(&server, || {
        Policies::new(vec![Policy::unrestricted(ADMIN_POLICY)]).unwrap()
    })
    .await;
    let description = expect_error(
        post_registration(&tightened, Some(&bearer), &web_app()).await,
        403,
        "insufficient_scope",
    )
    .await;
    assert!(description.contains(BEARER_SCOPE), "{description}");
    let fresh = access_token(&tightened, &admin).await;
    expect_error(
        post_registration(&tightened, Some(&fresh), &web_app()).await,
        403,
        "insufficient_scope",
    )
    .await;

    let removed = reconfigured(&server, Policies::default).await;
    let description = expect_error(
        super::support::token_request(
            &removed,
            admin["client_id"].as_str().unwrap(),
            admin["client_secret"].as_str().unwrap(),
        )
        .await,
        400,
        "unauthorized_client",
    )
    .await;
    assert!(description.contains("policy 'open'"), "{description}");
}

/// An issuer trusted for access tokens and for software statements: a JWT of it that does not
/// say `typ: at+jwt` could be one of its statements, and is no bearer token here.
async fn an_issuer_of_statements_too_must_type_its_access_tokens(backend: Backend) {
    use registrar_core::trust::{StatementIssuer, StatementMode, StatementSettings};
    let keys = keys();
    let server = TestServer::spawn_with(backend, |settings| {
        let keys = IssuerKeys::Inline(jwks(&[&keys.es256]));
        settings.trusted_token_issuers = vec![trusted_idp(keys.clone())];
        settings.software_statements = StatementSettings {
            mode: StatementMode::Accept,
            issuers: vec![StatementIssuer {
                trusted: trusted_idp(keys).trusted,
                authorizes_registration: false,
                single_use: false,
                software_ids: None,
                max_age: None,
            }],
            ..StatementSettings::default()
        };
    })
    .await;
    let scope = format!("openid {BEARER_SCOPE}");
    let claims = external_claims(IDP, AUDIENCE, &scope);
    expect_invalid_token(
        post_registration(&server, Some(&sign(&keys.es256, &claims)), &web_app()).await,
    )
    .await;
    expect_json(
        post_registration(
            &server,
            Some(&sign_access_token(&keys.es256, &claims)),
            &web_app(),
        )
        .await,
        201,
    )
    .await;
}
