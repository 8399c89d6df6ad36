//! Client ID Metadata Documents over real HTTP: the client's document is served over https on
//! loopback by a test server with a self-signed certificate, which the fetcher trusts and may
//! reach the way an operator's `outbound.extra_ca_file` and `outbound.allow_hosts` would let it.
//! A URL client id completes the authorization code flow with PKCE; every unusable document is
//! refused with its reason; documents are cached as their server says, within the bounds, and
//! failures never; a changed document revokes its grants; a blocked one is not fetched.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use registrar_core::policy::{Binding, HostPattern};
use registrar_core::secrets::OsRandom;
use registrar_core::token::{SigningAlgorithm, generate_signing_key};
use registrar_core::{ClientId, ManualClock, Policies, Policy, RegisteredClient, Settings};
use registrar_server::Quota;
use registrar_testkit::document_server::{Document, DocumentServer};
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::authorization::support::{
    Agent, PASSWORD, add_user, authorize_url, exchange, pkce, query, refresh, tokens_for, unescape,
};
use crate::expect_error;

backends!(
    a_metadata_document_client_completes_the_flow_with_pkce,
    each_unusable_document_is_refused_with_its_reason,
    a_redirect_uri_not_in_the_document_is_refused,
    client_id_urls_that_break_the_rules_are_never_fetched,
    a_special_use_address_needs_the_allow_list,
    denied_and_unlisted_hosts_are_never_fetched,
    documents_are_cached_as_their_server_says_within_the_bounds,
    failures_are_never_cached,
    a_changed_document_revokes_the_grants,
    a_blocked_document_client_is_refused_without_a_fetch,
    metadata_documents_can_be_turned_off,
    a_policy_bound_to_cimd_governs_documents,
    a_document_that_declares_private_key_jwt_must_authenticate_with_its_key,
    consent_is_remembered_per_user_and_document_url,
    a_document_client_revokes_its_own_tokens,
    new_documents_count_against_the_routes_registration_limit,
    concurrent_requests_for_one_document_fetch_it_once,
    secret_methods_with_a_url_client_id_never_fetch,
    a_permissive_open_policy_does_not_reach_document_clients,
    an_administrator_reads_and_deletes_but_never_rewrites_a_document_client,
);

const HOST: &str = "mcp-client.test";
const PATH: &str = "/oauth/client.json";
const REDIRECT: &str = "http://localhost:33418/callback";
/// When the tests' clock starts.
const START: i64 = 1_900_000_000;

struct Fixture {
    server: TestServer,
    documents: DocumentServer,
    clock: Arc<ManualClock>,
}

impl Fixture {
    async fn start(backend: Backend) -> Self {
        Self::configured(backend, |_| {}).await
    }

    async fn configured(
        backend: Backend,
        configure: impl FnOnce(&mut Settings) + Send + 'static,
    ) -> Self {
        let documents = DocumentServer::start(HOST).await;
        let clock = Arc::new(ManualClock::new(START));
        let server = TestServer::builder(backend)
            .tokens(documents.token_options())
            .clock(clock.clone())
            .settings(configure)
            .spawn()
            .await;
        add_user(&server, "alice").await;
        Self {
            server,
            documents,
            clock,
        }
    }

    /// The document URL at `path`, serving `document` (its `client_id` set to the URL unless
    /// the test sets one).
    fn serve(&self, path: &str, mut document: Value, headers: &[(&str, &str)]) -> String {
        let url = self.documents.url(path);
        if document.get("client_id").is_none() {
            document["client_id"] = Value::String(url.clone());
        }
        let mut answer = Document::json(&document);
        for (name, value) in headers {
            answer = answer.with_header(name, value);
        }
        self.documents.serve(path, answer);
        url
    }

    /// What `/connect/authorize` shows a browser for the client id `url`.
    async fn authorize_page(&self, url: &str, redirect_uri: &str) -> (u16, String) {
        let (_, challenge) = pkce();
        let client = json!({"client_id": url, "redirect_uris": [redirect_uri]});
        let page = Agent::new()
            .get(&authorize_url(&self.server, &client, &challenge, &[]))
            .await;
        (page.status, unescape(&page.body))
    }

    /// The client stored for the client id `url`.
    async fn stored(&self, url: &str) -> Option<RegisteredClient> {
        let client_id = ClientId::parse(url).expect("a client id URL");
        self.server
            .stores()
            .clients()
            .get_client(&client_id)
            .await
            .expect("the store answers")
    }

