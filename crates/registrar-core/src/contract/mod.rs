//! The store contract: what every implementation of the store traits must do, as checks a
//! store's own tests run (feature `contract`).
//!
//! The checks read the doc comments of [`crate::store`], of the token store traits
//! ([`SigningKeyStore`](crate::token::SigningKeyStore), [`ReplayCache`](crate::token::ReplayCache))
//! and of the authorization code flow's ([`UserStore`](crate::authz::UserStore),
//! [`AuthorizationStore`](crate::authz::AuthorizationStore)) as a specification.
//! They are grouped by the trait they exercise, so a store that implements one trait runs only
//! that trait's checks:
//!
//! | module | store | macro |
//! | --- | --- | --- |
//! | [`clients`](crate::contract::clients) | `Arc<dyn ClientStore>` | [`client_store_contract!`](crate::client_store_contract) |
//! | [`initial_tokens`](crate::contract::initial_tokens) | `Arc<dyn InitialAccessTokenStore>` | [`initial_token_store_contract!`](crate::initial_token_store_contract) |
//! | [`signing_keys`](crate::contract::signing_keys) | `Arc<dyn SigningKeyStore>` | [`signing_key_store_contract!`](crate::signing_key_store_contract) |
//! | [`replay`](crate::contract::replay) | `Arc<dyn ReplayCache>` | [`replay_cache_contract!`](crate::replay_cache_contract) |
//! | [`users`](crate::contract::users) | `Arc<dyn UserStore>` | [`user_store_contract!`](crate::user_store_contract) |
//! | [`authorizations`](crate::contract::authorizations) | `Arc<dyn AuthorizationStore>` | [`authorization_store_contract!`](crate::authorization_store_contract) |
//! | [`backend`](crate::contract::backend), [`idempotency`](crate::contract::idempotency), [`events`](crate::contract::events) and all of the above | `Arc<dyn Store>` | [`store_contract!`](crate::store_contract) |
//!
//! Every id and token is random per run and every check looks only at its own rows, so the checks
//! can run against a database that other tests (or earlier runs) share.
//! Time is passed in, as the traits require, so the checks need no clock.
//! A check panics with what broke, like any failed assertion.
//!
//! # Testing your own store
//!
//! Enable the feature in the dev-dependencies, beside tokio (the tests the macros write are
//! `#[tokio::test]`s on the multi-threaded runtime):
//!
//! ```toml
//! [dev-dependencies]
//! registrar-core = { version = "0.1", features = ["contract"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! Then one macro call writes one test per check, so a failing check is reported by its name and
//! the others still run.
//! The expression is evaluated and awaited afresh in every test, so each check gets a new store:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use async_trait::async_trait;
//! use registrar_core::lifecycle::{ExpiredClient, ExpiryCutoffs};
//! use registrar_core::store::{ClientStore, ClientSummary, RegisteredClient, TokenCheck};
//! use registrar_core::{ClientId, StoreError, TokenHash};
//!
//! /// Clients in memory, with the initial access tokens kept elsewhere.
//! #[derive(Debug, Default)]
//! struct MyClients {
//!     // …
//! }
//!
//! #[async_trait]
//! impl ClientStore for MyClients {
//!     // …
//! #   async fn insert_client(&self, _: &RegisteredClient, _: Option<&TokenHash>, _: i64) -> Result<(), StoreError> { unimplemented!() }
//! #   async fn count_clients_with_policy(&self, _: &str) -> Result<u64, StoreError> { unimplemented!() }
//! #   async fn replace_client_keeping_token(&self, _: &RegisteredClient) -> Result<bool, StoreError> { unimplemented!() }
//! #   async fn get_client(&self, _: &ClientId) -> Result<Option<RegisteredClient>, StoreError> { unimplemented!() }
//! #   async fn find_client_by_registration_token(&self, _: TokenCheck<'_>) -> Result<Option<RegisteredClient>, StoreError> { unimplemented!() }
//! #   async fn replace_client(&self, _: &RegisteredClient, _: TokenCheck<'_>, _: i64) -> Result<bool, StoreError> { unimplemented!() }
//! #   async fn revoke_registration_token(&self, _: &ClientId) -> Result<(), StoreError> { unimplemented!() }
//! #   async fn delete_client(&self, _: &ClientId) -> Result<bool, StoreError> { unimplemented!() }
//! #   async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError> { unimplemented!() }
//! #   async fn ping(&self) -> Result<(), StoreError> { unimplemented!() }
//! #   async fn record_client_use(&self, _: &ClientId, _: i64) -> Result<(), StoreError> { unimplemented!() }
//! #   async fn set_client_blocked(&self, _: &ClientId, _: Option<i64>) -> Result<bool, StoreError> { unimplemented!() }
//! #   async fn expired_clients(&self, _: &ExpiryCutoffs, _: u32) -> Result<Vec<ExpiredClient>, StoreError> { unimplemented!() }
//! #   async fn delete_expired_client(&self, _: &ClientId, _: &ExpiryCutoffs) -> Result<bool, StoreError> { unimplemented!() }
//! }
//!
//! // Writes `my_clients::clients_round_trip`, `my_clients::replace_client_is_a_compare_and_set`, …
//! registrar_core::client_store_contract!(my_clients, async { Arc::new(MyClients::default()) });
//! # fn main() {}
//! ```
//!
//! A backend that holds everything runs every check, those of [`backend`](crate::contract::backend) included, with
//! [`store_contract!`](crate::store_contract); the tests are then named
//! `<module>::clients::…`, `<module>::initial_tokens::…`, `<module>::backend::…` and so on.
//! A backend that needs a server can skip itself when there is none: after `optional` the
//! expression yields an `Option`, and each test returns at once on `None`:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use registrar_core::store::Store;
//! # async fn connect(url: &str) -> Arc<dyn Store> { unimplemented!() }
//! registrar_core::store_contract!(postgres, optional async {
//!     match std::env::var("MY_TEST_POSTGRES") {
//!         Ok(url) => Some(connect(&url).await),
//!         Err(_) => None,
//!     }
//! });
//! # fn main() {}
//! ```
//!
//! For one test that runs a whole list in sequence, each module has a `check_all`, and
//! [`contract::check_all`](crate::contract::check_all) runs every check against a full backend.

