//! `TokenError` codes and the conversion of assertion refusals.

use expect_test::expect;

use crate::error::StoreError;
use crate::token::{AssertionError, KeyError, SigningAlgorithm, TokenError};

#[test]
fn token_errors_carry_their_rfc_6749_codes() {
    let errors = [
        TokenError::InvalidRequest("x".to_owned()),
        TokenError::invalid_client("x"),
        TokenError::invalid_client_http("x"),
        TokenError::InvalidGrant("x".to_owned()),
        TokenError::UnauthorizedClient("x".to_owned()),
        TokenError::UnsupportedGrantType("x".to_owned()),
        TokenError::InvalidScope("x".to_owned()),
        TokenError::TemporarilyUnavailable,
        TokenError::Key(KeyError::NoActiveKey(SigningAlgorithm::Es256)),
        TokenError::Store(StoreError::Unavailable("down".to_owned())),
    ];
    let codes: Vec<&str> = errors.iter().map(TokenError::code).collect();
    expect![[r#"
        [
            "invalid_request",
            "invalid_client",
            "invalid_client",
            "invalid_grant",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "temporarily_unavailable",
            "server_error",
            "server_error",
        ]
    "#]]
    .assert_debug_eq(&codes);
}

#[test]
fn assertion_refusals_become_invalid_client_without_http_auth() {
    let error = TokenError::from(AssertionError::NoMatchingKey);
    let TokenError::InvalidClient {
        description,
        used_http_auth,
    } = &error
    else {
        panic!("expected invalid_client, got {error:?}");
    };
    assert!(!used_http_auth);
    expect!["no key in the client's jwks fits the client assertion's kid and alg"]
        .assert_eq(description);
}
