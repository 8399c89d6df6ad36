//! `registrar-bench`: a closed-loop HTTP/1.1 load generator with HDR latency histograms, the
//! scenarios it drives against Registrar, and the servers it starts beside it (a bare axum
//! baseline and node-oidc-provider) so that every report has ratios measured side by side.
//!
//! The generator ([`generator::run`]) is the library part the tests drive; everything else
//! serves the `registrar-bench` binary.

pub mod bodies;
pub mod cli;
pub mod connection;
pub mod generator;
pub mod measurement;
pub mod pool;
pub mod report;
pub mod runs;
pub mod scale;
pub mod scenario;
pub mod scenarios;
pub mod seed;
pub mod servers;
pub mod session;
pub mod sign_in;
pub mod stats;
pub mod suite;
