//! End-to-end HTTP load benchmark: the real server over loopback, a fixed number of requests at a
//! fixed concurrency per scenario, on SQLite and (when `REGISTRAR_TEST_POSTGRES` is set) PostgreSQL.
//!
//! `cargo bench -p registrar-testkit --bench http` runs 2,000 requests per scenario, 32 at a time;
//! `REGISTRAR_BENCH_REQUESTS` and `REGISTRAR_BENCH_CONCURRENCY` change that, and
//! `REGISTRAR_BENCH_LIMITS=off` turns the rate limits off (they are on, with quotas no scenario
//! reaches, so that their cost is part of every figure). Without `--bench`
//! (`cargo test --benches`) it runs a few requests per scenario, as a smoke test.
//! Every request goes to the test server on 127.0.0.1, and every scenario stops after its requests
//! or after `TIME_LIMIT`, whichever comes first; any failed request fails the run.
//! `docs/benchmarks.md` has figures.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use registrar_core::ClientId;
use registrar_core::authz::{AuthorizationCode, Grant, User, hash_password};
use registrar_core::initial_token::InitialTokenOptions;
use registrar_core::secrets::{OsRandom, random_token};
use registrar_store::SqliteStore;
use registrar_testkit::{Backend, TestDatabase, TestServer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

/// Requests per scenario and how many are in flight at once, for `cargo bench`.
const BENCH_REQUESTS: usize = 2_000;
const BENCH_CONCURRENCY: usize = 32;
/// The same without `--bench`: enough to show every scenario works.
const SMOKE_REQUESTS: usize = 20;
const SMOKE_CONCURRENCY: usize = 4;
/// Upper bounds for the environment overrides, so a typo cannot start an endless run.
const MAX_REQUESTS: usize = 100_000;
const MAX_CONCURRENCY: usize = 256;
/// A scenario sends no new request after this long; an unfinished scenario fails the run.
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// A request that takes this long fails the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What a web application sends to register (as in the integration tests).
fn web_app() -> Value {
    json!({
        "redirect_uris": ["https://app.example.com/cb"],
        "client_name": "Example App",
        "scope": "openid email",
        "contacts": ["ops@example.com"],
    })
}

/// What a machine client sends to register for the `client_credentials` grant.
fn machine() -> Value {
    json!({
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "openid email",
    })
}

/// What an MCP-style public client sends to register for the authorization code flow.
fn public_client() -> Value {
    json!({
        "redirect_uris": [PUBLIC_REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "openid profile email offline_access",
    })
}
const PUBLIC_REDIRECT: &str = "http://localhost:33418/callback";

/// How much load each scenario gets.
#[derive(Debug, Clone, Copy)]
struct Plan {
    requests: usize,
    concurrency: usize,
}

impl Plan {
    /// `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke run.
    fn from_environment() -> Self {
        let benchmarking = std::env::args().any(|argument| argument == "--bench");
        let (requests, concurrency) = match benchmarking {
            true => (BENCH_REQUESTS, BENCH_CONCURRENCY),
            false => (SMOKE_REQUESTS, SMOKE_CONCURRENCY),
        };
        Self {
            requests: setting("REGISTRAR_BENCH_REQUESTS", requests, MAX_REQUESTS),
            concurrency: setting("REGISTRAR_BENCH_CONCURRENCY", concurrency, MAX_CONCURRENCY),
        }
    }
}

/// A positive number from the environment, at most `max`; `default` when unset.
fn setting(name: &str, default: usize, max: usize) -> usize {
    let Ok(text) = std::env::var(name) else {
        return default;
    };
    match text.parse::<usize>() {
        Ok(value) if (1..=max).contains(&value) => value,
        _ => panic!("{name} must be a number from 1 to {max}, not {text:?}"),
    }
}

/// One request's outcome: its index, how long until the whole body arrived, status and body.
#[derive(Debug)]
struct Sample {
    index: usize,
    latency: Duration,
    outcome: Result<(u16, Vec<u8>), String>,
}

/// The samples of one scenario and how long it took from the first request to the last answer.
#[derive(Debug)]
struct Run {
    elapsed: Duration,
    samples: Vec<Sample>,
}

impl Run {
    /// The JSON bodies of the answers, in request order.
    fn bodies(&self) -> Vec<Value> {
        let mut samples: Vec<&Sample> = self.samples.iter().collect();
        samples.sort_by_key(|sample| sample.index);
        samples
            .iter()
            .filter_map(|sample| sample.outcome.as_ref().ok())
            .map(|(_, body)| serde_json::from_slice(body).expect("a JSON body"))
            .collect()
    }
}

/// Sends `plan.requests` requests made by `request(index)`, `plan.concurrency` at a time, each
/// worker taking the next index when its previous request has been answered in full.
async fn load<F, Fut>(plan: Plan, request: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + TIME_LIMIT;
    let mut workers = JoinSet::new();
    for _ in 0..plan.concurrency {
        let request = Arc::clone(&request);
        let next = Arc::clone(&next);
        workers.spawn(async move {
            let mut samples = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= plan.requests || Instant::now() >= deadline {
                    return samples;
                }
                let sent = Instant::now();
                let outcome = match request(index).await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match response.bytes().await {
                            Ok(body) => Ok((status, body.to_vec())),
                            Err(error) => Err(error.to_string()),
                        }
                    }
                    Err(error) => Err(error.to_string()),
                };
                samples.push(Sample {
                    index,
                    latency: sent.elapsed(),
                    outcome,
                });
            }
        });
    }
    let mut samples = Vec::with_capacity(plan.requests);
    while let Some(worker) = workers.join_next().await {
        samples.extend(worker.expect("a load worker panicked"));
    }
    Run {
        elapsed: started.elapsed(),
        samples,
    }
}

