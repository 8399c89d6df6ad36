//! The closed-loop generator: every worker holds one HTTP/1.1 keep-alive connection and sends
//! its next request only once it has read the previous answer, so the offered load is what the
//! server can answer at the given concurrency.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::header::{HOST, HeaderValue};
use tokio::time::Instant;

use crate::connection::{Connection, SourceAddresses};
use crate::scenario::Scenario;
use crate::stats::{Outcome, Tally};

/// Where requests go.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server's address.
    pub address: SocketAddr,
}

/// When a run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// Answers during `warm_up` are not counted; the run then counts for `measure`.
    Timed {
        /// Time before measuring starts.
        warm_up: Duration,
        /// The measured window.
        measure: Duration,
    },
    /// Exactly this many requests in all, every one counted.
    Requests(u64),
}

/// How a run is driven.
#[derive(Debug)]
pub struct Plan {
    /// Workers, each with its own connection.
    pub concurrency: usize,
    /// When the run ends.
    pub stop: Stop,
    /// Distinct source addresses, each used for at most `requests_per_source` requests before
    /// the worker reconnects from the next; `None`: one connection per worker from the default
    /// address for the whole run.
    pub sources: Option<SourcePlan>,
}

/// Rotating source addresses (see [`Plan::sources`]).
#[derive(Debug)]
pub struct SourcePlan {
    /// Where addresses come from.
    pub addresses: Arc<SourceAddresses>,
    /// Requests per address.
    pub requests_per_source: u64,
}

/// The state every worker of one run shares.
struct Shared {
    target: Target,
    host: HeaderValue,
    scenario: Arc<dyn Scenario>,
    stop: Stop,
    start: Instant,
    issued: AtomicU64,
}

/// Runs `scenario` as `plan` says and returns what was measured.
pub async fn run(target: &Target, scenario: Arc<dyn Scenario>, plan: &Plan) -> Outcome {
    let host = HeaderValue::from_str(&target.address.to_string())
        .unwrap_or_else(|_| unreachable!("a socket address is a valid header value"));
    let shared = Arc::new(Shared {
        target: target.clone(),
        host,
        scenario,
        stop: plan.stop,
        start: Instant::now(),
        issued: AtomicU64::new(0),
    });
    let mut workers = Vec::with_capacity(plan.concurrency);
    for index in 0..plan.concurrency.max(1) {
        let shared = Arc::clone(&shared);
        let sources = plan.sources.as_ref().map(|sources| {
            (
                Arc::clone(&sources.addresses),
                sources.requests_per_source.max(1),
            )
        });
        workers.push(tokio::spawn(worker(index, shared, sources)));
    }
    let mut tally = Tally::new();
    for handle in workers {
        match handle.await {
            Ok(worker_tally) => tally.merge(&worker_tally),
            // A panicking scenario is a bug in the harness, not a server error.
            Err(error) => panic!("a load worker failed: {error}"),
        }
    }
    let measured = match plan.stop {
        Stop::Timed { measure, .. } => measure,
        Stop::Requests(_) => shared.start.elapsed(),
    };
    Outcome { tally, measured }
}

/// One worker's loop: connect, send, read, repeat until the run stops.
async fn worker(
    index: usize,
    shared: Arc<Shared>,
    sources: Option<(Arc<SourceAddresses>, u64)>,
) -> Tally {
    let mut tally = Tally::new();
    let mut connection: Option<Connection> = None;
    let mut sent_on_connection = 0u64;
    let (measure_from, measure_until) = match shared.stop {
        Stop::Timed { warm_up, measure } => {
            let from = shared.start + warm_up;
            (from, Some(from + measure))
        }
        Stop::Requests(_) => (shared.start, None),
    };
    for sequence in 0u64.. {
        match (shared.stop, measure_until) {
            (Stop::Requests(total), _) => {
                if shared.issued.fetch_add(1, Ordering::Relaxed) >= total {
                    break;
                }
            }
            (Stop::Timed { .. }, Some(until)) if Instant::now() >= until => break,
            (Stop::Timed { .. }, _) => {}
        }
        let rotate = sources
            .as_ref()
            .is_some_and(|(_, per_source)| sent_on_connection >= *per_source);
        if connection.is_none() || rotate {
            let source = sources.as_ref().map(|(addresses, _)| addresses.next());
            match Connection::open(shared.target.address, source).await {
                Ok(opened) => {
                    connection = Some(opened);
                    sent_on_connection = 0;
                }
                Err(_) => {
                    tally.transport_errors += 1;
                    // Without a pause a refused connection would spin the core the run
                    // measures on.
                    tokio::task::yield_now().await;
                    continue;
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        let mut request = shared.scenario.request(index, sequence);
        request.headers_mut().insert(HOST, shared.host.clone());
        let started = Instant::now();
        let result = open.send(request).await;
        let finished = Instant::now();
        sent_on_connection += 1;
        let counted =
            started >= measure_from && measure_until.is_none_or(|until| finished <= until);
        match result {
            Ok(answer) => {
                let success =
                    shared
                        .scenario
                        .response(index, answer.status, &answer.headers, &answer.body);
                if counted {
                    tally.record_response(answer.status.as_u16(), success, finished - started);
                }
            }
            Err(_) => {
                connection = None;
                if counted {
                    tally.transport_errors += 1;
                }
            }
        }
    }
    tally
}
