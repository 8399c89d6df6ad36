//! The limits every route group applies.

/// The largest request body accepted; client metadata is small, and a cap bounds the parser's
/// work.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
