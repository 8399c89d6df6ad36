//! Verification of JWTs from trusted issuers: software statements (RFC 7591 §2.3) and the bearer
//! access tokens of external authorization servers (RFC 9068, RFC 6750).
//!
//! Both follow the same path:
//!
//! 1. The token must be a JWS in compact serialization, within the size cap, with no `crit`
//!    header and an asymmetric `alg` (never `none`, never HMAC).
//! 2. The UNVERIFIED `iss` chooses a [`TrustedIssuer`]; an unknown issuer is refused.
//! 3. The signature must verify with that issuer's configured keys, inline or fetched through a
//!    [`KeySource`], and with one of its pinned `algs`. The `jku`, `x5u`, `jwk` and `x5c` headers
//!    are never read (RFC 8725 §3.10).
//! 4. The claims are checked against the injected `now`, then against what the caller configured
//!    ([`StatementIssuer`], [`TokenIssuer`]).
//!
//! **Invariant:** no key is ever taken from the token, and nothing here fetches a URL itself.
//!
//! **Invariant:** every error description is printable ASCII without `"` or `\`
//! (RFC 6749 §5.2); values from a token are quoted with `'`, bounded and filtered.

mod bearer;
mod claims;
mod issuer;
mod jws;
pub(crate) mod quote;
mod statement;

pub use bearer::{BearerError, TokenIssuer, VerifiedBearer, verify_bearer_token};
pub use issuer::{IssuerKeys, KeySource, NoKeySource, TrustedIssuer};
pub use statement::{
    StatementError, StatementIssuer, StatementMode, StatementSettings, VerifiedStatement,
    verify_software_statement,
};

/// Whether `token` is shaped like a compact JWS: three non-empty base64url parts separated by
/// dots. A cheap test that tells a JWT from an opaque token; it checks nothing else.
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = 0;
    for part in token.split('.') {
        parts += 1;
        let is_base64url = part
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if parts > 3 || part.is_empty() || !is_base64url {
            return false;
        }
    }
    parts == 3
}

#[cfg(test)]
mod tests;
