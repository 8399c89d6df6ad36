//! Identifiers the server issues.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A client identifier: issued by the server, never chosen by the caller (RFC 7591 §3.2.1), or
/// the https URL of a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document),
/// which no issued identifier can be mistaken for: issued ones hold no `:` or `/`.
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

/// The longest client id URL accepted: a metadata document's URL names one document, and the
/// id is stored and compared on every request.
pub const MAX_CLIENT_ID_URL_LENGTH: usize = 2048;

/// Why a string is not a client id URL (draft-ietf-oauth-client-id-metadata-document §3).
pub fn check_client_id_url(text: &str) -> Result<(), &'static str> {
    if text.len() > MAX_CLIENT_ID_URL_LENGTH {
        return Err("the client id url is too long");
    }
    let Some(rest) = text.strip_prefix("https://") else {
        return Err("a client id url must use https");
    };
    let Ok(url) = url::Url::parse(text) else {
        return Err("the client id is not a url");
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a client id url must not carry a user name or password");
    }
    if text.contains('#') {
        return Err("a client id url must not have a fragment");
    }
    // The parser reads `https:///x` as host `x`; the text must name its host itself.
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if authority_end == 0 || url.host_str().is_none_or(str::is_empty) {
        return Err("a client id url must have a host");
    }
    // The raw text, not the parsed URL: the parser removes dot segments, and the id is compared
    // as sent, so the document fetched must be the one the text names.
    let path = rest[authority_end..].split('?').next().unwrap_or("");
    if path.len() <= 1 {
        return Err("a client id url must have a path");
    }
    let dot_segment = path.split('/').any(|segment| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    });
    if dot_segment {
        return Err("a client id url must not have dot segments");
    }
    // Printable ASCII only, no space: the id travels in forms, headers and pages unencoded.
    if !text.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err("a client id url must be printable ascii without spaces");
    }
    // The parser reads `\` as `/`, so `/a\..\b` would fetch `/b` under another name.
    if text.contains('\\') {
        return Err("a client id url must not contain a backslash");
    }
    // What is fetched is the parsed URL: it must be the text itself, or the id would name one
    // document and the fetch another (an upper-case host, a default port, an encoded slash).
    if url.as_str() != text {
        return Err("a client id url must be in normalized form (lowercase host, no default port)");
    }
    Ok(())
}

impl ClientId {
    /// Accepts a non-empty string of unreserved characters, at most 255 long, or a client id
    /// URL ([`check_client_id_url`]).
    pub fn parse(text: &str) -> Option<Self> {
        let issued = text.len() <= 255 && is_unreserved(text);
        (issued || check_client_id_url(text).is_ok()).then(|| Self(text.to_owned()))
    }

    /// Whether this is the URL of a Client ID Metadata Document rather than an issued id.
    pub fn is_metadata_document(&self) -> bool {
        self.0.starts_with("https://")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_urls_follow_the_metadata_document_rules() {
        let accepted = [
            "https://app.example.com/client.json",
            "https://app.example.com:8443/oauth/client",
            "https://app.example.com/client?v=1",
            "https://127.0.0.1:9/x",
        ];
        for url in accepted {
            assert_eq!(check_client_id_url(url), Ok(()), "{url}");
            let id = ClientId::parse(url).expect(url);
            assert!(id.is_metadata_document());
        }
        let refused = [
            ("http://app.example.com/client", "https"),
            ("https://app.example.com", "path"),
            ("https://app.example.com/", "path"),
            ("https://app.example.com/?q", "path"),
            ("https://user:pw@app.example.com/client", "user name"),
            ("https://user@app.example.com/client", "user name"),
            ("https://app.example.com/client#frag", "fragment"),
            ("https://app.example.com/a/../client", "dot segments"),
            ("https://app.example.com/./client", "dot segments"),
            ("https://app.example.com/a/%2E%2e/client", "dot segments"),
            ("https://app.example.com/a b", "printable"),
            ("https:///client", "host"),
            ("https://app.example.com/a\\..\\b", "backslash"),
            ("https://evil.example\\@app.example.com/x", "backslash"),
            ("https://App.Example.com/client", "normalized"),
            ("https://app.example.com:443/client", "normalized"),
        ];
        for (url, reason) in refused {
            let error = check_client_id_url(url).expect_err(url);
            assert!(error.contains(reason), "{url}: {error}");
            assert_eq!(ClientId::parse(url), None, "{url}");
        }
        let long = format!(
            "https://app.example.com/{}",
            "a".repeat(MAX_CLIENT_ID_URL_LENGTH)
        );
        assert!(check_client_id_url(&long).is_err());
        assert!(
            !ClientId::parse("abc-123")
                .expect("issued")
                .is_metadata_document()
        );
    }
}
