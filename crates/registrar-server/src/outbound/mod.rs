//! Outbound HTTP: fetching documents from URLs that clients registered (`jwks_uri`, later
//! `sector_identifier_uri`) without opening an SSRF hole (security.md T1/T2, §4 "Outbound
//! fetches", §5 decision 3).
//!
//! Every fetch goes through one [`Fetcher`]: https only, no redirects, no proxy, a fixed user
//! agent, a connect and a total timeout, and a byte cap counted while streaming. Names are
//! resolved by a resolver that drops special-use addresses ([`is_special_use`]) from its answer,
//! and reqwest connects only to what its resolver returned, so the address checked is the
//! address connected to; IP-literal hosts, which are never resolved, are checked before
//! sending. [`JwksCache`] keeps clients' JWK Sets between token requests.

mod address;
mod fetcher;
mod jwks_cache;
mod resolver;

#[cfg(test)]
mod tests;

pub use address::is_special_use;
pub use fetcher::{FetchConfig, FetchError, Fetcher};
pub use jwks_cache::{JwksCache, JwksCacheConfig};
