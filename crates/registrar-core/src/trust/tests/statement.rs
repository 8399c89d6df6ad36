//! Software statements: each way one is accepted or refused, through one helper.

use expect_test::{Expect, expect};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::{
    FailingReplayCache, ISSUER, JWKS_URI, MemoryReplayCache, NOW, SwappableKeySource, TestKey,
    assert_description_charset, encoded_parts, issuer_jwks, jwks, keys, patched, signed,
    signed_raw, trusted_issuer,
};
use crate::RegistrationError;
use crate::token::ReplayCache;
use crate::trust::{
    IssuerKeys, KeySource, NoKeySource, StatementError, StatementIssuer, StatementMode,
    StatementSettings, VerifiedStatement, verify_software_statement,
};

/// The claims of a good statement: issued now, valid ten minutes.
fn good_claims() -> Value {
    json!({
        "iss": ISSUER,
        "software_id": "4NRB1-0XZABZI9E6-5SM3R",
        "software_version": "2.1",
        "client_name": "Example Statement-based Client",
        "client_uri": "https://client.example.net/",
        "redirect_uris": ["https://client.example.net/cb"],
        "iat": NOW,
        "exp": NOW + 600,
        "jti": "statement-1",
    })
}

/// A statement signed by `key` (header `alg`, `kid`, `typ: JWT`), its claims patched; `null` in
/// the patch removes a claim.
fn statement(key: &TestKey, claims_patch: Value) -> String {
    signed(key, Some("JWT"), &patched(good_claims(), &claims_patch))
}

/// A statement with the header given exactly, signed by `key` as its own algorithm.
fn statement_with_header(key: &TestKey, header: Value, claims_patch: Value) -> String {
    signed_raw(
        &header,
        &patched(good_claims(), &claims_patch),
        &key.encoding_key,
        key.algorithm,
    )
}

fn statement_issuer() -> StatementIssuer {
    StatementIssuer {
        trusted: trusted_issuer(),
        authorizes_registration: true,
        single_use: false,
        software_ids: None,
        max_age: None,
    }
}

/// Everything a statement is verified against; tests change one thing.
struct Case {
    settings: StatementSettings,
    key_source: SwappableKeySource,
    replay: MemoryReplayCache,
    now: i64,
}

impl Case {
    /// Statements accepted from the one trusted issuer, whose keys are inline.
    fn new() -> Self {
        Self {
            settings: StatementSettings {
                mode: StatementMode::Accept,
                issuers: vec![statement_issuer()],
                ..StatementSettings::default()
            },
            key_source: SwappableKeySource::new(issuer_jwks()),
            replay: MemoryReplayCache::default(),
            now: NOW,
        }
    }

    /// The same, with the issuer's keys at [`JWKS_URI`] behind the swappable key source.
    fn with_key_uri(publishing: Value) -> Self {
        let mut case = Self::new();
        case.key_source = SwappableKeySource::new(publishing);
        case.issuer().trusted.keys = IssuerKeys::Uri(JWKS_URI.to_owned());
        case
    }

    fn issuer(&mut self) -> &mut StatementIssuer {
        &mut self.settings.issuers[0]
    }

    async fn verify(&self, jwt: &str) -> Result<VerifiedStatement, StatementError> {
        self.verify_with(jwt, &self.key_source, &self.replay).await
    }

    async fn verify_with(
        &self,
        jwt: &str,
        key_source: &dyn KeySource,
        replay: &dyn ReplayCache,
    ) -> Result<VerifiedStatement, StatementError> {
        verify_software_statement(jwt, &self.settings, key_source, replay, self.now).await
    }

    async fn check(&self, jwt: &str, expected: Expect) {
        expected.assert_eq(&render(self.verify(jwt).await));
    }
}

