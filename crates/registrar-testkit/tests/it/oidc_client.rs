//! A real client library, the `openidconnect` crate: its RFC 7591 registration, and as a relying
//! party the whole code flow: discovery, PKCE, the code exchange, ID token verification (nonce,
//! `at_hash`, signature against the JWKS), userinfo and refresh.

use openidconnect::core::{
    CoreApplicationType, CoreClientAuthMethod, CoreClientRegistrationRequest, CoreGrantType,
};
use openidconnect::{AccessToken, ClientContactEmail, ClientName, RedirectUrl, RegistrationUrl};
use registrar_core::initial_token::InitialTokenOptions;
use registrar_testkit::{Backend, TestServer, backends};

backends!(
    openidconnect_client_registers_and_reads_back_its_metadata,
    openidconnect_relying_party_runs_the_code_flow,
);

async fn openidconnect_relying_party_runs_the_code_flow(backend: Backend) {
    use openidconnect::core::{
        CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
    };
    use openidconnect::{
        AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
        OAuth2TokenResponse, PkceCodeChallenge, Scope, TokenResponse,
    };

    use crate::authorization::support::{Agent, add_user, query};

    let server = TestServer::spawn(backend).await;
    add_user(&server, "rp-user").await;
    let http_client = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = IssuerUrl::new(server.url("").trim_end_matches('/').to_owned()).unwrap();
    let provider = CoreProviderMetadata::discover_async(issuer, &http_client)
        .await
        .expect("discovery that satisfies OpenID Connect Discovery");
    let registered: serde_json::Value = server
        .register(serde_json::json!({
            "redirect_uris": ["https://rp.example.com/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid profile email offline_access",
        }))
        .await
        .json()
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        provider,
        ClientId::new(registered["client_id"].as_str().unwrap().to_owned()),
        Some(ClientSecret::new(
            registered["client_secret"].as_str().unwrap().to_owned(),
        )),
    )
    .set_redirect_uri(RedirectUrl::new("https://rp.example.com/callback".to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("offline_access".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let redirect = Agent::new().authorize(url.as_str(), "rp-user").await;
    assert_eq!(
        query(&redirect, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    let code = query(&redirect, "code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http_client)
        .await
        .expect("the code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("a valid ID token");
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert!(claims.auth_time().is_some());
    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().to_owned(), None)
        .unwrap()
        .request_async(&http_client)
        .await
        .expect("userinfo");
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(
        info.email().map(|email| email.as_str()),
        Some("rp-user@example.com")
    );
    let refresh = tokens
        .refresh_token()
        .expect("a refresh token with offline_access");
    let refreshed = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&http_client)
        .await
        .expect("a refresh");
    assert!(!refreshed.access_token().secret().is_empty());
}

async fn openidconnect_client_registers_and_reads_back_its_metadata(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let token = server
        .initial_token(InitialTokenOptions {
            max_uses: Some(1),
            ..Default::default()
        })
        .await;
    let http_client = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let registration_url = RegistrationUrl::new(server.url("/connect/dcr")).unwrap();
    let response = CoreClientRegistrationRequest::new(
        vec![RedirectUrl::new("https://rp.example.com/callback".to_owned()).unwrap()],
        Default::default(),
    )
    .set_initial_access_token(Some(AccessToken::new(token)))
    .set_application_type(Some(CoreApplicationType::Web))
    .set_client_name(Some(
        vec![(None, ClientName::new("Relying Party".to_owned()))]
            .into_iter()
            .collect(),
    ))
    .set_contacts(Some(vec![ClientContactEmail::new(
        "rp@example.com".to_owned(),
    )]))
    .set_grant_types(Some(vec![
        CoreGrantType::AuthorizationCode,
        CoreGrantType::RefreshToken,
    ]))
    .set_token_endpoint_auth_method(Some(CoreClientAuthMethod::ClientSecretPost))
    .register_async(&registration_url, &http_client)
    .await
    .expect("registration through openidconnect");

    assert!(response.client_secret().is_some());
    assert!(response.registration_access_token().is_some());
    let client_uri = response
        .registration_client_uri()
        .expect("registration_client_uri")
        .url()
        .clone();
    assert_eq!(
        client_uri.as_str(),
        server.url(&format!("/connect/dcr/{}", response.client_id().as_str()))
    );
    assert_eq!(
        response.token_endpoint_auth_method(),
        Some(&CoreClientAuthMethod::ClientSecretPost)
    );
    assert_eq!(
        response.grant_types(),
        Some(&vec![
            CoreGrantType::AuthorizationCode,
            CoreGrantType::RefreshToken
        ])
    );

    // The registration access token it was given reads the registration back.
    let read = server
        .http()
        .get(client_uri.as_str())
        .bearer_auth(response.registration_access_token().unwrap().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let read: serde_json::Value = read.json().await.unwrap();
    assert_eq!(read["client_id"], response.client_id().as_str());
    assert_eq!(read["client_name"], "Relying Party");
}
