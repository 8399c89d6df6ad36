//! Benchmarks of reading a registration request: strict JSON (`json::parse_object`),
//! `ClientMetadata::from_object` and the default `Validator`, on bodies like real clients send.
//!
//! Run with `cargo bench -p registrar-core --bench registration`; `docs/benchmarks.md` has figures.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;

use registrar_core::json::parse_object;
use registrar_core::{
    Caller, ClientMetadata, DefaultValidator, Operation, Pipeline, RegistrationContext,
    RequestSource, Services, Settings, Stores, TokenHasher, Validator,
};
use url::Url;

/// The smallest useful registration (RFC 7591 §3.1's example without the extras).
const MINIMAL: &str = r#"{"redirect_uris":["https://app.example.com/cb"]}"#;

/// A web application as an OpenID Connect relying party registers itself: names, URLs, contacts,
/// scope, grant and response types, logout and lifetimes.
const WEB_APP: &str = r#"{
  "application_type": "web",
  "redirect_uris": ["https://app.example.com/cb", "https://app.example.com/alt/cb"],
  "post_logout_redirect_uris": ["https://app.example.com/bye"],
  "client_name": "Example App",
  "client_name#ja-Jpan-JP": "アプリの例",
  "client_uri": "https://app.example.com",
  "logo_uri": "https://app.example.com/logo.png",
  "policy_uri": "https://app.example.com/privacy",
  "tos_uri": "https://app.example.com/terms",
  "contacts": ["ops@example.com", "security@example.com"],
  "scope": "openid profile email offline_access",
  "grant_types": ["authorization_code", "refresh_token"],
  "response_types": ["code"],
  "token_endpoint_auth_method": "client_secret_basic",
  "id_token_signed_response_alg": "ES256",
  "subject_type": "public",
  "default_max_age": 3600,
  "require_auth_time": true,
  "software_id": "4NRB1-0XZABZI9E6-5SM3R",
  "software_version": "2.1.0"
}"#;

/// A machine client with `private_key_jwt` and its own JWK Set: an RSA 2048 and a P-256 key, both
/// from RFC 7517 Appendix A.1.
const MACHINE_WITH_JWKS: &str = r#"{
  "grant_types": ["client_credentials"],
  "token_endpoint_auth_method": "private_key_jwt",
  "token_endpoint_auth_signing_alg": "ES256",
  "scope": "openid email",
  "client_name": "Example Batch Job",
  "jwks": {"keys": [
    {"kty": "EC", "crv": "P-256", "use": "sig", "kid": "1",
     "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
     "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"},
    {"kty": "RSA", "alg": "RS256", "kid": "2011-04-29", "e": "AQAB",
     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
  ]}
}"#;

const BODIES: [(&str, &str); 3] = [
    ("minimal", MINIMAL),
    ("web_app", WEB_APP),
    ("machine_with_jwks", MACHINE_WITH_JWKS),
];

/// Short runs, so that both core benchmarks finish in about a minute on two cores.
fn configured() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

fn caller() -> Caller {
    Caller::InitialAccessToken {
        id: "iat-1".to_owned(),
        token_hash: TokenHasher::new(b"bench secret").hash("initial access token"),
        policy: None,
    }
}

/// The value of a future that is ready at once, as the default rules are: they do no I/O.
fn ready<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("the default validation rules do no I/O"),
    }
}

/// The context a registration request starts with, for a caller authorized beforehand.
fn context(
    services: &Arc<Services>,
    caller: &Caller,
    object: serde_json::Map<String, serde_json::Value>,
) -> RegistrationContext {
    RegistrationContext::new(
        services.clone(),
        Operation::Register,
        caller.clone(),
        RequestSource::default(),
        object,
        None,
    )
}

/// What the server does with a body between reading it and generating credentials.
fn read_and_validate(
    body: &[u8],
    services: &Arc<Services>,
    caller: &Caller,
) -> Result<RegistrationContext, String> {
    let object = parse_object(body)?;
    let mut cx = context(services, caller, object);
    ready(DefaultValidator.validate(&mut cx)).map_err(|error| error.to_string())?;
    Ok(cx)
}

fn registration_body(criterion: &mut Criterion) {
    let settings = Settings::new(Url::parse("https://issuer.example").expect("issuer URL"));
    let pipeline = Pipeline::builder(settings, Stores::unavailable())
        .server_secret(b"benchmark secret, thirty-two bytes or more")
        .build()
        .expect("pipeline");
    let services = pipeline.services();
    let caller = caller();

    // The whole of reading a body, for each kind of client.
    let mut group = criterion.benchmark_group("registration_body");
    for (name, body) in BODIES {
        // A body that fails validation would measure the early exit, not the work.
        if let Err(error) = read_and_validate(body.as_bytes(), services, &caller) {
            panic!("the {name} body must be valid: {error}");
        }
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |bencher| {
            bencher.iter(|| read_and_validate(black_box(body.as_bytes()), services, &caller))
        });
    }
    group.finish();

    // The steps alone, on the web application's body.
    let mut group = criterion.benchmark_group("web_app_steps");
    group.bench_function("json_parse_object", |bencher| {
        bencher.iter(|| parse_object(black_box(WEB_APP.as_bytes())))
    });
    let object = parse_object(WEB_APP.as_bytes()).expect("the body is an object");
    group.bench_function("from_object", |bencher| {
        bencher.iter(|| ClientMetadata::from_object(black_box(&object)))
    });
    // The context is built outside the timed part, as the pipeline builds it once per request.
    group.bench_function("default_validator", |bencher| {
        bencher.iter_batched(
            || context(services, &caller, object.clone()),
            |mut cx| ready(DefaultValidator.validate(&mut cx)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = configured();
    targets = registration_body
}
criterion_main!(benches);
