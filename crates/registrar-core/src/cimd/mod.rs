//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a client whose
//! `client_id` is an https URL is registered by the JSON document at that URL.
//!
//! The document goes through the same validator steps and policies as a registration, under
//! the `cimd` route ([`crate::policy::Route::MetadataDocument`]), after the rules of this
//! module ([`document_rules`]): its `client_id` is the URL, it holds no secret, and its client
//! is a public or key-authenticated authorization code client. The client it makes is stored
//! like a registered one, with no secret and no registration access token, so every endpoint
//! finds it, an operator lists and blocks it, and several instances share it;
//! [`DocumentFreshness`] remembers for how long each document may be used before it is fetched
//! again. `Pipeline::usable_client` resolves a client id of either kind.

mod document;
mod freshness;
#[cfg(test)]
mod tests;

pub use document::{document_rules, keys_changed};
pub use freshness::{DocumentFreshness, FetchTurn};

use crate::error::StoreError;

/// `text` with every character RFC 6749 §5.2 does not allow in an `error_description`
/// (`%x20-21 / %x23-5B / %x5D-7E`) replaced: `"` by `'`, the rest by `?`. A reason may quote a
/// document's own values.
pub fn description_safe(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            '"' => '\'',
            ' '..='~' if character != '\\' => character,
            _ => '?',
        })
        .collect()
}

/// Why a client id names no client that may be used now.
#[derive(Debug, thiserror::Error)]
pub enum UnusableClient {
    /// No such client, or it is blocked or expired (the reason is logged, never told).
    #[error("the client is not registered here")]
    Unknown,
    /// The client id is a metadata document URL whose document could not be used. The text
    /// uses only the characters RFC 6749 §5.2 allows ([`description_safe`]) and says nothing
    /// about Registrar's network: it is shown on the authorization error page.
    #[error("the client metadata document cannot be used: {0}")]
    Document(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
