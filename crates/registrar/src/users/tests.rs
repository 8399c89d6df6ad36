//! Tests of what `registrar users` accepts: usernames, claims and passwords from stdin.

use super::*;

fn password(input: &[u8]) -> Result<String, String> {
    read_password(input).map_err(|error| format!("{error:#}"))
}

#[test]
fn the_password_is_the_first_line_without_its_line_ending() {
    for (input, expected) in [
        (&b"secret\n"[..], "secret"),
        (b"secret\r\n", "secret"),
        (b"secret", "secret"),
        (b" spaced out \n", " spaced out "),
        (b"first\nsecond\n", "first"),
        (b"ends in cr\r", "ends in cr\r"),
        (b"tab\tinside\n", "tab\tinside"),
    ] {
        assert_eq!(password(input).as_deref(), Ok(expected), "{input:?}");
    }
    let longest = "x".repeat(MAX_PASSWORD_BYTES);
    assert_eq!(password(format!("{longest}\r\n").as_bytes()), Ok(longest));
}

#[test]
fn empty_long_and_non_utf8_passwords_are_refused() {
    for (input, fragment) in [
        (&b""[..], "empty"),
        (b"\n", "empty"),
        (b"\r\n", "empty"),
        (b"\xff\xfe\n", "UTF-8"),
    ] {
        let error = password(input).unwrap_err();
        assert!(error.contains(fragment), "{input:?}: {error}");
    }
    for length in [MAX_PASSWORD_BYTES + 1, MAX_PASSWORD_BYTES + 5, 1 << 20] {
        let input = format!("{}\n", "x".repeat(length));
        let error = password(input.as_bytes()).unwrap_err();
        assert!(
            error.contains("longer than 1024 bytes"),
            "{length}: {error}"
        );
    }
}

#[test]
fn usernames_are_1_to_64_characters_without_controls_or_outer_whitespace() {
    for good in [
        "alice",
        "a",
        "Ada Lovelace",
        "ünïcødé",
        "-dash",
        "é".repeat(64).as_str(),
    ] {
        assert!(check_username(good).is_ok(), "{good:?}");
    }
    for (bad, fragment) in [
        ("", "1 to 64"),
        (&*"a".repeat(65), "1 to 64"),
        (" alice", "whitespace"),
        ("alice ", "whitespace"),
        ("\u{a0}alice", "whitespace"),
        ("ali\tce", "control"),
        ("ali\nce", "control"),
        ("ali\u{7f}ce", "control"),
    ] {
        let error = format!("{:#}", check_username(bad).unwrap_err());
        assert!(error.contains(fragment), "{bad:?}: {error}");
    }
}

#[test]
fn names_and_emails_get_a_sanity_check() {
    assert!(check_name("Alice Liddell").is_ok());
    assert!(check_name(" ").is_err());
    assert!(check_name("a\u{1b}[31m").is_err());
    assert!(check_email("alice@example.com").is_ok());
    for bad in [
        "alice",
        "@example.com",
        "alice@",
        "a@b@c",
        "al ice@example.com",
    ] {
        assert!(check_email(bad).is_err(), "{bad:?}");
    }
}
