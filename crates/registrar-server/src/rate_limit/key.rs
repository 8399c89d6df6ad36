//! Keys from user input, bounded so that neither memory nor Redis grows with their length.

use std::borrow::Cow;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// Keys up to this many bytes are kept as they are; longer ones are hashed.
const MAX_VERBATIM_BYTES: usize = 64;

/// `key` itself when short, else `sha256:` and its hex digest.
///
/// A digest is 71 bytes, longer than any verbatim key, so the two forms never collide.
pub(crate) fn bounded_key(key: &str) -> Cow<'_, str> {
    if key.len() <= MAX_VERBATIM_BYTES {
        return Cow::Borrowed(key);
    }
    let digest = Sha256::digest(key.as_bytes());
    let mut bounded = String::with_capacity(7 + 2 * digest.len());
    bounded.push_str("sha256:");
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(bounded, "{byte:02x}");
    }
    Cow::Owned(bounded)
}
