//! `events list`, and the event of `clients delete`.

use anyhow::bail;
use registrar_core::audit::{Action, AuditEvent, EventFilter, Outcome, log_event};
use registrar_core::store::ClientChange;
use registrar_core::{ClientId, Pipeline};

use super::{client_id, open, printable, timestamp};
use crate::cli::EventsCommand;
use crate::config::Config;

pub async fn events(config: Config, command: EventsCommand) -> anyhow::Result<()> {
    let EventsCommand::List {
        client,
        since,
        json,
        limit,
    } = command;
    let client_id = client.as_deref().map(client_id).transpose()?;
    let pipeline = open(&config).await?;
    let services = pipeline.services();
    let since = since.map(|since| {
        services
            .clock()
            .now()
            .saturating_sub(i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
    });
    let filter = EventFilter {
        client_id,
        since,
        limit,
    };
    let mut events = services.stores().events().list_events(&filter).await?;
    // The store gives the newest first; a log reads oldest first.
    events.reverse();
    if json {
        println!("{}", serde_json::to_string_pretty(&events)?);
        return Ok(());
    }
    println!(
        "{:<21} {:<9} {:<8} {:<28} {:<26} {:<24} {:<16} {:<24} {:<24} USER_AGENT",
        "TIME",
        "ACTION",
        "OUTCOME",
        "CLIENT_ID",
        "ROUTE",
        "CREDENTIAL",
        "SOURCE",
        "ERROR",
        "CHANGES"
    );
    for event in &events {
        println!("{}", row(event));
    }
    Ok(())
}

/// One line of the table; what a caller chose (its user agent, a subject) is escaped, so that
/// it cannot drive the administrator's terminal.
fn row(event: &AuditEvent) -> String {
    let text = |value: &Option<String>| printable(value.as_deref().unwrap_or("-"));
    let credential = match (&event.credential_id, &event.credential_issuer) {
        (Some(id), Some(issuer)) => printable(&format!("{id}@{issuer}")),
        (id, _) => text(id),
    };
    let changes = if event.changes.is_empty() {
        "-".to_owned()
    } else {
        let members: Vec<&str> = event
            .changes
            .iter()
            .map(|change| change.member.as_str())
            .collect();
        printable(&members.join(","))
    };
    format!(
        "{:<21} {:<9} {:<8} {:<28} {:<26} {:<24} {:<16} {:<24} {:<24} {}",
        timestamp(event.time),
        event.action.as_str(),
        event.outcome.as_str(),
        text(&event.client_id),
        text(&event.route),
        credential,
        text(&event.source_ip),
        text(&event.error),
        changes,
        text(&event.user_agent),
    )
}

/// The event of an operator's `action` on a client, route `cli`.
fn cli_event(pipeline: &Pipeline, action: Action, client_id: &ClientId) -> AuditEvent {
    AuditEvent {
        id: None,
        time: pipeline.services().clock().now(),
        action,
        outcome: Outcome::Success,
        client_id: Some(client_id.as_str().to_owned()),
        route: Some("cli".to_owned()),
        credential_id: None,
        credential_issuer: None,
        software_id: None,
        source_ip: None,
        user_agent: None,
        error: None,
        changes: Vec::new(),
    }
}

/// `clients delete`: deletes the client and records the delete, route `cli`, with it.
pub async fn delete_client(pipeline: &Pipeline, client_id: &ClientId) -> anyhow::Result<()> {
    let event = cli_event(pipeline, Action::Delete, client_id);
    let deleted = pipeline
        .services()
        .stores()
        .apply_recorded(ClientChange::Delete { client_id }, &event)
        .await?;
    if !deleted {
        bail!("no client has the id {client_id}");
    }
    log_event(&event);
    Ok(())
}

/// `clients block` (`blocked_at` set) and `clients unblock` (`None`), recorded with a `block` or
/// `unblock` event, route `cli`.
pub async fn set_blocked(
    pipeline: &Pipeline,
    client_id: &ClientId,
    blocked_at: Option<i64>,
) -> anyhow::Result<()> {
    let action = match blocked_at {
        Some(_) => Action::Block,
        None => Action::Unblock,
    };
    let event = cli_event(pipeline, action, client_id);
    let change = ClientChange::SetBlocked {
        client_id,
        blocked_at,
    };
    if !pipeline
        .services()
        .stores()
        .apply_recorded(change, &event)
        .await?
    {
        bail!("no client has the id {client_id}");
    }
    log_event(&event);
    Ok(())
}
