//! Unit tests of outbound fetching. The fetcher's tests run against TLS servers on 127.0.0.1
//! reached through a fake resolver; nothing leaves the machine.

mod fetcher;
mod held_server;
mod jwks_cache;
mod sector_documents;
mod support;
mod trust_roots;
