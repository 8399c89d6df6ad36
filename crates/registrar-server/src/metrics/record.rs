//! The series and the one-line functions that record them, through the global `metrics`
//! facade: whatever recorder the process installed (Registrar's Prometheus recorder, or a host
//! application's own) gets them. Every label value comes from a bounded set.

use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use registrar_core::StoreError;

/// Requests answered, by route template, method, status and RFC error code.
pub const HTTP_REQUESTS: &str = "registrar_http_requests_total";
/// Seconds from routing to the answer, by route template.
pub const HTTP_REQUEST_DURATION: &str = "registrar_http_request_duration_seconds";
/// Registrations that reached the pipeline, by route of registration, policy and outcome.
pub const REGISTRATIONS: &str = "registrar_registrations_total";
/// Tokens issued at the token endpoint, by grant type and client authentication method.
pub const TOKENS_ISSUED: &str = "registrar_tokens_issued_total";
/// Token requests refused, by grant type and RFC 6749 error code.
pub const TOKEN_REQUESTS_REFUSED: &str = "registrar_token_requests_refused_total";
/// Store errors answered with a 5xx, by kind.
pub const STORE_ERRORS: &str = "registrar_store_errors_total";
/// Outbound fetches of client documents, by document and outcome.
pub const OUTBOUND_FETCHES: &str = "registrar_outbound_fetches_total";
/// Registered clients, by policy.
pub const CLIENTS: &str = "registrar_clients";

/// The route label of a request that matched no route: one value for every unknown path, so a
/// scanner cannot grow the series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The buckets of [`HTTP_REQUEST_DURATION`], in seconds: from half a millisecond (a cached
/// discovery answer) to ten seconds (a slow store or outbound fetch).
pub const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Gives each series its help text and unit in the installed recorder. Registrar's own
/// recorder gets them from `install_recorder`; a host with its own recorder calls this once
/// after installing it.
pub fn describe_metrics() {
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests answered, by route template, method, status and RFC error code"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time from routing a request to its answer, by route template"
    );
    describe_counter!(
        REGISTRATIONS,
        Unit::Count,
        "Registrations that reached the pipeline, by route of registration, policy and outcome"
    );
    describe_counter!(
        TOKENS_ISSUED,
        Unit::Count,
        "Tokens issued at the token endpoint, by grant type and client authentication method"
    );
    describe_counter!(
        TOKEN_REQUESTS_REFUSED,
        Unit::Count,
        "Token requests refused, by grant type and RFC 6749 error code"
    );
    describe_counter!(
        registrar_core::audit::AUDIT_EVENTS,
        Unit::Count,
        "Audit events, by action and outcome: every registration, read, update, delete and token request"
    );
    describe_counter!(
        STORE_ERRORS,
        Unit::Count,
        "Store errors answered with a 5xx status, by kind"
    );
    describe_counter!(
        OUTBOUND_FETCHES,
        Unit::Count,
        "Fetches of documents clients registered (jwks_uri, sector_identifier_uri), by outcome"
    );
    describe_gauge!(CLIENTS, Unit::Count, "Registered clients, by policy");
}

/// One answered request. `route` is the matched route template, or [`UNMATCHED_ROUTE`].
pub(crate) fn http_request(
    route: String,
    method: &'static str,
    status: u16,
    error: &'static str,
    elapsed: Duration,
) {
    counter!(
        HTTP_REQUESTS,
        "route" => route.clone(),
        "method" => method,
        "status" => status.to_string(),
        "error" => error,
    )
    .increment(1);
    histogram!(HTTP_REQUEST_DURATION, "route" => route).record(elapsed.as_secs_f64());
}

/// One registration or dry run that reached the pipeline.
pub(crate) fn registration(route: &'static str, policy: String, outcome: &'static str) {
    counter!(
        REGISTRATIONS,
        "route_of_registration" => route,
        "policy" => policy,
        "outcome" => outcome,
    )
    .increment(1);
}

/// A token response of the token endpoint.
pub(crate) fn token_issued(grant_type: &'static str, auth_method: &'static str) {
    counter!(TOKENS_ISSUED, "grant_type" => grant_type, "auth_method" => auth_method).increment(1);
}

/// An error response of the token endpoint.
pub(crate) fn token_refused(grant_type: &'static str, error: &'static str) {
    counter!(TOKEN_REQUESTS_REFUSED, "grant_type" => grant_type, "error" => error).increment(1);
}

/// A store error that becomes a 5xx answer: `unavailable` (503, retry) or `other` (500).
pub(crate) fn store_error(error: &StoreError) {
    let kind = match error {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Duplicate(_)
        | StoreError::InitialTokenRejected
        | StoreError::PolicyFull
        | StoreError::Backend(_) => "other",
    };
    counter!(STORE_ERRORS, "kind" => kind).increment(1);
}

/// What a document fetched through the outbound fetcher is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Document {
    /// A client's or a trusted issuer's `jwks_uri`.
    Jwks,
    /// A client's `sector_identifier_uri`.
    SectorIdentifier,
    /// A Client ID Metadata Document: a URL client id.
    ClientMetadata,
}

/// One fetch: `Ok`, refused for want of a free fetch (`busy`, nothing was sent), or failed.
pub(crate) fn outbound_fetch(document: Document, outcome: Result<(), FetchOutcome>) {
    let document = match document {
        Document::Jwks => "jwks",
        Document::SectorIdentifier => "sector_identifier",
        Document::ClientMetadata => "client_metadata",
    };
    let outcome = match outcome {
        Ok(()) => "ok",
        Err(FetchOutcome::Busy) => "busy",
        Err(FetchOutcome::Failed(label)) => label,
    };
    counter!(OUTBOUND_FETCHES, "document" => document, "outcome" => outcome).increment(1);
}

/// Why a fetch did not give a document.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FetchOutcome {
    /// Every fetch permit was taken: nothing was sent.
    Busy,
    /// The fetcher's error, as its bounded label (`FetchError::metric_label`).
    Failed(&'static str),
}

/// The number of clients registered under `policy` (`""` for clients registered before
/// policies existed).
pub(crate) fn clients(policy: String, count: u64) {
    // A gauge holds an f64: exact for any count below 2^53.
    #[allow(clippy::cast_precision_loss)]
    gauge!(CLIENTS, "policy" => policy).set(count as f64);
}
