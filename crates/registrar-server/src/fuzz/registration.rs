//! The `registration` target: a `POST /connect/dcr` body through strict JSON parsing, the
//! metadata parser and the whole default pipeline, for three kinds of caller.
//!
//! The store holds nothing ([`Stores::unavailable`]): a request that passes every rule reaches
//! the persist step and fails there as unavailable, which is how the target knows it got that
//! far. Each body runs as a dry run and as a registration, and the two must agree, and what
//! would be registered is held to docs/validation.md's rules ([`check_registered`]).
//!
//! Software statements are accepted from one trusted issuer, `https://statements.example`, whose
//! keys are the fixture keys: a `software_statement` member that is a JSON object is replaced by
//! those claims signed with its Ed25519 key before the body is parsed as the server would, so
//! the statement rules and the merging of its claims are fuzzed behind a valid signature.

use std::sync::{Arc, LazyLock};

use axum::http::StatusCode;
use registrar_core::json::parse_object;
use registrar_core::trust::{
    IssuerKeys, StatementIssuer, StatementMode, StatementSettings, TrustedIssuer,
};
use registrar_core::{
    Caller, ManualClock, Pipeline, Principal, RegistrationError, RegistrationMode, RequestSource,
    Settings, StoreError, Stores, TokenHasher,
};
use serde_json::{Map, Value};

use super::registered::check_registered;
use super::support::{FIXTURE_KEYS, NOW, SERVER_SECRET, block_on, check_error, sign};
use crate::error::ApiError;
use crate::limits::MAX_BODY_BYTES;

/// The issuer whose software statements are trusted.
const STATEMENT_ISSUER: &str = "https://statements.example";

/// An open-mode pipeline with the default settings and steps, over stores that hold nothing,
/// accepting software statements from [`STATEMENT_ISSUER`].
static PIPELINE: LazyLock<Pipeline> = LazyLock::new(|| {
    let mut settings =
        Settings::new(url::Url::parse("https://issuer.example").expect("the fuzz issuer is a URL"));
    settings.mode = RegistrationMode::Open;
    settings.software_statements = StatementSettings {
        mode: StatementMode::Accept,
        issuers: vec![StatementIssuer {
            trusted: TrustedIssuer {
                issuer: STATEMENT_ISSUER.to_owned(),
                keys: IssuerKeys::Inline(FIXTURE_KEYS.jwks(NOW)),
                algs: vec!["EdDSA".to_owned(), "ES256".to_owned()],
            },
            authorizes_registration: false,
            // Single use needs the replay cache, which the empty store cannot keep.
            single_use: false,
            software_ids: None,
            max_age: None,
        }],
        leeway: 60,
    };
    Pipeline::builder(settings, Stores::unavailable())
        .server_secret(SERVER_SECRET)
        .clock(Arc::new(ManualClock::new(NOW)))
        .build()
        .expect("the fuzz pipeline builds")
});

/// Open registration, an initial access token without a policy (the `default` policy), and an
/// administrator's bearer token: the three sets of rules a body can meet.
fn callers() -> [Caller; 3] {
    let settings = PIPELINE.settings();
    let mut administrator = Principal::new("fuzz-administrator");
    administrator.scopes = vec![settings.bearer_scope.clone()];
    [
        Caller::Anonymous,
        Caller::InitialAccessToken {
            id: "fuzz-initial-token".to_owned(),
            token_hash: TokenHasher::new(b"fuzz").hash("initial access token"),
            policy: None,
        },
        Caller::Bearer(administrator),
    ]
}

/// The codes a registration may be refused with once its body is a JSON object (RFC 7591
/// §3.2.2).
const REFUSALS: [(StatusCode, &str); 4] = [
    (StatusCode::BAD_REQUEST, "invalid_redirect_uri"),
    (StatusCode::BAD_REQUEST, "invalid_client_metadata"),
    (StatusCode::BAD_REQUEST, "invalid_software_statement"),
    (StatusCode::BAD_REQUEST, "unapproved_software_statement"),
];

/// Runs `data` as the body of a registration request; panics when an answer breaks a property.
/// True when some caller could register it.
pub fn registration(data: &[u8]) -> bool {
    // The router answers 413 before any parsing.
    if data.len() > MAX_BODY_BYTES {
        return false;
    }
    let signed;
    let data = match with_signed_statement(data) {
        Some(body) => {
            signed = body;
            signed.as_slice()
        }
        None => data,
    };
    let object = match parse_object(data) {
        Ok(object) => object,
        Err(description) => {
            // A body that is not one strict JSON object is malformed (RFC 6749 §5.2).
            check_error(
                ApiError::InvalidRequest(description),
                &[(StatusCode::BAD_REQUEST, "invalid_request")],
            );
            return false;
        }
    };
    let mut registered = false;
    for caller in callers() {
        registered |= register_as(caller, &object);
    }
    registered
}

/// `data` with its `software_statement` object replaced by the signed statement of those
/// claims, when it is a JSON object with such a member.
fn with_signed_statement(data: &[u8]) -> Option<Vec<u8>> {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(data) else {
        return None;
    };
    let claims = object
        .get("software_statement")
        .filter(|claims| claims.is_object())?;
    let statement = sign(claims);
    object.insert("software_statement".to_owned(), Value::String(statement));
    serde_json::to_vec(&object).ok()
}

/// Whether `caller` could register `object`.
fn register_as(caller: Caller, object: &Map<String, Value>) -> bool {
    let dry_run = block_on(PIPELINE.register_dry_run(
        caller.clone(),
        object.clone(),
        RequestSource::default(),
    ));
    let registration =
        block_on(PIPELINE.register(caller.clone(), object.clone(), RequestSource::default()));
    match (dry_run, registration) {
        // Valid: the dry run answers, the registration reaches the store.
        (Ok(information), Err(RegistrationError::Store(StoreError::Unavailable(_)))) => {
            let answer = crate::routes::dcr::dry_run_answer(&information)
                .unwrap_or_else(|error| panic!("{caller:?}: the dry run cannot answer: {error:?}"));
            check_registered(&format!("{caller:?}"), &answer, PIPELINE.settings());
            true
        }
        (Err(dry_run_error), Err(registration_error)) => {
            assert_eq!(
                (dry_run_error.code(), dry_run_error.to_string()),
                (registration_error.code(), registration_error.to_string()),
                "{caller:?}: the dry run and the registration refuse differently"
            );
            check_error(ApiError::Registration(registration_error), &REFUSALS);
            false
        }
        (dry_run, registration) => panic!(
            "{caller:?}: the dry run answered {dry_run:?} but the registration {registration:?}"
        ),
    }
}
