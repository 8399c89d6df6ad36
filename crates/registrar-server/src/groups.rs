//! The route groups a host application mounts, and the binary's whole router.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use registrar_core::Settings;
use tower_http::LatencyUnit;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::limits::MAX_BODY_BYTES;
use crate::metrics::{PrometheusHandle, metrics_routes, with_request_metrics};
use crate::request_log::{request_span, with_request_id};
use crate::routes;
use crate::state::AppState;

/// Options of the router that are not registration settings.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    /// How long a request may take before it is answered with 503.
    pub request_timeout: Duration,
    /// How long a request body may take to arrive before it is answered with 408.
    pub body_read_timeout: Duration,
    /// Which route groups to serve.
    pub groups: RouteGroups,
    /// `GET /metrics` on this router, rendered by this recorder
    /// ([`install_recorder`](crate::metrics::install_recorder)); `None` serves it nowhere, or
    /// elsewhere ([`metrics_routes`](crate::metrics::metrics_routes) on its own listener).
    /// Requests are counted either way.
    pub metrics: Option<PrometheusHandle>,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(5),
            groups: RouteGroups::ALL,
            metrics: None,
        }
    }
}

/// Which route groups a router serves (`registrar serve --routes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteGroups {
    /// `POST /connect/dcr` and `GET|PUT|DELETE /connect/dcr/{client_id}`.
    pub registration: bool,
    /// The authorization endpoint and its pages, logout, the token, introspection, revocation,
    /// userinfo and JWKS endpoints, and discovery.
    pub authorization: bool,
}

impl RouteGroups {
    /// Every group.
    pub const ALL: Self = Self {
        registration: true,
        authorization: true,
    };
}

/// The registration API (RFC 7591, RFC 7592) under the settings' base path, for a host
/// application to merge into its own router behind its own layers. To decide the caller with
/// the host's authentication instead of initial access tokens, insert a [`HostCaller`](crate::HostCaller) into the
/// request's extensions in one of those layers. The route groups carry no request ids or
/// request span: [`with_request_id`](crate::with_request_id) shows how to add the binary's.
pub fn registration_routes(state: AppState) -> Router {
    registration_endpoint_routes(state.clone()).merge(management_routes(state))
}

/// `POST {base}/connect/dcr` alone, for a host that puts its own authentication layer in front
/// of registration only: management is authorized by each client's registration access token.
pub fn registration_endpoint_routes(state: AppState) -> Router {
    let base = state.pipeline.settings().base_path().to_owned();
    let router = with_api_layers(routes::dcr::registration_routes(&base));
    with_cors(router, state.pipeline.settings()).with_state(state)
}

/// `GET|PUT|DELETE {base}/connect/dcr/{client_id}` alone (RFC 7592).
pub fn management_routes(state: AppState) -> Router {
    let base = state.pipeline.settings().base_path().to_owned();
    let router = with_api_layers(routes::dcr::management_routes(&base));
    with_cors(router, state.pipeline.settings()).with_state(state)
}

/// The token side under the settings' base path: `/connect/token`, `/connect/introspect`,
/// `/connect/revoke`, `/connect/userinfo` and `/.well-known/jwks.json`.
pub fn token_routes(state: AppState) -> Router {
    let base = state.pipeline.settings().base_path().to_owned();
    let router = with_api_layers(
        Router::new()
            .merge(routes::token::routes(&base))
            .merge(routes::introspect::routes(&base))
            .merge(routes::revoke::routes(&base))
            .merge(routes::userinfo::routes(&base))
            .merge(routes::jwks::routes(&base)),
    );
    with_cors(router, state.pipeline.settings()).with_state(state)
}

