//! The authorization code flow end to end over HTTP: discovery, registration of a public client,
//! authorization with PKCE, login, consent, tokens, userinfo, refresh, revocation, logout.

mod browser;
mod discovery_cors;
mod flow;
mod refusals;
pub mod support;
