//! Tests of `SectorDocuments`: what the registration rules are told of a fetch.

use registrar_core::net::{DocumentError, DocumentSource};
use serde_json::json;

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