    /// Asserts that the authorization request for `url` is an error page saying `reason`.
    async fn assert_refused(&self, url: &str, reason: &str) {
        let (status, body) = self.authorize_page(url, REDIRECT).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(
            body.contains(reason),
            "{url}: expected {reason:?} in {body}"
        );
    }

    /// Whether the authorization request for `url` gets as far as the login page.
    async fn reaches_login(&self, url: &str) -> bool {
        let (status, body) = self.authorize_page(url, REDIRECT).await;
        status == 200 && body.contains("id=\"password\"")
    }
}

/// An MCP client's document, as the draft's examples have it.
fn document() -> Value {
    json!({
        "client_name": "Example MCP client",
        "client_uri": "https://mcp-client.test/",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "openid profile email offline_access",
    })
}

fn client(url: &str) -> Value {
    json!({"client_id": url, "redirect_uris": [REDIRECT]})
}

/// The claims of a JWT, unverified: the tests check their values, the server their signature.
fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

async fn a_metadata_document_client_completes_the_flow_with_pkce(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let url = fixture.serve(PATH, document(), &[]);
    let discovery: Value = fixture
        .server
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(discovery["client_id_metadata_document_supported"], true);
    let openid: Value = fixture
        .server
        .get_json("/.well-known/openid-configuration")
        .await;
    assert_eq!(openid["client_id_metadata_document_supported"], true);

    // The consent page names the host the document came from, and warns about localhost.
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let login = agent
        .get(&authorize_url(
            &fixture.server,
            &client(&url),
            &challenge,
            &[],
        ))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let consent = agent
        .submit(&login, &[("username", "alice"), ("password", PASSWORD)])
        .await;
    let body = unescape(&consent.body);
    assert!(body.contains("id=\"allow\""), "{body}");
    assert!(
        body.contains(&format!("id=\"client-host\">{HOST}</strong>")),
        "{body}"
    );
    assert!(body.contains("id=\"localhost-warning\""), "{body}");
    let redirect = agent
        .submit(&consent, &[("decision", "allow")])
        .await
        .redirect()
        .expect("a redirect with the code");
    let code = query(&redirect, "code").expect("a code");
    let response = exchange(&fixture.server, &client(&url), &code, &verifier, REDIRECT).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(
        claims_of(tokens["access_token"].as_str().unwrap())["client_id"],
        url
    );
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["aud"], url);
    let refreshed = refresh(
        &fixture.server,
        &client(&url),
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(refreshed.status(), 200);
    // One fetch served the whole flow: the document was fresh throughout.
    assert_eq!(fixture.documents.hits(), 1);

    // The client is stored like a registered one, with nothing to authenticate it but itself.
    let stored = fixture
        .stored(&url)
        .await
        .expect("the document's client is stored");
    assert_eq!(stored.secret, None);
    assert_eq!(stored.registration_token, None);
    assert_eq!(
        stored.metadata.token_endpoint_auth_method.as_deref(),
        Some("none")
    );
    assert_eq!(
        stored.metadata.client_name.as_deref(),
        Some("Example MCP client")
    );
    assert_eq!(stored.policy.as_deref(), Some("cimd"));
    assert_eq!(stored.updated_at, START);
    // All of it on a server in protected mode, where an anonymous registration is refused:
    // a document client can do no more than the built-in policy of the route allows.
    let anonymous = fixture
        .server
        .http()
        .post(fixture.server.url("/connect/dcr"))
        .json(&document())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn each_unusable_document_is_refused_with_its_reason(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    // A document naming its own URL, with one member changed.
    let with = |url: &str, name: &str, value: Value| {
        let mut changed = document();
        changed["client_id"] = Value::String(url.to_owned());
        changed[name] = value;
        Document::json(&changed)
    };
    type Answer = Box<dyn Fn(&str) -> Document>;
    let cases: Vec<(&str, Answer, &str)> = vec![
        (
            "/mismatched.json",
            Box::new(|_| {
                let mut other = document();
                other["client_id"] = json!("https://other.test/oauth/client.json");
                Document::json(&other)
            }),
            "client_id in the document must equal the url it was fetched from",
        ),
        (
            "/redirected.json",
            Box::new(|_| Document::redirect("https://mcp-client.test/elsewhere.json")),
            "redirect, which is not followed",
        ),
        (
            "/missing.json",
            Box::new(|_| Document::status("404 Not Found")),
            "answered with status 404, not 200",
        ),
        (
            "/oversize.json",
            Box::new(move |url| with(url, "client_name", json!("x".repeat(6 * 1024)))),
            "larger than 5120 bytes",
        ),
        (
            "/secret.json",
            Box::new(move |url| with(url, "client_secret", json!("published-to-everyone"))),
            "client_secret must not be in a client metadata document",
        ),
        (
            "/basic.json",
            Box::new(move |url| {
                with(
                    url,
                    "token_endpoint_auth_method",
                    json!("client_secret_basic"),
                )
            }),
            "authenticates with none or private_key_jwt",
        ),
        (
            "/machine.json",
            Box::new(move |url| {
                with(
                    url,
                    "grant_types",
                    json!(["authorization_code", "client_credentials"]),
                )
            }),
            "only authorization_code and refresh_token",
        ),
        (
            "/no-redirects.json",
            Box::new(move |url| with(url, "redirect_uris", json!([]))),
            "redirect_uris",
        ),
        (
            "/array.json",
            Box::new(|_| Document::json(&json!([document()]))),
            "not a json object",
        ),
        (
            "/text.json",
            Box::new(|_| Document::bytes("200 OK", b"client_name=x".to_vec())),
            "it is not json",
        ),
    ];
    for (path, answer, reason) in cases {
        let url = fixture.documents.url(path);
        fixture.documents.serve(path, answer(&url));
        let (status, body) = fixture.authorize_page(&url, REDIRECT).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body.contains("the client metadata document cannot be used") && body.contains(reason),
            "{path}: expected {reason:?} in {body}"
        );
        // The token endpoint refuses it as it refuses any client it cannot authenticate.
        let response = exchange(
            &fixture.server,
            &client(&url),
            "unknown",
            "unknown",
            REDIRECT,
        )
        .await;
        expect_error(response, 401, "invalid_client").await;
    }
    // Nothing refused was stored.
    let listed = fixture
        .server
        .stores()
        .clients()
        .list_clients()
        .await
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

async fn a_redirect_uri_not_in_the_document_is_refused(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let url = fixture.serve(PATH, document(), &[]);
    // Not in the document: an error page, never a redirect to it.
    let (status, body) = fixture
        .authorize_page(&url, "http://localhost:33418/elsewhere")
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("redirect_uri"), "{body}");
    let (status, body) = fixture
        .authorize_page(&url, "https://attacker.test/callback")
        .await;
    assert_eq!(status, 400, "{body}");
    // The loopback port rule holds as for registered clients (RFC 8252 §7.3).
    let (status, body) = fixture
        .authorize_page(&url, "http://localhost:51000/callback")
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn client_id_urls_that_break_the_rules_are_never_fetched(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let good = fixture.serve(PATH, document(), &[]);
    let port = good
        .trim_start_matches(&format!("https://{HOST}:"))
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let origin = format!("{HOST}:{port}");
    for url in [
        format!("http://{origin}{PATH}"),
        format!("https://{origin}"),
        format!("https://{origin}/"),
        format!("https://{origin}{PATH}#fragment"),
        format!("https://user:password@{origin}{PATH}"),
        format!("https://{origin}/oauth/../oauth/client.json"),
        format!("https://{origin}/oauth/./client.json"),
    ] {
        let (status, body) = fixture.authorize_page(&url, REDIRECT).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(
            body.contains("the client is not registered here"),
            "{url}: {body}"
        );
    }
    assert_eq!(fixture.documents.hits(), 0, "no refused URL was fetched");
    assert!(fixture.reaches_login(&good).await);
}

async fn a_special_use_address_needs_the_allow_list(backend: Backend) {
    // An IP literal on loopback: refused before any fetch unless `outbound.allow_hosts` lists it.
    let fixture = Fixture::start(backend.clone()).await;
    let url = fixture.documents.ip_url(PATH);
    let mut served = document();
    served["client_id"] = Value::String(url.clone());
    fixture.documents.serve(PATH, Document::json(&served));
    let (status, body) = fixture.authorize_page(&url, REDIRECT).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("names a special-use address or localhost"),
        "{body}"
    );
    assert_eq!(fixture.documents.hits(), 0);
    drop(fixture);

    let documents = DocumentServer::start(HOST).await;
    let allowed = documents.allow_hosts();
    let server = TestServer::builder(backend.clone())
        .tokens(documents.token_options())
        .settings(move |settings| settings.outbound_allow_hosts = allowed)
        .spawn()
        .await;
    let url = documents.ip_url(PATH);
    let mut served = document();
    served["client_id"] = Value::String(url.clone());
    documents.serve(PATH, Document::json(&served));
    let (_, challenge) = pkce();
    let page = Agent::new()
        .get(&authorize_url(&server, &client(&url), &challenge, &[]))
        .await;
    assert_eq!(page.status, 200, "allow-listed: {}", page.body);
    assert_eq!(documents.hits(), 1);

    // A name that resolves to loopback is refused at connect time without the fetcher's entry.
    let documents = DocumentServer::start(HOST).await;
    let mut options = documents.token_options();
    options.fetch.allow_hosts.clear();
    let server = TestServer::builder(backend).tokens(options).spawn().await;
    let url = documents.url(PATH);
    let mut served = document();
    served["client_id"] = Value::String(url.clone());
    documents.serve(PATH, Document::json(&served));
    let page = Agent::new()
        .get(&authorize_url(&server, &client(&url), &challenge, &[]))
        .await;
    assert_eq!(page.status, 400);
    assert!(
        unescape(&page.body).contains("it could not be fetched"),
        "{}",
        page.body
    );
    assert_eq!(documents.hits(), 0, "nothing connected to loopback");
}