/// The latency below which `percent` of the samples fall (nearest rank), in milliseconds.
fn percentile_ms(sorted: &[Duration], percent: usize) -> f64 {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1].as_secs_f64() * 1_000.0
}

/// Prints one line of the results table and fails the run unless every request got `expected`.
fn report(backend: &str, scenario: &str, plan: Plan, run: &Run, expected: u16) {
    let mut latencies: Vec<Duration> = run.samples.iter().map(|sample| sample.latency).collect();
    latencies.sort_unstable();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for sample in &run.samples {
        let key = match &sample.outcome {
            Ok((status, _)) => status.to_string(),
            Err(_) => "error".to_owned(),
        };
        *statuses.entry(key).or_default() += 1;
    }
    let statuses: Vec<String> = statuses
        .iter()
        .map(|(status, count)| format!("{status}: {count}"))
        .collect();
    let seconds = run.elapsed.as_secs_f64();
    println!(
        "{backend:<10} {scenario:<22} {requests:>8} {seconds:>8.2} {rate:>9.0} {p50:>8.2} {p99:>8.2}  {statuses}",
        requests = run.samples.len(),
        rate = run.samples.len() as f64 / seconds,
        p50 = percentile_ms(&latencies, 50),
        p99 = percentile_ms(&latencies, 99),
        statuses = statuses.join(", "),
    );
    if let Some(failed) = run.samples.iter().find(|sample| match &sample.outcome {
        Ok((status, _)) => *status != expected,
        Err(_) => true,
    }) {
        let detail = match &failed.outcome {
            Ok((status, body)) => format!("status {status}: {}", String::from_utf8_lossy(body)),
            Err(error) => error.clone(),
        };
        panic!(
            "{backend} {scenario}: request {} failed: {detail}",
            failed.index
        );
    }
    assert_eq!(
        run.samples.len(),
        plan.requests,
        "{backend} {scenario}: not finished within {TIME_LIMIT:?}"
    );
}

fn string<'a>(body: &'a Value, member: &str) -> &'a str {
    body[member]
        .as_str()
        .unwrap_or_else(|| panic!("{member} in {body}"))
}

/// Registers one client with a single-use initial access token, outside any measurement.
async fn register_one(server: &TestServer, metadata: Value) -> Value {
    let response = server.register(metadata).await;
    assert_eq!(response.status().as_u16(), 201, "register a client");
    response.json().await.expect("client information")
}

