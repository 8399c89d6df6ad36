//! The examples in `examples/`, each served on `127.0.0.1:0` over a temporary SQLite database and
//! driven over real HTTP, so an example that compiles but no longer works fails here.

#[allow(dead_code)]
#[path = "../examples/client_id_format.rs"]
mod client_id_format;
#[allow(dead_code)]
#[path = "../examples/extra_response_member.rs"]
mod extra_response_member;
#[allow(dead_code)]
#[path = "../examples/memory_client_store.rs"]
mod memory_client_store;
#[allow(dead_code)]
#[path = "../examples/redirect_allow_list.rs"]
mod redirect_allow_list;
#[allow(dead_code)]
#[path = "../examples/shared_host.rs"]
mod shared_host;
#[allow(dead_code)]
#[path = "../examples/software_statement_step.rs"]
mod software_statement_step;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::store::Store;
use registrar_server::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;
use url::Url;

/// A temporary SQLite database; the folder must outlive the store.
async fn sqlite() -> (TempDir, Arc<dyn Store>) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", folder.path().join("registrar.db").display());
    let store = registrar_store::connect(&url)
        .await
        .expect("open the SQLite store");
    (folder, store)
}

/// A listener on a free port of 127.0.0.1, and the issuer URL it answers at.
async fn bind() -> (TcpListener, Url) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    let issuer = Url::parse(&format!("http://{address}")).expect("issuer URL");
    (listener, issuer)
}

/// Serves `app` in the background for the rest of the test.
fn serve(listener: TcpListener, app: Router) {
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve the example");
    });
}

/// A single-use initial access token, minted in the store as `registrar initial-token create`
/// does.
async fn initial_token(state: &AppState) -> String {
    let services = state.pipeline.services();
    let (token, _) = mint_initial_token(
        services.stores().initial_tokens().as_ref(),
        services.generator().as_ref(),
        services.hasher(),
        services.clock().now(),
        InitialTokenOptions {
            max_uses: Some(1),
            ..InitialTokenOptions::default()
        },
    )
    .await
    .expect("mint an initial access token");
    token.expose().to_owned()
}

/// The status and JSON body of a response.
async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// `POST {url}` with a fresh initial access token.
async fn register(state: &AppState, url: &str, body: Value) -> (StatusCode, Value) {
    let token = initial_token(state).await;
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("POST the registration");
    json_of(response).await
}

/// `GET` the client's `registration_client_uri` with its registration access token.
async fn read(registered: &Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(member(registered, "registration_client_uri"))
        .bearer_auth(member(registered, "registration_access_token"))
        .send()
        .await
        .expect("GET the client");
    json_of(response).await
}

/// `PUT` `body` at the client's `registration_client_uri` with its registration access token.
async fn update(registered: &Value, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .put(member(registered, "registration_client_uri"))
        .bearer_auth(member(registered, "registration_access_token"))
        .json(&body)
        .send()
        .await
        .expect("PUT the client");
    json_of(response).await
}

/// A string member of a response.
fn member<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} should be a string in {body}"))
}

fn web_client(redirect_uri: &str) -> Value {
    json!({ "redirect_uris": [redirect_uri], "client_name": "Example client" })
}

mod shared_host_example {
    use super::*;
    use crate::shared_host::{self, ApiKey};

    const KEY: &str = "the-ci-pipeline-key";

    async fn start() -> (TempDir, SocketAddr) {
        let (folder, store) = sqlite().await;
        let (listener, issuer) = bind().await;
        let address = listener.local_addr().expect("local address");
        let state = shared_host::state(issuer, store)
            .await
            .expect("build the state");
        serve(listener, shared_host::app(state, ApiKey::new(KEY)));
        (folder, address)
    }