fn render(result: Result<VerifiedStatement, StatementError>) -> String {
    match result {
        Ok(verified) => format!(
            "ok: iss {}, software_id {}, authorizes_registration {}",
            verified.issuer,
            verified.software_id.as_deref().unwrap_or("(none)"),
            verified.authorizes_registration
        ),
        Err(error) => {
            let description = error.to_string();
            assert_description_charset(&description);
            format!("{}: {description}", error.code())
        }
    }
}

/// A statement row with the default case.
async fn check(jwt: &str, expected: Expect) {
    Case::new().check(jwt, expected).await;
}

// Accepted statements.

#[tokio::test]
async fn statement_signed_with_each_alg_of_a_trusted_issuer_verifies() {
    let keys = keys();
    for key in [&keys.es256, &keys.rs256, &keys.eddsa] {
        check(
            &statement(key, json!({})),
            expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
        )
        .await;
    }
}

#[tokio::test]
async fn verified_statement_returns_every_claim_and_the_jwt_unmodified() {
    let jwt = statement(
        &keys().es256,
        json!({ "x-extension": { "nested": [1, 2] } }),
    );
    let verified = Case::new().verify(&jwt).await.unwrap();
    assert_eq!(verified.jwt, jwt);
    assert_eq!(
        Value::Object(verified.claims),
        patched(
            good_claims(),
            &json!({ "x-extension": { "nested": [1, 2] } })
        )
    );
    assert_eq!(
        verified.software_id.as_deref(),
        Some("4NRB1-0XZABZI9E6-5SM3R")
    );
}

#[tokio::test]
async fn statement_without_kid_is_verified_with_the_keys_that_fit_its_alg() {
    let keys = keys();
    for key in [&keys.es256, &keys.rs256, &keys.eddsa] {
        let header = json!({ "alg": format!("{:?}", key.algorithm) });
        check(
            &statement_with_header(key, header, json!({})),
            expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
        )
        .await;
    }
}

#[tokio::test]
async fn statement_with_only_iss_verifies_and_authorizes_only_when_its_issuer_may() {
    let mut case = Case::new();
    case.issuer().authorizes_registration = false;
    let jwt = signed(&keys().es256, None, &json!({ "iss": ISSUER }));
    case.check(
        &jwt,
        expect![
            "ok: iss https://directory.example, software_id (none), authorizes_registration false"
        ],
    )
    .await;
}

