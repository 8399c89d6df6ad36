//! Bearer access tokens of trusted external issuers: each way one is accepted or refused.

use expect_test::{Expect, expect};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::{
    ISSUER, JWKS_URI, NOW, SwappableKeySource, TestKey, assert_description_charset, encoded_parts,
    issuer_jwks, keys, patched, signed, signed_raw, trusted_issuer,
};
use crate::trust::{
    BearerError, IssuerKeys, NoKeySource, TokenIssuer, VerifiedBearer, verify_bearer_token,
};

const AUDIENCE: &str = "https://registrar.example/connect/dcr";
const LEEWAY: i64 = 30;

/// The claims of a good access token: issued now, valid five minutes.
fn good_claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "user-7",
        "aud": [AUDIENCE, "https://api.example"],
        "client_id": "admin-console",
        "scope": "dcr:register dcr:manage",
        "iat": NOW,
        "exp": NOW + 300,
        "jti": "token-1",
    })
}

fn token_issuers() -> Vec<TokenIssuer> {
    vec![TokenIssuer {
        trusted: trusted_issuer(),
        audience: vec![AUDIENCE.to_owned()],
    }]
}

/// A token signed by `key` with `typ: at+jwt`, its claims patched.
fn token(key: &TestKey, claims_patch: Value) -> String {
    signed(key, Some("at+jwt"), &patched(good_claims(), &claims_patch))
}

fn render(result: Result<VerifiedBearer, BearerError>) -> String {
    match result {
        Ok(verified) => format!(
            "ok: iss {}, sub {}, client_id {}, scopes {:?}, expires NOW+{}",
            verified.issuer,
            verified.subject,
            verified.client_id.as_deref().unwrap_or("(none)"),
            verified.scopes,
            verified.expires_at - NOW
        ),
        Err(error) => {
            let description = error.to_string();
            assert_description_charset(&description);
            format!("{error:?}")
        }
    }
}

async fn check_with(token: &str, issuers: &[TokenIssuer], expected: Expect) {
    let result = verify_bearer_token(token, issuers, &NoKeySource, NOW, LEEWAY).await;
    expected.assert_eq(&render(result));
}

async fn check(token: &str, expected: Expect) {
    check_with(token, &token_issuers(), expected).await;
}