    fn registration_url(address: SocketAddr) -> String {
        format!("http://{address}/registrar/connect/dcr")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn registration_without_the_api_key_is_refused_by_the_host_layer() {
        let (_folder, address) = start().await;
        let http = reqwest::Client::new();

        let missing = http
            .post(registration_url(address))
            .json(&web_client("https://app.example.com/cb"))
            .send()
            .await
            .expect("POST without a key");
        let wrong = http
            .post(registration_url(address))
            .header("X-Api-Key", "not-the-key")
            .json(&web_client("https://app.example.com/cb"))
            .send()
            .await
            .expect("POST with a wrong key");

        for response in [missing, wrong] {
            assert!(response.headers().contains_key("www-authenticate"));
            let (status, body) = json_of(response).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body["error"], "invalid_api_key", "{body}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn registration_with_the_api_key_needs_no_initial_access_token() {
        let (_folder, address) = start().await;

        let response = reqwest::Client::new()
            .post(registration_url(address))
            .header("X-Api-Key", KEY)
            .json(&web_client("https://app.example.com/cb"))
            .send()
            .await
            .expect("POST with the key");
        let (status, registered) = json_of(response).await;

        assert_eq!(status, StatusCode::CREATED, "{registered}");
        let client_uri = member(&registered, "registration_client_uri");
        let expected = format!("http://{address}/registrar/connect/dcr/");
        assert!(
            client_uri.starts_with(&expected),
            "{client_uri} should start with {expected}"
        );
        assert_eq!(
            client_uri,
            format!("{expected}{}", member(&registered, "client_id"))
        );
        let (read_status, read_back) = read(&registered).await;
        assert_eq!(read_status, StatusCode::OK, "{read_back}");
        assert_eq!(read_back["client_id"], registered["client_id"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_host_keeps_serving_its_own_routes_beside_registrar() {
        let (_folder, address) = start().await;
        let http = reqwest::Client::new();

        let home = http
            .get(format!("http://{address}/"))
            .send()
            .await
            .expect("GET /");
        let hello = http
            .get(format!("http://{address}/api/hello"))
            .send()
            .await
            .expect("GET /api/hello");
        let discovery = http
            .get(format!("http://{address}/.well-known/openid-configuration"))
            .send()
            .await
            .expect("GET discovery");

        assert_eq!(home.status(), StatusCode::OK);
        assert!(home.text().await.expect("text").contains("/registrar"));
        let (status, body) = json_of(hello).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({ "hello": "world" }))
        );
        let (status, metadata) = json_of(discovery).await;
        assert_eq!(status, StatusCode::OK, "{metadata}");
        assert_eq!(
            metadata["registration_endpoint"],
            registration_url(address),
            "discovery should follow the base path"
        );
    }
}

mod redirect_allow_list_example {
    use super::*;
    use crate::redirect_allow_list::{self, AllowedHosts};

    async fn start() -> (TempDir, AppState, String) {
        let (folder, store) = sqlite().await;
        let (listener, issuer) = bind().await;
        let allowed_hosts = AllowedHosts::new(["app.example.com", "Partner.Example.org"]);
        let state = redirect_allow_list::state(issuer.clone(), store, allowed_hosts)
            .await
            .expect("build the state");
        serve(listener, redirect_allow_list::app(state.clone()));
        (folder, state, format!("{issuer}connect/dcr"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_redirect_uri_on_a_listed_host_registers() {
        let (_folder, state, url) = start().await;

        let (status, registered) = register(
            &state,
            &url,
            json!({ "redirect_uris": [
                "https://app.example.com/cb",
                "https://partner.example.org/cb",
            ] }),
        )
        .await;

        assert_eq!(status, StatusCode::CREATED, "{registered}");
        assert_eq!(
            registered["redirect_uris"][1],
            "https://partner.example.org/cb"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_redirect_uri_on_an_unlisted_host_is_invalid_redirect_uri() {
        let (_folder, state, url) = start().await;

        let cases = [
            (json!(["https://evil.example.net/cb"]), "redirect_uris[0]"),
            (
                json!([
                    "https://app.example.com/cb",
                    "https://app.example.com.evil.example.net/cb",
                ]),
                "redirect_uris[1]",
            ),
            (
                json!(["https://app.example.com@evil.example.net/cb"]),
                "redirect_uris[0]",
            ),
        ];
        for (redirect_uris, refused) in cases {
            let (status, body) =
                register(&state, &url, json!({ "redirect_uris": redirect_uris })).await;

            assert_eq!(status, StatusCode::BAD_REQUEST, "{redirect_uris}: {body}");
            assert_eq!(body["error"], "invalid_redirect_uri", "{body}");
            assert!(
                member(&body, "error_description").starts_with(refused),
                "{redirect_uris}: {body}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_default_redirect_rule_still_refuses_a_fragment() {
        let (_folder, state, url) = start().await;

        let (status, body) = register(
            &state,
            &url,
            web_client("https://app.example.com/cb#fragment"),
        )
        .await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_redirect_uri", "{body}");
        assert!(
            member(&body, "error_description").contains("fragment"),
            "the default rule, not the allow-list, should refuse it: {body}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_update_cannot_move_a_client_to_an_unlisted_host() {
        let (_folder, state, url) = start().await;
        let (_, registered) =
            register(&state, &url, web_client("https://app.example.com/cb")).await;

        let (status, body) = update(
            &registered,
            json!({
                "client_id": registered["client_id"],
                "redirect_uris": ["https://evil.example.net/cb"],
            }),
        )
        .await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_redirect_uri", "{body}");
        let (_, read_back) = read(&registered).await;
        assert_eq!(
            read_back["redirect_uris"],
            json!(["https://app.example.com/cb"])
        );
    }
}

mod client_id_format_example {
    use super::*;
    use crate::client_id_format;

    /// Whether `client_id` is `app-` and 32 lowercase hex digits.
    fn is_app_client_id(client_id: &str) -> bool {
        client_id.strip_prefix("app-").is_some_and(|hex| {
            hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn issued_client_ids_are_app_and_32_hex_digits_and_read_back() {
        let (_folder, store) = sqlite().await;
        let (listener, issuer) = bind().await;
        let state = client_id_format::state(issuer.clone(), store)
            .await
            .expect("build the state");
        serve(listener, client_id_format::app(state.clone()));
        let url = format!("{issuer}connect/dcr");

        let (first_status, first) =
            register(&state, &url, web_client("https://a.example.com/cb")).await;
        let (second_status, second) =
            register(&state, &url, web_client("https://b.example.com/cb")).await;

        assert_eq!(first_status, StatusCode::CREATED, "{first}");
        assert_eq!(second_status, StatusCode::CREATED, "{second}");
        for registered in [&first, &second] {
            let client_id = member(registered, "client_id");
            assert!(
                is_app_client_id(client_id),
                "{client_id} should match ^app-[0-9a-f]{{32}}$"
            );
            assert!(member(registered, "registration_client_uri").ends_with(client_id));
            let (status, read_back) = read(registered).await;
            assert_eq!(status, StatusCode::OK, "{read_back}");
            assert_eq!(read_back["client_id"], registered["client_id"]);
        }
        assert_ne!(first["client_id"], second["client_id"]);
    }
}

mod extra_response_member_example {
    use super::*;
    use crate::extra_response_member::{self, DocumentationLink};

    const DOCS: &str = "https://docs.example.com/clients";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_documentation_member_is_in_every_client_information_response() {
        let (_folder, store) = sqlite().await;
        let (listener, issuer) = bind().await;
        let state =
            extra_response_member::state(issuer.clone(), store, DocumentationLink::new(DOCS))
                .await
                .expect("build the state");
        serve(listener, extra_response_member::app(state.clone()));

        let (status, registered) = register(
            &state,
            &format!("{issuer}connect/dcr"),
            web_client("https://app.example.com/cb"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        assert_eq!(registered["documentation"], DOCS, "{registered}");

        let (read_status, read_back) = read(&registered).await;
        assert_eq!(read_status, StatusCode::OK, "{read_back}");
        assert_eq!(read_back["documentation"], DOCS, "{read_back}");

        let (update_status, updated) = update(
            &registered,
            json!({
                "client_id": registered["client_id"],
                "redirect_uris": ["https://app.example.com/cb"],
                "client_name": "Renamed",
            }),
        )
        .await;
        assert_eq!(update_status, StatusCode::OK, "{updated}");
        assert_eq!(updated["documentation"], DOCS, "{updated}");
        assert_eq!(updated["client_name"], "Renamed");
    }
}

mod software_statement_step_example {
    use super::*;
    use crate::software_statement_step::{self, TrustedIssuers, sign_statement};

    const ISSUER: &str = "https://statements.example.com";
    const KEY: &[u8] = b"the demo key shared with statements.example.com";

    async fn start() -> (TempDir, AppState, String) {
        let (folder, store) = sqlite().await;
        let (listener, issuer) = bind().await;
        let trusted = Arc::new(TrustedIssuers::default());
        trusted.trust(ISSUER, KEY).await;
        let state = software_statement_step::state(issuer.clone(), store, trusted)
            .await
            .expect("build the state");
        serve(listener, software_statement_step::app(state.clone()));
        (folder, state, format!("{issuer}connect/dcr"))
    }

    fn statement(claims: Value) -> String {
        sign_statement(ISSUER, claims, KEY).expect("sign a statement")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_trusted_statement_s_claims_are_registered_with_its_issuer() {
        let (_folder, state, url) = start().await;
        let software_statement = statement(json!({
            "client_name": "Statement App",
            "software_id": "demo-app",
            "x_tenant": "acme",
        }));

        let (status, registered) = register(
            &state,
            &url,
            json!({
                "redirect_uris": ["https://app.example.com/cb"],
                "software_statement": software_statement,
            }),
        )
        .await;

        assert_eq!(status, StatusCode::CREATED, "{registered}");
        assert_eq!(registered["client_name"], "Statement App", "{registered}");
        assert_eq!(registered["software_id"], "demo-app");
        assert_eq!(registered["software_statement_issuer"], ISSUER);
        assert_eq!(registered["x_tenant"], "acme");
        assert!(
            registered.get("iss").is_none(),
            "the JWT's own claims are not metadata: {registered}"
        );
        // RFC 7591 §3.2.1: the accepted statement comes back unchanged.
        assert_eq!(registered["software_statement"], software_statement);
        let (read_status, read_back) = read(&registered).await;
        assert_eq!(read_status, StatusCode::OK, "{read_back}");
        assert_eq!(read_back["client_name"], "Statement App");
        assert_eq!(
            read_back["x_tenant"], "acme",
            "the extension should be stored"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_statement_s_claims_take_precedence_over_plain_members() {
        let (_folder, state, url) = start().await;

        let (status, registered) = register(
            &state,
            &url,
            json!({
                "redirect_uris": ["https://app.example.com/cb"],
                "client_name": "Plain name",
                "software_statement": statement(json!({ "client_name": "Statement App" })),
            }),
        )
        .await;

        assert_eq!(status, StatusCode::CREATED, "{registered}");
        assert_eq!(registered["client_name"], "Statement App");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_tenant_extension_is_stored_and_kept_on_update() {
        let (_folder, state, url) = start().await;
        let (_, registered) = register(
            &state,
            &url,
            json!({ "redirect_uris": ["https://app.example.com/cb"], "x_tenant": "acme" }),
        )
        .await;
        assert_eq!(registered["x_tenant"], "acme", "{registered}");
        assert!(
            registered.get("software_statement_issuer").is_none(),
            "no statement, no issuer: {registered}"
        );

        let (status, updated) = update(
            &registered,
            json!({
                "client_id": registered["client_id"],
                "redirect_uris": ["https://app.example.com/cb"],
                "client_name": "Renamed",
                "x_tenant": "acme",
            }),
        )
        .await;

        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["x_tenant"], "acme", "{updated}");
        let (_, read_back) = read(&updated).await;
        assert_eq!(read_back["x_tenant"], "acme", "{read_back}");
        assert_eq!(read_back["client_name"], "Renamed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_statement_that_does_not_verify_is_invalid_software_statement() {
        let (_folder, state, url) = start().await;
        let other_key = sign_statement(
            ISSUER,
            json!({ "client_name": "Forged" }),
            b"not the key of statements.example.com",
        )
        .expect("sign");
        let expired = statement(json!({ "client_name": "Old", "exp": 1_000_000_000 }));
        let valid = statement(json!({ "client_name": "Tampered" }));
        let mut parts: Vec<&str> = valid.split('.').collect();
        let forged_payload = sign_statement(ISSUER, json!({ "client_name": "Evil" }), KEY)
            .expect("sign")
            .split('.')
            .nth(1)
            .expect("a payload")
            .to_owned();
        parts[1] = &forged_payload;
        let tampered = parts.join(".");
        let cases = [
            ("signed with another key", json!(other_key)),
            ("expired", json!(expired)),
            ("payload swapped", json!(tampered)),
            ("not a JWT", json!("not-a-jwt")),
            ("not a string", json!({ "client_name": "Object" })),
        ];

        for (case, software_statement) in cases {
            let (status, body) = register(
                &state,
                &url,
                json!({
                    "redirect_uris": ["https://app.example.com/cb"],
                    "software_statement": software_statement,
                }),
            )
            .await;

            assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
            assert_eq!(
                body["error"], "invalid_software_statement",
                "{case}: {body}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_statement_of_an_untrusted_issuer_is_unapproved_software_statement() {
        let (_folder, state, url) = start().await;
        let untrusted =
            sign_statement("https://elsewhere.example.net", json!({}), KEY).expect("sign");

        let (status, body) = register(
            &state,
            &url,
            json!({
                "redirect_uris": ["https://app.example.com/cb"],
                "software_statement": untrusted,
            }),
        )
        .await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "unapproved_software_statement", "{body}");
    }
}

mod memory_client_store_example {
    use registrar_core::ClientId;
    use registrar_core::error::StoreError;
    use registrar_core::metadata::ClientMetadata;
    use registrar_core::secrets::TokenHasher;
    use registrar_core::store::{ClientStore, RegisteredClient};

    use super::*;
    use crate::memory_client_store::{self, MemoryClients};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn clients_live_in_memory_while_initial_tokens_stay_on_sqlite() {
        let (_folder, sqlite) = sqlite().await;
        let (listener, issuer) = bind().await;
        let clients = Arc::new(MemoryClients::default());
        let state = memory_client_store::state(issuer.clone(), sqlite.clone(), clients.clone())
            .await
            .expect("build the state");
        serve(listener, memory_client_store::app(state.clone()));
        let http = reqwest::Client::new();
        let token = initial_token(&state).await;

        // Register: the client is in memory, the token's use is taken on SQLite.
        let response = http
            .post(format!("{issuer}connect/dcr"))
            .bearer_auth(&token)
            .json(&web_client("https://app.example.com/cb"))
            .send()
            .await
            .expect("POST");
        let (status, registered) = json_of(response).await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        let client_id =
            ClientId::parse(member(&registered, "client_id")).expect("a valid client id");
        assert!(clients.get_client(&client_id).await.expect("get").is_some());
        assert_eq!(sqlite.list_clients().await.expect("list"), Vec::new());
        assert_eq!(sqlite.get_client(&client_id).await.expect("get"), None);
        let initial_tokens = sqlite.list_initial_tokens().await.expect("list tokens");
        assert_eq!(
            initial_tokens.iter().map(|t| t.uses).collect::<Vec<_>>(),
            [1]
        );
        let again = http
            .post(format!("{issuer}connect/dcr"))
            .bearer_auth(&token)
            .json(&web_client("https://app.example.com/cb"))
            .send()
            .await
            .expect("POST again");
        assert_eq!(
            again.status(),
            StatusCode::UNAUTHORIZED,
            "the token was single-use"
        );

        // Read.
        let (read_status, read_back) = read(&registered).await;
        assert_eq!(read_status, StatusCode::OK, "{read_back}");
        assert_eq!(read_back["client_id"], registered["client_id"]);

        // Update: the registration access token rotates and the old one stops working.
        let (update_status, updated) = update(
            &registered,
            json!({
                "client_id": registered["client_id"],
                "redirect_uris": ["https://app.example.com/cb"],
                "client_name": "Renamed",
            }),
        )
        .await;
        assert_eq!(update_status, StatusCode::OK, "{updated}");
        assert_ne!(
            updated["registration_access_token"],
            registered["registration_access_token"]
        );
        let (old_token_status, _) = read(&registered).await;
        assert_eq!(old_token_status, StatusCode::UNAUTHORIZED);
        let stored = clients.get_client(&client_id).await.expect("get");
        assert_eq!(
            stored.and_then(|client| client.metadata.client_name),
            Some("Renamed".to_owned())
        );

        // Delete.
        let deleted = http
            .delete(member(&updated, "registration_client_uri"))
            .bearer_auth(member(&updated, "registration_access_token"))
            .send()
            .await
            .expect("DELETE");
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        assert_eq!(clients.get_client(&client_id).await.expect("get"), None);
        let (deleted_status, _) = read(&updated).await;
        assert_eq!(deleted_status, StatusCode::UNAUTHORIZED);
        assert_eq!(sqlite.list_clients().await.expect("list"), Vec::new());
    }

    // The published contract: one test per check of `ClientStore`, each on a fresh store.
    registrar_core::client_store_contract!(memory_clients_pass_the_client_store_contract, async {
        Arc::new(MemoryClients::default())
    });

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_memory_store_rejects_an_initial_token_it_does_not_hold() {
        let store = MemoryClients::default();
        let hasher = TokenHasher::new(b"the memory store test hashing key");
        let client = RegisteredClient {
            client_id: ClientId::parse("with-initial-token").expect("a valid client id"),
            client_id_issued_at: NOW,
            secret: None,
            registration_token: Some(hasher.hash("registration access token")),
            metadata: ClientMetadata::default(),
            initial_token_id: Some("initial-token-id".to_owned()),
            registered_anonymously: false,
            updated_at: NOW,
            extensions: serde_json::Map::new(),
            policy: None,
            state: Default::default(),
        };

        let inserted = store
            .insert_client(&client, Some(&hasher.hash("initial access token")), NOW)
            .await;

        assert!(
            matches!(inserted, Err(StoreError::InitialTokenRejected)),
            "{inserted:?}"
        );
        assert_eq!(
            store.get_client(&client.client_id).await.expect("get"),
            None
        );
    }

    const NOW: i64 = 1_700_000_000;
}