#[tokio::test]
async fn statement_is_accepted_in_require_mode_and_refused_in_ignore_mode() {
    let jwt = statement(&keys().es256, json!({}));
    let mut case = Case::new();
    case.settings.mode = StatementMode::Require;
    case.check(
        &jwt,
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    case.settings.mode = StatementMode::Ignore;
    case.check(
        &jwt,
        expect!["unapproved_software_statement: this server does not accept software statements"],
    )
    .await;
    assert_eq!(StatementSettings::default().mode, StatementMode::Ignore);
    assert_eq!(StatementSettings::default().leeway, 60);
}

// Issuer.

#[tokio::test]
async fn statement_of_an_untrusted_issuer_is_unapproved() {
    let keys = keys();
    check(
        &statement(&keys.attacker, json!({ "iss": "https://attacker.example" })),
        expect!["unapproved_software_statement: the software statement is issued by an untrusted issuer 'https://attacker.example'"],
    )
    .await;
    // The issuer is compared exactly: no case folding, no trailing-slash forgiveness.
    check(
        &statement(&keys.es256, json!({ "iss": "https://directory.example/" })),
        expect!["unapproved_software_statement: the software statement is issued by an untrusted issuer 'https://directory.example/'"],
    )
    .await;
    check(
        &statement(&keys.es256, json!({ "iss": "HTTPS://DIRECTORY.EXAMPLE" })),
        expect!["unapproved_software_statement: the software statement is issued by an untrusted issuer 'HTTPS://DIRECTORY.EXAMPLE'"],
    )
    .await;
}

#[tokio::test]
async fn statement_without_a_string_iss_is_invalid() {
    let keys = keys();
    check(
        &statement(&keys.es256, json!({ "iss": null })),
        expect!["invalid_software_statement: the software statement has no iss"],
    )
    .await;
    check(
        &statement(&keys.es256, json!({ "iss": ["https://directory.example"] })),
        expect!["invalid_software_statement: the software statement's iss must be a string"],
    )
    .await;
}

#[tokio::test]
async fn trusted_iss_signed_by_another_key_is_invalid() {
    let keys = keys();
    // The attacker names the trusted issuer and their own kid, or a kid of the issuer.
    check(
        &statement(&keys.attacker, json!({})),
        expect!["invalid_software_statement: no key of issuer 'https://directory.example' has kid 'attacker-1' and fits alg 'ES256'"],
    )
    .await;
    let header = json!({ "alg": "ES256", "kid": keys.es256.kid });
    check(
        &statement_with_header(&keys.attacker, header, json!({})),
        expect!["invalid_software_statement: the software statement's signature does not verify"],
    )
    .await;
    let header = json!({ "alg": "ES256" });
    check(
        &statement_with_header(&keys.attacker, header, json!({})),
        expect!["invalid_software_statement: the software statement's signature does not verify"],
    )
    .await;
}

#[tokio::test]
async fn statement_whose_payload_was_changed_after_signing_is_invalid() {
    let jwt = statement(&keys().es256, json!({}));
    let [header, _, signature] = <[&str; 3]>::try_from(jwt.split('.').collect::<Vec<_>>()).unwrap();
    let forged_claims = patched(good_claims(), &json!({ "client_name": "Forged" })).to_string();
    let forged_payload = encoded_parts(&[&forged_claims]);
    check(
        &format!("{header}.{forged_payload}.{signature}"),
        expect!["invalid_software_statement: the software statement's signature does not verify"],
    )
    .await;
    check(
        &format!("{header}.{forged_payload}."),
        expect!["invalid_software_statement: the software statement's signature does not verify"],
    )
    .await;
}

// Time.

#[tokio::test]
async fn expired_statement_is_invalid_beyond_the_leeway() {
    let key = &keys().es256;
    check(
        &statement(key, json!({ "iat": NOW - 700, "exp": NOW - 61 })),
        expect!["invalid_software_statement: the software statement has expired"],
    )
    .await;
    check(
        &statement(key, json!({ "iat": NOW - 700, "exp": NOW - 60 })),
        expect!["invalid_software_statement: the software statement has expired"],
    )
    .await;
    check(
        &statement(key, json!({ "iat": NOW - 700, "exp": NOW - 59 })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    check(
        &statement(key, json!({ "exp": "tomorrow" })),
        expect!["invalid_software_statement: the software statement's exp is not a number"],
    )
    .await;
}

#[tokio::test]
async fn statement_without_exp_verifies() {
    check(
        &statement(&keys().es256, json!({ "exp": null })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
}

#[tokio::test]
async fn statement_not_yet_valid_is_invalid_beyond_the_leeway() {
    let key = &keys().es256;
    check(
        &statement(key, json!({ "nbf": NOW + 61 })),
        expect!["invalid_software_statement: the software statement is not valid yet (nbf)"],
    )
    .await;
    check(
        &statement(key, json!({ "nbf": NOW + 60 })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
}

#[tokio::test]
async fn statement_issued_in_the_future_is_invalid_beyond_the_leeway() {
    let key = &keys().es256;
    check(
        &statement(key, json!({ "iat": NOW + 61 })),
        expect![
            "invalid_software_statement: the software statement was issued in the future (iat)"
        ],
    )
    .await;
    check(
        &statement(key, json!({ "iat": NOW + 60 })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
}

#[tokio::test]
async fn statement_older_than_max_age_is_invalid() {
    let key = &keys().es256;
    let mut case = Case::new();
    case.issuer().max_age = Some(3_600);
    case.check(
        &statement(key, json!({ "iat": NOW - 3_601, "exp": null })),
        expect!["invalid_software_statement: the software statement is older than 3600 seconds"],
    )
    .await;
    case.check(
        &statement(key, json!({ "iat": NOW - 3_600, "exp": null })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    case.check(
        &statement(key, json!({ "iat": null })),
        expect!["invalid_software_statement: the software statement has no iat, which its issuer requires"],
    )
    .await;
}

// Algorithms and headers.

#[tokio::test]
async fn statement_with_an_alg_its_issuer_does_not_list_is_invalid() {
    let keys = keys();
    let mut case = Case::new();
    case.issuer().trusted.algs = vec!["ES256".to_owned()];
    case.check(
        &statement(&keys.rs256, json!({})),
        expect!["invalid_software_statement: the software statement's alg 'RS256' is not accepted from issuer 'https://directory.example'"],
    )
    .await;
    case.check(
        &statement(&keys.es256, json!({})),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    check(
        &statement_with_header(&keys.es256, json!({ "alg": "ES512" }), json!({})),
        expect![
            "invalid_software_statement: the software statement's alg 'ES512' is not supported"
        ],
    )
    .await;
    check(
        &statement_with_header(&keys.es256, json!({ "alg": "es256" }), json!({})),
        expect![
            "invalid_software_statement: the software statement's alg 'es256' is not supported"
        ],
    )
    .await;
}

#[tokio::test]
async fn unsigned_statement_is_invalid_even_when_its_issuer_lists_none() {
    let mut case = Case::new();
    case.issuer().trusted.algs.push("none".to_owned());
    let header = r#"{"alg":"none"}"#;
    let claims = good_claims().to_string();
    case.check(
        &format!("{}.", encoded_parts(&[header, &claims])),
        expect![
            "invalid_software_statement: an unsigned software statement (alg none) is not accepted"
        ],
    )
    .await;
    case.check(
        &format!("{}.c2lnbmF0dXJl", encoded_parts(&[header, &claims])),
        expect![
            "invalid_software_statement: an unsigned software statement (alg none) is not accepted"
        ],
    )
    .await;
}

#[tokio::test]
async fn hmac_statement_keyed_with_the_issuers_public_key_is_invalid_even_when_listed() {
    let keys = keys();
    let mut case = Case::new();
    case.issuer()
        .trusted
        .algs
        .extend(["HS256".to_owned(), "HS512".to_owned()]);
    for key in [&keys.rs256, &keys.es256, &keys.eddsa] {
        for algorithm in [Algorithm::HS256, Algorithm::HS512] {
            let header = json!({ "alg": format!("{algorithm:?}"), "kid": key.kid });
            let jwt = signed_raw(
                &header,
                &good_claims(),
                &EncodingKey::from_secret(&key.public_key_bytes),
                algorithm,
            );
            let result = render(case.verify(&jwt).await);
            assert_eq!(
                result,
                format!(
                    "invalid_software_statement: the software statement's alg '{algorithm:?}' is an HMAC alg; only public key signatures are accepted"
                )
            );
        }
    }
}

#[tokio::test]
async fn statement_whose_kid_names_a_key_of_another_type_is_invalid() {
    let keys = keys();
    // Algorithm confusion by key type: the header says ES256 but names the issuer's RSA key, or
    // says RS256 and names its EC key.
    let header = json!({ "alg": "ES256", "kid": keys.rs256.kid });
    check(
        &statement_with_header(&keys.es256, header, json!({})),
        expect!["invalid_software_statement: no key of issuer 'https://directory.example' has kid 'rs256-1' and fits alg 'ES256'"],
    )
    .await;
    let header = json!({ "alg": "RS256", "kid": keys.es256.kid });
    check(
        &statement_with_header(&keys.rs256, header, json!({})),
        expect!["invalid_software_statement: no key of issuer 'https://directory.example' has kid 'es256-1' and fits alg 'RS256'"],
    )
    .await;
    // A key that declares its own alg is used for that alg only.
    let mut case = Case::new();
    case.issuer().trusted.algs.push("PS256".to_owned());
    let header = json!({ "alg": "PS256", "kid": keys.rs256.kid });
    let jwt = signed_raw(
        &header,
        &good_claims(),
        &keys.rs256.encoding_key,
        Algorithm::PS256,
    );
    case.check(
        &jwt,
        expect!["invalid_software_statement: no key of issuer 'https://directory.example' has kid 'rs256-1' and fits alg 'PS256'"],
    )
    .await;
}

#[tokio::test]
async fn embedded_jwk_header_with_the_attackers_key_does_not_verify() {
    let keys = keys();
    let attacker = &keys.attacker;
    for header in [
        json!({ "alg": "ES256", "jwk": attacker.public_jwk }),
        json!({ "alg": "ES256", "kid": attacker.kid, "jwk": attacker.public_jwk }),
        json!({ "alg": "ES256", "kid": keys.es256.kid, "jwk": attacker.public_jwk }),
        json!({ "alg": "ES256", "x5c": ["MIIBszCCAVmgAwIBAgIUZmFrZQ"] }),
    ] {
        let result = render(
            Case::new()
                .verify(&statement_with_header(attacker, header, json!({})))
                .await,
        );
        assert!(
            result.starts_with("invalid_software_statement: "),
            "{result}"
        );
    }
}

#[tokio::test]
async fn jku_and_x5u_headers_are_never_fetched() {
    let keys = keys();
    let attacker = &keys.attacker;
    let case = Case::with_key_uri(issuer_jwks());
    let attacker_set = "https://attacker.example/jwks.json";
    for header in [
        json!({ "alg": "ES256", "kid": attacker.kid, "jku": attacker_set }),
        json!({ "alg": "ES256", "kid": attacker.kid, "x5u": attacker_set }),
    ] {
        let jwt = statement_with_header(attacker, header, json!({}));
        case.check(
            &jwt,
            expect!["invalid_software_statement: no key of issuer 'https://directory.example' has kid 'attacker-1' and fits alg 'ES256'"],
        )
        .await;
    }
    // Even a jku naming the issuer's own set is not what chooses the keys.
    let header = json!({ "alg": "ES256", "kid": keys.es256.kid, "jku": attacker_set });
    case.check(
        &statement_with_header(&keys.es256, header, json!({})),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    assert!(
        case.key_source
            .calls()
            .iter()
            .all(|(uri, _)| uri == JWKS_URI),
        "{:?}",
        case.key_source.calls()
    );
    assert_eq!(case.key_source.calls().len(), 3);
}

#[tokio::test]
async fn crit_header_is_refused() {
    let key = &keys().es256;
    for crit in [json!(["exp"]), json!([]), json!(null)] {
        let header = json!({ "alg": "ES256", "kid": key.kid, "crit": crit, "exp": NOW + 60 });
        check(
            &statement_with_header(key, header, json!({})),
            expect!["invalid_software_statement: the software statement's crit header names extensions this server does not support"],
        )
        .await;
    }
}

#[tokio::test]
async fn statement_typed_as_an_access_token_is_invalid() {
    let key = &keys().es256;
    for typ in ["at+jwt", "application/AT+JWT"] {
        check(
            &signed(key, Some(typ), &good_claims()),
            expect!["invalid_software_statement: the software statement is typed as an access token (at+jwt)"],
        )
        .await;
    }
}

// Keys fetched from a jwks_uri.

#[tokio::test]
async fn unknown_kid_asks_the_key_source_with_the_kid_and_verifies_once_the_set_has_it() {
    let keys = keys();
    let case = Case::with_key_uri(issuer_jwks());
    let jwt = statement(&keys.rotated, json!({}));
    case.check(
        &jwt,
        expect!["invalid_software_statement: no key of issuer 'https://directory.example' has kid 'es256-2' and fits alg 'ES256'"],
    )
    .await;
    assert_eq!(
        case.key_source.calls(),
        [(JWKS_URI.to_owned(), Some("es256-2".to_owned()))]
    );
    // The issuer publishes its new key; the key source's refetch finds it.
    case.key_source.swap(jwks(&[&keys.rotated, &keys.eddsa]));
    case.check(
        &jwt,
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    assert_eq!(case.key_source.calls().len(), 2);
    // The retired key no longer verifies.
    case.check(
        &statement(&keys.es256, json!({})),
        expect!["invalid_software_statement: no key of issuer 'https://directory.example' has kid 'es256-1' and fits alg 'ES256'"],
    )
    .await;
}

#[tokio::test]
async fn statement_without_kid_asks_the_key_source_without_one() {
    let keys = keys();
    let case = Case::with_key_uri(issuer_jwks());
    let jwt = statement_with_header(&keys.eddsa, json!({ "alg": "EdDSA" }), json!({}));
    case.check(
        &jwt,
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    assert_eq!(case.key_source.calls(), [(JWKS_URI.to_owned(), None)]);
}

#[tokio::test]
async fn key_source_failure_is_invalid_without_echoing_its_reason() {
    let jwt = statement(&keys().es256, json!({}));
    let mut case = Case::with_key_uri(issuer_jwks());
    case.issuer().trusted.keys = IssuerKeys::Uri("https://directory.example/moved".to_owned());
    case.check(
        &jwt,
        expect!["invalid_software_statement: the keys of issuer 'https://directory.example' cannot be fetched now"],
    )
    .await;
    let case = Case::with_key_uri(issuer_jwks());
    let result = case.verify_with(&jwt, &NoKeySource, &case.replay).await;
    expect!["invalid_software_statement: the keys of issuer 'https://directory.example' cannot be fetched now"]
        .assert_eq(&render(result));
    expect!["no key source is configured, so the JWK Set at https://directory.example/jwks.json cannot be fetched"]
        .assert_eq(&NoKeySource.jwk_set(JWKS_URI, None).await.unwrap_err());
}

// Replay.

#[tokio::test]
async fn replayed_jti_is_refused_when_the_issuer_wants_single_use() {
    let key = &keys().es256;
    let mut case = Case::new();
    case.issuer().single_use = true;
    let jwt = statement(key, json!({}));
    case.check(
        &jwt,
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    case.check(
        &jwt,
        expect!["invalid_software_statement: the software statement was already used"],
    )
    .await;
    // Another statement with the same jti is the same use.
    case.check(
        &statement(key, json!({ "client_name": "Other" })),
        expect!["invalid_software_statement: the software statement was already used"],
    )
    .await;
    case.check(
        &statement(key, json!({ "jti": "statement-2" })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    // The jti is kept while the statement could still be accepted: exp plus the leeway.
    assert_eq!(
        case.replay.recorded()[0],
        (
            format!("software_statement:{ISSUER}"),
            "statement-1".to_owned(),
            NOW + 600 + 60
        )
    );
}

#[tokio::test]
async fn same_statement_is_accepted_twice_when_not_single_use() {
    let case = Case::new();
    let jwt = statement(&keys().es256, json!({}));
    for _ in 0..2 {
        case.check(
            &jwt,
            expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
        )
        .await;
    }
    assert!(case.replay.recorded().is_empty());
}

#[tokio::test]
async fn single_use_statement_needs_a_bounded_string_jti() {
    let key = &keys().es256;
    let mut case = Case::new();
    case.issuer().single_use = true;
    case.check(
        &statement(key, json!({ "jti": null })),
        expect!["invalid_software_statement: the software statement has no jti, which its issuer requires"],
    )
    .await;
    case.check(
        &statement(key, json!({ "jti": 7 })),
        expect!["invalid_software_statement: the software statement's jti must be a string"],
    )
    .await;
    case.check(
        &statement(key, json!({ "jti": "" })),
        expect![
            "invalid_software_statement: the software statement's jti must have 1 to 256 bytes"
        ],
    )
    .await;
    case.check(
        &statement(key, json!({ "jti": "j".repeat(257) })),
        expect![
            "invalid_software_statement: the software statement's jti must have 1 to 256 bytes"
        ],
    )
    .await;
    // A refused statement does not use up its jti.
    case.check(
        &statement(key, json!({ "exp": NOW - 3_600 })),
        expect!["invalid_software_statement: the software statement has expired"],
    )
    .await;
    assert!(case.replay.recorded().is_empty());
}

#[tokio::test]
async fn single_use_jti_is_kept_until_the_statement_can_no_longer_be_accepted() {
    let key = &keys().es256;
    let mut case = Case::new();
    case.issuer().single_use = true;
    // Without exp: until iat + max_age, or a year.
    case.check(
        &statement(key, json!({ "exp": null, "jti": "no-exp" })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    case.issuer().max_age = Some(3_600);
    case.check(
        &statement(key, json!({ "exp": null, "iat": NOW - 100, "jti": "max-age" })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    // With both, the earlier end.
    case.check(
        &statement(key, json!({ "exp": NOW + 7_200, "jti": "both" })),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    let expires: Vec<(String, i64)> = case
        .replay
        .recorded()
        .into_iter()
        .map(|(_, jti, expires_at)| (jti, expires_at - NOW))
        .collect();
    assert_eq!(
        expires,
        [
            ("no-exp".to_owned(), 365 * 24 * 3_600),
            ("max-age".to_owned(), 3_500),
            ("both".to_owned(), 3_600),
        ]
    );
}

#[tokio::test]
async fn single_use_statement_is_refused_when_the_replay_cache_fails() {
    let mut case = Case::new();
    case.issuer().single_use = true;
    let jwt = statement(&keys().es256, json!({}));
    let result = case
        .verify_with(&jwt, &case.key_source, &FailingReplayCache)
        .await;
    expect!["invalid_software_statement: the software statement's jti cannot be recorded now"]
        .assert_eq(&render(result));
}

// Approved software.

#[tokio::test]
async fn software_ids_allow_list_approves_only_its_members() {
    let key = &keys().es256;
    let mut case = Case::new();
    case.issuer().software_ids = Some(vec!["4NRB1-0XZABZI9E6-5SM3R".to_owned()]);
    case.check(
        &statement(key, json!({})),
        expect!["ok: iss https://directory.example, software_id 4NRB1-0XZABZI9E6-5SM3R, authorizes_registration true"],
    )
    .await;
    case.check(
        &statement(key, json!({ "software_id": "other-app" })),
        expect!["unapproved_software_statement: software_id 'other-app' is not approved"],
    )
    .await;
    case.check(
        &statement(key, json!({ "software_id": null })),
        expect!["unapproved_software_statement: the software statement has no software_id, which its issuer requires"],
    )
    .await;
    case.check(
        &statement(key, json!({ "software_id": 42 })),
        expect![
            "invalid_software_statement: the software statement's software_id must be a string"
        ],
    )
    .await;
    // Without an allow list, any string is fine, but not another type.
    check(
        &statement(key, json!({ "software_id": ["a"] })),
        expect![
            "invalid_software_statement: the software statement's software_id must be a string"
        ],
    )
    .await;
}

// Shape.

#[tokio::test]
async fn statement_that_is_not_a_compact_jws_is_invalid() {
    let good = statement(&keys().es256, json!({}));
    let claims = good_claims().to_string();
    let cases = [
        (
            "",
            expect![
                "invalid_software_statement: the software statement is not a signed jwt in compact serialization"
            ],
        ),
        (
            "not a jwt",
            expect![
                "invalid_software_statement: the software statement is not a signed jwt in compact serialization"
            ],
        ),
        (
            &claims,
            expect![
                "invalid_software_statement: the software statement is not a signed jwt in compact serialization"
            ],
        ),
        (
            "a.b",
            expect![
                "invalid_software_statement: the software statement is not a signed jwt in compact serialization"
            ],
        ),
        (
            "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
            expect![
                "invalid_software_statement: the software statement is encrypted (jwe); only a signed jwt is accepted"
            ],
        ),
        (
            &format!("{good}.x"),
            expect![
                "invalid_software_statement: the software statement is not a signed jwt in compact serialization"
            ],
        ),
        (
            &format!("{good} "),
            expect![
                "invalid_software_statement: the software statement's signature does not verify"
            ],
        ),
    ];
    for (jwt, expected) in cases {
        check(jwt, expected).await;
    }
    check(
        &"a".repeat(16 * 1024 + 1),
        expect!["invalid_software_statement: the software statement is longer than 16384 bytes"],
    )
    .await;
}

#[tokio::test]
async fn statement_with_a_malformed_header_or_claims_is_invalid() {
    let key = &keys().es256;
    let claims = good_claims().to_string();
    let header_cases = [
        r#"{"kid":"es256-1"}"#,
        r#"{"alg":"ES256","alg":"ES256"}"#,
        r#"{"alg":"ES256","kid":7}"#,
        r#"["ES256"]"#,
        "not json",
    ];
    for header in header_cases {
        let jwt = format!("{}.c2ln", encoded_parts(&[header, &claims]));
        check(
            &jwt,
            expect!["invalid_software_statement: the software statement's header is not valid"],
        )
        .await;
    }
    for payload in [r#"["iss"]"#, r#""iss""#, "null", "not json"] {
        let header = json!({ "alg": "ES256", "kid": key.kid }).to_string();
        let jwt = format!("{}.c2ln", encoded_parts(&[&header, payload]));
        check(
            &jwt,
            expect![
                "invalid_software_statement: the software statement's claims are not a json object"
            ],
        )
        .await;
    }
    // RFC 7519 §4: duplicate claim names are refused rather than one of them chosen.
    let duplicated = format!(r#"{{"iss":"{ISSUER}","client_name":"Good","client_name":"Evil"}}"#);
    let header = json!({ "alg": "ES256", "kid": key.kid }).to_string();
    let signing_input = encoded_parts(&[&header, &duplicated]);
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &key.encoding_key,
        Algorithm::ES256,
    )
    .unwrap();
    check(
        &format!("{signing_input}.{signature}"),
        expect![
            "invalid_software_statement: the software statement's claims are not a json object"
        ],
    )
    .await;
}

#[tokio::test]
async fn error_descriptions_quote_attacker_values_within_the_rfc_6749_characters() {
    let keys = keys();
    let nasty = "https://evil.example/\"}\\\n\u{0}\u{202e}'x".to_owned() + &"y".repeat(100);
    check(
        &statement(&keys.attacker, json!({ "iss": nasty })),
        expect!["unapproved_software_statement: the software statement is issued by an untrusted issuer 'https://evil.example/?}?????xyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...'"],
    )
    .await;
    let header = json!({ "alg": "ES256", "kid": "\"kid\"\\\u{1b}[31m" });
    check(
        &statement_with_header(&keys.attacker, header, json!({})),
        expect!["invalid_software_statement: no key of issuer 'https://directory.example' has kid '?kid???[31m' and fits alg 'ES256'"],
    )
    .await;
    check(
        &statement_with_header(&keys.attacker, json!({ "alg": "\"x\u{7f}" }), json!({})),
        expect!["invalid_software_statement: the software statement's alg '?x?' is not supported"],
    )
    .await;
}

#[test]
fn statement_errors_have_rfc_7591_codes_and_map_to_registration_errors() {
    let invalid = StatementError::Invalid("bad".to_owned());
    let unapproved = StatementError::Unapproved("not ours".to_owned());
    assert_eq!(invalid.code(), "invalid_software_statement");
    assert_eq!(unapproved.code(), "unapproved_software_statement");
    assert_eq!(
        RegistrationError::from(invalid).code(),
        "invalid_software_statement"
    );
    let unapproved = RegistrationError::from(unapproved);
    assert_eq!(unapproved.code(), "unapproved_software_statement");
    assert_eq!(unapproved.to_string(), "not ours");
}