#[tokio::test]
async fn bearer_token_of_a_trusted_issuer_verifies_with_each_alg() {
    let keys = keys();
    for key in [&keys.es256, &keys.rs256, &keys.eddsa] {
        check(
            &token(key, json!({})),
            expect![[r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes ["dcr:register", "dcr:manage"], expires NOW+300"#]],
        )
        .await;
    }
}

#[tokio::test]
async fn bearer_token_keys_may_come_from_the_key_source() {
    let mut issuers = token_issuers();
    issuers[0].trusted.keys = IssuerKeys::Uri(JWKS_URI.to_owned());
    let key_source = SwappableKeySource::new(issuer_jwks());
    let jwt = token(&keys().es256, json!({}));
    let result = verify_bearer_token(&jwt, &issuers, &key_source, NOW, LEEWAY).await;
    expect![[r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes ["dcr:register", "dcr:manage"], expires NOW+300"#]]
        .assert_eq(&render(result));
    assert_eq!(
        key_source.calls(),
        [(JWKS_URI.to_owned(), Some("es256-1".to_owned()))]
    );
}

#[tokio::test]
async fn bearer_token_for_another_audience_is_invalid() {
    let key = &keys().es256;
    check(
        &token(key, json!({ "aud": "https://api.example" })),
        expect![[r#"Invalid("the access token's aud does not name this server")"#]],
    )
    .await;
    check(
        &token(key, json!({ "aud": ["https://api.example", 7] })),
        expect![[r#"Invalid("the access token's aud does not name this server")"#]],
    )
    .await;
    check(
        &token(key, json!({ "aud": null })),
        expect![[r#"Invalid("the access token's aud does not name this server")"#]],
    )
    .await;
    check(
        &token(key, json!({ "aud": format!("{AUDIENCE}/") })),
        expect![[r#"Invalid("the access token's aud does not name this server")"#]],
    )
    .await;
    check(
        &token(key, json!({ "aud": AUDIENCE })),
        expect![[r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes ["dcr:register", "dcr:manage"], expires NOW+300"#]],
    )
    .await;
}

#[tokio::test]
async fn bearer_token_without_exp_is_invalid() {
    check(
        &token(&keys().es256, json!({ "exp": null })),
        expect![[r#"Invalid("the access token has no exp")"#]],
    )
    .await;
}

#[tokio::test]
async fn expired_or_early_bearer_token_is_invalid_beyond_the_leeway() {
    let key = &keys().es256;
    check(
        &token(key, json!({ "iat": NOW - 400, "exp": NOW - LEEWAY })),
        expect![[r#"Invalid("the access token has expired")"#]],
    )
    .await;
    check(
        &token(key, json!({ "iat": NOW - 400, "exp": NOW - LEEWAY + 1 })),
        expect![[r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes ["dcr:register", "dcr:manage"], expires NOW+-29"#]],
    )
    .await;
    check(
        &token(key, json!({ "nbf": NOW + LEEWAY + 1 })),
        expect![[r#"Invalid("the access token is not valid yet (nbf)")"#]],
    )
    .await;
    check(
        &token(key, json!({ "iat": NOW + LEEWAY + 1 })),
        expect![[r#"Invalid("the access token was issued in the future (iat)")"#]],
    )
    .await;
}

#[tokio::test]
async fn bearer_token_of_an_untrusted_issuer_is_refused() {
    let keys = keys();
    check(
        &token(&keys.attacker, json!({ "iss": "https://attacker.example" })),
        expect!["UntrustedIssuer"],
    )
    .await;
    check_with(
        &token(&keys.es256, json!({})),
        &[],
        expect!["UntrustedIssuer"],
    )
    .await;
    check(
        &token(&keys.attacker, json!({})),
        expect![[r#"Invalid("no key of issuer 'https://directory.example' has kid 'attacker-1' and fits alg 'ES256'")"#]],
    )
    .await;
    check(
        &token(&keys.es256, json!({ "iss": null })),
        expect![[r#"Invalid("the access token has no iss")"#]],
    )
    .await;
}

#[tokio::test]
async fn bearer_token_scope_is_split_at_spaces_with_scp_as_a_fallback() {
    let key = &keys().es256;
    let cases = [
        (
            json!({ "scope": "a  b c " }),
            expect![[
                r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes ["a", "b", "c"], expires NOW+300"#
            ]],
        ),
        (
            json!({ "scope": "" }),
            expect![[
                r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes [], expires NOW+300"#
            ]],
        ),
        (
            json!({ "scope": null }),
            expect![[
                r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes [], expires NOW+300"#
            ]],
        ),
        (
            json!({ "scope": null, "scp": ["x", "y"] }),
            expect![[
                r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes ["x", "y"], expires NOW+300"#
            ]],
        ),
        (
            json!({ "scope": "a", "scp": ["x"] }),
            expect![[
                r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes ["a"], expires NOW+300"#
            ]],
        ),
        (
            json!({ "scope": ["a"] }),
            expect![[r#"Invalid("the access token's scope must be a string")"#]],
        ),
        (
            json!({ "scope": null, "scp": "x y" }),
            expect![[r#"Invalid("the access token's scp must be an array of strings")"#]],
        ),
        (
            json!({ "scope": null, "scp": ["x", 1] }),
            expect![[r#"Invalid("the access token's scp must be an array of strings")"#]],
        ),
    ];
    for (patch, expected) in cases {
        check(&token(key, patch), expected).await;
    }
}

#[tokio::test]
async fn bearer_token_needs_a_string_sub_and_may_omit_client_id() {
    let key = &keys().es256;
    check(
        &token(key, json!({ "sub": null })),
        expect![[r#"Invalid("the access token has no sub")"#]],
    )
    .await;
    check(
        &token(key, json!({ "sub": 7 })),
        expect![[r#"Invalid("the access token's sub must be a string")"#]],
    )
    .await;
    check(
        &token(key, json!({ "client_id": null })),
        expect![[r#"ok: iss https://directory.example, sub user-7, client_id (none), scopes ["dcr:register", "dcr:manage"], expires NOW+300"#]],
    )
    .await;
    check(
        &token(key, json!({ "client_id": ["admin-console"] })),
        expect![[r#"Invalid("the access token's client_id must be a string")"#]],
    )
    .await;
}

#[tokio::test]
async fn bearer_token_typ_must_name_an_access_token_or_jwt() {
    let key = &keys().es256;
    for typ in [
        Some("at+jwt"),
        Some("application/AT+JWT"),
        Some("JWT"),
        None,
    ] {
        check(
            &signed(key, typ, &good_claims()),
            expect![[r#"ok: iss https://directory.example, sub user-7, client_id admin-console, scopes ["dcr:register", "dcr:manage"], expires NOW+300"#]],
        )
        .await;
    }
    for typ in ["secevent+jwt", "JOSE", "application/jwt+at", ""] {
        check(
            &signed(key, Some(typ), &good_claims()),
            expect![[r#"Invalid("the access token's typ must be at+jwt")"#]],
        )
        .await;
    }
}

#[tokio::test]
async fn bearer_token_with_none_hmac_or_crit_is_invalid() {
    let keys = keys();
    let claims = good_claims().to_string();
    check(
        &format!("{}.c2ln", encoded_parts(&[r#"{"alg":"none"}"#, &claims])),
        expect![[r#"Invalid("an unsigned access token (alg none) is not accepted")"#]],
    )
    .await;
    let mut issuers = token_issuers();
    issuers[0].trusted.algs.push("HS256".to_owned());
    let hmac = signed_raw(
        &json!({ "alg": "HS256", "kid": keys.rs256.kid, "typ": "at+jwt" }),
        &good_claims(),
        &EncodingKey::from_secret(&keys.rs256.public_key_bytes),
        Algorithm::HS256,
    );
    check_with(
        &hmac,
        &issuers,
        expect![[r#"Invalid("the access token's alg 'HS256' is an HMAC alg; only public key signatures are accepted")"#]],
    )
    .await;
    let crit = signed_raw(
        &json!({ "alg": "ES256", "kid": keys.es256.kid, "crit": ["b64"], "b64": false }),
        &good_claims(),
        &keys.es256.encoding_key,
        Algorithm::ES256,
    );
    check(
        &crit,
        expect![[r#"Invalid("the access token's crit header names extensions this server does not support")"#]],
    )
    .await;
}

#[tokio::test]
async fn opaque_token_is_not_a_jwt() {
    for opaque in ["", "iat_4f1c0b6e9a", "a.b", "a.b.c.d.e", "a.b=.c"] {
        check(opaque, expect!["NotAJwt"]).await;
    }
    // Shaped like a JWT but not one: refused, not mistaken for an opaque token.
    check(
        "abc.def.ghi",
        expect![[r#"Invalid("the access token's header is not valid")"#]],
    )
    .await;
}
