//! The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header §2.1): at most
//! one, whose value is a structured-field string (`"…"`, RFC 8941 §3.3.3) or, as many clients
//! send it, the bare key.
//!
//! The string form is parsed here rather than by an RFC 8941 crate: the one grammar rule needed is
//! a quoted string with two escapes, and the bare form, which such a parser refuses (a UUID that
//! starts with a digit is not a valid item), must be accepted anyway.

use axum::http::HeaderMap;
use registrar_core::IdempotencyKey;
use registrar_core::RegistrationError;
use registrar_core::error::IdempotencyError;

use crate::error::ApiError;

/// The header's name.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The header of a replayed answer, so a client can tell a retry's answer from a fresh one.
pub(crate) const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The request's key; `None` without the header; `400 invalid_request` for two headers or a
/// value that is neither form.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(malformed("send at most one Idempotency-Key header"));
    }
    let Ok(text) = value.to_str() else {
        return Err(malformed(
            "the Idempotency-Key must be visible ASCII characters without spaces",
        ));
    };
    let text = text.trim_matches(' ');
    let key = match text.strip_prefix('"') {
        Some(quoted) => sf_string(quoted)?,
        None => text.to_owned(),
    };
    IdempotencyKey::parse(&key)
        .map(Some)
        .map_err(|error| ApiError::Registration(RegistrationError::IdempotencyKey(error)))
}

/// The content of an sf-string after its opening quote: `\"` and `\\` are the only escapes, and
/// nothing may follow the closing quote (parameters included: a key has none).
fn sf_string(quoted: &str) -> Result<String, ApiError> {
    let mut content = String::with_capacity(quoted.len());
    let mut characters = quoted.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => match characters.next() {
                Some(escaped @ ('"' | '\\')) => content.push(escaped),
                _ => return Err(malformed("the quoted Idempotency-Key has a bad escape")),
            },
            '"' if characters.as_str().is_empty() => return Ok(content),
            '"' => {
                return Err(malformed("nothing may follow the quoted Idempotency-Key"));
            }
            ' '..='~' => content.push(character),
            _ => break,
        }
    }
    Err(malformed(
        "the quoted Idempotency-Key is not a valid string",
    ))
}

fn malformed(description: &str) -> ApiError {
    ApiError::Registration(RegistrationError::IdempotencyKey(
        IdempotencyError::Malformed(description.to_owned()),
    ))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::{IDEMPOTENCY_KEY, idempotency_key};

    fn key_of(values: &[&[u8]]) -> Result<Option<String>, ()> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                IDEMPOTENCY_KEY,
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        idempotency_key(&headers)
            .map(|key| key.map(|key| key.as_str().to_owned()))
            .map_err(|_| ())
    }

    #[test]
    fn the_bare_and_the_quoted_forms_give_the_same_key() {
        for (values, expected) in [
            (&[][..], Ok(None)),
            (&[&b"abc-123"[..]][..], Ok(Some("abc-123"))),
            (&[&b"\"abc-123\""[..]][..], Ok(Some("abc-123"))),
            (&[&b"\"a\\\"b\\\\c\""[..]][..], Ok(Some("a\"b\\c"))),
            (&[&b" abc "[..]][..], Ok(Some("abc"))),
            (&[&b"a"[..], &b"b"[..]][..], Err(())),
            (&[&b""[..]][..], Err(())),
            (&[&b"\"\""[..]][..], Err(())),
            (&[&b"two words"[..]][..], Err(())),
            (&[&b"\"two words\""[..]][..], Err(())),
            (&[&b"\"open"[..]][..], Err(())),
            (&[&b"\"a\";p=1"[..]][..], Err(())),
            (&[&b"\"a\\nb\""[..]][..], Err(())),
            (&[&b"caf\xc3\xa9"[..]][..], Err(())),
            (&[&b"\"caf\xc3\xa9\""[..]][..], Err(())),
        ] {
            let expected = expected.map(|key| key.map(str::to_owned));
            assert_eq!(key_of(values), expected, "{values:?}");
        }
    }

    #[test]
    fn keys_longer_than_255_characters_are_refused() {
        let longest = "k".repeat(255);
        let too_long = "k".repeat(256);
        assert!(key_of(&[longest.as_bytes()]).is_ok());
        assert!(key_of(&[too_long.as_bytes()]).is_err());
    }
}
