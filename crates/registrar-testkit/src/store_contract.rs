//! The store contract suite, which moved to `registrar_core::contract` (feature `contract`) so
//! that stores outside this workspace can run it; re-exported here for existing callers.

pub use registrar_core::contract::*;
