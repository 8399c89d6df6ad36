//! Trusted issuer configuration: what [`TrustedIssuer::check`] refuses at start.

use expect_test::{Expect, expect};
use serde_json::json;

use super::{ISSUER, JWKS_URI, keys, trusted_issuer};
use crate::trust::{IssuerKeys, TrustedIssuer};

fn check(issuer: TrustedIssuer, expected: Expect) {
    let result = match issuer.check() {
        Ok(()) => "ok".to_owned(),
        Err(error) => error,
    };
    expected.assert_eq(&result);
}

fn with_algs(algs: &[&str]) -> TrustedIssuer {
    TrustedIssuer {
        algs: algs.iter().map(|alg| (*alg).to_owned()).collect(),
        ..trusted_issuer()
    }
}

fn with_keys(keys: IssuerKeys) -> TrustedIssuer {
    TrustedIssuer {
        keys,
        ..trusted_issuer()
    }
}

#[test]
fn trusted_issuer_check_accepts_pinned_public_keys_and_https_key_urls() {
    check(trusted_issuer(), expect!["ok"]);
    check(
        with_keys(IssuerKeys::Uri(JWKS_URI.to_owned())),
        expect!["ok"],
    );
    check(
        with_algs(&["ES256", "RS256", "EdDSA", "PS256"]),
        expect!["ok"],
    );
}

#[test]
fn trusted_issuer_check_refuses_none_hmac_and_unknown_algs() {
    check(
        with_algs(&[]),
        expect!["trusted issuer https://directory.example lists no algs"],
    );
    check(
        with_algs(&["ES256", "none"]),
        expect![
            "trusted issuer https://directory.example: alg none is not an asymmetric alg this server verifies"
        ],
    );
    check(
        with_algs(&["RS256", "HS256"]),
        expect![
            "trusted issuer https://directory.example: alg HS256 is not an asymmetric alg this server verifies"
        ],
    );
    check(
        with_algs(&["es256"]),
        expect![
            "trusted issuer https://directory.example: alg es256 is not an asymmetric alg this server verifies"
        ],
    );
    check(
        TrustedIssuer {
            issuer: String::new(),
            ..trusted_issuer()
        },
        expect!["a trusted issuer needs a non-empty issuer"],
    );
}

#[test]
fn trusted_issuer_check_refuses_unusable_keys() {
    let keys = keys();
    let cases = [
        (
            IssuerKeys::Uri("http://directory.example/jwks".to_owned()),
            expect!["trusted issuer https://directory.example: jwks_uri must be an https URL"],
        ),
        (
            IssuerKeys::Uri("https://directory.example/jwks#keys".to_owned()),
            expect![
                "trusted issuer https://directory.example: jwks_uri must not contain a fragment"
            ],
        ),
        (
            IssuerKeys::Uri("directory.example/jwks".to_owned()),
            expect!["trusted issuer https://directory.example: jwks_uri is not a URL"],
        ),
        (
            IssuerKeys::Inline(json!([keys.es256.public_jwk])),
            expect![
                "trusted issuer https://directory.example: jwks must be a JWK Set with a keys array"
            ],
        ),
        (
            IssuerKeys::Inline(json!({ "keys": [] })),
            expect!["trusted issuer https://directory.example: jwks holds no keys"],
        ),
        (
            IssuerKeys::Inline(json!({ "keys": [{ "kty": "oct", "k": "c2VjcmV0" }] })),
            expect![
                "trusted issuer https://directory.example: jwks key 0 holds private key material"
            ],
        ),
        (
            IssuerKeys::Inline(
                json!({ "keys": [keys.es256.public_jwk, { "kty": "EC", "crv": "P-521", "x": "AA", "y": "AA" }] }),
            ),
            expect![
                "trusted issuer https://directory.example: jwks key 1: the EC curve is not supported"
            ],
        ),
        (
            IssuerKeys::Inline(json!({ "keys": ["es256-1"] })),
            expect!["trusted issuer https://directory.example: jwks key 0 is not an object"],
        ),
    ];
    for (issuer_keys, expected) in cases {
        check(with_keys(issuer_keys), expected);
    }
    let mut private = keys.es256.public_jwk.clone();
    private["d"] = json!("c2VjcmV0");
    check(
        with_keys(IssuerKeys::Inline(json!({ "keys": [private] }))),
        expect!["trusted issuer https://directory.example: jwks key 0 holds private key material"],
    );
    check(
        TrustedIssuer {
            issuer: ISSUER.to_owned(),
            keys: IssuerKeys::Inline(json!({ "keys": [keys.rs256.public_jwk] })),
            algs: vec!["ES256".to_owned()],
        },
        expect![
            "trusted issuer https://directory.example: jwks key 0 fits none of the issuer's algs"
        ],
    );
}
