//! The code and refresh scenarios against tiny in-process axum servers that check every request
//! as the real endpoints would: the token request made from each `303`'s `Location`, failed
//! authorizations, and refresh tokens rotated per worker.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper::header::HeaderValue;
use registrar_bench::generator::{self, Plan, Stop, Target};
use registrar_bench::pool::PooledClient;
use registrar_bench::scenarios::{CODE_VERIFIER, Code, HeldRefreshToken, Refresh};
use registrar_bench::sign_in::hidden_value;
use serde_json::json;

const COOKIE: &str = "registrar_session=signed-in; registrar_csrf=c";

fn client(n: usize) -> PooledClient {
    PooledClient {
        client_id: format!("client-{n}"),
        client_secret: format!("secret-{n}"),
        registration_access_token: String::new(),
        management_path: format!("/connect/dcr/client-{n}"),
        metadata: json!({ "redirect_uris": [format!("https://app-{n}.example.com/callback")] }),
    }
}

fn form(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn run_plan(concurrency: usize, requests: u64) -> Plan {
    Plan {
        concurrency,
        stop: Stop::Requests(requests),
        sources: None,
    }
}

/// An authorization server that answers authorization requests with codes (or, when
/// `refuse`, with an error redirect) and exchanges each code once.
#[derive(Debug, Default)]
struct CodeServer {
    refuse: bool,
    /// Code → (client_id, redirect_uri) of the request it was issued for.
    issued: Mutex<HashMap<String, (String, String)>>,
    exchanged: Mutex<Vec<String>>,
    refused: Mutex<Vec<String>>,
    next: Mutex<usize>,
}

async fn authorize(
    State(server): State<Arc<CodeServer>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = form(&query.unwrap_or_default());
    let redirect_uri = query.get("redirect_uri").cloned().unwrap_or_default();
    let client_id = query.get("client_id").cloned().unwrap_or_default();
    let well_formed = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) == Some(COOKIE)
        && query.get("response_type").map(String::as_str) == Some("code")
        && query.get("scope").map(String::as_str) == Some("openid profile")
        && query.get("code_challenge_method").map(String::as_str) == Some("S256")
        && query.contains_key("code_challenge")
        && query.contains_key("state")
        && client_id
            .strip_prefix("client-")
            .is_some_and(|n| redirect_uri == format!("https://app-{n}.example.com/callback"));
    if !well_formed {
        return (StatusCode::BAD_REQUEST, "malformed authorization request").into_response();
    }
    let mut issued = server.issued.lock().expect("issued");
    let location = if server.refuse {
        format!("{redirect_uri}?error=login_required&state=x&iss=http%3A%2F%2Fissuer")
    } else {
        let mut next = server.next.lock().expect("next");
        *next += 1;
        let code = format!("code-{next}");
        issued.insert(code.clone(), (client_id, redirect_uri.clone()));
        format!("{redirect_uri}?code={code}&state=x&iss=http%3A%2F%2Fissuer")
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The `client_secret_basic` value of the client [`client`] made.
fn basic(client_id: &str) -> String {
    use base64::Engine as _;
    let n = client_id.strip_prefix("client-").unwrap_or_default();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("client-{n}:secret-{n}"))
    )
}

