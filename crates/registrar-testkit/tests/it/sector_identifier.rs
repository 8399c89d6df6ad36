//! OpenID Connect DCR 1.0 §5 over HTTP: a `sector_identifier_uri` is fetched through the outbound
//! fetcher from a test https server on loopback, on registration and again on update, and every
//! redirect URI must be in the JSON array it serves.

use registrar_testkit::document_server::{Document, DocumentServer};
use registrar_testkit::{Backend, TestServer, backends};
use serde_json::{Value, json};

use crate::{expect_error, expect_json};

backends!(
    a_document_listing_every_redirect_uri_is_accepted,
    a_document_at_an_allow_listed_address_is_fetched_and_refused_without_the_entry,
    a_redirect_uri_missing_from_the_document_is_refused,
    documents_that_are_not_arrays_of_strings_are_refused,
    failed_fetches_name_at_most_the_status,
    an_invalid_sector_identifier_uri_is_never_fetched,
    an_update_checks_the_document_again,
);

const PATH: &str = "/sector.json";
const CB: &str = "https://app.example.com/cb";
const OTHER: &str = "https://app.example.com/other";

/// A document server at `sector.test`, and a Registrar that may fetch from it.
async fn setup(backend: Backend) -> (TestServer, DocumentServer) {
    let documents = DocumentServer::start("sector.test").await;
    let server = TestServer::builder(backend)
        .tokens(documents.token_options())
        .spawn()
        .await;
    (server, documents)
}

fn metadata(sector_identifier_uri: &str, redirect_uris: &[&str]) -> Value {
    json!({
        "redirect_uris": redirect_uris,
        "sector_identifier_uri": sector_identifier_uri,
        "client_name": "App",
    })
}

async fn refusal(server: &TestServer, body: Value) -> String {
    expect_error(server.register(body).await, 400, "invalid_client_metadata").await
}

async fn a_document_listing_every_redirect_uri_is_accepted(backend: Backend) {
    let (server, documents) = setup(backend).await;
    documents.serve(
        PATH,
        Document::json(&json!([CB, OTHER, "https://b.example/cb"])),
    );

    let registered = expect_json(
        server
            .register(metadata(&documents.url(PATH), &[CB, OTHER]))
            .await,
        201,
    )
    .await;

    assert_eq!(registered["sector_identifier_uri"], documents.url(PATH));
    assert_eq!(documents.requested_paths(), [PATH]);
}

async fn a_document_at_an_allow_listed_address_is_fetched_and_refused_without_the_entry(
    backend: Backend,
) {
    let documents = DocumentServer::start("sector.test").await;
    documents.serve(PATH, Document::json(&json!([CB])));
    let allowed = documents.allow_hosts();
    let server = TestServer::builder(backend.clone())
        .settings(move |settings| settings.outbound_allow_hosts = allowed)
        .tokens(documents.token_options())
        .spawn()
        .await;
    // The fetcher may reach 127.0.0.1:PORT, but registration refuses the literal unless the
    // settings list it too.
    let without_entry = TestServer::builder(backend)
        .tokens(documents.token_options())
        .spawn()
        .await;

    expect_json(
        server
            .register(metadata(&documents.ip_url(PATH), &[CB]))
            .await,
        201,
    )
    .await;
    let description = refusal(&without_entry, metadata(&documents.ip_url(PATH), &[CB])).await;

    assert_eq!(
        description,
        "sector_identifier_uri must not point at a loopback, private or other special-use address"
    );
    assert_eq!(documents.hits(), 1);
}

async fn a_redirect_uri_missing_from_the_document_is_refused(backend: Backend) {
    let (server, documents) = setup(backend).await;
    // Exact comparison: a trailing slash is another URI.
    documents.serve(PATH, Document::json(&json!([CB, format!("{OTHER}/")])));

    let description = refusal(&server, metadata(&documents.url(PATH), &[CB, OTHER])).await;

    assert_eq!(
        description,
        "redirect_uris[1] 'https://app.example.com/other' is not in the sector_identifier_uri document (OpenID Connect DCR 1.0 section 5)"
    );
    assert_eq!(documents.hits(), 1);
}

async fn documents_that_are_not_arrays_of_strings_are_refused(backend: Backend) {
    let (server, documents) = setup(backend).await;
    let not_an_array = "the sector_identifier_uri document must be a JSON array of redirect URIs (OpenID Connect DCR 1.0 section 5)";
    for (document, expected) in [
        (json!({"redirect_uris": [CB]}), not_an_array),
        (json!(CB), not_an_array),
        (json!(null), not_an_array),
        (
            json!([CB, 7]),
            "the sector_identifier_uri document must hold only strings; entry 1 is not a string",
        ),
        (
            json!([null, CB]),
            "the sector_identifier_uri document must hold only strings; entry 0 is not a string",
        ),
    ] {
        documents.serve(PATH, Document::json(&document));

        let description = refusal(&server, metadata(&documents.url(PATH), &[CB])).await;

        assert_eq!(description, expected, "{document}");
    }
    assert_eq!(documents.hits(), 5);
}

