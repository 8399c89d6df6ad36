//! The route groups and the shared fallback.

pub mod dcr;
pub mod discovery;
pub mod health;
pub mod introspect;
pub mod jwks;
pub mod limits;
mod refusal;
pub mod revoke;
pub mod token;
pub mod userinfo;

use crate::error::ApiError;

/// Unknown paths answer JSON like every other error.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