pub mod authorizations;
pub mod backend;
pub mod clients;
pub mod events;
pub mod idempotency;
pub mod initial_tokens;
mod lifecycle;
pub mod replay;
pub mod signing_keys;
mod support;
pub mod users;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::store::Store;

/// Runs every check of every module against a backend that holds everything, one after another
/// on the one store, panicking with what broke at the first failure.
///
/// [`store_contract!`](crate::store_contract) runs the same checks as one test each, on a fresh
/// store per test.
pub async fn check_all(store: Arc<dyn Store>) {
    clients::check_all(store.clone()).await;
    initial_tokens::check_all(store.clone()).await;
    backend::check_all(store.clone()).await;
    idempotency::check_all(store.clone()).await;
    signing_keys::check_all(store.clone()).await;
    replay::check_all(store.clone()).await;
    users::check_all(store.clone()).await;
    events::check_all(store.clone()).await;
    authorizations::check_all(store).await;
}

/// Writes one `#[tokio::test]` per check of [`contract::clients`](crate::contract::clients), in
/// a module of the given name.
///
/// The expression after the name is evaluated and awaited in every test: a future yielding an
/// `Arc` of the store, which is coerced to `Arc<dyn ClientStore>`.
/// After `optional` it yields an `Option` of that `Arc` instead, and each test returns at once,
/// passing, on `None`: for a store that needs a server the machine may not have.
/// The expression is pasted inside the generated module, which imports `super::*`: name what it
/// uses as the surrounding code does, but not through `super::` or `self::`.
///
/// The tests run on tokio's multi-threaded runtime with two workers, which the concurrency checks
/// need, so the calling crate needs tokio with the `macros` and `rt-multi-thread` features (as a
/// dev-dependency) as well as this crate's `contract` feature.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use registrar_core::store::ClientStore;
/// # async fn my_clients() -> Arc<dyn ClientStore> { unimplemented!() }
/// registrar_core::client_store_contract!(my_clients, async { my_clients().await });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! client_store_contract {
    ($module:ident, optional $factory:expr $(,)?) => {
        $crate::__client_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::store::ClientStore,
            factory: [optional $factory],
        } }
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__client_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::store::ClientStore,
            factory: [required $factory],
        } }
    };
}

