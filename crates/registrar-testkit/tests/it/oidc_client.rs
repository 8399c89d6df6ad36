//! Registration with a real client library: the `openidconnect` crate's RFC 7591 support.

use openidconnect::core::{
    CoreApplicationType, CoreClientAuthMethod, CoreClientRegistrationRequest, CoreGrantType,
};
use openidconnect::{AccessToken, ClientContactEmail, ClientName, RedirectUrl, RegistrationUrl};
use registrar_core::initial_token::InitialTokenOptions;
use registrar_testkit::{Backend, TestServer, backends};

backends!(openidconnect_client_registers_and_reads_back_its_metadata);

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
