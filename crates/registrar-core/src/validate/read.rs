//! The rules that run before the metadata is read: the software statement and the members an
//! RFC 7592 update may not send; then reading the typed metadata from the request.

use serde_json::Value;

use super::StepResult;
use crate::context::{Operation, RegistrationContext};
use crate::error::RegistrationError;
use crate::metadata::ClientMetadata;

/// Members a client may not send in an RFC 7592 update (§2.2).
const SERVER_MANAGED_MEMBERS: [&str; 4] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

/// RFC 7591 §2.3. `software_statement.mode = ignore` is the only mode so far: the member is
/// dropped like every member Registrar does not read, and no claim is merged. A step that
/// validates statements records the accepted one with
/// [`RegistrationContext::set_software_statement`] and merges its claims into
/// [`RegistrationContext::request_mut`] before [`read_metadata`] runs.
pub fn software_statement(cx: &RegistrationContext) -> StepResult {
    let _ = cx;
    Ok(())
}

/// RFC 7592 §2.2: an update names the client, sends no server-managed member, and sends the
/// current secret or none. Create, read and delete pass.
pub fn update_request(cx: &RegistrationContext) -> StepResult {
    let (Operation::Update, Some(current)) = (cx.operation(), cx.current()) else {
        return Ok(());
    };
    let request = cx.request();
    match request.get("client_id") {
        Some(Value::String(client_id)) if client_id == current.client_id.as_str() => {}
        Some(_) => {
            return Err(RegistrationError::InvalidClientMetadata(
                "client_id must equal the client's identifier".to_owned(),
            ));
        }
        None => {
            return Err(RegistrationError::InvalidClientMetadata(
                "client_id is required in an update (RFC 7592 §2.2)".to_owned(),
            ));
        }
    }
    if let Some(member) = SERVER_MANAGED_MEMBERS
        .iter()
        .find(|member| request.contains_key(**member))
    {
        return Err(RegistrationError::InvalidClientMetadata(format!(
            "{member} is set by the server and must not be sent in an update (RFC 7592 §2.2)"
        )));
    }
    let Some(sent_secret) = request.get("client_secret") else {
        return Ok(());
    };
    let matches = match (sent_secret, &current.secret) {
        (Value::String(sent), Some(stored)) => cx.services().hasher().verify(sent, &stored.hash),
        _ => false,
    };
    if !matches {
        return Err(RegistrationError::InvalidClientMetadata(
            "client_secret must equal the current secret; a client cannot choose its secret"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Reads the typed metadata from the request (JSON types only; the rules check values).
/// Unknown members stay in the request, where a custom step can keep them as extensions.
pub fn read_metadata(cx: &mut RegistrationContext) -> StepResult {
    let metadata = ClientMetadata::from_object(cx.request())?;
    cx.set_metadata(metadata);
    Ok(())
}
