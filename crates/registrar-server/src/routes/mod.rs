//! The route groups and the shared fallback.

pub mod dcr;
pub mod discovery;
pub mod health;

use crate::error::ApiError;

/// Unknown paths answer JSON like every other error.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