async fn failed_fetches_name_at_most_the_status(backend: Backend) {
    let (server, documents) = setup(backend).await;
    let generic = "the sector_identifier_uri document could not be fetched";
    documents.serve("/missing.json", Document::status("404 Not Found"));
    documents.serve(
        "/broken.json",
        Document::status("500 Internal Server Error"),
    );
    documents.serve(
        "/moved.json",
        Document::redirect(&documents.url("/elsewhere.json")),
    );
    documents.serve("/elsewhere.json", Document::json(&json!([CB])));
    let oversize = serde_json::to_vec(&json!([CB, "a".repeat(64 * 1024)])).unwrap();
    documents.serve("/oversize.json", Document::bytes("200 OK", oversize));
    documents.serve(
        "/html.json",
        Document::bytes("200 OK", b"<html>internal</html>".to_vec()),
    );
    for (path, expected) in [
        ("/missing.json", format!("{generic} (status 404)")),
        ("/broken.json", format!("{generic} (status 500)")),
        ("/moved.json", generic.to_owned()),
        ("/oversize.json", generic.to_owned()),
        ("/html.json", generic.to_owned()),
    ] {
        let description = refusal(&server, metadata(&documents.url(path), &[CB])).await;

        assert_eq!(description, expected, "{path}");
    }
    // The redirect was not followed.
    assert_eq!(
        documents.requested_paths(),
        [
            "/missing.json",
            "/broken.json",
            "/moved.json",
            "/oversize.json",
            "/html.json"
        ]
    );
    // A name that does not resolve: the resolver's words stay in the log.
    let description = refusal(&server, metadata("https://unknown.test/sector.json", &[CB])).await;
    assert_eq!(description, generic);
}

async fn an_invalid_sector_identifier_uri_is_never_fetched(backend: Backend) {
    let (server, documents) = setup(backend).await;
    documents.serve(PATH, Document::json(&json!([CB])));
    let http = documents.url(PATH).replacen("https:", "http:", 1);
    let with_fragment = format!("{}#top", documents.url(PATH));
    let port = documents.allow_hosts()[0].port();
    let loopback = documents.ip_url(PATH);
    let localhost = format!("https://localhost:{port}{PATH}");
    for (uri, expected) in [
        (http.as_str(), "sector_identifier_uri must be an https URL"),
        (
            with_fragment.as_str(),
            "sector_identifier_uri must not contain a fragment",
        ),
        (
            loopback.as_str(),
            "sector_identifier_uri must not point at a loopback, private or other special-use address",
        ),
        (
            localhost.as_str(),
            "sector_identifier_uri must not point at a loopback, private or other special-use address",
        ),
    ] {
        let description = refusal(&server, metadata(uri, &[CB])).await;

        assert_eq!(description, expected, "{uri}");
    }
    // A valid URL in a request that another rule refuses is not fetched either.
    let mut body = metadata(&documents.url(PATH), &[CB]);
    body["grant_types"] = json!(["password"]);
    refusal(&server, body).await;
    assert_eq!(documents.hits(), 0);
}

async fn an_update_checks_the_document_again(backend: Backend) {
    let (server, documents) = setup(backend).await;
    documents.serve(PATH, Document::json(&json!([CB, OTHER])));
    let registered = expect_json(
        server
            .register(metadata(&documents.url(PATH), &[CB, OTHER]))
            .await,
        201,
    )
    .await;
    let uri = registered["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut token = registered["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = |redirect_uris: &[&str]| {
        let mut body = metadata(&documents.url(PATH), redirect_uris);
        body["client_id"] = registered["client_id"].clone();
        body
    };
    let put = |token: String, body: Value| {
        let request = server.http().put(&uri).bearer_auth(token).json(&body);
        async move { request.send().await.unwrap() }
    };

    // The client's server drops a redirect URI: the unchanged registration no longer passes.
    documents.serve(PATH, Document::json(&json!([CB])));
    let dropped = put(token.clone(), update(&[CB, OTHER])).await;
    let description = expect_error(dropped, 400, "invalid_client_metadata").await;
    assert_eq!(
        description,
        "redirect_uris[1] 'https://app.example.com/other' is not in the sector_identifier_uri document (OpenID Connect DCR 1.0 section 5)"
    );
    // An update to what the document lists passes, and one adding an unlisted URI does not.
    let narrowed = expect_json(put(token.clone(), update(&[CB])).await, 200).await;
    token = narrowed["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let widened = put(token.clone(), update(&[CB, "https://app.example.com/new"])).await;
    expect_error(widened, 400, "invalid_client_metadata").await;
    // A document that is gone fails the update too.
    documents.serve(PATH, Document::status("404 Not Found"));
    let gone = put(token.clone(), update(&[CB])).await;
    let description = expect_error(gone, 400, "invalid_client_metadata").await;
    assert_eq!(
        description,
        "the sector_identifier_uri document could not be fetched (status 404)"
    );
    assert_eq!(documents.hits(), 5);
}