/// Writes one `#[tokio::test]` per check of
/// [`contract::initial_tokens`](crate::contract::initial_tokens), in a module of the given name.
///
/// The expression yields an `Arc` of the store (coerced to `Arc<dyn InitialAccessTokenStore>`),
/// or after `optional` an `Option` of it; see
/// [`client_store_contract!`](crate::client_store_contract) for how it is evaluated.
/// The calling crate needs tokio with the `macros` and `rt-multi-thread` features (as a
/// dev-dependency).
///
/// ```no_run
/// # use std::sync::Arc;
/// # use registrar_core::store::InitialAccessTokenStore;
/// # async fn my_tokens() -> Arc<dyn InitialAccessTokenStore> { unimplemented!() }
/// registrar_core::initial_token_store_contract!(my_tokens, async { my_tokens().await });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! initial_token_store_contract {
    ($module:ident, optional $factory:expr $(,)?) => {
        $crate::__initial_token_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::store::InitialAccessTokenStore,
            factory: [optional $factory],
        } }
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__initial_token_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::store::InitialAccessTokenStore,
            factory: [required $factory],
        } }
    };
}

/// Writes one `#[tokio::test]` per check of
/// [`contract::signing_keys`](crate::contract::signing_keys), in a module of the given name.
///
/// The expression yields an `Arc` of the store (coerced to `Arc<dyn SigningKeyStore>`), or after
/// `optional` an `Option` of it; see [`client_store_contract!`](crate::client_store_contract) for
/// how it is evaluated.
/// The calling crate needs tokio with the `macros` and `rt-multi-thread` features (as a
/// dev-dependency).
///
/// ```no_run
/// # use std::sync::Arc;
/// # use registrar_core::token::SigningKeyStore;
/// # async fn my_keys() -> Arc<dyn SigningKeyStore> { unimplemented!() }
/// registrar_core::signing_key_store_contract!(my_keys, async { my_keys().await });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! signing_key_store_contract {
    ($module:ident, optional $factory:expr $(,)?) => {
        $crate::__signing_key_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::token::SigningKeyStore,
            factory: [optional $factory],
        } }
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__signing_key_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::token::SigningKeyStore,
            factory: [required $factory],
        } }
    };
}

/// Writes one `#[tokio::test]` per check of [`contract::replay`](crate::contract::replay), in a
/// module of the given name.
///
/// The expression yields an `Arc` of the cache (coerced to `Arc<dyn ReplayCache>`), or after
/// `optional` an `Option` of it; see [`client_store_contract!`](crate::client_store_contract) for
/// how it is evaluated.
/// The calling crate needs tokio with the `macros` and `rt-multi-thread` features (as a
/// dev-dependency).
///
/// ```no_run
/// # use std::sync::Arc;
/// # use registrar_core::token::ReplayCache;
/// # async fn my_cache() -> Arc<dyn ReplayCache> { unimplemented!() }
/// registrar_core::replay_cache_contract!(my_cache, async { my_cache().await });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! replay_cache_contract {
    ($module:ident, optional $factory:expr $(,)?) => {
        $crate::__replay_cache_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::token::ReplayCache,
            factory: [optional $factory],
        } }
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__replay_cache_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::token::ReplayCache,
            factory: [required $factory],
        } }
    };
}

/// Writes one `#[tokio::test]` per check of [`contract::users`](crate::contract::users), in a
/// module of the given name.
///
/// The expression yields an `Arc` of the store (coerced to `Arc<dyn UserStore>`), or after
/// `optional` an `Option` of it; see [`client_store_contract!`](crate::client_store_contract) for
/// how it is evaluated.
/// The calling crate needs tokio with the `macros` and `rt-multi-thread` features (as a
/// dev-dependency).
///
/// ```no_run
/// # use std::sync::Arc;
/// # use registrar_core::authz::UserStore;
/// # async fn my_users() -> Arc<dyn UserStore> { unimplemented!() }
/// registrar_core::user_store_contract!(my_users, async { my_users().await });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! user_store_contract {
    ($module:ident, optional $factory:expr $(,)?) => {
        $crate::__user_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::authz::UserStore,
            factory: [optional $factory],
        } }
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__user_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::authz::UserStore,
            factory: [required $factory],
        } }
    };
}

/// Writes one `#[tokio::test]` per check of
/// [`contract::authorizations`](crate::contract::authorizations), in a module of the given name.
///
/// The expression yields an `Arc` of the store (coerced to `Arc<dyn AuthorizationStore>`), or
/// after `optional` an `Option` of it; see [`client_store_contract!`](crate::client_store_contract)
/// for how it is evaluated.
/// The calling crate needs tokio with the `macros` and `rt-multi-thread` features (as a
/// dev-dependency).
///
/// ```no_run
/// # use std::sync::Arc;
/// # use registrar_core::authz::AuthorizationStore;
/// # async fn my_authorizations() -> Arc<dyn AuthorizationStore> { unimplemented!() }
/// registrar_core::authorization_store_contract!(my_authorizations, async {
///     my_authorizations().await
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! authorization_store_contract {
    ($module:ident, optional $factory:expr $(,)?) => {
        $crate::__authorization_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::authz::AuthorizationStore,
            factory: [optional $factory],
        } }
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__authorization_store_checks! { __contract_tests {
            module: $module,
            store: dyn $crate::authz::AuthorizationStore,
            factory: [required $factory],
        } }
    };
}

