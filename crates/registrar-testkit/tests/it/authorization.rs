//! The authorization code flow end to end over HTTP: discovery, registration of a public client,
//! authorization with PKCE, login, consent, tokens, userinfo, refresh, revocation, logout; and
//! the same flow run by the official MCP TypeScript SDK's OAuth client.

mod browser;
mod discovery_cors;
mod flow;
mod mcp_sdk;
mod refusals;
pub mod support;
