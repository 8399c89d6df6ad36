//! The request a worker sends next, and what it learns from the answer.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{HeaderMap, Request, StatusCode};

/// A request body as the generator sends it.
pub type Body = Full<Bytes>;

/// One kind of request. The generator adds the `Host` header; everything else is the
/// scenario's.
pub trait Scenario: Send + Sync {
    /// The `sequence`th request of worker `worker` (both from 0).
    fn request(&self, worker: usize, sequence: u64) -> Request<Body>;

    /// Told every answer the worker read, before its next request: a scenario whose requests
    /// depend on earlier answers (a rotated registration access token, an authorization code in
    /// a `Location`) keeps them here. Returns whether the answer counts as a success: a 2xx,
    /// unless the scenario expects something else (the `303` of an authorization request).
    fn response(
        &self,
        worker: usize,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> bool {
        let _ = (worker, headers, body);
        status.is_success()
    }
}
