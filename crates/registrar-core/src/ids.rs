//! Identifiers the server issues.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A client identifier. Issued by the server, never chosen by the caller (RFC 7591 §3.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

/// The characters of RFC 3986 `unreserved`: safe in HTTP Basic and in a URL path without
/// encoding, which real clients forget to do.
pub fn is_unreserved(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl ClientId {
    /// Accepts a non-empty string of unreserved characters, at most 255 long.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() <= 255 && is_unreserved(text)).then(|| Self(text.to_owned()))
    }

    /// The identifier as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}
