//! The audit rules: the event a request makes, as free functions of the context. The pipeline
//! logs and records them (`audit`); `persist` hands a change's event to the store with the
//! change.

use crate::audit::{Action, AuditEvent, Outcome, clip, metadata_changes};
use crate::caller::Caller;
use crate::context::{Operation, RegistrationContext, RequestSource};
use crate::error::RegistrationError;
use crate::ids::ClientId;
use crate::trust::looks_like_jwt;
use crate::validate::route_of_registration;

/// What is known of a request that failed before its context existed (its caller could not be
/// authorized).
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// Where it came from.
    pub source: &'a RequestSource,
    /// The route its credential would have taken ([`AuditEvent::route`]).
    pub route: &'static str,
    /// The client a management request named.
    pub client_id: Option<&'a str>,
}

fn action(cx: &RegistrationContext) -> Action {
    match cx.operation() {
        Operation::Register if cx.is_dry_run() => Action::DryRun,
        Operation::Register => Action::Register,
        Operation::Read => Action::Read,
        Operation::Update => Action::Update,
        Operation::Delete => Action::Delete,
    }
}

/// The route and the credential's public handle and issuer: never the token itself.
fn caller_parts(cx: &RegistrationContext) -> (&'static str, Option<String>, Option<String>) {
    let route = match (cx.operation(), cx.caller()) {
        (Operation::Register, _) => route_of_registration(cx).name(),
        (_, Caller::Bearer(_)) => "bearer",
        (_, Caller::Client { .. }) => "registration_access_token",
        (_, _) => route_of_registration(cx).name(),
    };
    let (credential_id, credential_issuer) = match cx.caller() {
        Caller::InitialAccessToken { id, .. } => (Some(id.clone()), None),
        Caller::Bearer(principal) | Caller::Principal(principal) => {
            (Some(principal.subject.clone()), principal.issuer.clone())
        }
        Caller::SoftwareStatement {
            issuer,
            software_id,
        } => (software_id.clone(), Some(issuer.clone())),
        Caller::Anonymous => match cx.software_statement() {
            Some(statement) => (
                statement.software_id.clone(),
                Some(statement.issuer.clone()),
            ),
            None => (None, None),
        },
        Caller::Client { .. } => (None, None),
        // The credential is the URL: whoever controls it wrote the document.
        Caller::MetadataDocument { url } => (Some(url.clone()), None),
    };
    (
        route,
        credential_id.as_deref().map(clip),
        credential_issuer.as_deref().map(clip),
    )
}

fn source_parts(source: &RequestSource) -> (Option<String>, Option<String>) {
    (
        source.ip.map(|ip| ip.to_string()),
        source.user_agent.as_deref().map(clip),
    )
}

fn base_event(cx: &RegistrationContext, outcome: Outcome) -> AuditEvent {
    let (route, credential_id, credential_issuer) = caller_parts(cx);
    let (source_ip, user_agent) = source_parts(cx.source());
    let software_id = cx
        .client()
        .map_or(&cx.metadata().software_id, |client| {
            &client.metadata.software_id
        })
        .as_deref()
        .map(clip);
    AuditEvent {
        id: None,
        time: cx.now(),
        action: action(cx),
        outcome,
        client_id: cx
            .client_id()
            .map(|client_id| client_id.as_str().to_owned()),
        route: Some(route.to_owned()),
        credential_id,
        credential_issuer,
        software_id,
        source_ip,
        user_agent,
        error: None,
        changes: Vec::new(),
    }
}

/// The event of a request that succeeded; for an update, with the diff of the stored client
/// and its replacement.
pub fn success_event(cx: &RegistrationContext) -> AuditEvent {
    let mut event = base_event(cx, Outcome::Success);
    if let (Operation::Update, Some(before), Some(after)) =
        (cx.operation(), cx.current(), cx.client())
    {
        event.changes = metadata_changes(
            (&before.metadata, &before.extensions),
            (&after.metadata, &after.extensions),
        );
    }
    event
}

fn outcome_of(error: &RegistrationError) -> Outcome {
    match error {
        RegistrationError::Store(_) => Outcome::Failed,
        _ => Outcome::Refused,
    }
}

/// The event of a request answered with `error`.
pub fn refusal_event(cx: &RegistrationContext, error: &RegistrationError) -> AuditEvent {
    let mut event = base_event(cx, outcome_of(error));
    if cx.operation() == Operation::Register {
        // An identifier the processor drew for a client that was never stored names nothing.
        event.client_id = None;
    }
    event.error = Some(error.code().to_owned());
    event
}

/// The event of a request refused before its context existed.
pub fn attempt_event(
    operation: Operation,
    attempt: &Attempt<'_>,
    now: i64,
    error: &RegistrationError,
) -> AuditEvent {
    refused_attempt_event(operation, attempt, now, outcome_of(error), error.code())
}

/// The event of a request the host refused before the pipeline saw it, answered with the RFC
/// error `code`.
pub fn early_refusal_event(
    operation: Operation,
    attempt: &Attempt<'_>,
    now: i64,
    code: &'static str,
) -> AuditEvent {
    // The server's own failures, not the caller's: what a store error is answered with.
    let outcome = match code {
        "server_error" | "temporarily_unavailable" => Outcome::Failed,
        _ => Outcome::Refused,
    };
    refused_attempt_event(operation, attempt, now, outcome, code)
}

fn refused_attempt_event(
    operation: Operation,
    attempt: &Attempt<'_>,
    now: i64,
    outcome: Outcome,
    code: &str,
) -> AuditEvent {
    let (source_ip, user_agent) = source_parts(attempt.source);
    let action = match operation {
        Operation::Register => Action::Register,
        Operation::Read => Action::Read,
        Operation::Update => Action::Update,
        Operation::Delete => Action::Delete,
    };
    AuditEvent {
        id: None,
        time: now,
        action,
        outcome,
        // Only a well-formed identifier: the path is the caller's text.
        client_id: attempt
            .client_id
            .and_then(ClientId::parse)
            .map(|client_id| client_id.as_str().to_owned()),
        route: Some(attempt.route.to_owned()),
        credential_id: None,
        credential_issuer: None,
        software_id: None,
        source_ip,
        user_agent,
        error: Some(code.to_owned()),
        changes: Vec::new(),
    }
}

/// The route an event of a request refused before its caller was known names: from the token
/// it presented, never from anything the token would have proved.
pub fn attempt_route(operation: Operation, token: Option<&str>) -> &'static str {
    match (operation, token) {
        (_, Some(token)) if looks_like_jwt(token) => "bearer",
        (Operation::Register, None) => "open",
        (Operation::Register, Some(_)) => "initial_token",
        (_, _) => "registration_access_token",
    }
}