async fn denied_and_unlisted_hosts_are_never_fetched(backend: Backend) {
    let denied = Fixture::configured(backend.clone(), |settings| {
        settings.metadata_documents.denied_hosts = vec![HostPattern::parse("*.test").unwrap()];
    })
    .await;
    let url = denied.serve(PATH, document(), &[]);
    denied
        .assert_refused(&url, "documents from this host are not accepted here")
        .await;
    assert_eq!(denied.documents.hits(), 0);

    let unlisted = Fixture::configured(backend.clone(), |settings| {
        settings.metadata_documents.allowed_hosts =
            vec![HostPattern::parse("*.clients.example").unwrap()];
    })
    .await;
    let url = unlisted.serve(PATH, document(), &[]);
    unlisted
        .assert_refused(&url, "documents from this host are not accepted here")
        .await;
    assert_eq!(unlisted.documents.hits(), 0);

    let listed = Fixture::configured(backend, |settings| {
        settings.metadata_documents.allowed_hosts = vec![HostPattern::parse(HOST).unwrap()];
    })
    .await;
    let url = listed.serve(PATH, document(), &[]);
    assert!(listed.reaches_login(&url).await);
}

async fn documents_are_cached_as_their_server_says_within_the_bounds(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let ten_minutes = fixture.serve(
        "/ten-minutes.json",
        document(),
        &[("cache-control", "public, max-age=600")],
    );
    let no_store = fixture.serve(
        "/no-store.json",
        document(),
        &[("cache-control", "no-store")],
    );
    let a_year = fixture.serve(
        "/a-year.json",
        document(),
        &[("cache-control", "max-age=31536000")],
    );
    let hits_for = |path: &str| {
        fixture
            .documents
            .requested_paths()
            .iter()
            .filter(|requested| *requested == path)
            .count()
    };
    for url in [&ten_minutes, &no_store, &a_year] {
        assert!(fixture.reaches_login(url).await);
        assert!(fixture.reaches_login(url).await);
    }
    assert_eq!(
        (
            hits_for("/ten-minutes.json"),
            hits_for("/no-store.json"),
            hits_for("/a-year.json")
        ),
        (1, 1, 1),
        "each fetched once, no-store included: the minimum is five minutes"
    );
    // Five minutes less a second: only the bounds and max-age decide.
    fixture.clock.advance(299);
    for url in [&ten_minutes, &no_store, &a_year] {
        assert!(fixture.reaches_login(url).await);
    }
    assert_eq!(hits_for("/no-store.json"), 1);
    fixture.clock.advance(1);
    assert!(fixture.reaches_login(&no_store).await);
    assert_eq!(hits_for("/no-store.json"), 2, "stale after five minutes");
    assert!(fixture.reaches_login(&ten_minutes).await);
    assert_eq!(
        hits_for("/ten-minutes.json"),
        1,
        "max-age=600 still fresh at 300"
    );
    fixture.clock.advance(300);
    assert!(fixture.reaches_login(&ten_minutes).await);
    assert_eq!(hits_for("/ten-minutes.json"), 2, "stale at 600");
    // A year is held to a day.
    fixture.clock.advance(24 * 60 * 60 - 600 - 1);
    assert!(fixture.reaches_login(&a_year).await);
    assert_eq!(hits_for("/a-year.json"), 1);
    fixture.clock.advance(1);
    assert!(fixture.reaches_login(&a_year).await);
    assert_eq!(hits_for("/a-year.json"), 2, "the longest cache is a day");
}