/// The pages people use, under the base path: `GET /connect/authorize` with its login and
/// consent forms, and `GET|POST /connect/logout`. No CORS: browsers navigate here, scripts
/// never call these.
pub fn authorization_routes(state: AppState) -> Router {
    let base = state.pipeline.settings().base_path().to_owned();
    Router::new()
        .merge(crate::authorize::flow::routes(&base))
        .merge(crate::authorize::logout::routes(&base))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// OpenID Connect discovery, RFC 8414 metadata and WebFinger, where those specifications put
/// them (not under the base path); the endpoint URLs in them follow the base path.
pub fn discovery_routes(state: AppState) -> Router {
    let issuer_path = state.pipeline.settings().issuer_path().to_owned();
    let router = with_api_layers(routes::discovery::routes(&issuer_path));
    with_cors(router, state.pipeline.settings()).with_state(state)
}

/// `GET {base}/openapi.json`: the OpenAPI 3.1 document of the route groups `groups` names (see
/// [`openapi_document`]), with CORS like discovery, and cacheable like it.
pub fn openapi_routes(state: AppState, groups: RouteGroups) -> Router {
    let settings = state.pipeline.settings();
    let document = openapi_document(settings, groups);
    let router = with_api_layers(crate::openapi::routes(settings.base_path(), &document));
    with_cors(router, settings).with_state(state)
}

/// The OpenAPI 3.1 document of the route groups `groups` names and of the health routes, as
/// [`router_with`] mounts them with `settings`: under its base path, the issuer as the server.
/// A host application may merge its own operations into it.
pub fn openapi_document(settings: &Settings, groups: RouteGroups) -> utoipa::openapi::OpenApi {
    crate::openapi::document(
        settings,
        crate::openapi::Served {
            registration: groups.registration,
            authorization: groups.authorization,
        },
    )
}

/// CORS for browser-hosted clients (`cors.allowed_origins`), preflight included; nothing when
/// no origin is configured. No credentials: these endpoints authenticate by header or body,
/// never by cookie.
fn with_cors(router: Router<AppState>, settings: &Settings) -> Router<AppState> {
    let origins = &settings.cors_allowed_origins;
    if origins.is_empty() {
        return router;
    }
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    router.layer(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                header::WWW_AUTHENTICATE,
                header::RETRY_AFTER,
                header::LOCATION,
                header::HeaderName::from_static("x-request-id"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// `/healthz` and `/readyz`.
pub fn health_routes(state: AppState) -> Router {
    routes::health::routes().with_state(state)
}

/// What every group needs whatever the host adds: a body limit, and `no-store` on responses
/// that may carry credentials.
fn with_api_layers(router: Router<AppState>) -> Router<AppState> {
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Every response may carry credentials or metadata that must not be cached
        // (RFC 7591 §3.2.1, RFC 6749 §5.1); individual routes may override this.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The full Registrar API, as the `registrar` binary serves it. Paths are those of
/// INTERFACE.md, relative to where it is mounted.
pub fn router(state: AppState) -> Router {
    router_with(state, RouterOptions::default())
}

/// [`router`] with options.
pub fn router_with(state: AppState, options: RouterOptions) -> Router {
    let request_timeout = options.request_timeout;
    let body_read_timeout = options.body_read_timeout;
    let mut router =
        health_routes(state.clone()).merge(openapi_routes(state.clone(), options.groups));
    if options.groups.registration {
        router = router.merge(registration_routes(state.clone()));
    }
    if options.groups.authorization {
        router = router
            .merge(token_routes(state.clone()))
            .merge(authorization_routes(state.clone()))
            .merge(discovery_routes(state.clone()));
    }
    if let Some(handle) = options.metrics {
        router = router.merge(metrics_routes(state, handle));
    }
    let router = router
        .fallback(routes::not_found)
        // The fallback, timeouts and health answers carry nothing to cache either.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        // A request that cannot finish in time (a store that hangs rather than fails) is answered
        // 503, so callers never wait forever.
        .layer(axum::middleware::from_fn(
            move |request, next: axum::middleware::Next| async move {
                match tokio::time::timeout(request_timeout, next.run(request)).await {
                    Ok(response) => response,
                    Err(_) => axum::response::IntoResponse::into_response(ApiError::Timeout),
                }
            },
        ))
        // The body is read, within its own bound, before the request timeout starts.
        .layer(axum::middleware::from_fn(
            move |request, next: axum::middleware::Next| {
                crate::limits::read_body_in_time(body_read_timeout, request, next)
            },
        ));
    // Outside both timeouts, so that the 408 and 503 they answer are counted and timed too.
    let router = with_request_metrics(router).layer(
        TraceLayer::new_for_http()
            .make_span_with(request_span)
            // One line per request at the default level: what operators search by request id.
            .on_response(
                DefaultOnResponse::new()
                    .level(Level::INFO)
                    .latency_unit(LatencyUnit::Millis),
            ),
    );
    // Outermost, so that every response carries the id, the timeouts' and the fallback's too.
    with_request_id(router)
}