/// One code ready to redeem: the code and its PKCE verifier.
struct ReadyCode {
    code: String,
    verifier: String,
}

/// Stores `count` grants of `client` by one user, each with one unused code, as the consent page
/// would have (outside any measurement): grants with an absolute lifetime, so that redeeming a
/// code also issues a refresh token. Written `concurrency` at a time.
async fn ready_codes(
    server: &TestServer,
    client: &Value,
    count: usize,
    concurrency: usize,
) -> Vec<ReadyCode> {
    let user = User {
        id: random_token(&OsRandom, 16),
        username: "bench".to_owned(),
        password_hash: hash_password("correct horse battery staple", &OsRandom)
            .expect("hash a password"),
        created_at: 1_700_000_000,
        name: Some("Bench Example".to_owned()),
        email: Some("bench@example.com".to_owned()),
        email_verified: true,
    };
    server
        .stores()
        .users()
        .insert_user(&user)
        .await
        .expect("insert a user");
    let client_id = ClientId::parse(string(client, "client_id")).expect("a client_id");
    let services = server.pipeline.services();
    let now = server.clock.now();
    let mut ready = Vec::with_capacity(count);
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let code = random_token(&OsRandom, 32);
        let verifier = random_token(&OsRandom, 32);
        let grant = Grant {
            id: random_token(&OsRandom, 16),
            client_id: client_id.clone(),
            user_id: user.id.clone(),
            scopes: ["openid", "profile", "email", "offline_access"]
                .map(str::to_owned)
                .to_vec(),
            resources: Vec::new(),
            auth_time: now,
            created_at: now,
            expires_at: Some(now + 30 * 86_400),
            revoked: false,
        };
        let stored = AuthorizationCode {
            // What `authorize::flow::code_hash` computes.
            code_hash: services.hasher().hash(&format!("code {code}")),
            grant_id: grant.id.clone(),
            client_id: client_id.clone(),
            redirect_uri: PUBLIC_REDIRECT.to_owned(),
            code_challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            nonce: Some(random_token(&OsRandom, 16)),
            issued_at: now,
            // Far beyond any run, so that no code expires while it waits its turn.
            expires_at: now + 86_400,
        };
        records.push((grant, stored));
        ready.push(ReadyCode { code, verifier });
    }
    let records = Arc::new(records);
    let next = Arc::new(AtomicUsize::new(0));
    let mut writers = JoinSet::new();
    for _ in 0..concurrency {
        let (records, next) = (Arc::clone(&records), Arc::clone(&next));
        let authorizations = Arc::clone(server.stores().authorizations());
        writers.spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((grant, code)) = records.get(index) else {
                    return;
                };
                authorizations
                    .insert_grant_with_code(grant, code)
                    .await
                    .expect("insert a grant and its code");
            }
        });
    }
    while let Some(writer) = writers.join_next().await {
        writer.expect("a grant writer panicked");
    }
    ready
}

/// The `alg` in a compact JWS's header.
fn jws_algorithm(token: &str) -> String {
    let header = token.split('.').next().expect("a JWS header");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url"))
        .expect("a JSON header");
    string(&header, "alg").to_owned()
}

