//! `SecretCipher`: round trips, and every alteration refused.

use super::cipher;
use crate::token::SecretCipher;
use crate::token::jwt::{base64url, from_base64url};

#[test]
fn cipher_round_trips_with_the_same_associated_data() {
    let sealed = cipher().encrypt(b"client secret", b"client-1");
    assert_eq!(
        cipher().decrypt(&sealed, b"client-1").as_deref(),
        Some(&b"client secret"[..])
    );
}

#[test]
fn cipher_output_is_version_nonce_ciphertext_and_tag_in_base64url() {
    let sealed = cipher().encrypt(b"0123456789", b"client-1");
    let bytes = from_base64url(&sealed).unwrap();
    assert_eq!(bytes.len(), 1 + 24 + 10 + 16);
    assert_eq!(bytes[0], 1);
    assert!(!sealed.contains("0123456789"));
}

#[test]
fn cipher_draws_a_fresh_nonce_for_every_encryption() {
    let cipher = cipher();
    assert_ne!(
        cipher.encrypt(b"same", b"ad"),
        cipher.encrypt(b"same", b"ad")
    );
}

#[test]
fn cipher_refuses_other_associated_data() {
    let sealed = cipher().encrypt(b"client secret", b"client-1");
    assert_eq!(cipher().decrypt(&sealed, b"client-2"), None);
    assert_eq!(cipher().decrypt(&sealed, b""), None);
}

#[test]
fn cipher_refuses_another_server_secret() {
    let sealed = cipher().encrypt(b"client secret", b"client-1");
    assert_eq!(
        SecretCipher::new(b"another server secret").decrypt(&sealed, b"client-1"),
        None
    );
}

#[test]
fn cipher_refuses_any_altered_byte() {
    let sealed = cipher().encrypt(b"client secret", b"client-1");
    let bytes = from_base64url(&sealed).unwrap();
    for index in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[index] ^= 0x01;
        assert_eq!(
            cipher().decrypt(&base64url(&altered), b"client-1"),
            None,
            "byte {index}"
        );
    }
}

#[test]
fn cipher_refuses_truncated_and_malformed_input() {
    let sealed = cipher().encrypt(b"client secret", b"client-1");
    let bytes = from_base64url(&sealed).unwrap();
    assert_eq!(
        cipher().decrypt(&base64url(&bytes[..bytes.len() - 1]), b"client-1"),
        None
    );
    assert_eq!(
        cipher().decrypt(&base64url(&bytes[..40]), b"client-1"),
        None
    );
    assert_eq!(cipher().decrypt("", b"client-1"), None);
    assert_eq!(cipher().decrypt("not base64url!", b"client-1"), None);
}

#[test]
fn cipher_debug_shows_no_key() {
    assert_eq!(format!("{:?}", cipher()), "SecretCipher(..)");
}
