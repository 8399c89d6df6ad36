//! The client information response (RFC 7591 §3.2.1, RFC 7592 §3), and the rule that builds it
//! from the context.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::context::{RegistrationContext, is_reserved_member};
use crate::error::RegistrationError;
use crate::metadata::ClientMetadata;
use crate::secrets::Secret;

/// What registration, read and update return. Credentials appear only as issued; `Debug` hides
/// them (see `Secret`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientInformation {
    /// The issued identifier.
    pub client_id: String,
    /// When the identifier was issued, in seconds since the epoch.
    pub client_id_issued_at: i64,
    /// The secret, only in the response of the request that issued it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub client_secret: Option<Secret>,
    /// Always a number when the client has a secret; 0 means it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// The token the client manages its registration with (RFC 7592). Absent from what an
    /// administrator reads or updates (the token is stored only as a hash) and from a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub registration_access_token: Option<Secret>,
    /// Where the client manages its registration (RFC 7592 §3).
    pub registration_client_uri: String,
    /// Every registered value, defaults included.
    #[serde(flatten)]
    pub metadata: ClientMetadata,
    /// Extension members kept by a step, and members a responder added; private, so that
    /// [`ClientInformation::insert_member`] can keep registered names out.
    // Left out of the schema, which stays open to other members.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    extensions: Map<String, Value>,
}

impl ClientInformation {
    /// Extension members kept by a step, and members a responder added.
    pub fn extensions(&self) -> &Map<String, Value> {
        &self.extensions
    }

    /// Adds a member to the response, as a custom responder does. A name Registrar sets or
    /// reads (see [`is_reserved_member`]) is refused, changing nothing, since it would appear
    /// twice in the JSON: returns whether the member was added.
    pub fn insert_member(&mut self, name: impl Into<String>, value: Value) -> bool {
        let name = name.into();
        if is_reserved_member(&name) {
            return false;
        }
        self.extensions.insert(name, value);
        true
    }
}

/// The response for the client in the context: the record the processor built, or the stored
/// one on read.
pub fn client_information(
    cx: &RegistrationContext,
) -> Result<ClientInformation, RegistrationError> {
    let Some(client) = cx.client() else {
        return Err(RegistrationError::Store(crate::error::StoreError::Backend(
            "the response needs the client the processor builds".to_owned(),
        )));
    };
    // A dry run stored nothing: credentials in its answer would be credentials of nothing.
    let issued = |secret: Option<&Secret>| secret.filter(|_| !cx.is_dry_run()).cloned();
    let registration_access_token = issued(cx.registration_access_token());
    if registration_access_token.is_none() && !cx.caller().is_administrator() && !cx.is_dry_run() {
        return Err(RegistrationError::Store(crate::error::StoreError::Backend(
            "the response needs the client's registration access token".to_owned(),
        )));
    }
    Ok(ClientInformation {
        client_id: client.client_id.as_str().to_owned(),
        client_id_issued_at: client.client_id_issued_at,
        client_secret: issued(cx.issued_secret()),
        client_secret_expires_at: client.secret.as_ref().map(|secret| secret.expires_at),
        registration_access_token,
        registration_client_uri: cx.settings().registration_client_uri(&client.client_id),
        metadata: client.metadata.clone(),
        extensions: client.extensions.clone(),
    })
}
