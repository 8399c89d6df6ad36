//! Outbound HTTP: fetching documents from URLs that clients registered (`jwks_uri`,
//! `sector_identifier_uri`) without opening an SSRF hole (security.md T1/T2, §4 "Outbound
//! fetches", §5 decision 3).
//!
//! Every fetch goes through one [`Fetcher`]: https only, no redirects, no proxy, a fixed user
//! agent, a connect and a total timeout, and a byte cap counted while streaming. Names are
//! resolved by a resolver that drops special-use addresses ([`is_special_use`]) from its answer,
//! and reqwest connects only to what its resolver returned, so the address checked is the
//! address connected to; IP-literal hosts, which are never resolved, are checked before
//! sending. Only a URL whose `host:port` the operator listed in [`FetchConfig::allow_hosts`]
//! goes through a second client without the filter. [`JwksCache`] keeps clients' JWK Sets
//! between token requests; [`SectorDocuments`] fetches sector identifier documents for the
//! registration rules and Client ID Metadata Documents, capped at
//! [`MAX_METADATA_DOCUMENT_BYTES`], for the pipeline that resolves URL client ids. (Registered URLs are held to the same host rules before anything is
//! stored: `registrar_core::validate::outbound_hosts`.)

mod fetcher;
mod jwks_cache;
mod resolver;
mod sector_documents;
mod trust_roots;

#[cfg(test)]
mod tests;

pub use fetcher::{FetchConfig, FetchError, Fetched, Fetcher};
pub use jwks_cache::{JwksCache, JwksCacheConfig};
pub use registrar_core::net::{AllowedHost, is_special_use};
/// The trust root type of [`FetchConfig::extra_root_certificates`].
pub use reqwest::Certificate;
pub use sector_documents::{
    MAX_CONCURRENT_SECTOR_FETCHES, MAX_METADATA_DOCUMENT_BYTES, SECTOR_FETCH_PERMIT_WAIT,
    SectorDocuments,
};
pub use trust_roots::root_certificates_from_pem;