async fn failures_are_never_cached(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let url = fixture.documents.url(PATH);
    fixture.documents.serve(
        PATH,
        Document::status("503 Service Unavailable").with_header("cache-control", "max-age=3600"),
    );
    assert!(!fixture.reaches_login(&url).await);
    assert!(!fixture.reaches_login(&url).await);
    assert_eq!(fixture.documents.hits(), 2, "a failure is fetched again");
    // An invalid document is not cached either.
    let mut invalid = document();
    invalid["client_id"] = Value::String(url.clone());
    invalid["client_secret"] = json!("x");
    fixture.documents.serve(
        PATH,
        Document::json(&invalid).with_header("cache-control", "max-age=3600"),
    );
    assert!(!fixture.reaches_login(&url).await);
    assert_eq!(fixture.documents.hits(), 3);
    // Fixed at the source: the next request sees it, with no wait.
    fixture.serve(PATH, document(), &[]);
    assert!(fixture.reaches_login(&url).await);
    assert_eq!(fixture.documents.hits(), 4);
}

async fn a_changed_document_revokes_the_grants(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let url = fixture.serve(PATH, document(), &[]);
    let tokens = tokens_for(&fixture.server, &client(&url), "alice").await;
    let mut refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();

    // Refetched unchanged: the grant lives on.
    fixture.clock.advance(5 * 60);
    let refreshed = refresh(&fixture.server, &client(&url), &refresh_token).await;
    assert_eq!(refreshed.status(), 200);
    assert_eq!(fixture.documents.hits(), 2, "refetched once stale");
    let refreshed: Value = refreshed.json().await.unwrap();
    refresh_token = refreshed["refresh_token"].as_str().unwrap().to_owned();

    // Its keys change: a grant made under the old document is revoked at the next fetch.
    let mut changed = document();
    changed["jwks_uri"] = json!("https://mcp-client.test/jwks.json");
    changed["token_endpoint_auth_method"] = json!("private_key_jwt");
    changed["client_id"] = Value::String(url.clone());
    fixture.documents.serve(PATH, Document::json(&changed));
    fixture.clock.advance(5 * 60);
    let refused = refresh(&fixture.server, &client(&url), &refresh_token).await;
    assert_eq!(fixture.documents.hits(), 3);
    // The client must now authenticate with its key, and its grants are gone.
    expect_error(refused, 401, "invalid_client").await;
    fixture.serve(PATH, document(), &[]);
    fixture.clock.advance(5 * 60);
    let revoked = refresh(&fixture.server, &client(&url), &refresh_token).await;
    expect_error(revoked, 400, "invalid_grant").await;

    // A new grant, then the redirect URIs change: revoked too.
    let tokens = tokens_for(&fixture.server, &client(&url), "alice").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let mut moved = document();
    moved["redirect_uris"] = json!([REDIRECT, "http://localhost:33418/other"]);
    fixture.serve(PATH, moved, &[]);
    fixture.clock.advance(5 * 60);
    let revoked = refresh(&fixture.server, &client(&url), &refresh_token).await;
    expect_error(revoked, 400, "invalid_grant").await;
}

