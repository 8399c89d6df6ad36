//! The client information response (RFC 7591 §3.2.1, RFC 7592 §3).

use serde::Serialize;

use super::process::Issued;
use crate::metadata::ClientMetadata;
use crate::secrets::Secret;
use crate::settings::Settings;
use crate::store::RegisteredClient;

/// What registration, read and update return. Credentials appear only as issued; `Debug` hides
/// them (see `Secret`).
#[derive(Debug, Clone, Serialize)]
pub struct ClientInformation {
    pub client_id: String,
    pub client_id_issued_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// Always a number when the client has a secret; 0 means it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub registration_access_token: Secret,
    pub registration_client_uri: String,
    #[serde(flatten)]
    pub metadata: ClientMetadata,
}

pub fn default_respond(
    settings: &Settings,
    client: &RegisteredClient,
    issued: &Issued,
) -> ClientInformation {
    ClientInformation {
        client_id: client.client_id.as_str().to_owned(),
        client_id_issued_at: client.client_id_issued_at,
        client_secret: issued.client_secret.clone(),
        client_secret_expires_at: client.secret.as_ref().map(|secret| secret.expires_at),
        registration_access_token: issued.registration_access_token.clone(),
        registration_client_uri: settings.registration_client_uri(&client.client_id),
        metadata: client.metadata.clone(),
    }
}
