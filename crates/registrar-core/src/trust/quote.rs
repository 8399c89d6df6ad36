//! Values quoted into error descriptions: RFC 6749 §5.2 allows only printable ASCII without `"`
//! and `\`, and a value from a JWT is attacker-chosen, so it is bounded and filtered first.

/// The longest part of a value shown in a description.
const MAX_QUOTED_CHARS: usize = 64;

/// `value` between single quotes: at most [`MAX_QUOTED_CHARS`] characters, each one outside the
/// RFC 6749 §5.2 set (and the quote itself) replaced by `?`, and `...` when it was cut.
pub(crate) fn quoted(value: &str) -> String {
    let mut shown: String = value
        .chars()
        .take(MAX_QUOTED_CHARS)
        .map(|character| match character {
            ' '..='~' if !matches!(character, '"' | '\\' | '\'') => character,
            _ => '?',
        })
        .collect();
    if value.chars().nth(MAX_QUOTED_CHARS).is_some() {
        shown.push_str("...");
    }
    format!("'{shown}'")
}
