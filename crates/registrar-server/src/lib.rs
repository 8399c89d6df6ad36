//! Registrar's HTTP layer: a mountable axum `Router` for registration (RFC 7591), management
//! (RFC 7592), discovery, the authorization endpoint with its login and consent pages, the token
//! endpoint, introspection (RFC 7662), revocation (RFC 7009), userinfo, logout, the JWKS,
//! health, and the OpenAPI 3.1 document of them all.
//!
//! This crate is an API boundary: [`router`] is what the `registrar` binary serves and what a
//! user mounts in their own axum application. Only this crate knows HTTP; the rules live in
//! `registrar-core`.

#![warn(missing_docs)]

mod authorize;
mod error;
mod extract;
/// Fuzz targets for `fuzz/` and the corpus replay test; not an API.
#[doc(hidden)]
pub mod fuzz;
mod groups;
pub mod housekeeping;
mod idempotency_key;
mod limits;
pub mod metrics;
mod openapi;
pub mod outbound;
pub mod rate_limit;
mod request_log;
mod routes;
pub mod serve;
mod state;
pub mod token;

pub use error::ApiError;
pub use groups::{
    RouteGroups, RouterOptions, authorization_routes, discovery_routes, health_routes,
    management_routes, openapi_document, openapi_routes, registration_endpoint_routes,
    registration_routes, router, router_with, token_routes,
};
pub use limits::MAX_BODY_BYTES;
pub use rate_limit::{
    LimitKind, Limited, Quota, RateLimitConfig, RateLimitConfigError, RateLimits,
};
pub use request_log::{request_span, with_request_id};
pub use routes::dcr::HostCaller;
pub use state::AppState;
pub use token::{TokenOptions, TokenService};
