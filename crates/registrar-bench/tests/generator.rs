//! The generator against a tiny in-process axum server: counts, errors, connections, source
//! addresses and the histogram, for a bounded number of requests (no timing is asserted).

mod support;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::post;
use hyper::{Method, Request};
use registrar_bench::connection::SourceAddresses;
use registrar_bench::generator::{self, Plan, SourcePlan, Stop, Target};
use registrar_bench::scenario::{Body, Scenario};

/// What the server saw.
#[derive(Debug, Default)]
struct Seen {
    requests: AtomicU64,
    peers: Mutex<BTreeSet<SocketAddr>>,
}

/// Answers `201`, or `500` to every `fail_every`th request when set.
async fn spawn_server(fail_every: Option<u64>) -> (Target, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let handler = move |State(seen): State<Arc<Seen>>,
                        ConnectInfo(peer): ConnectInfo<SocketAddr>,
                        body: axum::body::Bytes| async move {
        let n = seen.requests.fetch_add(1, Ordering::Relaxed) + 1;
        seen.peers.lock().expect("peers").insert(peer);
        assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
        match fail_every {
            Some(every) if n % every == 0 => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::CREATED,
        }
    };
    let router = Router::new()
        .route("/register", post(handler))
        .with_state(Arc::clone(&seen));
    (support::serve(router).await, seen)
}

/// Posts a small JSON body; counts the answers it is told of.
#[derive(Debug, Default)]
struct Post {
    answers: AtomicU64,
}

impl Scenario for Post {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        Request::builder()
            .method(Method::POST)
            .uri("/register")
            .header("content-type", "application/json")
            .body(Body::from(format!(
                r#"{{"worker":{worker},"sequence":{sequence}}}"#
            )))
            .expect("request")
    }

    fn response(
        &self,
        _worker: usize,
        status: StatusCode,
        _headers: &hyper::HeaderMap,
        _body: &[u8],
    ) -> bool {
        self.answers.fetch_add(1, Ordering::Relaxed);
        status.is_success()
    }
}

fn plan(concurrency: usize, requests: u64, sources: Option<SourcePlan>) -> Plan {
    Plan {
        concurrency,
        stop: Stop::Requests(requests),
        sources,
    }
}

#[tokio::test]
async fn bounded_run_counts_every_answer_over_one_connection_per_worker() {
    let (target, seen) = spawn_server(None).await;
    let scenario = Arc::new(Post::default());

    let outcome = generator::run(&target, scenario.clone(), &plan(4, 40, None)).await;

    assert_eq!(outcome.tally.responses, 40);
    assert_eq!(outcome.tally.statuses.get(&201), Some(&40));
    assert_eq!(outcome.tally.transport_errors, 0);
    assert_eq!(outcome.errors(), 0);
    assert!(!outcome.is_flagged());
    assert_eq!(seen.requests.load(Ordering::Relaxed), 40);
    assert_eq!(scenario.answers.load(Ordering::Relaxed), 40);
    // Keep-alive: four workers, four connections.
    assert_eq!(seen.peers.lock().expect("peers").len(), 4);
    assert_eq!(outcome.tally.latency.len(), 40);
    assert!(outcome.latency_ms(0.5) <= outcome.latency_ms(0.99));
    assert!(outcome.latency_ms(0.99) <= outcome.max_latency_ms());
    assert!(outcome.tally.latency.min() >= 1);
    assert!(outcome.successes_per_second() > 0.0);
}

#[tokio::test]
async fn non_2xx_answers_are_counted_as_errors_and_flag_the_run() {
    let (target, _seen) = spawn_server(Some(5)).await;

    let outcome = generator::run(&target, Arc::new(Post::default()), &plan(2, 30, None)).await;

    assert_eq!(outcome.tally.responses, 30);
    assert_eq!(outcome.tally.statuses.get(&500), Some(&6));
    assert_eq!(outcome.tally.statuses.get(&201), Some(&24));
    assert_eq!(outcome.failures(), 6);
    assert!(outcome.is_flagged());
    assert_eq!(outcome.statuses(), "201: 24, 500: 6");
}

#[tokio::test]
async fn rotating_sources_reconnect_from_a_new_loopback_address() {
    let (target, seen) = spawn_server(None).await;
    let sources = SourcePlan {
        addresses: Arc::new(SourceAddresses::starting_at(3)),
        requests_per_source: 5,
    };

    let outcome = generator::run(
        &target,
        Arc::new(Post::default()),
        &plan(2, 20, Some(sources)),
    )
    .await;

    assert_eq!(outcome.tally.statuses.get(&201), Some(&20));
    let peers = seen.peers.lock().expect("peers");
    let addresses: BTreeSet<IpAddr> = peers.iter().map(SocketAddr::ip).collect();
    assert_eq!(
        addresses.len(),
        4,
        "20 requests, 5 per address: {addresses:?}"
    );
    assert!(addresses.iter().all(|address| match address {
        IpAddr::V4(v4) => v4.octets()[0] == 127 && v4.octets()[1] == 3,
        IpAddr::V6(_) => false,
    }));
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // Bound and dropped: nothing listens there any more.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");

    let outcome = generator::run(
        &Target { address },
        Arc::new(Post::default()),
        &plan(2, 6, None),
    )
    .await;

    assert_eq!(outcome.tally.responses, 0);
    assert_eq!(outcome.tally.transport_errors, 6);
    assert_eq!(outcome.errors(), 6);
    assert!(outcome.is_flagged());
}

#[test]
fn registrations_spread_over_tokens_and_use_each_as_often_as_allowed() {
    use registrar_bench::scenarios::{TOKEN_SPREAD, token_index};
    let uses = 5;
    let registrations = TOKEN_SPREAD * uses * 2;
    let mut counts = std::collections::BTreeMap::<usize, u64>::new();
    for n in 0..registrations {
        *counts.entry(token_index(n, uses)).or_default() += 1;
    }
    assert_eq!(counts.len() as u64, TOKEN_SPREAD * 2);
    assert!(counts.values().all(|count| *count == uses));
    assert_ne!(token_index(0, uses), token_index(1, uses));
}
