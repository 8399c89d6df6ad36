//! Protected registration over HTTP: bearer access tokens carrying the registration scope (this
//! server's own and those of trusted external issuers), and software statements.

mod bearer;
pub(crate) mod keys;
mod statements;
pub(crate) mod support;
