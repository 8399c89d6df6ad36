//! Audit events: what happened to a registration, who asked, from where, and how it ended.
//!
//! Every registration, read, update and delete the pipeline answers makes one [`AuditEvent`],
//! emitted as a structured log line ([`log_event`], target `registrar::audit`). Creates,
//! updates, deletes and refusals are also recorded in the [`EventStore`]: a change in the same
//! transaction as the client change on the built-in SQL stores, a refusal in a bounded table
//! (the newest `audit.max_refusals` kept). Reads, dry runs and token requests are logged only,
//! so their events never cost a database write (the record of a client's last use, in
//! [`lifecycle`](crate::lifecycle), is written at most once an hour per client).
//!
//! **Invariant:** an event holds no secret, token or hash: credentials are named by their
//! public handle (an initial access token's id, a bearer token's subject and issuer), and the
//! diff of an update covers the metadata and extension members, which hold none.

mod diff;
mod event;
mod log;
mod store;

pub use diff::metadata_changes;
pub use event::{Action, AuditEvent, MAX_TEXT_CHARS, MetadataChange, Outcome, Provenance, clip};
pub use log::{AUDIT_EVENTS, count_event, log_event};
pub use store::{EventFilter, EventStore, NoEvents};
