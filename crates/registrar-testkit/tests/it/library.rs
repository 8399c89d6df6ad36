//! The library shape, through the real server: custom steps that keep extension members, govern
//! update and delete and answer errors their way; a base path that every URL follows; and a
//! client store of its own beside the backend's initial access tokens.

use std::sync::Arc;

use async_trait::async_trait;
use registrar_core::initial_token::InitialTokenOptions;
use registrar_core::validate::{self, StepResult};
use registrar_core::{
    Operation, Persister, RegistrationContext, RegistrationError, Responder, Validator,
};
use registrar_testkit::{Backend, TestDatabase, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_invalid_token, expect_json};

backends!(
    a_step_keeps_an_extension_member_through_create_read_and_update,
    an_overridden_persister_governs_update_and_delete,
    a_responder_changes_how_one_error_is_answered,
    the_base_path_moves_the_routes_and_every_endpoint_url,
    a_separate_client_store_takes_the_initial_token_use_before_the_insert,
    a_ready_made_signing_key_signs_from_the_first_request,
    a_client_a_host_principal_registered_keeps_its_rules_on_update,
);

/// Keeps `x_tenant`, which Registrar does not know, and requires it to be a string.
#[derive(Debug)]
struct KeepsTenant;

#[async_trait]
impl Validator for KeepsTenant {
    async fn validate_contacts(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::contacts(cx)?;
        match cx.request().get("x_tenant") {
            None | Some(Value::String(_)) => cx.keep_extension("x_tenant"),
            Some(_) => Err(RegistrationError::InvalidClientMetadata(
                "x_tenant must be a string".to_owned(),
            )),
        }
    }
}

async fn a_step_keeps_an_extension_member_through_create_read_and_update(backend: Backend) {
    let server = TestServer::builder(backend)
        .validator(Arc::new(KeepsTenant))
        .spawn()
        .await;
    let body = json!({"redirect_uris": ["https://a.example/cb"], "x_tenant": "acme", "x_other": 1});
    let created = expect_json(server.register(body).await, 201).await;
    assert_eq!(created["x_tenant"], "acme");
    assert!(
        created.get("x_other").is_none(),
        "members no step keeps are dropped"
    );
    let uri = created["registration_client_uri"].as_str().unwrap();
    let token = created["registration_access_token"].as_str().unwrap();
    let read = server
        .http()
        .get(uri)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(read, 200).await["x_tenant"], "acme");

    let update = json!({
        "client_id": created["client_id"],
        "redirect_uris": ["https://a.example/cb"],
        "x_tenant": "globex",
    });
    let updated = server
        .http()
        .put(uri)
        .bearer_auth(token)
        .json(&update)
        .send()
        .await
        .unwrap();
    let updated = expect_json(updated, 200).await;
    assert_eq!(updated["x_tenant"], "globex");
    let new_token = updated["registration_access_token"].as_str().unwrap();
    let read = server
        .http()
        .get(uri)
        .bearer_auth(new_token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(read, 200).await["x_tenant"], "globex");

    // An update without the member drops it: RFC 7592 §2.2 is a full replacement.
    let update =
        json!({"client_id": created["client_id"], "redirect_uris": ["https://a.example/cb"]});
    let updated = server
        .http()
        .put(uri)
        .bearer_auth(new_token)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert!(expect_json(updated, 200).await.get("x_tenant").is_none());

    let bad = json!({"redirect_uris": ["https://a.example/cb"], "x_tenant": 7});
    let description =
        expect_error(server.register(bad).await, 400, "invalid_client_metadata").await;
    assert_eq!(description, "x_tenant must be a string");
}