/// Writes one `#[tokio::test]` per check of every module, for a backend that holds everything,
/// in a module of the given name with one submodule per trait: `<name>::clients`,
/// `<name>::initial_tokens`, `<name>::backend`, `<name>::idempotency`, `<name>::signing_keys`,
/// `<name>::replay`, `<name>::users`, `<name>::authorizations` and `<name>::events`.
///
/// The expression yields an `Arc` of the backend (coerced to `Arc<dyn Store>` and each trait),
/// or after `optional` an `Option` of it, and is evaluated afresh in every test; see
/// [`client_store_contract!`](crate::client_store_contract) for the details.
/// The calling crate needs tokio with the `macros` and `rt-multi-thread` features (as a
/// dev-dependency).
///
/// ```no_run
/// # use std::sync::Arc;
/// # use registrar_core::store::Store;
/// # async fn my_backend() -> Arc<dyn Store> { unimplemented!() }
/// registrar_core::store_contract!(my_backend, async { my_backend().await });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! store_contract {
    ($module:ident, optional $factory:expr $(,)?) => {
        $crate::__store_contract! { $module, [optional $factory] }
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__store_contract! { $module, [required $factory] }
    };
}

/// The body of [`store_contract!`](crate::store_contract): every module's tests, side by side.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_contract {
    ($module:ident, $factory:tt) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            $crate::__client_store_checks! { __contract_tests {
                module: clients,
                store: dyn $crate::store::ClientStore,
                factory: $factory,
            } }
            $crate::__initial_token_store_checks! { __contract_tests {
                module: initial_tokens,
                store: dyn $crate::store::InitialAccessTokenStore,
                factory: $factory,
            } }
            $crate::__backend_checks! { __contract_tests {
                module: backend,
                store: dyn $crate::store::Store,
                factory: $factory,
            } }
            $crate::__idempotency_store_checks! { __contract_tests {
                module: idempotency,
                store: dyn $crate::store::Store,
                factory: $factory,
            } }
            $crate::__signing_key_store_checks! { __contract_tests {
                module: signing_keys,
                store: dyn $crate::token::SigningKeyStore,
                factory: $factory,
            } }
            $crate::__replay_cache_checks! { __contract_tests {
                module: replay,
                store: dyn $crate::token::ReplayCache,
                factory: $factory,
            } }
            $crate::__user_store_checks! { __contract_tests {
                module: users,
                store: dyn $crate::authz::UserStore,
                factory: $factory,
            } }
            $crate::__authorization_store_checks! { __contract_tests {
                module: authorizations,
                store: dyn $crate::authz::AuthorizationStore,
                factory: $factory,
            } }
            $crate::__event_checks! { __contract_tests {
                module: events,
                store: dyn $crate::store::Store,
                factory: $factory,
            } }
        }
    };
}

/// One test per check of a list: the checks that borrow the store get `&*store`, the concurrent
/// ones (which spawn tasks) get the `Arc`.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_tests {
    (
        module: $module:ident,
        store: $store:ty,
        factory: $factory:tt,
        checks: [$($checks:tt)*],
        by_ref: [$($by_ref:ident),* $(,)?],
        shared: [$($shared:ident),* $(,)?] $(,)?
    ) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            use $($checks)* as contract_checks;

            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $by_ref() {
                    let store = $crate::__contract_store! $factory;
                    let store: ::std::sync::Arc<$store> = store;
                    contract_checks::$by_ref(&*store).await;
                }
            )*
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $shared() {
                    let store = $crate::__contract_store! $factory;
                    let store: ::std::sync::Arc<$store> = store;
                    contract_checks::$shared(store).await;
                }
            )*
        }
    };
}

/// The store of one test: the factory's, or a return from the test when an `optional` factory
/// yields none.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_store {
    (required $factory:expr) => {
        $factory.await
    };
    (optional $factory:expr) => {
        match $factory.await {
            ::core::option::Option::Some(store) => store,
            ::core::option::Option::None => return,
        }
    };
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
