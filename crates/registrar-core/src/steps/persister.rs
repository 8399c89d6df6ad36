//! `Persister`: the store step of each operation, overridable.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::context::RegistrationContext;
use crate::persist;
use crate::validate::StepResult;

/// Writes what a request changes. The atomic parts (one use of an initial access token with
/// the insert, the compare-and-set of a token rotation) are in the store methods the defaults
/// call, so an override that adds a side effect keeps them by calling the default rule.
#[async_trait]
pub trait Persister: Send + Sync + Debug {
    /// Registration; see [`persist::insert_client`].
    async fn insert(&self, cx: &mut RegistrationContext) -> StepResult {
        persist::insert_client(cx).await
    }

    /// RFC 7592 update; see [`persist::replace_client`].
    async fn replace(&self, cx: &mut RegistrationContext) -> StepResult {
        persist::replace_client(cx).await
    }

    /// RFC 7592 delete; see [`persist::delete_client`].
    async fn delete(&self, cx: &mut RegistrationContext) -> StepResult {
        persist::delete_client(cx).await
    }
}

/// The default store steps.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultPersister;

impl Persister for DefaultPersister {}
