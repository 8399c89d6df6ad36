//! Table tests of the outbound URL rules run through the whole default validator: the host rule
//! on every fetched member, and the sector identifier document through a fake document source
//! that counts its fetches.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};
use url::Url;

use crate::caller::Caller;
use crate::context::{Operation, RegistrationContext, RequestSource};
use crate::net::{AllowedHost, DocumentError, DocumentSource};
use crate::pipeline::Pipeline;
use crate::secrets::TokenHasher;
use crate::settings::Settings;
use crate::steps::{DefaultValidator, Validator};
use crate::store::Stores;

const SECTOR: &str = "https://sector.example/redirects.json";

/// Serves canned answers by URL and counts every fetch.
#[derive(Debug, Default)]
struct FakeDocuments {
    answers: HashMap<String, Result<Value, DocumentError>>,
    fetches: AtomicUsize,
}

impl FakeDocuments {
    fn serving(uri: &str, answer: Result<Value, DocumentError>) -> Arc<Self> {
        let mut answers = HashMap::new();
        answers.insert(uri.to_owned(), answer);
        Arc::new(Self {
            answers,
            fetches: AtomicUsize::new(0),
        })
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl DocumentSource for FakeDocuments {
    async fn fetch_json(&self, uri: &str) -> Result<Value, DocumentError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.answers
            .get(uri)
            .cloned()
            .unwrap_or(Err(DocumentError::Status(404)))
    }
}

fn settings_allowing(allowed: &[&str]) -> Settings {
    let mut settings = Settings::new(Url::parse("https://issuer.example").expect("issuer"));
    settings.outbound_allow_hosts = allowed
        .iter()
        .map(|entry| AllowedHost::parse(entry).expect("test entry"))
        .collect();
    settings
}

/// Runs the default validator on `body` and renders `ok` or `{code}: {message}`.
async fn render_with(
    settings: Settings,
    documents: Option<Arc<dyn DocumentSource>>,
    body: &Value,
) -> String {
    let mut builder = Pipeline::builder(settings, Stores::unavailable())
        .server_secret(b"validation tests secret, thirty-two bytes or more");
    if let Some(documents) = documents {
        builder = builder.document_source(documents);
    }
    let pipeline = builder.build().expect("pipeline");
    let object = body.as_object().expect("test bodies are objects").clone();
    let caller = Caller::InitialAccessToken {
        id: "iat-1".to_owned(),
        token_hash: TokenHasher::new(b"test secret").hash("initial access token"),
        policy: None,
    };
    let mut cx = RegistrationContext::new(
        pipeline.services().clone(),
        Operation::Register,
        caller,
        RequestSource::default(),
        object,
        None,
    );
    match DefaultValidator.validate(&mut cx).await {
        Ok(()) => "ok".to_owned(),
        Err(error) => format!("{}: {error}", error.code()),
    }
}

async fn render(body: Value) -> String {
    render_with(settings_allowing(&[]), None, &body).await
}

/// A body with a valid redirect URI and `member` set to `value`.
fn with_member(member: &str, value: Value) -> Value {
    let mut body = json!({"redirect_uris": ["https://a.example/cb"]});
    body[member] = value;
    body
}

#[tokio::test]
async fn special_use_jwks_uri_is_refused_in_every_spelling() {
    for url in [
        "https://2130706433/",
        "https://0x7f.1/",
        "https://0177.0.0.1/",
        "https://127.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[::1]/",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/",
        "https://[fe80::1]/",
        "https://localhost/",
        "https://LOCALHOST./",
        "https://a.localhost/",
    ] {
        assert_eq!(
            render(with_member("jwks_uri", json!(url))).await,
            "invalid_client_metadata: jwks_uri must not point at a loopback, private or other special-use address",
            "{url}"
        );
    }
}

#[tokio::test]
async fn public_hosts_and_names_that_are_not_localhost_are_accepted() {
    for url in [
        "https://client.example/jwks",
        "https://93.184.215.14/jwks",
        "https://[2606:4700:4700::1111]/jwks",
        "https://localhost.example/jwks",
        "https://jwks.test:8443/jwks",
    ] {
        assert_eq!(
            render(with_member("jwks_uri", json!(url))).await,
            "ok",
            "{url}"
        );
    }
}

#[tokio::test]
async fn every_fetched_member_is_held_to_the_host_rule() {
    let mut table = String::new();
    for (member, value) in [
        ("sector_identifier_uri", json!("https://127.0.0.1/sector")),
        ("backchannel_logout_uri", json!("https://10.1.2.3/logout")),
        ("frontchannel_logout_uri", json!("https://localhost/logout")),
        ("initiate_login_uri", json!("https://[::1]/login")),
        ("logo_uri", json!("https://169.254.169.254/logo.png")),
        ("client_uri", json!("https://192.168.0.1/")),
        ("policy_uri", json!("https://a.localhost/policy")),
        ("tos_uri", json!("https://0x7f.1/tos")),
        ("logo_uri#fr", json!("https://127.0.0.1/logo-fr.png")),
        ("tos_uri#de-CH", json!("https://[fd00::1]/tos")),
        (
            "request_uris",
            json!(["https://a.example/r", "https://127.0.0.1/r#hash"]),
        ),
    ] {
        let outcome = render(with_member(member, value)).await;
        table.push_str(&format!("{member} -> {outcome}\n"));
    }
    expect_test::expect![[r#"
        sector_identifier_uri -> invalid_client_metadata: sector_identifier_uri must not point at a loopback, private or other special-use address
        backchannel_logout_uri -> invalid_client_metadata: backchannel_logout_uri must not point at a loopback, private or other special-use address
        frontchannel_logout_uri -> invalid_client_metadata: frontchannel_logout_uri must not point at a loopback, private or other special-use address
        initiate_login_uri -> invalid_client_metadata: initiate_login_uri must not point at a loopback, private or other special-use address
        logo_uri -> invalid_client_metadata: logo_uri must not point at a loopback, private or other special-use address
        client_uri -> invalid_client_metadata: client_uri must not point at a loopback, private or other special-use address
        policy_uri -> invalid_client_metadata: policy_uri must not point at a loopback, private or other special-use address
        tos_uri -> invalid_client_metadata: tos_uri must not point at a loopback, private or other special-use address
        logo_uri#fr -> invalid_client_metadata: logo_uri#fr must not point at a loopback, private or other special-use address
        tos_uri#de-CH -> invalid_client_metadata: tos_uri#de-CH must not point at a loopback, private or other special-use address
        request_uris -> invalid_client_metadata: request_uris[1] must not point at a loopback, private or other special-use address
    "#]]
    .assert_eq(&table);
}

#[tokio::test]
async fn loopback_redirect_uris_keep_their_own_rules() {
    let body = json!({"redirect_uris": ["http://127.0.0.1/cb", "http://localhost:8080/cb"]});

    assert_eq!(render(body).await, "ok");
}

#[tokio::test]
async fn an_allowed_host_and_port_is_accepted_and_another_port_is_not() {
    let settings = || settings_allowing(&["127.0.0.1:8443", "localhost:443"]);
    let accepted = [
        "https://127.0.0.1:8443/jwks",
        "https://2130706433:8443/jwks",
        "https://localhost/jwks",
    ];
    for url in accepted {
        let outcome = render_with(settings(), None, &with_member("jwks_uri", json!(url))).await;
        assert_eq!(outcome, "ok", "{url}");
    }
    for url in [
        "https://127.0.0.1:8444/jwks",
        "https://127.0.0.1/jwks",
        "https://localhost:8443/jwks",
        "https://10.0.0.1:8443/jwks",
    ] {
        let outcome = render_with(settings(), None, &with_member("jwks_uri", json!(url))).await;
        assert_eq!(
            outcome,
            "invalid_client_metadata: jwks_uri must not point at a loopback, private or other special-use address",
            "{url}"
        );
    }
}

/// The outcome of registering `redirect_uris` with [`SECTOR`] serving `answer`, and how many
/// fetches it took.
async fn with_sector_document(
    redirect_uris: &[&str],
    answer: Result<Value, DocumentError>,
) -> (String, usize) {
    let documents = FakeDocuments::serving(SECTOR, answer);
    let body = json!({"redirect_uris": redirect_uris, "sector_identifier_uri": SECTOR});
    let outcome = render_with(
        settings_allowing(&[]),
        Some(documents.clone() as Arc<dyn DocumentSource>),
        &body,
    )
    .await;
    (outcome, documents.fetches())
}

#[tokio::test]
async fn sector_identifier_document_listing_every_redirect_uri_is_accepted() {
    let document = json!([
        "https://a.example/cb",
        "https://b.example/cb",
        "https://c.example/"
    ]);

    let outcome = with_sector_document(
        &["https://a.example/cb", "https://b.example/cb"],
        Ok(document),
    )
    .await;

    assert_eq!(outcome, ("ok".to_owned(), 1));
}

#[tokio::test]
async fn sector_identifier_document_must_list_each_redirect_uri_exactly() {
    let document = json!(["https://a.example/cb", "https://b.example/cb/"]);

    let outcome = with_sector_document(
        &["https://a.example/cb", "https://b.example/cb"],
        Ok(document),
    )
    .await;

    assert_eq!(
        outcome,
        (
            "invalid_client_metadata: redirect_uris[1] 'https://b.example/cb' is not in the sector_identifier_uri document (OpenID Connect DCR 1.0 section 5)".to_owned(),
            1
        )
    );
}

#[tokio::test]
async fn sector_identifier_document_must_be_an_array_of_strings() {
    for (document, expected) in [
        (
            json!({"redirect_uris": ["https://a.example/cb"]}),
            "invalid_client_metadata: the sector_identifier_uri document must be a JSON array of redirect URIs (OpenID Connect DCR 1.0 section 5)",
        ),
        (
            json!("https://a.example/cb"),
            "invalid_client_metadata: the sector_identifier_uri document must be a JSON array of redirect URIs (OpenID Connect DCR 1.0 section 5)",
        ),
        (
            json!(["https://a.example/cb", 7]),
            "invalid_client_metadata: the sector_identifier_uri document must hold only strings; entry 1 is not a string",
        ),
        (
            json!([["https://a.example/cb"]]),
            "invalid_client_metadata: the sector_identifier_uri document must hold only strings; entry 0 is not a string",
        ),
    ] {
        let outcome = with_sector_document(&["https://a.example/cb"], Ok(document.clone())).await;
        assert_eq!(outcome, (expected.to_owned(), 1), "{document}");
    }
}

#[tokio::test]
async fn a_failed_fetch_names_at_most_the_status() {
    let status =
        with_sector_document(&["https://a.example/cb"], Err(DocumentError::Status(404))).await;
    let failed = with_sector_document(
        &["https://a.example/cb"],
        Err(DocumentError::Failed(
            "tls handshake with 10.0.0.7: internal-ca".to_owned(),
        )),
    )
    .await;

    assert_eq!(
        status,
        (
            "invalid_client_metadata: the sector_identifier_uri document could not be fetched (status 404)".to_owned(),
            1
        )
    );
    assert_eq!(
        failed,
        (
            "invalid_client_metadata: the sector_identifier_uri document could not be fetched"
                .to_owned(),
            1
        )
    );
}

#[tokio::test]
async fn without_a_document_source_a_sector_identifier_uri_is_refused() {
    let body = json!({"redirect_uris": ["https://a.example/cb"], "sector_identifier_uri": SECTOR});

    let outcome = render_with(settings_allowing(&[]), None, &body).await;

    assert_eq!(
        outcome,
        "invalid_client_metadata: sector_identifier_uri cannot be checked: this server is not set up to fetch documents"
    );
}

#[tokio::test]
async fn an_invalid_sector_identifier_uri_or_request_is_never_fetched() {
    for (sector_identifier_uri, grant_types) in [
        (
            "http://sector.example/redirects.json",
            json!(["authorization_code"]),
        ),
        (
            "https://sector.example/redirects.json#top",
            json!(["authorization_code"]),
        ),
        (
            "https://user@sector.example/redirects.json",
            json!(["authorization_code"]),
        ),
        (
            "https://127.0.0.1/redirects.json",
            json!(["authorization_code"]),
        ),
        (
            "https://localhost/redirects.json",
            json!(["authorization_code"]),
        ),
        (
            "sector.example/redirects.json",
            json!(["authorization_code"]),
        ),
        // A valid URL, but another rule fails first.
        (SECTOR, json!(["password"])),
    ] {
        let documents = FakeDocuments::serving(sector_identifier_uri, Ok(json!([])));
        let body = json!({
            "redirect_uris": ["https://a.example/cb"],
            "grant_types": grant_types,
            "sector_identifier_uri": sector_identifier_uri,
        });

        let outcome = render_with(
            settings_allowing(&[]),
            Some(documents.clone() as Arc<dyn DocumentSource>),
            &body,
        )
        .await;

        assert!(
            outcome.starts_with("invalid_client_metadata: "),
            "{outcome}"
        );
        assert_eq!(documents.fetches(), 0, "{sector_identifier_uri}");
    }
}

/// The rule refuses on its own what the URL rules would, so an override that skips them still
/// fetches nothing it should not.
#[tokio::test]
async fn the_sector_rule_checks_its_url_itself() {
    #[derive(Debug)]
    struct SkipsUrlRules;
    #[async_trait]
    impl Validator for SkipsUrlRules {
        async fn validate_urls(
            &self,
            _cx: &mut RegistrationContext,
        ) -> crate::validate::StepResult {
            Ok(())
        }
        async fn validate_outbound_hosts(
            &self,
            _cx: &mut RegistrationContext,
        ) -> crate::validate::StepResult {
            Ok(())
        }
    }
    for uri in [
        "http://sector.example/r.json",
        "https://169.254.169.254/r.json",
    ] {
        let documents = FakeDocuments::serving(uri, Ok(json!(["https://a.example/cb"])));
        let pipeline = Pipeline::builder(settings_allowing(&[]), Stores::unavailable())
            .server_secret(b"validation tests secret, thirty-two bytes or more")
            .document_source(documents.clone())
            .build()
            .expect("pipeline");
        let body = json!({"redirect_uris": ["https://a.example/cb"], "sector_identifier_uri": uri});
        let mut cx = RegistrationContext::new(
            pipeline.services().clone(),
            Operation::Register,
            Caller::Anonymous,
            RequestSource::default(),
            body.as_object().expect("object").clone(),
            None,
        );

        let outcome = SkipsUrlRules.validate(&mut cx).await;

        assert!(outcome.is_err(), "{uri}");
        assert_eq!(documents.fetches(), 0, "{uri}");
    }
}
