//! The rules that run before the metadata is read: the software statement and the members an
//! RFC 7592 update may not send; then reading the typed metadata from the request.

use serde_json::Value;

use super::StepResult;
use crate::context::{Operation, RegistrationContext, SoftwareStatement};
use crate::error::RegistrationError;
use crate::error::StoreError;
use crate::metadata::ClientMetadata;
use crate::token::ReplayCache;
use crate::trust::{StatementMode, verify_software_statement};

/// The replay cache of a dry run: every jti is new, and none is kept.
#[derive(Debug)]
struct RecordsNothing;

#[async_trait::async_trait]
impl ReplayCache for RecordsNothing {
    async fn record_jti(&self, _: &str, _: &str, _: i64) -> Result<bool, StoreError> {
        Ok(true)
    }

    async fn is_jti_recorded(&self, _: &str, _: &str, _: i64) -> Result<bool, StoreError> {
        Ok(false)
    }
}

/// Members a client may not send in an RFC 7592 update (§2.2).
const SERVER_MANAGED_MEMBERS: [&str; 4] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

/// Claims of a statement that are about the JWT itself, or members only the server sets: never
/// merged into the request.
const UNMERGED_CLAIMS: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_access_token",
    "registration_client_uri",
];

/// RFC 7591 §2.3 and §3.1.1, as `software_statement.mode` says. `ignore`: the member is dropped
/// and nothing is merged. `accept` and `require`: a statement that is present must verify
/// against a trusted issuer (`trust::verify_software_statement`); its claims then take
/// precedence over the same members of the body, the statement is kept to be returned
/// unchanged, and the accepted statement is recorded in the context. `require` refuses a
/// request without one.
pub async fn software_statement(cx: &mut RegistrationContext) -> StepResult {
    let settings = &cx.settings().software_statements;
    let mode = settings.mode;
    let sent = cx.request().get("software_statement").cloned();
    let jwt = match (mode, sent) {
        (StatementMode::Ignore, _) => {
            cx.request_mut().remove("software_statement");
            return Ok(());
        }
        (StatementMode::Require, None) => {
            return Err(RegistrationError::InvalidSoftwareStatement(
                "a software_statement is required".to_owned(),
            ));
        }
        (StatementMode::Accept, None) => return Ok(()),
        (_, Some(Value::String(jwt))) => jwt,
        (_, Some(_)) => {
            return Err(RegistrationError::InvalidSoftwareStatement(
                "software_statement must be a string holding a JWT".to_owned(),
            ));
        }
    };
    let services = cx.services();
    // A dry run stores nothing, a single-use statement's jti included; it cannot tell whether
    // the jti was used before, which the real registration then says.
    let replay: &dyn ReplayCache = match cx.is_dry_run() {
        true => &RecordsNothing,
        false => services.stores().replay().as_ref(),
    };
    let verified = verify_software_statement(
        &jwt,
        settings,
        services.key_source().as_ref(),
        replay,
        cx.now(),
    )
    .await?;
    let request = cx.request_mut();
    for (name, value) in &verified.claims {
        if !UNMERGED_CLAIMS.contains(&name.as_str()) {
            request.insert(name.clone(), value.clone());
        }
    }
    request.insert("software_statement".to_owned(), Value::String(verified.jwt));
    cx.set_software_statement(SoftwareStatement {
        issuer: verified.issuer,
        software_id: verified.software_id,
        claims: verified.claims,
        authorizes_registration: verified.authorizes_registration,
    });
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
