//! `Admission`: a last word on a registration once its policy is known and before anything is
//! stored, for limits that belong to the deployment rather than the metadata (the server's rate
//! limit per policy).

use std::fmt::Debug;

use async_trait::async_trait;

use crate::context::RegistrationContext;
use crate::error::RegistrationError;

/// Admits registrations that passed validation, or refuses them for now.
#[async_trait]
pub trait Admission: Send + Sync + Debug {
    /// `Ok` to go on; typically `RegistrationError::TooManyRequests`. Called for registrations
    /// only, never for dry runs, after the validator (so `cx.policy()` is set).
    async fn admit(&self, cx: &RegistrationContext) -> Result<(), RegistrationError>;
}
