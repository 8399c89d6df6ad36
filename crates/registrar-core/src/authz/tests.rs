use super::*;

#[test]
fn s256_is_the_only_method() {
    // RFC 7636 Appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert_eq!(check_code_challenge(Some(challenge), Some("S256")), Ok(()));
    assert!(verify_code_verifier(verifier, challenge));
    assert!(!verify_code_verifier(
        &verifier.replace('d', "e"),
        challenge
    ));
    assert!(!verify_code_verifier("short", challenge));
    assert_eq!(
        check_code_challenge(Some(challenge), None),
        Err(PkceError::Method)
    );
    assert_eq!(
        check_code_challenge(Some(challenge), Some("plain")),
        Err(PkceError::Method)
    );
    assert_eq!(
        check_code_challenge(None, Some("S256")),
        Err(PkceError::Missing)
    );
    assert_eq!(
        check_code_challenge(Some("abc"), Some("S256")),
        Err(PkceError::Malformed)
    );
}

#[test]
fn redirect_uris_match_exactly_except_the_loopback_port() {
    let registered = vec![
        "https://app.example/cb".to_owned(),
        "http://127.0.0.1/callback".to_owned(),
        "http://localhost:3000/callback".to_owned(),
    ];
    let matched = |uri: &str| match_redirect_uri(&registered, uri);
    assert_eq!(
        matched("https://app.example/cb"),
        Some("https://app.example/cb")
    );
    assert_eq!(matched("https://app.example/cb/"), None);
    assert_eq!(matched("https://app.example/cb?x=1"), None);
    assert_eq!(matched("https://app.example:444/cb"), None);
    assert_eq!(matched("https://APP.example/cb"), None);
    assert_eq!(
        matched("http://127.0.0.1:51234/callback"),
        Some("http://127.0.0.1/callback")
    );
    assert_eq!(
        matched("http://localhost:8123/callback"),
        Some("http://localhost:3000/callback")
    );
    assert_eq!(matched("http://127.0.0.1:51234/other"), None);
    assert_eq!(matched("http://127.0.0.1:51234/callback#x"), None);
    assert_eq!(matched("http://user@127.0.0.1:51234/callback"), None);
    assert_eq!(matched("http://127.0.0.2:51234/callback"), None);
    assert_eq!(matched("https://127.0.0.1:51234/callback"), None);
    assert_eq!(matched("http://evil.example/callback"), None);
}

#[test]
fn passwords_hash_with_argon2id_and_verify() {
    let hash = hash_password("correct horse", &crate::secrets::OsRandom).unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(verify_password("correct horse", &hash));
    assert!(!verify_password("wrong horse", &hash));
    assert!(!verify_password("", &hash));
    assert!(!verify_password("correct horse", "not a hash"));
    assert!(hash_password("", &crate::secrets::OsRandom).is_err());
}

#[test]
fn a_users_debug_leaves_out_the_password_hash() {
    let hash = hash_password("correct horse", &crate::secrets::OsRandom).unwrap();
    let user = User {
        id: "user-id".to_owned(),
        username: "alice".to_owned(),
        password_hash: hash.clone(),
        created_at: 1_700_000_000,
        name: None,
        email: None,
        email_verified: false,
    };
    let debug = format!("{user:?}");
    assert!(
        !debug.contains(&hash) && !debug.contains("argon2"),
        "{debug}"
    );
    assert!(
        debug.contains("alice") && debug.contains("password_hash"),
        "{debug}"
    );
}

#[test]
fn at_hash_is_the_left_half_of_the_digest() {
    // OIDC Core §A.3's example access token and at_hash (RS256).
    assert_eq!(
        token_hash_claim(
            crate::token::SigningAlgorithm::Rs256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        ),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
}
