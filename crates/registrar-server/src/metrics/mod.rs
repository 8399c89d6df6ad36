//! Prometheus metrics: the series Registrar records (`record`), the request layer that counts
//! answers (`http`), the registration observer, the client gauge, and the recorder with its
//! `GET /metrics` route (`exporter`).
//!
//! Everything is recorded through the global `metrics` facade. The `registrar`
//! binary installs Registrar's own recorder ([`install_recorder`]) and serves [`metrics_routes`];
//! a host application does the same, or installs its own recorder and gets the same series
//! through it. Without any recorder, recording does nothing.
//!
//! ```no_run
//! # fn example(state: registrar_server::AppState) -> Result<(), registrar_server::metrics::MetricsError> {
//! use registrar_server::metrics::{install_recorder, metrics_routes, with_request_metrics};
//!
//! let handle = install_recorder()?;
//! let app = with_request_metrics(registrar_server::registration_routes(state.clone()));
//! // On a listener of its own, so that only the scraper reaches it.
//! let scrape = metrics_routes(state, handle);
//! # let _ = (app, scrape); Ok(()) }
//! ```

mod clients;
mod exporter;
pub(crate) mod http;
pub(crate) mod observer;
pub(crate) mod record;

pub use clients::ClientGauge;
pub use exporter::{
    MetricsError, UPKEEP_INTERVAL, install_recorder, metrics_routes, upkeep_periodically,
};
pub use http::with_request_metrics;
/// The handle [`install_recorder`] returns, which renders the series.
pub use metrics_exporter_prometheus::PrometheusHandle;
pub use record::{
    CLIENTS, DURATION_BUCKETS, HTTP_REQUEST_DURATION, HTTP_REQUESTS, OUTBOUND_FETCHES,
    REGISTRATIONS, STORE_ERRORS, TOKEN_REQUESTS_REFUSED, TOKENS_ISSUED, UNMATCHED_ROUTE,
    describe_metrics,
};