/// Every scenario on one backend, in an order where each finds what it needs: registrations
/// leave clients to read, token requests leave tokens to introspect, code exchanges leave
/// refresh tokens to rotate.
async fn run_backend(name: &str, backend: Backend, plan: Plan) {
    // Every request comes from one address: the limits stay on, so their cost is measured, with
    // quotas no scenario reaches.
    let mut options = registrar_server::TokenOptions::default();
    let unreachable = registrar_server::Quota::new(u32::MAX, 1);
    options.rate_limits.registration = unreachable;
    options.rate_limits.initial_token = unreachable;
    options.rate_limits.policy_registrations = unreachable;
    // `REGISTRAR_BENCH_LIMITS=off` measures the same server without them, for their cost.
    if std::env::var("REGISTRAR_BENCH_LIMITS").is_ok_and(|value| value == "off") {
        options.rate_limits.enabled = false;
    }
    let server = TestServer::builder(backend.clone())
        .tokens(options.clone())
        .spawn()
        .await;
    // One client for every scenario: `no_proxy`, so nothing but 127.0.0.1 is ever spoken to.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client");

    // Open the connections first, so that no scenario pays for them.
    let healthz = server.url("/healthz");
    let warm_up_plan = Plan {
        requests: plan.concurrency * 4,
        ..plan
    };
    let warm_up = {
        let http = http.clone();
        load(warm_up_plan, move |_| http.get(&healthz).send()).await
    };
    assert!(
        warm_up
            .samples
            .iter()
            .all(|sample| matches!(sample.outcome, Ok((200, _)))),
        "the server answers /healthz"
    );

    // (a) Registrations, all with one initial access token without a use limit.
    let initial_token = server.initial_token(InitialTokenOptions::default()).await;
    let registration_endpoint = server.url("/connect/dcr");
    let run = {
        let (http, url) = (http.clone(), registration_endpoint.clone());
        load(plan, move |_| {
            http.post(&url)
                .bearer_auth(&initial_token)
                .json(&web_app())
                .send()
        })
        .await
    };
    report(name, "register (1 token)", plan, &run, 201);
    let registered = run.bodies();

    // (a0) On SQLite, the same on a second server whose store commits each write alone (one
    // fsync per registration), side by side with the group commit above.
    if matches!(backend, Backend::Sqlite) {
        let database = TestDatabase::create(&backend).await;
        let store = SqliteStore::open(&database.url)
            .await
            .expect("open the baseline store")
            .without_group_commit();
        let baseline = TestServer::builder(backend.clone())
            .tokens(options.clone())
            .on(database, Arc::new(store))
            .spawn()
            .await;
        let token = baseline.initial_token(InitialTokenOptions::default()).await;
        let run = {
            let (http, url) = (http.clone(), baseline.url("/connect/dcr"));
            load(plan, move |_| {
                http.post(&url).bearer_auth(&token).json(&web_app()).send()
            })
            .await
        };
        report(name, "register, commit each", plan, &run, 201);
    }

    // (a') The same with one initial access token per concurrent request, to tell the cost of
    // counting uses of a single token row apart from the cost of the insert.
    let mut initial_tokens = Vec::new();
    for _ in 0..plan.concurrency {
        initial_tokens.push(server.initial_token(InitialTokenOptions::default()).await);
    }
    let run = {
        let (http, url) = (http.clone(), registration_endpoint.clone());
        load(plan, move |index| {
            http.post(&url)
                .bearer_auth(&initial_tokens[index % initial_tokens.len()])
                .json(&web_app())
                .send()
        })
        .await
    };
    report(name, "register (n tokens)", plan, &run, 201);

    // (a'') Refused registrations: each an audit event stored with the pruning of refusals past
    // `audit.max_refusals`, for what a flood of bad requests costs beside good ones.
    let refusal_token = server.initial_token(InitialTokenOptions::default()).await;
    let run = {
        let (http, url) = (http.clone(), registration_endpoint.clone());
        load(plan, move |_| {
            http.post(&url)
                .bearer_auth(&refusal_token)
                .json(&json!({"redirect_uris": ["https://app.example.com/cb#fragment"]}))
                .send()
        })
        .await
    };
    report(name, "register refused", plan, &run, 400);

    // (b) client_credentials with client_secret_basic, for one registered client.
    let client = register_one(&server, machine()).await;
    let token_endpoint = server.url("/connect/token");
    let run = {
        let http = http.clone();
        let client_id = string(&client, "client_id").to_owned();
        let client_secret = string(&client, "client_secret").to_owned();
        load(plan, move |_| {
            http.post(&token_endpoint)
                .basic_auth(&client_id, Some(&client_secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
        })
        .await
    };
    report(name, "token", plan, &run, 200);
    let access_tokens: Vec<String> = run
        .bodies()
        .iter()
        .map(|body| string(body, "access_token").to_owned())
        .collect();

    // (c) Reads of the clients registered in (a), each with its registration access token.
    let reads: Vec<(String, String)> = registered
        .iter()
        .map(|body| {
            (
                server.url(&format!("/connect/dcr/{}", string(body, "client_id"))),
                string(body, "registration_access_token").to_owned(),
            )
        })
        .collect();
    let run = {
        let http = http.clone();
        load(plan, move |index| {
            let (url, token) = &reads[index % reads.len()];
            http.get(url).bearer_auth(token).send()
        })
        .await
    };
    report(name, "read", plan, &run, 200);

    // (d) Introspection of the tokens from (b) by another client, a resource server.
    let resource_server = register_one(&server, machine()).await;
    let introspection_endpoint = server.url("/connect/introspect");
    let run = {
        let http = http.clone();
        let client_id = string(&resource_server, "client_id").to_owned();
        let client_secret = string(&resource_server, "client_secret").to_owned();
        load(plan, move |index| {
            let token = &access_tokens[index % access_tokens.len()];
            http.post(&introspection_endpoint)
                .basic_auth(&client_id, Some(&client_secret))
                .form(&[("token", token.as_str())])
                .send()
        })
        .await
    };
    report(name, "introspect", plan, &run, 200);
    // A 200 that says inactive would be the cheap path, not the one meant to be measured.
    assert!(
        run.bodies().iter().all(|body| body["active"] == true),
        "every introspected token is active"
    );

    // (e) The authorization code grant for a public client (PKCE, no secret): each request
    // redeems one code stored beforehand and gets an access token, an RS256 ID token (`openid`
    // was granted; RS256 is the default `id_token_signed_response_alg`) and a refresh token.
    let public = register_one(&server, public_client()).await;
    let codes = ready_codes(&server, &public, plan.requests, plan.concurrency).await;
    let token_endpoint = server.url("/connect/token");
    let run = {
        let http = http.clone();
        let (url, client_id) = (
            token_endpoint.clone(),
            string(&public, "client_id").to_owned(),
        );
        load(plan, move |index| {
            let ready = &codes[index];
            http.post(&url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", ready.code.as_str()),
                    ("redirect_uri", PUBLIC_REDIRECT),
                    ("code_verifier", ready.verifier.as_str()),
                    ("client_id", client_id.as_str()),
                ])
                .send()
        })
        .await
    };
    report(name, "code exchange", plan, &run, 200);
    let exchanged = run.bodies();
    for body in &exchanged {
        string(body, "access_token");
        assert_eq!(
            jws_algorithm(string(body, "id_token")),
            "RS256",
            "an RS256 ID token"
        );
    }
    let refresh_tokens: Vec<String> = exchanged
        .iter()
        .map(|body| string(body, "refresh_token").to_owned())
        .collect();

    // (f) The refresh token grant for the same client: each request rotates one refresh token
    // from (e), once, and gets a successor, a new access token and a new RS256 ID token.
    let run = {
        let http = http.clone();
        let client_id = string(&public, "client_id").to_owned();
        load(plan, move |index| {
            http.post(&token_endpoint)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_tokens[index].as_str()),
                    ("client_id", client_id.as_str()),
                ])
                .send()
        })
        .await
    };
    report(name, "refresh (rotation)", plan, &run, 200);
    for body in run.bodies() {
        string(&body, "refresh_token");
        assert_eq!(
            jws_algorithm(string(&body, "id_token")),
            "RS256",
            "an RS256 ID token"
        );
    }
}

fn main() {
    let plan = Plan::from_environment();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!(
        "{} requests per scenario, {} at a time, client and server in one process on {} threads",
        plan.requests,
        plan.concurrency,
        std::thread::available_parallelism().map_or(1, usize::from),
    );
    println!(
        "{:<10} {:<22} {:>8} {:>8} {:>9} {:>8} {:>8}  statuses",
        "backend", "scenario", "requests", "seconds", "req/s", "p50 ms", "p99 ms"
    );
    runtime.block_on(async {
        run_backend("sqlite", Backend::Sqlite, plan).await;
        match Backend::postgres() {
            Some(backend) => run_backend("postgres", backend, plan).await,
            None => println!("postgres: skipped; set REGISTRAR_TEST_POSTGRES to include it"),
        }
    });
}
