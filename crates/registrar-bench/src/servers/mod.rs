//! The servers the bench starts: Registrar, the bare baseline and node-oidc-provider.

pub mod baseline;
pub mod baseline_app;
pub mod node;
pub mod process;
pub mod registrar;