/// Refuses to delete a client named `keep`, and counts replacements in its own way.
#[derive(Debug, Default)]
struct GuardedPersister {
    replacements: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl Persister for GuardedPersister {
    async fn replace(&self, cx: &mut RegistrationContext) -> StepResult {
        registrar_core::persist::replace_client(cx).await?;
        self.replacements
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn delete(&self, cx: &mut RegistrationContext) -> StepResult {
        if cx.metadata().client_name.as_deref() == Some("keep") {
            return Err(RegistrationError::InvalidClientMetadata(
                "this client is kept".to_owned(),
            ));
        }
        registrar_core::persist::delete_client(cx).await
    }
}

async fn an_overridden_persister_governs_update_and_delete(backend: Backend) {
    let persister = Arc::new(GuardedPersister::default());
    let server = TestServer::builder(backend)
        .persister(persister.clone())
        .spawn()
        .await;
    let body = json!({"redirect_uris": ["https://a.example/cb"], "client_name": "keep"});
    let kept = expect_json(server.register(body).await, 201).await;
    let uri = kept["registration_client_uri"].as_str().unwrap();
    let token = kept["registration_access_token"].as_str().unwrap();
    let refused = server
        .http()
        .delete(uri)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    expect_error(refused, 400, "invalid_client_metadata").await;
    let still_there = server
        .http()
        .get(uri)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    expect_json(still_there, 200).await;

    let update = json!({"client_id": kept["client_id"], "redirect_uris": ["https://a.example/cb"], "client_name": "gone"});
    let updated = server
        .http()
        .put(uri)
        .bearer_auth(token)
        .json(&update)
        .send()
        .await
        .unwrap();
    let updated = expect_json(updated, 200).await;
    assert_eq!(
        persister
            .replacements
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let token = updated["registration_access_token"].as_str().unwrap();
    let deleted = server
        .http()
        .delete(uri)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    expect_invalid_token(
        server
            .http()
            .get(uri)
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
}

/// Names the unsupported grant type in a description of its own, on create only.
#[derive(Debug)]
struct FriendlierErrors;

#[async_trait]
impl Responder for FriendlierErrors {
    async fn respond_error(
        &self,
        operation: Operation,
        cx: Option<&RegistrationContext>,
        error: RegistrationError,
    ) -> RegistrationError {
        match (operation, cx, &error) {
            (
                Operation::Register,
                Some(_),
                RegistrationError::InvalidClientMetadata(description),
            ) if description.starts_with("grant_types") => {
                RegistrationError::InvalidClientMetadata(format!(
                    "{description}; see https://docs.example.com/grants"
                ))
            }
            _ => error,
        }
    }
}

async fn a_responder_changes_how_one_error_is_answered(backend: Backend) {
    let server = TestServer::builder(backend)
        .responder(Arc::new(FriendlierErrors))
        .spawn()
        .await;
    let body = json!({"grant_types": ["password"]});
    let description =
        expect_error(server.register(body).await, 400, "invalid_client_metadata").await;
    assert!(
        description.ends_with("; see https://docs.example.com/grants"),
        "{description}"
    );
    // Other errors are answered as before.
    let body = json!({"redirect_uris": ["https://a.example/cb#fragment"]});
    let description = expect_error(server.register(body).await, 400, "invalid_redirect_uri").await;
    assert!(!description.contains("docs.example.com"), "{description}");
    let unauthorized = server
        .http()
        .post(server.url("/connect/dcr"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_invalid_token(unauthorized).await;
}

async fn the_base_path_moves_the_routes_and_every_endpoint_url(backend: Backend) {
    let server = TestServer::builder(backend)
        .settings(|settings| settings.set_base_path("/registrar/v1/").unwrap())
        .spawn()
        .await;
    let discovery: Value = server.get_json("/.well-known/openid-configuration").await;
    for (member, path) in [
        ("registration_endpoint", "/registrar/v1/connect/dcr"),
        ("token_endpoint", "/registrar/v1/connect/token"),
        ("introspection_endpoint", "/registrar/v1/connect/introspect"),
        ("jwks_uri", "/registrar/v1/.well-known/jwks.json"),
    ] {
        assert_eq!(discovery[member], server.url(path), "{member}");
    }
    assert_eq!(discovery["issuer"], server.url(""));
    let rfc8414: Value = server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(
        rfc8414["registration_endpoint"],
        discovery["registration_endpoint"]
    );

    let token = server.initial_token(InitialTokenOptions::default()).await;
    let created = server
        .http()
        .post(discovery["registration_endpoint"].as_str().unwrap())
        .bearer_auth(&token)
        .json(&json!({"grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap();
    let created = expect_json(created, 201).await;
    let uri = created["registration_client_uri"].as_str().unwrap();
    assert!(
        uri.starts_with(&server.url("/registrar/v1/connect/dcr/")),
        "{uri}"
    );
    let read = server
        .http()
        .get(uri)
        .bearer_auth(created["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    expect_json(read, 200).await;
    let issued = server
        .http()
        .post(discovery["token_endpoint"].as_str().unwrap())
        .basic_auth(
            created["client_id"].as_str().unwrap(),
            created["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    expect_json(issued, 200).await;
    let jwks = server
        .http()
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status().as_u16(), 200);
    // Nothing is left at the unprefixed paths.
    let old = server
        .http()
        .post(server.url("/connect/dcr"))
        .bearer_auth(&token)
        .json(&json!({"grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap();
    expect_error(old, 404, "not_found").await;
}

async fn a_separate_client_store_takes_the_initial_token_use_before_the_insert(backend: Backend) {
    let client_database = TestDatabase::create(&backend).await;
    let client_store = registrar_store::connect(&client_database.url)
        .await
        .unwrap();
    let clients: Arc<dyn registrar_core::ClientStore> = client_store.clone();
    let server = TestServer::builder(backend)
        .stores(move |stores| stores.with_clients(clients))
        .spawn()
        .await;
    let token = server
        .initial_token(InitialTokenOptions {
            max_uses: Some(2),
            ..InitialTokenOptions::default()
        })
        .await;
    let register = || {
        server
            .http()
            .post(server.url("/connect/dcr"))
            .bearer_auth(&token)
            .json(&json!({"redirect_uris": ["https://a.example/cb"]}))
            .send()
    };
    let first = expect_json(register().await.unwrap(), 201).await;
    expect_json(register().await.unwrap(), 201).await;
    expect_invalid_token(register().await.unwrap()).await;

    // The clients are in the swapped store; the backend kept the tokens and no client.
    assert_eq!(client_store.list_clients().await.unwrap().len(), 2);
    assert!(server.store().list_clients().await.unwrap().is_empty());
    let tokens = server.store().list_initial_tokens().await.unwrap();
    assert_eq!(tokens[0].uses, 2);
    let read = server
        .http()
        .get(first["registration_client_uri"].as_str().unwrap())
        .bearer_auth(first["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    expect_json(read, 200).await;
}

async fn a_ready_made_signing_key_signs_from_the_first_request(backend: Backend) {
    use base64::Engine as _;
    use registrar_core::Clock as _;
    use registrar_core::token::{SigningAlgorithm, generate_signing_key};

    let key = generate_signing_key(
        SigningAlgorithm::EdDsa,
        &registrar_core::secrets::OsRandom,
        registrar_core::SystemClock.now(),
    )
    .unwrap();
    let kid = key.kid.clone();
    let server = TestServer::builder(backend)
        .settings(|settings| settings.token_signing_alg = SigningAlgorithm::EdDsa)
        .signing_key(key)
        .spawn()
        .await;
    let jwks: Value = server.get_json("/.well-known/jwks.json").await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    // The given key signs access tokens and leads the set; ID tokens' other algorithms have the
    // ready-made keys, so no key was generated at start.
    assert_eq!(kids[0], kid.as_str());
    let mut others = kids[1..].to_vec();
    others.sort_unstable();
    let mut ready_made = [SigningAlgorithm::Rs256, SigningAlgorithm::Es256].map(|algorithm| {
        registrar_testkit::ready_made_signing_key(algorithm)
            .kid
            .as_str()
    });
    ready_made.sort_unstable();
    assert_eq!(others, ready_made, "no other key was generated at start");

    let client = expect_json(
        server
            .register(json!({"grant_types": ["client_credentials"]}))
            .await,
        201,
    )
    .await;
    let issued = server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let issued = expect_json(issued, 200).await;
    let header = issued["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], kid.as_str());
    assert_eq!(header["alg"], "EdDSA");
}

async fn a_client_a_host_principal_registered_keeps_its_rules_on_update(backend: Backend) {
    let server = TestServer::builder(backend)
        .settings(|settings| settings.mode = registrar_core::RegistrationMode::Open)
        .spawn()
        .await;
    // What `registration_routes` does for a request a host layer marked with `HostCaller`.
    let caller = registrar_core::Caller::Principal(registrar_core::Principal::new("ci-pipeline"));
    let request = json!({"grant_types": ["client_credentials"]});
    let registered = server
        .pipeline
        .register(
            caller,
            request.as_object().unwrap().clone(),
            registrar_core::RequestSource::default(),
        )
        .await
        .unwrap();
    let uri = registered.registration_client_uri.clone();
    let token = registered
        .registration_access_token
        .as_ref()
        .expect("a registration returns its token")
        .expose()
        .to_owned();
    // An authenticated principal may register client_credentials; so may the client it made,
    // when it updates itself, even though the server is open to anonymous registration.
    let update = json!({"client_id": registered.client_id, "grant_types": ["client_credentials"], "client_name": "CI"});
    let updated = server
        .http()
        .put(&uri)
        .bearer_auth(&token)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(updated, 200).await["client_name"], "CI");
    // An anonymous registration still may not.
    let anonymous = server
        .http()
        .post(server.url("/connect/dcr"))
        .json(&json!({"grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap();
    expect_error(anonymous, 400, "invalid_client_metadata").await;
}
