//! Fuzz targets: each takes arbitrary bytes, runs them through what a request would meet, and
//! panics when something breaks a property every answer must have (no panic anywhere, only the
//! RFC's error codes, descriptions within RFC 6749 §5.2's characters).
//!
//! Hidden from the documentation and not an API: the `fuzz/` project at the repository root
//! (cargo-fuzz, `scripts/fuzz`) and the corpus replay test (`tests/fuzz_corpus.rs`) call the same
//! functions, so a corpus input replays exactly what the fuzzer ran. `docs/fuzzing.md` describes
//! each target's input format.

mod client_assertion;
mod headers_forms;
mod registered;
mod registration;
mod support;

pub use client_assertion::client_assertion;
pub use headers_forms::headers_forms;
pub use registration::registration;

/// A target: panics when an answer breaks a property, and tells whether the input got through
/// every check (a registration the store would be asked to keep, credentials found, an
/// assertion that verifies), so a corpus can be seen to reach that far.
pub type Target = fn(&[u8]) -> bool;

/// The targets, by the name of their corpus directory (`fuzz/corpus/<name>/`).
pub const TARGETS: [(&str, Target); 3] = [
    ("registration", registration),
    ("headers_forms", headers_forms),
    ("client_assertion", client_assertion),
];
