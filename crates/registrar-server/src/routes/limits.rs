//! The rate limits that wrap whole requests: the client's address as the limits see it, and
//! client authentication within the limits on its failures.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use registrar_core::token::TokenError;

use crate::error::ApiError;
use crate::rate_limit::{LimitKind, ip_key};
use crate::state::AppState;
use crate::token::{AuthenticatedClient, Form, authenticate_client, claimed_client_id};

/// The address of the client for rate limits: the connection's peer, or the address the
/// trusted proxy header names when one is configured (`rate_limits.trusted_proxy_header`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl ClientAddress {
    /// The rate limit key of the address, if the transport knew one.
    pub fn key(&self) -> Option<String> {
        self.0.map(ip_key)
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|axum::extract::ConnectInfo(address)| address.ip());
        Ok(Self(state.rate_limits.client_ip(&parts.headers, peer)))
    }
}

/// Authenticates the client of a token or introspection request, within the limits on failed
/// client authentication per client (at one source) and per source (RFC 6749 §2.3.1: brute
/// force): refused at once while either is over its limit, and a failure counted for every
/// `invalid_client`.
pub async fn authenticate_client_limited(
    state: &AppState,
    address: ClientAddress,
    headers: &HeaderMap,
    form: &Form,
) -> Result<AuthenticatedClient, ApiError> {
    let limits = &state.rate_limits;
    let source = address.key();
    // Per client and source: a client's failures from one address never lock the client out
    // from another, so knowing a client_id is not enough to deny it service. Its credentials
    // carry 256 random bits or a signature, which no distributed guess can find either.
    let claimed = claimed_client_id(headers, form).map(|client_id| match &source {
        Some(source) => format!("{client_id} {source}"),
        None => client_id,
    });
    if let Some(source) = &source {
        limits
            .failures_exceeded(LimitKind::ClientAuthFailureBySource, source)
            .await?;
    }
    if let Some(claimed) = &claimed {
        limits
            .failures_exceeded(LimitKind::ClientAuthFailureByClient, claimed)
            .await?;
    }
    let result = authenticate_client(&state.pipeline, &state.tokens, headers, form).await;
    if let Err(TokenError::InvalidClient { .. }) = &result {
        if let Some(source) = &source {
            limits
                .record_failure(LimitKind::ClientAuthFailureBySource, source)
                .await;
        }
        if let Some(claimed) = &claimed {
            limits
                .record_failure(LimitKind::ClientAuthFailureByClient, claimed)
                .await;
        }
    }
    Ok(result?)
}
