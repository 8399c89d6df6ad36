//! Unit tests of the outbound URL rules.

mod address;
mod allowed_host;
mod host;
