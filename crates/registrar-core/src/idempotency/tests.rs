//! The key rules and the canonical form of a request, as tables.

use serde_json::{Map, Value, json};

use super::{IdempotencyKey, canonical};

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

#[test]
fn keys_are_one_to_255_visible_ascii_characters() {
    let long = "k".repeat(255);
    let too_long = "k".repeat(256);
    for (key, accepted) in [
        ("a", true),
        ("retry-1", true),
        (long.as_str(), true),
        ("", false),
        (too_long.as_str(), false),
        ("with space", false),
        ("tab\tkey", false),
        ("caf\u{e9}", false),
        ("line\nbreak", false),
    ] {
        assert_eq!(IdempotencyKey::parse(key).is_ok(), accepted, "{key:?}");
    }
}

#[test]
fn anonymous_keys_must_look_like_128_random_bits() {
    for (key, unguessable) in [
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", true),
        ("8E03978E-40D5-43E8-BC93-6894A57F9324", true),
        ("0123456789abcdef0123456789abcdef", true),
        ("AbCdEfGhIjKlMnOpQrStUv", true),
        ("AbCdEfGhIjKlMnOpQrStU", false),
        ("retry-1", false),
        // Not a UUID, but 35 base64url characters: enough either way.
        ("8e03978e-40d5-43e8-bc93-6894a57f932", true),
        ("8e03978e-40d5-43e8", false),
        ("{8e03978e-40d5-43e8-bc93-6894a57f9324}", false),
        ("8e03978e40d543e8bc93", false),
        ("AbCdEfGhIjKlMnOpQrStUv.", false),
    ] {
        let parsed = IdempotencyKey::parse(key).expect("well-formed");
        assert_eq!(parsed.looks_unguessable(), unguessable, "{key}");
    }
}

#[test]
fn the_debug_form_hides_the_key() {
    let key = IdempotencyKey::parse("secret-key").expect("well-formed");
    assert_eq!(format!("{key:?}"), "IdempotencyKey(..)");
}

#[test]
fn member_order_and_white_space_do_not_change_the_canonical_form() {
    let one =
        object(serde_json::from_str(r#"{"b": [1, {"y": 2, "x": "é"}], "a": "x"}"#).expect("json"));
    let other = object(serde_json::from_str(r#"{"a":"x","b":[1,{"x":"é","y":2}]}"#).expect("json"));
    assert_eq!(canonical(&one), canonical(&other));
    assert_eq!(canonical(&one), r#"{"a":"x","b":[1,{"x":"é","y":2}]}"#);
}

#[test]
fn values_and_array_order_change_the_canonical_form() {
    let base = canonical(&object(
        json!({"redirect_uris": ["https://a/cb", "https://b/cb"]}),
    ));
    for other in [
        json!({"redirect_uris": ["https://b/cb", "https://a/cb"]}),
        json!({"redirect_uris": ["https://a/cb"]}),
        json!({"redirect_uris": ["https://a/cb", "https://b/cb"], "client_name": "x"}),
        json!({"redirect_uris": "https://a/cb https://b/cb"}),
    ] {
        assert_ne!(canonical(&object(other.clone())), base, "{other}");
    }
}
