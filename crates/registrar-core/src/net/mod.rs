//! Outbound URLs (security.md T1/T2): the addresses and host names Registrar must never be
//! pointed at, the operator's `host:port` exceptions to that rule, and the [`DocumentSource`]
//! through which the server fetches a JSON document a client registered.
//!
//! The server's fetcher applies [`is_special_use`] to every address it connects to; the
//! registration rules (`validate::outbound_hosts`) apply [`is_forbidden_target`] to every URL a
//! client registers for the server or a browser to fetch, so an IP literal or `localhost` is
//! refused before anything is stored.

mod address;
mod allowed_host;
mod document;
mod host;
#[cfg(test)]
mod tests;

pub use address::is_special_use;
pub use allowed_host::AllowedHost;
pub use document::{ClientDocument, DocumentError, DocumentSource, NoDocumentSource};
pub use host::{is_forbidden_host, is_forbidden_target, is_localhost_name};