async fn a_blocked_document_client_is_refused_without_a_fetch(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let url = fixture.serve(PATH, document(), &[]);
    let tokens = tokens_for(&fixture.server, &client(&url), "alice").await;
    let client_id = ClientId::parse(&url).unwrap();
    let blocked = fixture
        .server
        .stores()
        .clients()
        .set_client_blocked(&client_id, Some(START))
        .await
        .unwrap();
    assert!(blocked);
    let hits = fixture.documents.hits();
    // Stale or fresh, a blocked client is refused before anything is fetched.
    fixture.clock.advance(24 * 60 * 60);
    fixture
        .assert_refused(&url, "the client is not registered here")
        .await;
    let refused = refresh(
        &fixture.server,
        &client(&url),
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    expect_error(refused, 401, "invalid_client").await;
    assert_eq!(fixture.documents.hits(), hits);
    fixture
        .server
        .stores()
        .clients()
        .set_client_blocked(&client_id, None)
        .await
        .unwrap();
    assert!(fixture.reaches_login(&url).await);
}

async fn metadata_documents_can_be_turned_off(backend: Backend) {
    let fixture = Fixture::configured(backend, |settings| {
        settings.metadata_documents.enabled = false;
    })
    .await;
    let url = fixture.serve(PATH, document(), &[]);
    let discovery: Value = fixture
        .server
        .get_json("/.well-known/openid-configuration")
        .await;
    assert!(
        discovery
            .get("client_id_metadata_document_supported")
            .is_none(),
        "{discovery}"
    );
    fixture
        .assert_refused(&url, "the client is not registered here")
        .await;
    assert_eq!(fixture.documents.hits(), 0);
}

async fn a_policy_bound_to_cimd_governs_documents(backend: Backend) {
    let fixture = Fixture::configured(backend, |settings| {
        settings.policies = Policies::new(vec![Policy {
            bind: vec![Binding::MetadataDocument],
            scopes: Some(vec!["openid".to_owned(), "offline_access".to_owned()]),
            ..Policy::unrestricted("mcp")
        }])
        .unwrap();
    })
    .await;
    let url = fixture.serve(PATH, document(), &[]);
    fixture.assert_refused(&url, "policy 'mcp'").await;
    let mut narrow = document();
    narrow["scope"] = json!("openid offline_access");
    let url = fixture.serve("/narrow.json", narrow, &[]);
    let tokens = tokens_for_scope(&fixture, &url).await;
    assert_eq!(tokens["scope"], "openid offline_access");
    let stored = fixture
        .stored(&url)
        .await
        .expect("the document's client is stored");
    assert_eq!(stored.policy.as_deref(), Some("mcp"));
}

/// The flow with the scope the narrow document registers.
async fn tokens_for_scope(fixture: &Fixture, url: &str) -> Value {
    let agent = Agent::new();
    let (verifier, challenge) = pkce();
    let authorize = authorize_url(
        &fixture.server,
        &client(url),
        &challenge,
        &[("scope", Some("openid offline_access"))],
    );
    let redirect = agent.authorize(&authorize, "alice").await;
    let code = query(&redirect, "code").expect("a code");
    let response = exchange(&fixture.server, &client(url), &code, &verifier, REDIRECT).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn a_document_that_declares_private_key_jwt_must_authenticate_with_its_key(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let key = generate_signing_key(SigningAlgorithm::Es256, &OsRandom, START).unwrap();
    // Only public keys: a document that publishes the private half is refused.
    let mut leaked = document();
    leaked["token_endpoint_auth_method"] = json!("private_key_jwt");
    let mut private_jwk = key.public_jwk.clone();
    private_jwk["d"] = json!("AAAA");
    leaked["jwks"] = json!({"keys": [private_jwk]});
    let url = fixture.serve("/leaked.json", leaked, &[]);
    fixture.assert_refused(&url, "private member").await;

    let mut keyed = document();
    keyed["token_endpoint_auth_method"] = json!("private_key_jwt");
    keyed["jwks"] = json!({"keys": [key.public_jwk.clone()]});
    let url = fixture.serve(PATH, keyed, &[]);
    let (verifier, challenge) = pkce();
    let redirect = Agent::new()
        .authorize(
            &authorize_url(&fixture.server, &client(&url), &challenge, &[]),
            "alice",
        )
        .await;
    let code = query(&redirect, "code").expect("a code");
    let redeem = |assertion: Option<String>| {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", url.clone()),
            ("code", code.clone()),
            ("code_verifier", verifier.clone()),
            ("redirect_uri", REDIRECT.to_owned()),
        ];
        if let Some(assertion) = assertion {
            form.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ));
            form.push(("client_assertion", assertion));
        }
        fixture
            .server
            .http()
            .post(fixture.server.url("/connect/token"))
            .form(&form)
            .send()
    };
    // Its id alone is not enough: it declared a key.
    expect_error(redeem(None).await.unwrap(), 401, "invalid_client").await;
    let claims = json!({
        "iss": url, "sub": url, "aud": fixture.server.url("/connect/token"),
        "iat": START, "exp": START + 60, "jti": "cimd-assertion-1",
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    let assertion = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_der(&key.private_pkcs8_der),
    )
    .unwrap();
    let response = redeem(Some(assertion)).await.unwrap();
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(
        claims_of(tokens["access_token"].as_str().unwrap())["client_id"],
        url
    );
}