async fn exchange(
    State(server): State<Arc<CodeServer>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let body = form(&body);
    let code = body.get("code").cloned().unwrap_or_default();
    let Some((client_id, redirect_uri)) = server.issued.lock().expect("issued").remove(&code)
    else {
        server.refused.lock().expect("refused").push(code);
        return (StatusCode::BAD_REQUEST, r#"{"error":"invalid_grant"}"#).into_response();
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let valid = body.get("grant_type").map(String::as_str) == Some("authorization_code")
        && body.get("redirect_uri") == Some(&redirect_uri)
        && body.get("code_verifier").map(String::as_str) == Some(CODE_VERIFIER)
        && authorization == Some(basic(&client_id).as_str());
    if !valid {
        server.refused.lock().expect("refused").push(code);
        return (StatusCode::BAD_REQUEST, r#"{"error":"invalid_request"}"#).into_response();
    }
    server
        .exchanged
        .lock()
        .expect("exchanged")
        .push(code.clone());
    let refresh_token = format!("refresh-{code}");
    axum::Json(json!({
        "access_token": "a", "token_type": "Bearer", "refresh_token": refresh_token,
    }))
    .into_response()
}

async fn code_server(refuse: bool) -> (Target, Arc<CodeServer>) {
    let server = Arc::new(CodeServer {
        refuse,
        ..CodeServer::default()
    });
    let router = Router::new()
        .route("/connect/authorize", get(authorize))
        .route("/connect/token", post(exchange))
        .with_state(Arc::clone(&server));
    (support::serve(router).await, server)
}

fn code_scenario(clients: usize, workers: usize) -> Code {
    let pool: Vec<PooledClient> = (0..clients).map(client).collect();
    Code::new(
        "/connect/authorize",
        "/connect/token",
        &pool,
        "openid profile",
        HeaderValue::from_static(COOKIE),
        workers,
    )
}

#[tokio::test]
async fn code_exchanges_the_code_of_each_303_location_with_its_client_and_verifier() {
    let (target, server) = code_server(false).await;
    let code = Arc::new(code_scenario(5, 4).keeping_refresh_tokens());

    let outcome = generator::run(&target, code.clone(), &run_plan(4, 40)).await;

    assert_eq!(outcome.failures(), 0);
    assert!(!outcome.is_flagged());
    let authorized = outcome
        .tally
        .statuses
        .get(&303)
        .copied()
        .unwrap_or_default();
    let exchanges = outcome
        .tally
        .statuses
        .get(&200)
        .copied()
        .unwrap_or_default();
    assert_eq!(authorized + exchanges, 40);
    // Each worker alternates; the run's last request of a worker may be an authorization whose
    // code is never exchanged.
    assert!(authorized >= exchanges && authorized - exchanges <= 4);
    assert!(exchanges >= 18);
    let exchanged = server.exchanged.lock().expect("exchanged").clone();
    assert_eq!(exchanged.len() as u64, exchanges);
    assert_eq!(
        exchanged.iter().collect::<BTreeSet<_>>().len(),
        exchanged.len()
    );
    assert!(server.refused.lock().expect("refused").is_empty());
    assert_eq!(
        server.issued.lock().expect("issued").len() as u64,
        authorized - exchanges
    );
    let Ok(code) = Arc::try_unwrap(code) else {
        panic!("the workers have ended");
    };
    let tokens = code.into_refresh_tokens();
    assert_eq!(tokens.len() as u64, exchanges);
    assert!(
        tokens
            .iter()
            .all(|held| held.refresh_token.starts_with("refresh-code-")
                && held.client_authorization.starts_with("Basic "))
    );
}

#[tokio::test]
async fn an_authorization_redirect_without_a_code_is_a_failure_and_no_exchange_follows() {
    let (target, server) = code_server(true).await;

    let outcome = generator::run(&target, Arc::new(code_scenario(3, 2)), &run_plan(2, 10)).await;

    assert_eq!(outcome.statuses(), "303: 10");
    assert_eq!(outcome.failures(), 10);
    assert!(outcome.is_flagged());
    assert!(server.exchanged.lock().expect("exchanged").is_empty());
    assert!(server.refused.lock().expect("refused").is_empty());
}

/// A token endpoint that rotates refresh tokens: each is valid once, for its own client.
#[derive(Debug, Default)]
struct RefreshServer {
    rotate: bool,
    /// Current token → (client authorization, lineage: the index of the token it descends from).
    current: Mutex<HashMap<String, (String, usize)>>,
    /// Lineage → the connections that presented one of its tokens.
    presenters: Mutex<BTreeMap<usize, BTreeSet<SocketAddr>>>,
    next: Mutex<usize>,
}

async fn refresh(
    State(server): State<Arc<RefreshServer>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let body = form(&body);
    let presented = body.get("refresh_token").cloned().unwrap_or_default();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut current = server.current.lock().expect("current");
    let valid = body.get("grant_type").map(String::as_str) == Some("refresh_token")
        && current
            .get(&presented)
            .is_some_and(|(owner, _)| *owner == authorization);
    if !valid {
        return (StatusCode::BAD_REQUEST, r#"{"error":"invalid_grant"}"#).into_response();
    }
    let lineage = current.get(&presented).map(|(_, lineage)| *lineage);
    let lineage = lineage.unwrap_or_default();
    server
        .presenters
        .lock()
        .expect("presenters")
        .entry(lineage)
        .or_default()
        .insert(peer);
    if !server.rotate {
        return axum::Json(json!({ "access_token": "a", "token_type": "Bearer" })).into_response();
    }
    current.remove(&presented);
    let mut next = server.next.lock().expect("next");
    *next += 1;
    let rotated = format!("rotated-{}", *next);
    current.insert(rotated.clone(), (authorization, lineage));
    axum::Json(json!({ "access_token": "a", "token_type": "Bearer", "refresh_token": rotated }))
        .into_response()
}

async fn refresh_server(rotate: bool, tokens: &[HeldRefreshToken]) -> (Target, Arc<RefreshServer>) {
    let server = Arc::new(RefreshServer {
        rotate,
        current: Mutex::new(
            tokens
                .iter()
                .enumerate()
                .map(|(lineage, held)| {
                    (
                        held.refresh_token.clone(),
                        (held.client_authorization.clone(), lineage),
                    )
                })
                .collect(),
        ),
        ..RefreshServer::default()
    });
    let router = Router::new()
        .route("/connect/token", post(refresh))
        .with_state(Arc::clone(&server));
    (support::serve(router).await, server)
}

fn held_tokens(count: usize) -> Vec<HeldRefreshToken> {
    (0..count)
        .map(|n| HeldRefreshToken {
            client_authorization: basic(&format!("client-{n}")),
            refresh_token: format!("initial-{n}"),
        })
        .collect()
}

#[tokio::test]
async fn refresh_keeps_each_rotated_token_and_every_worker_presents_only_its_own() {
    let tokens = held_tokens(8);
    let (target, server) = refresh_server(true, &tokens).await;
    let refresh = Arc::new(Refresh::new("/connect/token", tokens, 4));

    let outcome = generator::run(&target, refresh.clone(), &run_plan(4, 80)).await;

    assert_eq!(outcome.statuses(), "200: 80");
    assert!(!outcome.is_flagged());
    // Eight lineages, each presented from one connection (one worker) only.
    let presenters = server.presenters.lock().expect("presenters");
    assert_eq!(presenters.len(), 8);
    assert!(presenters.values().all(|peers| peers.len() == 1));
    // The scenario hands back the current tokens: each is the one the server holds now.
    let Ok(refresh) = Arc::try_unwrap(refresh) else {
        panic!("the workers have ended");
    };
    let kept = refresh.into_tokens();
    let current = server.current.lock().expect("current");
    assert_eq!(kept.len(), 8);
    assert!(kept.iter().all(|held| {
        held.refresh_token.starts_with("rotated-")
            && current
                .get(&held.refresh_token)
                .is_some_and(|(owner, _)| *owner == held.client_authorization)
    }));
}

#[tokio::test]
async fn refresh_keeps_the_presented_token_when_the_answer_carries_none() {
    let tokens = held_tokens(4);
    let (target, _server) = refresh_server(false, &tokens).await;
    let refresh = Arc::new(Refresh::new("/connect/token", tokens, 2));

    let outcome = generator::run(&target, refresh.clone(), &run_plan(2, 20)).await;

    assert_eq!(outcome.statuses(), "200: 20");
    let Ok(refresh) = Arc::try_unwrap(refresh) else {
        panic!("the workers have ended");
    };
    let kept: Vec<String> = refresh
        .into_tokens()
        .into_iter()
        .map(|held| held.refresh_token)
        .collect();
    assert_eq!(kept, ["initial-0", "initial-1", "initial-2", "initial-3"]);
}

#[test]
fn hidden_values_are_found_in_their_input_and_unescaped() {
    let html = r#"<form method="post" action="/x">
    <input type="hidden" name="csrf_token" value="0a1b">
    <input type="hidden" name="authorization_request" value="response_type&#61;code&#38;client_id&amp;x&#x3D;&lt;&#34;&bogus">
    <button type="submit" name="decision" value="allow">Allow</button>"#;

    assert_eq!(hidden_value(html, "csrf_token").as_deref(), Some("0a1b"));
    assert_eq!(
        hidden_value(html, "authorization_request").as_deref(),
        Some("response_type=code&client_id&x=<\"&bogus")
    );
    assert_eq!(hidden_value(html, "decision").as_deref(), Some("allow"));
    assert_eq!(hidden_value(html, "password"), None);
}
