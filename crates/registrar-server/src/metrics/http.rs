//! The request layer: counts every answer by route template, method, status and RFC error code,
//! and times it.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::record;

/// The RFC error code of a JSON error answer, put in the response's extensions where
/// `ApiError` writes the body, so that the layer reads the code without parsing bodies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorCode(pub(crate) &'static str);

/// `router` with every request it answers counted in `registrar_http_requests_total` and timed
/// in `registrar_http_request_duration_seconds`. The binary's router has it; a host application
/// that mounts the route groups adds it to its own router, after the routes (it reads the
/// matched route, which exists only once routing is done), and outside any timeout layer, so
/// that a request cut off is counted too.
pub fn with_request_metrics<S>(router: Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.layer(axum::middleware::from_fn(record_request))
}

async fn record_request(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || record::UNMATCHED_ROUTE.to_owned(),
        |path| path.as_str().to_owned(),
    );
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let error = response
        .extensions()
        .get::<ErrorCode>()
        .map_or("", |ErrorCode(code)| code);
    record::http_request(
        route,
        method,
        response.status().as_u16(),
        error,
        started.elapsed(),
    );
    response
}

/// The method, one of the few HTTP defines; any extension method is `other`, so that a client
/// cannot grow the series with made-up methods.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}