async fn consent_is_remembered_per_user_and_document_url(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    // An https redirect URI: only its own host gets the code, so consent may be remembered
    // (RFC 8252 §8.6; a public client on loopback is asked every time, as registered ones are).
    let web = "https://app.mcp-client.test/callback";
    let mut hosted = document();
    hosted["redirect_uris"] = json!([web]);
    let first = fixture.serve("/first.json", hosted.clone(), &[]);
    let second = fixture.serve("/second.json", hosted, &[]);
    let agent = Agent::new();
    let url_for = |client_id: &str| {
        let (_, challenge) = pkce();
        authorize_url(
            &fixture.server,
            &json!({"client_id": client_id, "redirect_uris": [web]}),
            &challenge,
            &[],
        )
    };
    let redirect = agent.authorize(&url_for(&first), "alice").await;
    assert!(redirect.as_str().starts_with(web), "{redirect}");
    // Consented once: the same user and URL go straight back with a code.
    let again = agent.get(&url_for(&first)).await;
    let location = again.redirect().expect("no page the second time");
    assert!(
        location.query_pairs().any(|(name, _)| name == "code"),
        "{location}"
    );
    // Another document on the same host is another client: asked again.
    let other = agent.get(&url_for(&second)).await;
    assert_eq!(other.status, 200);
    assert!(other.body.contains("id=\"allow\""), "{}", other.body);
}

