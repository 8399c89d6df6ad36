//! The store contract: what every implementation of the store traits must do, as checks a
//! store's own tests run (feature `contract`).
//!
//! The checks read the doc comments of [`crate::store`] and of the token store traits
//! ([`SigningKeyStore`](crate::token::SigningKeyStore), [`ReplayCache`](crate::token::ReplayCache))
//! as a specification.
//! They are grouped by the trait they exercise, so a store that implements one trait runs only
//! that trait's checks:
//!
//! | module | store |
//! | --- | --- |
//! | [`clients`](crate::contract::clients) | `Arc<dyn ClientStore>` |
//! | [`initial_tokens`](crate::contract::initial_tokens) | `Arc<dyn InitialAccessTokenStore>` |
//! | [`signing_keys`](crate::contract::signing_keys) | `Arc<dyn SigningKeyStore>` |
//! | [`replay`](crate::contract::replay) | `Arc<dyn ReplayCache>` |
//! | [`backend`](crate::contract::backend) and all of the above | `Arc<dyn Store>` |
//!
//! Every id and token is random per run and every check looks only at its own rows, so the checks
//! can run against a database that other tests (or earlier runs) share.
//! Time is passed in, as the traits require, so the checks need no clock.
//! A check panics with what broke, like any failed assertion.
//!
//! Each module's `check_all` runs its checks one after another, and
//! [`contract::check_all`](crate::contract::check_all) runs every check against a full backend.
//! The concurrency checks spawn tasks, so call them from a multi-threaded tokio runtime.

pub mod backend;
pub mod clients;
pub mod initial_tokens;
pub mod replay;
pub mod signing_keys;
mod support;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::store::Store;

/// Runs every check of every module against a backend that holds everything, one after another
/// on the one store, panicking with what broke at the first failure.
pub async fn check_all(store: Arc<dyn Store>) {
    clients::check_all(store.clone()).await;
    initial_tokens::check_all(store.clone()).await;
    backend::check_all(store.clone()).await;
    signing_keys::check_all(store.clone()).await;
    replay::check_all(store).await;
}

/// The body of each module's `check_all`: its checks in sequence on one store.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_sequence {
    (
        store: $store:ident,
        checks: [$($checks:tt)*],
        by_ref: [$($by_ref:ident),* $(,)?],
        shared: [$($shared:ident),* $(,)?] $(,)?
    ) => {{
        use $($checks)* as contract_checks;
        $(contract_checks::$by_ref(&*$store).await;)*
        $(contract_checks::$shared(::std::sync::Arc::clone(&$store)).await;)*
    }};
}
