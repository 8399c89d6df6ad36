//! Tests of `SectorDocuments`: what the registration rules are told of a fetch.

use registrar_core::net::{DocumentError, DocumentSource};
use serde_json::json;

use super::held_server::HeldServer;
use super::support::{TlsServer, ok_json, response};
use crate::outbound::{Fetcher, SectorDocuments};

async fn fetched(server: &TlsServer) -> Result<serde_json::Value, DocumentError> {
    let fetcher =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");
    SectorDocuments::new(fetcher)
        .fetch_json(&server.url("/sector.json"))
        .await
}

#[tokio::test]
async fn a_document_served_with_200_is_returned() {
    let server = TlsServer::spawn(|_| ok_json(r#"["https://a.example/cb"]"#)).await;

    assert_eq!(fetched(&server).await, Ok(json!(["https://a.example/cb"])));
}

#[tokio::test]
async fn a_status_other_than_200_is_passed_on_as_the_status() {
    let server = TlsServer::spawn(|_| response("404 Not Found", &[], "")).await;

    assert_eq!(fetched(&server).await, Err(DocumentError::Status(404)));
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_not_followed() {
    let server =
        TlsServer::spawn(|_| response("302 Found", &[("location", "https://127.0.0.1/")], ""))
            .await;

    let outcome = fetched(&server).await;

    assert!(
        matches!(outcome, Err(DocumentError::Failed(_))),
        "{outcome:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_fetch_that_finds_every_permit_taken_fails_without_fetching() {
    let mut server = HeldServer::spawn(r#"["https://a.example/cb"]"#).await;
    let fetcher =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");
    let documents = SectorDocuments::with_limits(fetcher, 1, std::time::Duration::from_millis(100));
    let held = {
        let (documents, url) = (documents.clone(), server.url("/held.json"));
        tokio::spawn(async move { documents.fetch_json(&url).await })
    };
    // The one permit is taken: the server has the request and answers nothing yet.
    assert_eq!(server.next_arrival().await, "/held.json");

    let refused = documents.fetch_json(&server.url("/refused.json")).await;
    server.release();
    let answered = held.await.expect("task");
    let later = documents.fetch_json(&server.url("/later.json")).await;

    assert!(
        matches!(refused, Err(DocumentError::Failed(_))),
        "{refused:?}"
    );
    assert_eq!(answered, Ok(json!(["https://a.example/cb"])));
    assert_eq!(later, Ok(json!(["https://a.example/cb"])));
    // The refused document was never asked for; the later one was, once the permit came free.
    assert_eq!(server.next_arrival().await, "/later.json");
    assert_eq!(server.pending_arrivals(), Vec::<String>::new());
}