async fn a_document_client_revokes_its_own_tokens(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let url = fixture.serve(PATH, document(), &[]);
    let tokens = tokens_for(&fixture.server, &client(&url), "alice").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    // RFC 7009 §2.1: a public client identifies itself with its client_id.
    let revoked = fixture
        .server
        .http()
        .post(fixture.server.url("/connect/revoke"))
        .form(&[("client_id", url.as_str()), ("token", refresh_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let refused = refresh(&fixture.server, &client(&url), refresh_token).await;
    expect_error(refused, 400, "invalid_grant").await;
}

async fn new_documents_count_against_the_routes_registration_limit(backend: Backend) {
    let documents = DocumentServer::start(HOST).await;
    let clock = Arc::new(ManualClock::new(START));
    let mut options = documents.token_options();
    options.rate_limits.policy_registrations = Quota::new(1, 3600);
    let server = TestServer::builder(backend)
        .tokens(options)
        .clock(clock.clone())
        .spawn()
        .await;
    let fixture = Fixture {
        server,
        documents,
        clock,
    };
    let first = fixture.serve("/first.json", document(), &[]);
    let second = fixture.serve("/second.json", document(), &[]);
    assert!(fixture.reaches_login(&first).await);
    // A document seen for the first time is a registration of its route's policy.
    let (status, body) = fixture.authorize_page(&second, REDIRECT).await;
    assert_eq!(status, 400);
    assert!(body.contains("too many"), "{body}");
    // Refetching a known one is not.
    fixture.clock.advance(5 * 60);
    assert!(fixture.reaches_login(&first).await);
    assert_eq!(
        fixture
            .documents
            .requested_paths()
            .iter()
            .filter(|path| *path == "/first.json")
            .count(),
        2
    );
}

async fn concurrent_requests_for_one_document_fetch_it_once(backend: Backend) {
    let fixture = Arc::new(Fixture::start(backend).await);
    let url = fixture.serve(PATH, document(), &[]);
    let requests: Vec<_> = (0..16)
        .map(|_| {
            let fixture = fixture.clone();
            let url = url.clone();
            tokio::spawn(async move { fixture.reaches_login(&url).await })
        })
        .collect();
    for request in requests {
        assert!(request.await.unwrap());
    }
    assert_eq!(fixture.documents.hits(), 1, "one fetch served them all");
    let stored = fixture
        .server
        .stores()
        .clients()
        .list_clients()
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
}

async fn secret_methods_with_a_url_client_id_never_fetch(backend: Backend) {
    let fixture = Fixture::start(backend).await;
    let url = fixture.serve(PATH, document(), &[]);
    // RFC 6749 §2.3.1: the id is form-encoded in HTTP Basic.
    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let basic = fixture
        .server
        .http()
        .post(fixture.server.url("/connect/token"))
        .basic_auth(&encoded, Some("a-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    expect_error(basic, 401, "invalid_client").await;
    let post = fixture
        .server
        .http()
        .post(fixture.server.url("/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", url.as_str()),
            ("client_secret", "a-secret"),
        ])
        .send()
        .await
        .unwrap();
    expect_error(post, 401, "invalid_client").await;
    assert_eq!(
        fixture.documents.hits(),
        0,
        "a document client has no secret to check"
    );
}

async fn a_permissive_open_policy_does_not_reach_document_clients(backend: Backend) {
    let fixture = Fixture::configured(backend, |settings| {
        settings.policies = Policies::new(vec![Policy {
            bind: vec![Binding::Open],
            allow_introspection: true,
            ..Policy::unrestricted("open")
        }])
        .unwrap();
        settings.scopes.push("calendar".to_owned());
    })
    .await;
    // Open registration may have any scope here; a document still gets the route's built-in
    // limits, whoever loosened `open`.
    let mut wide = document();
    wide["scope"] = json!("openid calendar");
    let url = fixture.serve("/wide.json", wide, &[]);
    fixture.assert_refused(&url, "policy 'cimd'").await;
    // And never the registration scope, whatever a policy bound to the route says.
    let mut admin = document();
    admin["scope"] = json!(format!("openid {}", registrar_core::DEFAULT_BEARER_SCOPE));
    let url = fixture.serve("/admin.json", admin, &[]);
    fixture
        .assert_refused(&url, "may not have the scope registrar.configuration")
        .await;
    let url = fixture.serve(PATH, document(), &[]);
    assert!(fixture.reaches_login(&url).await);
    let stored = fixture
        .stored(&url)
        .await
        .expect("the document's client is stored");
    assert_eq!(stored.policy.as_deref(), Some("cimd"));
    let policy = stored.policy_in(
        &Policies::new(vec![Policy {
            bind: vec![Binding::Open],
            allow_introspection: true,
            ..Policy::unrestricted("open")
        }])
        .unwrap(),
    );
    assert!(!policy.allow_introspection && !policy.allow_client_credentials);
}

async fn an_administrator_reads_and_deletes_but_never_rewrites_a_document_client(backend: Backend) {
    use crate::protected::support::{BEARER_SCOPE, access_token, machine, manage, register_under};
    let fixture = Fixture::configured(backend, |settings| {
        settings.policies = Policies::new(vec![Policy {
            allow_registration_scope: true,
            ..Policy::unrestricted("admin")
        }])
        .unwrap();
    })
    .await;
    let admin: Value = register_under(&fixture.server, "admin", &machine(BEARER_SCOPE))
        .await
        .json()
        .await
        .unwrap();
    let token = access_token(&fixture.server, &admin).await;
    let url = fixture.serve(PATH, document(), &[]);
    assert!(fixture.reaches_login(&url).await);
    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let uri = fixture.server.url(&format!("/connect/dcr/{encoded}"));

    let read = manage(&fixture.server, reqwest::Method::GET, &uri, &token, None).await;
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["client_id"], url);
    assert_eq!(
        read["registration_client_uri"], uri,
        "the URL id is one encoded segment"
    );

    // What the document says is what the client is: an update would be undone by the next fetch.
    let mut body = document();
    body["client_id"] = Value::String(url.clone());
    body["token_endpoint_auth_method"] = json!("client_secret_basic");
    let update = manage(
        &fixture.server,
        reqwest::Method::PUT,
        &uri,
        &token,
        Some(&body),
    )
    .await;
    let description = expect_error(update, 400, "invalid_client_metadata").await;
    assert!(
        description.contains("changes only through its document"),
        "{description}"
    );

    let deleted = manage(&fixture.server, reqwest::Method::DELETE, &uri, &token, None).await;
    assert_eq!(deleted.status(), 204);
    assert!(fixture.stored(&url).await.is_none());
    // Deleting forgets the client; its document registers it again on its next use (blocking is
    // what keeps it out).
    assert!(fixture.reaches_login(&url).await);
    assert!(fixture.stored(&url).await.is_some());
}
