//! Registrar's Prometheus recorder and the `GET /metrics` route that renders it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::clients::ClientGauge;
use super::record;
use crate::state::AppState;

/// Why the recorder could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the Prometheus recorder: {0}")]
pub struct MetricsError(String);

/// The handle of the recorder this process installed, once it has.
static INSTALLED: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs Registrar's Prometheus recorder as the process's global `metrics` recorder, with
/// the histogram buckets of the request durations and every series described, and returns its
/// handle for [`metrics_routes`]. The first call installs it; later calls return the same
/// handle, so several servers in one process (tests) share it.
///
/// Fails when another recorder is installed already: a host application with its own recorder
/// keeps it, and gets Registrar's series through it (see [`describe_metrics`](super::describe_metrics)).
pub fn install_recorder() -> Result<PrometheusHandle, MetricsError> {
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(record::HTTP_REQUEST_DURATION.to_owned()),
            record::DURATION_BUCKETS,
        )
        .map_err(|error| MetricsError(error.to_string()))?
        .install_recorder()
        .map_err(|error| MetricsError(error.to_string()))?;
    record::describe_metrics();
    *installed = Some(handle.clone());
    Ok(handle)
}

/// Drains the histograms' samples into their buckets every `interval`, until the task is
/// dropped. Scrapes do that too, but without scrapes the samples would pile up in memory: the
/// binary runs this beside the server.
pub async fn upkeep_periodically(handle: PrometheusHandle, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

/// How often the binary runs [`upkeep_periodically`].
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Scrape {
    state: AppState,
    handle: PrometheusHandle,
    clients: Arc<ClientGauge>,
}

/// `GET /metrics`: the recorder's series in the Prometheus text format, with the client gauge
/// counted from the store at most every [`ClientGauge::MAX_AGE`] seconds.
///
/// Anyone who reaches it reads the counts of registrations, tokens and errors: mount it where
/// only the scraper can (the binary's `metrics.listen`), or behind the host's own access
/// control.
pub fn metrics_routes(state: AppState, handle: PrometheusHandle) -> Router {
    let scrape = Scrape {
        state,
        handle,
        clients: Arc::new(ClientGauge::default()),
    };
    Router::new()
        .route("/metrics", get(render))
        .with_state(scrape)
}

async fn render(State(scrape): State<Scrape>) -> Response {
    scrape.clients.refresh(&scrape.state).await;
    let mut response = scrape.handle.render().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
